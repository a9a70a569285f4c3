// IPVS over generic netlink: pure encoders and decoders. No I/O, no N-API.
//
// Wire format: include/uapi/linux/ip_vs.h; semantics: net/netfilter/ipvs/ip_vs_ctl.c
// (ip_vs_genl_parse_service, ip_vs_genl_parse_dest, ip_vs_genl_fill_service,
// ip_vs_genl_fill_dest, ip_vs_genl_new_daemon, ip_vs_genl_fill_daemon, ip_vs_genl_get_cmd).
// Every request is nlmsghdr + genlmsghdr {cmd, version 1} + attributes; IPVS has no family
// header. The attribute numbers are spelled out here (not taken from the build machine's
// <linux/ip_vs.h>, which may predate TUN_*), and they are kernel ABI: they never change.
//
// Byte orders, each checked against ip_vs_ctl.c:
//  - service and destination ports, the tunnel port: network order (nla_get_be16 / nla_put_be16);
//  - service NETMASK: read with nla_get_be32 into a __be32 and stored as is. For IPv4 it is the
//    mask in network order (255.255.255.0 = bytes ff ff ff 00). For IPv6 ip_vs_add_service and
//    ip_vs_edit_service read the same raw __be32 with a (__force __u32) cast as the prefix length
//    1..128: the wire holds the prefix length in HOST order (bytes 40 00 00 00 for /64 on x86);
//  - sync daemon MCAST_PORT: host order (nla_get_u16 in ip_vs_genl_new_daemon, nla_put_u16 in
//    ip_vs_genl_fill_daemon; ip_vs_sync.c defaults it to IP_VS_SYNC_PORT 8848 and applies htons
//    itself when it builds the socket address);
//  - sync daemon MCAST_GROUP: network order (nla_get_in_addr); MCAST_GROUP6: 16 raw bytes;
//  - everything else: host order (u8/u16/u32/u64).
// Addresses are 16 bytes (union nf_inet_addr); an IPv4 address is the first 4, the rest zero.
#pragma once
#include <cstdint>
#include <string>

#include "codec/nlattr.h"

