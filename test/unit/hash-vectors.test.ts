// Golden vectors (SipHash paper, Microsoft RSS verification suite) and native-vs-reference
// differential tests on random inputs (fast-check).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MICROSOFT_RSS_KEY, MaglevTable, MultipathRoute, SchedulerTable, ToeplitzHasher, NO_DESTINATION, hash32, ipv4ToNumber, ipv6ToWords,
  jhash2Words, multipathHashV4, multipathHashV6, multipathUpperBounds, siphash13, siphash24, sipKey,
} from '../../lib/hash/index.js';
import { nativeHash } from '../../lib/hash/native-types.js';
import { refHash32, refJhash2Words, refMhHashKey, refMultipathHash, refSipHash, refToeplitz } from '../../lib/hash/reference/index.js';
import { ValidationError } from '../../lib/errors.js';

const key0f = Uint8Array.from({ length: 16 }, (_, i) => i);
const msg = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);

describe('SipHash', () => {
  it('matches the SipHash-2-4 reference vectors (key 00..0f, message 00..n-1)', () => {
    expect(siphash24(key0f, msg(0))).toBe(0x726fdb47dd0e0e31n);
    expect(siphash24(key0f, msg(15))).toBe(0xa129ca6149be45e5n);
    expect(siphash24(key0f, msg(63))).toBe(0x958a324ceb064572n);
  });
  it('native equals the BigInt reference on random inputs (2-4 and 1-3)', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.uint8Array({ maxLength: 80 }), (k0, k1, data) => {
      const key = sipKey(k0, k1);
      expect(siphash24(key, data)).toBe(refSipHash(2, 4, k0, k1, data));
      expect(siphash13(key, data)).toBe(refSipHash(1, 3, k0, k1, data));
    }), { numRuns: 300 });
  });
});

describe('jhash and hash_32', () => {
  it('native equals the reference', () => {
    fc.assert(fc.property(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 32 }), (a, b, bits) => {
      expect(jhash2Words(a >>> 0, b >>> 0, 0)).toBe(refJhash2Words(a >>> 0, b >>> 0, 0));
      expect(hash32(a >>> 0, bits)).toBe(refHash32(a >>> 0, bits));
    }), { numRuns: 500 });
  });
});

describe('Toeplitz', () => {
  const t = new ToeplitzHasher(MICROSOFT_RSS_KEY);
  const v4 = (s: string, d: string, sp: number, dp: number) => {
    const out = new Uint32Array(1);
    const two = t.hashV4(Uint32Array.of(ipv4ToNumber(s)), Uint32Array.of(ipv4ToNumber(d)), new Uint32Array(1))[0];
    const four = t.hashV4(Uint32Array.of(ipv4ToNumber(s)), Uint32Array.of(ipv4ToNumber(d)), out, Uint16Array.of(sp), Uint16Array.of(dp))[0];
    return [two, four];
  };
  it('matches the Microsoft RSS verification suite (IPv4)', () => {
    expect(v4('66.9.149.187', '161.142.100.80', 2794, 1766)).toEqual([0x323e8fc2, 0x51ccc178]);
    expect(v4('199.92.111.2', '65.69.140.83', 14230, 4739)).toEqual([0xd718262a, 0xc626b0ea]);
    expect(v4('24.19.198.95', '12.22.207.184', 12898, 38024)).toEqual([0xd2d0a5de, 0x5c2b394a]);
  });
  it('matches the suite (IPv6)', () => {
    const out = new Uint32Array(1);
    const s = Uint32Array.from(ipv6ToWords('3ffe:2501:200:1fff::7')), d = Uint32Array.from(ipv6ToWords('3ffe:2501:200:3::1'));
    expect(t.hashV6(s, d, out)[0]).toBe(0x2cc18cd5);
    expect(t.hashV6(s, d, out, Uint16Array.of(2794), Uint16Array.of(1766))[0]).toBe(0x40207d3d);
  });
  it('table form equals the bit-serial reference on random 4-tuples', () => {
    fc.assert(fc.property(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 }), (s, d, sp, dp) => {
      const input = new Uint8Array(12);
      const v = new DataView(input.buffer);
      v.setUint32(0, s >>> 0); v.setUint32(4, d >>> 0); v.setUint16(8, sp); v.setUint16(10, dp);
      const got = t.hashV4(Uint32Array.of(s >>> 0), Uint32Array.of(d >>> 0), new Uint32Array(1), Uint16Array.of(sp), Uint16Array.of(dp))[0];
      expect(got).toBe(refToeplitz(MICROSOFT_RSS_KEY, input));
    }), { numRuns: 300 });
  });
});

