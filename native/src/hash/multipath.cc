// See multipath.h for the kernel functions mirrored here.
#include "hash/multipath.h"

#include "hash/jhash.h"
#include "hash/siphash.h"

namespace lvskit::hash {
namespace {

inline uint32_t Bswap32(uint32_t x) { return __builtin_bswap32(x); }
inline uint16_t Bswap16(uint16_t x) { return __builtin_bswap16(x); }

// The kernel compares __be32 / __be16 fields as native integers (flow_dissector.c
// __flow_hash_consistentify): on a little-endian host that is the byte-swapped number.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
inline uint32_t NativeBe32(uint32_t host) { return host; }
inline uint16_t NativeBe16(uint16_t host) { return host; }
#else
inline uint32_t NativeBe32(uint32_t host) { return Bswap32(host); }
inline uint16_t NativeBe16(uint16_t host) { return Bswap16(host); }
#endif

// Which flow_keys members a (family, policy, fields) combination fills.
struct FieldMask {
  uint32_t src, dst, sport, dport, label;
  uint32_t proto;
  bool empty;   // policy 3 with no outer field: the kernel returns 0 without hashing
  bool jhashInner;
  // tags.flow_label byte order: policy 3 on a packet takes it from the flow dissector, which
  // stores ntohl(label) (net/core/flow_dissector.c __skb_flow_dissect, FLOW_DISSECTOR_KEY_FLOW_LABEL;
  // net/ipv6/route.c rt6_multipath_custom_hash_skb); policy 0 (ip6_multipath_l3_keys) and every
  // flowi6 path store the raw big-endian label.
  bool labelHostOrder;
};

FieldMask MaskFor(bool v6, const MultipathParams& p) {
  uint32_t f = 0;
  switch (p.policy) {
    case 0:
    case 2:  // policy 2 hashes the inner L3 of encapsulated packets; for a plain flow it is 0
      f = kMpFieldSrcIp | kMpFieldDstIp | (v6 ? (kMpFieldFlowLabel | kMpFieldIpProto) : 0);
      break;
    case 1:
      f = kMpFieldSrcIp | kMpFieldDstIp | kMpFieldIpProto | kMpFieldSrcPort | kMpFieldDstPort;
      break;
    default:
      // fib_multipath_custom_hash_fl4 has no flow label; the IPv6 one does.
      f = p.fields & kMpFieldOuterMask & (v6 ? ~0u : ~kMpFieldFlowLabel);
      break;
  }
  FieldMask m;
  m.src = (f & kMpFieldSrcIp) ? ~0u : 0;
  m.dst = (f & kMpFieldDstIp) ? ~0u : 0;
  m.sport = (f & kMpFieldSrcPort) ? 0xffffu : 0;
  m.dport = (f & kMpFieldDstPort) ? 0xffffu : 0;
  m.label = (f & kMpFieldFlowLabel) ? 0xfffffu : 0;
  m.proto = (f & kMpFieldIpProto) ? 0xffu : 0;
  m.empty = p.policy == 3 && (p.fields & kMpFieldOuterMask) == 0;
  m.jhashInner = p.policy == 3 && p.packetPath;
  m.labelHostOrder = p.policy == 3 && p.packetPath;
  return m;
}

inline SipKey KeyFor(uint32_t seed) {
  uint64_t k = (uint64_t(seed) << 32) | seed;
  return SipKey{k, k};
}

// The message words are the little-endian reading of struct flow_keys bytes 8..56 (IPv4):
//   8: basic.n_proto (0) | 10: basic.ip_proto | 12: tags.flow_label (be32, or host order under
//   policy 3 on a packet: see labelHostOrder)
//   16..32: vlan, cvlan (0) | 32: keyid (0) | 36: ports.src, 38: ports.dst (be16)
//   40: icmp (0) | 44: addrs.v4addrs.src | 48: .dst | 52..56: rest of the addrs union (0)
// IPv6 hashes bytes 8..80: src at 44..60, dst at 60..76, 76..80 struct padding (0).
inline uint32_t Finish(uint64_t sip, const FieldMask& m) {
  uint32_t h = uint32_t(sip);
  if (h == 0) h = 1;
  if (m.jhashInner) h = Jhash2Words(h, 0, 0);
  return h >> 1;
}

inline uint32_t HashV4(uint32_t s, uint32_t d, uint16_t sp, uint16_t dp, uint8_t proto,
                       const FieldMask& m, SipKey key) {
  if (m.empty) return (m.jhashInner ? Jhash2Words(0, 0, 0) : 0) >> 1;
  s &= m.src;
  d &= m.dst;
  sp &= m.sport;
  dp &= m.dport;
  proto &= m.proto;
  if (NativeBe32(d) < NativeBe32(s)) {
    uint32_t t = s; s = d; d = t;
  }
  if (NativeBe16(dp) < NativeBe16(sp)) {
    uint16_t t = sp; sp = dp; dp = t;
  }
  const uint64_t w[6] = {
      uint64_t(proto) << 16,
      0,
      0,
      uint64_t(uint32_t(Bswap16(sp)) | (uint32_t(Bswap16(dp)) << 16)) << 32,
      uint64_t(Bswap32(s)) << 32,
      uint64_t(Bswap32(d)),
  };
  return Finish(SipHashWords<2, 4>(w, key), m);
}

inline bool LessV6(const uint32_t* a, const uint32_t* b) {
  for (int i = 0; i < 4; i++) {
    if (a[i] != b[i]) return a[i] < b[i];
  }
  return false;
}

inline uint32_t HashV6(const uint32_t* sIn, const uint32_t* dIn, uint16_t sp, uint16_t dp,
                       uint8_t proto, uint32_t label, const FieldMask& m, SipKey key) {
  if (m.empty) return (m.jhashInner ? Jhash2Words(0, 0, 0) : 0) >> 1;
  uint32_t s[4], d[4];
  for (int i = 0; i < 4; i++) {
    s[i] = sIn[i] & m.src;
    d[i] = dIn[i] & m.dst;
  }
  sp &= m.sport;
  dp &= m.dport;
  proto &= m.proto;
  label &= m.label;
  const uint32_t* lo = s;
  const uint32_t* hi = d;
  if (LessV6(d, s)) {  // memcmp(dst, src) < 0
    lo = d;
    hi = s;
  }
  if (NativeBe16(dp) < NativeBe16(sp)) {
    uint16_t t = sp; sp = dp; dp = t;
  }
  const uint64_t w[9] = {
      (uint64_t(proto) << 16) | (uint64_t(m.labelHostOrder ? label : Bswap32(label)) << 32),
      0,
      0,
      uint64_t(uint32_t(Bswap16(sp)) | (uint32_t(Bswap16(dp)) << 16)) << 32,
      uint64_t(Bswap32(lo[0])) << 32,
      uint64_t(Bswap32(lo[1])) | (uint64_t(Bswap32(lo[2])) << 32),
      uint64_t(Bswap32(lo[3])) | (uint64_t(Bswap32(hi[0])) << 32),
      uint64_t(Bswap32(hi[1])) | (uint64_t(Bswap32(hi[2])) << 32),
      uint64_t(Bswap32(hi[3])),
  };
  return Finish(SipHashWords<2, 4>(w, key), m);
}

}  // namespace

uint32_t MultipathHashV4(const FlowV4& f, const MultipathParams& p) {
  return HashV4(f.saddr, f.daddr, f.sport, f.dport, f.proto, MaskFor(false, p), KeyFor(p.seed));
}

uint32_t MultipathHashV6(const FlowV6& f, const MultipathParams& p) {
  return HashV6(f.saddr, f.daddr, f.sport, f.dport, f.proto, f.flowLabel, MaskFor(true, p),
                KeyFor(p.seed));
}

void MultipathHashV4Batch(const uint32_t* saddr, const uint32_t* daddr, const uint16_t* sport,
                          const uint16_t* dport, const uint8_t* proto, size_t n,
                          const MultipathParams& p, uint32_t* out) {
  const FieldMask m = MaskFor(false, p);
  const SipKey key = KeyFor(p.seed);
  for (size_t i = 0; i < n; i++) {
    out[i] = HashV4(saddr[i], daddr[i], sport ? sport[i] : 0, dport ? dport[i] : 0,
                    proto ? proto[i] : 0, m, key);
  }
}

void MultipathHashV6Batch(const uint32_t* saddr, const uint32_t* daddr, const uint16_t* sport,
                          const uint16_t* dport, const uint8_t* proto, const uint32_t* flowLabel,
                          size_t n, const MultipathParams& p, uint32_t* out) {
  const FieldMask m = MaskFor(true, p);
  const SipKey key = KeyFor(p.seed);
  for (size_t i = 0; i < n; i++) {
    out[i] = HashV6(saddr + 4 * i, daddr + 4 * i, sport ? sport[i] : 0, dport ? dport[i] : 0,
                    proto ? proto[i] : 0, flowLabel ? flowLabel[i] : 0, m, key);
  }
}

void MultipathUpperBounds(const uint32_t* weights, const uint8_t* alive, size_t n, int32_t* out) {
  uint64_t total = 0;
  for (size_t i = 0; i < n; i++) {
    if (!alive || alive[i]) total += weights[i];
  }
  uint64_t w = 0;
  for (size_t i = 0; i < n; i++) {
    if ((alive && !alive[i]) || total == 0) {
      out[i] = -1;
      continue;
    }
    w += weights[i];
    // DIV_ROUND_CLOSEST_ULL((u64)w << 31, total) - 1
    const uint64_t num = w << 31;
    out[i] = int32_t(int64_t((num + total / 2) / total) - 1);
  }
}

void MultipathSelectBatch(const uint32_t* hashes, size_t count, const int32_t* ub, size_t n,
                          uint16_t* out) {
  for (size_t i = 0; i < count; i++) out[i] = uint16_t(MultipathSelect(hashes[i], ub, n));
}

void ResilientSelectBatch(const uint32_t* hashes, size_t count, const uint32_t* table,
                          size_t buckets, uint32_t* out) {
  for (size_t i = 0; i < count; i++) out[i] = table[hashes[i] % buckets];
}

void MultipathPredictV4Batch(const uint32_t* saddr, const uint32_t* daddr, const uint16_t* sport,
                             const uint16_t* dport, const uint8_t* proto, size_t n,
                             const MultipathParams& p, const int32_t* ub, size_t nh,
                             uint16_t* out) {
  const FieldMask m = MaskFor(false, p);
  const SipKey key = KeyFor(p.seed);
  for (size_t i = 0; i < n; i++) {
    const uint32_t h = HashV4(saddr[i], daddr[i], sport ? sport[i] : 0, dport ? dport[i] : 0,
                              proto ? proto[i] : 0, m, key);
    out[i] = uint16_t(MultipathSelect(h, ub, nh));
  }
}

void MultipathPredictV6Batch(const uint32_t* saddr, const uint32_t* daddr, const uint16_t* sport,
                             const uint16_t* dport, const uint8_t* proto,
                             const uint32_t* flowLabel, size_t n, const MultipathParams& p,
                             const int32_t* ub, size_t nh, uint16_t* out) {
  const FieldMask m = MaskFor(true, p);
  const SipKey key = KeyFor(p.seed);
  for (size_t i = 0; i < n; i++) {
    const uint32_t h =
        HashV6(saddr + 4 * i, daddr + 4 * i, sport ? sport[i] : 0, dport ? dport[i] : 0,
               proto ? proto[i] : 0, flowLabel ? flowLabel[i] : 0, m, key);
    out[i] = uint16_t(MultipathSelect(h, ub, nh));
  }
}

}  // namespace lvskit::hash
