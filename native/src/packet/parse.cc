// See parse.h for the kernel functions mirrored here. Every read goes through Span::Has();
// nothing reads past the captured bytes.
#include "packet/parse.h"

namespace lvskit::packet {
namespace {

inline uint16_t Be16(const uint8_t* p) { return uint16_t((uint32_t(p[0]) << 8) | p[1]); }
inline uint32_t Be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

// A bounded view: `len` bytes at `p`.
struct Span {
  const uint8_t* p;
  size_t len;
  bool Has(size_t off, size_t n) const { return off <= len && n <= len - off; }
};

constexpr uint16_t kEthIpv4 = 0x0800, kEthIpv6 = 0x86dd, kEth8021Q = 0x8100,
                   kEth8021AD = 0x88a8, kEthQinQOld = 0x9100, kEthPppoeSes = 0x8864;
// include/net/flow_dissector.h MAX_FLOW_DISSECT_HDRS, and a cap on VLAN tags we walk.
constexpr int kMaxDissectHdrs = 15;
constexpr int kMaxVlanTags = 8;

enum : uint8_t {
  kProtoHop = 0, kProtoIcmp = 1, kProtoIpip = 4, kProtoTcp = 6, kProtoUdp = 17,
  kProtoDccp = 33, kProtoIpv6 = 41, kProtoRouting = 43, kProtoFragment = 44, kProtoGre = 47,
  kProtoEsp = 50, kProtoAh = 51, kProtoIcmpv6 = 58, kProtoDest = 60, kProtoSctp = 132,
  kProtoUdplite = 136,
};

// include/linux/in.h proto_ports_offset(): where the dissector reads 4 "port" bytes.
inline int PortsOffset(uint8_t proto) {
  switch (proto) {
    case kProtoTcp: case kProtoUdp: case kProtoDccp: case kProtoEsp: case kProtoSctp:
    case kProtoUdplite:
      return 0;
    case kProtoAh:
      return 4;
    default:
      return -1;
  }
}

// The smallest complete header of each L4 protocol, for the kTruncatedL4 report only (the
// flow does not depend on it: the kernel needs just the 4 port bytes).
inline size_t MinL4Header(uint8_t proto) {
  switch (proto) {
    case kProtoTcp: return 20;
    case kProtoUdp: case kProtoUdplite: case kProtoIcmp: case kProtoIcmpv6: case kProtoEsp:
      return 8;
    case kProtoSctp: case kProtoDccp: case kProtoAh: return 12;
    default: return 0;
  }
}

// include/linux/icmp.h icmp_is_err() / include/linux/icmpv6.h icmpv6_is_err().
inline bool IcmpIsErr(uint8_t type) { return type == 3 || type == 4 || type == 5 || type == 11 || type == 12; }
inline bool Icmpv6IsErr(uint8_t type) { return type >= 1 && type <= 4; }

inline void Addr6(const uint8_t* p, uint32_t* out) {
  for (int i = 0; i < 4; i++) out[i] = Be32(p + 4 * i);
}

// The dissector's view of one IP packet (outer or quoted).
struct IpResult {
  uint8_t status = kTruncated;
  uint8_t proto = 0;
  uint8_t flags = 0;
  uint16_t sport = 0, dport = 0;
  uint32_t label = 0;
  uint32_t saddr[4] = {0, 0, 0, 0}, daddr[4] = {0, 0, 0, 0};
  bool laterFragment = false;
  size_t thoff = 0;  // transport header offset within the span
};

// Fills ports for `proto` at `thoff` as __skb_flow_get_ports() does; sets kTruncatedL4 when the
// protocol's minimal header is not all there.
void L4Ports(const Span& s, IpResult* r) {
  const int poff = PortsOffset(r->proto);
  if (poff >= 0 && s.Has(r->thoff + size_t(poff), 4)) {
    r->sport = Be16(s.p + r->thoff + poff);
    r->dport = Be16(s.p + r->thoff + poff + 2);
  }
  r->status = s.Has(r->thoff, MinL4Header(r->proto)) ? kOk : kTruncatedL4;
  if (r->proto == kProtoIpip || r->proto == kProtoIpv6 || r->proto == kProtoGre) r->flags |= kFlagEncap;
}

// IPv4 at s.p. `outer`: trim to the datagram's total length, and a bad header is kMalformed.
IpResult ParseV4(Span s, bool outer) {
  IpResult r;
  if (!s.Has(0, 20)) return r;  // kTruncated
  const uint8_t vihl = s.p[0];
  const size_t ihl = size_t(vihl & 15) * 4;
  const uint16_t tot = Be16(s.p + 2);
  if ((vihl >> 4) != 4 || ihl < 20 || (outer && tot < ihl)) {
    r.status = kMalformed;
    return r;
  }
  if (outer && tot < s.len) s.len = tot;  // link padding past the datagram
  r.saddr[0] = Be32(s.p + 12);
  r.daddr[0] = Be32(s.p + 16);
  r.proto = s.p[9];
  r.thoff = ihl;
  if (ihl > 20) r.flags |= kFlagIpOptions;
  const uint16_t frag = Be16(s.p + 6);
  if (frag & 0x3fff) {  // IP_MF | IP_OFFSET: ip_is_fragment()
    r.status = kFragment;
    if ((frag & 0x1fff) == 0) r.flags |= kFlagFirstFragment;
    else r.laterFragment = true;
    if (r.proto == kProtoIpip || r.proto == kProtoGre || r.proto == kProtoIpv6) r.flags |= kFlagEncap;
    return r;
  }
  if (!s.Has(0, ihl)) {  // options cut: addresses are there, L4 is not
    r.status = kTruncatedL4;
    return r;
  }
  L4Ports(s, &r);
  return r;
}

IpResult ParseV6(Span s, bool outer) {
  IpResult r;
  if (!s.Has(0, 40)) return r;  // kTruncated
  if ((s.p[0] >> 4) != 6) {
    r.status = kMalformed;
    return r;
  }
  const uint16_t plen = Be16(s.p + 4);
  // payload_len 0 is a jumbogram (or unknown): keep what was captured.
  if (outer && plen != 0 && size_t(plen) + 40 < s.len) s.len = size_t(plen) + 40;
  r.label = Be32(s.p) & 0xfffff;
  Addr6(s.p + 8, r.saddr);
  Addr6(s.p + 24, r.daddr);
  uint8_t proto = s.p[6];
  size_t off = 40;
  // __skb_flow_dissect ip_proto_again loop: each extension header is one "header" against
  // MAX_FLOW_DISSECT_HDRS; the dissector still processes the header that crosses the limit.
  for (int hdrs = 0; hdrs <= kMaxDissectHdrs; hdrs++) {
    if (proto == kProtoHop || proto == kProtoRouting || proto == kProtoDest) {
      if (!s.Has(off, 2)) {  // FLOW_DISSECT_RET_OUT_BAD: ip_proto stays the header's number
        r.proto = proto;
        r.thoff = off;
        r.status = kTruncatedL4;
        return r;
      }
      r.flags |= kFlagIpOptions;
      proto = s.p[off];
      off += (size_t(s.p[off + 1]) + 1) * 8;
      continue;
    }
    if (proto == kProtoFragment) {
      r.flags |= kFlagIpOptions;
      if (!s.Has(off, 8)) {
        r.proto = proto;
        r.thoff = off;
        r.status = kTruncatedL4;
        return r;
      }
      r.proto = s.p[off];
      r.thoff = off + 8;
      r.status = kFragment;
      if ((Be16(s.p + off + 2) & 0xfff8) == 0) r.flags |= kFlagFirstFragment;  // IP6_OFFSET
      else r.laterFragment = true;
      if (r.proto == kProtoIpip || r.proto == kProtoGre || r.proto == kProtoIpv6) r.flags |= kFlagEncap;
      return r;
    }
    break;
  }
  r.proto = proto;
  r.thoff = off;
  L4Ports(s, &r);  // an extension header left over past the limit has no ports
  return r;
}

void CopyAddr(uint32_t* dst, const uint32_t* src) {
  for (int i = 0; i < 4; i++) dst[i] = src[i];
}

// Parses the IP packet at s (version 4 or 6 as announced by the link layer; 0: from the first
// nibble) into f.
void ParseL3(Span s, int version, Flow* f) {
  if (version == 0) {
    if (!s.Has(0, 1)) { f->status = kTruncated; return; }
    version = s.p[0] >> 4;
    if (version != 4 && version != 6) { f->status = kMalformed; return; }
  }
  const bool v6 = version == 6;
  if (!v6 && s.Has(0, 20) && (s.p[0] >> 4) == 4) {
    const uint16_t tot = Be16(s.p + 2);
    if (tot < s.len && tot >= 20) s.len = tot;  // the kernel's view is bounded by tot_len
  } else if (v6 && s.Has(0, 40) && (s.p[0] >> 4) == 6) {
    const uint16_t plen = Be16(s.p + 4);
    if (plen != 0 && size_t(plen) + 40 < s.len) s.len = size_t(plen) + 40;
  }
  const IpResult r = v6 ? ParseV6(s, true) : ParseV4(s, true);
  f->status = r.status;
  if (r.status >= kFirstNoFlow) return;
  f->family = v6 ? 6 : 4;
  f->flags |= r.flags;
  f->proto = r.proto;
  f->sport = r.sport;
  f->dport = r.dport;
  f->flowLabel = r.label;
  CopyAddr(f->saddr, r.saddr);
  CopyAddr(f->daddr, r.daddr);
  CopyAddr(f->l3Saddr, r.saddr);
  CopyAddr(f->l3Daddr, r.daddr);
  f->l3FlowLabel = r.label;
  f->l3Proto = v6 ? s.p[6] : r.proto;

  // ip_multipath_l3_keys / ip6_multipath_l3_keys: ICMP errors hash on the quoted header.
  if (!v6) {
    const size_t ihl = size_t(s.p[0] & 15) * 4;
    const bool nonFirst = (Be16(s.p + 6) & 0x1fff) != 0;
    if (s.p[9] == kProtoIcmp && !nonFirst && s.Has(ihl, 8) && IcmpIsErr(s.p[ihl]) &&
        s.Has(ihl + 8, 20)) {
      f->l3Saddr[0] = Be32(s.p + ihl + 8 + 12);
      f->l3Daddr[0] = Be32(s.p + ihl + 8 + 16);
      f->flags |= kFlagL3Inner;
    }
  } else if (s.p[6] == kProtoIcmpv6 && s.Has(40, 8) && Icmpv6IsErr(s.p[40]) && s.Has(48, 40)) {
    const uint8_t* in = s.p + 48;
    Addr6(in + 8, f->l3Saddr);
    Addr6(in + 24, f->l3Daddr);
    f->l3FlowLabel = Be32(in) & 0xfffff;
    f->l3Proto = in[6];
    f->flags |= kFlagL3Inner;
  }

  // The quoted packet of an ICMP error, as a flow of its own.
  const bool icmp = (!v6 && r.proto == kProtoIcmp) || (v6 && r.proto == kProtoIcmpv6);
  if (!icmp || r.laterFragment || !s.Has(r.thoff, 1)) return;
  const uint8_t type = s.p[r.thoff];
  if (!(v6 ? Icmpv6IsErr(type) : IcmpIsErr(type))) return;
  f->flags |= kFlagIcmpError;
  if (!s.Has(r.thoff, 8)) return;
  const Span inner{s.p + r.thoff + 8, s.len - r.thoff - 8};
  const IpResult q = v6 ? ParseV6(inner, false) : ParseV4(inner, false);
  if (q.status >= kFirstNoFlow) {
    f->flags |= kFlagL4Bad;
    return;
  }
  f->flags |= kFlagInner;
  f->innerProto = q.proto;
  f->innerSport = q.sport;
  f->innerDport = q.dport;
  f->innerFlowLabel = q.label;
  CopyAddr(f->innerSaddr, q.saddr);
  CopyAddr(f->innerDaddr, q.daddr);
}

}  // namespace

Flow ParsePacket(const uint8_t* data, size_t len, uint32_t linkType) {
  Flow f;
  const Span s{data, len};
  size_t off = 0;
  uint16_t etype = 0;
  int version = 0;
  switch (linkType) {
    case kLinkEthernet:
      if (!s.Has(0, 14)) return f;
      etype = Be16(data + 12);
      off = 14;
      break;
    case kLinkLinuxSll:  // pkttype, hatype, halen, addr[8], protocol
      if (!s.Has(0, 16)) return f;
      etype = Be16(data + 14);
      off = 16;
      break;
    case kLinkLinuxSll2:  // protocol, reserved, ifindex, hatype, pkttype, halen, addr[8]
      if (!s.Has(0, 20)) return f;
      etype = Be16(data);
      off = 20;
      break;
    case kLinkRaw:
      ParseL3(s, 0, &f);
      return f;
    case kLinkIpv4:
      ParseL3(s, 4, &f);
      return f;
    case kLinkIpv6:
      ParseL3(s, 6, &f);
      return f;
    case kLinkNull: {  // the capturing host's byte order: accept both
      if (!s.Has(0, 4)) return f;
      uint32_t af = uint32_t(data[0]) | (uint32_t(data[1]) << 8) | (uint32_t(data[2]) << 16) |
                    (uint32_t(data[3]) << 24);
      if (af > 0xffff) af = __builtin_bswap32(af);
      if (af == 2) version = 4;
      else if (af == 10 || af == 24 || af == 28 || af == 30) version = 6;  // Linux, BSDs, macOS
      else { f.status = kNotIp; return f; }
      ParseL3(Span{data + 4, len - 4}, version, &f);
      return f;
    }
    default:
      f.status = kUnsupportedLink;
      return f;
  }
  // 802.1Q / 802.1ad tags (the outer one's VID is reported), then PPPoE session.
  for (int tags = 0; etype == kEth8021Q || etype == kEth8021AD || etype == kEthQinQOld; tags++) {
    if (tags == kMaxVlanTags || !s.Has(off, 4)) return f;  // kTruncated
    if (tags == 0) {
      f.vlan = Be16(data + off) & 0x0fff;
      f.flags |= kFlagVlan;
    }
    etype = Be16(data + off + 2);
    off += 4;
  }
  if (etype == kEthPppoeSes) {  // ver/type, code, session, length, then the PPP protocol
    if (!s.Has(off, 8)) return f;
    const uint16_t ppp = Be16(data + off + 6);
    off += 8;
    etype = ppp == 0x0021 ? kEthIpv4 : ppp == 0x0057 ? kEthIpv6 : 0;
  }
  if (etype == kEthIpv4) version = 4;
  else if (etype == kEthIpv6) version = 6;
  else {
    f.status = kNotIp;
    return f;
  }
  ParseL3(Span{data + off, len - off}, version, &f);
  return f;
}

BatchResult ParseBatch(const uint8_t* buf, const uint32_t* offsets, const uint32_t* lengths,
                       const uint16_t* linkTypes, uint32_t linkType, size_t n, uint8_t* status,
                       const FlowsOutV4& v4, const FlowsOutV6& v6) {
  BatchResult res;
  for (size_t i = 0; i < n; i++) {
    const Flow f = ParsePacket(buf + offsets[i], lengths[i], linkTypes ? linkTypes[i] : linkType);
    status[i] = f.status;
    res.counts[f.status]++;
    if (f.family == 4) {
      const size_t k = res.v4++;
      v4.saddr[k] = f.saddr[0];
      v4.daddr[k] = f.daddr[0];
      v4.sport[k] = f.sport;
      v4.dport[k] = f.dport;
      v4.proto[k] = f.proto;
      v4.index[k] = uint32_t(i);
      v4.flags[k] = f.flags;
      v4.vlan[k] = f.vlan;
      v4.l3Saddr[k] = f.l3Saddr[0];
      v4.l3Daddr[k] = f.l3Daddr[0];
      v4.innerSaddr[k] = f.innerSaddr[0];
      v4.innerDaddr[k] = f.innerDaddr[0];
      v4.innerSport[k] = f.innerSport;
      v4.innerDport[k] = f.innerDport;
      v4.innerProto[k] = f.innerProto;
    } else if (f.family == 6) {
      const size_t k = res.v6++;
      CopyAddr(v6.saddr + 4 * k, f.saddr);
      CopyAddr(v6.daddr + 4 * k, f.daddr);
      v6.sport[k] = f.sport;
      v6.dport[k] = f.dport;
      v6.proto[k] = f.proto;
      v6.flowLabel[k] = f.flowLabel;
      v6.index[k] = uint32_t(i);
      v6.flags[k] = f.flags;
      v6.vlan[k] = f.vlan;
      CopyAddr(v6.l3Saddr + 4 * k, f.l3Saddr);
      CopyAddr(v6.l3Daddr + 4 * k, f.l3Daddr);
      v6.l3Proto[k] = f.l3Proto;
      v6.l3FlowLabel[k] = f.l3FlowLabel;
      CopyAddr(v6.innerSaddr + 4 * k, f.innerSaddr);
      CopyAddr(v6.innerDaddr + 4 * k, f.innerDaddr);
      v6.innerSport[k] = f.innerSport;
      v6.innerDport[k] = f.innerDport;
      v6.innerProto[k] = f.innerProto;
      v6.innerFlowLabel[k] = f.innerFlowLabel;
    }
  }
  return res;
}

}  // namespace lvskit::packet
