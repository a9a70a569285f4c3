// N-API glue for native/src/families/{route,nexthop,rule}: positional, already-validated values
// in (lib/rtnl/route.ts, nexthop.ts, rule.ts check them first), requests appended to a
// NativeBatch; reply messages out as plain JS objects with addresses as strings.
//
// Optional numbers arrive as -1 for "absent"; addresses as 4- or 16-byte Uint8Arrays, or null.
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <napi.h>
#include <sys/socket.h>

#include <cstring>

#include "binding/addon.h"
#include "binding/batch.h"
#include "binding/napi_arrays.h"
#include "families/nexthop.h"
#include "families/route.h"
#include "families/rule.h"

namespace lvskit {

namespace {

using route::Addr;

Addr AddrArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  std::string_view b = BytesArg(info, i, fn, name, true);
  Addr a;
  if (!a.assign(b.data(), b.size()))
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": " + name + " must be 4 or 16 bytes, got " +
                                                std::to_string(b.size()));
  return a;
}

// -1 = absent; otherwise a u32.
bool OptU32(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, uint32_t* out) {
  int64_t v = I64Arg(info, i, fn, name);
  if (v == -1) return false;
  if (v < 0 || v > 0xffffffffLL)
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": " + name + " must be -1 or a u32, got " + std::to_string(v));
  *out = static_cast<uint32_t>(v);
  return true;
}

uint32_t Bounded(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, uint32_t max) {
  uint32_t v = U32Arg(info, i, fn, name);
  if (v > max)
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": " + name + " must be at most " + std::to_string(max) +
                                                ", got " + std::to_string(v));
  return v;
}

Napi::Value AddrJs(Napi::Env env, const Addr& a) {
  char buf[INET6_ADDRSTRLEN];
  if (!a.present() || !inet_ntop(a.family, a.bytes, buf, sizeof buf)) return env.Undefined();
  return Napi::String::New(env, buf);
}

void SetAddr(Napi::Object o, const char* key, const Addr& a) {
  if (a.present()) o.Set(key, AddrJs(o.Env(), a));
}

const uint8_t* MessageAt(const Napi::CallbackInfo& info, size_t bufArg, size_t offArg, const char* fn,
                         size_t* left) {
  std::string_view b = BytesArg(info, bufArg, fn, "buffer");
  uint32_t off = U32Arg(info, offArg, fn, "offset");
  if (off > b.size() || b.size() - off < sizeof(nlmsghdr))
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": offset " + std::to_string(off) + " leaves no room for a netlink header in " +
                                                std::to_string(b.size()) + " bytes");
  *left = b.size() - off;
  return reinterpret_cast<const uint8_t*>(b.data()) + off;
}

uint16_t MsgType(const uint8_t* m) {
  nlmsghdr h;
  std::memcpy(&h, m, sizeof h);
  return h.nlmsg_type;
}

// ---- routes -------------------------------------------------------------------------------

Napi::Object RouteJs(Napi::Env env, uint16_t msgType, const route::Route& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("msgType", Napi::Number::New(env, msgType));
  o.Set("family", Napi::Number::New(env, r.family));
  o.Set("dstLen", Napi::Number::New(env, r.dstLen));
  o.Set("srcLen", Napi::Number::New(env, r.srcLen));
  o.Set("tos", Napi::Number::New(env, r.tos));
  o.Set("table", Napi::Number::New(env, r.table));
  o.Set("protocol", Napi::Number::New(env, r.protocol));
  o.Set("scope", Napi::Number::New(env, r.scope));
  o.Set("type", Napi::Number::New(env, r.type));
  o.Set("flags", Napi::Number::New(env, r.flags));
  SetAddr(o, "dst", r.dst);
  SetAddr(o, "src", r.src);
  SetAddr(o, "prefsrc", r.prefsrc);
  SetAddr(o, "gateway", r.gateway);
  if (r.oif) o.Set("oif", Napi::Number::New(env, r.oif));
  if (r.iif) o.Set("iif", Napi::Number::New(env, r.iif));
  if (r.hasPriority) o.Set("priority", Napi::Number::New(env, r.priority));
  if (r.nhId) o.Set("nhId", Napi::Number::New(env, r.nhId));
  if (r.hasMark) o.Set("mark", Napi::Number::New(env, r.mark));
  if (r.hasUid) o.Set("uid", Napi::Number::New(env, r.uid));
  if (r.hasPref) o.Set("pref", Napi::Number::New(env, r.pref));
  if (r.expires) o.Set("expires", Napi::Number::New(env, r.expires));
  if (r.mtu) o.Set("mtu", Napi::Number::New(env, r.mtu));
  if (!r.multipath.empty()) {
    Napi::Array mp = Napi::Array::New(env, r.multipath.size());
    for (size_t i = 0; i < r.multipath.size(); ++i) {
      const route::Hop& h = r.multipath[i];
      Napi::Object ho = Napi::Object::New(env);
      SetAddr(ho, "gateway", h.gateway);
      ho.Set("oif", Napi::Number::New(env, h.oif));
      ho.Set("weight", Napi::Number::New(env, h.weight));
      ho.Set("flags", Napi::Number::New(env, h.flags));
      mp.Set(static_cast<uint32_t>(i), ho);
    }
    o.Set("multipath", mp);
  }
  return o;
}

