#include "binding/addon.h"

namespace lvskit {

AddonData* GetAddonData(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData<AddonData>(new AddonData());
  InitErrors(env, exports);
  InitSocket(env, exports);
  // Registered by their own binding files once they exist (see native/sources.txt):
  InitHash(env, exports);
  InitPacket(env, exports);
  InitIpvs(env, exports);
  InitRoute(env, exports);
  InitLink(env, exports);
  InitNft(env, exports);
  InitConntrack(env, exports);
  InitNetnsThread(env, exports);
  return exports;
}

}  // namespace lvskit

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return lvskit::InitAddon(env, exports);
}

NODE_API_MODULE(lvskit, InitModule)
