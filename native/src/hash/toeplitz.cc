#include "hash/toeplitz.h"

namespace lvskit::hash {
namespace {

// The 32-bit key window starting at bit `bit` (bit 0 = most significant bit of key[0]).
inline uint32_t Window(const uint8_t* key, size_t bit) {
  const size_t byte = bit / 8;
  uint64_t v = 0;
  for (int i = 0; i < 5; i++) v = (v << 8) | key[byte + i];
  return uint32_t(v >> (8 - bit % 8));
}

inline uint32_t Byte(const uint32_t* t, size_t pos, uint32_t v) { return t[pos * 256 + (v & 0xff)]; }

inline uint32_t Word(const uint32_t* t, size_t pos, uint32_t w) {
  return Byte(t, pos, w >> 24) ^ Byte(t, pos + 1, w >> 16) ^ Byte(t, pos + 2, w >> 8) ^
         Byte(t, pos + 3, w);
}

}  // namespace

bool ToeplitzPrepare(const uint8_t* key, size_t keyLen, size_t inputLen, uint32_t* table) {
  if (inputLen == 0 || inputLen > kToeplitzMaxInput || keyLen < inputLen + 4) return false;
  // The window read touches 5 bytes: key[p + 4] exists because keyLen >= inputLen + 4, except
  // for the last byte position with bit offset 0; pad a copy to be safe.
  uint8_t k[kToeplitzMaxInput + 8] = {0};
  for (size_t i = 0; i < keyLen && i < sizeof(k); i++) k[i] = key[i];
  for (size_t p = 0; p < inputLen; p++) {
    uint32_t w[8];
    for (int j = 0; j < 8; j++) w[j] = Window(k, p * 8 + size_t(j));
    for (uint32_t v = 0; v < 256; v++) {
      uint32_t h = 0;
      for (int j = 0; j < 8; j++) {
        if (v & (0x80u >> j)) h ^= w[j];
      }
      table[p * 256 + v] = h;
    }
  }
  return true;
}

uint32_t ToeplitzBytes(const uint8_t* key, size_t keyLen, const uint8_t* input, size_t len) {
  uint32_t h = 0;
  for (size_t i = 0; i < len; i++) {
    for (int j = 0; j < 8; j++) {
      if (!(input[i] & (0x80u >> j))) continue;
      const size_t bit = i * 8 + size_t(j);
      uint32_t w = 0;
      for (int b = 0; b < 32; b++) {
        const size_t kb = bit + size_t(b);
        const uint32_t kbit = kb / 8 < keyLen ? (key[kb / 8] >> (7 - kb % 8)) & 1 : 0;
        w = (w << 1) | kbit;
      }
      h ^= w;
    }
  }
  return h;
}

void ToeplitzV4Batch(const uint32_t* t, const uint32_t* saddr, const uint32_t* daddr,
                     const uint16_t* sport, const uint16_t* dport, size_t n, uint32_t* out) {
  if (sport && dport) {
    for (size_t i = 0; i < n; i++) {
      const uint32_t ports = (uint32_t(sport[i]) << 16) | dport[i];
      out[i] = Word(t, 0, saddr[i]) ^ Word(t, 4, daddr[i]) ^ Word(t, 8, ports);
    }
  } else {
    for (size_t i = 0; i < n; i++) out[i] = Word(t, 0, saddr[i]) ^ Word(t, 4, daddr[i]);
  }
}

void ToeplitzV6Batch(const uint32_t* t, const uint32_t* saddr, const uint32_t* daddr,
                     const uint16_t* sport, const uint16_t* dport, size_t n, uint32_t* out) {
  for (size_t i = 0; i < n; i++) {
    const uint32_t* s = saddr + 4 * i;
    const uint32_t* d = daddr + 4 * i;
    uint32_t h = Word(t, 0, s[0]) ^ Word(t, 4, s[1]) ^ Word(t, 8, s[2]) ^ Word(t, 12, s[3]) ^
                 Word(t, 16, d[0]) ^ Word(t, 20, d[1]) ^ Word(t, 24, d[2]) ^ Word(t, 28, d[3]);
    if (sport && dport) h ^= Word(t, 32, (uint32_t(sport[i]) << 16) | dport[i]);
    out[i] = h;
  }
}

}  // namespace lvskit::hash