// routeEncode(batch, msgType, nlFlags, family, dstLen, srcLen, tos, table, protocol, scope, type,
//             rtmFlags, dst, src, prefsrc, gateway, oif, priority, nhId, multipath)
// multipath: null or an array of [gateway bytes | null, oif, weight 1..256, rtnh flags].
Napi::Value RouteEncode(const Napi::CallbackInfo& info) {
  const char* fn = "routeEncode";
  Napi::Env env = info.Env();
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  uint16_t msgType = static_cast<uint16_t>(Bounded(info, 1, fn, "msgType", 0xffff));
  uint16_t nlFlags = static_cast<uint16_t>(Bounded(info, 2, fn, "nlFlags", 0xffff));
  route::Route r;
  r.family = static_cast<uint8_t>(Bounded(info, 3, fn, "family", 255));
  r.dstLen = static_cast<uint8_t>(Bounded(info, 4, fn, "dstLen", 128));
  r.srcLen = static_cast<uint8_t>(Bounded(info, 5, fn, "srcLen", 128));
  r.tos = static_cast<uint8_t>(Bounded(info, 6, fn, "tos", 255));
  r.table = U32Arg(info, 7, fn, "table");
  r.protocol = static_cast<uint8_t>(Bounded(info, 8, fn, "protocol", 255));
  r.scope = static_cast<uint8_t>(Bounded(info, 9, fn, "scope", 255));
  r.type = static_cast<uint8_t>(Bounded(info, 10, fn, "type", 255));
  r.flags = U32Arg(info, 11, fn, "rtmFlags");
  r.dst = AddrArg(info, 12, fn, "dst");
  r.src = AddrArg(info, 13, fn, "src");
  r.prefsrc = AddrArg(info, 14, fn, "prefsrc");
  r.gateway = AddrArg(info, 15, fn, "gateway");
  r.oif = U32Arg(info, 16, fn, "oif");
  r.hasPriority = OptU32(info, 17, fn, "priority", &r.priority);
  r.nhId = U32Arg(info, 18, fn, "nhId");
  if (info.Length() > 19 && !info[19].IsNull() && !info[19].IsUndefined()) {
    if (!info[19].IsArray()) throw Napi::TypeError::New(env, "routeEncode: multipath must be an array or null");
    Napi::Array mp = info[19].As<Napi::Array>();
    for (uint32_t i = 0; i < mp.Length(); ++i) {
      Napi::Value v = mp.Get(i);
      if (!v.IsArray() || v.As<Napi::Array>().Length() != 4)
        throw Napi::TypeError::New(env, "routeEncode: multipath[" + std::to_string(i) + "] must be [gateway, oif, weight, flags]");
      Napi::Array t = v.As<Napi::Array>();
      route::Hop h;
      Napi::Value g = t.Get(0u);
      if (!g.IsNull() && !g.IsUndefined()) {
        if (!arrays::IsTypedArrayOf<uint8_t>(g))
          throw Napi::TypeError::New(env, "routeEncode: multipath gateway must be a Uint8Array or null");
        Napi::Uint8Array ga = g.As<Napi::Uint8Array>();
        if (!h.gateway.assign(ga.Data(), ga.ByteLength()))
          throw Napi::RangeError::New(env, "routeEncode: multipath gateway must be 4 or 16 bytes");
      }
      Napi::Value oif = t.Get(1u), weight = t.Get(2u), flags = t.Get(3u);
      if (!oif.IsNumber() || !weight.IsNumber() || !flags.IsNumber())
        throw Napi::TypeError::New(env, "routeEncode: multipath oif, weight and flags must be numbers");
      h.oif = oif.As<Napi::Number>().Uint32Value();
      h.weight = weight.As<Napi::Number>().Uint32Value();
      h.flags = static_cast<uint8_t>(flags.As<Napi::Number>().Uint32Value());
      if (h.weight < 1 || h.weight > 256)
        throw Napi::RangeError::New(env, "routeEncode: multipath weight must be in 1..256, got " + std::to_string(h.weight));
      r.multipath.push_back(h);
    }
  }
  route::EncodeRoute(w, msgType, nlFlags, r);
  return env.Undefined();
}

