#include "families/route.h"

#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>

namespace lvskit::route {

namespace {

// RTA_* values newer than some installed headers; fixed by the kernel ABI.
constexpr uint16_t kRtaNhId = 30;
constexpr uint16_t kRtaMaxKnown = 30;
constexpr uint8_t kRtTableCompat = 252;  // RT_TABLE_COMPAT: "see RTA_TABLE"

size_t FamilySize(uint8_t family) { return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0; }

// A gateway of the route's own family is RTA_GATEWAY; of the other family, RTA_VIA (rtvia).
void PutGateway(nl::MessageWriter& w, uint8_t routeFamily, const Addr& gw) {
  if (!gw.present()) return;
  if (gw.family == routeFamily) {
    w.putRaw(RTA_GATEWAY, gw.bytes, gw.size());
    return;
  }
  uint8_t via[2 + 16] = {};
  uint16_t fam = gw.family;
  std::memcpy(via, &fam, 2);
  std::memcpy(via + 2, gw.bytes, gw.size());
  w.putRaw(RTA_VIA, via, 2 + gw.size());
}

bool GetAddr(const nl::Attrs& a, uint16_t type, uint8_t family, Addr* out) {
  if (!a.has(type)) return true;
  size_t want = FamilySize(family);
  if (want == 0) return true;  // a family this decoder does not know: leave the address out
  std::string_view b = a.bytes(type, want);
  if (b.size() != want) return false;
  out->family = family;
  std::memcpy(out->bytes, b.data(), want);
  return true;
}

bool GetVia(const nl::Attrs& a, Addr* out) {
  if (!a.has(RTA_VIA)) return true;
  std::string_view b = a.bytes(RTA_VIA);
  if (b.size() < 2) {
    a.fail("RTA_VIA is " + std::to_string(b.size()) + " bytes, expected at least 2");
    return false;
  }
  uint16_t fam;
  std::memcpy(&fam, b.data(), 2);
  size_t want = FamilySize(static_cast<uint8_t>(fam));
  if (want == 0 || b.size() != 2 + want) {
    a.fail("RTA_VIA of family " + std::to_string(fam) + " is " + std::to_string(b.size()) + " bytes");
    return false;
  }
  out->family = static_cast<uint8_t>(fam);
  std::memcpy(out->bytes, b.data() + 2, want);
  return true;
}

}  // namespace

size_t Addr::size() const { return FamilySize(family); }

bool Addr::assign(const void* data, size_t len) {
  if (len == 0) {
    family = 0;
    return true;
  }
  if (len != 4 && len != 16) return false;
  family = len == 4 ? AF_INET : AF_INET6;
  std::memcpy(bytes, data, len);
  return true;
}

void EncodeRoute(nl::MessageWriter& w, uint16_t msgType, uint16_t nlFlags, const Route& r) {
  size_t msg = w.begin(msgType, nlFlags);
  rtmsg h{};
  h.rtm_family = r.family;
  h.rtm_dst_len = r.dstLen;
  h.rtm_src_len = r.srcLen;
  h.rtm_tos = r.tos;
  h.rtm_table = r.table < 256 ? static_cast<uint8_t>(r.table) : kRtTableCompat;
  h.rtm_protocol = r.protocol;
  h.rtm_scope = r.scope;
  h.rtm_type = r.type;
  h.rtm_flags = r.flags;
  w.putHeader(&h, sizeof h);
  if (r.table) w.putU32(RTA_TABLE, r.table);
  if (r.dst.present()) w.putRaw(RTA_DST, r.dst.bytes, r.dst.size());
  if (r.src.present()) w.putRaw(RTA_SRC, r.src.bytes, r.src.size());
  if (r.prefsrc.present()) w.putRaw(RTA_PREFSRC, r.prefsrc.bytes, r.prefsrc.size());
  if (r.hasPriority) w.putU32(RTA_PRIORITY, r.priority);
  if (r.nhId) w.putU32(kRtaNhId, r.nhId);
  PutGateway(w, r.family, r.gateway);
  if (r.oif) w.putU32(RTA_OIF, r.oif);
  if (!r.multipath.empty()) {
    size_t mp = w.nestBegin(RTA_MULTIPATH);
    for (const Hop& hop : r.multipath) {
      size_t at = w.reserve(sizeof(rtnexthop));
      PutGateway(w, r.family, hop.gateway);
      rtnexthop nh{};
      nh.rtnh_len = static_cast<unsigned short>(w.size() - at);
      nh.rtnh_flags = hop.flags;
      nh.rtnh_hops = static_cast<unsigned char>(hop.weight - 1);  // the kernel adds 1 back
      nh.rtnh_ifindex = static_cast<int>(hop.oif);
      std::memcpy(w.data() + at, &nh, sizeof nh);
    }
    w.nestEnd(mp);
  }
  w.end(msg);
}

void EncodeRouteDump(nl::MessageWriter& w, uint8_t family) {
  size_t msg = w.begin(RTM_GETROUTE, NLM_F_DUMP);
  rtmsg h{};
  h.rtm_family = family;
  w.putHeader(&h, sizeof h);
  w.end(msg);
}

void EncodeQuery(nl::MessageWriter& w, const Query& q) {
  size_t msg = w.begin(RTM_GETROUTE, 0);
  rtmsg h{};
  h.rtm_family = q.family;
  h.rtm_dst_len = q.dst.present() ? static_cast<uint8_t>(q.dst.size() * 8) : 0;
  h.rtm_src_len = q.src.present() ? static_cast<uint8_t>(q.src.size() * 8) : 0;
  h.rtm_tos = q.tos;
  // RTM_F_LOOKUP_TABLE: report the table the lookup actually used (after policy rules), not main.
  h.rtm_flags = RTM_F_LOOKUP_TABLE;
  if (q.fibMatch) h.rtm_flags |= RTM_F_FIB_MATCH;
  w.putHeader(&h, sizeof h);
  if (q.dst.present()) w.putRaw(RTA_DST, q.dst.bytes, q.dst.size());
  if (q.src.present()) w.putRaw(RTA_SRC, q.src.bytes, q.src.size());
  if (q.iif) w.putU32(RTA_IIF, q.iif);
  if (q.oif) w.putU32(RTA_OIF, q.oif);
  if (q.hasMark) w.putU32(RTA_MARK, q.mark);
  if (q.hasUid) w.putU32(RTA_UID, q.uid);
  if (q.ipProto) w.putU8(RTA_IP_PROTO, q.ipProto);
  if (q.hasSport) w.putBe16(RTA_SPORT, q.sport);
  if (q.hasDport) w.putBe16(RTA_DPORT, q.dport);
  if (q.table) w.putU32(RTA_TABLE, q.table);
  w.end(msg);
}

bool DecodeRoute(const uint8_t* msg, size_t len, Route* out, std::string* err) {
  if (len < nl::kNlmsgHdrLen + sizeof(rtmsg)) {
    *err = "route message is " + std::to_string(len) + " bytes, shorter than nlmsghdr + rtmsg";
    return false;
  }
  nlmsghdr nh;
  std::memcpy(&nh, msg, sizeof nh);
  if (nh.nlmsg_len > len || nh.nlmsg_len < nl::kNlmsgHdrLen + sizeof(rtmsg)) {
    *err = "route message length " + std::to_string(nh.nlmsg_len) + " does not fit " + std::to_string(len) + " bytes";
    return false;
  }
  rtmsg h;
  std::memcpy(&h, msg + nl::kNlmsgHdrLen, sizeof h);
  Route r;
  r.family = h.rtm_family;
  r.dstLen = h.rtm_dst_len;
  r.srcLen = h.rtm_src_len;
  r.tos = h.rtm_tos;
  r.table = h.rtm_table;
  r.protocol = h.rtm_protocol;
  r.scope = h.rtm_scope;
  r.type = h.rtm_type;
  r.flags = h.rtm_flags;
  size_t off = nl::kNlmsgHdrLen + nl::Align4(sizeof(rtmsg));
  size_t attrLen = nh.nlmsg_len > off ? nh.nlmsg_len - off : 0;
  nl::Attrs a(msg + off, attrLen, kRtaMaxKnown, "rtmsg");
  if (a.has(RTA_TABLE)) r.table = a.u32(RTA_TABLE);
  bool addrsOk = GetAddr(a, RTA_DST, r.family, &r.dst) && GetAddr(a, RTA_SRC, r.family, &r.src) &&
                 GetAddr(a, RTA_PREFSRC, r.family, &r.prefsrc) && GetAddr(a, RTA_GATEWAY, r.family, &r.gateway) &&
                 GetVia(a, &r.gateway);
  (void)addrsOk;  // the sticky error below reports what went wrong
  r.oif = a.u32(RTA_OIF);
  r.iif = a.u32(RTA_IIF);
  if (a.has(RTA_PRIORITY)) {
    r.hasPriority = true;
    r.priority = a.u32(RTA_PRIORITY);
  }
  r.nhId = a.u32(kRtaNhId);
  if (a.has(RTA_MARK)) {
    r.hasMark = true;
    r.mark = a.u32(RTA_MARK);
  }
  if (a.has(RTA_UID)) {
    r.hasUid = true;
    r.uid = a.u32(RTA_UID);
  }
  if (a.has(RTA_PREF)) {
    r.hasPref = true;
    r.pref = a.u8(RTA_PREF);
  }
  if (a.has(RTA_EXPIRES)) r.expires = static_cast<uint32_t>(a.uint(RTA_EXPIRES));
  if (a.has(RTA_METRICS)) {
    nl::Attrs m = a.nested(RTA_METRICS, RTAX_MAX, "RTA_METRICS");
    r.mtu = m.u32(RTAX_MTU);
  }
  if (a.has(RTA_MULTIPATH)) {
    std::string_view mp = a.bytes(RTA_MULTIPATH);
    const uint8_t* p = reinterpret_cast<const uint8_t*>(mp.data());
    size_t left = mp.size();
    while (left >= sizeof(rtnexthop)) {
      rtnexthop rh;
      std::memcpy(&rh, p, sizeof rh);
      if (rh.rtnh_len < sizeof(rtnexthop) || rh.rtnh_len > left) {
        a.fail("RTA_MULTIPATH: rtnexthop claims " + std::to_string(rh.rtnh_len) + " bytes with " +
               std::to_string(left) + " left");
        break;
      }
      Hop hop;
      hop.oif = static_cast<uint32_t>(rh.rtnh_ifindex);
      hop.weight = static_cast<uint32_t>(rh.rtnh_hops) + 1;
      hop.flags = rh.rtnh_flags;
      size_t inner = nl::Align4(sizeof(rtnexthop));
      nl::Attrs ha(p + inner, rh.rtnh_len > inner ? rh.rtnh_len - inner : 0, kRtaMaxKnown, "rtnexthop",
                   a.errorSink());
      GetAddr(ha, RTA_GATEWAY, r.family, &hop.gateway);
      GetVia(ha, &hop.gateway);
      r.multipath.push_back(hop);
      size_t step = nl::Align4(rh.rtnh_len);
      if (step >= left) break;
      p += step;
      left -= step;
    }
  }
  if (!a.ok()) {
    *err = a.error();
    return false;
  }
  *out = std::move(r);
  return true;
}

}  // namespace lvskit::route
