// rtnetlink nexthop objects and groups (RTM_NEWNEXTHOP / RTM_DELNEXTHOP / RTM_GETNEXTHOP and
// RTM_GETNEXTHOPBUCKET): pure encoders and decoders.
//
// Mirrors include/uapi/linux/nexthop.h (struct nhmsg, struct nexthop_grp, NHA_*, NHA_RES_GROUP_*,
// NHA_RES_BUCKET_*) and net/ipv4/nexthop.c (nh_check_attr_group, rtm_to_nh_config,
// nla_put_nh_group). No I/O, no N-API.
//
// Wire facts encoded here, once:
//  - A group entry's weight w is carried as w - 1: the low byte in nexthop_grp.weight and, since
//    the 16-bit weights (Linux 6.12), the high byte in nexthop_grp.weight_high (formerly resvd1,
//    which older kernels require to be 0: they refuse weights above 256 instead of truncating).
//    Dumps from kernels that fill weight_high say so with NHA_OP_FLAG_RESP_GRP_RESVD_0 in
//    NHA_OP_FLAGS; without that flag only the low byte is trusted.
//  - Resilient-group timers are clock_t (USER_HZ = 100 per second): u32 on the way in, the
//    bucket idle time and group unbalanced time u64 on the way out.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "codec/nlattr.h"
#include "families/route.h"

namespace lvskit::nexthop {

using route::Addr;

struct GroupEntry {
  uint32_t id = 0;
  uint32_t weight = 1;  // 1..65535 (1..256 before Linux 6.12)
};

struct NextHop {
  uint8_t family = 0;  // AF_INET / AF_INET6 for single nexthops; AF_UNSPEC for groups/blackhole
  uint8_t scope = 0;
  uint8_t protocol = 0;
  uint32_t flags = 0;  // RTNH_F_* (ONLINK on the way in)
  uint32_t id = 0;     // 0 on add = let the kernel choose
  Addr gateway;
  uint32_t oif = 0;
  bool blackhole = false;
  bool fdb = false;
  std::vector<GroupEntry> group;
  uint16_t groupType = 0;  // NEXTHOP_GRP_TYPE_MPATH 0, NEXTHOP_GRP_TYPE_RES 1
  // Resilient groups (NHA_RES_GROUP):
  bool hasRes = false;
  uint16_t buckets = 0;
  bool hasIdleTimer = false;
  uint32_t idleTimer = 0;  // clock_t
  bool hasUnbalancedTimer = false;
  uint32_t unbalancedTimer = 0;  // clock_t
  uint64_t unbalancedTime = 0;   // clock_t, decoded only
};

struct Bucket {
  uint32_t groupId = 0;
  uint16_t index = 0;
  uint64_t idleTime = 0;  // clock_t
  uint32_t nhId = 0;
};

// RTM_NEWNEXTHOP with `nlFlags` (NLM_F_CREATE|EXCL, or NLM_F_REPLACE).
void EncodeNextHop(nl::MessageWriter& w, uint16_t nlFlags, const NextHop& nh);
// RTM_DELNEXTHOP or RTM_GETNEXTHOP (one object) by id.
void EncodeById(nl::MessageWriter& w, uint16_t msgType, uint32_t id);
// RTM_GETNEXTHOP dump; groupsOnly adds NHA_GROUPS, oif > 0 adds NHA_OIF.
void EncodeDump(nl::MessageWriter& w, uint8_t family, bool groupsOnly, uint32_t oif);
// RTM_GETNEXTHOPBUCKET dump of one resilient group's buckets (NHA_ID = groupId).
void EncodeBucketDump(nl::MessageWriter& w, uint32_t groupId);

bool DecodeNextHop(const uint8_t* msg, size_t len, NextHop* out, std::string* err);
bool DecodeBucket(const uint8_t* msg, size_t len, Bucket* out, std::string* err);

}  // namespace lvskit::nexthop
