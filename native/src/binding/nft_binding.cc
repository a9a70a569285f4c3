// N-API glue for native/src/families/nft: positional, already-validated values in (lib/nft/*.ts
// checks and compiles them first), requests appended to a NativeBatch; reply messages out as
// plain JS objects. Optional numbers arrive as -1 for "absent".
//
// A rule's expressions arrive packed in one Uint8Array (lib/nft/compile.ts packExprs: one N-API
// argument instead of eleven property reads per expression): kind, seven numbers, up to two byte
// strings and a name each, whose meaning per kind is spelled out in ExprFromFields below.
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <napi.h>

#include <cstring>
#include <vector>

#include "binding/addon.h"
#include "binding/batch.h"
#include "families/nft.h"

namespace lvskit {

namespace {

using nft::Expr;
using nft::ExprKind;

bool OptU32(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, uint32_t* out) {
  int64_t v = I64Arg(info, i, fn, name);
  if (v == -1) return false;
  if (v < 0 || v > 0xffffffffLL)
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": " + name + " must be -1 or a u32, got " + std::to_string(v));
  *out = static_cast<uint32_t>(v);
  return true;
}

uint8_t U8Arg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  uint32_t v = U32Arg(info, i, fn, name);
  if (v > 255) throw Napi::RangeError::New(info.Env(), std::string(fn) + ": " + name + " must be in 0..255");
  return static_cast<uint8_t>(v);
}

// One expression from its kind, seven numbers and three byte strings (the meaning per kind is in
// the switch). `index` names the expression in errors.
Expr ExprFromFields(Napi::Env env, uint8_t k, const int32_t* n, std::string b0, std::string b1,
                    std::string str, size_t index) {
  auto u = [&](int i) { return static_cast<uint32_t>(n[i]); };
  Expr e;
  e.kind = static_cast<ExprKind>(k);
  switch (e.kind) {
    case ExprKind::Payload:  // base, offset, len, dreg
      e.base = u(0), e.offset = u(1), e.len = u(2), e.dreg = u(3);
      break;
    case ExprKind::Cmp:  // sreg, op, data
      e.sreg = u(0), e.op = u(1), e.data = std::move(b0);
      break;
    case ExprKind::Bitwise:  // sreg, dreg, len, mask, xor
      e.sreg = u(0), e.dreg = u(1), e.len = u(2), e.data = std::move(b0), e.data2 = std::move(b1);
      break;
    case ExprKind::Range:  // sreg, op, from, to
      e.sreg = u(0), e.op = u(1), e.data = std::move(b0), e.data2 = std::move(b1);
      break;
    case ExprKind::Meta:  // key, dreg, sreg (set when non-zero)
      e.key = u(0), e.dreg = u(1), e.sreg = u(2);
      break;
    case ExprKind::Ct:  // key, dreg, dir (-1 = absent)
      e.key = u(0), e.dreg = u(1), e.dir = n[2];
      break;
    case ExprKind::Immediate:  // dreg, verdict code (dreg 0), value bytes (dreg != 0), chain
      e.dreg = u(0), e.isVerdict = e.dreg == 0, e.verdict = n[1];
      e.data = std::move(b0), e.chain = std::move(str);
      break;
    case ExprKind::Lookup:  // sreg, flags, set name
      e.sreg = u(0), e.flags = u(1), e.set = std::move(str);
      break;
    case ExprKind::Nat:  // type, family, addr min/max reg, proto min/max reg, flags (-1 absent)
      e.natType = u(0), e.natFamily = u(1), e.regAddrMin = u(2), e.regAddrMax = u(3);
      e.regProtoMin = u(4), e.regProtoMax = u(5);
      e.hasFlags = n[6] >= 0, e.flags = e.hasFlags ? u(6) : 0;
      break;
    case ExprKind::Masq:  // flags (-1 absent), proto min/max reg
      e.hasFlags = n[0] >= 0, e.flags = e.hasFlags ? u(0) : 0;
      e.regProtoMin = u(1), e.regProtoMax = u(2);
      break;
    case ExprKind::Counter:
      break;
    default:
      throw Napi::RangeError::New(env, "nftEncodeRule: exprs[" + std::to_string(index) + "] has unknown kind " + std::to_string(k));
  }
  return e;
}

