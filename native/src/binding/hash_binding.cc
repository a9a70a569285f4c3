// N-API glue for native/src/hash: converts typed arrays to pointers and calls the pure C++
// kernels. Hot calls take caller-owned output arrays and allocate nothing. The TS layer
// (lib/hash) validates values first; this layer still checks every type and length so a direct
// call with bad arguments throws instead of reading out of bounds.
#include <napi.h>

#include "binding/addon.h"
#include "binding/napi_arrays.h"
#include "hash/ipvs.h"
#include "hash/jhash.h"
#include "hash/maglev.h"
#include "hash/multipath.h"
#include "hash/siphash.h"
#include "hash/toeplitz.h"

namespace lvskit {
namespace {

using arrays::Get;
using arrays::GetU32;
using arrays::NeedLen;
using arrays::View;
namespace h = lvskit::hash;

#define LVS_TRY(expr) \
  do {                \
    if (!(expr)) return env.Undefined(); \
  } while (0)

bool ArgCount(const Napi::CallbackInfo& info, size_t n, const char* fn) {
  if (info.Length() >= n) return true;
  Napi::TypeError::New(info.Env(), std::string(fn) + " expects " + std::to_string(n) +
                                       " arguments (got " + std::to_string(info.Length()) + ")")
      .ThrowAsJavaScriptException();
  return false;
}

bool RangeCheck(Napi::Env env, bool ok, const std::string& msg) {
  if (!ok) Napi::RangeError::New(env, msg).ThrowAsJavaScriptException();
  return ok;
}

// ---- primitives -------------------------------------------------------------------------

h::SipKey KeyFromBytes(const uint8_t* k) { return h::SipKey{h::LoadLe64(k), h::LoadLe64(k + 8)}; }

template <int C, int D>
Napi::Value SipHash(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LVS_TRY(ArgCount(info, 2, "siphash"));
  View<uint8_t> key, data;
  LVS_TRY(Get(info, 0, "key", &key));
  LVS_TRY(Get(info, 1, "data", &data));
  LVS_TRY(RangeCheck(env, key.length == 16, "key must be 16 bytes (got " + std::to_string(key.length) + ")"));
  const uint64_t r = h::SipHashBytes<C, D>(data.data, data.length, KeyFromBytes(key.data));
  return Napi::BigInt::New(env, r);
}

Napi::Value Jhash(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LVS_TRY(ArgCount(info, 2, "jhash"));
  View<uint8_t> data;
  uint32_t initval;
  LVS_TRY(Get(info, 0, "data", &data));
  LVS_TRY(GetU32(info, 1, "initval", &initval));
  return Napi::Number::New(env, h::Jhash(data.data, uint32_t(data.length), initval));
}

Napi::Value Jhash2(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LVS_TRY(ArgCount(info, 2, "jhash2"));
  View<uint32_t> words;
  uint32_t initval;
  LVS_TRY(Get(info, 0, "words", &words));
  LVS_TRY(GetU32(info, 1, "initval", &initval));
  return Napi::Number::New(env, h::Jhash2(words.data, uint32_t(words.length), initval));
}

Napi::Value JhashWords(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LVS_TRY(ArgCount(info, 4, "jhashWords"));
  uint32_t a, b, c, initval;
  LVS_TRY(GetU32(info, 0, "a", &a));
  LVS_TRY(GetU32(info, 1, "b", &b));
  LVS_TRY(GetU32(info, 2, "c", &c));
  LVS_TRY(GetU32(info, 3, "initval", &initval));
  return Napi::Number::New(env, h::Jhash3Words(a, b, c, initval));
}

Napi::Value Jhash2WordsFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LVS_TRY(ArgCount(info, 3, "jhash2Words"));
  uint32_t a, b, initval;
  LVS_TRY(GetU32(info, 0, "a", &a));
  LVS_TRY(GetU32(info, 1, "b", &b));
  LVS_TRY(GetU32(info, 2, "initval", &initval));
  return Napi::Number::New(env, h::Jhash2Words(a, b, initval));
}

Napi::Value Hash32Fn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LVS_TRY(ArgCount(info, 2, "hash32"));
  uint32_t v, bits;
  LVS_TRY(GetU32(info, 0, "value", &v));
  LVS_TRY(GetU32(info, 1, "bits", &bits));
  LVS_TRY(RangeCheck(env, bits <= 32, "bits must be 0..32 (got " + std::to_string(bits) + ")"));
  return Napi::Number::New(env, h::Hash32(v, bits));
}

