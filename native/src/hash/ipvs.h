// IPVS hashing schedulers: sh, dh and mh (Maglev), as the kernel computes them.
//
// Mirrors, as of Linux 6.18:
//  - net/netfilter/ipvs/ip_vs_sh.c: 256 buckets (CONFIG_IP_VS_SH_TAB_BITS 8), filled walking the
//    destination list, each destination taking `weight` consecutive buckets (at least one);
//    bucket = hash_32(ntohs(port) + ntohl(fold(saddr)), 8) (4.18+; before: the low 8 bits of
//    key * 2654435761); fallback probes (roffset + ihash) & 255 with roffset = (off + ihash) % 256.
//  - net/netfilter/ipvs/ip_vs_dh.c: 256 buckets round-robin over the list (weights ignored),
//    bucket = hash_32(ntohl(fold(daddr)), 8).
//  - net/netfilter/ipvs/ip_vs_mh.c (4.18+): Maglev lookup table of M = primes[INDEX - 8] slots
//    (CONFIG_IP_VS_MH_TAB_INDEX, default 12 -> 4093); hsiphash keys 2654435761 / 2654446892;
//    turns = ((last_weight / gcd) >> rshift) ?: (last_weight != 0).
//  - fold(IPv6) = a[0] ^ a[1] ^ a[2] ^ a[3] on the raw words; ntohl(fold) is then the xor of the
//    host-order words, which is what we take as input.
// "Usable" is the kernel's !is_unavailable(dest): weight > 0 and not IP_VS_DEST_F_OVERLOAD.
// Destination lists are in kernel order (the order an IPVS dump returns: newest first).
#pragma once
#include <cstddef>
#include <cstdint>

namespace lvskit::hash {

constexpr uint16_t kNoDest = 0xffff;
constexpr size_t kShTabSize = 256;
constexpr size_t kDhTabSize = 256;

// Service flag bits (include/uapi/linux/ip_vs.h IP_VS_SVC_F_SCHED1/2).
constexpr uint32_t kSvcSchedFallback = 0x08;
constexpr uint32_t kSvcSchedPort = 0x10;

// ip_vs_sh_reassign(): table[256] of destination indexes (kNoDest when the list is empty).
void ShBuildTable(const int32_t* weights, size_t n, uint16_t* table);
// ip_vs_dh_reassign().
void DhBuildTable(size_t n, uint16_t* table);

// One key per flow: ntohl(fold(addr)) (IPv4: the address itself). `keys` null + addrs: the batch
// functions below fold for you.
uint32_t ShLookup(const uint16_t* table, const uint8_t* usable, size_t ndest, uint32_t addrKey,
                  uint16_t sport, uint32_t flags);
uint32_t DhLookup(const uint16_t* table, const uint8_t* usable, size_t ndest, uint32_t addrKey);

// Batches. addrWords = 1 (IPv4) or 4 (IPv6, folded). sport/proto may be null. With the port
// flag, the kernel uses the source port only for TCP (6), UDP (17) and SCTP (132): when proto
// is given, other protocols hash port 0.
void ShLookupBatch(const uint16_t* table, const uint8_t* usable, size_t ndest,
                   const uint32_t* saddr, int addrWords, const uint16_t* sport,
                   const uint8_t* proto, size_t n, uint32_t flags, uint16_t* out);
void DhLookupBatch(const uint16_t* table, const uint8_t* usable, size_t ndest,
                   const uint32_t* daddr, int addrWords, size_t n, uint16_t* out);

// mh. tabIndex is CONFIG_IP_VS_MH_TAB_INDEX (8..17). Returns M, or 0 for a bad index.
uint32_t MhTableSize(uint32_t tabIndex);
// ip_vs_mh_gcd_weight + ip_vs_mh_shift_weight + ip_vs_mh_permutate + ip_vs_mh_populate.
// addrKeys: ntohl(fold(dest addr)); ports: dest ports (host order); lastWeights: the latest
// non-zero weight the kernel remembers (equal to the weight unless it was set to 0 later).
// table must hold M entries. Returns false for a bad tabIndex or n > M (the kernel's EINVAL).
bool MhBuildTable(const uint32_t* addrKeys, const uint16_t* ports, const int32_t* lastWeights,
                  size_t n, uint32_t tabIndex, uint16_t* table);
uint32_t MhLookup(const uint16_t* table, uint32_t m, const uint8_t* usable, size_t ndest,
                  uint32_t addrKey, uint16_t sport, uint32_t flags);
void MhLookupBatch(const uint16_t* table, uint32_t m, const uint8_t* usable, size_t ndest,
                   const uint32_t* saddr, int addrWords, const uint16_t* sport,
                   const uint8_t* proto, size_t n, uint32_t flags, uint16_t* out);

// ip_vs_mh_hashkey(af, addr, port, key, offset) for tests and the pure-TS reference.
uint32_t MhHashKey(uint32_t addrKey, uint16_t port, uint32_t offset, bool second);

}  // namespace lvskit::hash
