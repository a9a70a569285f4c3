// rtnetlink policy routing rules (RTM_NEWRULE / RTM_DELRULE / RTM_GETRULE): pure encoders and
// decoders.
//
// Mirrors include/uapi/linux/fib_rules.h (struct fib_rule_hdr, FRA_*, FR_ACT_*) and
// net/core/fib_rules.c (fib_nl2rule, fib_nl_fill_rule), net/ipv4/fib_rules.c and
// net/ipv6/fib6_rules.c. No I/O, no N-API.
//
// Wire facts encoded here, once:
//  - Tables above 255 travel in FRA_TABLE (u32) with fib_rule_hdr.table = RT_TABLE_COMPAT (252)
//    when they do not fit; this encoder always sends FRA_TABLE for a lookup action.
//  - Port ranges (fib_rule_port_range) and the uid range are host-order u16/u32 pairs.
//  - FRA_DSCP (Linux 6.12+) is the 6-bit DSCP; fib_rule_hdr.tos carries the whole TOS byte. A
//    kernel that fills FRA_DSCP reports tos 0.
//  - suppress_prefixlength and suppress_ifgroup are "unset" at -1; fib_nl_fill_rule reports them
//    only when set, and the decoder also treats an explicit -1 as unset.
#pragma once
#include <cstdint>
#include <string>

#include "codec/nlattr.h"
#include "families/route.h"

namespace lvskit::rule {

using route::Addr;

struct Rule {
  uint8_t family = 0;
  uint8_t dstLen = 0;
  uint8_t srcLen = 0;
  uint8_t tos = 0;
  uint8_t action = 0;  // FR_ACT_*
  uint32_t flags = 0;  // FIB_RULE_INVERT, ...
  uint32_t table = 0;
  Addr dst, src;
  std::string iifname, oifname;
  bool hasPriority = false;
  uint32_t priority = 0;
  bool hasGoto = false;
  uint32_t gotoTarget = 0;
  bool hasMark = false;
  uint32_t mark = 0;
  bool hasMask = false;
  uint32_t mask = 0;
  bool hasSuppressPrefixlen = false;
  int32_t suppressPrefixlen = -1;
  bool hasSuppressIfgroup = false;
  int32_t suppressIfgroup = -1;
  bool l3mdev = false;
  bool hasUidRange = false;
  uint32_t uidStart = 0, uidEnd = 0;
  bool hasProtocol = false;
  uint8_t protocol = 0;
  uint8_t ipProto = 0;  // 0 = any
  bool hasSport = false;
  uint16_t sportStart = 0, sportEnd = 0;
  bool hasDport = false;
  uint16_t dportStart = 0, dportEnd = 0;
  bool hasDscp = false;
  uint8_t dscp = 0;
  bool hasFlow = false;  // FRA_FLOW realm (decoded only)
  uint32_t flow = 0;
};

// RTM_NEWRULE / RTM_DELRULE with `nlFlags` (NLM_F_CREATE|NLM_F_EXCL on add).
void EncodeRule(nl::MessageWriter& w, uint16_t msgType, uint16_t nlFlags, const Rule& r);
// RTM_GETRULE dump of one family (AF_INET, AF_INET6).
void EncodeRuleDump(nl::MessageWriter& w, uint8_t family);
bool DecodeRule(const uint8_t* msg, size_t len, Rule* out, std::string* err);

}  // namespace lvskit::rule
