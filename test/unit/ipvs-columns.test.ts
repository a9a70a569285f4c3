// listAll's columnar decoders (ipvsDecodeServiceColumns, ipvsDecodeDestColumnsMany) and the one-call
// encoder of its destination dumps (ipvsEncodeDestDumps) against the per-message decoders and
// encoders they replace, on replies captured from Linux 6.1 and on hand-built ones covering what
// the capture lacks: every field of every object must agree, in the same property order.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { native } from '../../lib/native.js';
import { DEST_COLS, destinationOf, destinationOfColumns, keyOfRaw, serviceOf, wireDestOfColumns, wireOfRawDest } from '../../lib/ipvs/validate.js';
import { SVC_COLS, rawServiceOfColumns, serviceOfColumns, type ServiceColumns } from '../../lib/ipvs/client.js';
import { nla, replySet } from '../helpers/rtmsg.js';

const FAMILY = 0x1c;

function fixture(name: string): Buffer[] {
  const b = readFileSync(new URL(`../fixtures/ipvs/${name}.bin`, import.meta.url));
  const n = b.readUInt32LE(0);
  const out: Buffer[] = [];
  let o = 4;
  for (let i = 0; i < n; i++) {
    const len = (b.readUInt32LE(o) + 3) & ~3;
    out.push(b.subarray(o, o + len));
    o += len;
  }
  return out;
}

const num = (bytes: number, v: number | bigint, be = false) => {
  const b = Buffer.alloc(bytes);
  if (bytes === 1) b.writeUInt8(Number(v));
  else if (bytes === 2) be ? b.writeUInt16BE(Number(v)) : b.writeUInt16LE(Number(v));
  else if (bytes === 4) be ? b.writeUInt32BE(Number(v) >>> 0) : b.writeUInt32LE(Number(v) >>> 0);
  else b.writeBigUInt64LE(BigInt(v));
  return b;
};
const nest = (type: number, ...parts: Buffer[]) => nla(type, Buffer.concat(parts));
const str = (s: string) => Buffer.from(`${s}\0`);
function addr(...x: number[]): Buffer {
  const a = Buffer.alloc(16);
  a.set(x);
  return a;
}
const V6 = (last: number) => addr(0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last);

function genl(cmd: number, ...attrs: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from([cmd, 1, 0, 0]), ...attrs]);
  const h = Buffer.alloc(16);
  h.writeUInt32LE(16 + body.length, 0);
  h.writeUInt16LE(FAMILY, 4);
  h.writeUInt16LE(2, 6);
  return Buffer.concat([h, body]);
}


const BIG = 0xfedc_ba98_7654_3210n; // all 64 bits
const stats64 = (base: bigint) => nest(12, ...Array.from({ length: 10 }, (_, i) => nla(i + 1, num(8, base + BigInt(i)))));
// The old u32 STATS: counters 32 bits wide, bytes 64.
const stats32 = nest(10, nla(1, num(4, 0xffffffff)), nla(2, num(4, 7)), nla(3, num(4, 8)), nla(4, num(8, BIG)), nla(5, num(8, 5n)), nla(6, num(4, 1)), nla(7, num(4, 2)), nla(8, num(4, 3)), nla(9, num(4, 4)), nla(10, num(4, 5)));
const flags = (f: number) => nla(7, Buffer.concat([num(4, f), num(4, 0xffffffff)]));