// routeEncodeMany(batch, msgType, nlFlags, rows, count): `count` IPv4 routes of the simple shape
// (destination prefix, optional IPv4 gateway, oif, table, protocol, scope, type, tos, optional
// priority, onlink), already validated by lib/rtnl/route.ts, as rows of kRouteRowStride u32:
//   [dst, dstLen, tos, table, protocol, scope, type, oif, priority, gateway, bits, 0]
// dst and gateway hold the address's network-order bytes as b0 | b1 << 8 | b2 << 16 | b3 << 24;
// bits: 1 = has gateway, 2 = has priority, 4 = onlink (RTNH_F_ONLINK). One N-API call for a whole
// run of routes: the per-route encoder's ~19 positional arguments cost more than the encoding.
constexpr uint32_t kRouteRowStride = 12;

void Ipv4FromRow(uint32_t v, route::Addr* a) {
  a->family = AF_INET;
  a->bytes[0] = static_cast<uint8_t>(v);
  a->bytes[1] = static_cast<uint8_t>(v >> 8);
  a->bytes[2] = static_cast<uint8_t>(v >> 16);
  a->bytes[3] = static_cast<uint8_t>(v >> 24);
}

Napi::Value RouteEncodeMany(const Napi::CallbackInfo& info) {
  const char* fn = "routeEncodeMany";
  Napi::Env env = info.Env();
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  uint16_t msgType = static_cast<uint16_t>(Bounded(info, 1, fn, "msgType", 0xffff));
  uint16_t nlFlags = static_cast<uint16_t>(Bounded(info, 2, fn, "nlFlags", 0xffff));
  Napi::Uint32Array rows = arrays::TypedArrayArg<uint32_t>(info, 3, fn, "rows");
  uint32_t count = U32Arg(info, 4, fn, "count");
  if (static_cast<uint64_t>(count) * kRouteRowStride > rows.ElementLength())
    throw Napi::RangeError::New(env, "routeEncodeMany: rows holds " + std::to_string(rows.ElementLength() / kRouteRowStride) +
                                         " rows, fewer than count " + std::to_string(count));
  const uint32_t* row = rows.Data();
  route::Route r;
  r.family = AF_INET;
  for (uint32_t i = 0; i < count; ++i, row += kRouteRowStride) {
    if (row[1] > 32 || row[2] > 255 || row[4] > 255 || row[5] > 255 || row[6] > 255)
      throw Napi::RangeError::New(env, "routeEncodeMany: row " + std::to_string(i) +
                                           " has dstLen > 32 or tos/protocol/scope/type > 255");
    r.dstLen = static_cast<uint8_t>(row[1]);
    r.tos = static_cast<uint8_t>(row[2]);
    r.table = row[3];
    r.protocol = static_cast<uint8_t>(row[4]);
    r.scope = static_cast<uint8_t>(row[5]);
    r.type = static_cast<uint8_t>(row[6]);
    r.oif = row[7];
    uint32_t bits = row[10];
    r.hasPriority = (bits & 2) != 0;
    r.priority = row[8];
    r.flags = (bits & 4) ? RTNH_F_ONLINK : 0;
    if (r.dstLen) Ipv4FromRow(row[0], &r.dst);
    else r.dst.family = 0;
    if (bits & 1) Ipv4FromRow(row[9], &r.gateway);
    else r.gateway.family = 0;
    route::EncodeRoute(w, msgType, nlFlags, r);
  }
  return env.Undefined();
}

Napi::Value RouteEncodeDump(const Napi::CallbackInfo& info) {
  nl::MessageWriter& w = BatchArg(info, 0, "routeEncodeDump");
  route::EncodeRouteDump(w, static_cast<uint8_t>(Bounded(info, 1, "routeEncodeDump", "family", 255)));
  return info.Env().Undefined();
}

