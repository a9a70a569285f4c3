// N-API glue for native/src/families/ipvs: positional, already validated values in (the
// TypeScript layer, lib/ipvs/validate.ts, checks them with messages naming field and value);
// plain JS objects out, 64-bit counters as BigInt. Argument checks here only keep a direct call
// with wrong types from crashing: they throw TypeError/RangeError naming the function and argument.
#include <arpa/inet.h>
#include <napi.h>

#include <cstring>
#include <string>
#include <vector>

#include "binding/addon.h"
#include "binding/batch.h"
#include "binding/napi_arrays.h"
#include "families/ipvs.h"

namespace lvskit {
namespace {

namespace v = lvskit::ipvs;

uint16_t U16Arg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  uint32_t x = U32Arg(info, i, fn, name);
  if (x > 0xffff)
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": " + name + " must be in 0..65535, got " +
                                                std::to_string(x));
  return static_cast<uint16_t>(x);
}

int64_t RangeArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, int64_t lo,
                 int64_t hi) {
  int64_t x = I64Arg(info, i, fn, name);
  if (x < lo || x > hi)
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": " + name + " must be in " + std::to_string(lo) +
                                                ".." + std::to_string(hi) + ", got " + std::to_string(x));
  return x;
}

uint8_t CmdArg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  uint32_t c = U32Arg(info, i, fn, "cmd");
  if (c < v::kCmdNewService || c > v::kCmdFlush)
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": cmd must be an IPVS_CMD_* (1..17), got " +
                                                std::to_string(c));
  return static_cast<uint8_t>(c);
}

// A 4- or 16-byte address Buffer into a zero-padded 16-byte array.
void AddrArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, uint8_t out[16]) {
  std::string_view b = BytesArg(info, i, fn, name);
  if (b.size() != 4 && b.size() != 16)
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": " + name + " must be 4 or 16 bytes, got " +
                                                std::to_string(b.size()));
  std::memset(out, 0, 16);
  std::memcpy(out, b.data(), b.size());
}

uint16_t AfArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, bool allowZero) {
  uint32_t af = U32Arg(info, i, fn, name);
  if (af != v::kAfInet && af != v::kAfInet6 && !(allowZero && af == 0))
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": " + name + " must be AF_INET (2) or AF_INET6 (10)" +
                                                (allowZero ? " or 0" : "") + ", got " + std::to_string(af));
  return static_cast<uint16_t>(af);
}

// (af, protocol, addr, port, fwmark) starting at argument i.
v::ServiceKey ServiceKeyArgs(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  v::ServiceKey k;
  k.af = AfArg(info, i, fn, "af", false);
  k.protocol = U16Arg(info, i + 1, fn, "protocol");
  AddrArg(info, i + 2, fn, "address", k.addr);
  k.port = U16Arg(info, i + 3, fn, "port");
  k.fwmark = U32Arg(info, i + 4, fn, "fwmark");
  return k;
}

std::string NameArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, size_t max) {
  std::string s = StrArg(info, i, fn, name);
  if (s.size() > max || s.find('\0') != std::string::npos)
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": " + name + " must be at most " +
                                                std::to_string(max) + " bytes without NUL");
  return s;
}

// ipvsEncodeService(batch, familyId, cmd, af, protocol, addr, port, fwmark, scheduler, pe,
//                   flags, flagsMask, timeout, netmask)
Napi::Value EncodeService(const Napi::CallbackInfo& info) {
  const char* fn = "ipvsEncodeService";
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  uint16_t fam = U16Arg(info, 1, fn, "familyId");
  uint8_t cmd = CmdArg(info, 2, fn);
  v::ServiceConfig c;
  c.key = ServiceKeyArgs(info, 3, fn);
  c.scheduler = NameArg(info, 8, fn, "scheduler", 15);  // IP_VS_SCHEDNAME_MAXLEN - 1
  c.pe = NameArg(info, 9, fn, "pe", 15);
  c.flags = U32Arg(info, 10, fn, "flags");
  c.flagsMask = U32Arg(info, 11, fn, "flagsMask");
  c.timeout = U32Arg(info, 12, fn, "timeout");
  c.netmask = U32Arg(info, 13, fn, "netmask");
  v::EncodeService(w, fam, cmd, c);
  return info.Env().Undefined();
}

// ipvsEncodeServiceKey(batch, familyId, cmd, af, protocol, addr, port, fwmark, dump)
Napi::Value EncodeServiceKey(const Napi::CallbackInfo& info) {
  const char* fn = "ipvsEncodeServiceKey";
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  uint16_t fam = U16Arg(info, 1, fn, "familyId");
  uint8_t cmd = CmdArg(info, 2, fn);
  v::ServiceKey k = ServiceKeyArgs(info, 3, fn);
  bool dump = BoolArg(info, 8, fn, "dump");
  v::EncodeServiceKey(w, fam, cmd, k, dump);
  return info.Env().Undefined();
}

