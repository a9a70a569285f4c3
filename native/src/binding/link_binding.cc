// N-API glue for links and addresses (families/link.h, families/addr.h) and the namespace-fd
// helper that IFLA_NET_NS_FD needs. Values arrive already validated by lib/rtnl/*.ts; optional
// numbers are passed as -1 and optional strings/buffers as null.
#include <linux/rtnetlink.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "binding/addon.h"
#include "binding/batch.h"
#include "binding/errors.h"
#include "families/addr.h"
#include "families/link.h"
#include "transport/socket.h"

namespace lvskit {

namespace {

std::optional<uint32_t> OptU32(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  int64_t v = I64Arg(info, i, fn, name);
  if (v < 0) return std::nullopt;
  if (v > 0xffffffffLL) throw Napi::RangeError::New(info.Env(), std::string(fn) + ": " + name + " out of range");
  return static_cast<uint32_t>(v);
}

std::optional<int32_t> OptFd(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  int64_t v = I64Arg(info, i, fn, name);
  if (v < 0) return std::nullopt;
  if (v > 0x7fffffffLL) throw Napi::RangeError::New(info.Env(), std::string(fn) + ": " + name + " out of range");
  return static_cast<int32_t>(v);
}

std::optional<std::string> OptStr(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  if (info.Length() <= i || info[i].IsNull() || info[i].IsUndefined()) return std::nullopt;
  return StrArg(info, i, fn, name);
}

std::optional<std::string> OptBytes(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  if (info.Length() <= i || info[i].IsNull() || info[i].IsUndefined()) return std::nullopt;
  return std::string(BytesArg(info, i, fn, name));
}

link::LinkRef RefArgs(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  link::LinkRef r;
  r.index = U32Arg(info, i, fn, "index");
  if (r.index == 0) r.name = StrArg(info, i + 1, fn, "name");
  return r;
}

// (buffer, offset): the message starting at `offset`, bounds-checked against the buffer.
std::pair<const uint8_t*, size_t> MessageArg(const Napi::CallbackInfo& info, const char* fn) {
  std::string_view b = BytesArg(info, 0, fn, "buffer");
  uint32_t off = U32Arg(info, 1, fn, "offset");
  if (off > b.size()) throw Napi::RangeError::New(info.Env(), std::string(fn) + ": offset past the end of the buffer");
  return {reinterpret_cast<const uint8_t*>(b.data()) + off, b.size() - off};
}

Napi::Value Bytes(Napi::Env env, const std::optional<std::string>& s) {
  if (!s) return env.Undefined();
  return Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(s->data()), s->size());
}

template <class T>
void SetOpt(Napi::Object& o, const char* key, const std::optional<T>& v) {
  if (v) o.Set(key, Napi::Number::New(o.Env(), static_cast<double>(*v)));
}

// linkEncodeGet(batch, index, name, skipStats)
Napi::Value LinkEncodeGet(const Napi::CallbackInfo& info) {
  const char* fn = "linkEncodeGet";
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  link::LinkRef r = RefArgs(info, 1, fn);
  link::EncodeGet(w, r, BoolArg(info, 3, fn, "skipStats"));
  return info.Env().Undefined();
}

// linkEncodeDump(batch, skipStats)
Napi::Value LinkEncodeDump(const Napi::CallbackInfo& info) {
  const char* fn = "linkEncodeDump";
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  link::EncodeDump(w, BoolArg(info, 1, fn, "skipStats"));
  return info.Env().Undefined();
}

// linkEncodeSet(batch, index, name, flags, change, mtu, newName, address, txqlen, master,
//               netnsFd, netnsPid)
Napi::Value LinkEncodeSet(const Napi::CallbackInfo& info) {
  const char* fn = "linkEncodeSet";
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  link::LinkChange c;
  c.ref = RefArgs(info, 1, fn);
  c.flags = U32Arg(info, 3, fn, "flags");
  c.change = U32Arg(info, 4, fn, "change");
  c.mtu = OptU32(info, 5, fn, "mtu");
  c.newName = OptStr(info, 6, fn, "newName");
  c.address = OptBytes(info, 7, fn, "address");
  c.txqlen = OptU32(info, 8, fn, "txqlen");
  c.master = OptU32(info, 9, fn, "master");
  c.netnsFd = OptFd(info, 10, fn, "netnsFd");
  c.netnsPid = OptU32(info, 11, fn, "netnsPid");
  link::EncodeSet(w, c);
  return info.Env().Undefined();
}

// linkEncodeCreate(batch, name, kind, flags, mtu, address, netnsFd, peerName, peerAddress,
//                  peerNetnsFd)
Napi::Value LinkEncodeCreate(const Napi::CallbackInfo& info) {
  const char* fn = "linkEncodeCreate";
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  link::LinkCreate c;
  c.name = StrArg(info, 1, fn, "name");
  c.kind = StrArg(info, 2, fn, "kind");
  c.flags = U32Arg(info, 3, fn, "flags");
  c.mtu = OptU32(info, 4, fn, "mtu");
  c.address = OptBytes(info, 5, fn, "address");
  c.netnsFd = OptFd(info, 6, fn, "netnsFd");
  c.peerName = OptStr(info, 7, fn, "peerName").value_or("");
  c.peerAddress = OptBytes(info, 8, fn, "peerAddress");
  c.peerNetnsFd = OptFd(info, 9, fn, "peerNetnsFd");
  link::EncodeCreate(w, c);
  return info.Env().Undefined();
}

// linkEncodeDelete(batch, index, name)
Napi::Value LinkEncodeDelete(const Napi::CallbackInfo& info) {
  const char* fn = "linkEncodeDelete";
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  link::EncodeDelete(w, RefArgs(info, 1, fn));
  return info.Env().Undefined();
}

// linkDecode(buffer, offset) -> NativeLink
Napi::Value LinkDecode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto [p, len] = MessageArg(info, "linkDecode");
  link::LinkInfo l;
  std::string err;
  if (!link::Decode(p, len, &l, &err)) throw Napi::Error::New(env, "linkDecode: " + err);
  Napi::Object o = Napi::Object::New(env);
  o.Set("deleted", Napi::Boolean::New(env, l.msgType == RTM_DELLINK));
  o.Set("index", Napi::Number::New(env, l.index));
  o.Set("name", Napi::String::New(env, l.name));
  o.Set("type", Napi::Number::New(env, l.type));
  o.Set("flags", Napi::Number::New(env, l.flags));
  o.Set("kind", Napi::String::New(env, l.kind));
  o.Set("slaveKind", Napi::String::New(env, l.slaveKind));
  SetOpt(o, "mtu", l.mtu);
  SetOpt(o, "minMtu", l.minMtu);
  SetOpt(o, "maxMtu", l.maxMtu);
  SetOpt(o, "txqlen", l.txqlen);
  SetOpt(o, "operstate", l.operstate);
  SetOpt(o, "master", l.master);
  SetOpt(o, "link", l.link);
  SetOpt(o, "linkNetnsId", l.linkNetnsId);
  SetOpt(o, "group", l.group);
  if (l.address) o.Set("address", Bytes(env, l.address));
  if (l.broadcast) o.Set("broadcast", Bytes(env, l.broadcast));
  if (l.permAddress) o.Set("permAddress", Bytes(env, l.permAddress));
  if (l.qdisc) o.Set("qdisc", Napi::String::New(env, *l.qdisc));
  if (l.ifalias) o.Set("alias", Napi::String::New(env, *l.ifalias));
  if (l.stats) {
    Napi::Object s = Napi::Object::New(env);
    const link::LinkStats& st = *l.stats;
    auto n = [&](const char* k, uint64_t v) { s.Set(k, Napi::Number::New(env, static_cast<double>(v))); };
    n("rxPackets", st.rxPackets);
    n("txPackets", st.txPackets);
    n("rxBytes", st.rxBytes);
    n("txBytes", st.txBytes);
    n("rxErrors", st.rxErrors);
    n("txErrors", st.txErrors);
    n("rxDropped", st.rxDropped);
    n("txDropped", st.txDropped);
    n("multicast", st.multicast);
    n("collisions", st.collisions);
    o.Set("stats", s);
  }
  return o;
}