// routeEncodeQuery(batch, family, dst, src, iif, oif, mark, uid, ipProto, sport, dport, tos,
//                  fibMatch, table); mark/uid/sport/dport -1 = absent.
Napi::Value RouteEncodeQuery(const Napi::CallbackInfo& info) {
  const char* fn = "routeEncodeQuery";
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  route::Query q;
  q.family = static_cast<uint8_t>(Bounded(info, 1, fn, "family", 255));
  q.dst = AddrArg(info, 2, fn, "dst");
  q.src = AddrArg(info, 3, fn, "src");
  q.iif = U32Arg(info, 4, fn, "iif");
  q.oif = U32Arg(info, 5, fn, "oif");
  q.hasMark = OptU32(info, 6, fn, "mark", &q.mark);
  q.hasUid = OptU32(info, 7, fn, "uid", &q.uid);
  q.ipProto = static_cast<uint8_t>(Bounded(info, 8, fn, "ipProto", 255));
  uint32_t port = 0;
  if ((q.hasSport = OptU32(info, 9, fn, "sport", &port))) q.sport = static_cast<uint16_t>(port);
  if ((q.hasDport = OptU32(info, 10, fn, "dport", &port))) q.dport = static_cast<uint16_t>(port);
  q.tos = static_cast<uint8_t>(Bounded(info, 11, fn, "tos", 255));
  q.fibMatch = BoolArg(info, 12, fn, "fibMatch");
  q.table = U32Arg(info, 13, fn, "table");
  route::EncodeQuery(w, q);
  return info.Env().Undefined();
}

// routeDecode(buffer, offset) -> route object (msgType says NEW or DEL).
Napi::Value RouteDecode(const Napi::CallbackInfo& info) {
  size_t left;
  const uint8_t* m = MessageAt(info, 0, 1, "routeDecode", &left);
  route::Route r;
  std::string err;
  if (!route::DecodeRoute(m, left, &r, &err)) throw Napi::RangeError::New(info.Env(), "routeDecode: " + err);
  return RouteJs(info.Env(), MsgType(m), r);
}

// routeDecodeMany(buffer, offsets, begin, count, table) -> route objects of the messages
// offsets[begin .. begin+count), keeping RTM_NEWROUTE messages of AF_INET/AF_INET6 and, when
// table != 0, of that table only (a dump of 100,000 routes builds only the objects asked for).
Napi::Value RouteDecodeMany(const Napi::CallbackInfo& info) {
  const char* fn = "routeDecodeMany";
  Napi::Env env = info.Env();
  std::string_view b = BytesArg(info, 0, fn, "buffer");
  Napi::Uint32Array offs = arrays::TypedArrayArg<uint32_t>(info, 1, fn, "offsets");
  uint32_t begin = U32Arg(info, 2, fn, "begin");
  uint32_t count = U32Arg(info, 3, fn, "count");
  uint32_t table = U32Arg(info, 4, fn, "table");
  if (static_cast<uint64_t>(begin) + count > offs.ElementLength())
    throw Napi::RangeError::New(env, "routeDecodeMany: begin + count exceeds offsets");
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  const uint8_t* base = reinterpret_cast<const uint8_t*>(b.data());
  for (uint32_t i = begin; i < begin + count; ++i) {
    uint32_t off = offs[i];
    if (off > b.size() || b.size() - off < sizeof(nlmsghdr)) throw Napi::RangeError::New(env, "routeDecodeMany: offset out of range");
    if (MsgType(base + off) != RTM_NEWROUTE) continue;
    route::Route r;
    std::string err;
    if (!route::DecodeRoute(base + off, b.size() - off, &r, &err)) throw Napi::RangeError::New(env, "routeDecodeMany: " + err);
    if (r.family != AF_INET && r.family != AF_INET6) continue;
    if (table && r.table != table) continue;
    out.Set(n++, RouteJs(env, RTM_NEWROUTE, r));
  }
  return out;
}

// routeDecodeColumns(buffer, offsets, begin, count, table) -> Uint32Array of kRouteColStride u32
// per kept message (the same messages routeDecodeMany keeps), for lib/rtnl/route.ts to build
// Route objects in JS: setting a dozen named properties through N-API cost ~9 us a route, more
// than the dump itself. Row:
//   [message index, fallback, dstLen | srcLen << 8 | tos << 16 | type << 24, table,
//    protocol | scope << 8 | bits << 16, rtm flags, oif, priority, nhId, expires, mtu,
//    dst, src, prefsrc, gateway, 0]
// bits: 1 dst, 2 src, 4 prefsrc, 8 gateway, 16 priority present; addresses as network-order
// bytes b0 | b1 << 8 | b2 << 16 | b3 << 24. fallback = 1 for anything but a single-path IPv4
// route with IPv4 addresses: the caller decodes that message with routeDecode instead.
constexpr uint32_t kRouteColStride = 16;

uint32_t Ipv4Word(const route::Addr& a) {
  return static_cast<uint32_t>(a.bytes[0]) | static_cast<uint32_t>(a.bytes[1]) << 8 |
         static_cast<uint32_t>(a.bytes[2]) << 16 | static_cast<uint32_t>(a.bytes[3]) << 24;
}

