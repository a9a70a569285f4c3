// Fuzz target: nf_tables messages (nfgenmsg + NFTA_*: tables, chains, rules with their nested
// expression lists, sets, set elements): every nft::Decode* on every message.
//
// lvskit-fuzz-requires: src/families/nft.cc
// Inputs and the property: decoder_harness.h.
#include "decoder_harness.h"
#include "families/nft.h"

using namespace lvskit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::FeedMessages(data, size, [](const uint8_t* msg, size_t len) {
    fuzz::ExpectDecodes<nft::Table>(msg, len, nft::DecodeTable);
    fuzz::ExpectDecodes<nft::Chain>(msg, len, nft::DecodeChain);
    fuzz::ExpectDecodes<nft::Rule>(msg, len, nft::DecodeRule);
    fuzz::ExpectDecodes<nft::Set>(msg, len, nft::DecodeSet);
    fuzz::ExpectDecodes<nft::SetElems>(msg, len, nft::DecodeSetElems);
    fuzz::ExpectDecodes<uint64_t>(msg, len, nft::DecodeRuleHandle);
  });
}
