// NativeSocket and NativeBatch: the JS face of the transport.
//
// Small requests run synchronously (a warm netlink round trip is ~1 us; a thread-pool hop costs
// tens of us); the TypeScript layer sends large batches and dumps through execute(), an
// AsyncWorker whose Execute touches no N-API. While a worker holds the socket, the socket is
// pinned (a reference keeps the JS object alive) and refuses other requests; close() during that
// time closes the fd once the worker is done. Event sockets are watched with uv_poll on the
// non-blocking fd, never a parked thread.
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <unistd.h>
#include <uv.h>

#include <cstring>
#include <memory>

#include "binding/addon.h"
#include "binding/batch.h"
#include "binding/errors.h"
#include "transport/socket.h"

namespace lvskit {

namespace {

// Distinguishes lvskit's wrapped objects from any other native object (napi_type_tag).
const napi_type_tag kBatchTag = {0x6c76736b69746261ULL, 0x7463683031303031ULL};
const napi_type_tag kSocketTag = {0x6c76736b6974736fULL, 0x636b657430303031ULL};

// These are methods, not native accessors: V8's signature check refuses a foreign `this` before
// node-addon-api unwraps it, which an accessor would not (an instance of the other wrapped class
// would be unwrapped as this one). lib/native.ts defines the JS getters (count, closed...) on them.

// Outcome -> JS, shaped for speed: building named properties and one ArrayBuffer per field
// cost ~15 us per call (V8 string internalisation, backing-store registration), more than the
// kernel round trip. So the result is a positional array, lib/socket.ts names the fields:
//   [items: Int32Array(4n) = status[n] | errno[n] | replyBegin[n] | replyCount[n],
//    failures: object[] | undefined, interrupted: number[] | undefined,
//    replies: Buffer | undefined, replyOffsets: Uint32Array | undefined, sendCalls, fatal | undefined]
Napi::Value OutcomeToJs(Napi::Env env, ExecOutcome& o) {
  size_t n = o.items.size();
  Napi::Int32Array items = Napi::Int32Array::New(env, 4 * n);
  int32_t* d = items.Data();
  Napi::Value failures = env.Undefined();
  Napi::Value interrupted = env.Undefined();
  uint32_t nf = 0, ni = 0;
  for (size_t i = 0; i < n; ++i) {
    const ItemResult& it = o.items[i];
    d[i] = static_cast<int32_t>(it.status);
    d[n + i] = it.error;
    d[2 * n + i] = static_cast<int32_t>(it.replyBegin);
    d[3 * n + i] = static_cast<int32_t>(it.replyCount);
    if (it.status == ItemStatus::Failed) {
      if (failures.IsUndefined()) failures = Napi::Array::New(env);
      Napi::Object f = Napi::Object::New(env);
      f.Set("index", Napi::Number::New(env, static_cast<double>(i)));
      f.Set("errno", Napi::Number::New(env, it.error));
      f.Set("code", Napi::String::New(env, ErrnoName(it.error)));
      if (!it.extackMessage.empty()) f.Set("kernelMessage", Napi::String::New(env, it.extackMessage));
      if (it.extackOffset >= 0) f.Set("offset", Napi::Number::New(env, static_cast<double>(it.extackOffset)));
      if (it.missingType >= 0) f.Set("missingType", Napi::Number::New(env, static_cast<double>(it.missingType)));
      failures.As<Napi::Array>().Set(nf++, f);
    }
    if (it.interrupted) {
      if (interrupted.IsUndefined()) interrupted = Napi::Array::New(env);
      interrupted.As<Napi::Array>().Set(ni++, Napi::Number::New(env, static_cast<double>(i)));
    }
  }
  Napi::Array r = Napi::Array::New(env, 7);
  r.Set(0u, items);
  r.Set(1u, failures);
  r.Set(2u, interrupted);
  if (!o.replies.offsets.empty()) {
    r.Set(3u, Napi::Buffer<uint8_t>::Copy(env, o.replies.bytes.data(), o.replies.bytes.size()));
    Napi::Uint32Array offs = Napi::Uint32Array::New(env, o.replies.offsets.size());
    std::memcpy(offs.Data(), o.replies.offsets.data(), o.replies.offsets.size() * 4);
    r.Set(4u, offs);
  }
  r.Set(5u, Napi::Number::New(env, static_cast<double>(o.sendCalls)));
  if (o.fatal.err) {
    Napi::Object f = Napi::Object::New(env);
    f.Set("errno", Napi::Number::New(env, o.fatal.err));
    f.Set("code", Napi::String::New(env, ErrnoName(o.fatal.err)));
    f.Set("message", Napi::String::New(env, o.fatal.message));
    r.Set(6u, f);
  }
  return r;
}

ExecOptions OptionsArg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  ExecOptions o;
  if (info.Length() <= i || info[i].IsUndefined()) return o;
  if (!info[i].IsObject()) throw Napi::TypeError::New(info.Env(), std::string(fn) + ": options must be an object");
  Napi::Object obj = info[i].As<Napi::Object>();
  o.ackEach = obj.Get("ackEach").ToBoolean();
  o.stopOnError = obj.Get("stopOnError").ToBoolean();
  Napi::Value r = obj.Get("dumpIntrRetries");
  if (r.IsNumber()) o.dumpIntrRetries = r.As<Napi::Number>().Int32Value();
  Napi::Value t = obj.Get("nfBatchSubsys");
  if (t.IsNumber()) {
    uint32_t sub = t.As<Napi::Number>().Uint32Value();
    if (sub > 0xff) throw Napi::RangeError::New(info.Env(), std::string(fn) + ": nfBatchSubsys must be in 0..255");
    o.nfBatchSubsys = static_cast<uint16_t>(sub);
  }
  return o;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// NativeBatch

Napi::Function NativeBatch::Define(Napi::Env env) {
  return DefineClass(env, "NativeBatch",
                     {InstanceMethod<&NativeBatch::Count>("getCount"),
                      InstanceMethod<&NativeBatch::ByteLength>("getByteLength"),
                      InstanceMethod<&NativeBatch::Clear>("clear"),
                      InstanceMethod<&NativeBatch::Bytes>("bytes"),
                      InstanceMethod<&NativeBatch::AppendRaw>("appendRaw")});
}

NativeBatch::NativeBatch(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeBatch>(info) {
  info.This().As<Napi::Object>().TypeTag(&kBatchTag);
}

Napi::Value NativeBatch::Count(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(writer_.messageCount()));
}
Napi::Value NativeBatch::ByteLength(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(writer_.size()));
}
Napi::Value NativeBatch::Clear(const Napi::CallbackInfo& info) {
  writer_.clear();
  return info.Env().Undefined();
}
Napi::Value NativeBatch::Bytes(const Napi::CallbackInfo& info) {
  return Napi::Buffer<uint8_t>::Copy(info.Env(), writer_.data(), writer_.size());
}

// Appends complete, already-encoded netlink messages (tests, and requests the families do not
// build). Each message's header is validated so the batch stays well-formed.
Napi::Value NativeBatch::AppendRaw(const Napi::CallbackInfo& info) {
  std::string_view b = BytesArg(info, 0, "NativeBatch.appendRaw", "messages");
  nl::MessageIterator it(reinterpret_cast<const uint8_t*>(b.data()), b.size());
  nl::MessageView m;
  size_t n = 0;
  while (it.next(m)) {
    size_t off = writer_.begin(m.hdr->nlmsg_type, m.hdr->nlmsg_flags);
    size_t body = m.hdr->nlmsg_len - nl::kNlmsgHdrLen;
    if (body) writer_.putHeader(m.payload, body);
    writer_.end(off);
    ++n;
  }
  if (!it.error().empty())
    throw Napi::RangeError::New(info.Env(), "NativeBatch.appendRaw: " + it.error());
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

nl::MessageWriter& BatchArg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  if (info.Length() <= i || !info[i].IsObject() || !info[i].As<Napi::Object>().CheckTypeTag(&kBatchTag))
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": argument " + std::to_string(i) + " must be a NativeBatch");
  return NativeBatch::Unwrap(info[i].As<Napi::Object>())->writer();
}

