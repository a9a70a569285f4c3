// pcap and pcapng readers on files written by the test (test/helpers/packets.ts, from the
// pcap and pcapng drafts), both byte orders, every resolution, and every truncation point.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LinkType, packetFlowObjects, readPcap, readPcapFile } from '../../lib/packet/index.js';
import { ValidationError } from '../../lib/errors.js';
import { cat, eth, icmp, ipv4, ipv6, pcap, pcapngSection, sll2, tcp, udp, type NgBlock } from '../helpers/packets.js';

const p1 = eth(0x0800, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 6, payload: tcp(1111, 80) }));
const p2 = eth(0x86dd, ipv6({ src: '2001:db8::1', dst: '2001:db8::2', proto: 17, flowLabel: 99, payload: udp(2222, 53) }));
const p3 = eth(0x0806, new Uint8Array(28));
const raw4 = ipv4({ src: '192.0.2.7', dst: '192.0.2.8', proto: 1, payload: icmp(8, 0, [0, 1, 0, 1]) });
const sllPkt = sll2(0x0800, ipv4({ src: '172.16.0.1', dst: '172.16.0.2', proto: 17, payload: udp(5, 6) }));

describe('pcap', () => {
  for (const big of [false, true]) {
    for (const nano of [false, true]) {
      it(`${big ? 'big' : 'little'}-endian, ${nano ? 'nano' : 'micro'}second: offsets, lengths, timestamps, flows`, () => {
        const pk = [{ data: p1, sec: 1700000000, frac: 123 }, { data: p2, sec: 1700000001, frac: 999999, origLen: 1500 }, { data: p3, sec: 5, frac: 0 }];
        const file = pcap(LinkType.ethernet, pk, { big, nano });
        const c = readPcap(file);
        expect(c).toMatchObject({ format: 'pcap', bigEndian: big, nanoseconds: nano, error: null, count: 3 });
        expect(Array.from(c.packets.lengths)).toEqual(pk.map((p) => p.data.length));
        expect(Array.from(c.packets.origLengths)).toEqual([p1.length, 1500, p3.length]);
        pk.forEach((p, i) => {
          const off = c.packets.offsets[i]!;
          expect(file.subarray(off, off + p.data.length)).toEqual(p.data);
          expect(c.packets.timestampsNs[i]).toBe(BigInt(p.sec) * 1_000_000_000n + BigInt(p.frac) * (nano ? 1n : 1000n));
        });
        const objs = packetFlowObjects(c);
        expect(objs[0]).toMatchObject({ status: 'ok', src: '10.0.0.1', sport: 1111, dport: 80 });
        expect(objs[1]).toMatchObject({ status: 'ok', proto: 17, sport: 2222, flowLabel: 99 });
        expect(objs[2]!.status).toBe('notIp');
        expect(c.counts).toMatchObject({ ok: 2, notIp: 1, v4: 1, v6: 1 });
      });
    }
  }

  it('link type comes from the header (raw IP), FCS bits above the low 16 are ignored', () => {
    const file = pcap(LinkType.raw | (0x1 << 26) | (4 << 28), [{ data: raw4 }]);
    expect(packetFlowObjects(readPcap(file))[0]).toMatchObject({ status: 'ok', src: '192.0.2.7', proto: 1 });
  });

  it('every truncation point: packets before the cut stay, an error names the broken record', () => {
    const file = pcap(LinkType.ethernet, [{ data: p1 }, { data: p2 }, { data: p3 }]);
    const ends = [24, 24 + 16 + p1.length, 24 + 32 + p1.length + p2.length, file.length];
    for (let cut = 0; cut <= file.length; cut++) {
      const part = file.slice(0, cut);
      if (cut < 4) {
        expect(() => readPcap(part)).toThrow(ValidationError);
        continue;
      }
      const c = readPcap(part);
      const complete = ends.filter((e) => e <= cut).length - 1;
      expect(c.count).toBe(Math.max(0, complete));
      expect(c.error === null).toBe(ends.includes(cut));
      if (c.error) expect(c.error.message).toMatch(/truncated|claims/);
    }
  });
});

