#include "families/conntrack.h"

#include <arpa/inet.h>
#include <endian.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <sys/socket.h>

#include <cstring>

namespace lvskit::conntrack {

namespace {

constexpr size_t kHdr = nl::kNlmsgHdrLen + sizeof(nfgenmsg);

size_t Begin(nl::MessageWriter& w, uint8_t msg, uint16_t flags, uint8_t family) {
  size_t m = w.begin(MsgType(msg), flags);
  nfgenmsg g{};
  g.nfgen_family = family;
  g.version = NFNETLINK_V0;
  w.putHeader(&g, sizeof g);
  return m;
}

size_t AddrLen(uint8_t family) { return family == AF_INET6 ? 16 : 4; }

void PutTuple(nl::MessageWriter& w, uint16_t type, const Tuple& t) {
  size_t n = w.nestBegin(type, true);
  size_t ip = w.nestBegin(CTA_TUPLE_IP, true);
  bool v6 = t.family == AF_INET6;
  w.putRaw(v6 ? CTA_IP_V6_SRC : CTA_IP_V4_SRC, t.src, AddrLen(t.family));
  w.putRaw(v6 ? CTA_IP_V6_DST : CTA_IP_V4_DST, t.dst, AddrLen(t.family));
  w.nestEnd(ip);
  size_t p = w.nestBegin(CTA_TUPLE_PROTO, true);
  w.putU8(CTA_PROTO_NUM, t.proto);
  if (t.hasIcmp) {
    w.putBe16(v6 ? CTA_PROTO_ICMPV6_ID : CTA_PROTO_ICMP_ID, t.icmpId);
    w.putU8(v6 ? CTA_PROTO_ICMPV6_TYPE : CTA_PROTO_ICMP_TYPE, t.icmpType);
    w.putU8(v6 ? CTA_PROTO_ICMPV6_CODE : CTA_PROTO_ICMP_CODE, t.icmpCode);
  } else {
    w.putBe16(CTA_PROTO_SRC_PORT, t.sport);
    w.putBe16(CTA_PROTO_DST_PORT, t.dport);
  }
  w.nestEnd(p);
  w.nestEnd(n);
}

void GetTuple(const nl::Attrs& a, uint16_t type, const char* where, Tuple* t) {
  if (!a.has(type)) return;
  nl::Attrs tu = a.nested(type, CTA_TUPLE_MAX, where);
  nl::Attrs ip = tu.nested(CTA_TUPLE_IP, CTA_IP_MAX, "CTA_TUPLE_IP");
  if (ip.has(CTA_IP_V4_SRC) || ip.has(CTA_IP_V4_DST)) {
    t->family = AF_INET;
    std::string_view s = ip.bytes(CTA_IP_V4_SRC, 4), d = ip.bytes(CTA_IP_V4_DST, 4);
    if (s.size() == 4) std::memcpy(t->src, s.data(), 4);
    if (d.size() == 4) std::memcpy(t->dst, d.data(), 4);
  } else if (ip.has(CTA_IP_V6_SRC) || ip.has(CTA_IP_V6_DST)) {
    t->family = AF_INET6;
    std::string_view s = ip.bytes(CTA_IP_V6_SRC, 16), d = ip.bytes(CTA_IP_V6_DST, 16);
    if (s.size() == 16) std::memcpy(t->src, s.data(), 16);
    if (d.size() == 16) std::memcpy(t->dst, d.data(), 16);
  }
  nl::Attrs p = tu.nested(CTA_TUPLE_PROTO, CTA_PROTO_MAX, "CTA_TUPLE_PROTO");
  t->proto = p.u8(CTA_PROTO_NUM);
  t->sport = p.be16(CTA_PROTO_SRC_PORT);
  t->dport = p.be16(CTA_PROTO_DST_PORT);
  uint16_t id = t->family == AF_INET6 ? CTA_PROTO_ICMPV6_ID : CTA_PROTO_ICMP_ID;
  uint16_t ty = t->family == AF_INET6 ? CTA_PROTO_ICMPV6_TYPE : CTA_PROTO_ICMP_TYPE;
  uint16_t co = t->family == AF_INET6 ? CTA_PROTO_ICMPV6_CODE : CTA_PROTO_ICMP_CODE;
  if (p.has(id) || p.has(ty)) {
    t->hasIcmp = true;
    t->icmpId = p.be16(id);
    t->icmpType = p.u8(ty);
    t->icmpCode = p.u8(co);
  }
}

uint64_t Be64(const nl::Attrs& a, uint16_t type) {
  std::string_view b = a.bytes(type, 8);
  if (b.size() != 8) return 0;
  uint64_t v;
  std::memcpy(&v, b.data(), 8);
  return be64toh(v);
}

}  // namespace

void EncodeDump(nl::MessageWriter& w, uint8_t family) {
  size_t m = Begin(w, IPCTNL_MSG_CT_GET, NLM_F_DUMP, family);
  w.end(m);
}

void EncodeDelete(nl::MessageWriter& w, const Tuple& orig, uint16_t zone, bool hasId, uint32_t id) {
  size_t m = Begin(w, IPCTNL_MSG_CT_DELETE, 0, orig.family);
  PutTuple(w, CTA_TUPLE_ORIG, orig);
  if (zone) w.putBe16(CTA_ZONE, zone);
  if (hasId) w.putBe32(CTA_ID, id);
  w.end(m);
}

bool DecodeEntry(const uint8_t* msg, size_t len, Entry* out, std::string* err) {
  if (len < kHdr) {
    *err = "conntrack message of " + std::to_string(len) + " bytes is shorter than nlmsghdr + nfgenmsg";
    return false;
  }
  nlmsghdr h;
  std::memcpy(&h, msg, sizeof h);
  if (h.nlmsg_len < kHdr || h.nlmsg_len > len) {
    *err = "conntrack message length " + std::to_string(h.nlmsg_len) + " does not fit " + std::to_string(len) + " bytes";
    return false;
  }
  nfgenmsg g;
  std::memcpy(&g, msg + nl::kNlmsgHdrLen, sizeof g);
  out->family = g.nfgen_family;
  nl::Attrs a(msg + kHdr, h.nlmsg_len - kHdr, CTA_MAX, "IPCTNL_MSG_CT_NEW");
  GetTuple(a, CTA_TUPLE_ORIG, "CTA_TUPLE_ORIG", &out->orig);
  GetTuple(a, CTA_TUPLE_REPLY, "CTA_TUPLE_REPLY", &out->reply);
  out->status = a.be32(CTA_STATUS);
  out->timeout = a.be32(CTA_TIMEOUT);
  out->mark = a.be32(CTA_MARK);
  out->hasId = a.has(CTA_ID);
  out->id = a.be32(CTA_ID);
  out->use = a.be32(CTA_USE);
  out->zone = a.be16(CTA_ZONE);
  if (a.has(CTA_PROTOINFO)) {
    nl::Attrs pi = a.nested(CTA_PROTOINFO, CTA_PROTOINFO_MAX, "CTA_PROTOINFO");
    if (pi.has(CTA_PROTOINFO_TCP)) {
      nl::Attrs tcp = pi.nested(CTA_PROTOINFO_TCP, CTA_PROTOINFO_TCP_MAX, "CTA_PROTOINFO_TCP");
      out->hasTcpState = tcp.has(CTA_PROTOINFO_TCP_STATE);
      out->tcpState = tcp.u8(CTA_PROTOINFO_TCP_STATE);
    }
  }
  if (a.has(CTA_COUNTERS_ORIG) || a.has(CTA_COUNTERS_REPLY)) {
    out->hasCounters = true;
    nl::Attrs o = a.nested(CTA_COUNTERS_ORIG, CTA_COUNTERS_MAX, "CTA_COUNTERS_ORIG");
    nl::Attrs r = a.nested(CTA_COUNTERS_REPLY, CTA_COUNTERS_MAX, "CTA_COUNTERS_REPLY");
    out->origPackets = Be64(o, CTA_COUNTERS_PACKETS);
    out->origBytes = Be64(o, CTA_COUNTERS_BYTES);
    out->replyPackets = Be64(r, CTA_COUNTERS_PACKETS);
    out->replyBytes = Be64(r, CTA_COUNTERS_BYTES);
  }
  if (!a.ok()) {
    *err = a.error();
    return false;
  }
  return true;
}

}  // namespace lvskit::conntrack
