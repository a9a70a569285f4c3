// Fuzz target: links (RTM_NEWLINK, ifinfomsg + IFLA_*, IFLA_LINKINFO nests, stats): link::Decode.
//
// lvskit-fuzz-requires: src/families/link.cc
// Inputs and the property: decoder_harness.h.
#include "decoder_harness.h"
#include "families/link.h"

using namespace lvskit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::FeedMessages(data, size, [](const uint8_t* msg, size_t len) {
    fuzz::ExpectDecodes<link::LinkInfo>(msg, len, link::Decode);
  });
}
