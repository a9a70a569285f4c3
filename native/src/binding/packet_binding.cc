// N-API glue for native/src/packet: packet parsing into caller-owned struct-of-arrays outputs
// and pcap/pcapng indexing. lib/packet validates first; this layer still checks every type,
// length and packet range so a direct call with bad arguments throws instead of reading out of
// bounds.
#include <napi.h>

#include <string>

#include "binding/addon.h"
#include "binding/napi_arrays.h"
#include "packet/parse.h"
#include "packet/pcap.h"

namespace lvskit {
namespace {

using arrays::Get;
using arrays::GetU32;
using arrays::View;
namespace p = lvskit::packet;

#define LVS_TRY(expr) \
  do {                \
    if (!(expr)) return env.Undefined(); \
  } while (0)

bool Fail(Napi::Env env, const std::string& msg, bool range = true) {
  if (range) Napi::RangeError::New(env, msg).ThrowAsJavaScriptException();
  else Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
  return false;
}

bool ArgCount(const Napi::CallbackInfo& info, size_t n, const char* fn) {
  if (info.Length() >= n) return true;
  return Fail(info.Env(), std::string(fn) + " expects " + std::to_string(n) + " arguments (got " +
                              std::to_string(info.Length()) + ")", false);
}

// Element `i` of a JS array of typed arrays, as a T array of at least `need` elements.
template <typename T>
bool ListItem(Napi::Env env, Napi::Array list, uint32_t i, const char* listName, size_t need, T** out) {
  Napi::Value v = list.Get(i);
  const std::string name = std::string(listName) + "[" + std::to_string(i) + "]";
  if (!arrays::IsTypedArrayOf<T>(v)) {
    return Fail(env, name + " must be a " + arrays::TypedArrayTraits<T>::kName + " (got " + arrays::Describe(v) + ")", false);
  }
  Napi::TypedArrayOf<T> a = v.As<Napi::TypedArrayOf<T>>();
  if (a.ElementLength() < need) {
    return Fail(env, name + " has " + std::to_string(a.ElementLength()) + " elements; need at least " + std::to_string(need));
  }
  *out = a.Data();
  return true;
}

bool GetList(Napi::Env env, Napi::Value v, const char* name, uint32_t n, Napi::Array* out) {
  if (!v.IsArray() || v.As<Napi::Array>().Length() != n) {
    return Fail(env, std::string(name) + " must be an array of " + std::to_string(n) + " typed arrays", false);
  }
  *out = v.As<Napi::Array>();
  return true;
}

// The order of lib/packet/native-types.ts V4_ARRAYS.
bool GetV4(Napi::Env env, Napi::Value v, size_t n, p::FlowsOutV4* o) {
  Napi::Array l;
  const char* nm = "v4";
  return GetList(env, v, nm, 15, &l) &&
         ListItem(env, l, 0, nm, n, &o->saddr) && ListItem(env, l, 1, nm, n, &o->daddr) &&
         ListItem(env, l, 2, nm, n, &o->sport) && ListItem(env, l, 3, nm, n, &o->dport) &&
         ListItem(env, l, 4, nm, n, &o->proto) && ListItem(env, l, 5, nm, n, &o->index) &&
         ListItem(env, l, 6, nm, n, &o->flags) && ListItem(env, l, 7, nm, n, &o->vlan) &&
         ListItem(env, l, 8, nm, n, &o->l3Saddr) && ListItem(env, l, 9, nm, n, &o->l3Daddr) &&
         ListItem(env, l, 10, nm, n, &o->innerSaddr) && ListItem(env, l, 11, nm, n, &o->innerDaddr) &&
         ListItem(env, l, 12, nm, n, &o->innerSport) && ListItem(env, l, 13, nm, n, &o->innerDport) &&
         ListItem(env, l, 14, nm, n, &o->innerProto);
}

// The order of lib/packet/native-types.ts V6_ARRAYS.
bool GetV6(Napi::Env env, Napi::Value v, size_t n, p::FlowsOutV6* o) {
  Napi::Array l;
  const char* nm = "v6";
  return GetList(env, v, nm, 19, &l) &&
         ListItem(env, l, 0, nm, 4 * n, &o->saddr) && ListItem(env, l, 1, nm, 4 * n, &o->daddr) &&
         ListItem(env, l, 2, nm, n, &o->sport) && ListItem(env, l, 3, nm, n, &o->dport) &&
         ListItem(env, l, 4, nm, n, &o->proto) && ListItem(env, l, 5, nm, n, &o->flowLabel) &&
         ListItem(env, l, 6, nm, n, &o->index) && ListItem(env, l, 7, nm, n, &o->flags) &&
         ListItem(env, l, 8, nm, n, &o->vlan) && ListItem(env, l, 9, nm, 4 * n, &o->l3Saddr) &&
         ListItem(env, l, 10, nm, 4 * n, &o->l3Daddr) && ListItem(env, l, 11, nm, n, &o->l3Proto) &&
         ListItem(env, l, 12, nm, n, &o->l3FlowLabel) && ListItem(env, l, 13, nm, 4 * n, &o->innerSaddr) &&
         ListItem(env, l, 14, nm, 4 * n, &o->innerDaddr) && ListItem(env, l, 15, nm, n, &o->innerSport) &&
         ListItem(env, l, 16, nm, n, &o->innerDport) && ListItem(env, l, 17, nm, n, &o->innerProto) &&
         ListItem(env, l, 18, nm, n, &o->innerFlowLabel);
}

// parse(buf, offsets, lengths, linkTypes | null, linkType, count, status, v4[15], v6[19], counts)
// counts receives the per-status counts, then the IPv4 and IPv6 flow counts.
Napi::Value Parse(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LVS_TRY(ArgCount(info, 10, "parse"));
  View<uint8_t> buf, status;
  View<uint32_t> offsets, lengths, counts;
  View<uint16_t> linkTypes;
  uint32_t linkType, count;
  LVS_TRY(Get(info, 0, "buffer", &buf));
  LVS_TRY(Get(info, 1, "offsets", &offsets));
  LVS_TRY(Get(info, 2, "lengths", &lengths));
  LVS_TRY(Get(info, 3, "linkTypes", &linkTypes, true));
  LVS_TRY(GetU32(info, 4, "linkType", &linkType));
  LVS_TRY(GetU32(info, 5, "count", &count));
  LVS_TRY(Get(info, 6, "status", &status));
  LVS_TRY(Get(info, 9, "counts", &counts));
  LVS_TRY(arrays::NeedLen(env, "offsets", offsets, count));
  LVS_TRY(arrays::NeedLen(env, "lengths", lengths, count));
  LVS_TRY(arrays::NeedLen(env, "linkTypes", linkTypes, count));
  LVS_TRY(arrays::NeedLen(env, "status", status, count));
  if (counts.length < p::kStatusCount + 2) {
    Fail(env, "counts must have " + std::to_string(p::kStatusCount + 2) + " elements");
    return env.Undefined();
  }
  if (offsets.length < count || lengths.length < count || status.length < count) {
    Fail(env, "offsets, lengths and status must hold count entries");
    return env.Undefined();
  }
  for (size_t i = 0; i < count; i++) {
    if (uint64_t(offsets.data[i]) + lengths.data[i] > buf.length) {
      Fail(env, "packet " + std::to_string(i) + " (offset " + std::to_string(offsets.data[i]) + ", length " +
                    std::to_string(lengths.data[i]) + ") lies outside the buffer of " +
                    std::to_string(buf.length) + " bytes");
      return env.Undefined();
    }
  }
  p::FlowsOutV4 v4{};
  p::FlowsOutV6 v6{};
  LVS_TRY(GetV4(env, info[7], count, &v4));
  LVS_TRY(GetV6(env, info[8], count, &v6));
  const p::BatchResult r = p::ParseBatch(buf.data, offsets.data, lengths.data, linkTypes.data, linkType,
                                         count, status.data, v4, v6);
  for (size_t i = 0; i < p::kStatusCount; i++) counts.data[i] = r.counts[i];
  counts.data[p::kStatusCount] = uint32_t(r.v4);
  counts.data[p::kStatusCount + 1] = uint32_t(r.v6);
  return env.Undefined();
}

template <typename T>
bool OptOut(const Napi::CallbackInfo& info, size_t idx, const char* name, T** out, size_t* cap) {
  View<T> v;
  if (!Get(info, idx, name, &v, true)) return false;
  *out = v.data;
  if (v.data && v.length < *cap) *cap = v.length;
  return true;
}

// scan(buf, offsets|null, lengths|null, origLengths|null, linkTypes|null, timestampsNs|null,
// interfaces|null) -> { format, bigEndian, nanoseconds, packets, interfaces, sections,
// skippedBlocks, error, errorOffset }. Capacity: the shortest array given (0 when none).
Napi::Value Scan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LVS_TRY(ArgCount(info, 7, "scan"));
  View<uint8_t> buf;
  LVS_TRY(Get(info, 0, "buffer", &buf));
  if (buf.length > 0xffffffffu) {
    Fail(env, "captures over 4 GiB are not supported (offsets are 32-bit)");
    return env.Undefined();
  }
  p::PacketIndexOut out;
  size_t cap = SIZE_MAX;
  LVS_TRY(OptOut(info, 1, "offsets", &out.offsets, &cap));
  LVS_TRY(OptOut(info, 2, "lengths", &out.lengths, &cap));
  LVS_TRY(OptOut(info, 3, "origLengths", &out.origLengths, &cap));
  LVS_TRY(OptOut(info, 4, "linkTypes", &out.linkTypes, &cap));
  Napi::Value ts = info[5];
  if (!ts.IsNull() && !ts.IsUndefined()) {
    if (!ts.IsTypedArray() || ts.As<Napi::TypedArray>().TypedArrayType() != napi_bigint64_array) {
      Fail(env, "timestampsNs must be a BigInt64Array or null (got " + arrays::Describe(ts) + ")", false);
      return env.Undefined();
    }
    Napi::TypedArray a = ts.As<Napi::TypedArray>();
    out.timestampsNs = reinterpret_cast<int64_t*>(static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset());
    if (a.ElementLength() < cap) cap = a.ElementLength();
  }
  LVS_TRY(OptOut(info, 6, "interfaces", &out.interfaces, &cap));
  out.capacity = cap == SIZE_MAX ? 0 : cap;
  const p::CaptureScan s = p::ScanCapture(buf.data, buf.length, out);
  Napi::Object r = Napi::Object::New(env);
  r.Set("format", Napi::Number::New(env, double(s.format)));
  r.Set("bigEndian", Napi::Boolean::New(env, s.bigEndian));
  r.Set("nanoseconds", Napi::Boolean::New(env, s.nanoseconds));
  r.Set("packets", Napi::Number::New(env, double(s.packets)));
  r.Set("interfaces", Napi::Number::New(env, double(s.interfaces)));
  r.Set("sections", Napi::Number::New(env, double(s.sections)));
  r.Set("skippedBlocks", Napi::Number::New(env, double(s.skippedBlocks)));
  r.Set("error", s.error.empty() ? env.Null() : Napi::String::New(env, s.error));
  r.Set("errorOffset", Napi::Number::New(env, double(s.errorOffset)));
  return r;
}

#undef LVS_TRY

}  // namespace

void InitPacket(Napi::Env env, Napi::Object exports) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("parse", Napi::Function::New(env, Parse, "parse"));
  o.Set("scan", Napi::Function::New(env, Scan, "scan"));
  exports.Set("packet", o);
}

}  // namespace lvskit
