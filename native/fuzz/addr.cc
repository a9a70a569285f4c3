// Fuzz target: addresses (RTM_NEWADDR, ifaddrmsg + IFA_*, cacheinfo): addr::Decode.
//
// lvskit-fuzz-requires: src/families/addr.cc
// Inputs and the property: decoder_harness.h.
#include "decoder_harness.h"
#include "families/addr.h"

using namespace lvskit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::FeedMessages(data, size, [](const uint8_t* msg, size_t len) {
    fuzz::ExpectDecodes<addr::AddrInfo>(msg, len, addr::Decode);
  });
}