uint32_t U32Arg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  if (info.Length() <= i || !info[i].IsNumber())
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + name + " must be a number");
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 4294967295.0) || d != static_cast<double>(static_cast<uint64_t>(d)))
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": " + name + " must be an integer in 0..4294967295, got " + info[i].ToString().Utf8Value());
  return static_cast<uint32_t>(d);
}

int64_t I64Arg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  if (info.Length() <= i || !info[i].IsNumber())
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + name + " must be a number");
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= -9007199254740991.0 && d <= 9007199254740991.0) || d != static_cast<double>(static_cast<int64_t>(d)))
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": " + name + " must be a safe integer, got " + info[i].ToString().Utf8Value());
  return static_cast<int64_t>(d);
}

std::string StrArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  if (info.Length() <= i || !info[i].IsString())
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + name + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

bool BoolArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  if (info.Length() <= i || !info[i].IsBoolean())
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + name + " must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

std::string_view BytesArg(const Napi::CallbackInfo& info, size_t i, const char* fn,
                          const char* name, bool optional) {
  if (optional && (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull())) return {};
  if (info.Length() <= i || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + name + " must be a Buffer or Uint8Array");
  Napi::Uint8Array a = info[i].As<Napi::Uint8Array>();
  return std::string_view(reinterpret_cast<const char*>(a.Data()), a.ByteLength());
}

