#include "families/ipvs.h"

#include <linux/netlink.h>

#include <cstring>
#include <initializer_list>

namespace lvskit::ipvs {

namespace {

constexpr size_t kGenlHdrLen = 4;  // struct genlmsghdr, GENL_HDRLEN

size_t Begin(nl::MessageWriter& w, uint16_t familyId, uint8_t cmd, bool dump) {
  uint16_t flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0);
  size_t m = w.begin(familyId, flags);
  w.putGenlHeader(cmd, kGenlVersion);
  return m;
}

// The identity attributes of a service, inside an already open IPVS_CMD_ATTR_SERVICE nest.
void PutServiceKey(nl::MessageWriter& w, const ServiceKey& k) {
  w.putU16(kSvcAf, k.af);
  if (k.fwmark != 0) {
    w.putU32(kSvcFwmark, k.fwmark);
  } else {
    w.putU16(kSvcProtocol, k.protocol);
    w.putRaw(kSvcAddr, k.addr, sizeof k.addr);  // union nf_inet_addr: 16 bytes
    w.putBe16(kSvcPort, k.port);                // network order (nla_get_be16)
  }
}

void PutServiceNest(nl::MessageWriter& w, const ServiceKey& k) {
  size_t n = w.nestBegin(kAttrService);
  PutServiceKey(w, k);
  w.nestEnd(n);
}

// Points `a` at the attributes after the genl header of one message; checks the command.
bool Open(const uint8_t* msg, size_t len, std::initializer_list<uint8_t> cmds, const char* what,
          nl::Attrs* a, std::string* error) {
  nlmsghdr h;
  if (len < nl::kNlmsgHdrLen + kGenlHdrLen) {
    *error = std::string(what) + ": message of " + std::to_string(len) + " bytes is too short";
    return false;
  }
  std::memcpy(&h, msg, sizeof h);
  if (h.nlmsg_len < nl::kNlmsgHdrLen + kGenlHdrLen || h.nlmsg_len > len) {
    *error = std::string(what) + ": nlmsg_len " + std::to_string(h.nlmsg_len) + " does not fit " +
             std::to_string(len) + " bytes";
    return false;
  }
  uint8_t cmd = msg[nl::kNlmsgHdrLen];
  bool known = false;
  for (uint8_t c : cmds) known = known || c == cmd;
  if (!known) {
    *error = std::string(what) + ": unexpected IPVS command " + std::to_string(cmd) + " in reply";
    return false;
  }
  const uint8_t* p = msg + nl::kNlmsgHdrLen + kGenlHdrLen;
  *a = nl::Attrs(p, h.nlmsg_len - nl::kNlmsgHdrLen - kGenlHdrLen, kAttrMax, what);
  return true;
}

// STATS64 when present (4.1+: every counter u64), else STATS (conns, packets and rates u32,
// bytes u64). Attrs::uint accepts either width per attribute.
bool ReadStats(const nl::Attrs& parent, uint16_t stats64Type, uint16_t statsType, Stats* s,
               uint32_t* seen) {
  uint16_t type;
  if (parent.has(stats64Type)) {
    type = stats64Type;
    *seen |= kSeenStats64;
  } else if (parent.has(statsType)) {
    type = statsType;
  } else {
    return false;
  }
  if (parent.has(statsType)) *seen |= kSeenStats;
  nl::Attrs st = parent.nested(type, kStatsMax, type == stats64Type ? "IPVS stats64" : "IPVS stats");
  s->conns = st.uint(kStatsConns);
  s->inPkts = st.uint(kStatsInPkts);
  s->outPkts = st.uint(kStatsOutPkts);
  s->inBytes = st.uint(kStatsInBytes);
  s->outBytes = st.uint(kStatsOutBytes);
  s->cps = st.uint(kStatsCps);
  s->inPps = st.uint(kStatsInPps);
  s->outPps = st.uint(kStatsOutPps);
  s->inBps = st.uint(kStatsInBps);
  s->outBps = st.uint(kStatsOutBps);
  return true;
}

// An address attribute: 16 bytes from the kernel (union nf_inet_addr); 4 accepted for IPv4.
void ReadAddr(const nl::Attrs& a, uint16_t type, uint8_t out[16]) {
  std::string_view b = a.bytes(type);
  std::memset(out, 0, 16);
  if (b.size() == 16 || b.size() == 4) {
    std::memcpy(out, b.data(), b.size());
  } else if (a.has(type)) {
    a.fail("address attribute " + std::to_string(type) + " is " + std::to_string(b.size()) +
           " bytes, expected 16 (or 4)");
  }
}

}  // namespace

void EncodeService(nl::MessageWriter& w, uint16_t familyId, uint8_t cmd, const ServiceConfig& c) {
  size_t m = Begin(w, familyId, cmd, false);
  size_t n = w.nestBegin(kAttrService);
  PutServiceKey(w, c.key);
  w.putString(kSvcSchedName, c.scheduler);
  if (!c.pe.empty()) w.putString(kSvcPeName, c.pe);
  // struct ip_vs_flags { __u32 flags; __u32 mask; }, host order.
  uint32_t flags[2] = {c.flags, c.flagsMask};
  w.putRaw(kSvcFlags, flags, sizeof flags);
  w.putU32(kSvcTimeout, c.timeout);
  if (c.key.af == kAfInet6)
    w.putU32(kSvcNetmask, c.netmask);  // prefix length, host order: (__force __u32) in the kernel
  else
    w.putBe32(kSvcNetmask, c.netmask);  // IPv4 mask, network order
  w.nestEnd(n);
  w.end(m);
}

