// Fuzz target: nexthop objects and resilient-group buckets (RTM_NEWNEXTHOP, RTM_NEWNEXTHOPBUCKET): nexthop::DecodeNextHop, nexthop::DecodeBucket.
//
// lvskit-fuzz-requires: src/families/nexthop.cc
// Inputs and the property: decoder_harness.h.
#include "decoder_harness.h"
#include "families/nexthop.h"

using namespace lvskit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::FeedMessages(data, size, [](const uint8_t* msg, size_t len) {
    fuzz::ExpectDecodes<nexthop::NextHop>(msg, len, nexthop::DecodeNextHop);
    fuzz::ExpectDecodes<nexthop::Bucket>(msg, len, nexthop::DecodeBucket);
  });
}
