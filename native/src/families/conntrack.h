// Connection tracking over nfnetlink (NFNL_SUBSYS_CTNETLINK): pure encoders and decoders of
// conntrack entries. No I/O, no N-API.
//
// Mirrors include/uapi/linux/netfilter/nfnetlink_conntrack.h (IPCTNL_MSG_CT_*, CTA_*),
// nf_conntrack_tcp.h (enum tcp_conntrack), nf_conntrack_common.h (IPS_* status bits) and
// net/netfilter/nf_conntrack_netlink.c (ctnetlink_fill_info, ctnetlink_del_conntrack).
//
// Wire facts encoded here, once:
//  - nlmsghdr + nfgenmsg { nfgen_family = AF_INET/AF_INET6 (AF_UNSPEC dumps both), NFNETLINK_V0,
//    res_id 0 }; type (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_*.
//  - Addresses are raw network-order bytes (CTA_IP_V4_* 4, CTA_IP_V6_* 16); ports and ICMP ids
//    big-endian u16; CTA_STATUS, CTA_TIMEOUT (seconds), CTA_MARK, CTA_ID, CTA_USE big-endian u32;
//    CTA_ZONE big-endian u16; counters big-endian u64; CTA_PROTOINFO_TCP_STATE a u8.
//  - A delete names the entry by its original tuple (and zone); CTA_ID, when given, must match
//    too, so a new connection that reused the tuple meanwhile is not deleted.
#pragma once
#include <cstdint>
#include <string>

#include "codec/nlattr.h"

namespace lvskit::conntrack {

constexpr uint16_t kSubsysCtnetlink = 1;  // NFNL_SUBSYS_CTNETLINK
constexpr uint16_t MsgType(uint8_t ctMsg) { return static_cast<uint16_t>((kSubsysCtnetlink << 8) | ctMsg); }

struct Tuple {
  uint8_t family = 0;  // AF_INET / AF_INET6
  uint8_t src[16] = {}, dst[16] = {};
  uint8_t proto = 0;
  uint16_t sport = 0, dport = 0;  // host order
  bool hasIcmp = false;
  uint16_t icmpId = 0;
  uint8_t icmpType = 0, icmpCode = 0;
};

struct Entry {
  uint8_t family = 0;
  Tuple orig, reply;
  uint32_t status = 0;   // IPS_* bits
  uint32_t timeout = 0;  // seconds left
  uint32_t mark = 0;
  bool hasId = false;
  uint32_t id = 0;
  uint32_t use = 0;
  uint16_t zone = 0;
  bool hasTcpState = false;
  uint8_t tcpState = 0;  // enum tcp_conntrack
  bool hasCounters = false;
  uint64_t origPackets = 0, origBytes = 0, replyPackets = 0, replyBytes = 0;
};

// IPCTNL_MSG_CT_GET with NLM_F_DUMP of `family` (0 = every family).
void EncodeDump(nl::MessageWriter& w, uint8_t family);
// IPCTNL_MSG_CT_DELETE of the entry with this original tuple (and id when hasId).
void EncodeDelete(nl::MessageWriter& w, const Tuple& orig, uint16_t zone, bool hasId, uint32_t id);
// One IPCTNL_MSG_CT_NEW message of a dump. False with *err set on malformed input.
bool DecodeEntry(const uint8_t* msg, size_t len, Entry* out, std::string* err);

}  // namespace lvskit::conntrack
