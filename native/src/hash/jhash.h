// Bob Jenkins' lookup3 as the kernel has it (mirrors include/linux/jhash.h) and hash_32 (mirrors
// include/linux/hash.h: GOLDEN_RATIO_32 since 4.7). Pure C++, header-only.
#pragma once
#include <cstddef>
#include <cstdint>

namespace lvskit::hash {

inline uint32_t Rol32(uint32_t x, int s) { return (x << s) | (x >> ((32 - s) & 31)); }

#define LVSKIT_JHASH_MIX(a, b, c)               \
  do {                                          \
    a -= c; a ^= Rol32(c, 4);  c += b;          \
    b -= a; b ^= Rol32(a, 6);  a += c;          \
    c -= b; c ^= Rol32(b, 8);  b += a;          \
    a -= c; a ^= Rol32(c, 16); c += b;          \
    b -= a; b ^= Rol32(a, 19); a += c;          \
    c -= b; c ^= Rol32(b, 4);  b += a;          \
  } while (0)

#define LVSKIT_JHASH_FINAL(a, b, c)             \
  do {                                          \
    c ^= b; c -= Rol32(b, 14);                  \
    a ^= c; a -= Rol32(c, 11);                  \
    b ^= a; b -= Rol32(a, 25);                  \
    c ^= b; c -= Rol32(b, 16);                  \
    a ^= c; a -= Rol32(c, 4);                   \
    b ^= a; b -= Rol32(a, 14);                  \
    c ^= b; c -= Rol32(b, 24);                  \
  } while (0)

constexpr uint32_t kJhashInitval = 0xdeadbeef;

// jhash(): bytes; the 4-byte groups are read in host order (__get_unaligned_cpu32).
inline uint32_t Jhash(const uint8_t* k, uint32_t length, uint32_t initval) {
  uint32_t a, b, c;
  a = b = c = kJhashInitval + length + initval;
  auto cpu32 = [](const uint8_t* p) {
    uint32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
  };
  while (length > 12) {
    a += cpu32(k);
    b += cpu32(k + 4);
    c += cpu32(k + 8);
    LVSKIT_JHASH_MIX(a, b, c);
    length -= 12;
    k += 12;
  }
  switch (length) {
    case 12: c += uint32_t(k[11]) << 24; [[fallthrough]];
    case 11: c += uint32_t(k[10]) << 16; [[fallthrough]];
    case 10: c += uint32_t(k[9]) << 8; [[fallthrough]];
    case 9: c += k[8]; [[fallthrough]];
    case 8: b += uint32_t(k[7]) << 24; [[fallthrough]];
    case 7: b += uint32_t(k[6]) << 16; [[fallthrough]];
    case 6: b += uint32_t(k[5]) << 8; [[fallthrough]];
    case 5: b += k[4]; [[fallthrough]];
    case 4: a += uint32_t(k[3]) << 24; [[fallthrough]];
    case 3: a += uint32_t(k[2]) << 16; [[fallthrough]];
    case 2: a += uint32_t(k[1]) << 8; [[fallthrough]];
    case 1:
      a += k[0];
      LVSKIT_JHASH_FINAL(a, b, c);
      break;
    case 0:
      break;
  }
  return c;
}

// jhash2(): an array of u32 words.
inline uint32_t Jhash2(const uint32_t* k, uint32_t length, uint32_t initval) {
  uint32_t a, b, c;
  a = b = c = kJhashInitval + (length << 2) + initval;
  while (length > 3) {
    a += k[0];
    b += k[1];
    c += k[2];
    LVSKIT_JHASH_MIX(a, b, c);
    length -= 3;
    k += 3;
  }
  switch (length) {
    case 3: c += k[2]; [[fallthrough]];
    case 2: b += k[1]; [[fallthrough]];
    case 1:
      a += k[0];
      LVSKIT_JHASH_FINAL(a, b, c);
      break;
    case 0:
      break;
  }
  return c;
}

inline uint32_t JhashNwords(uint32_t a, uint32_t b, uint32_t c, uint32_t initval) {
  a += initval;
  b += initval;
  c += initval;
  LVSKIT_JHASH_FINAL(a, b, c);
  return c;
}
inline uint32_t Jhash3Words(uint32_t a, uint32_t b, uint32_t c, uint32_t initval) {
  return JhashNwords(a, b, c, initval + kJhashInitval + (3 << 2));
}
inline uint32_t Jhash2Words(uint32_t a, uint32_t b, uint32_t initval) {
  return JhashNwords(a, b, 0, initval + kJhashInitval + (2 << 2));
}
inline uint32_t Jhash1Word(uint32_t a, uint32_t initval) {
  return JhashNwords(a, 0, 0, initval + kJhashInitval + (1 << 2));
}

// include/linux/hash.h (4.7+): hash_32(val, bits) = (val * GOLDEN_RATIO_32) >> (32 - bits).
constexpr uint32_t kGoldenRatio32 = 0x61C88647;
inline uint32_t Hash32(uint32_t val, unsigned bits) {
  return bits == 0 ? 0 : uint32_t(val * kGoldenRatio32) >> (32 - bits);
}

}  // namespace lvskit::hash
