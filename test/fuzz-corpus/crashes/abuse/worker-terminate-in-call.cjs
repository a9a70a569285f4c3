// Reproducer (issue #9 abuse, found by test/unit/abuse-native.test.ts): terminating a worker
// thread while it is inside an lvskit native call aborts the WHOLE process:
//   terminate called after throwing an instance of 'Napi::Error'
// Stack: Napi::ObjectWrap<NativeBatch>::ConstructorCallbackWrapper -> Napi::Error::
// ThrowAsJavaScriptException -> __cxa_throw -> std::terminate. On a terminating env napi_throw
// fails, and node-addon-api (NAPI_CPP_EXCEPTIONS) then throws a C++ exception out of the callback
// wrapper. Any native function can be the one in flight (appendRaw, hash.*, encoders...).
// Fix: define NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS (binding.gyp "defines", and the same in
// native/CMakeLists.txt). Run: node test/fuzz-corpus/crashes/abuse/worker-terminate-in-call.cjs
// Prints "ok" and exits 0 when fixed; aborts (exit 134) while the bug is there.
const { Worker } = require('node:worker_threads');
const path = require('node:path');
const root = path.resolve(__dirname, '../../../..');
const src = `
const { parentPort, workerData } = require('node:worker_threads');
const native = require(workerData.root + '/node_modules/node-gyp-build')(workerData.root);
const m = Buffer.alloc(20); m.writeUInt32LE(20, 0);
parentPort.postMessage('loaded');
for (;;) { new native.NativeBatch().appendRaw(m); }
`;
(async () => {
  for (let i = 0; i < 50; i++) {
    const w = new Worker(src, { eval: true, workerData: { root } });
    await new Promise((r) => w.once('message', r));
    await new Promise((r) => setTimeout(r, 2));
    await w.terminate();
  }
  console.log('ok');
})();
