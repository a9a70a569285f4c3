#include "binding/errors.h"

#include "binding/addon.h"

namespace lvskit {

Napi::Error MakeSysError(Napi::Env env, const SysError& e, const std::string& op) {
  Napi::Error err = Napi::Error::New(env, op + ": " + e.message);
  err.Set("errno", Napi::Number::New(env, e.err));
  err.Set("code", Napi::String::New(env, ErrnoName(e.err)));
  err.Set("op", Napi::String::New(env, op));
  err.Set("native", Napi::Boolean::New(env, true));
  return err;
}

static Napi::Value ErrnoNameJs(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber())
    throw Napi::TypeError::New(info.Env(), "errnoName(errno): errno must be a number");
  return Napi::String::New(info.Env(), ErrnoName(info[0].As<Napi::Number>().Int32Value()));
}

static std::string NetnsNameArg(const Napi::CallbackInfo& info, const char* fn) {
  if (info.Length() < 1 || !info[0].IsString())
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": name must be a string");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  if (!ValidNetnsName(name))
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": invalid namespace name '" + name + "'");
  return name;
}

static Napi::Value CreateNetnsJs(const Napi::CallbackInfo& info) {
  std::string name = NetnsNameArg(info, "createNetns");
  SysError e;
  if (!CreateNamedNetns(name, &e)) throw MakeSysError(info.Env(), e, "createNetns " + name);
  return info.Env().Undefined();
}

static Napi::Value DeleteNetnsJs(const Napi::CallbackInfo& info) {
  std::string name = NetnsNameArg(info, "deleteNetns");
  SysError e;
  if (!DeleteNamedNetns(name, &e)) throw MakeSysError(info.Env(), e, "deleteNetns " + name);
  return info.Env().Undefined();
}

static Napi::Value ProbeNetnsJs(const Napi::CallbackInfo& info) {
  SysError e;
  Napi::Object o = Napi::Object::New(info.Env());
  bool ok = ProbeNewNetns(&e);
  o.Set("ok", Napi::Boolean::New(info.Env(), ok));
  o.Set("why", Napi::String::New(info.Env(), ok ? "can create network namespaces" : e.message));
  return o;
}

void InitErrors(Napi::Env env, Napi::Object exports) {
  exports.Set("errnoName", Napi::Function::New(env, ErrnoNameJs, "errnoName"));
  exports.Set("createNetns", Napi::Function::New(env, CreateNetnsJs, "createNetns"));
  exports.Set("deleteNetns", Napi::Function::New(env, DeleteNetnsJs, "deleteNetns"));
  exports.Set("probeNetns", Napi::Function::New(env, ProbeNetnsJs, "probeNetns"));
}

}  // namespace lvskit