// ---- multipath --------------------------------------------------------------------------

bool GetParams(const Napi::CallbackInfo& info, size_t idx, h::MultipathParams* p) {
  Napi::Env env = info.Env();
  uint32_t policy, seed, fields;
  if (!GetU32(info, idx, "policy", &policy) || !GetU32(info, idx + 1, "seed", &seed) ||
      !GetU32(info, idx + 2, "fields", &fields))
    return false;
  if (!RangeCheck(env, policy <= 3, "policy must be 0..3 (got " + std::to_string(policy) + ")"))
    return false;
  p->policy = policy;
  p->seed = seed;
  p->fields = fields;
  p->packetPath = info[idx + 3].ToBoolean().Value();
  return true;
}

struct FlowArgs {
  View<uint32_t> saddr, daddr, flowLabel;
  View<uint16_t> sport, dport;
  View<uint8_t> proto;
};

// (saddr, daddr, sport, dport, proto[, flowLabel]) starting at argument 0.
bool GetFlows(const Napi::CallbackInfo& info, bool v6, size_t n, FlowArgs* f) {
  Napi::Env env = info.Env();
  const size_t aw = v6 ? 4 : 1;
  if (!Get(info, 0, "saddr", &f->saddr) || !Get(info, 1, "daddr", &f->daddr) ||
      !Get(info, 2, "sport", &f->sport, true) || !Get(info, 3, "dport", &f->dport, true) ||
      !Get(info, 4, "proto", &f->proto, true))
    return false;
  if (v6 && !Get(info, 5, "flowLabel", &f->flowLabel, true)) return false;
  return NeedLen(env, "saddr", f->saddr, n * aw) && NeedLen(env, "daddr", f->daddr, n * aw) &&
         NeedLen(env, "sport", f->sport, n) && NeedLen(env, "dport", f->dport, n) &&
         NeedLen(env, "proto", f->proto, n) && NeedLen(env, "flowLabel", f->flowLabel, n);
}

template <bool V6>
Napi::Value MpHash(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const size_t base = V6 ? 6 : 5;
  LVS_TRY(ArgCount(info, base + 5, V6 ? "mpHashV6" : "mpHashV4"));
  View<uint32_t> out;
  LVS_TRY(Get(info, base, "out", &out));
  FlowArgs f;
  LVS_TRY(GetFlows(info, V6, out.length, &f));
  h::MultipathParams p;
  LVS_TRY(GetParams(info, base + 1, &p));
  if (V6) {
    h::MultipathHashV6Batch(f.saddr.data, f.daddr.data, f.sport.data, f.dport.data, f.proto.data,
                            f.flowLabel.data, out.length, p, out.data);
  } else {
    h::MultipathHashV4Batch(f.saddr.data, f.daddr.data, f.sport.data, f.dport.data, f.proto.data,
                            out.length, p, out.data);
  }
  return env.Undefined();
}

template <bool V6>
Napi::Value MpPredict(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const size_t base = V6 ? 6 : 5;
  LVS_TRY(ArgCount(info, base + 6, V6 ? "mpPredictV6" : "mpPredictV4"));
  View<int32_t> ub;
  View<uint16_t> out;
  LVS_TRY(Get(info, base, "upperBounds", &ub));
  LVS_TRY(Get(info, base + 1, "out", &out));
  LVS_TRY(RangeCheck(env, ub.length >= 1 && ub.length <= 65535,
                     "upperBounds must have 1..65535 entries (got " + std::to_string(ub.length) + ")"));
  FlowArgs f;
  LVS_TRY(GetFlows(info, V6, out.length, &f));
  h::MultipathParams p;
  LVS_TRY(GetParams(info, base + 2, &p));
  if (V6) {
    h::MultipathPredictV6Batch(f.saddr.data, f.daddr.data, f.sport.data, f.dport.data,
                               f.proto.data, f.flowLabel.data, out.length, p, ub.data, ub.length,
                               out.data);
  } else {
    h::MultipathPredictV4Batch(f.saddr.data, f.daddr.data, f.sport.data, f.dport.data,
                               f.proto.data, out.length, p, ub.data, ub.length, out.data);
  }
  return env.Undefined();
}