// The packed expression list lib/nft/compile.ts packExprs writes: per expression a 32-byte head
// [u8 kind, u8 len(b0), u8 len(b1), u8 len(s), s32 n0..n6 in host order] then b0, b1, s.
std::vector<Expr> ExprsFromPacked(Napi::Env env, std::string_view p) {
  std::vector<Expr> out;
  size_t off = 0;
  while (off < p.size()) {
    size_t index = out.size();
    if (p.size() - off < 32) throw Napi::RangeError::New(env, "nftEncodeRule: exprs[" + std::to_string(index) + "] is truncated");
    const uint8_t* h = reinterpret_cast<const uint8_t*>(p.data()) + off;
    size_t l0 = h[1], l1 = h[2], ls = h[3];
    int32_t n[7];
    std::memcpy(n, h + 4, sizeof n);
    off += 32;
    if (p.size() - off < l0 + l1 + ls) throw Napi::RangeError::New(env, "nftEncodeRule: exprs[" + std::to_string(index) + "] is truncated");
    if (l0 > 64 || l1 > 64) throw Napi::RangeError::New(env, "nftEncodeRule: expression data is at most 64 bytes (NFT_DATA_VALUE_MAXLEN)");
    std::string b0(p.substr(off, l0)), b1(p.substr(off + l0, l1)), str(p.substr(off + l0 + l1, ls));
    off += l0 + l1 + ls;
    out.push_back(ExprFromFields(env, h[0], n, std::move(b0), std::move(b1), std::move(str), index));
  }
  return out;
}

