// Kernel multipath (ECMP) flow hash and nexthop choice, for IPv4 and IPv6.
//
// Mirrors, as of Linux 6.18:
//  - net/ipv4/route.c fib_multipath_hash() and fib_multipath_custom_hash_{fl4,skb}()
//  - net/ipv6/route.c rt6_multipath_hash() and rt6_multipath_custom_hash_{fl6,skb}()
//  - include/net/ip_fib.h fib_multipath_hash_from_keys(): SipHash-2-4 keyed by the
//    net.ipv4.fib_multipath_hash_seed sysctl (6.11+), k0 = k1 = (u64)seed << 32 | seed
//  - net/core/flow_dissector.c __flow_hash_from_keys(): consistentify, SipHash over struct
//    flow_keys from member `basic` (offset 8) for 48 (IPv4) or 72 (IPv6) bytes, 0 -> 1
//  - net/ipv4/fib_semantics.c fib_rebalance() / fib_select_multipath() (hash-threshold)
//  - net/ipv4/nexthop.c nh_hthr_group_rebalance() / nexthop_select_path_hthr() / _res()
//
// Version notes:
//  - Before 6.11 the key is random per boot (5.4..6.10: a random siphash key; older: jhash with a
//    random seed): results are reproducible only with a seed set through the sysctl.
//  - __flow_hash_consistentify: before 5.13 (commit 1e60cebf) addresses and ports were swapped
//    together on (s32)(dst - src) < 0; 5.13..6.1 swapped ports independently but still used the
//    signed difference; since 64ae13ed ("net: core: fix flow symmetric hash", 6.2) the addresses
//    compare as native u32. We implement the current rule.
//  - fib_select_multipath prefers a nexthop whose source address equals the flow's (6.15+) when
//    the lookup carries a source address on the output path; forwarded packets and source-less
//    lookups are unaffected. Not modelled: pass no source-bound local flows.
#pragma once
#include <cstddef>
#include <cstdint>

namespace lvskit::hash {

// fib_multipath_hash_fields bits (include/net/ip_fib.h FIB_MULTIPATH_HASH_FIELD_*).
enum : uint32_t {
  kMpFieldSrcIp = 1u << 0,
  kMpFieldDstIp = 1u << 1,
  kMpFieldIpProto = 1u << 2,
  kMpFieldFlowLabel = 1u << 3,
  kMpFieldSrcPort = 1u << 4,
  kMpFieldDstPort = 1u << 5,
  kMpFieldOuterMask = 0x3f,
};

struct MultipathParams {
  uint32_t policy = 0;   // fib_multipath_hash_policy 0..3
  uint32_t seed = 0;     // fib_multipath_hash_seed (the mp_seed the kernel uses)
  uint32_t fields = 0;   // fib_multipath_hash_fields (policy 3)
  // true: the kernel hashes a packet (skb): forwarded traffic and IPv4 RTM_GETROUTE queries,
  // which build a dummy skb. Under policy 3 that path returns jhash_2words(outer, inner, 0) with
  // inner = 0 for a packet without encapsulation. false: only the flowi is hashed (local
  // sockets, IPv6 route queries): the outer hash alone.
  bool packetPath = true;
};

// One IPv4 / IPv6 flow. Addresses and ports are host-order numbers (10.0.0.1 = 0x0a000001;
// IPv6 as four 32-bit big-endian groups, most significant first). flowLabel: low 20 bits.
struct FlowV4 {
  uint32_t saddr, daddr;
  uint16_t sport, dport;
  uint8_t proto;
};
struct FlowV6 {
  uint32_t saddr[4], daddr[4];
  uint16_t sport, dport;
  uint8_t proto;
  uint32_t flowLabel;
};

// The value fib_select_multipath() compares with the upper bounds: (hash >> 1), 31 bits.
uint32_t MultipathHashV4(const FlowV4& f, const MultipathParams& p);
uint32_t MultipathHashV6(const FlowV6& f, const MultipathParams& p);

// Bulk forms over struct-of-arrays input. Null sport/dport/proto/flowLabel arrays mean zeros.
// IPv6 addresses: 4 words per flow. No allocation.
void MultipathHashV4Batch(const uint32_t* saddr, const uint32_t* daddr, const uint16_t* sport,
                          const uint16_t* dport, const uint8_t* proto, size_t n,
                          const MultipathParams& p, uint32_t* out);
void MultipathHashV6Batch(const uint32_t* saddr, const uint32_t* daddr, const uint16_t* sport,
                          const uint16_t* dport, const uint8_t* proto, const uint32_t* flowLabel,
                          size_t n, const MultipathParams& p, uint32_t* out);

// fib_rebalance(): per-nexthop upper bounds from weights (1..256 for routes, 1..65535 for
// nexthop groups); dead nexthops (alive[i] == 0, alive may be null) get -1.
void MultipathUpperBounds(const uint32_t* weights, const uint8_t* alive, size_t n, int32_t* out);

// fib_select_multipath() / nexthop_select_path_hthr() without a source-address preference: the
// first live nexthop whose upper bound is >= hash, else the first live one, else 0.
inline uint32_t MultipathSelect(uint32_t hash, const int32_t* ub, size_t n) {
  size_t first = n;
  for (size_t i = 0; i < n; i++) {
    if (ub[i] < 0) continue;
    if (first == n) first = i;
    if (int32_t(hash) <= ub[i]) return uint32_t(i);
  }
  return first == n ? 0 : uint32_t(first);
}

void MultipathSelectBatch(const uint32_t* hashes, size_t count, const int32_t* ub, size_t n,
                          uint16_t* out);
// nexthop_select_path_res(): bucket = hash % buckets; out = table[bucket].
void ResilientSelectBatch(const uint32_t* hashes, size_t count, const uint32_t* table,
                          size_t buckets, uint32_t* out);

// Hash then choose, fused (one pass, no intermediate array).
void MultipathPredictV4Batch(const uint32_t* saddr, const uint32_t* daddr, const uint16_t* sport,
                             const uint16_t* dport, const uint8_t* proto, size_t n,
                             const MultipathParams& p, const int32_t* ub, size_t nh,
                             uint16_t* out);
void MultipathPredictV6Batch(const uint32_t* saddr, const uint32_t* daddr, const uint16_t* sport,
                             const uint16_t* dport, const uint8_t* proto,
                             const uint32_t* flowLabel, size_t n, const MultipathParams& p,
                             const int32_t* ub, size_t nh, uint16_t* out);

}  // namespace lvskit::hash
