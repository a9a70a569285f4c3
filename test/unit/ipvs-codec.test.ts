// IPVS codec on bytes, without a kernel: what the encoders put on the wire (every byte order
// checked against net/netfilter/ipvs/ip_vs_ctl.c by an independent TLV walk written here), and
// what the decoders read from hand-built replies (u32 STATS fallback, STATS64, 16-byte dump
// addresses, malformed input).
import { describe, expect, it } from 'vitest';
import { native } from '../../lib/native.js';
import { nla, replySet } from '../helpers/rtmsg.js';

const FAMILY = 0x1c;

interface Tlv {
  type: number;
  nested: boolean;
  data: Buffer;
}

function tlvs(b: Buffer): Tlv[] {
  const out: Tlv[] = [];
  let o = 0;
  while (o + 4 <= b.length) {
    const len = b.readUInt16LE(o);
    const type = b.readUInt16LE(o + 2);
    expect(len).toBeGreaterThanOrEqual(4);
    out.push({ type: type & 0x3fff, nested: (type & 0x8000) !== 0, data: b.subarray(o + 4, o + len) });
    o += (len + 3) & ~3;
  }
  expect(o).toBe(b.length);
  return out;
}

function attr(list: Tlv[], type: number): Buffer {
  const a = list.filter((t) => t.type === type);
  expect(a.length, `attribute ${type}`).toBe(1);
  return a[0]!.data;
}

/** Splits a batch into messages: { type, flags, cmd, version, attrs }. */
function messages(bytes: Buffer) {
  const out: { type: number; flags: number; cmd: number; version: number; attrs: Tlv[] }[] = [];
  let o = 0;
  while (o < bytes.length) {
    const len = bytes.readUInt32LE(o);
    out.push({ type: bytes.readUInt16LE(o + 4), flags: bytes.readUInt16LE(o + 6), cmd: bytes[o + 16]!, version: bytes[o + 17]!, attrs: tlvs(bytes.subarray(o + 20, o + len)) });
    o += (len + 3) & ~3;
  }
  return out;
}

function addr16(...b: number[]): Buffer {
  const a = Buffer.alloc(16);
  a.set(b);
  return a;
}

function one(build: (b: InstanceType<typeof native.NativeBatch>) => void) {
  const b = new native.NativeBatch();
  build(b);
  const m = messages(b.bytes());
  expect(m).toHaveLength(1);
  return m[0]!;
}