/** Hand-built service replies: what the capture lacks (fwmark, PE, 32-bit stats, no stats, odd protocol). */
const SERVICES = [
  // IPv4 TCP, persistent with a /24 mask, one-packet and sched flags, STATS64 beside STATS
  genl(1, nest(1, nla(1, num(2, 2)), nla(2, num(2, 6)), nla(3, addr(192, 0, 2, 10)), nla(4, num(2, 80, true)), nla(6, str('mh')), flags(0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20), nla(8, num(4, 600)), nla(9, num(4, 0xffffff00, true)), stats32, stats64(BIG - 20n))),
  // IPv6 UDP, persistent /64 with the SIP persistence engine, STATS64 only
  genl(1, nest(1, nla(1, num(2, 10)), nla(2, num(2, 17)), nla(3, V6(1)), nla(4, num(2, 5060, true)), nla(6, str('rr')), flags(0x1 | 0x2), nla(8, num(4, 30)), nla(9, num(4, 64)), nla(11, str('sip')), stats64(3n))),
  // IPv4 fwmark, only the u32 STATS (kernels before 4.1)
  genl(1, nest(1, nla(1, num(2, 2)), nla(5, num(4, 0xffffffff)), nla(6, str('wlc')), flags(0x2), nla(8, num(4, 0)), nla(9, num(4, 0xffffffff, true)), stats32)),
  // IPv6 fwmark, no stats at all
  genl(1, nest(1, nla(1, num(2, 10)), nla(5, num(4, 7)), nla(6, str('sh')), flags(0), nla(8, num(4, 0)), nla(9, num(4, 128)))),
  // SCTP on IPv6 (compressible address), and a protocol lvskit has no name for
  genl(1, nest(1, nla(1, num(2, 10)), nla(2, num(2, 132)), nla(3, addr(0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0)), nla(4, num(2, 0, true)), nla(6, str('mh')), flags(0x2), nla(8, num(4, 0)), nla(9, num(4, 128)), stats64(0n))),
  genl(1, nest(1, nla(1, num(2, 2)), nla(2, num(2, 50)), nla(3, addr(10, 0, 0, 255)), nla(4, num(2, 65535, true)), nla(6, str('rr')), flags(0), nla(8, num(4, 0)), nla(9, num(4, 0xffffffff, true)))),
];

