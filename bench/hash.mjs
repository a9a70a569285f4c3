// Throughput of the flow-prediction kernels, one core: batched native calls from JS vs one call
// per flow vs a plain C++ loop over the same kernels (bench/c/hash_floor.cc, built here with
// c++ -O3). Run after `node-gyp rebuild`: node bench/hash.mjs [flows] [batch]
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const h = createRequire(import.meta.url)(join(root, 'build/Release/lvskit.node')).hash;
const N = Number(process.argv[2] ?? 1 << 20);

const floorBin = '/tmp/lvskit-hash-floor';
const src = ['bench/c/hash_floor.cc', 'native/src/hash/multipath.cc', 'native/src/hash/ipvs.cc', 'native/src/hash/toeplitz.cc'].map((f) => join(root, f));
execFileSync('c++', ['-std=c++17', '-O3', '-I', join(root, 'native/src'), ...src, '-o', floorBin]);
const floor = Object.fromEntries(execFileSync(floorBin, [String(N)], { encoding: 'utf8' }).trim().split('\n').map((l) => { const [k, v] = l.split(' '); return [k, Number(v)]; }));

let x = 12345;
const r = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; return (x >>>= 0); };
const s = new Uint32Array(N).map(r), d = new Uint32Array(N).map(r), s6 = new Uint32Array(4 * N).map(r);
const sp = new Uint16Array(N).map(r), dp = new Uint16Array(N).map(r), pr = new Uint8Array(N).fill(6);
const out = new Uint32Array(N), o16 = new Uint16Array(N);
const ub = new Int32Array(4); h.mpUpperBounds(Uint32Array.of(1, 2, 3, 4), null, ub);
const sh = new Uint16Array(256); h.shBuild(new Int32Array(8).fill(1), sh);
const dh = new Uint16Array(256); h.dhBuild(8, dh);
const usable = new Uint8Array(8).fill(1);
const mh = new Uint16Array(4093); h.mhBuild(new Uint32Array(8).map(r), new Uint16Array(8).fill(80), new Int32Array(8).fill(1), 12, mh);
const key = new Uint8Array(40).map(r); const tt = new Uint32Array(36 * 256); h.toeplitzPrepare(key, 36, tt);

function rate(n, fn) {
  let best = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    best = Math.max(best, n / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  return best;
}
const BATCH = Number(process.argv[3] ?? 65536); // flows per native call in the batched form
function batched(fn) {
  return rate(N, () => { for (let i = 0; i < N; i += BATCH) fn(i, Math.min(N, i + BATCH)); });
}
const sub = (a, i, j, k = 1) => a.subarray(i * k, j * k);

const rows = [
  ['mpHashV4', 25e6, (i, j) => h.mpHashV4(sub(s, i, j), sub(d, i, j), sub(sp, i, j), sub(dp, i, j), sub(pr, i, j), sub(out, i, j), 1, 42, 0, true),
    () => { for (let i = 0; i < 200000; i++) h.mpHashV4One(s[i], d[i], sp[i], dp[i], 6, 1, 42, 0, true); }],
  ['mpPredictV4', 25e6, (i, j) => h.mpPredictV4(sub(s, i, j), sub(d, i, j), sub(sp, i, j), sub(dp, i, j), sub(pr, i, j), ub, sub(o16, i, j), 1, 42, 0, true)],
  ['mpHashV6', 0, (i, j) => h.mpHashV6(sub(s6, i, j, 4), sub(s6, i, j, 4), sub(sp, i, j), sub(dp, i, j), sub(pr, i, j), null, sub(out, i, j), 1, 42, 0, true)],
  ['sh', 300e6, (i, j) => h.shLookup(sh, usable, sub(s, i, j), 1, sub(sp, i, j), null, sub(o16, i, j), 0x10)],
  ['dh', 300e6, (i, j) => h.dhLookup(dh, usable, sub(d, i, j), 1, sub(o16, i, j))],
  ['mh', 150e6, (i, j) => h.mhLookup(mh, usable, sub(s, i, j), 1, sub(sp, i, j), null, sub(o16, i, j), 0x10)],
  ['toeplitzV4', 120e6, (i, j) => h.toeplitzV4(tt, sub(s, i, j), sub(d, i, j), sub(sp, i, j), sub(dp, i, j), sub(out, i, j))],
];

console.log(`lvskit hash bench  ${new Date().toISOString()}  node ${process.version}  kernel ${release()}  cpu ${cpus()[0]?.model} x${cpus().length}  flows ${N}, batch ${BATCH}`);
console.log('kernel'.padEnd(12), 'batched M/s'.padStart(12), 'C floor M/s'.padStart(12), 'floor/batched'.padStart(14), 'target M/s'.padStart(11), 'single-call M/s'.padStart(16));
for (const [name, target, fn, single] of rows) {
  const b = batched(fn);
  const one = single ? rate(200000, single) : NaN;
  const f = floor[name];
  console.log(name.padEnd(12), (b / 1e6).toFixed(1).padStart(12), (f / 1e6).toFixed(1).padStart(12), (f / b).toFixed(2).padStart(14),
    (target ? (target / 1e6).toFixed(0) : '-').padStart(11), (Number.isNaN(one) ? '-' : (one / 1e6).toFixed(1)).padStart(16));
}