// Single flow without typed arrays: (saddr, daddr, sport, dport, proto, policy, seed, fields,
// packetPath) -> hash.
Napi::Value MpHashV4One(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LVS_TRY(ArgCount(info, 9, "mpHashV4One"));
  uint32_t s, d, sp, dp, pr;
  LVS_TRY(GetU32(info, 0, "saddr", &s));
  LVS_TRY(GetU32(info, 1, "daddr", &d));
  LVS_TRY(GetU32(info, 2, "sport", &sp));
  LVS_TRY(GetU32(info, 3, "dport", &dp));
  LVS_TRY(GetU32(info, 4, "proto", &pr));
  LVS_TRY(RangeCheck(env, sp <= 65535 && dp <= 65535 && pr <= 255, "sport/dport must be 0..65535 and proto 0..255"));
  h::MultipathParams p;
  LVS_TRY(GetParams(info, 5, &p));
  h::FlowV4 f{s, d, uint16_t(sp), uint16_t(dp), uint8_t(pr)};
  return Napi::Number::New(env, h::MultipathHashV4(f, p));
}

Napi::Value MpUpperBounds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LVS_TRY(ArgCount(info, 3, "mpUpperBounds"));
  View<uint32_t> weights;
  View<uint8_t> alive;
  View<int32_t> out;
  LVS_TRY(Get(info, 0, "weights", &weights));
  LVS_TRY(Get(info, 1, "alive", &alive, true));
  LVS_TRY(Get(info, 2, "out", &out));
  LVS_TRY(NeedLen(env, "alive", alive, weights.length));
  LVS_TRY(NeedLen(env, "out", out, weights.length));
  h::MultipathUpperBounds(weights.data, alive.data, weights.length, out.data);
  return env.Undefined();
}

Napi::Value MpSelect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LVS_TRY(ArgCount(info, 3, "mpSelect"));
  View<uint32_t> hashes;
  View<int32_t> ub;
  View<uint16_t> out;
  LVS_TRY(Get(info, 0, "hashes", &hashes));
  LVS_TRY(Get(info, 1, "upperBounds", &ub));
  LVS_TRY(Get(info, 2, "out", &out));
  LVS_TRY(NeedLen(env, "hashes", hashes, out.length));
  h::MultipathSelectBatch(hashes.data, out.length, ub.data, ub.length, out.data);
  return env.Undefined();
}

Napi::Value MpResilient(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LVS_TRY(ArgCount(info, 3, "mpResilient"));
  View<uint32_t> hashes, table, out;
  LVS_TRY(Get(info, 0, "hashes", &hashes));
  LVS_TRY(Get(info, 1, "buckets", &table));
  LVS_TRY(Get(info, 2, "out", &out));
  LVS_TRY(RangeCheck(env, table.length >= 1, "buckets must not be empty"));
  LVS_TRY(NeedLen(env, "hashes", hashes, out.length));
  h::ResilientSelectBatch(hashes.data, out.length, table.data, table.length, out.data);
  return env.Undefined();
}

// ---- IPVS -------------------------------------------------------------------------------

Napi::Value ShBuild(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LVS_TRY(ArgCount(info, 2, "shBuild"));
  View<int32_t> weights;
  View<uint16_t> table;
  LVS_TRY(Get(info, 0, "weights", &weights));
  LVS_TRY(Get(info, 1, "table", &table));
  LVS_TRY(RangeCheck(env, table.length == h::kShTabSize, "table must have 256 entries"));
  LVS_TRY(RangeCheck(env, weights.length < h::kNoDest, "too many destinations"));
  h::ShBuildTable(weights.data, weights.length, table.data);
  return env.Undefined();
}