// ---------------------------------------------------------------------------------------------
// NativeSocket

class NativeSocket : public Napi::ObjectWrap<NativeSocket> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit NativeSocket(const Napi::CallbackInfo& info);
  ~NativeSocket() override;

  NetlinkSocket* sock() { return sock_.get(); }
  bool busy() const { return busy_; }
  void setBusy(bool b) { busy_ = b; }
  void finishAsync();

 private:
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Closed(const Napi::CallbackInfo& info);
  Napi::Value PortId(const Napi::CallbackInfo& info);
  Napi::Value Buffers(const Napi::CallbackInfo& info);
  Napi::Value ExecuteSync(const Napi::CallbackInfo& info);
  Napi::Value Execute(const Napi::CallbackInfo& info);
  Napi::Value ResolveFamily(const Napi::CallbackInfo& info);
  Napi::Value Watch(const Napi::CallbackInfo& info);
  Napi::Value Unwatch(const Napi::CallbackInfo& info);
  Napi::Value SetRef(const Napi::CallbackInfo& info);
  Napi::Value ReadFile(const Napi::CallbackInfo& info);
  Napi::Value WriteFile(const Napi::CallbackInfo& info);

  void usable(Napi::Env env, const char* op);
  void stopWatching();
  static void OnPoll(uv_poll_t* h, int status, int events);
  static void CleanupHook(void* arg);

  std::unique_ptr<NetlinkSocket> sock_;
  bool busy_ = false;
  bool closeAfterAsync_ = false;
  uv_poll_t* poll_ = nullptr;
  // Whether the watch poll keeps the event loop alive (uv_ref) or not (uv_unref). Kept across
  // unwatch/watch so a stream that pauses and resumes reading keeps its choice.
  bool loopRef_ = true;
  Napi::FunctionReference onEvents_;
  napi_env env_ = nullptr;
};