Napi::Value BytesJs(Napi::Env env, const std::string& s) {
  return Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

Napi::Object ExprJs(Napi::Env env, const Expr& e) {
  Napi::Object o = Napi::Object::New(env);
  auto num = [&](const char* k, double v) { o.Set(k, Napi::Number::New(env, v)); };
  switch (e.kind) {
    case ExprKind::Payload:
      o.Set("kind", "payload");
      num("base", e.base), num("offset", e.offset), num("len", e.len), num("dreg", e.dreg);
      break;
    case ExprKind::Cmp:
      o.Set("kind", "cmp");
      num("sreg", e.sreg), num("op", e.op);
      o.Set("data", BytesJs(env, e.data));
      break;
    case ExprKind::Bitwise:
      o.Set("kind", "bitwise");
      num("sreg", e.sreg), num("dreg", e.dreg), num("len", e.len);
      o.Set("mask", BytesJs(env, e.data));
      o.Set("xor", BytesJs(env, e.data2));
      break;
    case ExprKind::Range:
      o.Set("kind", "range");
      num("sreg", e.sreg), num("op", e.op);
      o.Set("from", BytesJs(env, e.data));
      o.Set("to", BytesJs(env, e.data2));
      break;
    case ExprKind::Meta:
      o.Set("kind", "meta");
      num("key", e.key), num("dreg", e.dreg), num("sreg", e.sreg);
      break;
    case ExprKind::Ct:
      o.Set("kind", "ct");
      num("key", e.key), num("dreg", e.dreg), num("sreg", e.sreg), num("dir", e.dir);
      break;
    case ExprKind::Immediate:
      o.Set("kind", "immediate");
      num("dreg", e.dreg);
      if (e.isVerdict) {
        num("verdict", e.verdict);
        if (!e.chain.empty()) o.Set("chain", e.chain);
      } else {
        o.Set("data", BytesJs(env, e.data));
      }
      break;
    case ExprKind::Lookup:
      o.Set("kind", "lookup");
      o.Set("set", e.set);
      num("sreg", e.sreg), num("dreg", e.dreg), num("flags", e.flags);
      break;
    case ExprKind::Nat:
      o.Set("kind", "nat");
      num("type", e.natType), num("family", e.natFamily), num("regAddrMin", e.regAddrMin),
          num("regAddrMax", e.regAddrMax), num("regProtoMin", e.regProtoMin), num("regProtoMax", e.regProtoMax);
      num("flags", e.hasFlags ? static_cast<double>(e.flags) : -1);
      break;
    case ExprKind::Masq:
      o.Set("kind", "masq");
      num("flags", e.hasFlags ? static_cast<double>(e.flags) : -1);
      num("regProtoMin", e.regProtoMin), num("regProtoMax", e.regProtoMax);
      break;
    case ExprKind::Counter:
      o.Set("kind", "counter");
      num("packets", static_cast<double>(e.packets)), num("bytes", static_cast<double>(e.bytes));
      break;
    case ExprKind::Unknown:
      o.Set("kind", "unknown");
      o.Set("name", e.name);
      o.Set("raw", BytesJs(env, e.raw));
      break;
  }
  return o;
}

// nftEncodeTable(batch, msg, nlFlags, family, name, flags)
Napi::Value EncodeTableJs(const Napi::CallbackInfo& info) {
  const char* fn = "nftEncodeTable";
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  nft::Table t;
  uint8_t msg = U8Arg(info, 1, fn, "msg");
  uint16_t flags = static_cast<uint16_t>(U32Arg(info, 2, fn, "nlFlags"));
  t.family = U8Arg(info, 3, fn, "family");
  t.name = StrArg(info, 4, fn, "name");
  t.hasFlags = OptU32(info, 5, fn, "flags", &t.flags);
  nft::EncodeTable(w, msg, flags, t);
  return info.Env().Undefined();
}

// nftEncodeChain(batch, msg, nlFlags, family, table, name, hooknum (-1 regular chain), priority,
//                type ('' none), policy (-1 none))
Napi::Value EncodeChainJs(const Napi::CallbackInfo& info) {
  const char* fn = "nftEncodeChain";
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  nft::Chain c;
  uint8_t msg = U8Arg(info, 1, fn, "msg");
  uint16_t flags = static_cast<uint16_t>(U32Arg(info, 2, fn, "nlFlags"));
  c.family = U8Arg(info, 3, fn, "family");
  c.table = StrArg(info, 4, fn, "table");
  c.name = StrArg(info, 5, fn, "name");
  c.hasHook = OptU32(info, 6, fn, "hooknum", &c.hooknum);
  int64_t prio = I64Arg(info, 7, fn, "priority");
  if (prio < INT32_MIN || prio > INT32_MAX) throw Napi::RangeError::New(info.Env(), "nftEncodeChain: priority must be an s32");
  c.priority = static_cast<int32_t>(prio);
  c.type = StrArg(info, 8, fn, "type");
  c.hasPolicy = OptU32(info, 9, fn, "policy", &c.policy);
  nft::EncodeChain(w, msg, flags, c);
  return info.Env().Undefined();
}

// nftEncodeRule(batch, msg, nlFlags, family, table, chain, handle (-1), position (-1), packed exprs)
Napi::Value EncodeRuleJs(const Napi::CallbackInfo& info) {
  const char* fn = "nftEncodeRule";
  Napi::Env env = info.Env();
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  nft::Rule r;
  uint8_t msg = U8Arg(info, 1, fn, "msg");
  uint16_t flags = static_cast<uint16_t>(U32Arg(info, 2, fn, "nlFlags"));
  r.family = U8Arg(info, 3, fn, "family");
  r.table = StrArg(info, 4, fn, "table");
  r.chain = StrArg(info, 5, fn, "chain");
  int64_t h = I64Arg(info, 6, fn, "handle");
  if (h >= 0) r.hasHandle = true, r.handle = static_cast<uint64_t>(h);
  int64_t p = I64Arg(info, 7, fn, "position");
  if (p >= 0) r.hasPosition = true, r.position = static_cast<uint64_t>(p);
  r.exprs = ExprsFromPacked(env, BytesArg(info, 8, fn, "exprs"));
  nft::EncodeRule(w, msg, flags, r);
  return env.Undefined();
}

// nftEncodeSet(batch, msg, nlFlags, family, table, name, flags, keyType, keyLen, id (-1))
Napi::Value EncodeSetJs(const Napi::CallbackInfo& info) {
  const char* fn = "nftEncodeSet";
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  nft::Set s;
  uint8_t msg = U8Arg(info, 1, fn, "msg");
  uint16_t flags = static_cast<uint16_t>(U32Arg(info, 2, fn, "nlFlags"));
  s.family = U8Arg(info, 3, fn, "family");
  s.table = StrArg(info, 4, fn, "table");
  s.name = StrArg(info, 5, fn, "name");
  s.flags = U32Arg(info, 6, fn, "flags");
  s.keyType = U32Arg(info, 7, fn, "keyType");
  s.keyLen = U32Arg(info, 8, fn, "keyLen");
  s.hasId = OptU32(info, 9, fn, "id", &s.id);
  nft::EncodeSet(w, msg, flags, s);
  return info.Env().Undefined();
}

// nftEncodeSetElems(batch, msg, nlFlags, family, table, set, keys: Uint8Array[])
Napi::Value EncodeSetElemsJs(const Napi::CallbackInfo& info) {
  const char* fn = "nftEncodeSetElems";
  Napi::Env env = info.Env();
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  nft::SetElems e;
  uint8_t msg = U8Arg(info, 1, fn, "msg");
  uint16_t flags = static_cast<uint16_t>(U32Arg(info, 2, fn, "nlFlags"));
  e.family = U8Arg(info, 3, fn, "family");
  e.table = StrArg(info, 4, fn, "table");
  e.set = StrArg(info, 5, fn, "set");
  if (info.Length() <= 6 || !info[6].IsArray()) throw Napi::TypeError::New(env, "nftEncodeSetElems: keys must be an array");
  Napi::Array keys = info[6].As<Napi::Array>();
  // The element list is one attribute nest, and nla_len is a u16: keep it below 64 KiB (the
  // caller splits bigger lists across messages, as nft does).
  size_t nestBytes = 4;
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    Napi::Value k = keys.Get(i);
    if (!k.IsTypedArray() || k.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
      throw Napi::TypeError::New(env, "nftEncodeSetElems: keys[" + std::to_string(i) + "] must be a Uint8Array");
    Napi::Uint8Array a = k.As<Napi::Uint8Array>();
    if (a.ByteLength() > 64) throw Napi::RangeError::New(env, "nftEncodeSetElems: a key is at most 64 bytes");
    nestBytes += 4 + 4 + nl::Align4(4 + a.ByteLength());
    if (nestBytes > 0xffff)
      throw Napi::RangeError::New(env, "nftEncodeSetElems: " + std::to_string(keys.Length()) + " keys overflow one element list (64 KiB): split them across messages");
    e.keys.emplace_back(reinterpret_cast<const char*>(a.Data()), a.ByteLength());
  }
  nft::EncodeSetElems(w, msg, flags, e);
  return env.Undefined();
}

// nftEncodeDump(batch, msg, family, table, name)
Napi::Value EncodeDumpJs(const Napi::CallbackInfo& info) {
  const char* fn = "nftEncodeDump";
  nl::MessageWriter& w = BatchArg(info, 0, fn);
  uint8_t msg = U8Arg(info, 1, fn, "msg");
  uint8_t family = U8Arg(info, 2, fn, "family");
  nft::EncodeDump(w, msg, family, StrArg(info, 3, fn, "table"), StrArg(info, 4, fn, "name"));
  return info.Env().Undefined();
}

// nftDecode(buffer, offset) -> { msg, family, ...the object's fields }; RangeError when malformed.
Napi::Value DecodeJs(const Napi::CallbackInfo& info) {
  const char* fn = "nftDecode";
  Napi::Env env = info.Env();
  std::string_view b = BytesArg(info, 0, fn, "buffer");
  uint32_t off = U32Arg(info, 1, fn, "offset");
  if (off > b.size() || b.size() - off < sizeof(nlmsghdr))
    throw Napi::RangeError::New(env, "nftDecode: offset " + std::to_string(off) + " leaves no room for a netlink header in " + std::to_string(b.size()) + " bytes");
  const uint8_t* m = reinterpret_cast<const uint8_t*>(b.data()) + off;
  size_t left = b.size() - off;
  nlmsghdr h;
  std::memcpy(&h, m, sizeof h);
  if ((h.nlmsg_type >> 8) != nft::kSubsysNftables)
    throw Napi::RangeError::New(env, "nftDecode: message type " + std::to_string(h.nlmsg_type) + " is not an nf_tables message");
  uint8_t msg = static_cast<uint8_t>(h.nlmsg_type & 0xff);
  std::string err;
  Napi::Object o = Napi::Object::New(env);
  o.Set("msg", Napi::Number::New(env, msg));
  auto fail = [&] { throw Napi::RangeError::New(env, "nftDecode: " + err); };
  switch (msg) {
    case NFT_MSG_NEWTABLE:
    case NFT_MSG_DELTABLE: {
      nft::Table t;
      if (!nft::DecodeTable(m, left, &t, &err)) fail();
      o.Set("family", Napi::Number::New(env, t.family));
      o.Set("name", t.name);
      o.Set("flags", Napi::Number::New(env, t.flags));
      o.Set("handle", Napi::Number::New(env, static_cast<double>(t.handle)));
      o.Set("use", Napi::Number::New(env, t.use));
      break;
    }
    case NFT_MSG_NEWCHAIN:
    case NFT_MSG_DELCHAIN: {
      nft::Chain c;
      if (!nft::DecodeChain(m, left, &c, &err)) fail();
      o.Set("family", Napi::Number::New(env, c.family));
      o.Set("table", c.table);
      o.Set("name", c.name);
      o.Set("handle", Napi::Number::New(env, static_cast<double>(c.handle)));
      if (c.hasHook) {
        o.Set("hooknum", Napi::Number::New(env, c.hooknum));
        o.Set("priority", Napi::Number::New(env, c.priority));
      }
      if (!c.type.empty()) o.Set("type", c.type);
      if (c.hasPolicy) o.Set("policy", Napi::Number::New(env, c.policy));
      o.Set("use", Napi::Number::New(env, c.use));
      break;
    }
    case NFT_MSG_NEWRULE:
    case NFT_MSG_DELRULE: {
      nft::Rule r;
      if (!nft::DecodeRule(m, left, &r, &err)) fail();
      o.Set("family", Napi::Number::New(env, r.family));
      o.Set("table", r.table);
      o.Set("chain", r.chain);
      o.Set("handle", Napi::Number::New(env, static_cast<double>(r.handle)));
      if (r.hasPosition) o.Set("position", Napi::Number::New(env, static_cast<double>(r.position)));
      Napi::Array exprs = Napi::Array::New(env, r.exprs.size());
      for (size_t i = 0; i < r.exprs.size(); ++i) exprs.Set(static_cast<uint32_t>(i), ExprJs(env, r.exprs[i]));
      o.Set("exprs", exprs);
      if (!r.userdata.empty()) o.Set("userdata", BytesJs(env, r.userdata));
      break;
    }
    case NFT_MSG_NEWSET:
    case NFT_MSG_DELSET: {
      nft::Set s;
      if (!nft::DecodeSet(m, left, &s, &err)) fail();
      o.Set("family", Napi::Number::New(env, s.family));
      o.Set("table", s.table);
      o.Set("name", s.name);
      o.Set("flags", Napi::Number::New(env, s.flags));
      o.Set("keyType", Napi::Number::New(env, s.keyType));
      o.Set("keyLen", Napi::Number::New(env, s.keyLen));
      o.Set("handle", Napi::Number::New(env, static_cast<double>(s.handle)));
      break;
    }
    case NFT_MSG_NEWSETELEM:
    case NFT_MSG_DELSETELEM: {
      nft::SetElems e;
      if (!nft::DecodeSetElems(m, left, &e, &err)) fail();
      o.Set("family", Napi::Number::New(env, e.family));
      o.Set("table", e.table);
      o.Set("set", e.set);
      Napi::Array keys = Napi::Array::New(env, e.keys.size());
      for (size_t i = 0; i < e.keys.size(); ++i) keys.Set(static_cast<uint32_t>(i), BytesJs(env, e.keys[i]));
      o.Set("keys", keys);
      break;
    }
    default:
      break;  // other nf_tables messages (NEWGEN, objects, flowtables): only msg is reported
  }
  return o;
}

// nftHandle(buffer, offset) -> the NFTA_RULE_HANDLE of an echoed NEWRULE, 0 when absent: what a
// transaction needs from each echo, without building the whole rule object.
Napi::Value HandleJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string_view b = BytesArg(info, 0, "nftHandle", "buffer");
  uint32_t off = U32Arg(info, 1, "nftHandle", "offset");
  if (off > b.size() || b.size() - off < sizeof(nlmsghdr))
    throw Napi::RangeError::New(env, "nftHandle: offset " + std::to_string(off) + " leaves no room for a netlink header");
  uint64_t handle = 0;
  std::string err;
  if (!nft::DecodeRuleHandle(reinterpret_cast<const uint8_t*>(b.data()) + off, b.size() - off, &handle, &err))
    throw Napi::RangeError::New(env, "nftHandle: " + err);
  return Napi::Number::New(env, static_cast<double>(handle));
}

}  // namespace

void InitNft(Napi::Env env, Napi::Object exports) {
  exports.Set("nftEncodeTable", Napi::Function::New<EncodeTableJs>(env, "nftEncodeTable"));
  exports.Set("nftEncodeChain", Napi::Function::New<EncodeChainJs>(env, "nftEncodeChain"));
  exports.Set("nftEncodeRule", Napi::Function::New<EncodeRuleJs>(env, "nftEncodeRule"));
  exports.Set("nftEncodeSet", Napi::Function::New<EncodeSetJs>(env, "nftEncodeSet"));
  exports.Set("nftEncodeSetElems", Napi::Function::New<EncodeSetElemsJs>(env, "nftEncodeSetElems"));
  exports.Set("nftEncodeDump", Napi::Function::New<EncodeDumpJs>(env, "nftEncodeDump"));
  exports.Set("nftDecode", Napi::Function::New<DecodeJs>(env, "nftDecode"));
  exports.Set("nftHandle", Napi::Function::New<HandleJs>(env, "nftHandle"));
}

}  // namespace lvskit