Napi::Value RouteDecodeColumns(const Napi::CallbackInfo& info) {
  const char* fn = "routeDecodeColumns";
  Napi::Env env = info.Env();
  std::string_view b = BytesArg(info, 0, fn, "buffer");
  Napi::Uint32Array offs = arrays::TypedArrayArg<uint32_t>(info, 1, fn, "offsets");
  uint32_t begin = U32Arg(info, 2, fn, "begin");
  uint32_t count = U32Arg(info, 3, fn, "count");
  uint32_t table = U32Arg(info, 4, fn, "table");
  if (static_cast<uint64_t>(begin) + count > offs.ElementLength())
    throw Napi::RangeError::New(env, "routeDecodeColumns: begin + count exceeds offsets");
  std::vector<uint32_t> cols;
  cols.reserve(static_cast<size_t>(count) * kRouteColStride);
  const uint8_t* base = reinterpret_cast<const uint8_t*>(b.data());
  auto v4 = [](const route::Addr& a) { return !a.present() || a.family == AF_INET; };
  for (uint32_t i = begin; i < begin + count; ++i) {
    uint32_t off = offs[i];
    if (off > b.size() || b.size() - off < sizeof(nlmsghdr)) throw Napi::RangeError::New(env, "routeDecodeColumns: offset out of range");
    if (MsgType(base + off) != RTM_NEWROUTE) continue;
    route::Route r;
    std::string err;
    if (!route::DecodeRoute(base + off, b.size() - off, &r, &err)) throw Napi::RangeError::New(env, "routeDecodeColumns: " + err);
    if (r.family != AF_INET && r.family != AF_INET6) continue;
    if (table && r.table != table) continue;
    bool simple = r.family == AF_INET && r.multipath.empty() && v4(r.dst) && v4(r.src) && v4(r.prefsrc) && v4(r.gateway);
    uint32_t bits = (r.dst.present() ? 1 : 0) | (r.src.present() ? 2 : 0) | (r.prefsrc.present() ? 4 : 0) |
                    (r.gateway.present() ? 8 : 0) | (r.hasPriority ? 16 : 0);
    uint32_t row[kRouteColStride] = {
        i,
        simple ? 0u : 1u,
        static_cast<uint32_t>(r.dstLen) | static_cast<uint32_t>(r.srcLen) << 8 | static_cast<uint32_t>(r.tos) << 16 |
            static_cast<uint32_t>(r.type) << 24,
        r.table,
        static_cast<uint32_t>(r.protocol) | static_cast<uint32_t>(r.scope) << 8 | bits << 16,
        r.flags,
        r.oif,
        r.priority,
        r.nhId,
        r.expires,
        r.mtu,
        simple && r.dst.present() ? Ipv4Word(r.dst) : 0,
        simple && r.src.present() ? Ipv4Word(r.src) : 0,
        simple && r.prefsrc.present() ? Ipv4Word(r.prefsrc) : 0,
        simple && r.gateway.present() ? Ipv4Word(r.gateway) : 0,
        0,
    };
    cols.insert(cols.end(), row, row + kRouteColStride);
  }
  Napi::Uint32Array out = Napi::Uint32Array::New(env, cols.size());
  if (!cols.empty()) std::memcpy(out.Data(), cols.data(), cols.size() * sizeof(uint32_t));
  return out;
}

// ---- nexthops -----------------------------------------------------------------------------

Napi::Object NextHopJs(Napi::Env env, uint16_t msgType, const nexthop::NextHop& h) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("msgType", Napi::Number::New(env, msgType));
  o.Set("id", Napi::Number::New(env, h.id));
  o.Set("family", Napi::Number::New(env, h.family));
  o.Set("scope", Napi::Number::New(env, h.scope));
  o.Set("protocol", Napi::Number::New(env, h.protocol));
  o.Set("flags", Napi::Number::New(env, h.flags));
  SetAddr(o, "gateway", h.gateway);
  if (h.oif) o.Set("oif", Napi::Number::New(env, h.oif));
  if (h.blackhole) o.Set("blackhole", Napi::Boolean::New(env, true));
  if (h.fdb) o.Set("fdb", Napi::Boolean::New(env, true));
  if (!h.group.empty()) {
    Napi::Array g = Napi::Array::New(env, h.group.size());
    for (size_t i = 0; i < h.group.size(); ++i) {
      Napi::Object e = Napi::Object::New(env);
      e.Set("id", Napi::Number::New(env, h.group[i].id));
      e.Set("weight", Napi::Number::New(env, h.group[i].weight));
      g.Set(static_cast<uint32_t>(i), e);
    }
    o.Set("group", g);
    o.Set("groupType", Napi::Number::New(env, h.groupType));
  }
  if (h.hasRes) {
    o.Set("buckets", Napi::Number::New(env, h.buckets));
    o.Set("idleTimer", Napi::Number::New(env, h.idleTimer));
    o.Set("unbalancedTimer", Napi::Number::New(env, h.unbalancedTimer));
    o.Set("unbalancedTime", Napi::Number::New(env, static_cast<double>(h.unbalancedTime)));
  }
  return o;
}