Napi::Function NativeSocket::Define(Napi::Env env) {
  return DefineClass(env, "NativeSocket",
                     {InstanceMethod<&NativeSocket::Close>("close"),
                      InstanceMethod<&NativeSocket::Closed>("isClosed"),
                      InstanceMethod<&NativeSocket::PortId>("getPortId"),
                      InstanceMethod<&NativeSocket::Buffers>("buffers"),
                      InstanceMethod<&NativeSocket::ExecuteSync>("executeSync"),
                      InstanceMethod<&NativeSocket::Execute>("execute"),
                      InstanceMethod<&NativeSocket::ResolveFamily>("resolveFamily"),
                      InstanceMethod<&NativeSocket::Watch>("watch"),
                      InstanceMethod<&NativeSocket::Unwatch>("unwatch"),
                      InstanceMethod<&NativeSocket::SetRef>("setRef"),
                      InstanceMethod<&NativeSocket::ReadFile>("readFile"),
                      InstanceMethod<&NativeSocket::WriteFile>("writeFile")});
}

// new NativeSocket(protocol, nsKind /*0 current, 1 path, 2 pid*/, nsPath, nsPid, rcvbufBytes)
NativeSocket::NativeSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeSocket>(info) {
  const char* fn = "new NativeSocket";
  Napi::Env env = info.Env();
  env_ = env;
  info.This().As<Napi::Object>().TypeTag(&kSocketTag);
  NetnsSpec ns;
  int protocol = static_cast<int>(U32Arg(info, 0, fn, "protocol"));
  uint32_t kind = U32Arg(info, 1, fn, "nsKind");
  if (kind == 1) {
    ns.kind = NetnsSpec::Kind::Path;
    ns.path = StrArg(info, 2, fn, "nsPath");
  } else if (kind == 2) {
    ns.kind = NetnsSpec::Kind::Pid;
    ns.pid = static_cast<int>(U32Arg(info, 3, fn, "nsPid"));
  } else if (kind != 0) {
    throw Napi::RangeError::New(env, "new NativeSocket: nsKind must be 0, 1 or 2");
  }
  int rcvbuf = static_cast<int>(U32Arg(info, 4, fn, "rcvbufBytes"));
  SysError e;
  sock_ = NetlinkSocket::Open(protocol, ns, rcvbuf, &e);
  if (!sock_) throw MakeSysError(env, e, "open");
}

// Runs as a finalizer, possibly while the environment is torn down (a worker exiting): only
// release native resources here; touching references (Unref) could throw, and a throw from a
// destructor is std::terminate.
NativeSocket::~NativeSocket() {
  if (poll_) {
    uv_poll_stop(poll_);
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
    napi_remove_env_cleanup_hook(env_, CleanupHook, this);
  }
}

void NativeSocket::usable(Napi::Env env, const char* op) {
  if (!sock_ || sock_->closed() || closeAfterAsync_) {
    SysError e{EBADF, "the socket is closed"};
    throw MakeSysError(env, e, op);
  }
  if (busy_) {
    SysError e{EBUSY, "another request is in flight on this socket (one at a time)"};
    throw MakeSysError(env, e, op);
  }
  if (poll_) {
    SysError e{EBUSY, "this socket is watching events and takes no requests"};
    throw MakeSysError(env, e, op);
  }
}

Napi::Value NativeSocket::Close(const Napi::CallbackInfo& info) {
  stopWatching();
  if (busy_) {
    closeAfterAsync_ = true;  // the worker finishes with the fd, then finishAsync closes it
  } else if (sock_) {
    sock_->close();
  }
  return info.Env().Undefined();
}

void NativeSocket::finishAsync() {
  busy_ = false;
  if (closeAfterAsync_ && sock_) sock_->close();
}

Napi::Value NativeSocket::Closed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !sock_ || sock_->closed() || closeAfterAsync_);
}

Napi::Value NativeSocket::PortId(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), sock_ ? sock_->portId() : 0);
}

Napi::Value NativeSocket::Buffers(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("rcvbuf", Napi::Number::New(info.Env(), sock_ ? sock_->rcvbuf() : 0));
  o.Set("sndbuf", Napi::Number::New(info.Env(), sock_ ? sock_->sndbuf() : 0));
  return o;
}

