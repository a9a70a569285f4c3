// NativeBatch: a JS-visible MessageWriter. Family bindings append requests to it
// (e.g. ipvsAddService(batch, ...)); NativeSocket.execute consumes it.
#pragma once
#include <napi.h>

#include "codec/nlattr.h"

namespace lvskit {

class NativeBatch : public Napi::ObjectWrap<NativeBatch> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit NativeBatch(const Napi::CallbackInfo& info);
  nl::MessageWriter& writer() { return writer_; }

 private:
  Napi::Value Count(const Napi::CallbackInfo& info);
  Napi::Value ByteLength(const Napi::CallbackInfo& info);
  Napi::Value Clear(const Napi::CallbackInfo& info);
  Napi::Value Bytes(const Napi::CallbackInfo& info);
  Napi::Value AppendRaw(const Napi::CallbackInfo& info);

  nl::MessageWriter writer_;
};

// Unwraps argument `i` as a NativeBatch, throwing a TypeError naming `fn` if it is anything else
// (type-tagged: a foreign wrapped object never gets cast).
nl::MessageWriter& BatchArg(const Napi::CallbackInfo& info, size_t i, const char* fn);

// Argument helpers shared by the family bindings: they throw TypeError with the function and
// argument named. Values arrive already validated by the TypeScript layer; these checks only keep
// a wrong call from crashing.
uint32_t U32Arg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name);
int64_t I64Arg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name);
std::string StrArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name);
bool BoolArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name);
// A Buffer/Uint8Array argument: returns its bytes (empty view for null/undefined when optional).
std::string_view BytesArg(const Napi::CallbackInfo& info, size_t i, const char* fn,
                          const char* name, bool optional = false);

}  // namespace lvskit