describe('multipath hash', () => {
  const arb = fc.record({
    v6: fc.boolean(), policy: fc.constantFrom(0, 1, 2, 3), seed: fc.nat(), fields: fc.integer({ min: 0, max: 63 }), packet: fc.boolean(),
    s: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }), d: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
    sp: fc.integer({ min: 0, max: 65535 }), dp: fc.integer({ min: 0, max: 65535 }), proto: fc.integer({ min: 0, max: 255 }), fl: fc.integer({ min: 0, max: 0xfffff }),
    same: fc.boolean(),
  });
  it('native equals the byte-built struct flow_keys reference', () => {
    fc.assert(fc.property(arb, (a) => {
      const s = a.s.map((x) => x >>> 0), d = a.same ? s.slice() : a.d.map((x) => x >>> 0);
      const opts = { policy: a.policy as 0, seed: a.seed >>> 0, fields: a.fields, path: a.packet ? 'packet' as const : 'flow' as const };
      const out = new Uint32Array(1);
      const got = a.v6
        ? multipathHashV6({ saddr: Uint32Array.from(s), daddr: Uint32Array.from(d), sport: Uint16Array.of(a.sp), dport: Uint16Array.of(a.dp), proto: Uint8Array.of(a.proto), flowLabel: Uint32Array.of(a.fl) }, out, opts)[0]
        : multipathHashV4({ saddr: Uint32Array.of(s[0]!), daddr: Uint32Array.of(d[0]!), sport: Uint16Array.of(a.sp), dport: Uint16Array.of(a.dp), proto: Uint8Array.of(a.proto) }, out, opts)[0];
      expect(got).toBe(refMultipathHash(a.v6, { saddr: s, daddr: d, sport: a.sp, dport: a.dp, proto: a.proto, flowLabel: a.fl }, a.policy, a.seed >>> 0, a.fields, a.packet));
    }), { numRuns: 1000 });
  });
  it('is direction independent (consistentify)', () => {
    const o = { policy: 1 as const, seed: 7 };
    const f = (s: number, d: number, sp: number, dp: number) => multipathHashV4({ saddr: Uint32Array.of(s), daddr: Uint32Array.of(d), sport: Uint16Array.of(sp), dport: Uint16Array.of(dp), proto: Uint8Array.of(6) }, new Uint32Array(1), o)[0];
    expect(f(0x0a000001, 0x0a000002, 1000, 80)).toBe(f(0x0a000002, 0x0a000001, 80, 1000));
  });
  it('upper bounds follow fib_rebalance (DIV_ROUND_CLOSEST(w << 31, total) - 1)', () => {
    expect(Array.from(multipathUpperBounds([1, 1]))).toEqual([2 ** 30 - 1, 2 ** 31 - 1]);
    expect(Array.from(multipathUpperBounds([1, 3], [true, true]))).toEqual([2 ** 29 - 1, 2 ** 31 - 1]);
    expect(Array.from(multipathUpperBounds([1, 1, 1], [true, false, true]))).toEqual([2 ** 30 - 1, -1, 2 ** 31 - 1]);
  });
  it('rejects bad input with a named field', () => {
    expect(() => new MultipathRoute([0, 1], { seed: 1 })).toThrow(ValidationError);
    expect(() => new MultipathRoute([0, 1], { seed: 1 })).toThrow(/weights\[0\]/);
    expect(() => multipathHashV4({ saddr: new Uint32Array(1), daddr: new Uint32Array(0) }, new Uint32Array(1), { seed: 1 })).toThrow(/flows\.daddr/);
    expect(() => multipathHashV4({ saddr: new Uint32Array(1), daddr: new Uint32Array(1) }, new Uint32Array(1), { seed: -1 })).toThrow(/options\.seed/);
    expect(() => nativeHash().mpHashV4(new Uint32Array(1), new Uint32Array(0), null, null, null, new Uint32Array(4), 0, 0, 0, true)).toThrow(RangeError);
  });
});

