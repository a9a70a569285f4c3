// pcap and pcapng readers over an in-memory buffer: they index packets (offset of the captured
// bytes, captured and original length, link type, timestamp in ns) and copy nothing.
//
// pcap (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-03.html): magic 0xa1b2c3d4
// (microseconds) or 0xa1b23c4d (nanoseconds), in either byte order; 24-byte file header whose
// LinkType field carries the link type in its low 16 bits (FCS flags above); 16-byte records.
//
// pcapng (draft-ietf-opsawg-pcapng): a sequence of sections, each starting with a Section
// Header Block (0x0a0d0d0a) whose byte-order magic 0x1a2b3c4d fixes the byte order of that
// section. Interface Description Blocks (1) give each interface's link type, snap length and
// if_tsresol (option 9); Enhanced Packet Blocks (6) and Simple Packet Blocks (3) carry packets;
// every other block type is skipped. Interface numbers restart with each section.
//
// Errors stop the scan at the offending block; the packets before it stay indexed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace lvskit::packet {

enum class CaptureFormat : uint8_t { kUnknown = 0, kPcap = 1, kPcapng = 2 };

// Caller-owned per-packet outputs, `capacity` entries each; any may be null (not wanted).
struct PacketIndexOut {
  uint32_t* offsets = nullptr;
  uint32_t* lengths = nullptr;      // captured
  uint32_t* origLengths = nullptr;  // on the wire
  uint16_t* linkTypes = nullptr;
  int64_t* timestampsNs = nullptr;  // since the epoch, ns (pcapng: per if_tsresol / if_tsoffset)
  uint32_t* interfaces = nullptr;   // pcapng interface number (global: counted over sections); pcap 0
  size_t capacity = 0;
};

struct CaptureScan {
  CaptureFormat format = CaptureFormat::kUnknown;
  bool bigEndian = false;    // of the file header / first section
  bool nanoseconds = false;  // pcap: nanosecond magic
  size_t packets = 0;        // packets found (all of them, even past capacity)
  size_t interfaces = 0;     // pcapng IDBs (pcap: 1)
  size_t skippedBlocks = 0;  // pcapng blocks of other types
  size_t sections = 0;
  // Empty when the whole buffer was read. Otherwise what stopped the scan, with the byte offset.
  std::string error;
  size_t errorOffset = 0;
};

// Scans the buffer; writes the first out.capacity packets into out (out may have capacity 0 to
// count only). Never reads outside [buf, buf + len).
CaptureScan ScanCapture(const uint8_t* buf, size_t len, const PacketIndexOut& out);

}  // namespace lvskit::packet
