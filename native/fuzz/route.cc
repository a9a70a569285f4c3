// Fuzz target: route netlink routes (RTM_NEWROUTE/RTM_DELROUTE): route::DecodeRoute.
//
// lvskit-fuzz-requires: src/families/route.cc
//
// The decoders take one whole netlink message (nlmsghdr included) and its length, as the binding
// hands them each reply of a dump. Two shapes are fed: the whole input as one message, exactly
// as long as the buffer libFuzzer allocated (so a decoder that trusts nlmsg_len over `len` reads
// out of bounds and ASan stops it), and every message the codec's MessageIterator finds in the
// input taken as a datagram (a dump's multipart answer), each handed with its own nlmsg_len.
// Property: a decoder either succeeds, or fails with a message; it never fails silently.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "codec/nlattr.h"
#include "families/route.h"

using namespace lvskit;

namespace {

void Expect(bool ok, const std::string& err) {
  if (!ok && err.empty()) {
    std::fprintf(stderr, "property failed: decoder returned false without an error message\n");
    std::abort();
  }
}

void DecodeOne(const uint8_t* msg, size_t len) {
  {
    route::Route r;
    std::string err;
    Expect(route::DecodeRoute(msg, len, &r, &err), err);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  DecodeOne(data, size);
  nl::MessageIterator it(data, size);
  nl::MessageView m;
  int n = 0;
  while (it.next(m) && n++ < 64) DecodeOne(reinterpret_cast<const uint8_t*>(m.hdr), m.hdr->nlmsg_len);
  return 0;
}
