// Fuzz target: the packet header parser (native/src/packet/parse.{h,cc}): ParsePacket for every
// link type, and ParseBatch over the same bytes cut into several packets.
//
// lvskit-fuzz-requires: src/packet/parse.cc
//
// Input: byte 0 picks the link type, byte 1 how many packets the batch cuts the rest into; the
// rest is the packet. The single-packet parse gets exactly the bytes after the two control bytes,
// ending where libFuzzer's allocation ends, so any read past the captured length is caught.
// Properties: a status below kFirstNoFlow comes with family 4 or 6, a status from kFirstNoFlow
// on with family 0; the batch parser agrees with the single parser on every packet (status,
// protocol, ports, addresses) and its per-status counts add up to the number of packets.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "packet/parse.h"

using namespace lvskit::packet;

#include "fuzz_check.h"

namespace {

const uint32_t kLinkTypes[] = {kLinkNull, kLinkEthernet, kLinkRaw, kLinkLinuxSll,
                               kLinkIpv4, kLinkIpv6,     kLinkLinuxSll2, 12345};

void CheckFlow(const Flow& f) {
  CHECK(f.status < kStatusCount);
  if (f.status < kFirstNoFlow)
    CHECK(f.family == 4 || f.family == 6);
  else
    CHECK(f.family == 0);
  CHECK(f.flowLabel <= 0xfffff && f.l3FlowLabel <= 0xfffff && f.innerFlowLabel <= 0xfffff);
}

template <class T>
struct Cols {
  std::vector<T> v;
  explicit Cols(size_t n) : v(n) {}
  T* p() { return v.data(); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  uint32_t linkType = kLinkTypes[data[0] & 7];
  size_t n = 1 + data[1] % 8;
  const uint8_t* pkt = data + 2;
  size_t len = size - 2;
  Flow single = ParsePacket(pkt, len, linkType);
  CheckFlow(single);

  // The batch: n packets, cut at even intervals, each parsed with the same link type.
  std::vector<uint32_t> offsets(n), lengths(n);
  for (size_t i = 0; i < n; ++i) {
    offsets[i] = static_cast<uint32_t>(len * i / n);
    lengths[i] = static_cast<uint32_t>(len * (i + 1) / n - offsets[i]);
  }
  std::vector<uint8_t> status(n, 0xff);
  Cols<uint32_t> s4(n), d4(n), i4(n), l3s4(n), l3d4(n), is4(n), id4(n);
  Cols<uint16_t> sp4(n), dp4(n), vl4(n), isp4(n), idp4(n);
  Cols<uint8_t> pr4(n), fl4(n), ipr4(n);
  FlowsOutV4 v4{s4.p(), d4.p(), i4.p(), l3s4.p(), l3d4.p(), is4.p(), id4.p(), sp4.p(), dp4.p(),
                vl4.p(), isp4.p(), idp4.p(), pr4.p(), fl4.p(), ipr4.p()};
  Cols<uint32_t> s6(4 * n), d6(4 * n), i6(n), fl6(n), l3s6(4 * n), l3d6(4 * n), l3fl6(n), is6(4 * n),
      id6(4 * n), ifl6(n);
  Cols<uint16_t> sp6(n), dp6(n), vl6(n), isp6(n), idp6(n);
  Cols<uint8_t> pr6(n), f6(n), l3p6(n), ipr6(n);
  FlowsOutV6 v6{s6.p(),  d6.p(),  i6.p(),  fl6.p(), l3s6.p(), l3d6.p(), l3fl6.p(), is6.p(),
                id6.p(), ifl6.p(), sp6.p(), dp6.p(), vl6.p(),  isp6.p(), idp6.p(),  pr6.p(),
                f6.p(),  l3p6.p(), ipr6.p()};
  BatchResult r = ParseBatch(pkt, offsets.data(), lengths.data(), nullptr, linkType, n,
                             status.data(), v4, v6);
  size_t total = 0;
  for (uint32_t c : r.counts) total += c;
  CHECK(total == n);
  CHECK(r.v4 + r.v6 <= n);
  size_t k4 = 0, k6 = 0;
  for (size_t i = 0; i < n; ++i) {
    Flow f = ParsePacket(pkt + offsets[i], lengths[i], linkType);
    CheckFlow(f);
    CHECK(status[i] == f.status);
    if (f.family == 4) {
      CHECK(k4 < r.v4 && i4.v[k4] == i);
      CHECK(s4.v[k4] == f.saddr[0] && d4.v[k4] == f.daddr[0]);
      CHECK(sp4.v[k4] == f.sport && dp4.v[k4] == f.dport && pr4.v[k4] == f.proto);
      ++k4;
    } else if (f.family == 6) {
      CHECK(k6 < r.v6 && i6.v[k6] == i);
      CHECK(std::memcmp(&s6.v[4 * k6], f.saddr, 16) == 0 && std::memcmp(&d6.v[4 * k6], f.daddr, 16) == 0);
      CHECK(sp6.v[k6] == f.sport && dp6.v[k6] == f.dport && pr6.v[k6] == f.proto);
      CHECK(fl6.v[k6] == f.flowLabel);
      ++k6;
    }
  }
  CHECK(k4 == r.v4 && k6 == r.v6);
  return 0;
}
