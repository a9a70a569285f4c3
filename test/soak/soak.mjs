// Leak soak (issue #9): N operations on one handle, then M open/close cycles, in a namespace of
// its own, sampling RSS and the open file descriptor count. Run through scripts/soak.mjs (which
// passes --expose-gc); not part of vitest. Asserts only generous growth bounds measured after a
// warm-up, never durations:
//   - fds after the run == fds after warm-up (+2 slack for libuv/V8 internals);
//   - RSS after the run <= RSS after warm-up + the bound (64 MiB short, 96 MiB long).
// Each operation is one request batch run on the raw native socket: mostly a route add or delete
// (synchronous path; adds and deletes alternate, so at most one soak route exists at a time and
// the key space never wraps onto a leftover), every 100th through the thread pool (execute),
// every 1000th a full dump, every 500th a refused request (an add of a route that always exists:
// EEXIST, asserted, so failures are soaked too).
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const native = createRequire(import.meta.url)(join(root, 'node_modules/node-gyp-build'))(root);

const args = process.argv.slice(2);
const long = args.includes('--long');
const num = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const OPS = num('--ops', long ? 1_000_000 : 50_000);
const CYCLES = num('--cycles', long ? 10_000 : 1_000);
const RSS_BOUND = (long ? 96 : 64) << 20;
const gc = globalThis.gc ?? (() => {});

function route(type, i) {
  // RTM_NEWROUTE (24) / RTM_DELROUTE (25) of 10.(i>>8).(i&255).0/24 dev lo table 100.
  const m = Buffer.alloc(16 + 12 + 8 + 8 + 8);
  m.writeUInt32LE(m.length, 0);
  m.writeUInt16LE(type, 4);
  m.writeUInt16LE(type === 24 ? 0x601 : 0x1, 6);
  m.set([2, 24, 0, 0, 100, 4, 253, 1], 16);
  let o = 28;
  for (const [t, v] of [[1, Buffer.from([10, (i >> 8) & 255, i & 255, 0])], [4, 1], [15, 100]]) {
    m.writeUInt16LE(8, o);
    m.writeUInt16LE(t, o + 2);
    if (Buffer.isBuffer(v)) v.copy(m, o + 4);
    else m.writeUInt32LE(v, o + 4);
    o += 8;
  }
  return m;
}
const dump = Buffer.alloc(28);
dump.writeUInt32LE(28, 0);
dump.writeUInt16LE(26, 4);
dump.writeUInt16LE(0x301, 6);
dump[16] = 2;

const fds = () => readdirSync('/proc/self/fd').length;
// N-API finalizers (which free a closed handle's native memory) run from the event loop after a
// GC, so a sample first lets the loop turn.
const tick = () => new Promise((r) => setImmediate(r));
async function sample(label) {
  gc();
  await tick();
  gc();
  await tick();
  const s = { label, rssMiB: +(process.memoryUsage().rss / 2 ** 20).toFixed(1), fds: fds() };
  console.log(`${label.padEnd(28)} rss ${String(s.rssMiB).padStart(7)} MiB   fds ${s.fds}`);
  return s;
}

const ns = `lvskit-soak-${process.pid}`;
native.createNetns(ns);
const path = `/run/netns/${ns}`;
const result = { ops: OPS, cycles: CYCLES, samples: [] };
let failures = 0;
try {
  // lo up: routes via lo need it (RTM_NEWLINK ifindex 1, IFF_UP).
  const up = Buffer.alloc(32);
  up.writeUInt32LE(32, 0);
  up.writeUInt16LE(16, 4);
  up.writeUInt16LE(1, 6);
  up.writeInt32LE(1, 20);
  up.writeUInt32LE(1, 24);
  up.writeUInt32LE(1, 28);
  const s = new native.NativeSocket(0, 1, path, 0, 0);
  const b0 = new native.NativeBatch();
  b0.appendRaw(up);
  s.executeSync(b0, {});

  // The route every refused add collides with: 10.255.255.0/24 (key 0xffff, never used below).
  const FIXED = 0xffff;
  const b1 = new native.NativeBatch();
  b1.appendRaw(route(24, FIXED));
  if (s.executeSync(b1, {})[1]) throw new Error('could not add the fixed route');

  result.samples.push(await sample('start'));
  const warm = Math.floor(OPS / 10);
  let wSample;
  let pending = -1; // the soak route that exists now (added, not yet deleted), or -1
  let next = 0;
  let refusedOk = 0;
  for (let i = 0; i < OPS; i++) {
    if (i === warm) result.samples.push((wSample = await sample(`ops warm-up (${warm})`)));
    const b = new native.NativeBatch();
    const refused = i % 1000 !== 999 && i % 500 === 499;
    if (i % 1000 === 999) b.appendRaw(dump);
    else if (refused) b.appendRaw(route(24, FIXED));
    else if (pending >= 0) {
      b.appendRaw(route(25, pending));
      pending = -1;
    } else {
      pending = next;
      next = (next + 1) % FIXED;
      b.appendRaw(route(24, pending));
    }
    const o = i % 100 === 50 ? await s.execute(b, {}) : s.executeSync(b, {});
    if (o[6]) throw new Error(`transport failure at op ${i}: ${o[6].message}`);
    if (refused) {
      if (o[1]?.length === 1 && o[1][0].errno === 17) refusedOk++;
      else failures++;
    } else if (o[1]) failures++;
  }
  result.refused = refusedOk;
  result.samples.push(await sample(`ops done (${OPS})`));
  s.close();

  const cwarm = Math.floor(CYCLES / 10);
  let cSample;
  for (let i = 0; i < CYCLES; i++) {
    if (i === cwarm) result.samples.push((cSample = await sample(`cycles warm-up (${cwarm})`)));
    const c = new native.NativeSocket(i & 1 ? 16 : 0, 1, path, 0, 0);
    const b = new native.NativeBatch();
    if (i & 1) c.resolveFamily('nlctrl');
    else {
      b.appendRaw(dump);
      c.executeSync(b, {});
    }
    c.close();
    // An application yields to its event loop now and then; a closed handle's 256 KiB receive
    // buffer is freed by the finalizer only then (see docs/hardening.md).
    if (i % 100 === 99) await tick();
  }
  result.samples.push(await sample(`cycles done (${CYCLES})`));
  const end = result.samples.at(-1);
  const opsEnd = result.samples.find((x) => x.label.startsWith('ops done'));
  result.checks = {
    unexpectedFailures: failures,
    refusedWithEEXIST: refusedOk,
    opsRssGrowthMiB: +(opsEnd.rssMiB - wSample.rssMiB).toFixed(1),
    opsFdGrowth: opsEnd.fds - wSample.fds,
    cyclesRssGrowthMiB: +(end.rssMiB - cSample.rssMiB).toFixed(1),
    cyclesFdGrowth: end.fds - cSample.fds,
  };
} finally {
  native.deleteNetns(ns);
}
console.log(JSON.stringify(result.checks));
const c = result.checks;
const bad = [];
if (c.unexpectedFailures) bad.push(`${c.unexpectedFailures} requests failed unexpectedly`);
if (c.opsFdGrowth > 2 || c.cyclesFdGrowth > 2) bad.push('file descriptors grew');
if (c.opsRssGrowthMiB * 2 ** 20 > RSS_BOUND || c.cyclesRssGrowthMiB * 2 ** 20 > RSS_BOUND) bad.push(`RSS grew by more than ${RSS_BOUND >> 20} MiB`);
if (bad.length) {
  console.error(`soak FAILED: ${bad.join('; ')}`);
  process.exit(1);
}
console.log('soak ok');
