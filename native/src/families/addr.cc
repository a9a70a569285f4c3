#include "families/addr.h"

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>

namespace lvskit::addr {

namespace {
constexpr uint32_t kForever = 0xffffffffu;  // INFINITY_LIFE_TIME (include/net/addrconf.h)
}

void Encode(nl::MessageWriter& w, const AddrRequest& r) {
  uint16_t type = r.op == Op::Delete ? RTM_DELADDR : RTM_NEWADDR;
  uint16_t flags = NLM_F_REQUEST;
  if (r.op == Op::Add) flags |= NLM_F_CREATE | NLM_F_EXCL;
  if (r.op == Op::Replace) flags |= NLM_F_CREATE | NLM_F_REPLACE;
  size_t m = w.begin(type, flags);
  ifaddrmsg ifa{};
  ifa.ifa_family = r.family;
  ifa.ifa_prefixlen = r.prefixLength;
  ifa.ifa_flags = static_cast<uint8_t>(r.flags & 0xff);
  ifa.ifa_scope = r.scope;
  ifa.ifa_index = r.index;
  w.putHeader(&ifa, sizeof ifa);
  // As iproute2 does: IFA_LOCAL is the address; IFA_ADDRESS is the peer on point-to-point
  // links and the address itself otherwise (addrconf.c extract_addr treats an IFA_ADDRESS equal
  // to IFA_LOCAL as "no peer"). A delete sends IFA_LOCAL only, so devinet.c inet_rtm_deladdr
  // matches on the local address alone; addrconf.c inet6_rtm_deladdr also needs the prefix length.
  w.putRaw(IFA_LOCAL, r.local.data(), r.local.size());
  if (r.op != Op::Delete || r.peer) {
    const std::string& addr = r.peer ? *r.peer : r.local;
    w.putRaw(IFA_ADDRESS, addr.data(), addr.size());
  }
  if (r.op != Op::Delete) {
    if (r.broadcast) w.putRaw(IFA_BROADCAST, r.broadcast->data(), r.broadcast->size());
    if (r.label) w.putString(IFA_LABEL, *r.label);
    // IFA_FLAGS (u32) carries the bits ifa_flags (u8) cannot: NOPREFIXROUTE, MANAGETEMPADDR...
    if (r.flags) w.putU32(IFA_FLAGS, r.flags);
    if (r.validLifetime || r.preferredLifetime) {
      ifa_cacheinfo ci{};
      ci.ifa_valid = r.validLifetime.value_or(kForever);
      ci.ifa_prefered = r.preferredLifetime.value_or(ci.ifa_valid);
      w.putRaw(IFA_CACHEINFO, &ci, sizeof ci);
    }
    if (r.metric) w.putU32(IFA_RT_PRIORITY, *r.metric);
    if (r.proto) w.putU8(IFA_PROTO, *r.proto);
  } else if (r.label) {
    w.putString(IFA_LABEL, *r.label);
  }
  w.end(m);
}

void EncodeDump(nl::MessageWriter& w, uint8_t family, uint32_t index) {
  size_t m = w.begin(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP);
  ifaddrmsg ifa{};
  ifa.ifa_family = family;
  ifa.ifa_index = index;
  w.putHeader(&ifa, sizeof ifa);
  w.end(m);
}

bool Decode(const uint8_t* msg, size_t len, AddrInfo* out, std::string* err) {
  if (len < nl::kNlmsgHdrLen) {
    *err = "address message shorter than a netlink header";
    return false;
  }
  nlmsghdr h;
  std::memcpy(&h, msg, sizeof h);
  if (h.nlmsg_type != RTM_NEWADDR && h.nlmsg_type != RTM_DELADDR) {
    *err = "not an address message (type " + std::to_string(h.nlmsg_type) + ")";
    return false;
  }
  if (h.nlmsg_len > len || h.nlmsg_len < nl::kNlmsgHdrLen + sizeof(ifaddrmsg)) {
    *err = "address message of " + std::to_string(h.nlmsg_len) + " bytes has no room for struct ifaddrmsg";
    return false;
  }
  const uint8_t* p = msg + nl::kNlmsgHdrLen;
  ifaddrmsg ifa;
  std::memcpy(&ifa, p, sizeof ifa);
  out->msgType = h.nlmsg_type;
  out->family = ifa.ifa_family;
  out->prefixLength = ifa.ifa_prefixlen;
  out->scope = ifa.ifa_scope;
  out->index = ifa.ifa_index;
  size_t hdr = nl::Align4(sizeof ifa);
  nl::Attrs a(p + hdr, h.nlmsg_len - nl::kNlmsgHdrLen - hdr, IFA_MAX, "RTM_NEWADDR");
  size_t alen = ifa.ifa_family == AF_INET ? 4 : ifa.ifa_family == AF_INET6 ? 16 : 0;
  auto ip = [&](uint16_t t, std::optional<std::string>& dst) {
    if (!a.has(t)) return;
    std::string_view v = alen ? a.bytes(t, alen) : a.bytes(t);
    if (!v.empty()) dst = std::string(v);
  };
  ip(IFA_LOCAL, out->local);
  ip(IFA_ADDRESS, out->address);
  ip(IFA_BROADCAST, out->broadcast);
  ip(IFA_ANYCAST, out->anycast);
  if (a.has(IFA_LABEL)) out->label = a.str(IFA_LABEL);
  out->flags = a.has(IFA_FLAGS) ? a.u32(IFA_FLAGS) : ifa.ifa_flags;
  if (a.has(IFA_CACHEINFO)) {
    std::string_view c = a.bytes(IFA_CACHEINFO, sizeof(ifa_cacheinfo));
    if (c.size() == sizeof(ifa_cacheinfo)) {
      ifa_cacheinfo ci;
      std::memcpy(&ci, c.data(), sizeof ci);
      out->preferredLifetime = ci.ifa_prefered;
      out->validLifetime = ci.ifa_valid;
      out->createdCs = ci.cstamp;
      out->updatedCs = ci.tstamp;
    }
  }
  if (a.has(IFA_RT_PRIORITY)) out->metric = a.u32(IFA_RT_PRIORITY);
  if (a.has(IFA_PROTO)) out->proto = a.u8(IFA_PROTO);
  if (!a.ok()) {
    *err = a.error();
    return false;
  }
  return true;
}

}  // namespace lvskit::addr