// addrEncode(batch, op /*0 add 1 replace 2 delete*/, family, prefixLength, flags, scope, index,
//            local, peer, broadcast, label, validLifetime, preferredLifetime, metric, proto)
Napi::Value AddrEncode(const Napi::CallbackInfo& info) {
  const char* fn = "addrEncode";
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  addr::AddrRequest r;
  uint32_t op = U32Arg(info, 1, fn, "op");
  if (op > 2) throw Napi::RangeError::New(info.Env(), "addrEncode: op must be 0, 1 or 2");
  r.op = static_cast<addr::Op>(op);
  r.family = static_cast<uint8_t>(U32Arg(info, 2, fn, "family"));
  r.prefixLength = static_cast<uint8_t>(U32Arg(info, 3, fn, "prefixLength"));
  r.flags = U32Arg(info, 4, fn, "flags");
  r.scope = static_cast<uint8_t>(U32Arg(info, 5, fn, "scope"));
  r.index = U32Arg(info, 6, fn, "index");
  r.local = std::string(BytesArg(info, 7, fn, "local"));
  r.peer = OptBytes(info, 8, fn, "peer");
  r.broadcast = OptBytes(info, 9, fn, "broadcast");
  r.label = OptStr(info, 10, fn, "label");
  r.validLifetime = OptU32(info, 11, fn, "validLifetime");
  r.preferredLifetime = OptU32(info, 12, fn, "preferredLifetime");
  r.metric = OptU32(info, 13, fn, "metric");
  std::optional<uint32_t> proto = OptU32(info, 14, fn, "proto");
  if (proto) r.proto = static_cast<uint8_t>(*proto);
  addr::Encode(w, r);
  return info.Env().Undefined();
}