void EncodeServiceKey(nl::MessageWriter& w, uint16_t familyId, uint8_t cmd, const ServiceKey& k,
                      bool dump) {
  size_t m = Begin(w, familyId, cmd, dump);
  PutServiceNest(w, k);
  w.end(m);
}

void EncodeDest(nl::MessageWriter& w, uint16_t familyId, uint8_t cmd, const ServiceKey& svc,
                const DestConfig& d, bool full) {
  size_t m = Begin(w, familyId, cmd, false);
  PutServiceNest(w, svc);
  size_t n = w.nestBegin(kAttrDest);
  w.putRaw(kDestAddr, d.key.addr, sizeof d.key.addr);
  w.putBe16(kDestPort, d.key.port);  // network order
  if (d.key.af != 0) w.putU16(kDestAddrFamily, d.key.af);
  if (full) {
    w.putU32(kDestFwdMethod, d.fwdMethod);
    w.putU32(kDestWeight, static_cast<uint32_t>(d.weight));  // read as u32 into an int
    w.putU32(kDestUThresh, d.upperThreshold);
    w.putU32(kDestLThresh, d.lowerThreshold);
    if (d.tunType >= 0) {
      w.putU8(kDestTunType, static_cast<uint8_t>(d.tunType));
      w.putBe16(kDestTunPort, d.tunPort);  // network order (nla_get_be16)
    }
    if (d.tunFlags >= 0) w.putU16(kDestTunFlags, static_cast<uint16_t>(d.tunFlags));
  }
  w.nestEnd(n);
  w.end(m);
}

void EncodeDaemon(nl::MessageWriter& w, uint16_t familyId, uint8_t cmd, const DaemonConfig& d,
                  bool full) {
  size_t m = Begin(w, familyId, cmd, false);
  size_t n = w.nestBegin(kAttrDaemon);
  w.putU32(kDaemonState, d.state);
  if (full) {
    w.putString(kDaemonMcastIfn, d.ifname);
    w.putU32(kDaemonSyncId, d.syncId);
    if (d.maxLen) w.putU16(kDaemonSyncMaxLen, d.maxLen);
    if (d.groupAf == kAfInet) {
      w.putRaw(kDaemonMcastGroup, d.group, 4);  // in_addr, network order as stored
    } else if (d.groupAf == kAfInet6) {
      w.putRaw(kDaemonMcastGroup6, d.group, 16);
    }
    if (d.port) w.putU16(kDaemonMcastPort, d.port);  // HOST order (nla_get_u16)
    if (d.ttl) w.putU8(kDaemonMcastTtl, d.ttl);
  }
  w.nestEnd(n);
  w.end(m);
}

void EncodeTimeouts(nl::MessageWriter& w, uint16_t familyId, uint32_t tcp, uint32_t tcpFin,
                    uint32_t udp) {
  size_t m = Begin(w, familyId, kCmdSetConfig, false);
  if (tcp) w.putU32(kAttrTimeoutTcp, tcp);
  if (tcpFin) w.putU32(kAttrTimeoutTcpFin, tcpFin);
  if (udp) w.putU32(kAttrTimeoutUdp, udp);
  w.end(m);
}

void EncodeBare(nl::MessageWriter& w, uint16_t familyId, uint8_t cmd, bool dump) {
  size_t m = Begin(w, familyId, cmd, dump);
  w.end(m);
}

bool DecodeService(const uint8_t* msg, size_t len, ServiceInfo* out, std::string* error) {
  nl::Attrs top;
  if (!Open(msg, len, {kCmdNewService}, "IPVS service reply", &top, error)) return false;
  if (!top.has(kAttrService)) {
    *error = "IPVS service reply: no IPVS_CMD_ATTR_SERVICE";
    return false;
  }
  nl::Attrs s = top.nested(kAttrService, kSvcMax, "IPVS_CMD_ATTR_SERVICE");
  ServiceInfo& o = *out;
  o.key.af = s.u16(kSvcAf);
  o.key.fwmark = s.u32(kSvcFwmark);
  o.key.protocol = s.u16(kSvcProtocol);
  ReadAddr(s, kSvcAddr, o.key.addr);
  o.key.port = s.be16(kSvcPort);
  o.scheduler = s.str(kSvcSchedName);
  o.pe = s.str(kSvcPeName);
  std::string_view f = s.bytes(kSvcFlags, 8, true);
  if (f.size() >= 4) std::memcpy(&o.flags, f.data(), 4);
  o.timeout = s.u32(kSvcTimeout);
  // Written with nla_put_be32 from the raw __be32: an IPv4 mask in network order, or an IPv6
  // prefix length that was stored in host order (see ipvs.h).
  o.netmask = o.key.af == kAfInet6 ? s.u32(kSvcNetmask) : s.be32(kSvcNetmask);
  o.hasStats = ReadStats(s, kSvcStats64, kSvcStats, &o.stats, &o.seen);
  if (!s.ok()) {
    *error = s.error();
    return false;
  }
  return true;
}

