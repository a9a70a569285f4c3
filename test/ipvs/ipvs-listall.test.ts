// listAll at scale: 300 services with 2-3 destinations each read back whole and equal to what
// ipvsadm sees. Also logs (never asserts) how long the destination dumps take one after another
// against the same number of pipelined non-dump requests, to size a transport change: the
// transport runs each dump alone, waiting for its end before sending the next request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { performance } from 'node:perf_hooks';
import { Ipvs, type ServiceKey } from '../../lib/index.js';
import { NetlinkSocket } from '../../lib/socket.js';
import { native } from '../../lib/native.js';
import { skipUnless, useNetns } from '../helpers/kernel.js';
import { ipvsadm } from './ipvs-helpers.js';

const skip = skipUnless('ipvs');
const N = 300;

// Spread over the low octet and the port: the pre-7.x service hash ignores high octets.
const keyOf = (i: number): ServiceKey => ({ protocol: 'tcp', address: `10.0.${i >> 8}.${i & 255}`, port: 1000 + i });

describe.skipIf(skip)('IPVS listAll at scale', () => {
  const ns = useNetns('lvs-all');
  let ipvs: Ipvs;
  beforeAll(async () => {
    ipvs = Ipvs.open({ netns: ns.name });
    const b = ipvs.batch();
    for (let i = 0; i < N; i++) {
      b.addService({ key: keyOf(i), scheduler: i % 2 ? 'rr' : 'wlc' });
      for (let j = 0; j < 2 + (i % 2); j++) b.addDestination(keyOf(i), { address: `10.1.${j}.${i & 255}`, port: 80 + (i >> 8), weight: j + 1 });
    }
    const r = await b.run();
    expect(r.ok).toBe(true);
  });
  afterAll(() => ipvs?.close());

  it('reads every service and destination, equal to ipvsadm -Sn', async () => {
    const all = await ipvs.listAll();
    expect(all).toHaveLength(N);
    const dests = all.reduce((a, s) => a + s.destinations!.length, 0);
    expect(dests).toBe(N * 2 + N / 2);
    const lines = ipvsadm(ns.name, '-Sn').split('\n').filter(Boolean);
    expect(lines.filter((l) => l.startsWith('-A'))).toHaveLength(N);
    expect(lines.filter((l) => l.startsWith('-a'))).toHaveLength(dests);
    // Spot-check one service line by line.
    const s = all.find((x) => 'port' in x.key && x.key.port === 1007)!;
    expect(s.scheduler).toBe('rr');
    expect(s.destinations!.map((d) => [d.address, d.weight])).toEqual([['10.1.2.7', 3], ['10.1.1.7', 2], ['10.1.0.7', 1]]);
  });

  it('measures sequential destination dumps against pipelined requests (logged, not asserted)', async () => {
    const sock = NetlinkSocket.open('generic', { netns: ns.name });
    try {
      const fam = sock.resolveFamily('IPVS').id;
      const keys = Array.from({ length: N }, (_, i) => {
        const a = Buffer.alloc(16);
        a.set([10, 0, i >> 8, i & 255]);
        return { a, port: 1000 + i };
      });
      const time = async (dump: boolean) => {
        const b = sock.newBatch();
        for (const k of keys) native.ipvsEncodeServiceKey(b, fam, dump ? 8 : 4, 2, 6, k.a, k.port, 0, dump);
        const t0 = performance.now();
        const raw = await sock.run(b, 'measure', { large: true });
        const t = performance.now() - t0;
        expect(raw.status.every((x) => x === 0)).toBe(true);
        return { ms: t, sendCalls: raw.sendCalls, replies: raw.replyOffsets.length };
      };
      await time(true); // warm
      const dumps = await time(true);
      const gets = await time(false);
      const t0 = performance.now();
      await ipvs.listAll();
      const all = performance.now() - t0;
      console.log(
        `[measure, emulated guest: ratios only] ${N} destination dumps: ${dumps.ms.toFixed(1)} ms in ${dumps.sendCalls} sends ` +
          `(${((dumps.ms * 1000) / N).toFixed(0)} us each); ${N} pipelined GET_SERVICE: ${gets.ms.toFixed(1)} ms in ${gets.sendCalls} sends ` +
          `(${((gets.ms * 1000) / N).toFixed(0)} us each); listAll: ${all.toFixed(1)} ms; ratio dumps/pipelined ${(dumps.ms / gets.ms).toFixed(2)}`,
      );
      expect(dumps.replies).toBe(N * 2 + N / 2);
      expect(gets.replies).toBe(N);
    } finally {
      sock.close();
    }
  });
});