// addrEncodeDump(batch, family, index)
Napi::Value AddrEncodeDump(const Napi::CallbackInfo& info) {
  const char* fn = "addrEncodeDump";
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  addr::EncodeDump(w, static_cast<uint8_t>(U32Arg(info, 1, fn, "family")), U32Arg(info, 2, fn, "index"));
  return info.Env().Undefined();
}

// addrDecode(buffer, offset) -> NativeAddress
Napi::Value AddrDecode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto [p, len] = MessageArg(info, "addrDecode");
  addr::AddrInfo a;
  std::string err;
  if (!addr::Decode(p, len, &a, &err)) throw Napi::Error::New(env, "addrDecode: " + err);
  Napi::Object o = Napi::Object::New(env);
  o.Set("deleted", Napi::Boolean::New(env, a.msgType == RTM_DELADDR));
  o.Set("family", Napi::Number::New(env, a.family));
  o.Set("prefixLength", Napi::Number::New(env, a.prefixLength));
  o.Set("flags", Napi::Number::New(env, a.flags));
  o.Set("scope", Napi::Number::New(env, a.scope));
  o.Set("index", Napi::Number::New(env, a.index));
  if (a.local) o.Set("local", Bytes(env, a.local));
  if (a.address) o.Set("address", Bytes(env, a.address));
  if (a.broadcast) o.Set("broadcast", Bytes(env, a.broadcast));
  if (a.anycast) o.Set("anycast", Bytes(env, a.anycast));
  if (a.label) o.Set("label", Napi::String::New(env, *a.label));
  SetOpt(o, "preferredLifetime", a.preferredLifetime);
  SetOpt(o, "validLifetime", a.validLifetime);
  SetOpt(o, "createdCs", a.createdCs);
  SetOpt(o, "updatedCs", a.updatedCs);
  SetOpt(o, "metric", a.metric);
  SetOpt(o, "proto", a.proto);
  return o;
}

// netnsOpenFd(kind /*1 path, 2 pid*/, path, pid) -> fd. The caller puts the number in
// IFLA_NET_NS_FD and closes it with netnsCloseFd once the request has been answered: the kernel
// resolves the fd in this process's table while it handles the request (get_net_ns_by_fd).
Napi::Value NetnsOpenFd(const Napi::CallbackInfo& info) {
  const char* fn = "netnsOpenFd";
  NetnsSpec ns;
  uint32_t kind = U32Arg(info, 0, fn, "kind");
  if (kind == 1) {
    ns.kind = NetnsSpec::Kind::Path;
    ns.path = StrArg(info, 1, fn, "path");
  } else if (kind == 2) {
    ns.kind = NetnsSpec::Kind::Pid;
    ns.pid = static_cast<int>(U32Arg(info, 2, fn, "pid"));
  } else {
    throw Napi::RangeError::New(info.Env(), "netnsOpenFd: kind must be 1 (path) or 2 (pid)");
  }
  SysError e;
  int fd = OpenNamespaceFd(ns, &e);
  if (fd < 0) throw MakeSysError(info.Env(), e, "open namespace");
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value NetnsCloseFd(const Napi::CallbackInfo& info) {
  int64_t fd = I64Arg(info, 0, "netnsCloseFd", "fd");
  if (fd >= 0 && fd <= 0x7fffffff) ::close(static_cast<int>(fd));
  return info.Env().Undefined();
}

}  // namespace

void InitLink(Napi::Env env, Napi::Object exports) {
  exports.Set("linkEncodeGet", Napi::Function::New<LinkEncodeGet>(env, "linkEncodeGet"));
  exports.Set("linkEncodeDump", Napi::Function::New<LinkEncodeDump>(env, "linkEncodeDump"));
  exports.Set("linkEncodeSet", Napi::Function::New<LinkEncodeSet>(env, "linkEncodeSet"));
  exports.Set("linkEncodeCreate", Napi::Function::New<LinkEncodeCreate>(env, "linkEncodeCreate"));
  exports.Set("linkEncodeDelete", Napi::Function::New<LinkEncodeDelete>(env, "linkEncodeDelete"));
  exports.Set("linkDecode", Napi::Function::New<LinkDecode>(env, "linkDecode"));
  exports.Set("addrEncode", Napi::Function::New<AddrEncode>(env, "addrEncode"));
  exports.Set("addrEncodeDump", Napi::Function::New<AddrEncodeDump>(env, "addrEncodeDump"));
  exports.Set("addrDecode", Napi::Function::New<AddrDecode>(env, "addrDecode"));
  exports.Set("netnsOpenFd", Napi::Function::New<NetnsOpenFd>(env, "netnsOpenFd"));
  exports.Set("netnsCloseFd", Napi::Function::New<NetnsCloseFd>(env, "netnsCloseFd"));
}

}  // namespace lvskit