Napi::Value DhBuild(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LVS_TRY(ArgCount(info, 2, "dhBuild"));
  uint32_t n;
  View<uint16_t> table;
  LVS_TRY(GetU32(info, 0, "count", &n));
  LVS_TRY(Get(info, 1, "table", &table));
  LVS_TRY(RangeCheck(env, table.length == h::kDhTabSize, "table must have 256 entries"));
  LVS_TRY(RangeCheck(env, n < h::kNoDest, "too many destinations"));
  h::DhBuildTable(n, table.data);
  return env.Undefined();
}

bool CheckTable(Napi::Env env, const View<uint16_t>& table, const View<uint8_t>& usable) {
  for (size_t i = 0; i < table.length; i++) {
    if (table.data[i] != h::kNoDest && table.data[i] >= usable.length) {
      Napi::RangeError::New(env, "table entry " + std::to_string(i) + " = " +
                                     std::to_string(table.data[i]) + " is not a destination index (usable has " +
                                     std::to_string(usable.length) + ")")
          .ThrowAsJavaScriptException();
      return false;
    }
  }
  return true;
}

// (table, usable, addrs, addrWords, sport, proto, out, flags)
template <int Kind>  // 0 sh, 1 mh
Napi::Value SchedLookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LVS_TRY(ArgCount(info, 8, Kind == 0 ? "shLookup" : "mhLookup"));
  View<uint16_t> table, sport, out;
  View<uint8_t> usable, proto;
  View<uint32_t> addrs;
  uint32_t words, flags;
  LVS_TRY(Get(info, 0, "table", &table));
  LVS_TRY(Get(info, 1, "usable", &usable));
  LVS_TRY(Get(info, 2, "saddr", &addrs));
  LVS_TRY(GetU32(info, 3, "addrWords", &words));
  LVS_TRY(Get(info, 4, "sport", &sport, true));
  LVS_TRY(Get(info, 5, "proto", &proto, true));
  LVS_TRY(Get(info, 6, "out", &out));
  LVS_TRY(GetU32(info, 7, "flags", &flags));
  LVS_TRY(RangeCheck(env, words == 1 || words == 4, "addrWords must be 1 or 4 (got " + std::to_string(words) + ")"));
  if (Kind == 0) {
    LVS_TRY(RangeCheck(env, table.length == h::kShTabSize, "table must have 256 entries"));
  } else {
    LVS_TRY(RangeCheck(env, table.length >= 2, "table must have at least 2 entries"));
  }
  LVS_TRY(CheckTable(env, table, usable));
  LVS_TRY(NeedLen(env, "saddr", addrs, out.length * words));
  LVS_TRY(NeedLen(env, "sport", sport, out.length));
  LVS_TRY(NeedLen(env, "proto", proto, out.length));
  if (Kind == 0) {
    h::ShLookupBatch(table.data, usable.data, usable.length, addrs.data, int(words), sport.data,
                     proto.data, out.length, flags, out.data);
  } else {
    h::MhLookupBatch(table.data, uint32_t(table.length), usable.data, usable.length, addrs.data,
                     int(words), sport.data, proto.data, out.length, flags, out.data);
  }
  return env.Undefined();
}

Napi::Value DhLookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LVS_TRY(ArgCount(info, 5, "dhLookup"));
  View<uint16_t> table, out;
  View<uint8_t> usable;
  View<uint32_t> addrs;
  uint32_t words;
  LVS_TRY(Get(info, 0, "table", &table));
  LVS_TRY(Get(info, 1, "usable", &usable));
  LVS_TRY(Get(info, 2, "daddr", &addrs));
  LVS_TRY(GetU32(info, 3, "addrWords", &words));
  LVS_TRY(Get(info, 4, "out", &out));
  LVS_TRY(RangeCheck(env, words == 1 || words == 4, "addrWords must be 1 or 4 (got " + std::to_string(words) + ")"));
  LVS_TRY(RangeCheck(env, table.length == h::kDhTabSize, "table must have 256 entries"));
  LVS_TRY(CheckTable(env, table, usable));
  LVS_TRY(NeedLen(env, "daddr", addrs, out.length * words));
  h::DhLookupBatch(table.data, usable.data, usable.length, addrs.data, int(words), out.length,
                   out.data);
  return env.Undefined();
}

