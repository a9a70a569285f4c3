#include "hash/maglev.h"

#include <vector>

namespace lvskit::hash {

bool MaglevBuild(const uint32_t* offsets, const uint32_t* skips, const uint32_t* weights,
                 size_t n, uint32_t m, uint32_t* table) {
  if (m < 2) return false;
  for (size_t i = 0; i < n; i++) {
    if (offsets[i] >= m || skips[i] == 0 || skips[i] >= m) return false;
  }
  for (uint32_t i = 0; i < m; i++) table[i] = 0xffffffffu;
  bool any = false;
  for (size_t i = 0; i < n; i++) any = any || !weights || weights[i] > 0;
  if (!any) return true;
  std::vector<uint32_t> next(n, 0);  // j: how far along its permutation each backend is
  uint32_t filled = 0;
  while (true) {
    for (size_t i = 0; i < n; i++) {
      const uint32_t turns = weights ? weights[i] : 1;
      for (uint32_t t = 0; t < turns; t++) {
        uint32_t c;
        do {
          // A prime M makes every permutation visit all slots within M steps.
          if (next[i] >= m) return false;
          c = uint32_t((uint64_t(offsets[i]) + uint64_t(next[i]) * skips[i]) % m);
          next[i]++;
        } while (table[c] != 0xffffffffu);
        table[c] = uint32_t(i);
        if (++filled == m) return true;
      }
    }
  }
}

void MaglevLookupBatch(const uint32_t* table, uint32_t m, const uint32_t* hashes, size_t n,
                       uint32_t* out) {
  for (size_t i = 0; i < n; i++) out[i] = table[hashes[i] % m];
}

}  // namespace lvskit::hash
