// N-API entry points. Each binding file contributes its functions and classes to the module's
// exports through one Init* function; addon.cc calls them all. Binding files convert between JS
// values and the pure C++ structs of codec/, families/, hash/ and packet/, and nothing else:
// those layers never include napi.h.
#pragma once
#include <napi.h>

namespace lvskit {

// Per-environment state (worker threads each get their own): no statics anywhere in the addon.
struct AddonData {
  Napi::FunctionReference socketCtor;
  Napi::FunctionReference batchCtor;
};

AddonData* GetAddonData(Napi::Env env);

void InitErrors(Napi::Env env, Napi::Object exports);
void InitSocket(Napi::Env env, Napi::Object exports);
void InitHash(Napi::Env env, Napi::Object exports);     // hash_binding.cc (issue 5)
void InitPacket(Napi::Env env, Napi::Object exports);   // packet_binding.cc (issue 5)
void InitIpvs(Napi::Env env, Napi::Object exports);     // ipvs_binding.cc (issue 3)
void InitRoute(Napi::Env env, Napi::Object exports);    // route_binding.cc: routes, nexthops, rules
void InitLink(Napi::Env env, Napi::Object exports);     // link_binding.cc: links, addresses
void InitNft(Napi::Env env, Napi::Object exports);      // nft_binding.cc: nf_tables
void InitConntrack(Napi::Env env, Napi::Object exports);  // conntrack_binding.cc: ctnetlink
void InitNetnsThread(Napi::Env env, Napi::Object exports);  // netns_thread_binding.cc: health-check workers

}  // namespace lvskit