// ipvsEncodeDest(batch, familyId, cmd, af, protocol, addr, port, fwmark,
//                destAf, destAddr, destPort, full, fwd, weight, upper, lower,
//                tunType (-1 none), tunPort, tunFlags (-1 none))
Napi::Value EncodeDest(const Napi::CallbackInfo& info) {
  const char* fn = "ipvsEncodeDest";
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  uint16_t fam = U16Arg(info, 1, fn, "familyId");
  uint8_t cmd = CmdArg(info, 2, fn);
  v::ServiceKey k = ServiceKeyArgs(info, 3, fn);
  v::DestConfig d;
  d.key.af = AfArg(info, 8, fn, "destAf", true);
  AddrArg(info, 9, fn, "destAddress", d.key.addr);
  d.key.port = U16Arg(info, 10, fn, "destPort");
  bool full = BoolArg(info, 11, fn, "full");
  if (full) {
    d.fwdMethod = static_cast<uint32_t>(RangeArg(info, 12, fn, "forward", 0, 7));
    d.weight = static_cast<int32_t>(RangeArg(info, 13, fn, "weight", INT32_MIN, INT32_MAX));
    d.upperThreshold = U32Arg(info, 14, fn, "upperThreshold");
    d.lowerThreshold = U32Arg(info, 15, fn, "lowerThreshold");
    d.tunType = static_cast<int16_t>(RangeArg(info, 16, fn, "tunnelType", -1, 255));
    d.tunPort = U16Arg(info, 17, fn, "tunnelPort");
    d.tunFlags = static_cast<int32_t>(RangeArg(info, 18, fn, "tunnelFlags", -1, 0xffff));
  }
  v::EncodeDest(w, fam, cmd, k, d, full);
  return info.Env().Undefined();
}

// ipvsEncodeMany(batch, familyId, rows, start, count, schedulers): rows [start, start + count) of
// kIpvsRowStride u32, each one NEW_SERVICE or NEW_DEST of the common shape that lib/ipvs/client.ts
// has already validated (IPv4 service with protocol, address and port; no persistence, no PE,
// no flags; IPv4 destination of the same family, no tunnel). One N-API call for a whole run of
// items: the per-item encoders' ~19 positional arguments cost more than the encoding. Row:
//   [kind (0 service, 1 destination), protocol, vaddr, vport,
//    service:     scheduler (index into `schedulers`), flags, flagsMask, timeout, netmask, 0
//    destination: daddr, dport, forward, weight, upperThreshold, lowerThreshold]
// Addresses as network-order bytes b0 | b1 << 8 | b2 << 16 | b3 << 24.
constexpr uint32_t kIpvsRowStride = 10;

void Ipv4FromWord(uint32_t v, uint8_t out[16]) {
  std::memset(out, 0, 16);
  out[0] = static_cast<uint8_t>(v);
  out[1] = static_cast<uint8_t>(v >> 8);
  out[2] = static_cast<uint8_t>(v >> 16);
  out[3] = static_cast<uint8_t>(v >> 24);
}

