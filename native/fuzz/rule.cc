// Fuzz target: policy routing rules (RTM_NEWRULE, fib_rule_hdr + FRA_*): rule::DecodeRule.
//
// lvskit-fuzz-requires: src/families/rule.cc
// Inputs and the property: decoder_harness.h.
#include "decoder_harness.h"
#include "families/rule.h"

using namespace lvskit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::FeedMessages(data, size, [](const uint8_t* msg, size_t len) {
    fuzz::ExpectDecodes<rule::Rule>(msg, len, rule::DecodeRule);
  });
}