describe('IPVS encoders: byte orders on the wire', () => {
  it('NEW_SERVICE IPv4: port big-endian, mask big-endian, flags struct host order, name NUL-terminated', () => {
    const m = one((b) => native.ipvsEncodeService(b, FAMILY, 1, 2, 6, addr16(10, 0, 0, 1), 8080, 0, 'wrr', '', 0x1 | 0x8, 0x3d, 300, 0xffffff00));
    expect(m.type).toBe(FAMILY);
    expect(m.flags & 1).toBe(1); // NLM_F_REQUEST
    expect(m.cmd).toBe(1);
    expect(m.version).toBe(1);
    const svc = tlvs(attr(m.attrs, 1));
    expect(attr(svc, 1).readUInt16LE(0)).toBe(2); // AF_INET
    expect(attr(svc, 2).readUInt16LE(0)).toBe(6);
    expect(attr(svc, 3)).toEqual(addr16(10, 0, 0, 1)); // 16 bytes, IPv4 first
    expect([...attr(svc, 4)]).toEqual([0x1f, 0x90]); // 8080 big-endian
    expect(attr(svc, 6).toString('latin1')).toBe('wrr\0');
    expect(attr(svc, 7).readUInt32LE(0)).toBe(0x9);
    expect(attr(svc, 7).readUInt32LE(4)).toBe(0x3d);
    expect(attr(svc, 8).readUInt32LE(0)).toBe(300);
    expect([...attr(svc, 9)]).toEqual([0xff, 0xff, 0xff, 0x00]); // 255.255.255.0 in network order
    expect(svc.some((t) => t.type === 5)).toBe(false); // no fwmark
    expect(svc.some((t) => t.type === 11)).toBe(false); // no PE
  });

  it('IPv6 service: the netmask is the prefix length in host order (ip_vs_add_service casts the raw __be32)', () => {
    const v6 = addr16(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
    const m = one((b) => native.ipvsEncodeService(b, FAMILY, 2, 10, 17, v6, 53, 0, 'sh', 'sip', 1, 0x3d, 60, 64));
    const svc = tlvs(attr(m.attrs, 1));
    expect(attr(svc, 1).readUInt16LE(0)).toBe(10);
    expect(attr(svc, 3)).toEqual(v6);
    expect(attr(svc, 9).readUInt32LE(0)).toBe(64);
    expect(attr(svc, 11).toString('latin1')).toBe('sip\0');
  });

  it('fwmark service: AF and FWMARK only as identity', () => {
    const m = one((b) => native.ipvsEncodeServiceKey(b, FAMILY, 3, 2, 0, addr16(), 0, 0xdeadbeef, false));
    const svc = tlvs(attr(m.attrs, 1));
    expect(svc.map((t) => t.type).sort()).toEqual([1, 5]);
    expect(attr(svc, 5).readUInt32LE(0)).toBe(0xdeadbeef);
  });

  it('GET_DEST dump carries NLM_F_DUMP and the service nest', () => {
    const m = one((b) => native.ipvsEncodeServiceKey(b, FAMILY, 8, 2, 6, addr16(10, 0, 0, 1), 80, 0, true));
    expect(m.flags & 0x300).toBe(0x300);
    expect(m.cmd).toBe(8);
  });

  it('NEW_DEST: ports big-endian, weight as u32 over the full int range, GUE tunnel port big-endian', () => {
    const m = one((b) =>
      native.ipvsEncodeDest(b, FAMILY, 5, 2, 6, addr16(10, 0, 0, 1), 80, 0, 10, addr16(0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9), 443, true, 2, 2147483647, 4000000000, 3000000000, 1, 6080, 1),
    );
    const d = tlvs(attr(m.attrs, 2));
    expect([...attr(d, 2)]).toEqual([0x01, 0xbb]); // 443
    expect(attr(d, 3).readUInt32LE(0)).toBe(2);
    expect(attr(d, 4).readUInt32LE(0)).toBe(2147483647);
    expect(attr(d, 5).readUInt32LE(0)).toBe(4000000000);
    expect(attr(d, 6).readUInt32LE(0)).toBe(3000000000);
    expect(attr(d, 11).readUInt16LE(0)).toBe(10);
    expect(attr(d, 13)).toEqual(Buffer.from([1]));
    expect([...attr(d, 14)]).toEqual([0x17, 0xc0]); // 6080 big-endian (pyroute2 sent host order)
    expect(attr(d, 15).readUInt16LE(0)).toBe(1);
  });

  it('DEL_DEST sends only the identity; no tunnel attributes when not asked', () => {
    const m = one((b) => native.ipvsEncodeDest(b, FAMILY, 7, 2, 6, addr16(10, 0, 0, 1), 80, 0, 0, addr16(10, 0, 1, 2), 80, false, 0, 0, 0, 0, -1, 0, -1));
    const d = tlvs(attr(m.attrs, 2));
    expect(d.map((t) => t.type).sort((a, b) => a - b)).toEqual([1, 2]);
  });

  it('NEW_DAEMON: MCAST_PORT in host order (nla_get_u16), group in network order', () => {
    const m = one((b) => native.ipvsEncodeDaemon(b, FAMILY, 9, 2, true, 'eth0', 7, 1400, 2, Buffer.from([239, 1, 2, 3]), 8849, 3));
    const d = tlvs(attr(m.attrs, 3));
    expect(attr(d, 1).readUInt32LE(0)).toBe(2);
    expect(attr(d, 2).toString('latin1')).toBe('eth0\0');
    expect(attr(d, 3).readUInt32LE(0)).toBe(7);
    expect(attr(d, 4).readUInt16LE(0)).toBe(1400);
    expect([...attr(d, 5)]).toEqual([239, 1, 2, 3]);
    expect(attr(d, 7).readUInt16LE(0)).toBe(8849);
    expect(attr(d, 8)).toEqual(Buffer.from([3]));
  });

  it('SET_CONFIG sends only the non-zero timeouts', () => {
    const m = one((b) => native.ipvsEncodeTimeouts(b, FAMILY, 900, 0, 300));
    expect(m.cmd).toBe(12);
    expect(m.attrs.map((t) => t.type)).toEqual([4, 6]);
    expect(attr(m.attrs, 4).readUInt32LE(0)).toBe(900);
  });

  it('wrong argument types throw TypeError/RangeError, never crash', () => {
    const b = new native.NativeBatch();
    expect(() => native.ipvsEncodeService({} as never, FAMILY, 1, 2, 6, addr16(), 80, 0, 'rr', '', 0, 0, 0, 0)).toThrow(TypeError);
    expect(() => native.ipvsEncodeService(b, FAMILY, 1, 3, 6, addr16(), 80, 0, 'rr', '', 0, 0, 0, 0)).toThrow(/af must be AF_INET/);
    expect(() => native.ipvsEncodeService(b, FAMILY, 1, 2, 6, Buffer.alloc(5), 80, 0, 'rr', '', 0, 0, 0, 0)).toThrow(/4 or 16 bytes/);
    expect(() => native.ipvsEncodeService(b, FAMILY, 1, 2, 6, addr16(), 70000, 0, 'rr', '', 0, 0, 0, 0)).toThrow(/port must be in 0..65535/);
    expect(() => native.ipvsEncodeService(b, FAMILY, 1, 2, 6, addr16(), 80, 0, 'x'.repeat(16), '', 0, 0, 0, 0)).toThrow(/at most 15 bytes/);
    expect(() => native.ipvsEncodeBare(b, FAMILY, 99, false)).toThrow(/cmd must be/);
    expect(b.count).toBe(0);
  });
});

// ---- hand-built replies ---------------------------------------------------------------------

const u8 = (v: number) => Buffer.from([v]);
const u16 = (v: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v);
  return b;
};
const be16 = (v: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
};
const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};
const be32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
};
const u64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
};
const nest = (type: number, ...parts: Buffer[]) => nla(type, Buffer.concat(parts));

