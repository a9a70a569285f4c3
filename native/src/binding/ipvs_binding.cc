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
  if (info.Length() <= 2 || !info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
    throw Napi::TypeError::New(env, std::string(fn) + ": rows must be a Uint32Array");
  Napi::Uint32Array rows = info[2].As<Napi::Uint32Array>();
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

ReplySet ReplyArgs(const Napi::CallbackInfo& info, const char* fn) {
  Napi::Env env = info.Env();
  ReplySet r;
  std::string_view b = BytesArg(info, 0, fn, "replies");
  r.bytes = reinterpret_cast<const uint8_t*>(b.data());
  r.size = b.size();
  if (info.Length() <= 1 || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
    throw Napi::TypeError::New(env, std::string(fn) + ": replyOffsets must be a Uint32Array");
  Napi::Uint32Array o = info[1].As<Napi::Uint32Array>();
  r.offsets = o.Data();
  r.nOffsets = o.ElementLength();
  r.begin = U32Arg(info, 2, fn, "begin");
  r.count = U32Arg(info, 3, fn, "count");
  if (static_cast<uint64_t>(r.begin) + r.count > r.nOffsets)
    throw Napi::RangeError::New(env, std::string(fn) + ": replies " + std::to_string(r.begin) + "+" +
                                         std::to_string(r.count) + " exceed the " + std::to_string(r.nOffsets) +
                                         " offsets");
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

// ipvsDecodeServices(replies, replyOffsets, begin, count) -> RawIpvsService[]
Napi::Value DecodeServices(const Napi::CallbackInfo& info) {
  const char* fn = "ipvsDecodeServices";
  Napi::Env env = info.Env();
  ReplySet r = ReplyArgs(info, fn);
  Napi::Array out = Napi::Array::New(env, r.count);
  for (uint32_t k = 0; k < r.count; ++k) {
    const uint8_t* p;
    size_t len;
    if (!MessageAt(r, k, &p, &len)) DecodeFail(env, fn, k, "offset outside the buffer");
    v::ServiceInfo s;
    std::string err;
    if (!v::DecodeService(p, len, &s, &err)) DecodeFail(env, fn, k, err);
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
    out.Set(k, o);
  }
  return out;
}

// ipvsDecodeDests(replies, replyOffsets, begin, count, serviceAf) -> RawIpvsDest[]
Napi::Value DecodeDests(const Napi::CallbackInfo& info) {
  const char* fn = "ipvsDecodeDests";
  Napi::Env env = info.Env();
  ReplySet r = ReplyArgs(info, fn);
  uint16_t svcAf = AfArg(info, 4, fn, "serviceAf", false);
  Napi::Array out = Napi::Array::New(env, r.count);
  for (uint32_t k = 0; k < r.count; ++k) {
    const uint8_t* p;
    size_t len;
    if (!MessageAt(r, k, &p, &len)) DecodeFail(env, fn, k, "offset outside the buffer");
    v::DestInfo d;
    std::string err;
    if (!v::DecodeDest(p, len, svcAf, &d, &err)) DecodeFail(env, fn, k, err);
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
    out.Set(k, o);
  }
  return out;
}

// ipvsDecodeDestColumns(replies, replyOffsets, begin, count, serviceAf, nums, addrs, stats, at):
// the destinations of replies [begin, begin + count) written as rows at..at+count-1 of columns
// that lib/ipvs/client.ts turns into Destination objects in JS (setting ~15 named properties and
// a stats object through N-API per destination cost more than the dump). nums: Float64Array of
// kDestCols per row:
//   [af, port, forward, weight, upperThreshold, lowerThreshold, activeConns, inactConns,
//    persistConns, tunType, tunPort, tunFlags, seen, hasStats]
// addrs: Uint8Array, 16 bytes per row; stats: BigUint64Array, 10 per row (IPVS_STATS_ATTR_* order).
constexpr uint32_t kDestCols = 14;

template <typename T>
T* TypedArg(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type, const char* fn, const char* name,
            size_t* len) {
  if (info.Length() <= i || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != type)
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + name + " has the wrong type");
  Napi::TypedArray a = info[i].As<Napi::TypedArray>();
  *len = a.ElementLength();
  return reinterpret_cast<T*>(static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset());
}

Napi::Value DecodeDestColumns(const Napi::CallbackInfo& info) {
  const char* fn = "ipvsDecodeDestColumns";
  Napi::Env env = info.Env();
  ReplySet r = ReplyArgs(info, fn);
  uint16_t svcAf = AfArg(info, 4, fn, "serviceAf", false);
  size_t nNums, nAddrs, nStats;
  double* nums = TypedArg<double>(info, 5, napi_float64_array, fn, "nums", &nNums);
  uint8_t* addrs = TypedArg<uint8_t>(info, 6, napi_uint8_array, fn, "addrs", &nAddrs);
  uint64_t* stats = TypedArg<uint64_t>(info, 7, napi_biguint64_array, fn, "stats", &nStats);
  uint32_t at = U32Arg(info, 8, fn, "at");
  uint64_t end = static_cast<uint64_t>(at) + r.count;
  if (end * kDestCols > nNums || end * 16 > nAddrs || end * 10 > nStats)
    throw Napi::RangeError::New(env, std::string(fn) + ": rows " + std::to_string(at) + "+" + std::to_string(r.count) +
                                         " exceed the output columns");
  for (uint32_t k = 0; k < r.count; ++k) {
    const uint8_t* p;
    size_t len;
    if (!MessageAt(r, k, &p, &len)) DecodeFail(env, fn, k, "offset outside the buffer");
    v::DestInfo d;
    std::string err;
    if (!v::DecodeDest(p, len, svcAf, &d, &err)) DecodeFail(env, fn, k, err);
    size_t row = static_cast<size_t>(at) + k;
    double* n = nums + row * kDestCols;
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
    std::memcpy(addrs + row * 16, d.key.addr, 16);
    uint64_t* s = stats + row * 10;
    s[0] = d.stats.conns;
    s[1] = d.stats.inPkts;
    s[2] = d.stats.outPkts;
    s[3] = d.stats.inBytes;
    s[4] = d.stats.outBytes;
    s[5] = d.stats.cps;
    s[6] = d.stats.inPps;
    s[7] = d.stats.outPps;
    s[8] = d.stats.inBps;
    s[9] = d.stats.outBps;
  }
  return env.Undefined();
}

// ipvsDecodeDaemons(replies, replyOffsets, begin, count) -> RawIpvsDaemon[]
Napi::Value DecodeDaemons(const Napi::CallbackInfo& info) {
  const char* fn = "ipvsDecodeDaemons";
  Napi::Env env = info.Env();
  ReplySet r = ReplyArgs(info, fn);
  Napi::Array out = Napi::Array::New(env, r.count);
  for (uint32_t k = 0; k < r.count; ++k) {
    const uint8_t* p;
    size_t len;
    if (!MessageAt(r, k, &p, &len)) DecodeFail(env, fn, k, "offset outside the buffer");
    v::DaemonInfo d;
    std::string err;
    if (!v::DecodeDaemon(p, len, &d, &err)) DecodeFail(env, fn, k, err);
    Napi::Object o = Napi::Object::New(env);
    o.Set("state", Napi::Number::New(env, d.cfg.state));
    o.Set("interface", d.cfg.ifname);
    o.Set("syncId", Napi::Number::New(env, d.cfg.syncId));
    o.Set("maxLength", d.cfg.maxLen);
    o.Set("group", d.cfg.groupAf ? AddrString(d.cfg.groupAf, d.cfg.group) : std::string());
    o.Set("port", d.cfg.port);
    o.Set("ttl", d.cfg.ttl);
    out.Set(k, o);
  }
  return out;
}

// ipvsDecodeConfig(replies, replyOffsets, begin, count) -> { tcp, tcpFin, udp } (the first reply)
Napi::Value DecodeConfig(const Napi::CallbackInfo& info) {
  const char* fn = "ipvsDecodeConfig";
  Napi::Env env = info.Env();
  ReplySet r = ReplyArgs(info, fn);
  if (r.count < 1) throw Napi::Error::New(env, std::string(fn) + ": no reply");
  const uint8_t* p;
  size_t len;
  if (!MessageAt(r, 0, &p, &len)) DecodeFail(env, fn, 0, "offset outside the buffer");
  v::ConfigInfo c;
  std::string err;
  if (!v::DecodeConfig(p, len, &c, &err)) DecodeFail(env, fn, 0, err);
  Napi::Object o = Napi::Object::New(env);
  o.Set("tcp", Napi::Number::New(env, c.tcp));
  o.Set("tcpFin", Napi::Number::New(env, c.tcpFin));
  o.Set("udp", Napi::Number::New(env, c.udp));
  return o;
}

// ipvsDecodeInfo(replies, replyOffsets, begin, count) -> { version, connTabSize } (the first reply)
Napi::Value DecodeInfo(const Napi::CallbackInfo& info) {
  const char* fn = "ipvsDecodeInfo";
  Napi::Env env = info.Env();
  ReplySet r = ReplyArgs(info, fn);
  if (r.count < 1) throw Napi::Error::New(env, std::string(fn) + ": no reply");
  const uint8_t* p;
  size_t len;
  if (!MessageAt(r, 0, &p, &len)) DecodeFail(env, fn, 0, "offset outside the buffer");
  v::InfoReply in;
  std::string err;
  if (!v::DecodeInfo(p, len, &in, &err)) DecodeFail(env, fn, 0, err);
  Napi::Object o = Napi::Object::New(env);
  o.Set("version", Napi::Number::New(env, in.version));
  o.Set("connTabSize", Napi::Number::New(env, in.connTabSize));
  return o;
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
  exports.Set("ipvsDecodeDaemons", Napi::Function::New(env, DecodeDaemons, "ipvsDecodeDaemons"));
  exports.Set("ipvsDecodeConfig", Napi::Function::New(env, DecodeConfig, "ipvsDecodeConfig"));
  exports.Set("ipvsDecodeInfo", Napi::Function::New(env, DecodeInfo, "ipvsDecodeInfo"));
}

}  // namespace lvskit
