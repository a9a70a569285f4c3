// rtnetlink addresses (RTM_NEWADDR / RTM_DELADDR / RTM_GETADDR): pure encoders and a decoder.
// No I/O, no N-API. Layouts: include/uapi/linux/if_addr.h (struct ifaddrmsg, IFA_*, IFA_F_*,
// struct ifa_cacheinfo). Semantics mirror net/ipv4/devinet.c (inet_rtm_newaddr, inet_rtm_deladdr,
// inet_fill_ifaddr) and net/ipv6/addrconf.c (inet6_rtm_newaddr, inet6_rtm_deladdr,
// inet6_fill_ifaddr).
//
// Addresses are raw network-order bytes (4 or 16); every integer attribute is host order.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "codec/nlattr.h"

namespace lvskit::addr {

enum class Op { Add, Replace, Delete };

struct AddrRequest {
  Op op = Op::Add;
  uint8_t family = 0;  // AF_INET / AF_INET6
  uint8_t prefixLength = 0;
  uint32_t flags = 0;  // IFA_F_*: the low 8 bits also go in ifa_flags, all of them in IFA_FLAGS
  uint8_t scope = 0;   // RT_SCOPE_*
  uint32_t index = 0;  // ifindex
  std::string local;   // IFA_LOCAL (the interface's own address)
  std::optional<std::string> peer;       // IFA_ADDRESS when point-to-point, else = local
  std::optional<std::string> broadcast;  // IFA_BROADCAST (IPv4)
  std::optional<std::string> label;      // IFA_LABEL (IPv4)
  // IFA_CACHEINFO ifa_valid / ifa_prefered in seconds; 0xffffffff = forever.
  std::optional<uint32_t> validLifetime;
  std::optional<uint32_t> preferredLifetime;
  std::optional<uint32_t> metric;  // IFA_RT_PRIORITY: metric of the prefix route
  std::optional<uint8_t> proto;    // IFA_PROTO
};

void Encode(nl::MessageWriter& w, const AddrRequest& r);

// RTM_GETADDR dump for `family` (AF_UNSPEC = both). `index` is advisory: without strict checking
// the kernel ignores it, so callers also filter.
void EncodeDump(nl::MessageWriter& w, uint8_t family, uint32_t index);

struct AddrInfo {
  uint16_t msgType = 0;  // RTM_NEWADDR or RTM_DELADDR
  uint8_t family = 0;
  uint8_t prefixLength = 0;
  uint32_t flags = 0;  // IFA_FLAGS when present (it carries bits above 0xff), else ifa_flags
  uint8_t scope = 0;
  uint32_t index = 0;
  std::optional<std::string> local;
  std::optional<std::string> address;
  std::optional<std::string> broadcast;
  std::optional<std::string> anycast;
  std::optional<std::string> label;
  std::optional<uint32_t> preferredLifetime, validLifetime;  // seconds left; 0xffffffff forever
  std::optional<uint32_t> createdCs, updatedCs;              // cstamp/tstamp, hundredths of s
  std::optional<uint32_t> metric;
  std::optional<uint8_t> proto;
};

bool Decode(const uint8_t* msg, size_t len, AddrInfo* out, std::string* err);

}  // namespace lvskit::addr