Napi::Value EncodeMany(const Napi::CallbackInfo& info) {
  const char* fn = "ipvsEncodeMany";
  Napi::Env env = info.Env();
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  uint16_t fam = U16Arg(info, 1, fn, "familyId");
  Napi::Uint32Array rows = arrays::TypedArrayArg<uint32_t>(info, 2, fn, "rows");
  uint32_t start = U32Arg(info, 3, fn, "start");
  uint32_t count = U32Arg(info, 4, fn, "count");
  if ((static_cast<uint64_t>(start) + count) * kIpvsRowStride > rows.ElementLength())
    throw Napi::RangeError::New(env, std::string(fn) + ": rows " + std::to_string(start) + "+" + std::to_string(count) +
                                         " exceed the " + std::to_string(rows.ElementLength() / kIpvsRowStride) + " rows");
  if (info.Length() <= 5 || !info[5].IsArray()) throw Napi::TypeError::New(env, std::string(fn) + ": schedulers must be an array of strings");
  Napi::Array names = info[5].As<Napi::Array>();
  std::vector<std::string> scheds(names.Length());
  for (uint32_t i = 0; i < names.Length(); ++i) {
    Napi::Value n = names.Get(i);
    if (!n.IsString()) throw Napi::TypeError::New(env, std::string(fn) + ": schedulers must be an array of strings");
    scheds[i] = n.As<Napi::String>().Utf8Value();
    if (scheds[i].size() > 15) throw Napi::RangeError::New(env, std::string(fn) + ": scheduler names are at most 15 bytes");
  }
  const uint32_t* row = rows.Data() + static_cast<size_t>(start) * kIpvsRowStride;
  for (uint32_t i = 0; i < count; ++i, row += kIpvsRowStride) {
    if (row[1] > 0xffff || row[3] > 0xffff)
      throw Napi::RangeError::New(env, std::string(fn) + ": row " + std::to_string(start + i) + " has protocol or port > 65535");
    v::ServiceKey k;
    k.af = v::kAfInet;
    k.protocol = static_cast<uint16_t>(row[1]);
    Ipv4FromWord(row[2], k.addr);
    k.port = static_cast<uint16_t>(row[3]);
    k.fwmark = 0;
    if (row[0] == 0) {
      if (row[4] >= scheds.size())
        throw Napi::RangeError::New(env, std::string(fn) + ": row " + std::to_string(start + i) + " has no such scheduler index");
      v::ServiceConfig c;
      c.key = k;
      c.scheduler = scheds[row[4]];
      c.flags = row[5];
      c.flagsMask = row[6];
      c.timeout = row[7];
      c.netmask = row[8];
      v::EncodeService(w, fam, v::kCmdNewService, c);
    } else if (row[0] == 1) {
      if (row[5] > 0xffff || row[6] > 7 || row[7] > 0x7fffffffu)
        throw Napi::RangeError::New(env, std::string(fn) + ": row " + std::to_string(start + i) + " has port, forward or weight out of range");
      v::DestConfig d;
      d.key.af = 0;  // the service's family
      Ipv4FromWord(row[4], d.key.addr);
      d.key.port = static_cast<uint16_t>(row[5]);
      d.fwdMethod = row[6];
      d.weight = static_cast<int32_t>(row[7]);
      d.upperThreshold = row[8];
      d.lowerThreshold = row[9];
      d.tunType = -1;
      d.tunPort = 0;
      d.tunFlags = -1;
      v::EncodeDest(w, fam, v::kCmdNewDest, k, d, true);
    } else {
      throw Napi::RangeError::New(env, std::string(fn) + ": row " + std::to_string(start + i) + " has an unknown kind");
    }
  }
  return env.Undefined();
}

// ipvsEncodeDaemon(batch, familyId, cmd, state, full, ifname, syncId, maxLen, groupAf,
//                  group (Buffer 4/16 or null), port, ttl)
Napi::Value EncodeDaemon(const Napi::CallbackInfo& info) {
  const char* fn = "ipvsEncodeDaemon";
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  uint16_t fam = U16Arg(info, 1, fn, "familyId");
  uint8_t cmd = CmdArg(info, 2, fn);
  v::DaemonConfig d;
  d.state = U32Arg(info, 3, fn, "state");
  bool full = BoolArg(info, 4, fn, "full");
  if (full) {
    d.ifname = NameArg(info, 5, fn, "interface", 15);  // IP_VS_IFNAME_MAXLEN - 1
    d.syncId = U32Arg(info, 6, fn, "syncId");
    d.maxLen = U16Arg(info, 7, fn, "maxLength");
    d.groupAf = AfArg(info, 8, fn, "groupAf", true);
    if (d.groupAf != 0) {
      std::string_view g = BytesArg(info, 9, fn, "group");
      size_t want = d.groupAf == v::kAfInet ? 4 : 16;
      if (g.size() != want)
        throw Napi::RangeError::New(info.Env(), std::string(fn) + ": group must be " + std::to_string(want) + " bytes");
      std::memcpy(d.group, g.data(), want);
    }
    d.port = U16Arg(info, 10, fn, "port");
    d.ttl = static_cast<uint8_t>(RangeArg(info, 11, fn, "ttl", 0, 255));
  }
  v::EncodeDaemon(w, fam, cmd, d, full);
  return info.Env().Undefined();
}

// ipvsEncodeTimeouts(batch, familyId, tcp, tcpFin, udp)
Napi::Value EncodeTimeouts(const Napi::CallbackInfo& info) {
  const char* fn = "ipvsEncodeTimeouts";
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  uint16_t fam = U16Arg(info, 1, fn, "familyId");
  v::EncodeTimeouts(w, fam, U32Arg(info, 2, fn, "tcp"), U32Arg(info, 3, fn, "tcpFin"), U32Arg(info, 4, fn, "udp"));
  return info.Env().Undefined();
}

// ipvsEncodeBare(batch, familyId, cmd, dump)
Napi::Value EncodeBare(const Napi::CallbackInfo& info) {
  const char* fn = "ipvsEncodeBare";
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  uint16_t fam = U16Arg(info, 1, fn, "familyId");
  uint8_t cmd = CmdArg(info, 2, fn);
  v::EncodeBare(w, fam, cmd, BoolArg(info, 3, fn, "dump"));
  return info.Env().Undefined();
}

// ---- decoders ---------------------------------------------------------------------------------

// The replies [begin, begin + count) of an outcome: (replies Buffer, replyOffsets Uint32Array).
struct ReplySet {
  const uint8_t* bytes = nullptr;
  size_t size = 0;
  const uint32_t* offsets = nullptr;
  size_t nOffsets = 0;
  uint32_t begin = 0, count = 0;
};

