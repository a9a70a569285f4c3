// enterNetnsOnThisThread(nsKind /*1 path, 2 pid*/, nsPath, nsPid) -> { inode }: moves the calling
// JS thread (a worker_thread) into a network namespace; throws on the main thread.
// See transport/netns_thread.h.
#include "binding/addon.h"
#include "binding/batch.h"
#include "binding/errors.h"
#include "transport/netns_thread.h"

namespace lvskit {

static Napi::Value EnterNetnsOnThisThreadJs(const Napi::CallbackInfo& info) {
  const char* fn = "enterNetnsOnThisThread";
  Napi::Env env = info.Env();
  NetnsSpec ns;
  uint32_t kind = U32Arg(info, 0, fn, "nsKind");
  if (kind == 1) {
    ns.kind = NetnsSpec::Kind::Path;
    ns.path = StrArg(info, 1, fn, "nsPath");
  } else if (kind == 2) {
    ns.kind = NetnsSpec::Kind::Pid;
    ns.pid = static_cast<int>(U32Arg(info, 2, fn, "nsPid"));
  } else {
    throw Napi::RangeError::New(env, "enterNetnsOnThisThread: nsKind must be 1 (path) or 2 (pid)");
  }
  ino_t inode = 0;
  SysError e;
  if (!EnterNamespaceOnThisThread(ns, &inode, &e)) throw MakeSysError(env, e, std::string(fn) + " " + ns.describe());
  Napi::Object o = Napi::Object::New(env);
  o.Set("inode", Napi::Number::New(env, static_cast<double>(inode)));
  return o;
}

static Napi::Value OnMainThreadJs(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), OnMainThread());
}

void InitNetnsThread(Napi::Env env, Napi::Object exports) {
  exports.Set("enterNetnsOnThisThread", Napi::Function::New(env, EnterNetnsOnThisThreadJs, "enterNetnsOnThisThread"));
  exports.Set("onMainThread", Napi::Function::New(env, OnMainThreadJs, "onMainThread"));
}

}  // namespace lvskit
