// Typed-array argument helpers shared by the bindings: every check throws a TypeError or
// RangeError naming the argument and what it got; nothing asserts. Get/NeedLen/GetU32 (hash,
// packet) leave a pending exception and return false; TypedArrayArg (ipvs, route) throws.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace lvskit::arrays {

template <typename T>
struct TypedArrayTraits;
template <> struct TypedArrayTraits<uint8_t> { static constexpr napi_typedarray_type kType = napi_uint8_array; static constexpr const char* kName = "Uint8Array"; };
template <> struct TypedArrayTraits<uint16_t> { static constexpr napi_typedarray_type kType = napi_uint16_array; static constexpr const char* kName = "Uint16Array"; };
template <> struct TypedArrayTraits<uint32_t> { static constexpr napi_typedarray_type kType = napi_uint32_array; static constexpr const char* kName = "Uint32Array"; };
template <> struct TypedArrayTraits<int32_t> { static constexpr napi_typedarray_type kType = napi_int32_array; static constexpr const char* kName = "Int32Array"; };
template <> struct TypedArrayTraits<double> { static constexpr napi_typedarray_type kType = napi_float64_array; static constexpr const char* kName = "Float64Array"; };
template <> struct TypedArrayTraits<uint64_t> { static constexpr napi_typedarray_type kType = napi_biguint64_array; static constexpr const char* kName = "BigUint64Array"; };

// Whether v is a typed array of element type T (a Uint32Array for uint32_t, ...).
template <typename T>
bool IsTypedArrayOf(const Napi::Value& v) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == TypedArrayTraits<T>::kType;
}

inline const char* TypedArrayName(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: return "TypedArray";
  }
}

inline std::string Describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsTypedArray()) return TypedArrayName(v.As<Napi::TypedArray>().TypedArrayType());
  if (v.IsNumber()) return "number " + std::to_string(v.As<Napi::Number>().DoubleValue());
  if (v.IsString()) return "string";
  if (v.IsArray()) return "Array";
  if (v.IsObject()) return "object";
  return "other";
}

template <typename T>
struct View {
  T* data = nullptr;
  size_t length = 0;
};

// Returns false (with a pending JS exception) on a type error. Optional: null/undefined -> empty.
template <typename T>
bool Get(const Napi::CallbackInfo& info, size_t idx, const char* name, View<T>* out,
         bool optional = false) {
  Napi::Env env = info.Env();
  Napi::Value v = info[idx];
  if (optional && (v.IsNull() || v.IsUndefined())) {
    *out = View<T>{};
    return true;
  }
  if (!IsTypedArrayOf<T>(v)) {
    Napi::TypeError::New(env, std::string(name) + " must be a " + TypedArrayTraits<T>::kName +
                                  (optional ? " or null" : "") + " (got " + Describe(v) + ")")
        .ThrowAsJavaScriptException();
    return false;
  }
  Napi::TypedArrayOf<T> a = v.As<Napi::TypedArrayOf<T>>();
  out->data = a.Data();
  out->length = a.ElementLength();
  return true;
}

// Input arrays must hold at least `need` elements.
template <typename T>
bool NeedLen(Napi::Env env, const char* name, const View<T>& v, size_t need) {
  if (v.data == nullptr || v.length >= need) return true;
  Napi::RangeError::New(env, std::string(name) + " has " + std::to_string(v.length) +
                                 " elements; need at least " + std::to_string(need))
      .ThrowAsJavaScriptException();
  return false;
}

// Argument i as a typed array of T, else a TypeError "<fn>: <name> must be a <Uint32Array>".
template <typename T>
Napi::TypedArrayOf<T> TypedArrayArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  Napi::Value v = info[i];
  if (!IsTypedArrayOf<T>(v))
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + name + " must be a " + TypedArrayTraits<T>::kName);
  return v.As<Napi::TypedArrayOf<T>>();
}

inline bool GetU32(const Napi::CallbackInfo& info, size_t idx, const char* name, uint32_t* out) {
  Napi::Value v = info[idx];
  if (!v.IsNumber()) {
    Napi::TypeError::New(info.Env(), std::string(name) + " must be a number (got " + Describe(v) + ")")
        .ThrowAsJavaScriptException();
    return false;
  }
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 4294967295.0) || d != static_cast<double>(static_cast<uint64_t>(d))) {
    Napi::RangeError::New(info.Env(), std::string(name) + " must be an integer in 0..4294967295 (got " +
                                          std::to_string(d) + ")")
        .ThrowAsJavaScriptException();
    return false;
  }
  *out = static_cast<uint32_t>(d);
  return true;
}

}  // namespace lvskit::arrays
