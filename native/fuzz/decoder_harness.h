// What every decoder fuzz target (addr, link, route, rule, nexthop, ipvs) shares.
//
// The decoders take one whole netlink message (nlmsghdr included) and its length, as the binding
// hands them each reply of a dump. Two shapes are fed: the whole input as one message, exactly
// as long as the buffer libFuzzer allocated (so a decoder that trusts nlmsg_len over `len` reads
// out of bounds and ASan stops it), and every message the codec's MessageIterator finds in the
// input taken as a datagram (a dump's multipart answer), each handed with its own nlmsg_len.
// Property: a decoder either succeeds, or fails with a message; it never fails silently.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "codec/nlattr.h"

namespace lvskit::fuzz {

// Runs decode(msg, len, &value, &err) into a fresh T and checks the property.
template <class T, class Decode>
void ExpectDecodes(const uint8_t* msg, size_t len, Decode&& decode) {
  T value;
  std::string err;
  if (!decode(msg, len, &value, &err) && err.empty()) {
    std::fprintf(stderr, "property failed: decoder returned false without an error message\n");
    std::abort();
  }
}

// Feeds the input whole, then each message found in it (at most 64), to decodeOne(msg, len).
template <class DecodeOne>
int FeedMessages(const uint8_t* data, size_t size, DecodeOne&& decodeOne) {
  decodeOne(data, size);
  nl::MessageIterator it(data, size);
  nl::MessageView m;
  int n = 0;
  while (it.next(m) && n++ < 64) decodeOne(reinterpret_cast<const uint8_t*>(m.hdr), m.hdr->nlmsg_len);
  return 0;
}

}  // namespace lvskit::fuzz
