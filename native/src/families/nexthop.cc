#include "families/nexthop.h"

#include <linux/nexthop.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>

namespace lvskit::nexthop {

namespace {

// Values newer than some installed headers; fixed by the kernel ABI (include/uapi/linux/nexthop.h).
constexpr uint16_t kNhaOpFlags = 14;
constexpr uint16_t kNhaMaxKnown = 14;
constexpr uint32_t kRespGrpResvd0 = 1u << 31;  // NHA_OP_FLAG_RESP_GRP_RESVD_0

// struct nexthop_grp as of Linux 6.12: { u32 id; u8 weight; u8 weight_high; u16 resvd2; }.
struct WireGroupEntry {
  uint32_t id;
  uint8_t weight;
  uint8_t weightHigh;
  uint16_t resvd2;
};
static_assert(sizeof(WireGroupEntry) == sizeof(nexthop_grp), "nexthop_grp layout");

bool CheckHeader(const uint8_t* msg, size_t len, size_t hdr, const char* what, nlmsghdr* nh, std::string* err) {
  if (len < nl::kNlmsgHdrLen + hdr) {
    *err = std::string(what) + " message is " + std::to_string(len) + " bytes, too short for its header";
    return false;
  }
  std::memcpy(nh, msg, sizeof *nh);
  if (nh->nlmsg_len > len || nh->nlmsg_len < nl::kNlmsgHdrLen + hdr) {
    *err = std::string(what) + " message length " + std::to_string(nh->nlmsg_len) + " does not fit " +
           std::to_string(len) + " bytes";
    return false;
  }
  return true;
}

}  // namespace

void EncodeNextHop(nl::MessageWriter& w, uint16_t nlFlags, const NextHop& nh) {
  size_t msg = w.begin(RTM_NEWNEXTHOP, nlFlags);
  nhmsg h{};
  h.nh_family = nh.family;
  h.nh_protocol = nh.protocol;
  h.nh_flags = nh.flags;
  w.putHeader(&h, sizeof h);
  if (nh.id) w.putU32(NHA_ID, nh.id);
  if (!nh.group.empty()) {
    std::vector<WireGroupEntry> g(nh.group.size());
    for (size_t i = 0; i < g.size(); ++i) {
      uint32_t wire = nh.group[i].weight - 1;
      g[i] = WireGroupEntry{nh.group[i].id, static_cast<uint8_t>(wire & 0xff), static_cast<uint8_t>(wire >> 8), 0};
    }
    w.putRaw(NHA_GROUP, g.data(), g.size() * sizeof(WireGroupEntry));
    w.putU16(NHA_GROUP_TYPE, nh.groupType);
    if (nh.hasRes) {
      size_t res = w.nestBegin(NHA_RES_GROUP, true);
      if (nh.buckets) w.putU16(NHA_RES_GROUP_BUCKETS, nh.buckets);
      if (nh.hasIdleTimer) w.putU32(NHA_RES_GROUP_IDLE_TIMER, nh.idleTimer);
      if (nh.hasUnbalancedTimer) w.putU32(NHA_RES_GROUP_UNBALANCED_TIMER, nh.unbalancedTimer);
      w.nestEnd(res);
    }
  } else if (nh.blackhole) {
    w.putFlag(NHA_BLACKHOLE);
  } else {
    if (nh.oif) w.putU32(NHA_OIF, nh.oif);
    if (nh.gateway.present()) w.putRaw(NHA_GATEWAY, nh.gateway.bytes, nh.gateway.size());
  }
  if (nh.fdb) w.putFlag(NHA_FDB);
  w.end(msg);
}

void EncodeById(nl::MessageWriter& w, uint16_t msgType, uint32_t id) {
  size_t msg = w.begin(msgType, 0);
  nhmsg h{};
  w.putHeader(&h, sizeof h);
  w.putU32(NHA_ID, id);
  w.end(msg);
}

void EncodeDump(nl::MessageWriter& w, uint8_t family, bool groupsOnly, uint32_t oif) {
  size_t msg = w.begin(RTM_GETNEXTHOP, NLM_F_DUMP);
  nhmsg h{};
  h.nh_family = family;
  w.putHeader(&h, sizeof h);
  if (groupsOnly) w.putFlag(NHA_GROUPS);
  if (oif) w.putU32(NHA_OIF, oif);
  w.end(msg);
}

void EncodeBucketDump(nl::MessageWriter& w, uint32_t groupId) {
  size_t msg = w.begin(RTM_GETNEXTHOPBUCKET, NLM_F_DUMP);
  nhmsg h{};
  w.putHeader(&h, sizeof h);
  w.putU32(NHA_ID, groupId);
  w.end(msg);
}

bool DecodeNextHop(const uint8_t* msg, size_t len, NextHop* out, std::string* err) {
  nlmsghdr nh;
  if (!CheckHeader(msg, len, sizeof(nhmsg), "nexthop", &nh, err)) return false;
  nhmsg h;
  std::memcpy(&h, msg + nl::kNlmsgHdrLen, sizeof h);
  NextHop r;
  r.family = h.nh_family;
  r.scope = h.nh_scope;
  r.protocol = h.nh_protocol;
  r.flags = h.nh_flags;
  size_t off = nl::kNlmsgHdrLen + nl::Align4(sizeof(nhmsg));
  nl::Attrs a(msg + off, nh.nlmsg_len - off, kNhaMaxKnown, "nhmsg");
  r.id = a.u32(NHA_ID);
  r.oif = a.u32(NHA_OIF);
  r.blackhole = a.has(NHA_BLACKHOLE);
  r.fdb = a.has(NHA_FDB);
  if (a.has(NHA_GATEWAY)) {
    std::string_view g = a.bytes(NHA_GATEWAY);
    if (!r.gateway.assign(g.data(), g.size()))
      a.fail("NHA_GATEWAY is " + std::to_string(g.size()) + " bytes, expected 4 or 16");
  }
  bool highTrusted = (a.u32(kNhaOpFlags) & kRespGrpResvd0) != 0;
  if (a.has(NHA_GROUP)) {
    std::string_view g = a.bytes(NHA_GROUP);
    if (g.size() % sizeof(WireGroupEntry) != 0) {
      a.fail("NHA_GROUP is " + std::to_string(g.size()) + " bytes, not a whole number of nexthop_grp");
    } else {
      size_t n = g.size() / sizeof(WireGroupEntry);
      r.group.resize(n);
      for (size_t i = 0; i < n; ++i) {
        WireGroupEntry e;
        std::memcpy(&e, g.data() + i * sizeof e, sizeof e);
        uint32_t wire = e.weight | (highTrusted ? static_cast<uint32_t>(e.weightHigh) << 8 : 0);
        r.group[i] = GroupEntry{e.id, wire + 1};
      }
    }
    r.groupType = a.u16(NHA_GROUP_TYPE);
  }
  if (a.has(NHA_RES_GROUP)) {
    nl::Attrs res = a.nested(NHA_RES_GROUP, NHA_RES_GROUP_MAX, "NHA_RES_GROUP");
    r.hasRes = true;
    r.buckets = res.u16(NHA_RES_GROUP_BUCKETS);
    r.hasIdleTimer = res.has(NHA_RES_GROUP_IDLE_TIMER);
    r.idleTimer = res.u32(NHA_RES_GROUP_IDLE_TIMER);
    r.hasUnbalancedTimer = res.has(NHA_RES_GROUP_UNBALANCED_TIMER);
    r.unbalancedTimer = res.u32(NHA_RES_GROUP_UNBALANCED_TIMER);
    r.unbalancedTime = res.uint(NHA_RES_GROUP_UNBALANCED_TIME);
  }
  if (!a.ok()) {
    *err = a.error();
    return false;
  }
  *out = std::move(r);
  return true;
}

bool DecodeBucket(const uint8_t* msg, size_t len, Bucket* out, std::string* err) {
  nlmsghdr nh;
  if (!CheckHeader(msg, len, sizeof(nhmsg), "nexthop bucket", &nh, err)) return false;
  size_t off = nl::kNlmsgHdrLen + nl::Align4(sizeof(nhmsg));
  nl::Attrs a(msg + off, nh.nlmsg_len - off, kNhaMaxKnown, "nhmsg bucket");
  Bucket b;
  b.groupId = a.u32(NHA_ID);
  nl::Attrs r = a.nested(NHA_RES_BUCKET, NHA_RES_BUCKET_MAX, "NHA_RES_BUCKET");
  b.index = r.u16(NHA_RES_BUCKET_INDEX);
  b.idleTime = r.uint(NHA_RES_BUCKET_IDLE_TIME);
  b.nhId = r.u32(NHA_RES_BUCKET_NH_ID);
  if (!a.ok()) {
    *err = a.error();
    return false;
  }
  *out = b;
  return true;
}

}  // namespace lvskit::nexthop
