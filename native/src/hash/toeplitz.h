// Toeplitz hash as NICs compute it for RSS (Microsoft RSS specification, "Verifying the RSS
// hash"), with per-byte lookup tables: table[p * 256 + v] is the hash contribution of input byte
// p having value v, so hashing n bytes is n loads and xors. Input bytes are the packet fields in
// network order: saddr, daddr, then sport, dport for the 4-tuple form.
// The kernel itself reads the hash the NIC computed; this models the NIC. The queue is
// indir[hash % indir_size] with the key and indirection table `ethtool -x` shows.
#pragma once
#include <cstddef>
#include <cstdint>

namespace lvskit::hash {

constexpr size_t kToeplitzMaxInput = 36;  // IPv6 4-tuple

// Builds inputLen * 256 entries. The key needs inputLen + 4 bytes. Returns false otherwise.
bool ToeplitzPrepare(const uint8_t* key, size_t keyLen, size_t inputLen, uint32_t* table);
// Bit-serial reference (slow; for tests).
uint32_t ToeplitzBytes(const uint8_t* key, size_t keyLen, const uint8_t* input, size_t len);

// Batches. sport/dport null: the 2-tuple hash (addresses only). table from ToeplitzPrepare with
// inputLen >= 12 (IPv4 4-tuple) / 36 (IPv6 4-tuple) / 8 / 32 (2-tuples).
void ToeplitzV4Batch(const uint32_t* table, const uint32_t* saddr, const uint32_t* daddr,
                     const uint16_t* sport, const uint16_t* dport, size_t n, uint32_t* out);
void ToeplitzV6Batch(const uint32_t* table, const uint32_t* saddr, const uint32_t* daddr,
                     const uint16_t* sport, const uint16_t* dport, size_t n, uint32_t* out);

}  // namespace lvskit::hash
