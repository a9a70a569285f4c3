// Packet parsing throughput, one core: the batched native call from JS (caller-owned output, no
// per-packet allocation) vs the plain C++ loop over the same parser and packets
// (bench/c/packet_floor.cc, built here with c++ -O3), plus the typed API (dist/) and a pcap read.
// Timed in CPU time, best of 5. Run after `npm run build`: node bench/packet.mjs [packets] [batch]
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pk = createRequire(import.meta.url)(join(root, 'build/Release/lvskit.node')).packet;
const N = Number(process.argv[2] ?? 1 << 20);
const BATCH = Number(process.argv[3] ?? 65536);

// ---- a realistic mix of frames, built byte by byte ------------------------------------------
let x = 12345;
const r = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; return (x >>>= 0); };
const be16 = (v) => [(v >> 8) & 255, v & 255];
const be32 = (v) => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const ethHdr = (type, vlan) => [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, ...(vlan ? [0x81, 0, ...be16(vlan), ...be16(type)] : be16(type))];
const l4 = (proto) => (proto === 6 ? [...be16(r() & 0xffff), ...be16(443), ...new Array(16).fill(0)] : [...be16(r() & 0xffff), ...be16(53), 0, 8, 0, 0]);
const v4 = (proto, payload) => [0x45, 0, ...be16(20 + payload.length), 0, 0, 0x40, 0, 64, proto, 0, 0, ...be32(r()), ...be32(r()), ...payload];
const v6 = (next, payload, ext = []) => [0x60 | 0, 0, 0, 0, ...be16(ext.length + payload.length), ext.length ? 0 : next, 64,
  ...new Array(8).fill(0).flatMap(() => be32(r())), ...ext, ...payload];
function frame() {
  const k = r() % 100;
  if (k < 40) return [...ethHdr(0x0800), ...v4(6, l4(6))];
  if (k < 60) return [...ethHdr(0x0800), ...v4(17, l4(17))];
  if (k < 70) return [...ethHdr(0x0800, 1 + (r() % 4094)), ...v4(6, l4(6))];
  if (k < 88) return [...ethHdr(0x86dd), ...v6(6, l4(6))];
  if (k < 93) return [...ethHdr(0x86dd), ...v6(17, l4(17), [17, 0, 1, 4, 0, 0, 0, 0])];
  if (k < 98) return [...ethHdr(0x0800), ...v4(1, [3, 3, 0, 0, 0, 0, 0, 0, ...v4(17, l4(17)).slice(0, 28)])];
  return [...ethHdr(0x0806), ...new Array(28).fill(0)];
}
const frames = Array.from({ length: N }, frame);
const total = frames.reduce((n, f) => n + f.length, 0);
const buf = new Uint8Array(total);
const offsets = new Uint32Array(N), lengths = new Uint32Array(N);
let at = 0;
frames.forEach((f, i) => { buf.set(f, at); offsets[i] = at; lengths[i] = f.length; at += f.length; });

// ---- the plain C++ loop ----------------------------------------------------------------------
const file = '/tmp/lvskit-packet-floor.bin';
writeFileSync(file, Buffer.concat([Buffer.from(Uint32Array.of(N).buffer), Buffer.from(lengths.buffer), buf]));
const floorBin = '/tmp/lvskit-packet-floor';
execFileSync('c++', ['-std=c++17', '-O3', '-I', join(root, 'native/src'), join(root, 'bench/c/packet_floor.cc'), join(root, 'native/src/packet/parse.cc'), '-o', floorBin]);
const floor = Object.fromEntries(execFileSync(floorBin, [file], { encoding: 'utf8' }).trim().split('\n').map((l) => l.split(' ')).map(([k, v]) => [k, Number(v)]));

// ---- batched native calls from JS ------------------------------------------------------------
const B = Math.min(BATCH, N);
const status = new Uint8Array(B), counts = new Uint32Array(9);
const a = (C, k = 1) => new C(k * B);
const v4o = [a(Uint32Array), a(Uint32Array), a(Uint16Array), a(Uint16Array), a(Uint8Array), a(Uint32Array), a(Uint8Array), a(Uint16Array),
  a(Uint32Array), a(Uint32Array), a(Uint32Array), a(Uint32Array), a(Uint16Array), a(Uint16Array), a(Uint8Array)];
const v6o = [a(Uint32Array, 4), a(Uint32Array, 4), a(Uint16Array), a(Uint16Array), a(Uint8Array), a(Uint32Array), a(Uint32Array), a(Uint8Array),
  a(Uint16Array), a(Uint32Array, 4), a(Uint32Array, 4), a(Uint8Array), a(Uint32Array), a(Uint32Array, 4), a(Uint32Array, 4), a(Uint16Array),
  a(Uint16Array), a(Uint8Array), a(Uint32Array)];
// Process CPU time (user + system), best of 5: meaningful on a loaded machine, like the floor's
// thread CPU time (this process also runs GC threads, so JS figures are if anything pessimistic).
function rate(n, fn) {
  let best = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = process.cpuUsage();
    fn();
    const u = process.cpuUsage(t0);
    best = Math.max(best, n / ((u.user + u.system) / 1e6));
  }
  return best;
}
const batched = rate(N, () => {
  for (let i = 0; i < N; i += B) {
    const j = Math.min(N, i + B);
    pk.parse(buf, offsets.subarray(i, j), lengths.subarray(i, j), null, 1, j - i, status, v4o, v6o, counts);
  }
});

// ---- the typed API (dist/) and a whole pcap read, when built ---------------------------------
let api = NaN, pcapRate = NaN;
const dist = join(root, 'dist/index.js');
if (existsSync(join(root, 'dist/packet/index.js'))) {
  const lib = await import(dist);
  const out = new lib.PacketFlowBuffer(B);
  api = rate(N, () => {
    for (let i = 0; i < N; i += B) lib.parsePackets(buf, offsets.subarray(i, Math.min(N, i + B)), lengths.subarray(i, Math.min(N, i + B)), 'ethernet', out);
  });
  const hdr = [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0];
  const pcap = new Uint8Array(24 + 16 * N + total);
  pcap.set(hdr, 0);
  let p = 24;
  const dv = new DataView(pcap.buffer);
  frames.forEach((f) => { dv.setUint32(p + 8, f.length, true); dv.setUint32(p + 12, f.length, true); pcap.set(f, p + 16); p += 16 + f.length; });
  const big = new lib.PacketFlowBuffer(N);
  pcapRate = rate(N, () => lib.readPcap(pcap, big));
}

const fmt = (v) => (Number.isNaN(v) ? '-' : (v / 1e6).toFixed(1));
console.log(`lvskit packet bench  ${new Date().toISOString()}  node ${process.version}  kernel ${release()}  cpu ${cpus()[0]?.model} x${cpus().length}`);
console.log(`packets ${N} (${(total / N).toFixed(0)} B avg: 40% v4 TCP, 20% v4 UDP, 10% VLAN, 18% v6 TCP, 5% v6 hop-by-hop UDP, 5% ICMP errors, 2% ARP), batch ${B}, flows ${floor.flows}`);
console.log('driver'.padEnd(34), 'M packets/s'.padStart(12), 'vs C loop'.padStart(10));
for (const [name, v] of [['plain C++ loop (ParseBatch)', floor.parse], ['batched native call from JS', batched], ['parsePackets (typed API, dist/)', api], ['readPcap (index + parse, dist/)', pcapRate]]) {
  console.log(name.padEnd(34), fmt(v).padStart(12), (Number.isNaN(v) ? '-' : (floor.parse / v).toFixed(2) + 'x').padStart(10));
}
