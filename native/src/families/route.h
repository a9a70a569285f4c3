// rtnetlink routes (RTM_NEWROUTE / RTM_DELROUTE / RTM_GETROUTE): pure encoders and decoders.
//
// Mirrors include/uapi/linux/rtnetlink.h (struct rtmsg, struct rtnexthop, RTA_*) and the parsing
// in net/ipv4/fib_frontend.c (rtm_to_fib_config, inet_rtm_getroute) and net/ipv6/route.c
// (rtm_to_fib6_config, inet6_rtm_getroute). No I/O, no N-API.
//
// Wire facts encoded here, once:
//  - Table ids above 255 travel in RTA_TABLE (u32) with rtm_table = RT_TABLE_COMPAT (252); this
//    encoder always sends RTA_TABLE and decoders prefer it over rtm_table.
//  - A multipath nexthop's weight w (1..256) is carried as rtnh_hops = w - 1.
//  - A gateway of the other family than the route (IPv4 route via an IPv6 gateway) is RTA_VIA
//    (struct rtvia: u16 family + address), not RTA_GATEWAY.
//  - RTA_SPORT / RTA_DPORT of a route query are big-endian; RTA_IP_PROTO is a u8; RTA_UID and
//    RTA_MARK are host-order u32.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "codec/nlattr.h"

namespace lvskit::route {

// An address of a known family (AF_INET: 4 bytes used, AF_INET6: 16), or none (family 0).
struct Addr {
  uint8_t family = 0;
  uint8_t bytes[16] = {};
  bool present() const { return family != 0; }
  size_t size() const;
  // Sets from raw bytes: 4 -> AF_INET, 16 -> AF_INET6, 0 -> none. False for any other length.
  bool assign(const void* data, size_t len);
};

struct Hop {
  Addr gateway;
  uint32_t oif = 0;
  uint32_t weight = 1;  // 1..256 (wire: rtnh_hops = weight - 1)
  uint8_t flags = 0;    // RTNH_F_* (ONLINK on the way in; DEAD/LINKDOWN/... on the way out)
};

struct Route {
  uint8_t family = 0;  // AF_INET / AF_INET6
  uint8_t dstLen = 0;
  uint8_t srcLen = 0;
  uint8_t tos = 0;
  uint32_t table = 0;  // RT_TABLE_MAIN = 254; 0 = unspecified
  uint8_t protocol = 0;
  uint8_t scope = 0;
  uint8_t type = 0;
  uint32_t flags = 0;  // rtm_flags: RTNH_F_ONLINK / RTM_F_* bits
  Addr dst, src, prefsrc, gateway;
  uint32_t oif = 0;
  uint32_t iif = 0;
  bool hasPriority = false;
  uint32_t priority = 0;
  uint32_t nhId = 0;  // RTA_NH_ID: the route points at a nexthop object or group
  std::vector<Hop> multipath;
  // Decoded only (route query answers and dumps):
  bool hasMark = false;
  uint32_t mark = 0;
  bool hasUid = false;
  uint32_t uid = 0;
  bool hasPref = false;
  uint8_t pref = 0;        // RTA_PREF (IPv6 router preference)
  uint32_t expires = 0;    // RTA_EXPIRES (IPv6, seconds); 0 = none
  uint32_t mtu = 0;        // RTAX_MTU from RTA_METRICS; 0 = none
};

// A route query: RTM_GETROUTE without NLM_F_DUMP ("ip route get").
struct Query {
  uint8_t family = 0;
  Addr dst, src;
  uint32_t iif = 0;  // ifindex: input-path lookup as if the packet arrived there
  uint32_t oif = 0;
  bool hasMark = false;
  uint32_t mark = 0;
  bool hasUid = false;
  uint32_t uid = 0;
  uint8_t ipProto = 0;  // 0 = absent
  bool hasSport = false;
  uint16_t sport = 0;
  bool hasDport = false;
  uint16_t dport = 0;
  uint8_t tos = 0;
  bool fibMatch = false;  // RTM_F_FIB_MATCH: answer with the matching FIB entry, not the chosen path
  uint32_t table = 0;     // 0 = policy routing decides (RTA_TABLE otherwise)
};

// Appends one RTM_NEWROUTE / RTM_DELROUTE request. `nlFlags` are NLM_F_CREATE/EXCL/REPLACE/APPEND.
void EncodeRoute(nl::MessageWriter& w, uint16_t msgType, uint16_t nlFlags, const Route& r);
// Appends an RTM_GETROUTE dump of one family (AF_INET, AF_INET6, or AF_UNSPEC).
void EncodeRouteDump(nl::MessageWriter& w, uint8_t family);
// Appends an RTM_GETROUTE query.
void EncodeQuery(nl::MessageWriter& w, const Query& q);

// Decodes one whole RTM_NEWROUTE / RTM_DELROUTE message (nlmsghdr included). False with `err` set
// on malformed input; never reads outside [msg, msg + len).
bool DecodeRoute(const uint8_t* msg, size_t len, Route* out, std::string* err);

}  // namespace lvskit::route