// nexthopEncode(batch, nlFlags, family, protocol, flags, id, gateway, oif, blackhole, fdb,
//               groupIds, groupWeights, groupType, buckets, idleTimer, unbalancedTimer)
// groupIds/groupWeights: Uint32Arrays of equal length, or null; timers -1 = absent (clock_t).
Napi::Value NextHopEncode(const Napi::CallbackInfo& info) {
  const char* fn = "nexthopEncode";
  Napi::Env env = info.Env();
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  uint16_t nlFlags = static_cast<uint16_t>(Bounded(info, 1, fn, "nlFlags", 0xffff));
  nexthop::NextHop h;
  h.family = static_cast<uint8_t>(Bounded(info, 2, fn, "family", 255));
  h.protocol = static_cast<uint8_t>(Bounded(info, 3, fn, "protocol", 255));
  h.flags = U32Arg(info, 4, fn, "flags");
  h.id = U32Arg(info, 5, fn, "id");
  h.gateway = AddrArg(info, 6, fn, "gateway");
  h.oif = U32Arg(info, 7, fn, "oif");
  h.blackhole = BoolArg(info, 8, fn, "blackhole");
  h.fdb = BoolArg(info, 9, fn, "fdb");
  if (!info[10].IsNull() && !info[10].IsUndefined()) {
    if (!arrays::IsTypedArrayOf<uint32_t>(info[10]) || !arrays::IsTypedArrayOf<uint32_t>(info[11]))
      throw Napi::TypeError::New(env, "nexthopEncode: groupIds and groupWeights must be Uint32Arrays");
    Napi::Uint32Array ids = info[10].As<Napi::Uint32Array>(), ws = info[11].As<Napi::Uint32Array>();
    if (ids.ElementLength() != ws.ElementLength())
      throw Napi::RangeError::New(env, "nexthopEncode: groupIds and groupWeights differ in length");
    for (size_t i = 0; i < ids.ElementLength(); ++i) {
      if (ws[i] < 1 || ws[i] > 65535)
        throw Napi::RangeError::New(env, "nexthopEncode: group weight must be in 1..65535, got " + std::to_string(ws[i]));
      h.group.push_back(nexthop::GroupEntry{ids[i], ws[i]});
    }
  }
  h.groupType = static_cast<uint16_t>(Bounded(info, 12, fn, "groupType", 0xffff));
  h.buckets = static_cast<uint16_t>(Bounded(info, 13, fn, "buckets", 0xffff));
  h.hasIdleTimer = OptU32(info, 14, fn, "idleTimer", &h.idleTimer);
  h.hasUnbalancedTimer = OptU32(info, 15, fn, "unbalancedTimer", &h.unbalancedTimer);
  h.hasRes = h.groupType == 1;
  nexthop::EncodeNextHop(w, nlFlags, h);
  return env.Undefined();
}

Napi::Value NextHopEncodeById(const Napi::CallbackInfo& info) {
  const char* fn = "nexthopEncodeById";
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  nexthop::EncodeById(w, static_cast<uint16_t>(Bounded(info, 1, fn, "msgType", 0xffff)), U32Arg(info, 2, fn, "id"));
  return info.Env().Undefined();
}

Napi::Value NextHopEncodeDump(const Napi::CallbackInfo& info) {
  const char* fn = "nexthopEncodeDump";
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  nexthop::EncodeDump(w, static_cast<uint8_t>(Bounded(info, 1, fn, "family", 255)), BoolArg(info, 2, fn, "groupsOnly"),
                      U32Arg(info, 3, fn, "oif"));
  return info.Env().Undefined();
}

Napi::Value NextHopEncodeBucketDump(const Napi::CallbackInfo& info) {
  const char* fn = "nexthopEncodeBucketDump";
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  nexthop::EncodeBucketDump(w, U32Arg(info, 1, fn, "groupId"));
  return info.Env().Undefined();
}

Napi::Value NextHopDecode(const Napi::CallbackInfo& info) {
  size_t left;
  const uint8_t* m = MessageAt(info, 0, 1, "nexthopDecode", &left);
  nexthop::NextHop h;
  std::string err;
  if (!nexthop::DecodeNextHop(m, left, &h, &err)) throw Napi::RangeError::New(info.Env(), "nexthopDecode: " + err);
  return NextHopJs(info.Env(), MsgType(m), h);
}

