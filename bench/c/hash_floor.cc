// The "plain C loop" floor for bench/hash.mjs: the same pure C++ kernels the addon calls, timed
// over the same data shapes with no JS in the way. Built by bench/hash.mjs with c++ -O3.
// Prints one line per kernel: name, flows per second.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "hash/ipvs.h"
#include "hash/multipath.h"
#include "hash/toeplitz.h"

using namespace lvskit::hash;
using Clock = std::chrono::steady_clock;

template <typename F>
double Rate(size_t n, F&& f) {
  double best = 0;
  for (int rep = 0; rep < 5; rep++) {
    auto t0 = Clock::now();
    f();
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    best = std::max(best, n / s);
  }
  return best;
}

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? size_t(atol(argv[1])) : 1u << 20;
  std::vector<uint32_t> s(n), d(n), s6(4 * n), out(n);
  std::vector<uint16_t> sp(n), dp(n), o16(n);
  std::vector<uint8_t> pr(n, 6);
  uint32_t x = 12345;
  auto r = [&] { x ^= x << 13; x ^= x >> 17; x ^= x << 5; return x; };
  for (size_t i = 0; i < n; i++) { s[i] = r(); d[i] = r(); sp[i] = uint16_t(r()); dp[i] = uint16_t(r()); }
  for (auto& w : s6) w = r();
  MultipathParams p; p.policy = 1; p.seed = 42;
  uint32_t wts[4] = {1, 2, 3, 4}; int32_t ub[4];
  MultipathUpperBounds(wts, nullptr, 4, ub);
  printf("mpHashV4 %.0f\n", Rate(n, [&] { MultipathHashV4Batch(s.data(), d.data(), sp.data(), dp.data(), pr.data(), n, p, out.data()); }));
  printf("mpPredictV4 %.0f\n", Rate(n, [&] { MultipathPredictV4Batch(s.data(), d.data(), sp.data(), dp.data(), pr.data(), n, p, ub, 4, o16.data()); }));
  printf("mpHashV6 %.0f\n", Rate(n, [&] { MultipathHashV6Batch(s6.data(), s6.data(), sp.data(), dp.data(), pr.data(), nullptr, n, p, out.data()); }));
  std::vector<int32_t> w(8, 1); std::vector<uint8_t> usable(8, 1); uint16_t sh[256];
  ShBuildTable(w.data(), 8, sh);
  printf("sh %.0f\n", Rate(n, [&] { ShLookupBatch(sh, usable.data(), 8, s.data(), 1, sp.data(), nullptr, n, kSvcSchedPort, o16.data()); }));
  uint16_t dh[256]; DhBuildTable(8, dh);
  printf("dh %.0f\n", Rate(n, [&] { DhLookupBatch(dh, usable.data(), 8, d.data(), 1, n, o16.data()); }));
  std::vector<uint16_t> mh(4093); std::vector<uint32_t> keys(8); std::vector<uint16_t> ports(8, 80);
  for (auto& k : keys) k = r();
  MhBuildTable(keys.data(), ports.data(), w.data(), 8, 12, mh.data());
  printf("mh %.0f\n", Rate(n, [&] { MhLookupBatch(mh.data(), 4093, usable.data(), 8, s.data(), 1, sp.data(), nullptr, n, kSvcSchedPort, o16.data()); }));
  uint8_t key[40]; for (auto& k : key) k = uint8_t(r());
  std::vector<uint32_t> tt(36 * 256); ToeplitzPrepare(key, 40, 36, tt.data());
  printf("toeplitzV4 %.0f\n", Rate(n, [&] { ToeplitzV4Batch(tt.data(), s.data(), d.data(), sp.data(), dp.data(), n, out.data()); }));
  return int(out[n / 2] & 0);
}