// Arguments 0 and 1: the replies Buffer and its replyOffsets (begin and count left at 0).
ReplySet ReplyBufferArgs(const Napi::CallbackInfo& info, const char* fn) {
  ReplySet r;
  std::string_view b = BytesArg(info, 0, fn, "replies");
  r.bytes = reinterpret_cast<const uint8_t*>(b.data());
  r.size = b.size();
  Napi::Uint32Array o = arrays::TypedArrayArg<uint32_t>(info, 1, fn, "replyOffsets");
  r.offsets = o.Data();
  r.nOffsets = o.ElementLength();
  return r;
}

void SetRange(Napi::Env env, const char* fn, ReplySet* r, uint64_t begin, uint64_t count) {
  if (begin + count > r->nOffsets)
    throw Napi::RangeError::New(env, std::string(fn) + ": replies " + std::to_string(begin) + "+" +
                                         std::to_string(count) + " exceed the " + std::to_string(r->nOffsets) +
                                         " offsets");
  r->begin = static_cast<uint32_t>(begin);
  r->count = static_cast<uint32_t>(count);
}

// (replies, replyOffsets, begin, count) at arguments 0..3.
ReplySet ReplyArgs(const Napi::CallbackInfo& info, const char* fn) {
  ReplySet r = ReplyBufferArgs(info, fn);
  uint32_t begin = U32Arg(info, 2, fn, "begin");
  uint32_t count = U32Arg(info, 3, fn, "count");
  SetRange(info.Env(), fn, &r, begin, count);
  return r;
}

// Message k of the set: pointer and the bytes left in the buffer from there.
bool MessageAt(const ReplySet& r, uint32_t k, const uint8_t** p, size_t* len) {
  uint32_t off = r.offsets[r.begin + k];
  if (off >= r.size) return false;
  *p = r.bytes + off;
  *len = r.size - off;
  return true;
}

std::string AddrString(uint16_t af, const uint8_t addr[16]) {
  char buf[INET6_ADDRSTRLEN];
  if (!inet_ntop(af == v::kAfInet6 ? AF_INET6 : AF_INET, addr, buf, sizeof buf)) return "";
  return buf;
}

const char* FamilyName(uint16_t af) { return af == v::kAfInet6 ? "inet6" : af == v::kAfInet ? "inet" : "unknown"; }

Napi::Object StatsObject(Napi::Env env, const v::Stats& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("connections", Napi::BigInt::New(env, s.conns));
  o.Set("packetsIn", Napi::BigInt::New(env, s.inPkts));
  o.Set("packetsOut", Napi::BigInt::New(env, s.outPkts));
  o.Set("bytesIn", Napi::BigInt::New(env, s.inBytes));
  o.Set("bytesOut", Napi::BigInt::New(env, s.outBytes));
  o.Set("cps", Napi::BigInt::New(env, s.cps));
  o.Set("ppsIn", Napi::BigInt::New(env, s.inPps));
  o.Set("ppsOut", Napi::BigInt::New(env, s.outPps));
  o.Set("bpsIn", Napi::BigInt::New(env, s.inBps));
  o.Set("bpsOut", Napi::BigInt::New(env, s.outBps));
  return o;
}

[[noreturn]] void DecodeFail(Napi::Env env, const char* fn, uint32_t k, const std::string& e) {
  throw Napi::Error::New(env, std::string(fn) + ": reply " + std::to_string(k) + ": " + e);
}

// The one shape of every decoder below: each reply of the set decoded by `decode` (a family
// decoder, bool(msg, len, T*, std::string*)) into a T handed to `sink(k, t)`; a message that does
// not decode throws "<fn>: reply <k>: <why>".
template <typename T, typename Decode, typename Sink>
void ForEachReply(Napi::Env env, const char* fn, const ReplySet& r, Decode decode, Sink sink) {
  for (uint32_t k = 0; k < r.count; ++k) {
    const uint8_t* p;
    size_t len;
    if (!MessageAt(r, k, &p, &len)) DecodeFail(env, fn, k, "offset outside the buffer");
    T t;
    std::string err;
    if (!decode(p, len, &t, &err)) DecodeFail(env, fn, k, err);
    sink(k, t);
  }
}

// (replies, replyOffsets, begin, count) -> one object per reply, built by `build(env, t)`.
template <typename T, typename Decode, typename Build>
Napi::Value DecodeEach(const Napi::CallbackInfo& info, const char* fn, const ReplySet& r, Decode decode, Build build) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env, r.count);
  ForEachReply<T>(env, fn, r, decode, [&](uint32_t k, const T& t) { out.Set(k, build(env, t)); });
  return out;
}