function genl(cmd: number, ...attrs: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from([cmd, 1, 0, 0]), ...attrs]);
  const h = Buffer.alloc(16);
  h.writeUInt32LE(16 + body.length, 0);
  h.writeUInt16LE(FAMILY, 4);
  h.writeUInt16LE(2, 6); // NLM_F_MULTI
  return Buffer.concat([h, body]);
}


const BIG = 0x1_2345_6789n; // needs more than 32 bits

describe('IPVS decoders', () => {
  it('service with STATS64 (preferred) and the u32 STATS beside it', () => {
    const stats32 = nest(10, nla(1, u32(7)), nla(4, u64(BIG)), nla(6, u32(3)));
    const stats64 = nest(12, nla(1, u64(BIG + 1n)), nla(2, u64(BIG + 2n)), nla(3, u64(5n)), nla(4, u64(BIG)), nla(5, u64(9n)), nla(6, u64(1n)), nla(7, u64(2n)), nla(8, u64(3n)), nla(9, u64(4n)), nla(10, u64(5n)));
    const msg = genl(1, nest(1, nla(1, u16(2)), nla(2, u16(6)), nla(3, addr16(192, 0, 2, 10)), nla(4, be16(80)), nla(6, Buffer.from('mh\0')), nla(7, Buffer.concat([u32(0x1 | 0x2 | 0x10), u32(0xffffffff)])), nla(8, u32(600)), nla(9, be32(0xffffff00)), stats32, stats64));
    const [buf, offs] = replySet([msg]);
    const [s] = native.ipvsDecodeServices(buf, offs, 0, 1);
    expect(s).toMatchObject({ af: 2, family: 'inet', protocol: 6, address: '192.0.2.10', port: 80, fwmark: 0, scheduler: 'mh', pe: '', flags: 0x13, timeout: 600, netmask: 0xffffff00 });
    expect(s!.stats!.connections).toBe(BIG + 1n);
    expect(s!.stats!.packetsIn).toBe(BIG + 2n);
    expect(s!.stats!.bpsOut).toBe(5n);
    expect(s!.seen & 1).toBe(1);
  });

  it('destination with only the old STATS: u32 counters and u64 bytes by width (kernels before 4.1)', () => {
    const stats32 = nest(10, nla(1, u32(0xffffffff)), nla(2, u32(10)), nla(3, u32(11)), nla(4, u64(BIG)), nla(5, u64(BIG * 2n)), nla(6, u32(1)), nla(7, u32(2)), nla(8, u32(3)), nla(9, u32(4)), nla(10, u32(5)), nla(11, Buffer.alloc(0)));
    const msg = genl(5, nest(2, nla(1, addr16(10, 0, 1, 2)), nla(2, be16(8080)), nla(3, u32(0)), nla(4, u32(2147483647)), nla(5, u32(4294967295)), nla(6, u32(7)), nla(7, u32(70000)), nla(8, u32(80000)), nla(9, u32(90000)), stats32));
    const [buf, offs] = replySet([msg]);
    const [d] = native.ipvsDecodeDests(buf, offs, 0, 1, 2);
    expect(d).toMatchObject({ af: 2, address: '10.0.1.2', port: 8080, forward: 0, weight: 2147483647, upperThreshold: 4294967295, lowerThreshold: 7, activeConnections: 70000, inactiveConnections: 80000, persistentConnections: 90000, seen: 1 << 5 });
    expect(d!.stats!.connections).toBe(0xffffffffn);
    expect(d!.stats!.bytesIn).toBe(BIG);
    expect(d!.stats!.bytesOut).toBe(BIG * 2n);
  });

  it('IPv6 destination of an IPv4 service with a GUE tunnel: family from ADDR_FAMILY, tunnel port big-endian', () => {
    const msg = genl(5, nest(2, nla(1, addr16(0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2)), nla(2, be16(80)), nla(3, u32(2)), nla(4, u32(1)), nla(5, u32(0)), nla(6, u32(0)), nla(11, u16(10)), nla(13, u8(1)), nla(14, be16(6080)), nla(15, u16(3))));
    const [buf, offs] = replySet([msg]);
    const [d] = native.ipvsDecodeDests(buf, offs, 0, 1, 2);
    expect(d).toMatchObject({ af: 10, family: 'inet6', address: '2001:db8::2', tunnelType: 1, tunnelPort: 6080, tunnelFlags: 3 });
    expect(d!.seen & 0b11110).toBe(0b11110);
    expect(d!.stats).toBeUndefined();
  });

  it('IPv6 service netmask is read as the host-order prefix length', () => {
    const msg = genl(1, nest(1, nla(1, u16(10)), nla(5, u32(5)), nla(6, Buffer.from('rr\0')), nla(7, Buffer.alloc(8)), nla(8, u32(0)), nla(9, u32(96))));
    const [buf, offs] = replySet([msg]);
    const [s] = native.ipvsDecodeServices(buf, offs, 0, 1);
    expect(s).toMatchObject({ af: 10, fwmark: 5, address: '', netmask: 96 });
  });

  it('daemon, config and info replies', () => {
    const d = genl(9, nest(3, nla(1, u32(1)), nla(2, Buffer.from('eth0\0')), nla(3, u32(9)), nla(4, u16(1472)), nla(5, Buffer.from([224, 0, 0, 81])), nla(7, u16(8848)), nla(8, u8(1))));
    const c = genl(12, nla(4, u32(900)), nla(5, u32(120)), nla(6, u32(300)));
    const i = genl(14, nla(1, u32(0x010201)), nla(2, u32(4096)));
    const [buf, offs] = replySet([d, c, i]);
    expect(native.ipvsDecodeDaemons(buf, offs, 0, 1)).toEqual([{ state: 1, interface: 'eth0', syncId: 9, maxLength: 1472, group: '224.0.0.81', port: 8848, ttl: 1 }]);
    expect(native.ipvsDecodeConfig(buf, offs, 1, 1)).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
    expect(native.ipvsDecodeInfo(buf, offs, 2, 1)).toEqual({ version: 0x010201, connTabSize: 4096 });
  });

  it('malformed replies are errors naming the problem, never reads out of bounds', () => {
    const good = genl(5, nest(2, nla(1, addr16(10, 0, 1, 2)), nla(2, be16(80)), nla(4, u32(1))));
    // A weight attribute of 2 bytes: a sticky decode error.
    const badWidth = genl(5, nest(2, nla(1, addr16(10, 0, 1, 2)), nla(2, be16(80)), nla(4, u16(1))));
    let [buf, offs] = replySet([badWidth]);
    expect(() => native.ipvsDecodeDests(buf, offs, 0, 1, 2)).toThrow(/attribute 4 is 2 bytes/);
    // The wrong command for the decoder.
    [buf, offs] = replySet([good]);
    expect(() => native.ipvsDecodeServices(buf, offs, 0, 1)).toThrow(/unexpected IPVS command 5/);
    // Truncated: nlmsg_len claims more than the buffer holds.
    const trunc = Buffer.from(good.subarray(0, 30));
    expect(() => native.ipvsDecodeDests(trunc, new Uint32Array([0]), 0, 1, 2)).toThrow(/does not fit/);
    // An attribute whose length runs past its nest.
    const lying = Buffer.from(good);
    lying.writeUInt16LE(200, 24); // first nested attribute claims 200 bytes
    expect(() => native.ipvsDecodeDests(lying, new Uint32Array([0]), 0, 1, 2)).toThrow(/claims/);
    // Offsets past the reply set.
    expect(() => native.ipvsDecodeDests(buf, offs, 0, 2, 2)).toThrow(RangeError);
    // Every truncation of a valid reply either decodes or fails cleanly.
    for (let n = 0; n < good.length; n++) {
      const cut = Buffer.from(good.subarray(0, n));
      try {
        native.ipvsDecodeDests(cut, new Uint32Array([0]), 0, 1, 2);
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
      }
    }
  });

  it('an empty reply set decodes to an empty list', () => {
    expect(native.ipvsDecodeServices(Buffer.alloc(0), new Uint32Array(0), 0, 0)).toEqual([]);
    expect(native.ipvsDecodeDests(Buffer.alloc(0), new Uint32Array(0), 0, 0, 2)).toEqual([]);
  });
});

