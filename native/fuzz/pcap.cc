// Fuzz target: the pcap / pcapng readers (native/src/packet/pcap.{h,cc}), chained into the packet
// parser as lvskit's capture pipeline does.
//
// lvskit-fuzz-requires: src/packet/pcap.cc src/packet/parse.cc
//
// The input is a capture file. Properties: every packet indexed lies inside the buffer; a scan
// that only counts (capacity 0) finds the same packets and stops at the same error as a scan that
// indexes; indexed link types are the ones the file declared (parsed without a crash whatever
// they are); an error comes with an offset inside the buffer.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "packet/parse.h"
#include "packet/pcap.h"

using namespace lvskit::packet;

#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  PacketIndexOut none;
  CaptureScan count = ScanCapture(data, size, none);
  size_t cap = count.packets < 256 ? count.packets : 256;
  std::vector<uint32_t> offsets(cap), lengths(cap), orig(cap), ifaces(cap);
  std::vector<uint16_t> links(cap);
  std::vector<int64_t> ts(cap);
  PacketIndexOut out;
  out.offsets = offsets.data();
  out.lengths = lengths.data();
  out.origLengths = orig.data();
  out.linkTypes = links.data();
  out.timestampsNs = ts.data();
  out.interfaces = ifaces.data();
  out.capacity = cap;
  CaptureScan scan = ScanCapture(data, size, out);
  CHECK(scan.packets == count.packets);
  CHECK(scan.error == count.error && scan.errorOffset == count.errorOffset);
  CHECK(scan.format == count.format);
  if (!scan.error.empty()) CHECK(scan.errorOffset <= size);
  for (size_t i = 0; i < cap; ++i) {
    CHECK(offsets[i] <= size && lengths[i] <= size - offsets[i]);
    Flow f = ParsePacket(data + offsets[i], lengths[i], links[i]);
    CHECK(f.status < kStatusCount);
  }
  return 0;
}