// executeSync(batch, options) -> outcome. Consumes the batch.
Napi::Value NativeSocket::ExecuteSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  usable(env, "execute");
  nl::MessageWriter& w = BatchArg(info, 0, "executeSync");
  ExecOptions opt = OptionsArg(info, 1, "executeSync");
  ExecOutcome o = sock_->execute(w.data(), w.size(), opt);
  w.clear();
  return OutcomeToJs(env, o);
}

class ExecuteWorker : public Napi::AsyncWorker {
 public:
  ExecuteWorker(Napi::Env env, NativeSocket* owner, Napi::Object self, nl::MessageWriter&& msgs,
                ExecOptions opt)
      : Napi::AsyncWorker(env, "lvskit:execute"),
        deferred_(Napi::Promise::Deferred::New(env)),
        owner_(owner),
        msgs_(std::move(msgs)),
        opt_(opt) {
    self_ = Napi::Persistent(self);  // pins the socket while the worker holds its fd
  }
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override { out_ = owner_->sock()->execute(msgs_.data(), msgs_.size(), opt_); }
  void OnOK() override {
    owner_->finishAsync();
    deferred_.Resolve(OutcomeToJs(Env(), out_));
  }
  void OnError(const Napi::Error& e) override {
    owner_->finishAsync();
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  NativeSocket* owner_;
  Napi::ObjectReference self_;
  nl::MessageWriter msgs_;
  ExecOptions opt_;
  ExecOutcome out_;
};

// execute(batch, options) -> Promise<outcome>, on the thread pool. Consumes the batch.
Napi::Value NativeSocket::Execute(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  usable(env, "execute");
  nl::MessageWriter& w = BatchArg(info, 0, "execute");
  ExecOptions opt = OptionsArg(info, 1, "execute");
  nl::MessageWriter taken = std::move(w);
  w.clear();
  auto* worker = new ExecuteWorker(env, this, info.This().As<Napi::Object>(), std::move(taken), opt);
  busy_ = true;
  Napi::Promise p = worker->Promise();
  worker->Queue();
  return p;
}

Napi::Value NativeSocket::ResolveFamily(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  usable(env, "resolveFamily");
  std::string name = StrArg(info, 0, "resolveFamily", "name");
  SysError e;
  if (!sock_->namespaceStillThere(&e)) throw MakeSysError(env, e, "resolveFamily " + name);
  const GenlFamily* f = sock_->resolveFamily(name, &e);
  if (!f) throw MakeSysError(env, e, "resolveFamily " + name);
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", name);
  o.Set("id", Napi::Number::New(env, f->id));
  o.Set("version", Napi::Number::New(env, f->version));
  o.Set("hdrSize", Napi::Number::New(env, f->hdrSize));
  o.Set("maxAttr", Napi::Number::New(env, f->maxAttr));
  Napi::Object g = Napi::Object::New(env);
  for (const auto& kv : f->groups) g.Set(kv.first, Napi::Number::New(env, kv.second));
  o.Set("groups", g);
  return o;
}

// watch(groups: number[], onEvents(replies: Buffer, offsets: Uint32Array, overruns: number, error?))
Napi::Value NativeSocket::Watch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  usable(env, "watch");
  if (!info[0].IsArray()) throw Napi::TypeError::New(env, "watch: groups must be an array of numbers");
  if (!info[1].IsFunction()) throw Napi::TypeError::New(env, "watch: onEvents must be a function");
  Napi::Array groups = info[0].As<Napi::Array>();
  SysError e;
  for (uint32_t i = 0; i < groups.Length(); ++i) {
    Napi::Value v = groups.Get(i);
    if (!v.IsNumber()) throw Napi::TypeError::New(env, "watch: groups must be an array of numbers");
    if (!sock_->addMembership(v.As<Napi::Number>().Uint32Value(), &e)) throw MakeSysError(env, e, "watch");
  }
  if (!sock_->setNonBlocking(&e)) throw MakeSysError(env, e, "watch");
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop)
    throw Napi::Error::New(env, "watch: no event loop");
  onEvents_ = Napi::Persistent(info[1].As<Napi::Function>());
  poll_ = new uv_poll_t;
  poll_->data = this;
  if (uv_poll_init(loop, poll_, sock_->fd()) != 0 || uv_poll_start(poll_, UV_READABLE, OnPoll) != 0) {
    delete poll_;
    poll_ = nullptr;
    throw Napi::Error::New(env, "watch: uv_poll failed");
  }
  if (!loopRef_) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  Ref();  // a watching socket stays alive until unwatch/close
  napi_add_env_cleanup_hook(env, CleanupHook, this);
  return env.Undefined();
}