const dest = (...attrs: Buffer[]) => genl(5, nest(2, ...attrs));
const destCore = (a: Buffer, port: number, fwd: number, weight: number) => [nla(1, a), nla(2, num(2, port, true)), nla(3, num(4, fwd)), nla(4, num(4, weight)), nla(5, num(4, 100)), nla(6, num(4, 10)), nla(7, num(4, 70000)), nla(8, num(4, 3)), nla(9, num(4, 4))];
/** Hand-built destination replies: every forwarding method, the three tunnel types with and without flags, old kernels without ADDR_FAMILY. */
const DESTS_V4 = [
  dest(...destCore(addr(10, 0, 1, 2), 8080, 0, 2147483647), nla(11, num(2, 2)), stats64(BIG - 9n)),
  dest(...destCore(addr(10, 0, 1, 3), 80, 3, 0), stats32), // no ADDR_FAMILY: the service's family
  dest(...destCore(addr(10, 0, 1, 4), 80, 1, 5), nla(11, num(2, 2))), // local, no stats
  dest(...destCore(addr(10, 0, 1, 5), 80, 4, 5), nla(11, num(2, 2)), stats64(1n)), // bypass
  dest(...destCore(V6(2), 80, 2, 1), nla(11, num(2, 10)), nla(13, num(1, 0)), nla(14, num(2, 0, true)), nla(15, num(2, 0))), // IPv6 ipip
  dest(...destCore(addr(10, 0, 1, 6), 80, 2, 1), nla(11, num(2, 2)), nla(13, num(1, 1)), nla(14, num(2, 6080, true)), nla(15, num(2, 1)), stats64(9n)), // gue + csum
  dest(...destCore(addr(10, 0, 1, 7), 80, 2, 1), nla(11, num(2, 2)), nla(13, num(1, 1)), nla(14, num(2, 6081, true)), nla(15, num(2, 2))), // gue + remcsum
  dest(...destCore(addr(10, 0, 1, 8), 80, 2, 1), nla(11, num(2, 2)), nla(13, num(1, 2)), nla(15, num(2, 1))), // gre + csum
  dest(...destCore(addr(10, 0, 1, 9), 80, 2, 1), nla(11, num(2, 2)), nla(13, num(1, 2)), nla(15, num(2, 0))), // gre, no flags
  dest(...destCore(addr(10, 0, 1, 10), 80, 2, 1)), // tunnel before TUN_TYPE existed (< 5.2): ipip
];
const DESTS_V6 = [
  dest(...destCore(V6(3), 443, 0, 9)), // IPv6 service, no ADDR_FAMILY
  dest(...destCore(addr(0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 443, 2, 9), nla(11, num(2, 10)), nla(13, num(1, 0)), stats64(5n)),
];

/** Deep equality including the order of every object's own keys (BigInts compared by value). */
function sameShape(a: unknown, b: unknown, path = '$'): void {
  if (typeof a !== 'object' || a === null) {
    expect(a, path).toStrictEqual(b);
    return;
  }
  expect(typeof b === 'object' && b !== null, path).toBe(true);
  const ka = Object.keys(a);
  expect(ka, `${path} keys`).toEqual(Object.keys(b as object));
  for (const k of ka) sameShape((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
}

function columnsOf(buf: Buffer, offs: Uint32Array): ServiceColumns {
  const n = offs.length;
  const nums = new Float64Array(n * SVC_COLS);
  const addrs = new Uint8Array(n * 16);
  const stats = new BigUint64Array(n * 10);
  const names = native.ipvsDecodeServiceColumns(buf, offs, 0, n, nums, addrs, stats);
  return { nums, addrs, stats, names };
}

function checkServices(msgs: Buffer[]): void {
  const [buf, offs] = replySet(msgs);
  const raws = native.ipvsDecodeServices(buf, offs, 0, offs.length);
  const cols = columnsOf(buf, offs);
  expect(cols.names[0]).toBe('');
  expect(new Set(cols.names).size).toBe(cols.names.length);
  raws.forEach((r, i) => {
    sameShape(serviceOfColumns(cols, i), serviceOf(r), `service ${i}`);
    const { stats: _, ...withoutStats } = r;
    sameShape(rawServiceOfColumns(cols, i), withoutStats, `raw service ${i}`);
    expect(keyOfRaw(rawServiceOfColumns(cols, i))).toEqual(keyOfRaw(r));
  });
  // The destination dumps encoded from the columns: byte for byte the per-key encoder's requests.
  const one = new native.NativeBatch();
  for (const r of raws) {
    const k = keyOfRaw(r);
    native.ipvsEncodeServiceKey(one, FAMILY, 8, k.af, k.protocol, k.address, k.port, k.fwmark, true);
  }
  const many = new native.NativeBatch();
  native.ipvsEncodeDestDumps(many, FAMILY, cols.nums, cols.addrs, raws.length);
  expect(many.count).toBe(raws.length);
  expect(many.bytes().equals(one.bytes())).toBe(true);
}

/** Items of destination dumps, one per service family: columns in one call vs per-item decoders. */
function checkDests(items: { af: number; msgs: Buffer[] }[]): void {
  const all = items.flatMap((it) => it.msgs);
  const [buf, offs] = replySet(all);
  const replyBegin = new Int32Array(items.length);
  const replyCount = new Int32Array(items.length);
  const afs = new Uint8Array(items.length);
  let at = 0;
  items.forEach((it, i) => {
    replyBegin[i] = it.msgs.length ? at : -1; // an empty item's begin is never read
    replyCount[i] = it.msgs.length;
    afs[i] = it.af;
    at += it.msgs.length;
  });
  const nums = new Float64Array(at * DEST_COLS);
  const addrs = new Uint8Array(at * 16);
  const stats = new BigUint64Array(at * 10);
  expect(native.ipvsDecodeDestColumnsMany(buf, offs, replyBegin, replyCount, afs, nums, addrs, stats)).toBe(at);
  let row = 0;
  items.forEach((it, i) => {
    const raws = native.ipvsDecodeDests(buf, offs, replyBegin[i]! < 0 ? 0 : replyBegin[i]!, replyCount[i]!, it.af);
    raws.forEach((r, j) => {
      sameShape(destinationOfColumns(nums, addrs, stats, row), destinationOf(r), `item ${i} destination ${j}`);
      expect(nums[row * DEST_COLS + 12], 'seen').toBe(r.seen);
      // what a batch edit merges against and re-sends (address bytes, tunnel fields "not sent" = -1)
      expect(wireDestOfColumns(nums, addrs, row), `item ${i} destination ${j} (wire)`).toEqual(wireOfRawDest(r));
      row++;
    });
  });
  expect(row).toBe(at);
}

describe('listAll columns agree with the per-message decoders', () => {
  it('services captured from Linux 6.1 (IPv4 and IPv6, dotted mask and prefix, STATS64)', () => {
    checkServices(fixture('services'));
  });

  it('hand-built services: fwmark v4/v6, persistence engine, flags, 32-bit and no stats, SCTP, unnamed protocol', () => {
    checkServices(SERVICES);
    checkServices([...fixture('services'), ...SERVICES, ...SERVICES]); // repeated names are indexed once
  });

  it('destinations captured from Linux 6.1 (an IPv6 GUE real server behind an IPv4 service)', () => {
    checkDests([{ af: 2, msgs: fixture('dests') }]);
  });

  it('hand-built destinations: every forwarding method, ipip/gue/gre with and without flags, no ADDR_FAMILY, items of both families and empty ones', () => {
    checkDests([
      { af: 2, msgs: DESTS_V4 },
      { af: 10, msgs: [] },
      { af: 10, msgs: DESTS_V6 },
      { af: 2, msgs: fixture('dests') },
      { af: 2, msgs: [] },
    ]);
  });

  it('the seen and stats columns carry what the kernel sent', () => {
    const cols = columnsOf(...replySet(SERVICES));
    expect(cols.nums[0 * SVC_COLS + 7]! & 1).toBe(1); // STATS64
    expect(cols.nums[2 * SVC_COLS + 7]! & 1).toBe(0);
    expect(cols.nums[3 * SVC_COLS + 8]).toBe(0); // no stats
    expect(cols.stats[0]).toBe(BIG - 20n); // STATS64 preferred to STATS
    expect(serviceOfColumns(cols, 1).persistenceEngine).toBe('sip');
    expect(serviceOfColumns(cols, 2).key).toEqual({ fwmark: 0xffffffff, family: 'inet' });
  });
});

describe('listAll column functions refuse bad arguments', () => {
  const [buf, offs] = replySet(SERVICES);
  const n = SERVICES.length;
  const f64 = new Float64Array(n * SVC_COLS);
  const u8 = new Uint8Array(n * 16);
  const u64 = new BigUint64Array(n * 10);

  it('ipvsDecodeServiceColumns', () => {
    expect(() => native.ipvsDecodeServiceColumns(buf, offs, 0, n, new Float64Array(n * SVC_COLS - 1), u8, u64)).toThrow(RangeError);
    expect(() => native.ipvsDecodeServiceColumns(buf, offs, 0, n, new Uint32Array(n * SVC_COLS) as never, u8, u64)).toThrow(/nums has the wrong type/);
    expect(() => native.ipvsDecodeServiceColumns(buf, offs, 1, n, f64, u8, u64)).toThrow(/exceed/);
    expect(() => native.ipvsDecodeServiceColumns(buf, [0] as never, 0, 1, f64, u8, u64)).toThrow(/replyOffsets must be a Uint32Array/);
    const [dbuf, doffs] = replySet(DESTS_V4.slice(0, 1));
    expect(() => native.ipvsDecodeServiceColumns(dbuf, doffs, 0, 1, f64, u8, u64)).toThrow(/ipvsDecodeServiceColumns: reply 0: .*unexpected IPVS command 5/);
  });

  it('ipvsEncodeDestDumps', () => {
    const b = new native.NativeBatch();
    expect(() => native.ipvsEncodeDestDumps(b, FAMILY, f64, u8, n + 1)).toThrow(/exceeds the columns/);
    expect(() => native.ipvsEncodeDestDumps(b, FAMILY, new Float64Array(SVC_COLS), new Uint8Array(16), 1)).toThrow(/row 0 is not a service key/);
    expect(() => native.ipvsEncodeDestDumps(b, FAMILY, [] as never, u8, 0)).toThrow(/nums must be a Float64Array/);
    expect(b.count).toBe(0);
  });

  it('ipvsDecodeDestColumnsMany', () => {
    const [dbuf, doffs] = replySet(DESTS_V4);
    const m = DESTS_V4.length;
    const nums = new Float64Array(m * DEST_COLS);
    const addrs = new Uint8Array(m * 16);
    const stats = new BigUint64Array(m * 10);
    const one = (begin: number, count: number, af = 2) => native.ipvsDecodeDestColumnsMany(dbuf, doffs, Int32Array.of(begin), Int32Array.of(count), Uint8Array.of(af), nums, addrs, stats);
    expect(one(0, m)).toBe(m);
    expect(() => one(1, m)).toThrow(/exceed the 10 offsets/);
    expect(() => one(-1, 1)).toThrow(/negative reply range/);
    expect(() => one(0, 1, 3)).toThrow(/serviceAfs\[0\] must be AF_INET/);
    expect(() => native.ipvsDecodeDestColumnsMany(dbuf, doffs, Int32Array.of(0), Int32Array.of(m + 1), Uint8Array.of(2), nums, addrs, stats)).toThrow(/exceed the output columns/);
    expect(() => native.ipvsDecodeDestColumnsMany(dbuf, doffs, new Int32Array(0), Int32Array.of(1), Uint8Array.of(2), nums, addrs, stats)).toThrow(/one entry per service/);
    expect(() => native.ipvsDecodeDestColumnsMany(dbuf, doffs, Uint32Array.of(0) as never, Int32Array.of(1), Uint8Array.of(2), nums, addrs, stats)).toThrow(/replyBegin must be a Int32Array/);
  });
});
