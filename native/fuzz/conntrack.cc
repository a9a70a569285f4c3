// Fuzz target: conntrack entries (IPCTNL_MSG_CT_NEW: nfgenmsg + CTA_* tuples, protoinfo,
// counters): conntrack::DecodeEntry.
//
// lvskit-fuzz-requires: src/families/conntrack.cc
// Inputs and the property: decoder_harness.h.
#include "decoder_harness.h"
#include "families/conntrack.h"

using namespace lvskit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::FeedMessages(data, size, [](const uint8_t* msg, size_t len) {
    fuzz::ExpectDecodes<conntrack::Entry>(msg, len, conntrack::DecodeEntry);
  });
}
