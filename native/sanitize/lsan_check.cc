// A tiny N-API module for scripts/sanitize.sh (built only by native/CMakeLists.txt with
// LVSKIT_ADDON=ON, never shipped): leakCheck() runs LeakSanitizer now, in a process that will not
// reach exit() (vitest's pool ends its forks with SIGTERM, which skips the atexit leak check).
// Returns true when LSan found unsuppressed leaks (the report goes where ASAN_OPTIONS log_path
// says).
#include <node_api.h>

extern "C" int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

namespace {

napi_value LeakCheck(napi_env env, napi_callback_info) {
  const bool leaks = __lsan_do_recoverable_leak_check && __lsan_do_recoverable_leak_check() != 0;
  napi_value r;
  napi_get_boolean(env, leaks, &r);
  return r;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "leakCheck", NAPI_AUTO_LENGTH, LeakCheck, nullptr, &fn);
  napi_set_named_property(env, exports, "leakCheck", fn);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
