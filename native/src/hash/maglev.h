// Maglev consistent hashing in the paper's form (Eisenbud et al., "Maglev: A Fast and Reliable
// Software Network Load Balancer", NSDI 2016, section 3.4, Pseudocode 1): each backend i has a
// permutation (offset_i + j * skip_i) mod M with M prime and skip in 1..M-1; backends take turns
// claiming their next preferred free slot until the table is full. With weights (an extension
// the paper mentions, as Katran and IPVS mh do), backend i claims weight_i slots per turn;
// weight 0 removes it. Not a kernel function: ip_vs_mh.c is the kernel's variant (ipvs.h).
#pragma once
#include <cstddef>
#include <cstdint>

namespace lvskit::hash {

// table: M entries of backend indexes (0xffffffff when no backend has a positive weight).
// weights may be null (all 1). Returns false for M < 2, n == 0 allowed (table all empty),
// offset >= M or skip outside 1..M-1.
bool MaglevBuild(const uint32_t* offsets, const uint32_t* skips, const uint32_t* weights,
                 size_t n, uint32_t m, uint32_t* table);
void MaglevLookupBatch(const uint32_t* table, uint32_t m, const uint32_t* hashes, size_t n,
                       uint32_t* out);

}  // namespace lvskit::hash
