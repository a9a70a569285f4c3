// Reproducer (issue #9 abuse, found by test/netns/abuse-socket.test.ts): a worker thread that
// exits (process.exit() inside the worker, i.e. its env is torn down) while a
// NativeSocket.execute() it started is still running on the thread pool aborts the WHOLE
// process: "terminate called after throwing an instance of 'Napi::Error'". The AsyncWorker
// (native/src/binding/socket_binding.cc ExecuteWorker) completes on a terminating env; its
// OnOK/OnError N-API calls fail and node-addon-api throws a C++ exception out of the completion
// callback. Likely fixed by the same NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS define as
// worker-terminate-in-call.cjs; ExecuteWorker may also want to check the env is still alive.
// Needs root and a namespace: run as
//   ip netns add lvskit-repro && node test/fuzz-corpus/crashes/abuse/worker-exit-with-request-in-flight.cjs; ip netns del lvskit-repro
// Prints "ok" when fixed; aborts (exit 134) while the bug is there.
const { Worker } = require('node:worker_threads');
const path = require('node:path');
const root = path.resolve(__dirname, '../../../..');
const dump = Buffer.alloc(28);
dump.writeUInt32LE(28, 0);
dump.writeUInt16LE(26, 4); // RTM_GETROUTE
dump.writeUInt16LE(0x301, 6); // NLM_F_REQUEST | NLM_F_DUMP
dump[16] = 2;
const src = `
const { workerData } = require('node:worker_threads');
const native = require(workerData.root + '/node_modules/node-gyp-build')(workerData.root);
const s = new native.NativeSocket(0, 1, '/run/netns/lvskit-repro', 0, 0);
const b = new native.NativeBatch();
for (let i = 0; i < 200; i++) b.appendRaw(Buffer.from(workerData.dump));
s.execute(b, {});
process.exit(3);
`;
(async () => {
  for (let i = 0; i < 20; i++) {
    const w = new Worker(src, { eval: true, workerData: { root, dump } });
    await new Promise((r) => w.once('exit', r));
  }
  console.log('ok');
})();
