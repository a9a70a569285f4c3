// The "plain C loop" floor for bench/packet.mjs: the same pure C++ parser the addon calls
// (native/src/packet/parse.cc ParseBatch), over the same packets, with no JS in the way.
// Timed in thread CPU time, best of 5.
// usage: packet_floor FILE   (FILE: u32 count, count x u32 length, then the packets back to back,
// little-endian). Prints "parse PACKETS_PER_SECOND".
#include <ctime>
#include <cstdio>
#include <cstring>
#include <vector>

#include "packet/parse.h"

using namespace lvskit::packet;
// CPU time of this thread: the figures stay meaningful on a loaded machine.
static double CpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) / 1e9;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  FILE* f = fopen(argv[1], "rb");
  if (!f) return 2;
  std::vector<uint8_t> file;
  uint8_t chunk[65536];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) file.insert(file.end(), chunk, chunk + got);
  fclose(f);
  if (file.size() < 4) return 2;
  uint32_t n;
  memcpy(&n, file.data(), 4);
  if (file.size() < 4 + 4 * size_t(n)) return 2;
  std::vector<uint32_t> lengths(n), offsets(n);
  memcpy(lengths.data(), file.data() + 4, 4 * size_t(n));
  const uint8_t* buf = file.data() + 4 + 4 * size_t(n);
  const size_t bufLen = file.size() - 4 - 4 * size_t(n);
  size_t at = 0;
  for (uint32_t i = 0; i < n; i++) {
    offsets[i] = uint32_t(at);
    at += lengths[i];
  }
  if (at > bufLen) return 2;
  std::vector<uint8_t> status(n);
  // Separate arrays, as the binding passes them.
  std::vector<std::vector<uint32_t>> w32(20, std::vector<uint32_t>(4 * size_t(n)));
  std::vector<std::vector<uint16_t>> w16(10, std::vector<uint16_t>(n));
  std::vector<std::vector<uint8_t>> w8(8, std::vector<uint8_t>(n));
  FlowsOutV4 v4{w32[0].data(), w32[1].data(), w32[2].data(), w32[3].data(), w32[4].data(), w32[5].data(), w32[6].data(),
                w16[0].data(), w16[1].data(), w16[2].data(), w16[3].data(), w16[4].data(),
                w8[0].data(), w8[1].data(), w8[2].data()};
  FlowsOutV6 v6{w32[7].data(), w32[8].data(), w32[9].data(), w32[10].data(), w32[11].data(), w32[12].data(), w32[13].data(),
                w32[14].data(), w32[15].data(), w32[16].data(),
                w16[5].data(), w16[6].data(), w16[7].data(), w16[8].data(), w16[9].data(),
                w8[3].data(), w8[4].data(), w8[5].data(), w8[6].data()};
  double best = 0;
  size_t flows = 0;
  for (int rep = 0; rep < 5; rep++) {
    const double t0 = CpuSeconds();
    BatchResult r = ParseBatch(buf, offsets.data(), lengths.data(), nullptr, kLinkEthernet, n, status.data(), v4, v6);
    const double s = CpuSeconds() - t0;
    flows = r.v4 + r.v6;
    if (n / s > best) best = n / s;
  }
  printf("parse %.0f\nflows %zu\n", best, flows);
  return 0;
}
