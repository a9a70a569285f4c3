// Fuzz target: route netlink routes (RTM_NEWROUTE/RTM_DELROUTE): route::DecodeRoute.
//
// lvskit-fuzz-requires: src/families/route.cc
// Inputs and the property: decoder_harness.h.
#include "decoder_harness.h"
#include "families/route.h"

using namespace lvskit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::FeedMessages(data, size, [](const uint8_t* msg, size_t len) {
    fuzz::ExpectDecodes<route::Route>(msg, len, route::DecodeRoute);
  });
}
