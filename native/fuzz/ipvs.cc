// Fuzz target: IPVS generic netlink replies (service, destination, daemon, timeouts, info): every ipvs::Decode*.
//
// lvskit-fuzz-requires: src/families/ipvs.cc
// Inputs and the property: decoder_harness.h.
#include "decoder_harness.h"
#include "families/ipvs.h"

using namespace lvskit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::FeedMessages(data, size, [](const uint8_t* msg, size_t len) {
    fuzz::ExpectDecodes<ipvs::ServiceInfo>(msg, len, ipvs::DecodeService);
    for (uint16_t af : {uint16_t(2), uint16_t(10), uint16_t(0)})  // the dest decoder takes the service's family
      fuzz::ExpectDecodes<ipvs::DestInfo>(msg, len, [af](const uint8_t* p, size_t l, ipvs::DestInfo* d, std::string* e) {
        return ipvs::DecodeDest(p, l, af, d, e);
      });
    fuzz::ExpectDecodes<ipvs::DaemonInfo>(msg, len, ipvs::DecodeDaemon);
    fuzz::ExpectDecodes<ipvs::ConfigInfo>(msg, len, ipvs::DecodeConfig);
    fuzz::ExpectDecodes<ipvs::InfoReply>(msg, len, ipvs::DecodeInfo);
  });
}
