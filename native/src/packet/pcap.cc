// See pcap.h. Every read is checked against the buffer length first.
#include "packet/pcap.h"

#include <vector>

namespace lvskit::packet {
namespace {

struct Bytes {
  const uint8_t* p;
  size_t len;
  bool big;
  bool Has(size_t off, size_t n) const { return off <= len && n <= len - off; }
  uint16_t U16(size_t off) const {
    return big ? uint16_t((p[off] << 8) | p[off + 1]) : uint16_t(p[off] | (p[off + 1] << 8));
  }
  uint32_t U32(size_t off) const {
    const uint32_t b0 = p[off], b1 = p[off + 1], b2 = p[off + 2], b3 = p[off + 3];
    return big ? (b0 << 24) | (b1 << 16) | (b2 << 8) | b3 : b0 | (b1 << 8) | (b2 << 16) | (b3 << 24);
  }
};

void Emit(const PacketIndexOut& out, size_t k, size_t off, uint32_t caplen, uint32_t origlen,
          uint16_t linkType, int64_t tsNs, uint32_t iface) {
  if (k >= out.capacity) return;
  if (out.offsets) out.offsets[k] = uint32_t(off);
  if (out.lengths) out.lengths[k] = caplen;
  if (out.origLengths) out.origLengths[k] = origlen;
  if (out.linkTypes) out.linkTypes[k] = linkType;
  if (out.timestampsNs) out.timestampsNs[k] = tsNs;
  if (out.interfaces) out.interfaces[k] = iface;
}

void Fail(CaptureScan* s, size_t off, std::string msg) {
  s->error = std::move(msg);
  s->errorOffset = off;
}

CaptureScan ScanPcap(const Bytes& b, bool nano, const PacketIndexOut& out) {
  CaptureScan s;
  s.format = CaptureFormat::kPcap;
  s.bigEndian = b.big;
  s.nanoseconds = nano;
  s.interfaces = 1;
  if (!b.Has(0, 24)) {
    Fail(&s, 0, "pcap file header truncated: " + std::to_string(b.len) + " of 24 bytes");
    return s;
  }
  // LinkType field: link type in the low 16 bits; FCS length / flag bits above are ignored.
  const uint16_t linkType = uint16_t(b.U32(20) & 0xffff);
  size_t off = 24;
  while (off < b.len) {
    if (!b.Has(off, 16)) {
      Fail(&s, off, "pcap record header truncated at byte " + std::to_string(off) + ": " +
                        std::to_string(b.len - off) + " of 16 bytes");
      return s;
    }
    const uint32_t sec = b.U32(off), frac = b.U32(off + 4), incl = b.U32(off + 8),
                   orig = b.U32(off + 12);
    if (!b.Has(off + 16, incl)) {
      Fail(&s, off, "pcap record at byte " + std::to_string(off) + " claims " +
                        std::to_string(incl) + " captured bytes; only " +
                        std::to_string(b.len - off - 16) + " remain");
      return s;
    }
    const int64_t ts = int64_t(sec) * 1000000000 + int64_t(frac) * (nano ? 1 : 1000);
    Emit(out, s.packets, off + 16, incl, orig, linkType, ts, 0);
    s.packets++;
    off += 16 + size_t(incl);
  }
  return s;
}

struct Iface {
  uint16_t linkType;
  uint32_t snaplen;
  uint8_t tsresol;   // if_tsresol byte (default 6: microseconds)
  int64_t tsoffset;  // if_tsoffset, seconds
  uint32_t global;   // interface number counted over all sections
};

// Timestamp units -> ns, per if_tsresol: MSB clear = 10^-v s, set = 2^-(v & 0x7f) s.
int64_t ToNs(uint64_t ts, uint8_t resol) {
  const unsigned v = resol & 0x7f;
  if (resol & 0x80) {
    if (v >= 64) return 0;
    return int64_t((static_cast<unsigned __int128>(ts) * 1000000000u) >> v);
  }
  if (v <= 9) {
    uint64_t mul = 1;
    for (unsigned i = v; i < 9; i++) mul *= 10;
    return int64_t(ts * mul);
  }
  uint64_t div = 1;
  for (unsigned i = 9; i < v && i < 28; i++) {
    if (div > UINT64_MAX / 10) return 0;
    div *= 10;
  }
  return int64_t(ts / div);
}

constexpr uint32_t kShb = 0x0a0d0d0a, kIdb = 1, kSpb = 3, kEpb = 6;

CaptureScan ScanPcapng(const uint8_t* p, size_t len, const PacketIndexOut& out) {
  CaptureScan s;
  s.format = CaptureFormat::kPcapng;
  std::vector<Iface> ifaces;  // of the current section
  Bytes b{p, len, false};
  size_t off = 0;
  while (off < len) {
    if (!b.Has(off, 12)) {
      Fail(&s, off, "pcapng block header truncated at byte " + std::to_string(off));
      return s;
    }
    const uint32_t rawType = Bytes{p, len, false}.U32(off);  // SHB's type reads the same either way
    if (rawType == kShb) {
      const uint8_t* m = p + off + 8;
      if (m[0] == 0x1a && m[1] == 0x2b && m[2] == 0x3c && m[3] == 0x4d) b.big = true;
      else if (m[0] == 0x4d && m[1] == 0x3c && m[2] == 0x2b && m[3] == 0x1a) b.big = false;
      else {
        Fail(&s, off, "pcapng section header at byte " + std::to_string(off) + " has no valid byte-order magic");
        return s;
      }
      if (s.sections == 0) s.bigEndian = b.big;
      s.sections++;
      ifaces.clear();
    } else if (s.sections == 0) {
      Fail(&s, off, "pcapng file does not start with a section header block");
      return s;
    }
    const uint32_t type = b.U32(off);
    const uint32_t blen = b.U32(off + 4);
    if (blen < 12 || blen % 4 != 0 || !b.Has(off, blen)) {
      Fail(&s, off, "pcapng block at byte " + std::to_string(off) + " (type " + std::to_string(type) +
                        ") has bad length " + std::to_string(blen) +
                        (blen >= 12 && blen % 4 == 0 ? " (past the end of the buffer)" : ""));
      return s;
    }
    if (b.U32(off + blen - 4) != blen) {
      Fail(&s, off, "pcapng block at byte " + std::to_string(off) + ": trailing length " +
                        std::to_string(b.U32(off + blen - 4)) + " != " + std::to_string(blen));
      return s;
    }
    const size_t body = off + 8;
    const size_t bodyLen = blen - 12;
    switch (type) {
      case kShb:
        if (bodyLen < 16) {
          Fail(&s, off, "pcapng section header at byte " + std::to_string(off) + " is too short");
          return s;
        }
        break;
      case kIdb: {
        if (bodyLen < 8) {
          Fail(&s, off, "pcapng interface description at byte " + std::to_string(off) + " is too short");
          return s;
        }
        Iface f{b.U16(body), b.U32(body + 4), 6, 0, uint32_t(s.interfaces)};
        // Options: code u16, length u16, value padded to 4; code 0 ends them.
        size_t o = body + 8;
        const size_t end = body + bodyLen;
        while (o + 4 <= end) {
          const uint16_t code = b.U16(o), olen = b.U16(o + 2);
          if (code == 0) break;
          const size_t padded = (size_t(olen) + 3) & ~size_t(3);
          if (padded > end - o - 4) {
            Fail(&s, o, "pcapng interface option at byte " + std::to_string(o) + " overruns its block");
            return s;
          }
          if (code == 9 && olen >= 1) f.tsresol = p[o + 4];
          if (code == 14 && olen >= 8) {
            const uint64_t hi = b.U32(o + 4), lo = b.U32(o + 8);
            f.tsoffset = int64_t(b.big ? (hi << 32) | lo : (lo << 32) | hi);
          }
          o += 4 + padded;
        }
        ifaces.push_back(f);
        s.interfaces++;
        break;
      }
      case kEpb: {
        if (bodyLen < 20) {
          Fail(&s, off, "pcapng enhanced packet block at byte " + std::to_string(off) + " is too short");
          return s;
        }
        const uint32_t ifid = b.U32(body), hi = b.U32(body + 4), lo = b.U32(body + 8),
                       cap = b.U32(body + 12), orig = b.U32(body + 16);
        if (ifid >= ifaces.size()) {
          Fail(&s, off, "pcapng packet at byte " + std::to_string(off) + " names interface " +
                            std::to_string(ifid) + "; the section has " + std::to_string(ifaces.size()));
          return s;
        }
        if (cap > bodyLen - 20) {
          Fail(&s, off, "pcapng packet at byte " + std::to_string(off) + " claims " + std::to_string(cap) +
                            " captured bytes; its block holds " + std::to_string(bodyLen - 20));
          return s;
        }
        const Iface& f = ifaces[ifid];
        const int64_t ts = ToNs((uint64_t(hi) << 32) | lo, f.tsresol) + f.tsoffset * 1000000000;
        Emit(out, s.packets, body + 20, cap, orig, f.linkType, ts, f.global);
        s.packets++;
        break;
      }
      case kSpb: {
        if (bodyLen < 4 || ifaces.empty()) {
          Fail(&s, off, "pcapng simple packet block at byte " + std::to_string(off) +
                            (ifaces.empty() ? " before any interface" : " is too short"));
          return s;
        }
        const uint32_t orig = b.U32(body);
        const Iface& f = ifaces[0];
        uint32_t cap = orig;
        if (f.snaplen != 0 && cap > f.snaplen) cap = f.snaplen;
        if (cap > bodyLen - 4) cap = uint32_t(bodyLen - 4);
        Emit(out, s.packets, body + 4, cap, orig, f.linkType, 0, f.global);
        s.packets++;
        break;
      }
      default:
        s.skippedBlocks++;
        break;
    }
    off += blen;
  }
  return s;
}

}  // namespace

CaptureScan ScanCapture(const uint8_t* buf, size_t len, const PacketIndexOut& out) {
  if (len < 4) {
    CaptureScan s;
    Fail(&s, 0, "not a capture: " + std::to_string(len) + " bytes");
    return s;
  }
  const uint32_t le = uint32_t(buf[0]) | (uint32_t(buf[1]) << 8) | (uint32_t(buf[2]) << 16) |
                      (uint32_t(buf[3]) << 24);
  switch (le) {
    case 0xa1b2c3d4: return ScanPcap(Bytes{buf, len, false}, false, out);
    case 0xd4c3b2a1: return ScanPcap(Bytes{buf, len, true}, false, out);
    case 0xa1b23c4d: return ScanPcap(Bytes{buf, len, false}, true, out);
    case 0x4d3cb2a1: return ScanPcap(Bytes{buf, len, true}, true, out);
    case kShb: return ScanPcapng(buf, len, out);
    default: {
      CaptureScan s;
      Fail(&s, 0, "not a pcap or pcapng file (magic 0x" + [le] {
        const char* hex = "0123456789abcdef";
        std::string h;
        for (int i = 28; i >= 0; i -= 4) h += hex[(le >> i) & 15];
        return h;
      }() + ")");
      return s;
    }
  }
}

}  // namespace lvskit::packet