// (replies, replyOffsets, begin, count) -> the object of the first reply; none: "<fn>: no reply".
template <typename T, typename Decode, typename Build>
Napi::Value DecodeFirst(const Napi::CallbackInfo& info, const char* fn, Decode decode, Build build) {
  Napi::Env env = info.Env();
  ReplySet r = ReplyArgs(info, fn);
  if (r.count < 1) throw Napi::Error::New(env, std::string(fn) + ": no reply");
  r.count = 1;
  Napi::Value out;
  ForEachReply<T>(env, fn, r, decode, [&](uint32_t, const T& t) { out = build(env, t); });
  return out;
}

Napi::Object ServiceObject(Napi::Env env, const v::ServiceInfo& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("af", s.key.af);
  o.Set("family", FamilyName(s.key.af));
  o.Set("fwmark", Napi::Number::New(env, s.key.fwmark));
  o.Set("protocol", s.key.protocol);
  o.Set("address", s.key.fwmark ? std::string() : AddrString(s.key.af, s.key.addr));
  o.Set("port", s.key.port);
  o.Set("scheduler", s.scheduler);
  o.Set("pe", s.pe);
  o.Set("flags", Napi::Number::New(env, s.flags));
  o.Set("timeout", Napi::Number::New(env, s.timeout));
  o.Set("netmask", Napi::Number::New(env, s.netmask));
  if (s.hasStats) o.Set("stats", StatsObject(env, s.stats));
  o.Set("seen", s.seen);
  return o;
}

Napi::Object DestObject(Napi::Env env, const v::DestInfo& d) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("af", d.key.af);
  o.Set("family", FamilyName(d.key.af));
  o.Set("address", AddrString(d.key.af, d.key.addr));
  o.Set("port", d.key.port);
  o.Set("forward", Napi::Number::New(env, d.fwdMethod));
  o.Set("weight", Napi::Number::New(env, d.weight));
  o.Set("upperThreshold", Napi::Number::New(env, d.upperThreshold));
  o.Set("lowerThreshold", Napi::Number::New(env, d.lowerThreshold));
  o.Set("activeConnections", Napi::Number::New(env, d.activeConns));
  o.Set("inactiveConnections", Napi::Number::New(env, d.inactConns));
  o.Set("persistentConnections", Napi::Number::New(env, d.persistConns));
  o.Set("tunnelType", d.tunType);
  o.Set("tunnelPort", d.tunPort);
  o.Set("tunnelFlags", d.tunFlags);
  if (d.hasStats) o.Set("stats", StatsObject(env, d.stats));
  o.Set("seen", d.seen);
  return o;
}

Napi::Object DaemonObject(Napi::Env env, const v::DaemonInfo& d) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("state", Napi::Number::New(env, d.cfg.state));
  o.Set("interface", d.cfg.ifname);
  o.Set("syncId", Napi::Number::New(env, d.cfg.syncId));
  o.Set("maxLength", d.cfg.maxLen);
  o.Set("group", d.cfg.groupAf ? AddrString(d.cfg.groupAf, d.cfg.group) : std::string());
  o.Set("port", d.cfg.port);
  o.Set("ttl", d.cfg.ttl);
  return o;
}

// ipvsDecodeServices(replies, replyOffsets, begin, count) -> RawIpvsService[]
Napi::Value DecodeServices(const Napi::CallbackInfo& info) {
  const char* fn = "ipvsDecodeServices";
  return DecodeEach<v::ServiceInfo>(info, fn, ReplyArgs(info, fn), v::DecodeService, ServiceObject);
}

// ipvsDecodeDests(replies, replyOffsets, begin, count, serviceAf) -> RawIpvsDest[]
Napi::Value DecodeDests(const Napi::CallbackInfo& info) {
  const char* fn = "ipvsDecodeDests";
  ReplySet r = ReplyArgs(info, fn);
  uint16_t svcAf = AfArg(info, 4, fn, "serviceAf", false);
  auto decode = [svcAf](const uint8_t* p, size_t len, v::DestInfo* d, std::string* err) { return v::DecodeDest(p, len, svcAf, d, err); };
  return DecodeEach<v::DestInfo>(info, fn, r, decode, DestObject);
}

// ipvsDecodeDaemons(replies, replyOffsets, begin, count) -> RawIpvsDaemon[]
Napi::Value DecodeDaemons(const Napi::CallbackInfo& info) {
  const char* fn = "ipvsDecodeDaemons";
  return DecodeEach<v::DaemonInfo>(info, fn, ReplyArgs(info, fn), v::DecodeDaemon, DaemonObject);
}

// ipvsDecodeConfig(replies, replyOffsets, begin, count) -> { tcp, tcpFin, udp } (the first reply)
Napi::Value DecodeConfig(const Napi::CallbackInfo& info) {
  return DecodeFirst<v::ConfigInfo>(info, "ipvsDecodeConfig", v::DecodeConfig, [](Napi::Env env, const v::ConfigInfo& c) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("tcp", Napi::Number::New(env, c.tcp));
    o.Set("tcpFin", Napi::Number::New(env, c.tcpFin));
    o.Set("udp", Napi::Number::New(env, c.udp));
    return o;
  });
}