void NativeSocket::OnPoll(uv_poll_t* h, int status, int events) {
  auto* self = static_cast<NativeSocket*>(h->data);
  if (!self || !self->poll_) return;
  Napi::Env env(self->env_);
  Napi::HandleScope scope(env);
  Replies r;
  uint32_t overruns = 0;
  SysError e;
  bool ok;
  if (status == UV_EBADF && self->sock_ && !self->sock_->closed()) {
    // The kernel dropped events: the socket has ENOBUFS pending, epoll reports POLLERR, and libuv
    // stops the poll and says EBADF (deps/uv/src/unix/poll.c uv__poll_io). Reading clears the
    // error (counted as an overrun) and the queued events follow; then poll again.
    ok = self->sock_->drainEvents(&r, &overruns, &e);
    if (ok && uv_poll_start(h, UV_READABLE, OnPoll) != 0) {
      ok = false;
      e.err = EIO;
      e.message = "could not restart polling after an overrun";
    }
  } else if (status != 0) {
    ok = false;
    e.err = -status;
    e.message = uv_strerror(status);
  } else {
    ok = self->sock_->drainEvents(&r, &overruns, &e);
  }
  if (r.offsets.empty() && overruns == 0 && ok) return;
  // An unref'd poll (an event stream nobody is reading) can still fire after the loop ran dry:
  // Node's teardown runs the loop once more to close handles, before our cleanup hook stops the
  // poll, and JS can no longer run then. napi_create_buffer_copy refuses (napi_pending_exception
  // or napi_cannot_run_js with no exception pending) exactly in that state: drop the events, the
  // process is exiting. Via the C API, since a C++ throw here would unwind into libuv.
  napi_value bytes = nullptr;
  void* copied = nullptr;
  if (napi_create_buffer_copy(env, r.bytes.size(), r.bytes.data(), &copied, &bytes) != napi_ok) {
    bool pending = false;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
      napi_value ex;
      napi_get_and_clear_last_exception(env, &ex);
      napi_fatal_exception(env, ex);
    }
    return;
  }
  Napi::Uint32Array offs = Napi::Uint32Array::New(env, r.offsets.size());
  if (!r.offsets.empty()) std::memcpy(offs.Data(), r.offsets.data(), r.offsets.size() * 4);
  std::vector<napi_value> args = {bytes, offs, Napi::Number::New(env, overruns)};
  if (!ok) args.push_back(MakeSysError(env, e, "events").Value());
  try {
    self->onEvents_.MakeCallback(self->Value(), args);
  } catch (const Napi::Error& err) {
    // A throwing listener must not unwind into libuv (std::terminate): hand it to Node as an
    // uncaught exception, exactly as if a JS timer callback had thrown.
    napi_fatal_exception(env, err.Value());
  }
}

void NativeSocket::stopWatching() {
  if (!poll_) return;
  uv_poll_stop(poll_);
  uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
  poll_ = nullptr;
  onEvents_.Reset();
  napi_remove_env_cleanup_hook(env_, CleanupHook, this);
  Unref();
}

