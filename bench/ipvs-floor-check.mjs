// Checks that bench/c/ipvs_floor.c sends the messages lvskit sends for the same bulk load, byte
// for byte (sequence numbers, port id and the flags the transport stamps at send time aside: both
// leave seq 0 and NLM_F_REQUEST here). No kernel needed: lvskit's batch is captured at the
// socket (its run() is replaced for this process, the family id is 0 as in the floor's --dump).
//
//   node bench/ipvs-floor-check.mjs [N] [DESTS]     (after `npm run build:ts`; exit 1 on a difference)
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFloorProgram } from './harness.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const n = Number(process.argv[2] ?? 300);
const dests = Number(process.argv[3] ?? 4);

export async function lvskitBytes(n, dests) {
  const { NetlinkSocket } = await import(join(root, 'dist/socket.js'));
  const { Ipvs } = await import(join(root, 'dist/index.js'));
  const proto = NetlinkSocket.prototype;
  const saved = { run: proto.run, resolveFamily: proto.resolveFamily };
  let captured;
  proto.resolveFamily = () => ({ name: 'IPVS', id: 0, version: 1, hdrSize: 0, maxAttr: 6, groups: [] });
  proto.run = function (batch) {
    captured = Buffer.from(batch.bytes());
    return Promise.reject(new Error('captured'));
  };
  try {
    const ipvs = Ipvs.open();
    const b = ipvs.batch();
    const vip = (i) => `10.${100 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}`;
    for (let i = 0; i < n; i++) {
      const key = { protocol: 'tcp', address: vip(i), port: 80 + ((i * 7) & 1023) };
      b.addService({ key, scheduler: 'wlc' });
      for (let j = 0; j < dests; j++) b.addDestination({ ...key }, { address: `192.168.${j}.10`, port: 8080, forward: 'masq', weight: 1 });
    }
    await b.run().catch(() => undefined);
    ipvs.close();
  } finally {
    Object.assign(proto, saved);
  }
  const lines = [];
  for (let o = 0; o < captured.length; ) {
    const len = captured.readUInt32LE(o);
    lines.push(captured.subarray(o, o + len).toString('hex'));
    o += (len + 3) & ~3;
  }
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const floor = buildFloorProgram('ipvs_floor');
  const c = execFileSync(floor, ['--dump', String(n), String(dests)], { encoding: 'utf8', maxBuffer: 1 << 30 }).trim().split('\n');
  const l = await lvskitBytes(n, dests);
  let diff = l.length === c.length ? -1 : Math.min(l.length, c.length);
  for (let i = 0; i < Math.min(l.length, c.length) && diff < 0; i++) if (l[i] !== c[i]) diff = i;
  if (diff >= 0) {
    console.error(`ipvs floor: message ${diff} differs (lvskit ${l.length} messages, floor ${c.length})\n lvskit ${l[diff]}\n floor  ${c[diff]}`);
    process.exit(1);
  }
  console.log(`ipvs floor: ${c.length} messages, byte for byte the same as lvskit's batch() (${n} services x ${dests})`);
}