// ipvsDecodeInfo(replies, replyOffsets, begin, count) -> { version, connTabSize } (the first reply)
Napi::Value DecodeInfo(const Napi::CallbackInfo& info) {
  return DecodeFirst<v::InfoReply>(info, "ipvsDecodeInfo", v::DecodeInfo, [](Napi::Env env, const v::InfoReply& in) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("version", Napi::Number::New(env, in.version));
    o.Set("connTabSize", Napi::Number::New(env, in.connTabSize));
    return o;
  });
}

// ---- columnar decoders: the whole of listAll in three N-API calls --------------------------
//
// Building each service and destination object through N-API (a dozen named properties and a
// stats object of 10 BigInts each) cost more than the dumps. These fill caller-owned typed
// arrays instead, and lib/ipvs/client.ts builds the objects in JS:
//   nums: Float64Array, kSvcCols / kDestCols numbers per row;
//   addrs: Uint8Array, 16 bytes per row; stats: BigUint64Array, 10 per row (IPVS_STATS_ATTR_*
//   order: conns, inPkts, outPkts, inBytes, outBytes, cps, inPps, outPps, inBps, outBps).

// Service row: [af, protocol, port, fwmark, flags, timeout, netmask, seen, hasStats,
//               scheduler (index into the returned names), pe (index; 0 = '')]
constexpr uint32_t kSvcCols = 11;
// Destination row: [af, port, forward, weight, upperThreshold, lowerThreshold, activeConns,
//                   inactConns, persistConns, tunType, tunPort, tunFlags, seen, hasStats]
constexpr uint32_t kDestCols = 14;

struct Columns {
  double* nums = nullptr;
  uint8_t* addrs = nullptr;
  uint64_t* stats = nullptr;
  size_t nNums = 0, nAddrs = 0, nStats = 0;
};

// (nums, addrs, stats) at arguments i..i+2; rows [0, rows) must fit.
Columns ColumnArgs(const Napi::CallbackInfo& info, size_t i, const char* fn, uint32_t cols, uint64_t rows,
                   const std::string& what) {
  Columns c;
  const char* names[] = {"nums", "addrs", "stats"};
  bool ok[] = {arrays::IsTypedArrayOf<double>(info[i]), arrays::IsTypedArrayOf<uint8_t>(info[i + 1]),
               arrays::IsTypedArrayOf<uint64_t>(info[i + 2])};
  for (int k = 0; k < 3; ++k)
    if (!ok[k]) throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + names[k] + " has the wrong type");
  Napi::Float64Array n = info[i].As<Napi::Float64Array>();
  Napi::Uint8Array a = info[i + 1].As<Napi::Uint8Array>();
  Napi::BigUint64Array s = info[i + 2].As<Napi::BigUint64Array>();
  c.nums = n.Data();
  c.nNums = n.ElementLength();
  c.addrs = a.Data();
  c.nAddrs = a.ElementLength();
  c.stats = s.Data();
  c.nStats = s.ElementLength();
  if (rows * cols > c.nNums || rows * 16 > c.nAddrs || rows * 10 > c.nStats)
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": rows " + what + " exceed the output columns");
  return c;
}

void PutStats(uint64_t* s, const v::Stats& st) {
  s[0] = st.conns;
  s[1] = st.inPkts;
  s[2] = st.outPkts;
  s[3] = st.inBytes;
  s[4] = st.outBytes;
  s[5] = st.cps;
  s[6] = st.inPps;
  s[7] = st.outPps;
  s[8] = st.inBps;
  s[9] = st.outBps;
}

void PutDestRow(const Columns& c, size_t row, const v::DestInfo& d) {
  double* n = c.nums + row * kDestCols;
  n[0] = d.key.af;
  n[1] = d.key.port;
  n[2] = d.fwdMethod;
  n[3] = d.weight;
  n[4] = d.upperThreshold;
  n[5] = d.lowerThreshold;
  n[6] = d.activeConns;
  n[7] = d.inactConns;
  n[8] = d.persistConns;
  n[9] = d.tunType;
  n[10] = d.tunPort;
  n[11] = d.tunFlags;
  n[12] = d.seen;
  n[13] = d.hasStats ? 1 : 0;
  std::memcpy(c.addrs + row * 16, d.key.addr, 16);
  PutStats(c.stats + row * 10, d.stats);
}

