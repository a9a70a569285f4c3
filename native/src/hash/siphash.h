// SipHash as the kernel computes it (mirrors lib/siphash.c). Pure C++, header-only so the hot
// loops in multipath.cc and ipvs.cc inline it.
//
// siphash():  SipHash-2-4, 64-bit result. The kernel's flow hash (net/core/flow_dissector.c
//             __flow_hash_from_keys) keeps the low 32 bits.
// hsiphash(): on 64-bit kernels "HalfSipHash" is really SipHash-1-3 with 64-bit keys, truncated
//             to 32 bits (lib/siphash.c, BITS_PER_LONG == 64 branch). ip_vs_mh.c uses it.
//             32-bit kernels use the real HalfSipHash-1-3; we model the 64-bit kernel only.
// Message bytes are read as little-endian 64-bit words, as the kernel's le64_to_cpu does.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace lvskit::hash {

struct SipKey {
  uint64_t k0;
  uint64_t k1;
};

inline uint64_t Rotl64(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

struct SipState {
  uint64_t v0, v1, v2, v3;
  explicit SipState(SipKey k)
      : v0(0x736f6d6570736575ULL ^ k.k0),
        v1(0x646f72616e646f6dULL ^ k.k1),
        v2(0x6c7967656e657261ULL ^ k.k0),
        v3(0x7465646279746573ULL ^ k.k1) {}
  inline void Round() {
    v0 += v1; v1 = Rotl64(v1, 13); v1 ^= v0; v0 = Rotl64(v0, 32);
    v2 += v3; v3 = Rotl64(v3, 16); v3 ^= v2;
    v0 += v3; v3 = Rotl64(v3, 21); v3 ^= v0;
    v2 += v1; v1 = Rotl64(v1, 17); v1 ^= v2; v2 = Rotl64(v2, 32);
  }
  template <int C>
  inline void Compress(uint64_t m) {
    v3 ^= m;
    for (int i = 0; i < C; i++) Round();
    v0 ^= m;
  }
  template <int D>
  inline uint64_t Finish() {
    v2 ^= 0xff;
    for (int i = 0; i < D; i++) Round();
    return (v0 ^ v1) ^ (v2 ^ v3);
  }
};

inline uint64_t LoadLe64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

// Generic SipHash-C-D over bytes (any length, any alignment).
template <int C, int D>
inline uint64_t SipHashBytes(const uint8_t* data, size_t len, SipKey key) {
  SipState s(key);
  const size_t full = len & ~size_t(7);
  for (size_t i = 0; i < full; i += 8) s.Compress<C>(LoadLe64(data + i));
  uint64_t b = uint64_t(len) << 56;
  for (size_t i = 0; i < (len & 7); i++) b |= uint64_t(data[full + i]) << (8 * i);
  s.Compress<C>(b);
  return s.Finish<D>();
}

// SipHash-C-D over whole 64-bit words already in little-endian message order: `words` is the
// message, byte length = 8 * N. Used by the multipath hash where the message is built in registers.
template <int C, int D, int N>
inline uint64_t SipHashWords(const uint64_t (&words)[N], SipKey key) {
  SipState s(key);
  for (int i = 0; i < N; i++) s.Compress<C>(words[i]);
  s.Compress<C>(uint64_t(8 * N) << 56);
  return s.Finish<D>();
}

inline uint64_t SipHash24(const uint8_t* data, size_t len, SipKey key) {
  return SipHashBytes<2, 4>(data, len, key);
}
inline uint64_t SipHash13(const uint8_t* data, size_t len, SipKey key) {
  return SipHashBytes<1, 3>(data, len, key);
}

// hsiphash(&v, sizeof(u32), key) on a 64-bit kernel: the 4 bytes of v in host memory order.
inline uint32_t HSipHashU32(uint32_t v, SipKey key) {
  uint8_t b[4];
  std::memcpy(b, &v, 4);
  SipState s(key);
  uint64_t m = (uint64_t(4) << 56) | uint64_t(b[0]) | (uint64_t(b[1]) << 8) |
               (uint64_t(b[2]) << 16) | (uint64_t(b[3]) << 24);
  s.Compress<1>(m);
  return uint32_t(s.Finish<3>());
}

}  // namespace lvskit::hash
