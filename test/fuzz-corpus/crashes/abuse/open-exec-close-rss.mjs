// Reproducer (issue #9 soak, found by scripts/soak.mjs): opening a handle in a NAMED namespace,
// running one request on it and closing it, 1,500 times with the event loop turning every 100
// and full GCs at the end, leaves RSS ~270 MiB (dump) / ~145 MiB (resolveFamily) instead of flat;
// opening and closing without a request stays flat (~44 MiB), and the same loop in the current
// namespace stays flat (~52 MiB). File descriptors stay flat: memory, not fds. Suspects: each
// NetlinkSocket holds a 256 KiB zero-filled receive buffer (socket.cc kRecvBufBytes) that close()
// does not release and V8 is not told about (no AdjustExternalMemory), so collection is lazy;
// but why executing a request in another namespace keeps it alive needs a look by the transport
// owner. Needs root:
//   node --expose-gc test/fuzz-corpus/crashes/abuse/open-exec-close-rss.mjs dump|genl|open
import { createRequire } from 'node:module';
const native = createRequire(import.meta.url)('../../../../node_modules/node-gyp-build')(new URL('../../../..', import.meta.url).pathname);
const tick = () => new Promise((r) => setImmediate(r));
const mode = process.argv[2];
const ns = 'lvskit-cyc-' + process.pid; native.createNetns(ns);
const d = Buffer.alloc(28); d.writeUInt32LE(28,0); d.writeUInt16LE(26,4); d.writeUInt16LE(0x301,6); d[16]=2;
for (let i = 0; i < 1500; i++) {
  const c = new native.NativeSocket(mode === 'genl' ? 16 : 0, 1, '/run/netns/' + ns, 0, 0);
  if (mode === 'genl') c.resolveFamily('nlctrl');
  if (mode === 'dump') { const b = new native.NativeBatch(); b.appendRaw(d); c.executeSync(b, {}); }
  c.close();
  if (i % 100 === 99) await tick();
}
for (let k = 0; k < 5; k++) { gc(); await tick(); }
native.deleteNetns(ns);
console.log(mode, 'rss MiB', (process.memoryUsage().rss / 2**20).toFixed(1));