// ipvsDecodeServiceColumns(replies, replyOffsets, begin, count, nums, addrs, stats) -> names:
// the services of replies [begin, begin + count) as rows 0..count-1; names holds the distinct
// scheduler and persistence engine names the rows index, names[0] = ''.
Napi::Value DecodeServiceColumns(const Napi::CallbackInfo& info) {
  const char* fn = "ipvsDecodeServiceColumns";
  Napi::Env env = info.Env();
  ReplySet r = ReplyArgs(info, fn);
  Columns c = ColumnArgs(info, 4, fn, kSvcCols, r.count, "0+" + std::to_string(r.count));
  std::vector<std::string> names{std::string()};
  auto nameIndex = [&names](const std::string& s) {
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == s) return static_cast<double>(i);
    names.push_back(s);
    return static_cast<double>(names.size() - 1);
  };
  ForEachReply<v::ServiceInfo>(env, fn, r, v::DecodeService, [&](uint32_t k, const v::ServiceInfo& s) {
    double* n = c.nums + static_cast<size_t>(k) * kSvcCols;
    n[0] = s.key.af;
    n[1] = s.key.protocol;
    n[2] = s.key.port;
    n[3] = s.key.fwmark;
    n[4] = s.flags;
    n[5] = s.timeout;
    n[6] = s.netmask;
    n[7] = s.seen;
    n[8] = s.hasStats ? 1 : 0;
    n[9] = nameIndex(s.scheduler);
    n[10] = nameIndex(s.pe);
    std::memcpy(c.addrs + static_cast<size_t>(k) * 16, s.key.addr, 16);
    PutStats(c.stats + static_cast<size_t>(k) * 10, s.stats);
  });
  Napi::Array out = Napi::Array::New(env, names.size());
  for (uint32_t i = 0; i < names.size(); ++i) out.Set(i, names[i]);
  return out;
}

// ipvsEncodeDestDumps(batch, familyId, nums, addrs, count): a GET_DEST dump request for each of
// the rows 0..count-1 of ipvsDecodeServiceColumns' columns (the same request ipvsEncodeServiceKey
// writes for that service's key), in row order.
Napi::Value EncodeDestDumps(const Napi::CallbackInfo& info) {
  const char* fn = "ipvsEncodeDestDumps";
  Napi::Env env = info.Env();
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  uint16_t fam = U16Arg(info, 1, fn, "familyId");
  Napi::Float64Array nums = arrays::TypedArrayArg<double>(info, 2, fn, "nums");
  Napi::Uint8Array addrs = arrays::TypedArrayArg<uint8_t>(info, 3, fn, "addrs");
  uint32_t count = U32Arg(info, 4, fn, "count");
  if (static_cast<uint64_t>(count) * kSvcCols > nums.ElementLength() || static_cast<uint64_t>(count) * 16 > addrs.ElementLength())
    throw Napi::RangeError::New(env, std::string(fn) + ": count " + std::to_string(count) + " exceeds the columns");
  const double* n = nums.Data();
  for (uint32_t i = 0; i < count; ++i, n += kSvcCols) {
    double af = n[0], protocol = n[1], port = n[2], fwmark = n[3];
    if ((af != v::kAfInet && af != v::kAfInet6) || !(protocol >= 0 && protocol <= 0xffff) || !(port >= 0 && port <= 0xffff) ||
        !(fwmark >= 0 && fwmark <= 0xffffffffu))
      throw Napi::RangeError::New(env, std::string(fn) + ": row " + std::to_string(i) + " is not a service key");
    v::ServiceKey k;
    k.af = static_cast<uint16_t>(af);
    k.protocol = static_cast<uint16_t>(protocol);
    k.port = static_cast<uint16_t>(port);
    k.fwmark = static_cast<uint32_t>(fwmark);
    std::memcpy(k.addr, addrs.Data() + static_cast<size_t>(i) * 16, 16);
    v::EncodeServiceKey(w, fam, v::kCmdGetDest, k, true);
  }
  return env.Undefined();
}

// ipvsDecodeDestColumns(replies, replyOffsets, begin, count, serviceAf, nums, addrs, stats, at):
// the destinations of replies [begin, begin + count) as rows at..at+count-1.
Napi::Value DecodeDestColumns(const Napi::CallbackInfo& info) {
  const char* fn = "ipvsDecodeDestColumns";
  Napi::Env env = info.Env();
  ReplySet r = ReplyArgs(info, fn);
  uint16_t svcAf = AfArg(info, 4, fn, "serviceAf", false);
  uint32_t at = U32Arg(info, 8, fn, "at");
  Columns c = ColumnArgs(info, 5, fn, kDestCols, static_cast<uint64_t>(at) + r.count,
                         std::to_string(at) + "+" + std::to_string(r.count));
  auto decode = [svcAf](const uint8_t* p, size_t len, v::DestInfo* d, std::string* err) { return v::DecodeDest(p, len, svcAf, d, err); };
  ForEachReply<v::DestInfo>(env, fn, r, decode, [&](uint32_t k, const v::DestInfo& d) { PutDestRow(c, static_cast<size_t>(at) + k, d); });
  return env.Undefined();
}

