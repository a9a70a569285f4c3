// Fuzz target: the netlink codec (native/src/codec/nlattr.{h,cc}).
//
// The input is one netlink datagram as the kernel would send it. Every message is walked with
// MessageIterator; its payload, after a family header whose size the message type picks (none,
// genlmsghdr, rtmsg, ifinfomsg), is parsed with Attrs; every getter is asked for every type, and
// every present attribute is also parsed as a nest, three levels deep. Properties checked beyond
// "no crash, no out-of-bounds read":
//  - MessageIterator never yields a message that does not lie inside the input;
//  - re-encoding the attributes forEach saw with MessageWriter and parsing the result gives the
//    same bytes for every type (Attrs keeps the last duplicate, as the kernel's nla_parse does);
//  - a getter either returns a value of the requested width or records an error, never both
//    silently wrong: u16 on a 2-byte attribute is ok, on any other length it sets the sticky error.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include "codec/nlattr.h"

using namespace lvskit;

namespace {

#include "fuzz_check.h"

volatile uint64_t sink;

void Exercise(const nl::Attrs& a, uint16_t maxType, int depth) {
  for (uint16_t t = 0; t <= maxType; ++t) {
    if (!a.has(t)) continue;
    size_t len = a.length(t);
    sink += a.u8(t) + a.u16(t) + a.u32(t) + a.s32(t) + a.u64(t) + a.be16(t) + a.be32(t) + a.uint(t);
    sink += a.str(t).size();
    std::string_view b = a.bytes(t);
    CHECK(b.size() == len);
    sink += a.bytes(t, 4).size() + a.bytes(t, 2, true).size();
    if (depth < 3) {
      nl::Attrs n = a.nested(t, static_cast<uint16_t>(maxType / 2 + 1), "nest");
      Exercise(n, static_cast<uint16_t>(maxType / 2 + 1), depth + 1);
      n.forEach([&](uint16_t, const uint8_t* d, size_t l) {
        nl::Attrs g(d, l, 8, "array item", n.errorSink());
        Exercise(g, 8, depth + 2);
      });
    }
  }
}

void RoundTrip(const uint8_t* p, size_t len, uint16_t maxType) {
  nl::Attrs a(p, len, maxType, "roundtrip");
  if (!a.ok()) return;
  std::map<uint16_t, std::string> last;
  size_t seen = 0;
  a.forEach([&](uint16_t t, const uint8_t* d, size_t l) {
    CHECK(d >= p && d + l <= p + len);
    if (t <= maxType) last[t] = std::string(reinterpret_cast<const char*>(d), l);
    ++seen;
  });
  for (uint16_t t = 0; t <= maxType; ++t) CHECK(a.has(t) == (last.count(t) == 1));
  nl::MessageWriter w;
  size_t m = w.begin(16, 0);
  a.forEach([&](uint16_t t, const uint8_t* d, size_t l) { w.putRaw(t, d, l); });
  w.end(m);
  CHECK(w.size() % 4 == 0);
  nl::MessageIterator it(w.data(), w.size());
  nl::MessageView v;
  CHECK(it.next(v));
  nl::Attrs b(v.payload, v.payloadLen, maxType, "re-encoded");
  CHECK(b.ok());
  for (const auto& kv : last) {
    CHECK(b.has(kv.first));
    std::string_view got = b.bytes(kv.first);
    CHECK(got == kv.second);
  }
  size_t seen2 = 0;
  b.forEach([&](uint16_t, const uint8_t*, size_t) { ++seen2; });
  CHECK(seen2 == seen);
}

void Getters(const nl::Attrs& a, uint16_t maxType) {
  for (uint16_t t = 0; t <= maxType; ++t) {
    if (!a.has(t)) continue;
    size_t len = a.length(t);
    // Copies of `a` share its sticky error; each check uses a private one.
    auto sinkp = std::make_shared<nl::DecodeError>();
    std::string_view raw = a.bytes(t);
    nl::MessageWriter w;
    size_t m = w.begin(16, 0);
    w.putRaw(t, raw.data(), raw.size());
    w.end(m);
    nl::Attrs s(w.data() + nl::kNlmsgHdrLen, w.size() - nl::kNlmsgHdrLen, maxType, "getter", sinkp);
    (void)s.u16(t);
    CHECK(sinkp->ok() == (len == 2));
    auto sink2 = std::make_shared<nl::DecodeError>();
    nl::Attrs s2(w.data() + nl::kNlmsgHdrLen, w.size() - nl::kNlmsgHdrLen, maxType, "getter", sink2);
    uint64_t v = s2.uint(t);
    CHECK(sink2->ok() == (len == 4 || len == 8));
    if (len == 4) {
      uint32_t x;
      std::memcpy(&x, raw.data(), 4);
      CHECK(v == x);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nl::MessageIterator it(data, size);
  nl::MessageView m;
  size_t messages = 0;
  while (it.next(m)) {
    const uint8_t* hdr = reinterpret_cast<const uint8_t*>(m.hdr);
    CHECK(hdr >= data && hdr + m.hdr->nlmsg_len <= data + size);
    CHECK(m.payload + m.payloadLen <= data + size);
    static const size_t kFamilyHeader[4] = {0, 4, 12, 16};  // none, genl, rtmsg, ifinfomsg
    size_t fh = kFamilyHeader[m.hdr->nlmsg_type & 3];
    if (m.payloadLen < fh) continue;
    const uint8_t* p = m.payload + fh;
    size_t len = m.payloadLen - fh;
    uint16_t maxType = static_cast<uint16_t>(1 + (m.hdr->nlmsg_flags & 0x3f));
    nl::Attrs a(p, len, maxType, "message");
    Exercise(a, maxType, 0);
    Getters(a, maxType);
    RoundTrip(p, len, maxType);
    if (++messages > 64) break;
  }
  return 0;
}
