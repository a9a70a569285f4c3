// Conversion of transport errors into JS errors. The JS side (lib/errors.ts) turns these into the
// exported NetlinkError class; native code only attaches the raw facts.
#pragma once
#include <napi.h>

#include "transport/socket.h"

namespace lvskit {

// An Error whose message is `op: <message>`, with properties errno, code ('EEXIST') and op.
Napi::Error MakeSysError(Napi::Env env, const SysError& e, const std::string& op);

}  // namespace lvskit
