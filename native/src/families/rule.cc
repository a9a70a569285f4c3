#include "families/rule.h"

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>

namespace lvskit::rule {

namespace {

// FRA_* values newer than some installed headers; fixed by the kernel ABI.
constexpr uint16_t kFraL3mdev = 19;
constexpr uint16_t kFraUidRange = 20;
constexpr uint16_t kFraProtocol = 21;
constexpr uint16_t kFraIpProto = 22;
constexpr uint16_t kFraSportRange = 23;
constexpr uint16_t kFraDportRange = 24;
constexpr uint16_t kFraDscp = 25;
constexpr uint16_t kFraMaxKnown = 30;
constexpr uint8_t kRtTableCompat = 252;

struct PortRange {
  uint16_t start, end;
};
struct UidRange {
  uint32_t start, end;
};

size_t FamilySize(uint8_t family) { return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0; }

void GetAddr(const nl::Attrs& a, uint16_t type, uint8_t family, Addr* out) {
  size_t want = FamilySize(family);
  if (!a.has(type) || want == 0) return;
  std::string_view b = a.bytes(type, want);
  if (b.size() != want) return;
  out->family = family;
  std::memcpy(out->bytes, b.data(), want);
}

}  // namespace

void EncodeRule(nl::MessageWriter& w, uint16_t msgType, uint16_t nlFlags, const Rule& r) {
  size_t msg = w.begin(msgType, nlFlags);
  fib_rule_hdr h{};
  h.family = r.family;
  h.dst_len = r.dstLen;
  h.src_len = r.srcLen;
  h.tos = r.tos;
  h.table = r.table < 256 ? static_cast<uint8_t>(r.table) : kRtTableCompat;
  h.action = r.action;
  h.flags = r.flags;
  w.putHeader(&h, sizeof h);
  if (r.table) w.putU32(FRA_TABLE, r.table);
  if (r.hasPriority) w.putU32(FRA_PRIORITY, r.priority);
  if (r.dst.present()) w.putRaw(FRA_DST, r.dst.bytes, r.dst.size());
  if (r.src.present()) w.putRaw(FRA_SRC, r.src.bytes, r.src.size());
  if (!r.iifname.empty()) w.putString(FRA_IIFNAME, r.iifname);
  if (!r.oifname.empty()) w.putString(FRA_OIFNAME, r.oifname);
  if (r.hasGoto) w.putU32(FRA_GOTO, r.gotoTarget);
  if (r.hasMark) w.putU32(FRA_FWMARK, r.mark);
  if (r.hasMask) w.putU32(FRA_FWMASK, r.mask);
  if (r.hasSuppressPrefixlen) w.putU32(FRA_SUPPRESS_PREFIXLEN, static_cast<uint32_t>(r.suppressPrefixlen));
  if (r.hasSuppressIfgroup) w.putU32(FRA_SUPPRESS_IFGROUP, static_cast<uint32_t>(r.suppressIfgroup));
  if (r.l3mdev) w.putU8(kFraL3mdev, 1);
  if (r.hasUidRange) {
    UidRange u{r.uidStart, r.uidEnd};
    w.putRaw(kFraUidRange, &u, sizeof u);
  }
  if (r.hasProtocol) w.putU8(kFraProtocol, r.protocol);
  if (r.ipProto) w.putU8(kFraIpProto, r.ipProto);
  if (r.hasSport) {
    PortRange p{r.sportStart, r.sportEnd};
    w.putRaw(kFraSportRange, &p, sizeof p);
  }
  if (r.hasDport) {
    PortRange p{r.dportStart, r.dportEnd};
    w.putRaw(kFraDportRange, &p, sizeof p);
  }
  if (r.hasDscp) w.putU8(kFraDscp, r.dscp);
  w.end(msg);
}

void EncodeRuleDump(nl::MessageWriter& w, uint8_t family) {
  size_t msg = w.begin(RTM_GETRULE, NLM_F_DUMP);
  fib_rule_hdr h{};
  h.family = family;
  w.putHeader(&h, sizeof h);
  w.end(msg);
}

bool DecodeRule(const uint8_t* msg, size_t len, Rule* out, std::string* err) {
  if (len < nl::kNlmsgHdrLen + sizeof(fib_rule_hdr)) {
    *err = "rule message is " + std::to_string(len) + " bytes, shorter than nlmsghdr + fib_rule_hdr";
    return false;
  }
  nlmsghdr nh;
  std::memcpy(&nh, msg, sizeof nh);
  if (nh.nlmsg_len > len || nh.nlmsg_len < nl::kNlmsgHdrLen + sizeof(fib_rule_hdr)) {
    *err = "rule message length " + std::to_string(nh.nlmsg_len) + " does not fit " + std::to_string(len) + " bytes";
    return false;
  }
  fib_rule_hdr h;
  std::memcpy(&h, msg + nl::kNlmsgHdrLen, sizeof h);
  Rule r;
  r.family = h.family;
  r.dstLen = h.dst_len;
  r.srcLen = h.src_len;
  r.tos = h.tos;
  r.table = h.table;
  r.action = h.action;
  r.flags = h.flags;
  size_t off = nl::kNlmsgHdrLen + nl::Align4(sizeof(fib_rule_hdr));
  nl::Attrs a(msg + off, nh.nlmsg_len - off, kFraMaxKnown, "fib_rule_hdr");
  if (a.has(FRA_TABLE)) r.table = a.u32(FRA_TABLE);
  GetAddr(a, FRA_DST, r.family, &r.dst);
  GetAddr(a, FRA_SRC, r.family, &r.src);
  r.iifname = a.str(FRA_IIFNAME);
  r.oifname = a.str(FRA_OIFNAME);
  if (a.has(FRA_PRIORITY)) {
    r.hasPriority = true;
    r.priority = a.u32(FRA_PRIORITY);
  }
  if (a.has(FRA_GOTO)) {
    r.hasGoto = true;
    r.gotoTarget = a.u32(FRA_GOTO);
  }
  if (a.has(FRA_FWMARK)) {
    r.hasMark = true;
    r.mark = a.u32(FRA_FWMARK);
  }
  if (a.has(FRA_FWMASK)) {
    r.hasMask = true;
    r.mask = a.u32(FRA_FWMASK);
  }
  if (a.has(FRA_SUPPRESS_PREFIXLEN)) {
    r.suppressPrefixlen = a.s32(FRA_SUPPRESS_PREFIXLEN);
    r.hasSuppressPrefixlen = r.suppressPrefixlen != -1;
  }
  if (a.has(FRA_SUPPRESS_IFGROUP)) {
    r.suppressIfgroup = a.s32(FRA_SUPPRESS_IFGROUP);
    r.hasSuppressIfgroup = r.suppressIfgroup != -1;
  }
  r.l3mdev = a.u8(kFraL3mdev) != 0;
  if (a.has(kFraUidRange)) {
    std::string_view b = a.bytes(kFraUidRange, sizeof(UidRange));
    if (b.size() == sizeof(UidRange)) {
      UidRange u;
      std::memcpy(&u, b.data(), sizeof u);
      r.hasUidRange = true;
      r.uidStart = u.start;
      r.uidEnd = u.end;
    }
  }
  if (a.has(kFraProtocol)) {
    r.hasProtocol = true;
    r.protocol = a.u8(kFraProtocol);
  }
  r.ipProto = a.u8(kFraIpProto);
  for (uint16_t t : {kFraSportRange, kFraDportRange}) {
    if (!a.has(t)) continue;
    std::string_view b = a.bytes(t, sizeof(PortRange));
    if (b.size() != sizeof(PortRange)) continue;
    PortRange p;
    std::memcpy(&p, b.data(), sizeof p);
    if (t == kFraSportRange) {
      r.hasSport = true;
      r.sportStart = p.start;
      r.sportEnd = p.end;
    } else {
      r.hasDport = true;
      r.dportStart = p.start;
      r.dportEnd = p.end;
    }
  }
  if (a.has(kFraDscp)) {
    r.hasDscp = true;
    r.dscp = a.u8(kFraDscp);
  }
  if (a.has(FRA_FLOW)) {
    r.hasFlow = true;
    r.flow = a.u32(FRA_FLOW);
  }
  if (!a.ok()) {
    *err = a.error();
    return false;
  }
  *out = std::move(r);
  return true;
}

}  // namespace lvskit::rule