describe('pcapng', () => {
  const blocks = (): NgBlock[] => [
    { kind: 'idb', iface: { linkType: LinkType.ethernet, snaplen: 0 } },
    { kind: 'other', type: 4, body: [0, 0, 0, 0] }, // name resolution block: skipped
    { kind: 'idb', iface: { linkType: LinkType.raw, tsresol: 9 } },
    { kind: 'idb', iface: { linkType: LinkType.linuxSll2, tsresol: 0x80 | 20, tsoffset: 100 } },
    { kind: 'epb', iface: 0, data: p1, ts: 1_700_000_000_123_456n },
    { kind: 'epb', iface: 1, data: raw4, ts: 1_700_000_000_123_456_789n },
    { kind: 'epb', iface: 2, data: sllPkt, ts: 3n << 20n, origLen: 4000 },
    { kind: 'spb', data: p2 },
    { kind: 'other', type: 5, body: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] }, // interface statistics
  ];
  for (const big of [false, true]) {
    it(`${big ? 'big' : 'little'}-endian: per-interface link types and resolutions, EPB and SPB, other blocks skipped`, () => {
      const file = pcapngSection(blocks(), { big });
      const c = readPcap(file);
      expect(c).toMatchObject({ format: 'pcapng', bigEndian: big, interfaceCount: 3, sections: 1, skippedBlocks: 2, error: null, count: 4 });
      expect(Array.from(c.packets.linkTypes)).toEqual([LinkType.ethernet, LinkType.raw, LinkType.linuxSll2, LinkType.ethernet]);
      expect(Array.from(c.packets.interfaces)).toEqual([0, 1, 2, 0]);
      expect(Array.from(c.packets.timestampsNs)).toEqual([1_700_000_000_123_456_000n, 1_700_000_000_123_456_789n, 3_000_000_000n + 100_000_000_000n, 0n]);
      expect(Array.from(c.packets.origLengths)).toEqual([p1.length, raw4.length, 4000, p2.length]);
      const objs = packetFlowObjects(c);
      expect(objs.map((o) => o.src)).toEqual(['10.0.0.1', '192.0.2.7', '172.16.0.1', '2001:db8:0:0:0:0:0:1']);
      for (const [i, p] of [p1, raw4, sllPkt, p2].entries()) {
        const off = c.packets.offsets[i]!;
        expect(file.subarray(off, off + p.length)).toEqual(p);
      }
    });
  }

  it('sections of different byte orders; interface numbers restart per section, reported globally', () => {
    const file = cat(
      pcapngSection([{ kind: 'idb', iface: { linkType: LinkType.raw } }, { kind: 'epb', iface: 0, data: raw4 }], { big: false }),
      pcapngSection([{ kind: 'idb', iface: { linkType: LinkType.ethernet } }, { kind: 'idb', iface: { linkType: LinkType.raw } },
        { kind: 'epb', iface: 1, data: raw4 }, { kind: 'epb', iface: 0, data: p1 }], { big: true }),
    );
    const c = readPcap(file);
    expect(c).toMatchObject({ sections: 2, interfaceCount: 3, error: null, count: 3, bigEndian: false });
    expect(Array.from(c.packets.interfaces)).toEqual([0, 2, 1]);
    expect(c.counts.ok).toBe(3);
  });

  it('a simple packet block is cut to the first interface snap length', () => {
    const c = readPcap(pcapngSection([{ kind: 'idb', iface: { linkType: LinkType.ethernet, snaplen: 30 } }, { kind: 'spb', data: p1 }]));
    expect(c.packets.lengths[0]).toBe(30);
    expect(c.packets.origLengths[0]).toBe(p1.length);
    expect(c.status[0]).toBe(3); // truncated in the IPv4 header
  });

  it('malformed blocks stop the scan with a message and offset; earlier packets stay', () => {
    const good = pcapngSection([{ kind: 'idb', iface: { linkType: LinkType.ethernet } }, { kind: 'epb', iface: 0, data: p1 }]);
    const withTail = (tail: Uint8Array) => readPcap(cat(good, tail));
    const le32 = (v: number) => [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24];
    const bad = [
      [cat(le32(6), le32(30), new Array(22).fill(0)), /bad length 30/],
      [cat(le32(6), le32(32), new Array(20).fill(0), le32(36)), /trailing length 36 != 32/],
      [cat(le32(6), le32(4096), new Array(8).fill(0)), /past the end/],
      [cat(le32(6), le32(32), le32(7), new Array(16).fill(0), le32(32)), /names interface 7/],
      [cat(le32(6), le32(36), le32(0), le32(0), le32(0), le32(200), le32(200), [0, 0, 0, 0], le32(36)), /claims 200 captured bytes/],
      [cat(le32(1), le32(16), [1, 0, 0, 0], le32(16)), /interface description .* too short/],
      [cat(le32(1), le32(28), [1, 0, 0, 0, 0, 0, 0, 0], [9, 0, 200, 0, 0, 0, 0, 0], le32(28)), /option .* overruns/],
      [cat([1, 2, 3, 4, 5]), /block header truncated/],
    ] as const;
    for (const [tail, re] of bad) {
      const c = withTail(Uint8Array.from(tail));
      expect(c.count).toBe(1);
      expect(c.error?.message).toMatch(re);
      expect(c.error?.offset).toBeGreaterThanOrEqual(good.length);
    }
    const badMagic = Uint8Array.from(good);
    badMagic.set([1, 2, 3, 4], 8);
    expect(readPcap(badMagic).error?.message).toMatch(/byte-order magic/);
  });

  it('every truncation point of a pcapng file: no throw past the magic, packets before the cut stay', () => {
    const file = pcapngSection(blocks());
    const dv = new DataView(file.buffer, file.byteOffset);
    const ends: number[] = [];
    for (let at = 0; at < file.length; at += dv.getUint32(at + 4, true)) ends.push(at + dv.getUint32(at + 4, true));
    for (let cut = 4; cut <= file.length; cut++) {
      const c = readPcap(file.slice(0, cut));
      expect(c.count).toBeLessThanOrEqual(4);
      expect(c.error === null).toBe(ends.includes(cut));
    }
  });

  it('not a capture: ValidationError; readPcapFile reads a file', () => {
    expect(() => readPcap(Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]))).toThrow(/pcap or pcapng.*magic 0x464c457f/);
    expect(() => readPcap('x' as unknown as Uint8Array)).toThrow(ValidationError);
    expect(() => readPcapFile('')).toThrow(ValidationError);
    const dir = mkdtempSync(join(tmpdir(), 'lvskit-pcap-'));
    try {
      const f = join(dir, 'a.pcapng');
      writeFileSync(f, pcapngSection(blocks(), { big: true }));
      expect(readPcapFile(f).count).toBe(4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