void NativeSocket::CleanupHook(void* arg) {
  auto* self = static_cast<NativeSocket*>(arg);
  if (self->poll_) {
    uv_poll_stop(self->poll_);
    uv_close(reinterpret_cast<uv_handle_t*>(self->poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    self->poll_ = nullptr;
  }
  // Node drains thread-pool work before cleanup hooks run, but never unmap a buffer a worker
  // might still be reading into: a busy socket is closed by the worker's completion instead.
  if (self->sock_ && !self->busy_) self->sock_->close();
}

Napi::Value NativeSocket::Unwatch(const Napi::CallbackInfo& info) {
  stopWatching();
  return info.Env().Undefined();
}

// setRef(on: boolean): whether watching keeps the event loop alive, like a timer's ref()/unref().
// Applies to the current poll and to later watch() calls. An unref'd poll still delivers events
// while something else keeps the loop running.
Napi::Value NativeSocket::SetRef(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsBoolean()) throw Napi::TypeError::New(env, "setRef: on must be a boolean");
  loopRef_ = info[0].As<Napi::Boolean>().Value();
  if (poll_) {
    if (loopRef_) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    else uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  }
  return env.Undefined();
}

// readFile(path) -> string: reads a /proc/sys or /proc/net file as seen from this socket's
// namespace (their view follows the reading thread's namespace).
Napi::Value NativeSocket::ReadFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!sock_ || sock_->closed()) throw MakeSysError(env, SysError{EBADF, "the socket is closed"}, "readFile");
  std::string path = StrArg(info, 0, "readFile", "path");
  SysError e;
  if (!sock_->namespaceStillThere(&e)) throw MakeSysError(env, e, "read " + path);
  std::string content;
  int err = 0;
  bool ran = sock_->runInNamespace(
      [&] {
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
          err = errno;
          return;
        }
        char buf[65536];
        for (;;) {
          ssize_t n = ::read(fd, buf, sizeof buf);
          if (n < 0 && errno == EINTR) continue;
          if (n < 0) err = errno;
          if (n <= 0) break;
          content.append(buf, static_cast<size_t>(n));
        }
        ::close(fd);
      },
      &e);
  if (!ran) throw MakeSysError(env, e, "read " + path);
  if (err) throw MakeSysError(env, SysError{err, std::strerror(err)}, "read " + path);
  return Napi::String::New(env, content);
}

// writeFile(path, value): writes a /proc/sys file inside this socket's namespace.
Napi::Value NativeSocket::WriteFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!sock_ || sock_->closed()) throw MakeSysError(env, SysError{EBADF, "the socket is closed"}, "writeFile");
  std::string path = StrArg(info, 0, "writeFile", "path");
  std::string value = StrArg(info, 1, "writeFile", "value");
  SysError e;
  if (!sock_->namespaceStillThere(&e)) throw MakeSysError(env, e, "write " + path);
  int err = 0;
  bool ran = sock_->runInNamespace(
      [&] {
        int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
          err = errno;
          return;
        }
        ssize_t n;
        do n = ::write(fd, value.data(), value.size());
        while (n < 0 && errno == EINTR);
        if (n < 0) err = errno;
        ::close(fd);
      },
      &e);
  if (!ran) throw MakeSysError(env, e, "write " + path);
  if (err) throw MakeSysError(env, SysError{err, std::strerror(err)}, "write " + path);
  return env.Undefined();
}

void InitSocket(Napi::Env env, Napi::Object exports) {
  AddonData* data = GetAddonData(env);
  Napi::Function sock = NativeSocket::Define(env);
  Napi::Function batch = NativeBatch::Define(env);
  data->socketCtor = Napi::Persistent(sock);
  data->batchCtor = Napi::Persistent(batch);
  exports.Set("NativeSocket", sock);
  exports.Set("NativeBatch", batch);
}

}  // namespace lvskit