// ipvsDecodeDestColumnsMany(replies, replyOffsets, replyBegin, replyCount, serviceAfs, nums,
// addrs, stats) -> rows: the replies of items 0..n-1 of an outcome (replyBegin / replyCount:
// Int32Array; serviceAfs: Uint8Array, the family of item i's service) as consecutive rows, item
// i's after item i-1's. One call for every destination dump of a listAll.
Napi::Value DecodeDestColumnsMany(const Napi::CallbackInfo& info) {
  const char* fn = "ipvsDecodeDestColumnsMany";
  Napi::Env env = info.Env();
  ReplySet r = ReplyBufferArgs(info, fn);
  Napi::Int32Array begins = arrays::TypedArrayArg<int32_t>(info, 2, fn, "replyBegin");
  Napi::Int32Array counts = arrays::TypedArrayArg<int32_t>(info, 3, fn, "replyCount");
  Napi::Uint8Array afs = arrays::TypedArrayArg<uint8_t>(info, 4, fn, "serviceAfs");
  size_t items = afs.ElementLength();
  if (begins.ElementLength() < items || counts.ElementLength() < items)
    throw Napi::RangeError::New(env, std::string(fn) + ": replyBegin and replyCount need one entry per service");
  uint64_t rows = 0;
  for (size_t i = 0; i < items; ++i) {
    if (counts[i] < 0 || (counts[i] > 0 && begins[i] < 0))
      throw Napi::RangeError::New(env, std::string(fn) + ": item " + std::to_string(i) + " has a negative reply range");
    rows += static_cast<uint32_t>(counts[i]);
  }
  Columns c = ColumnArgs(info, 5, fn, kDestCols, rows, "0+" + std::to_string(rows));
  size_t row = 0;
  for (size_t i = 0; i < items; ++i) {
    if (counts[i] == 0) continue;
    SetRange(env, fn, &r, static_cast<uint32_t>(begins[i]), static_cast<uint32_t>(counts[i]));
    uint16_t svcAf = afs[i];
    if (svcAf != v::kAfInet && svcAf != v::kAfInet6)
      throw Napi::RangeError::New(env, std::string(fn) + ": serviceAfs[" + std::to_string(i) + "] must be AF_INET (2) or AF_INET6 (10), got " +
                                           std::to_string(svcAf));
    auto decode = [svcAf](const uint8_t* p, size_t len, v::DestInfo* d, std::string* err) { return v::DecodeDest(p, len, svcAf, d, err); };
    ForEachReply<v::DestInfo>(env, fn, r, decode, [&](uint32_t, const v::DestInfo& d) { PutDestRow(c, row++, d); });
  }
  return Napi::Number::New(env, static_cast<double>(rows));
}

}  // namespace

void InitIpvs(Napi::Env env, Napi::Object exports) {
  exports.Set("ipvsEncodeService", Napi::Function::New(env, EncodeService, "ipvsEncodeService"));
  exports.Set("ipvsEncodeServiceKey", Napi::Function::New(env, EncodeServiceKey, "ipvsEncodeServiceKey"));
  exports.Set("ipvsEncodeDest", Napi::Function::New(env, EncodeDest, "ipvsEncodeDest"));
  exports.Set("ipvsEncodeMany", Napi::Function::New(env, EncodeMany, "ipvsEncodeMany"));
  exports.Set("ipvsEncodeDaemon", Napi::Function::New(env, EncodeDaemon, "ipvsEncodeDaemon"));
  exports.Set("ipvsEncodeTimeouts", Napi::Function::New(env, EncodeTimeouts, "ipvsEncodeTimeouts"));
  exports.Set("ipvsEncodeBare", Napi::Function::New(env, EncodeBare, "ipvsEncodeBare"));
  exports.Set("ipvsDecodeServices", Napi::Function::New(env, DecodeServices, "ipvsDecodeServices"));
  exports.Set("ipvsDecodeDests", Napi::Function::New(env, DecodeDests, "ipvsDecodeDests"));
  exports.Set("ipvsDecodeDestColumns", Napi::Function::New(env, DecodeDestColumns, "ipvsDecodeDestColumns"));
  exports.Set("ipvsDecodeDestColumnsMany", Napi::Function::New(env, DecodeDestColumnsMany, "ipvsDecodeDestColumnsMany"));
  exports.Set("ipvsDecodeServiceColumns", Napi::Function::New(env, DecodeServiceColumns, "ipvsDecodeServiceColumns"));
  exports.Set("ipvsEncodeDestDumps", Napi::Function::New(env, EncodeDestDumps, "ipvsEncodeDestDumps"));
  exports.Set("ipvsDecodeDaemons", Napi::Function::New(env, DecodeDaemons, "ipvsDecodeDaemons"));
  exports.Set("ipvsDecodeConfig", Napi::Function::New(env, DecodeConfig, "ipvsDecodeConfig"));
  exports.Set("ipvsDecodeInfo", Napi::Function::New(env, DecodeInfo, "ipvsDecodeInfo"));
}

}  // namespace lvskit
