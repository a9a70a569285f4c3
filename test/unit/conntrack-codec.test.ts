// The conntrack codec on a dump captured from kernel 6.18 (test/fixtures/nft/conntrack-dump.bin:
// an IPv6 UDP flow, an IPv4 TCP connection in TIME_WAIT, an IPv4 UDP flow DNATed to a real server;
// accounting on), checked against what /proc/net/nf_conntrack showed for the same entries; the
// delete request built from an entry names its tuple; malformed input is a RangeError.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { native } from '../../lib/native.js';
import { entryFromNative } from '../../lib/conntrack/conntrack.js';
import { formatConntrackEntry } from '../../lib/cli/conntrack.js';

const dump = readFileSync(new URL('../fixtures/nft/conntrack-dump.bin', import.meta.url));
const offsets: number[] = [];
for (let off = 0; off < dump.length; off += (dump.readUInt32LE(off) + 3) & ~3) offsets.push(off);

describe('conntrack codec (captured bytes)', () => {
  const entries = offsets.map((o) => entryFromNative(native.ctDecode(dump, o)));

  it('decodes what /proc/net/nf_conntrack showed', () => {
    expect(entries).toHaveLength(3);
    // ipv6 10 udp 17 29 src=2001:db8::1 dst=2001:db8::1 sport=51870 dport=9 packets=1 bytes=49 [UNREPLIED] ...
    expect(entries[0]).toMatchObject({
      family: 6, protocol: 'udp', timeout: 29, status: ['CONFIRMED'],
      original: { source: '2001:db8::1', destination: '2001:db8::1', sourcePort: 51870, destinationPort: 9 },
      reply: { source: '2001:db8::1', destination: '2001:db8::1', sourcePort: 9, destinationPort: 51870 },
      counters: { original: { packets: 1, bytes: 49 }, reply: { packets: 0, bytes: 0 } },
    });
    // ipv4 2 tcp 6 119 TIME_WAIT src=10.0.0.9 dst=10.0.0.9 sport=43276 dport=8080 packets=4 bytes=216 ... [ASSURED]
    expect(entries[1]).toMatchObject({
      family: 4, protocol: 'tcp', state: 'TIME_WAIT', timeout: 119,
      original: { source: '10.0.0.9', destination: '10.0.0.9', sourcePort: 43276, destinationPort: 8080 },
      counters: { original: { packets: 4, bytes: 216 }, reply: { packets: 4, bytes: 217 } },
    });
    expect(entries[1]!.status).toEqual(expect.arrayContaining(['SEEN_REPLY', 'ASSURED', 'CONFIRMED']));
    // ipv4 2 udp 17 29 src=10.0.0.1 dst=192.0.2.10 sport=56661 dport=53 [UNREPLIED] src=10.0.0.9 dst=10.0.0.1 sport=5353 dport=56661
    expect(entries[2]).toMatchObject({
      family: 4, protocol: 'udp',
      original: { source: '10.0.0.1', destination: '192.0.2.10', sourcePort: 56661, destinationPort: 53 },
      reply: { source: '10.0.0.9', destination: '10.0.0.1', sourcePort: 5353, destinationPort: 56661 },
    });
    expect(entries[2]!.status).toEqual(expect.arrayContaining(['DST_NAT', 'DST_NAT_DONE', 'CONFIRMED']));
    expect(entries.every((e) => e.id > 0)).toBe(true);
  });

  it('prints conntrack-tools lines', () => {
    expect(formatConntrackEntry(entries[2]!)).toBe(
      `udp      17 29 src=10.0.0.1 dst=192.0.2.10 sport=56661 dport=53 [UNREPLIED] src=10.0.0.9 dst=10.0.0.1 sport=5353 dport=56661 mark=0 use=1`);
    expect(formatConntrackEntry(entries[1]!)).toMatch(/^tcp      6 119 TIME_WAIT src=10\.0\.0\.9 .* \[ASSURED\] mark=0 use=1$/);
  });

  it('a delete request carries the original tuple, zone and id of the entry', () => {
    for (const [i, e] of entries.entries()) {
      const n = native.ctDecode(dump, offsets[i]!);
      const b = new native.NativeBatch();
      const addr = (s: string) => Buffer.from(s.includes(':') ? [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1] : s.split('.').map(Number));
      native.ctEncodeDelete(b, addr(e.original.source), addr(e.original.destination), n.original.protocol, e.original.sourcePort!, e.original.destinationPort!, -1, 0, 0, 0, e.id);
      const bytes = b.bytes();
      expect(bytes.readUInt16LE(4)).toBe((1 << 8) | 2); // NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_DELETE
      const back = native.ctDecode(bytes, 0);
      expect(back.original).toEqual(n.original);
      expect(back.id).toBe(e.id);
    }
  });

  it('every truncation and byte flip decodes or throws RangeError', () => {
    for (const o of offsets) {
      const msg = dump.subarray(o, o + dump.readUInt32LE(o));
      for (let n = 16; n < msg.length; n += 2) {
        const cut = Buffer.from(msg.subarray(0, n));
        cut.writeUInt32LE(n, 0);
        try {
          entryFromNative(native.ctDecode(cut, 0));
        } catch (e) {
          expect(e).toBeInstanceOf(RangeError);
        }
      }
      let seed = 7;
      for (let i = 0; i < 1500; i++) {
        const m = Buffer.from(msg);
        for (let k = 0; k < 3; k++) {
          seed = (seed * 1103515245 + 12345) >>> 0;
          m[20 + (seed % (m.length - 20))] = (seed >>> 8) & 0xff;
        }
        try {
          entryFromNative(native.ctDecode(m, 0));
        } catch (e) {
          expect(e).toBeInstanceOf(RangeError);
        }
      }
    }
  });
});