describe('IPVS binding in a worker thread', () => {
  it('encodes the same bytes as the main thread (per-environment state, no statics)', async () => {
    const { Worker } = await import('node:worker_threads');
    const addonPath = new URL('../../build/Release/lvskit.node', import.meta.url).pathname;
    const code = `
      const { parentPort } = require('node:worker_threads');
      const native = require(${JSON.stringify(addonPath)});
      const b = new native.NativeBatch();
      const a = Buffer.alloc(16); a.set([10, 0, 0, 1]);
      native.ipvsEncodeService(b, 0x1c, 1, 2, 6, a, 80, 0, 'rr', '', 0, 0x3d, 0, 0xffffffff);
      const [buf, offs] = [Buffer.alloc(0), new Uint32Array(0)];
      parentPort.postMessage({ bytes: b.bytes(), empty: native.ipvsDecodeServices(buf, offs, 0, 0).length });
    `;
    const w = new Worker(code, { eval: true });
    const msg = await new Promise<{ bytes: Uint8Array; empty: number }>((res, rej) => {
      w.once('message', res);
      w.once('error', rej);
    });
    await w.terminate();
    const b = new native.NativeBatch();
    native.ipvsEncodeService(b, 0x1c, 1, 2, 6, addr16(10, 0, 0, 1), 80, 0, 'rr', '', 0, 0x3d, 0, 0xffffffff);
    expect(Buffer.from(msg.bytes)).toEqual(b.bytes());
    expect(msg.empty).toBe(0);
  });
});