Napi::Value NextHopBucketDecode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t left;
  const uint8_t* m = MessageAt(info, 0, 1, "nexthopBucketDecode", &left);
  nexthop::Bucket b;
  std::string err;
  if (!nexthop::DecodeBucket(m, left, &b, &err)) throw Napi::RangeError::New(env, "nexthopBucketDecode: " + err);
  Napi::Object o = Napi::Object::New(env);
  o.Set("groupId", Napi::Number::New(env, b.groupId));
  o.Set("index", Napi::Number::New(env, b.index));
  o.Set("idleTime", Napi::Number::New(env, static_cast<double>(b.idleTime)));
  o.Set("nhId", Napi::Number::New(env, b.nhId));
  return o;
}

// ---- rules --------------------------------------------------------------------------------

// ruleEncode(batch, msgType, nlFlags, family, dstLen, srcLen, tos, action, flags, table, dst, src,
//            iifname, oifname, priority, goto, mark, mask, suppressPrefixlen, suppressIfgroup,
//            l3mdev, uidStart, uidEnd, protocol, ipProto, sportStart, sportEnd, dportStart,
//            dportEnd, dscp); every optional number is -1 when absent.
Napi::Value RuleEncode(const Napi::CallbackInfo& info) {
  const char* fn = "ruleEncode";
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  uint16_t msgType = static_cast<uint16_t>(Bounded(info, 1, fn, "msgType", 0xffff));
  uint16_t nlFlags = static_cast<uint16_t>(Bounded(info, 2, fn, "nlFlags", 0xffff));
  rule::Rule r;
  r.family = static_cast<uint8_t>(Bounded(info, 3, fn, "family", 255));
  r.dstLen = static_cast<uint8_t>(Bounded(info, 4, fn, "dstLen", 128));
  r.srcLen = static_cast<uint8_t>(Bounded(info, 5, fn, "srcLen", 128));
  r.tos = static_cast<uint8_t>(Bounded(info, 6, fn, "tos", 255));
  r.action = static_cast<uint8_t>(Bounded(info, 7, fn, "action", 255));
  r.flags = U32Arg(info, 8, fn, "flags");
  r.table = U32Arg(info, 9, fn, "table");
  r.dst = AddrArg(info, 10, fn, "dst");
  r.src = AddrArg(info, 11, fn, "src");
  r.iifname = StrArg(info, 12, fn, "iifname");
  r.oifname = StrArg(info, 13, fn, "oifname");
  r.hasPriority = OptU32(info, 14, fn, "priority", &r.priority);
  r.hasGoto = OptU32(info, 15, fn, "goto", &r.gotoTarget);
  r.hasMark = OptU32(info, 16, fn, "mark", &r.mark);
  r.hasMask = OptU32(info, 17, fn, "mask", &r.mask);
  uint32_t v = 0;
  if ((r.hasSuppressPrefixlen = OptU32(info, 18, fn, "suppressPrefixlen", &v))) r.suppressPrefixlen = static_cast<int32_t>(v);
  if ((r.hasSuppressIfgroup = OptU32(info, 19, fn, "suppressIfgroup", &v))) r.suppressIfgroup = static_cast<int32_t>(v);
  r.l3mdev = BoolArg(info, 20, fn, "l3mdev");
  if ((r.hasUidRange = OptU32(info, 21, fn, "uidStart", &r.uidStart))) r.uidEnd = U32Arg(info, 22, fn, "uidEnd");
  if ((r.hasProtocol = OptU32(info, 23, fn, "protocol", &v))) r.protocol = static_cast<uint8_t>(v);
  r.ipProto = static_cast<uint8_t>(Bounded(info, 24, fn, "ipProto", 255));
  if ((r.hasSport = OptU32(info, 25, fn, "sportStart", &v))) {
    r.sportStart = static_cast<uint16_t>(v);
    r.sportEnd = static_cast<uint16_t>(Bounded(info, 26, fn, "sportEnd", 0xffff));
  }
  if ((r.hasDport = OptU32(info, 27, fn, "dportStart", &v))) {
    r.dportStart = static_cast<uint16_t>(v);
    r.dportEnd = static_cast<uint16_t>(Bounded(info, 28, fn, "dportEnd", 0xffff));
  }
  if ((r.hasDscp = OptU32(info, 29, fn, "dscp", &v))) r.dscp = static_cast<uint8_t>(v);
  rule::EncodeRule(w, msgType, nlFlags, r);
  return info.Env().Undefined();
}