bool DecodeDest(const uint8_t* msg, size_t len, uint16_t serviceAf, DestInfo* out, std::string* error) {
  nl::Attrs top;
  if (!Open(msg, len, {kCmdNewDest}, "IPVS destination reply", &top, error)) return false;
  if (!top.has(kAttrDest)) {
    *error = "IPVS destination reply: no IPVS_CMD_ATTR_DEST";
    return false;
  }
  nl::Attrs d = top.nested(kAttrDest, kDestMax, "IPVS_CMD_ATTR_DEST");
  DestInfo& o = *out;
  ReadAddr(d, kDestAddr, o.key.addr);
  o.key.port = d.be16(kDestPort);
  if (d.has(kDestAddrFamily)) {
    o.key.af = d.u16(kDestAddrFamily);
    o.seen |= kSeenAddrFamily;
  } else {
    o.key.af = serviceAf;
  }
  o.fwdMethod = d.u32(kDestFwdMethod) & 7;  // IP_VS_CONN_F_FWD_MASK
  o.weight = d.s32(kDestWeight);
  o.upperThreshold = d.u32(kDestUThresh);
  o.lowerThreshold = d.u32(kDestLThresh);
  o.activeConns = d.u32(kDestActiveConns);
  o.inactConns = d.u32(kDestInactConns);
  o.persistConns = d.u32(kDestPersistConns);
  if (d.has(kDestTunType)) {
    o.tunType = d.u8(kDestTunType);
    o.seen |= kSeenTunType;
  }
  if (d.has(kDestTunPort)) {
    o.tunPort = d.be16(kDestTunPort);
    o.seen |= kSeenTunPort;
  }
  if (d.has(kDestTunFlags)) {
    o.tunFlags = d.u16(kDestTunFlags);
    o.seen |= kSeenTunFlags;
  }
  o.hasStats = ReadStats(d, kDestStats64, kDestStats, &o.stats, &o.seen);
  if (!d.ok()) {
    *error = d.error();
    return false;
  }
  return true;
}

bool DecodeDaemon(const uint8_t* msg, size_t len, DaemonInfo* out, std::string* error) {
  nl::Attrs top;
  if (!Open(msg, len, {kCmdNewDaemon}, "IPVS daemon reply", &top, error)) return false;
  if (!top.has(kAttrDaemon)) {
    *error = "IPVS daemon reply: no IPVS_CMD_ATTR_DAEMON";
    return false;
  }
  nl::Attrs d = top.nested(kAttrDaemon, kDaemonMax, "IPVS_CMD_ATTR_DAEMON");
  DaemonConfig& c = out->cfg;
  c.state = d.u32(kDaemonState);
  c.ifname = d.str(kDaemonMcastIfn);
  c.syncId = d.u32(kDaemonSyncId);
  c.maxLen = d.u16(kDaemonSyncMaxLen);
  if (d.has(kDaemonMcastGroup6)) {
    std::string_view g = d.bytes(kDaemonMcastGroup6, 16);
    if (g.size() == 16) {
      c.groupAf = kAfInet6;
      std::memcpy(c.group, g.data(), 16);
    }
  } else if (d.has(kDaemonMcastGroup)) {
    std::string_view g = d.bytes(kDaemonMcastGroup, 4);
    if (g.size() == 4) {
      c.groupAf = kAfInet;
      std::memcpy(c.group, g.data(), 4);
    }
  }
  c.port = d.u16(kDaemonMcastPort);  // host order
  c.ttl = d.u8(kDaemonMcastTtl);
  if (!d.ok()) {
    *error = d.error();
    return false;
  }
  return true;
}

bool DecodeConfig(const uint8_t* msg, size_t len, ConfigInfo* out, std::string* error) {
  nl::Attrs a;
  if (!Open(msg, len, {kCmdSetConfig}, "IPVS config reply", &a, error)) return false;
  out->tcp = a.u32(kAttrTimeoutTcp);
  out->tcpFin = a.u32(kAttrTimeoutTcpFin);
  out->udp = a.u32(kAttrTimeoutUdp);
  if (!a.ok()) {
    *error = a.error();
    return false;
  }
  return true;
}

bool DecodeInfo(const uint8_t* msg, size_t len, InfoReply* out, std::string* error) {
  nl::Attrs top;
  if (!Open(msg, len, {kCmdSetInfo}, "IPVS info reply", &top, error)) return false;
  // The info reply reuses top-level numbering: IPVS_INFO_ATTR_VERSION = 1, CONN_TAB_SIZE = 2.
  out->version = top.u32(kInfoVersion);
  out->connTabSize = top.u32(kInfoConnTabSize);
  if (!top.ok()) {
    *error = top.error();
    return false;
  }
  return true;
}

}  // namespace lvskit::ipvs