// (addrKeys, ports, lastWeights, tabIndex, table) -> boolean
Napi::Value MhBuild(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LVS_TRY(ArgCount(info, 5, "mhBuild"));
  View<uint32_t> keys;
  View<uint16_t> ports, table;
  View<int32_t> lw;
  uint32_t idx;
  LVS_TRY(Get(info, 0, "addrKeys", &keys));
  LVS_TRY(Get(info, 1, "ports", &ports));
  LVS_TRY(Get(info, 2, "lastWeights", &lw));
  LVS_TRY(GetU32(info, 3, "tabIndex", &idx));
  LVS_TRY(Get(info, 4, "table", &table));
  const uint32_t m = h::MhTableSize(idx);
  LVS_TRY(RangeCheck(env, m != 0, "tabIndex must be 8..17 (got " + std::to_string(idx) + ")"));
  LVS_TRY(RangeCheck(env, table.length == m, "table must have " + std::to_string(m) + " entries (got " + std::to_string(table.length) + ")"));
  LVS_TRY(NeedLen(env, "ports", ports, keys.length));
  LVS_TRY(NeedLen(env, "lastWeights", lw, keys.length));
  return Napi::Boolean::New(env, h::MhBuildTable(keys.data, ports.data, lw.data, keys.length, idx, table.data));
}

Napi::Value MhHashKeyFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LVS_TRY(ArgCount(info, 4, "mhHashKey"));
  uint32_t key, port, offset;
  LVS_TRY(GetU32(info, 0, "addrKey", &key));
  LVS_TRY(GetU32(info, 1, "port", &port));
  LVS_TRY(GetU32(info, 2, "offset", &offset));
  return Napi::Number::New(env, h::MhHashKey(key, uint16_t(port), offset, info[3].ToBoolean().Value()));
}

// ---- Toeplitz, Maglev -------------------------------------------------------------------

Napi::Value ToeplitzPrepareFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LVS_TRY(ArgCount(info, 3, "toeplitzPrepare"));
  View<uint8_t> key;
  uint32_t inputLen;
  View<uint32_t> table;
  LVS_TRY(Get(info, 0, "key", &key));
  LVS_TRY(GetU32(info, 1, "inputLen", &inputLen));
  LVS_TRY(Get(info, 2, "table", &table));
  LVS_TRY(RangeCheck(env, inputLen >= 1 && inputLen <= h::kToeplitzMaxInput,
                     "inputLen must be 1..36 (got " + std::to_string(inputLen) + ")"));
  LVS_TRY(RangeCheck(env, key.length >= inputLen + 4,
                     "key must have at least inputLen + 4 = " + std::to_string(inputLen + 4) + " bytes (got " + std::to_string(key.length) + ")"));
  LVS_TRY(RangeCheck(env, table.length == size_t(inputLen) * 256, "table must have inputLen * 256 entries"));
  h::ToeplitzPrepare(key.data, key.length, inputLen, table.data);
  return env.Undefined();
}

template <bool V6>
Napi::Value ToeplitzBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LVS_TRY(ArgCount(info, 6, V6 ? "toeplitzV6" : "toeplitzV4"));
  View<uint32_t> table, saddr, daddr, out;
  View<uint16_t> sport, dport;
  LVS_TRY(Get(info, 0, "table", &table));
  LVS_TRY(Get(info, 1, "saddr", &saddr));
  LVS_TRY(Get(info, 2, "daddr", &daddr));
  LVS_TRY(Get(info, 3, "sport", &sport, true));
  LVS_TRY(Get(info, 4, "dport", &dport, true));
  LVS_TRY(Get(info, 5, "out", &out));
  const bool ports = sport.data && dport.data;
  const size_t need = (V6 ? 32 : 8) + (ports ? 4 : 0);
  LVS_TRY(RangeCheck(env, table.length >= need * 256,
                     "table was prepared for " + std::to_string(table.length / 256) + " input bytes; this hash needs " + std::to_string(need)));
  const size_t aw = V6 ? 4 : 1;
  LVS_TRY(NeedLen(env, "saddr", saddr, out.length * aw));
  LVS_TRY(NeedLen(env, "daddr", daddr, out.length * aw));
  LVS_TRY(NeedLen(env, "sport", sport, out.length));
  LVS_TRY(NeedLen(env, "dport", dport, out.length));
  if (V6) {
    h::ToeplitzV6Batch(table.data, saddr.data, daddr.data, ports ? sport.data : nullptr,
                       ports ? dport.data : nullptr, out.length, out.data);
  } else {
    h::ToeplitzV4Batch(table.data, saddr.data, daddr.data, ports ? sport.data : nullptr,
                       ports ? dport.data : nullptr, out.length, out.data);
  }
  return env.Undefined();
}