Napi::Value RuleEncodeDump(const Napi::CallbackInfo& info) {
  nl::MessageWriter& w = BatchArg(info, 0, "ruleEncodeDump");
  rule::EncodeRuleDump(w, static_cast<uint8_t>(Bounded(info, 1, "ruleEncodeDump", "family", 255)));
  return info.Env().Undefined();
}

Napi::Value RuleDecode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t left;
  const uint8_t* m = MessageAt(info, 0, 1, "ruleDecode", &left);
  rule::Rule r;
  std::string err;
  if (!rule::DecodeRule(m, left, &r, &err)) throw Napi::RangeError::New(env, "ruleDecode: " + err);
  Napi::Object o = Napi::Object::New(env);
  auto num = [&](const char* k, double v) { o.Set(k, Napi::Number::New(env, v)); };
  num("msgType", MsgType(m));
  num("family", r.family);
  num("dstLen", r.dstLen);
  num("srcLen", r.srcLen);
  num("tos", r.tos);
  num("action", r.action);
  num("flags", r.flags);
  num("table", r.table);
  SetAddr(o, "dst", r.dst);
  SetAddr(o, "src", r.src);
  if (!r.iifname.empty()) o.Set("iifname", r.iifname);
  if (!r.oifname.empty()) o.Set("oifname", r.oifname);
  if (r.hasPriority) num("priority", r.priority);
  if (r.hasGoto) num("goto", r.gotoTarget);
  if (r.hasMark) num("mark", r.mark);
  if (r.hasMask) num("mask", r.mask);
  if (r.hasSuppressPrefixlen) num("suppressPrefixlen", r.suppressPrefixlen);
  if (r.hasSuppressIfgroup) num("suppressIfgroup", r.suppressIfgroup);
  if (r.l3mdev) o.Set("l3mdev", Napi::Boolean::New(env, true));
  if (r.hasUidRange) {
    num("uidStart", r.uidStart);
    num("uidEnd", r.uidEnd);
  }
  if (r.hasProtocol) num("protocol", r.protocol);
  if (r.ipProto) num("ipProto", r.ipProto);
  if (r.hasSport) {
    num("sportStart", r.sportStart);
    num("sportEnd", r.sportEnd);
  }
  if (r.hasDport) {
    num("dportStart", r.dportStart);
    num("dportEnd", r.dportEnd);
  }
  if (r.hasDscp) num("dscp", r.dscp);
  if (r.hasFlow) num("flow", r.flow);
  return o;
}

}  // namespace

void InitRoute(Napi::Env env, Napi::Object exports) {
  exports.Set("routeEncode", Napi::Function::New<RouteEncode>(env, "routeEncode"));
  exports.Set("routeEncodeMany", Napi::Function::New<RouteEncodeMany>(env, "routeEncodeMany"));
  exports.Set("routeEncodeDump", Napi::Function::New<RouteEncodeDump>(env, "routeEncodeDump"));
  exports.Set("routeEncodeQuery", Napi::Function::New<RouteEncodeQuery>(env, "routeEncodeQuery"));
  exports.Set("routeDecode", Napi::Function::New<RouteDecode>(env, "routeDecode"));
  exports.Set("routeDecodeColumns", Napi::Function::New<RouteDecodeColumns>(env, "routeDecodeColumns"));
  exports.Set("routeDecodeMany", Napi::Function::New<RouteDecodeMany>(env, "routeDecodeMany"));
  exports.Set("nexthopEncode", Napi::Function::New<NextHopEncode>(env, "nexthopEncode"));
  exports.Set("nexthopEncodeById", Napi::Function::New<NextHopEncodeById>(env, "nexthopEncodeById"));
  exports.Set("nexthopEncodeDump", Napi::Function::New<NextHopEncodeDump>(env, "nexthopEncodeDump"));
  exports.Set("nexthopEncodeBucketDump", Napi::Function::New<NextHopEncodeBucketDump>(env, "nexthopEncodeBucketDump"));
  exports.Set("nexthopDecode", Napi::Function::New<NextHopDecode>(env, "nexthopDecode"));
  exports.Set("nexthopBucketDecode", Napi::Function::New<NextHopBucketDecode>(env, "nexthopBucketDecode"));
  exports.Set("ruleEncode", Napi::Function::New<RuleEncode>(env, "ruleEncode"));
  exports.Set("ruleEncodeDump", Napi::Function::New<RuleEncodeDump>(env, "ruleEncodeDump"));
  exports.Set("ruleDecode", Napi::Function::New<RuleDecode>(env, "ruleDecode"));
}

}  // namespace lvskit