namespace lvskit::ipvs {

// Commands (enum IPVS_CMD_*).
enum Cmd : uint8_t {
  kCmdNewService = 1,
  kCmdSetService = 2,
  kCmdDelService = 3,
  kCmdGetService = 4,
  kCmdNewDest = 5,
  kCmdSetDest = 6,
  kCmdDelDest = 7,
  kCmdGetDest = 8,
  kCmdNewDaemon = 9,
  kCmdDelDaemon = 10,
  kCmdGetDaemon = 11,
  kCmdSetConfig = 12,
  kCmdGetConfig = 13,
  kCmdSetInfo = 14,
  kCmdGetInfo = 15,
  kCmdZero = 16,
  kCmdFlush = 17,
};
constexpr uint8_t kGenlVersion = 1;  // IPVS_GENL_VERSION

// Top level (IPVS_CMD_ATTR_*).
enum : uint16_t {
  kAttrService = 1,
  kAttrDest = 2,
  kAttrDaemon = 3,
  kAttrTimeoutTcp = 4,
  kAttrTimeoutTcpFin = 5,
  kAttrTimeoutUdp = 6,
  kAttrMax = 6,
};
// Service (IPVS_SVC_ATTR_*).
enum : uint16_t {
  kSvcAf = 1,
  kSvcProtocol = 2,
  kSvcAddr = 3,
  kSvcPort = 4,
  kSvcFwmark = 5,
  kSvcSchedName = 6,
  kSvcFlags = 7,
  kSvcTimeout = 8,
  kSvcNetmask = 9,
  kSvcStats = 10,
  kSvcPeName = 11,
  kSvcStats64 = 12,
  kSvcMax = 12,
};
// Destination (IPVS_DEST_ATTR_*).
enum : uint16_t {
  kDestAddr = 1,
  kDestPort = 2,
  kDestFwdMethod = 3,
  kDestWeight = 4,
  kDestUThresh = 5,
  kDestLThresh = 6,
  kDestActiveConns = 7,
  kDestInactConns = 8,
  kDestPersistConns = 9,
  kDestStats = 10,
  kDestAddrFamily = 11,
  kDestStats64 = 12,
  kDestTunType = 13,
  kDestTunPort = 14,
  kDestTunFlags = 15,
  kDestMax = 15,
};
// Sync daemon (IPVS_DAEMON_ATTR_*).
enum : uint16_t {
  kDaemonState = 1,
  kDaemonMcastIfn = 2,
  kDaemonSyncId = 3,
  kDaemonSyncMaxLen = 4,
  kDaemonMcastGroup = 5,
  kDaemonMcastGroup6 = 6,
  kDaemonMcastPort = 7,
  kDaemonMcastTtl = 8,
  kDaemonMax = 8,
};
// Stats (IPVS_STATS_ATTR_*); 11 is PAD.
enum : uint16_t {
  kStatsConns = 1,
  kStatsInPkts = 2,
  kStatsOutPkts = 3,
  kStatsInBytes = 4,
  kStatsOutBytes = 5,
  kStatsCps = 6,
  kStatsInPps = 7,
  kStatsOutPps = 8,
  kStatsInBps = 9,
  kStatsOutBps = 10,
  kStatsMax = 11,
};
// Info (IPVS_INFO_ATTR_*).
enum : uint16_t { kInfoVersion = 1, kInfoConnTabSize = 2, kInfoMax = 2 };

constexpr uint16_t kAfInet = 2;    // AF_INET
constexpr uint16_t kAfInet6 = 10;  // AF_INET6

// Identifies a service: AF + FWMARK, or AF + PROTOCOL + ADDR + PORT (ip_vs_genl_parse_service).
struct ServiceKey {
  uint16_t af = kAfInet;
  uint32_t fwmark = 0;     // non-zero: a firewall-mark service; protocol/addr/port are not sent
  uint16_t protocol = 0;   // IPPROTO_TCP 6, UDP 17, SCTP 132
  uint8_t addr[16] = {};   // IPv4 in the first 4 bytes
  uint16_t port = 0;       // host value; sent big-endian
};

// Everything NEW_SERVICE / SET_SERVICE need (the kernel refuses either without SCHED_NAME,
// FLAGS, TIMEOUT and NETMASK: EINVAL).
struct ServiceConfig {
  ServiceKey key;
  std::string scheduler;     // "rr", ..., or "none"; <= 15 bytes
  std::string pe;            // persistence engine, "" = none (an edit without it drops the PE)
  uint32_t flags = 0;        // IP_VS_SVC_F_*
  uint32_t flagsMask = ~0u;  // new = (old & ~mask) | (flags & mask)
  uint32_t timeout = 0;      // persistence timeout, seconds
  // IPv4: the mask as a host value (0xffffff00 for /24), sent big-endian.
  // IPv6: the prefix length 1..128, sent in host order (see the header comment).
  uint32_t netmask = 0xffffffffu;
};

struct DestKey {
  uint16_t af = 0;          // 0 = the service's family (the kernel fills it in); else sent as ADDR_FAMILY
  uint8_t addr[16] = {};
  uint16_t port = 0;        // host value; sent big-endian
};

// Everything NEW_DEST / SET_DEST need (FWD_METHOD, WEIGHT, U_THRESH, L_THRESH are mandatory).
struct DestConfig {
  DestKey key;
  uint32_t fwdMethod = 3;   // IP_VS_CONN_F_*: 0 masq, 1 local, 2 tunnel, 3 route (DR), 4 bypass
  int32_t weight = 1;       // the kernel refuses < 0 with ERANGE
  uint32_t upperThreshold = 0;
  uint32_t lowerThreshold = 0;  // > upper: ERANGE
  int16_t tunType = -1;     // -1 = do not send; 0 ipip, 1 gue (5.2+), 2 gre (5.3+)
  uint16_t tunPort = 0;     // host value; sent big-endian; only sent when tunType >= 0
  int32_t tunFlags = -1;    // -1 = do not send; bit0 csum, bit1 remote csum (5.3+)
};

struct DaemonConfig {
  uint32_t state = 1;          // 1 master, 2 backup
  std::string ifname;          // MCAST_IFN, <= 15 bytes
  uint32_t syncId = 0;
  // Optional (4.3+): 0 / empty = not sent, and the kernel applies its defaults.
  uint16_t maxLen = 0;
  uint16_t groupAf = 0;        // 0 none, AF_INET (group in the first 4 bytes), AF_INET6
  uint8_t group[16] = {};
  uint16_t port = 0;           // host order on the wire
  uint8_t ttl = 0;
};

// ---- encoders: each appends one complete request message to `w` ----------------------------

// NEW_SERVICE (flags NLM_F_REQUEST) or SET_SERVICE with the full configuration.
void EncodeService(nl::MessageWriter& w, uint16_t familyId, uint8_t cmd, const ServiceConfig& c);
// A command that takes only the service's identity: DEL_SERVICE, GET_SERVICE (one), ZERO (one
// service), and GET_DEST with dump = true (dumps that service's destinations).
void EncodeServiceKey(nl::MessageWriter& w, uint16_t familyId, uint8_t cmd, const ServiceKey& k,
                      bool dump);
// NEW_DEST / SET_DEST (full) or DEL_DEST (only the destination's identity).
void EncodeDest(nl::MessageWriter& w, uint16_t familyId, uint8_t cmd, const ServiceKey& svc,
                const DestConfig& d, bool full);
// NEW_DAEMON (full) or DEL_DAEMON (state only).
void EncodeDaemon(nl::MessageWriter& w, uint16_t familyId, uint8_t cmd, const DaemonConfig& d,
                  bool full);
// SET_CONFIG: timeouts in seconds; 0 = leave unchanged (not sent).
void EncodeTimeouts(nl::MessageWriter& w, uint16_t familyId, uint32_t tcp, uint32_t tcpFin,
                    uint32_t udp);
// A command without attributes: GET_SERVICE / GET_DAEMON dumps (dump = true), GET_CONFIG,
// GET_INFO, ZERO (all), FLUSH.
void EncodeBare(nl::MessageWriter& w, uint16_t familyId, uint8_t cmd, bool dump);

// ---- decoders: one reply message (nlmsghdr included) each ----------------------------------

struct Stats {
  uint64_t conns = 0, inPkts = 0, outPkts = 0, inBytes = 0, outBytes = 0;
  uint64_t cps = 0, inPps = 0, outPps = 0, inBps = 0, outBps = 0;
};

// Which optional attributes a reply carried: evidence of what the running kernel knows.
enum Seen : uint32_t {
  kSeenStats64 = 1u << 0,
  kSeenAddrFamily = 1u << 1,
  kSeenTunType = 1u << 2,
  kSeenTunPort = 1u << 3,
  kSeenTunFlags = 1u << 4,
  kSeenStats = 1u << 5,
};

struct ServiceInfo {
  ServiceKey key;
  std::string scheduler;
  std::string pe;
  uint32_t flags = 0;
  uint32_t timeout = 0;
  uint32_t netmask = 0;  // as ServiceConfig::netmask: IPv4 host-value mask, IPv6 prefix length
  bool hasStats = false;
  Stats stats;
  uint32_t seen = 0;
};

struct DestInfo {
  DestKey key;           // af is always set (ADDR_FAMILY, or the caller's service family)
  uint32_t fwdMethod = 0;
  int32_t weight = 0;
  uint32_t upperThreshold = 0, lowerThreshold = 0;
  uint32_t activeConns = 0, inactConns = 0, persistConns = 0;
  uint8_t tunType = 0;
  uint16_t tunPort = 0;
  uint16_t tunFlags = 0;
  bool hasStats = false;
  Stats stats;
  uint32_t seen = 0;
};

struct DaemonInfo {
  DaemonConfig cfg;
};

struct ConfigInfo {
  uint32_t tcp = 0, tcpFin = 0, udp = 0;
};

struct InfoReply {
  uint32_t version = 0;
  uint32_t connTabSize = 0;
};

// Each returns false with `error` set when the message is malformed or is not the expected
// reply (wrong command, missing nest); `msg`/`len` cover one whole netlink message.
bool DecodeService(const uint8_t* msg, size_t len, ServiceInfo* out, std::string* error);
// `serviceAf` is used when the kernel predates IPVS_DEST_ATTR_ADDR_FAMILY (3.18).
bool DecodeDest(const uint8_t* msg, size_t len, uint16_t serviceAf, DestInfo* out, std::string* error);
bool DecodeDaemon(const uint8_t* msg, size_t len, DaemonInfo* out, std::string* error);
bool DecodeConfig(const uint8_t* msg, size_t len, ConfigInfo* out, std::string* error);
bool DecodeInfo(const uint8_t* msg, size_t len, InfoReply* out, std::string* error);

}  // namespace lvskit::ipvs
