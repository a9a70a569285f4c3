// packetL4Hash and MultipathRoute.predict(flow, packet): the hash a forwarded packet carries
// replaces the header hash under policy 1 only (the kernel itself is the judge in
// test/netns/packet-l4hash.test.ts).
import { describe, expect, it } from 'vitest';
import { MultipathRoute, multipathHash, packetL4Hash } from '../../lib/hash/index.js';
import { ValidationError } from '../../lib/errors.js';

const flow = { src: '66.9.149.187', dst: '161.142.100.80', sport: 2794, dport: 1766, proto: 'tcp' as const };

describe('packetL4Hash', () => {
  it('computes the NIC RSS hash (Microsoft verification vector) for L4 hash types only', () => {
    expect(packetL4Hash(flow, { rss: { hashType: 'l4' } })).toBe(0x51ccc178);
    expect(packetL4Hash(flow, { rss: { hashType: 'l3' } })).toBeUndefined();
    expect(packetL4Hash(flow, undefined)).toBeUndefined();
    expect(packetL4Hash(flow, { l4Hash: 0xdeadbeef })).toBe(0xdeadbeef);
    const v6 = { src: '3ffe:2501:200:1fff::7', dst: '3ffe:2501:200:3::1', sport: 2794, dport: 1766 };
    expect(packetL4Hash(v6, { rss: { hashType: 'l4' } })).toBe(0x40207d3d);
  });

  it('names the bad field', () => {
    expect(() => packetL4Hash(flow, { l4Hash: -1 })).toThrow(ValidationError);
    expect(() => packetL4Hash(flow, { l4Hash: 2 ** 32 })).toThrow(/packet\.l4Hash/);
    expect(() => packetL4Hash(flow, { rss: { hashType: 'l2' as 'l4' } })).toThrow(/packet\.rss/);
  });
});

describe('MultipathRoute.predict(flow, packet)', () => {
  const r1 = new MultipathRoute([1, 1, 1, 1], { policy: 1, seed: 42 });
  it('policy 1 routes by the carried hash >> 1', () => {
    for (const h of [0, 0x3fffffff, 0x40000000, 0x7fffffff, 0x80000000, 0xbfffffff, 0xc0000000, 0xffffffff]) {
      expect(r1.predict(flow, { l4Hash: h })).toBe(r1.selectHash(h >>> 1));
      expect(r1.predict(flow, { l4Hash: h })).toBe(Math.floor(h / 2 ** 30));
    }
    expect(r1.predict(flow, { rss: { hashType: 'l4' } })).toBe(r1.selectHash(0x51ccc178 >>> 1));
    expect(r1.predict(flow, { rss: { hashType: 'l3' } })).toBe(r1.predict(flow));
  });
  it('other policies and the flow path hash the headers', () => {
    for (const opts of [{ policy: 0 as const, seed: 42 }, { policy: 3 as const, seed: 42 }, { policy: 1 as const, seed: 42, path: 'flow' as const }]) {
      const r = new MultipathRoute([1, 1, 1, 1], opts);
      expect(r.predict(flow, { l4Hash: 0 })).toBe(r.selectHash(multipathHash(flow, opts)));
    }
  });
});