describe('IPVS schedulers', () => {
  const dests = (ws: number[]) => ws.map((w, i) => ({ address: `10.1.0.${i + 1}`, port: 80, weight: w }));
  it('mh hash key equals the SipHash-1-3 reference', () => {
    fc.assert(fc.property(fc.nat(), fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 131070 }), fc.boolean(), (k, p, off, second) => {
      expect(nativeHash().mhHashKey(k >>> 0, p, off, second)).toBe(refMhHashKey(k >>> 0, p, off, second));
    }), { numRuns: 300 });
  });
  it('mh spreads slots by weight and keeps drained servers in the table', () => {
    const t = new SchedulerTable('mh', dests([1, 1, 2]));
    const count = [0, 0, 0];
    for (const d of t.table) count[d]!++;
    expect(count.reduce((a, b) => a + b)).toBe(4093);
    expect(count[2]! / count[0]!).toBeGreaterThan(1.8);
    const drained = new SchedulerTable('mh', [...dests([1, 1]), { address: '10.1.0.3', port: 80, weight: 0, lastWeight: 2 }], { fallback: true });
    expect(Array.from(drained.table)).toEqual(Array.from(t.table));
    const out = drained.lookup(Uint32Array.from({ length: 1000 }, (_, i) => 0x0b000000 + i), 1, new Uint16Array(1000));
    expect(out.includes(2)).toBe(false);
    expect(out.includes(NO_DESTINATION)).toBe(false);
  });
  it('sh fills weight-sized runs and dh round-robins', () => {
    const sh = new SchedulerTable('sh', dests([2, 1, 0]));
    expect(Array.from(sh.table.subarray(0, 8))).toEqual([0, 0, 1, 2, 0, 0, 1, 2]);
    const dh = new SchedulerTable('dh', dests([5, 5, 5]));
    expect(Array.from(dh.table.subarray(0, 6))).toEqual([0, 1, 2, 0, 1, 2]);
    // sh bucket = hash_32(ntohl(saddr), 8)
    const a = ipv4ToNumber('203.0.113.9');
    expect(sh.pick('203.0.113.9')?.address).toBe(['10.1.0.1', '10.1.0.1', '10.1.0.2', undefined][[0, 0, 1, 2][refHash32(a, 8) % 4]!]);
  });
});

describe('Maglev (paper form)', () => {
  it('gives every backend about M / n slots and moves few keys on removal', () => {
    const names = Array.from({ length: 10 }, (_, i) => ({ name: `b${i}` }));
    const full = new MaglevTable(names, 65537);
    const count = new Array(10).fill(0);
    for (const b of full.table) count[b]++;
    expect(Math.min(...count)).toBeGreaterThan(6000);
    const less = new MaglevTable(names.slice(0, 9), 65537);
    let moved = 0;
    for (let i = 0; i < 65537; i++) if (full.table[i] !== 9 && full.table[i] !== less.table[i]) moved++;
    expect(moved / 65537).toBeLessThan(0.05);
    expect(() => new MaglevTable(names, 65536)).toThrow(/prime/);
  });
});
