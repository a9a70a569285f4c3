// N-API glue for native/src/families/conntrack: positional, already-validated values in
// (lib/conntrack/conntrack.ts), requests appended to a NativeBatch; entries out as plain JS
// objects with addresses as strings. Optional numbers arrive as -1 for "absent".
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <napi.h>
#include <sys/socket.h>

#include <cstring>

#include "binding/addon.h"
#include "binding/batch.h"
#include "families/conntrack.h"

namespace lvskit {

namespace {

Napi::Value AddrJs(Napi::Env env, uint8_t family, const uint8_t* b) {
  char buf[INET6_ADDRSTRLEN];
  if ((family != AF_INET && family != AF_INET6) || !inet_ntop(family, b, buf, sizeof buf)) return env.Undefined();
  return Napi::String::New(env, buf);
}

Napi::Object TupleJs(Napi::Env env, const conntrack::Tuple& t) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("source", AddrJs(env, t.family, t.src));
  o.Set("destination", AddrJs(env, t.family, t.dst));
  o.Set("protocol", Napi::Number::New(env, t.proto));
  if (t.hasIcmp) {
    o.Set("icmpId", Napi::Number::New(env, t.icmpId));
    o.Set("icmpType", Napi::Number::New(env, t.icmpType));
    o.Set("icmpCode", Napi::Number::New(env, t.icmpCode));
  } else {
    o.Set("sourcePort", Napi::Number::New(env, t.sport));
    o.Set("destinationPort", Napi::Number::New(env, t.dport));
  }
  return o;
}

// ctEncodeDump(batch, family)
Napi::Value EncodeDumpJs(const Napi::CallbackInfo& info) {
  nl::MessageWriter& w = BatchArg(info, 0, "ctEncodeDump");
  uint32_t family = U32Arg(info, 1, "ctEncodeDump", "family");
  if (family > 255) throw Napi::RangeError::New(info.Env(), "ctEncodeDump: family must be in 0..255");
  conntrack::EncodeDump(w, static_cast<uint8_t>(family));
  return info.Env().Undefined();
}

// ctEncodeDelete(batch, src: Uint8Array(4|16), dst, proto, sport, dport, icmpId (-1 = ports),
//                icmpType, icmpCode, zone, id (-1 = absent))
Napi::Value EncodeDeleteJs(const Napi::CallbackInfo& info) {
  const char* fn = "ctEncodeDelete";
  Napi::Env env = info.Env();
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  std::string_view src = BytesArg(info, 1, fn, "src");
  std::string_view dst = BytesArg(info, 2, fn, "dst");
  if ((src.size() != 4 && src.size() != 16) || src.size() != dst.size())
    throw Napi::RangeError::New(env, "ctEncodeDelete: src and dst must both be 4 or both 16 bytes");
  conntrack::Tuple t;
  t.family = src.size() == 4 ? AF_INET : AF_INET6;
  std::memcpy(t.src, src.data(), src.size());
  std::memcpy(t.dst, dst.data(), dst.size());
  auto bounded = [&](size_t i, const char* name, uint32_t max) {
    uint32_t v = U32Arg(info, i, fn, name);
    if (v > max) throw Napi::RangeError::New(env, std::string(fn) + ": " + name + " must be at most " + std::to_string(max));
    return v;
  };
  t.proto = static_cast<uint8_t>(bounded(3, "proto", 255));
  t.sport = static_cast<uint16_t>(bounded(4, "sport", 65535));
  t.dport = static_cast<uint16_t>(bounded(5, "dport", 65535));
  int64_t icmpId = I64Arg(info, 6, fn, "icmpId");
  if (icmpId >= 0) {
    if (icmpId > 65535) throw Napi::RangeError::New(env, "ctEncodeDelete: icmpId must be at most 65535");
    t.hasIcmp = true;
    t.icmpId = static_cast<uint16_t>(icmpId);
    t.icmpType = static_cast<uint8_t>(bounded(7, "icmpType", 255));
    t.icmpCode = static_cast<uint8_t>(bounded(8, "icmpCode", 255));
  }
  uint16_t zone = static_cast<uint16_t>(bounded(9, "zone", 65535));
  int64_t id = I64Arg(info, 10, fn, "id");
  if (id > 0xffffffffLL) throw Napi::RangeError::New(env, "ctEncodeDelete: id must be -1 or a u32");
  conntrack::EncodeDelete(w, t, zone, id >= 0, static_cast<uint32_t>(id < 0 ? 0 : id));
  return env.Undefined();
}

// ctDecode(buffer, offset) -> entry object; RangeError when malformed.
Napi::Value DecodeJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string_view b = BytesArg(info, 0, "ctDecode", "buffer");
  uint32_t off = U32Arg(info, 1, "ctDecode", "offset");
  if (off > b.size() || b.size() - off < sizeof(nlmsghdr))
    throw Napi::RangeError::New(env, "ctDecode: offset " + std::to_string(off) + " leaves no room for a netlink header in " + std::to_string(b.size()) + " bytes");
  conntrack::Entry e;
  std::string err;
  if (!conntrack::DecodeEntry(reinterpret_cast<const uint8_t*>(b.data()) + off, b.size() - off, &e, &err))
    throw Napi::RangeError::New(env, "ctDecode: " + err);
  Napi::Object o = Napi::Object::New(env);
  o.Set("family", Napi::Number::New(env, e.family));
  o.Set("original", TupleJs(env, e.orig));
  o.Set("reply", TupleJs(env, e.reply));
  o.Set("status", Napi::Number::New(env, e.status));
  o.Set("timeout", Napi::Number::New(env, e.timeout));
  o.Set("mark", Napi::Number::New(env, e.mark));
  o.Set("id", Napi::Number::New(env, e.hasId ? static_cast<double>(e.id) : -1));
  o.Set("use", Napi::Number::New(env, e.use));
  o.Set("zone", Napi::Number::New(env, e.zone));
  if (e.hasTcpState) o.Set("tcpState", Napi::Number::New(env, e.tcpState));
  if (e.hasCounters) {
    Napi::Array c = Napi::Array::New(env, 4);
    c.Set(0u, Napi::Number::New(env, static_cast<double>(e.origPackets)));
    c.Set(1u, Napi::Number::New(env, static_cast<double>(e.origBytes)));
    c.Set(2u, Napi::Number::New(env, static_cast<double>(e.replyPackets)));
    c.Set(3u, Napi::Number::New(env, static_cast<double>(e.replyBytes)));
    o.Set("counters", c);
  }
  return o;
}

}  // namespace

void InitConntrack(Napi::Env env, Napi::Object exports) {
  exports.Set("ctEncodeDump", Napi::Function::New<EncodeDumpJs>(env, "ctEncodeDump"));
  exports.Set("ctEncodeDelete", Napi::Function::New<EncodeDeleteJs>(env, "ctEncodeDelete"));
  exports.Set("ctDecode", Napi::Function::New<DecodeJs>(env, "ctDecode"));
}

}  // namespace lvskit
