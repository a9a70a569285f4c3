// Replies captured from a real kernel (Debian 12's 6.1 in the lab VM; test/fixtures/ipvs/, written
// by test/ipvs/ipvs-config.test.ts with LVSKIT_CAPTURE=1) are decoded here without a kernel, and
// the attributes our encoders write are compared byte for byte with the ones the kernel sent for
// the same object: ports, IPv4 mask, IPv6 prefix, tunnel port, weight, daemon port.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { native } from '../../lib/native.js';

function load(name: string): [Buffer, Uint32Array] {
  const b = readFileSync(new URL(`../fixtures/ipvs/${name}.bin`, import.meta.url));
  const n = b.readUInt32LE(0);
  const offs = new Uint32Array(n);
  let o = 4;
  for (let i = 0; i < n; i++) {
    offs[i] = o;
    o += (b.readUInt32LE(o) + 3) & ~3;
  }
  expect(o).toBe(b.length);
  return [b, offs];
}

/** Nested attributes of type `nestType` in the message at `off`: type -> raw bytes. */
function nestAttrs(b: Buffer, off: number, nestType: number | null): Map<number, Buffer> {
  const end = off + b.readUInt32LE(off);
  let o = off + 20;
  let stop = end;
  if (nestType !== null) {
    for (;;) {
      const len = b.readUInt16LE(o);
      if ((b.readUInt16LE(o + 2) & 0x3fff) === nestType) {
        stop = o + len;
        o += 4;
        break;
      }
      o += (len + 3) & ~3;
      expect(o).toBeLessThan(end);
    }
  }
  const m = new Map<number, Buffer>();
  while (o + 4 <= stop) {
    const len = b.readUInt16LE(o);
    m.set(b.readUInt16LE(o + 2) & 0x3fff, b.subarray(o + 4, o + len));
    o += (len + 3) & ~3;
  }
  return m;
}

function encoded(build: (b: InstanceType<typeof native.NativeBatch>) => void, nestType: number | null): Map<number, Buffer> {
  const b = new native.NativeBatch();
  build(b);
  return nestAttrs(b.bytes(), 0, nestType);
}

const addr = (...x: number[]) => {
  const a = Buffer.alloc(16);
  a.set(x);
  return a;
};

describe('IPVS replies captured from Linux 6.1', () => {
  it('were captured from the kernel the lab runs', () => {
    expect(readFileSync(new URL('../fixtures/ipvs/kernel.txt', import.meta.url), 'utf8')).toMatch(/^Linux version 6\.1\./);
  });

  it('service dump: IPv4 with a dotted mask, IPv6 with a prefix, STATS64 present', () => {
    const [b, offs] = load('services');
    const ss = native.ipvsDecodeServices(b, offs, 0, offs.length);
    const v4 = ss.find((s) => s.af === 2)!;
    const v6 = ss.find((s) => s.af === 10)!;
    expect(v4).toMatchObject({ protocol: 6, address: '10.0.0.1', port: 80, scheduler: 'wrr', timeout: 600, netmask: 0xffffff00, flags: 0x3 });
    expect(v6).toMatchObject({ protocol: 17, address: '2001:db8::1', port: 53, scheduler: 'sh', timeout: 30, netmask: 64, flags: 0x1 | 0x2 | 0x10 });
    for (const s of ss) {
      expect(s.seen & 1).toBe(1); // STATS64
      expect(s.stats!.connections).toBe(0n);
    }
    // Our encoder writes the same bytes the kernel sent for the same service.
    const k4 = nestAttrs(b, offs[ss.indexOf(v4)]!, 1);
    const e4 = encoded((x) => native.ipvsEncodeService(x, 0x20, 1, 2, 6, addr(10, 0, 0, 1), 80, 0, 'wrr', '', 0x1, 0x3d, 600, 0xffffff00), 1);
    for (const t of [1, 2, 3, 4, 6, 8, 9]) expect(e4.get(t), `IPv4 attribute ${t}`).toEqual(k4.get(t));
    expect(k4.get(9)).toEqual(Buffer.from([255, 255, 255, 0]));
    const k6 = nestAttrs(b, offs[ss.indexOf(v6)]!, 1);
    const e6 = encoded((x) => native.ipvsEncodeService(x, 0x20, 1, 10, 17, addr(0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), 53, 0, 'sh', '', 0x11, 0x3d, 30, 64), 1);
    for (const t of [1, 2, 3, 4, 6, 8, 9]) expect(e6.get(t), `IPv6 attribute ${t}`).toEqual(k6.get(t));
    expect(k6.get(9)).toEqual(Buffer.from([64, 0, 0, 0])); // prefix length in host order
  });

  it('destination dump: full weight, thresholds, an IPv6 GUE real server behind an IPv4 service', () => {
    const [b, offs] = load('dests');
    const ds = native.ipvsDecodeDests(b, offs, 0, offs.length, 2);
    expect(ds.map((d) => d.address)).toEqual(['2001:db8:1::9', '10.1.0.2']); // newest first
    expect(ds[0]).toMatchObject({ af: 10, port: 80, forward: 2, weight: 1, tunnelType: 1, tunnelPort: 6080, tunnelFlags: 1 });
    expect(ds[1]).toMatchObject({ af: 2, port: 8080, forward: 0, weight: 2147483647, upperThreshold: 100, lowerThreshold: 10, tunnelType: 0, tunnelPort: 0 });
    for (const d of ds) expect(d.seen & 0b11111).toBe(0b11111); // every optional attribute: a 5.3+ kernel
    const kd = nestAttrs(b, offs[0]!, 2);
    const ed = encoded(
      (x) => native.ipvsEncodeDest(x, 0x20, 5, 2, 6, addr(10, 0, 0, 1), 80, 0, 10, addr(0x20, 1, 0xd, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9), 80, true, 2, 1, 0, 0, 1, 6080, 1),
      2,
    );
    for (const t of [1, 2, 3, 4, 5, 6, 11, 13, 14, 15]) expect(ed.get(t), `destination attribute ${t}`).toEqual(kd.get(t));
    expect(kd.get(14)).toEqual(Buffer.from([0x17, 0xc0])); // 6080, network order
    const kw = nestAttrs(b, offs[1]!, 2);
    expect(kw.get(4)!.readUInt32LE(0)).toBe(2147483647);
  });

  it('daemon dump: port in host order as the kernel writes it; config and info', () => {
    const [b, offs] = load('daemons');
    expect(native.ipvsDecodeDaemons(b, offs, 0, offs.length)).toEqual([{ state: 2, interface: 'd0', syncId: 7, maxLength: 1400, group: '239.1.1.1', port: 8849, ttl: 2 }]);
    const kd = nestAttrs(b, offs[0]!, 3);
    expect(kd.get(7)).toEqual(Buffer.from([0x91, 0x22])); // 8849 = 0x2291, little-endian host order
    const ed = encoded((x) => native.ipvsEncodeDaemon(x, 0x20, 9, 2, true, 'd0', 7, 1400, 2, Buffer.from([239, 1, 1, 1]), 8849, 2), 3);
    for (const t of [1, 2, 3, 4, 5, 7, 8]) expect(ed.get(t), `daemon attribute ${t}`).toEqual(kd.get(t));
    const [c, co] = load('config');
    expect(native.ipvsDecodeConfig(c, co, 0, 1)).toEqual({ tcp: 901, tcpFin: 121, udp: 301 });
    const [i, io] = load('info');
    expect(native.ipvsDecodeInfo(i, io, 0, 1)).toEqual({ version: 0x010201, connTabSize: 4096 });
  });
});
