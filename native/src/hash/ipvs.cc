// See ipvs.h for the kernel files mirrored here.
#include "hash/ipvs.h"

#include <vector>

#include "hash/jhash.h"
#include "hash/siphash.h"

namespace lvskit::hash {
namespace {

// ip_vs_mh.c generate_hash_secret(): hsiphash_key_t { unsigned long key[2] } on 64-bit kernels.
constexpr SipKey kMhKey1{2654435761ULL, 2654435761ULL};
constexpr SipKey kMhKey2{2654446892ULL, 2654446892ULL};
constexpr uint32_t kMhPrimes[] = {251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071};

// Lemire's fastmod: a % d for 32-bit a with a precomputed 64-bit reciprocal (d < 2^32).
struct FastMod {
  uint64_t c;
  uint32_t d;
  explicit FastMod(uint32_t div) : c(~uint64_t(0) / div + 1), d(div) {}
  inline uint32_t Mod(uint32_t a) const {
    const uint64_t low = c * a;
    return uint32_t((static_cast<unsigned __int128>(low) * d) >> 64);
  }
};

inline uint32_t Fold(const uint32_t* a, int words) {
  return words == 4 ? (a[0] ^ a[1] ^ a[2] ^ a[3]) : a[0];
}

inline uint16_t PortFor(const uint16_t* sport, const uint8_t* proto, size_t i, uint32_t flags) {
  if (!(flags & kSvcSchedPort) || !sport) return 0;
  if (proto) {
    const uint8_t p = proto[i];
    if (p != 6 && p != 17 && p != 132) return 0;
  }
  return sport[i];
}

inline bool Usable(const uint8_t* usable, size_t ndest, uint16_t d) {
  return d < ndest && usable[d];
}

inline uint32_t MhKey(uint32_t addrKey, uint16_t port, uint32_t offset, SipKey k) {
  return HSipHashU32(offset + uint32_t(port) + addrKey, k);
}

}  // namespace

void ShBuildTable(const int32_t* weights, size_t n, uint16_t* table) {
  size_t p = 0;
  int32_t count = 0;
  for (size_t i = 0; i < kShTabSize; i++) {
    if (n == 0) {
      table[i] = kNoDest;
      continue;
    }
    table[i] = uint16_t(p);
    if (++count >= weights[p]) {  // weight 0 (or less) still takes one bucket per pass
      p = (p + 1) % n;
      count = 0;
    }
  }
}

void DhBuildTable(size_t n, uint16_t* table) {
  for (size_t i = 0; i < kDhTabSize; i++) table[i] = n == 0 ? kNoDest : uint16_t(i % n);
}

uint32_t ShLookup(const uint16_t* table, const uint8_t* usable, size_t ndest, uint32_t addrKey,
                  uint16_t sport, uint32_t flags) {
  const uint32_t port = (flags & kSvcSchedPort) ? sport : 0;
  const uint32_t ihash = Hash32(port + addrKey, 8);
  uint16_t d = table[ihash];
  if (d == kNoDest) return kNoDest;
  if (Usable(usable, ndest, d)) return d;
  if (!(flags & kSvcSchedFallback)) return kNoDest;
  for (uint32_t off = 0; off < kShTabSize; off++) {
    const uint32_t roffset = (off + ihash) % kShTabSize;
    d = table[(roffset + ihash) & (kShTabSize - 1)];
    if (d == kNoDest) break;
    if (Usable(usable, ndest, d)) return d;
  }
  return kNoDest;
}

uint32_t DhLookup(const uint16_t* table, const uint8_t* usable, size_t ndest, uint32_t addrKey) {
  const uint16_t d = table[Hash32(addrKey, 8)];
  return Usable(usable, ndest, d) ? d : kNoDest;
}

void ShLookupBatch(const uint16_t* table, const uint8_t* usable, size_t ndest,
                   const uint32_t* saddr, int addrWords, const uint16_t* sport,
                   const uint8_t* proto, size_t n, uint32_t flags, uint16_t* out) {
  const bool usePort = (flags & kSvcSchedPort) && sport;
  for (size_t i = 0; i < n; i++) {
    const uint32_t key = Fold(saddr + size_t(addrWords) * i, addrWords);
    const uint32_t port = usePort ? PortFor(sport, proto, i, flags) : 0;
    const uint16_t d = table[Hash32(port + key, 8)];
    // Fast path: the bucket's destination is usable (always the case without drained servers).
    if (Usable(usable, ndest, d)) {
      out[i] = d;
    } else {
      out[i] = uint16_t(ShLookup(table, usable, ndest, key, uint16_t(port), flags | kSvcSchedPort));
    }
  }
}

void DhLookupBatch(const uint16_t* table, const uint8_t* usable, size_t ndest,
                   const uint32_t* daddr, int addrWords, size_t n, uint16_t* out) {
  for (size_t i = 0; i < n; i++) {
    const uint16_t d = table[Hash32(Fold(daddr + size_t(addrWords) * i, addrWords), 8)];
    out[i] = Usable(usable, ndest, d) ? d : kNoDest;
  }
}

uint32_t MhTableSize(uint32_t tabIndex) {
  if (tabIndex < 8 || tabIndex > 17) return 0;
  return kMhPrimes[tabIndex - 8];
}

uint32_t MhHashKey(uint32_t addrKey, uint16_t port, uint32_t offset, bool second) {
  return MhKey(addrKey, port, offset, second ? kMhKey2 : kMhKey1);
}

bool MhBuildTable(const uint32_t* addrKeys, const uint16_t* ports, const int32_t* lastWeights,
                  size_t n, uint32_t tabIndex, uint16_t* table) {
  const uint32_t m = MhTableSize(tabIndex);
  // n >= kNoDest: destination index 65535 would read as "no destination" and 65536 as 0 in the
  // 16-bit table. The kernel allows up to M destinations; we refuse what we cannot represent.
  if (m == 0 || n > m || n >= kNoDest) return false;
  const int tabBits = int(tabIndex / 2);
  for (uint32_t i = 0; i < m; i++) table[i] = kNoDest;

  // ip_vs_mh_gcd_weight()
  int32_t g = 0;
  for (size_t i = 0; i < n; i++) {
    int32_t w = lastWeights[i];
    if (w > 0) {
      if (g > 0) {
        int32_t a = w, b = g;
        while (b) {
          int32_t t = a % b;
          a = b;
          b = t;
        }
        g = a;
      } else {
        g = w;
      }
    }
  }
  if (g < 1) return true;  // every last_weight is 0: the kernel empties the table

  // ip_vs_mh_shift_weight(): shift = fls(max / gcd) - TAB_BITS, at least 0.
  int32_t maxw = 0;
  for (size_t i = 0; i < n; i++) maxw = lastWeights[i] > maxw ? lastWeights[i] : maxw;
  const int32_t mw = maxw / g;
  const int fls = mw == 0 ? 0 : 32 - __builtin_clz(uint32_t(mw));
  const int shift = fls - tabBits > 0 ? fls - tabBits : 0;

  // ip_vs_mh_permutate()
  struct Setup {
    uint32_t offset, skip, perm;
    int32_t turns;
  };
  std::vector<Setup> ds(n);
  for (size_t i = 0; i < n; i++) {
    ds[i].offset = MhKey(addrKeys[i], ports[i], 0, kMhKey1) % m;
    ds[i].skip = MhKey(addrKeys[i], ports[i], 0, kMhKey2) % (m - 1) + 1;
    ds[i].perm = ds[i].offset;
    const int32_t lw = lastWeights[i];
    const int32_t t = (lw / g) >> shift;
    ds[i].turns = t ? t : (lw != 0);
  }

  // ip_vs_mh_populate(): passes over the list; each destination claims `turns` free slots.
  std::vector<uint8_t> used(m, 0);
  uint32_t filled = 0;
  while (filled < m) {
    size_t p = 0;
    int32_t dt = 0;
    while (p < n) {
      Setup& s = ds[p];
      if (s.turns < 1) {
        p++;
        continue;
      }
      uint32_t c = s.perm;
      while (used[c]) {
        s.perm += s.skip;
        if (s.perm >= m) s.perm -= m;
        c = s.perm;
      }
      used[c] = 1;
      table[c] = uint16_t(p);
      if (++filled == m) return true;
      if (++dt >= s.turns) {
        dt = 0;
        p++;
      }
    }
  }
  return true;
}

uint32_t MhLookup(const uint16_t* table, uint32_t m, const uint8_t* usable, size_t ndest,
                  uint32_t addrKey, uint16_t sport, uint32_t flags) {
  const uint16_t port = (flags & kSvcSchedPort) ? sport : 0;
  const uint32_t ihash = MhKey(addrKey, port, 0, kMhKey1) % m;
  uint16_t d = table[ihash];
  if (d == kNoDest) return kNoDest;
  if (Usable(usable, ndest, d)) return d;
  if (!(flags & kSvcSchedFallback)) return kNoDest;
  for (uint32_t off = 0; off < m; off++) {
    const uint32_t roffset = (off + ihash) % m;
    d = table[MhKey(addrKey, port, roffset, kMhKey1) % m];
    if (d == kNoDest) break;
    if (Usable(usable, ndest, d)) return d;
  }
  return kNoDest;
}

void MhLookupBatch(const uint16_t* table, uint32_t m, const uint8_t* usable, size_t ndest,
                   const uint32_t* saddr, int addrWords, const uint16_t* sport,
                   const uint8_t* proto, size_t n, uint32_t flags, uint16_t* out) {
  const FastMod fm(m);
  const bool usePort = (flags & kSvcSchedPort) && sport;
  for (size_t i = 0; i < n; i++) {
    const uint32_t key = Fold(saddr + size_t(addrWords) * i, addrWords);
    const uint16_t port = usePort ? PortFor(sport, proto, i, flags) : 0;
    const uint16_t d = table[fm.Mod(MhKey(key, port, 0, kMhKey1))];
    if (Usable(usable, ndest, d)) {
      out[i] = d;
    } else if (d == kNoDest || !(flags & kSvcSchedFallback)) {
      out[i] = kNoDest;
    } else {
      out[i] = uint16_t(MhLookup(table, m, usable, ndest, key, port, flags | kSvcSchedPort));
    }
  }
}

}  // namespace lvskit::hash