Napi::Value ToeplitzBytesFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LVS_TRY(ArgCount(info, 2, "toeplitzBytes"));
  View<uint8_t> key, input;
  LVS_TRY(Get(info, 0, "key", &key));
  LVS_TRY(Get(info, 1, "input", &input));
  return Napi::Number::New(env, h::ToeplitzBytes(key.data, key.length, input.data, input.length));
}

Napi::Value MaglevBuild(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LVS_TRY(ArgCount(info, 4, "maglevBuild"));
  View<uint32_t> offsets, skips, weights, table;
  LVS_TRY(Get(info, 0, "offsets", &offsets));
  LVS_TRY(Get(info, 1, "skips", &skips));
  LVS_TRY(Get(info, 2, "weights", &weights, true));
  LVS_TRY(Get(info, 3, "table", &table));
  LVS_TRY(NeedLen(env, "skips", skips, offsets.length));
  LVS_TRY(NeedLen(env, "weights", weights, offsets.length));
  return Napi::Boolean::New(env, h::MaglevBuild(offsets.data, skips.data, weights.data,
                                                offsets.length, uint32_t(table.length), table.data));
}

Napi::Value MaglevLookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LVS_TRY(ArgCount(info, 3, "maglevLookup"));
  View<uint32_t> table, hashes, out;
  LVS_TRY(Get(info, 0, "table", &table));
  LVS_TRY(Get(info, 1, "hashes", &hashes));
  LVS_TRY(Get(info, 2, "out", &out));
  LVS_TRY(RangeCheck(env, table.length >= 1, "table must not be empty"));
  LVS_TRY(NeedLen(env, "hashes", hashes, out.length));
  h::MaglevLookupBatch(table.data, uint32_t(table.length), hashes.data, out.length, out.data);
  return env.Undefined();
}

#undef LVS_TRY

}  // namespace

void InitHash(Napi::Env env, Napi::Object exports) {
  Napi::Object o = Napi::Object::New(env);
  auto fn = [&](const char* name, Napi::Function::Callback cb) {
    o.Set(name, Napi::Function::New(env, cb, name));
  };
  fn("siphash24", SipHash<2, 4>);
  fn("siphash13", SipHash<1, 3>);
  fn("jhash", Jhash);
  fn("jhash2", Jhash2);
  fn("jhash3Words", JhashWords);
  fn("jhash2Words", Jhash2WordsFn);
  fn("hash32", Hash32Fn);
  fn("mpHashV4", MpHash<false>);
  fn("mpHashV6", MpHash<true>);
  fn("mpHashV4One", MpHashV4One);
  fn("mpPredictV4", MpPredict<false>);
  fn("mpPredictV6", MpPredict<true>);
  fn("mpUpperBounds", MpUpperBounds);
  fn("mpSelect", MpSelect);
  fn("mpResilient", MpResilient);
  fn("shBuild", ShBuild);
  fn("dhBuild", DhBuild);
  fn("shLookup", SchedLookup<0>);
  fn("mhLookup", SchedLookup<1>);
  fn("dhLookup", DhLookup);
  fn("mhBuild", MhBuild);
  fn("mhHashKey", MhHashKeyFn);
  fn("toeplitzPrepare", ToeplitzPrepareFn);
  fn("toeplitzV4", ToeplitzBatch<false>);
  fn("toeplitzV6", ToeplitzBatch<true>);
  fn("toeplitzBytes", ToeplitzBytesFn);
  fn("maglevBuild", MaglevBuild);
  fn("maglevLookup", MaglevLookup);
  exports.Set("hash", o);
}

}  // namespace lvskit
