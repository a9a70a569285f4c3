// Malformed and truncated input: every truncation point of several packets, and random bytes,
// give a status and never throw. Out-of-bounds reads are detected differentially: each packet
// is parsed twice, followed in the buffer by different bytes (zeros, 0xff, a valid-looking
// header); a parser that read past the packet's length would see the difference.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LinkType, PACKET_STATUS_NAMES, PacketStatus, packetFlowObjects, parsePackets } from '../../lib/packet/index.js';
import { cat, eth, fragExt, icmp, icmpv6, ipv4, ipv6, sctp, sll, sll2, tcp, udp } from '../helpers/packets.js';

const quoted4 = ipv4({ src: '203.0.113.5', dst: '198.51.100.9', proto: 6, payload: tcp(51000, 443) });
const quoted6 = ipv6({ src: '2001:db8:5::9', dst: '2001:db8:aaaa::1', proto: 17, flowLabel: 7, payload: udp(33000, 53) });
const ip4tcp = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 6, options: [1, 1, 1, 1, 0x94, 4, 0, 0], payload: tcp(1234, 80) });
const ip6ext = ipv6({ src: '2001:db8::1', dst: '2001:db8::2', proto: 132, flowLabel: 0xbeef, ext: [{ type: 0 }, { type: 60, data: new Array(14).fill(1) }], payload: sctp(9, 10) });

const SAMPLES: Array<[string, Uint8Array, number, number]> = [
  ['Ethernet IPv4 TCP with options', eth(0x0800, ip4tcp), LinkType.ethernet, PacketStatus.ok],
  ['QinQ IPv4 UDP', eth(0x0800, ipv4({ src: '1.2.3.4', dst: '5.6.7.8', proto: 17, payload: udp(1, 2) }), { vlans: [{ tpid: 0x88a8, vid: 10 }, { vid: 20 }] }), LinkType.ethernet, PacketStatus.ok],
  ['IPv6 ext headers SCTP', eth(0x86dd, ip6ext), LinkType.ethernet, PacketStatus.ok],
  ['IPv6 fragment', eth(0x86dd, ipv6({ src: '2001:db8::1', dst: '2001:db8::2', proto: 6, ext: [fragExt(0, true)], payload: tcp(1, 2) })), LinkType.ethernet, PacketStatus.fragment],
  ['ICMP error quoting TCP', eth(0x0800, ipv4({ src: '192.0.2.1', dst: '203.0.113.5', proto: 1, payload: icmp(3, 4, [0, 0, 5, 0xdc], quoted4) })), LinkType.ethernet, PacketStatus.ok],
  ['ICMPv6 error quoting UDP', eth(0x86dd, ipv6({ src: '2001:db8::ff', dst: '2001:db8:5::9', proto: 58, payload: icmpv6(2, 0, [0, 0, 5, 0], quoted6) })), LinkType.ethernet, PacketStatus.ok],
  ['SLL IPv4', sll(0x0800, ip4tcp), LinkType.linuxSll, PacketStatus.ok],
  ['SLL2 IPv6', sll2(0x86dd, ip6ext), LinkType.linuxSll2, PacketStatus.ok],
  ['raw IPv6', ip6ext, LinkType.raw, PacketStatus.ok],
  ['PPPoE IPv4', eth(0x8864, cat([0x11, 0, 0, 1, 0, ip4tcp.length + 2, 0, 0x21], ip4tcp)), LinkType.ethernet, PacketStatus.ok],
];

const FILLS = [0x00, 0xff, 0x45];

/** Parses `p[0..cut)` three times, each followed by different bytes; returns the per-copy objects. */
function parseCut(p: Uint8Array, cut: number, lt: number) {
  const tail = cat(eth(0x0800, ip4tcp), quoted6); // plausible headers, so a stray read would parse
  const copies = FILLS.map((f) => cat(p.subarray(0, cut), f === 0x45 ? tail : new Array(tail.length).fill(f)));
  const buffer = cat(...copies);
  const offsets = Uint32Array.from(copies.map((_, i) => i * copies[0]!.length));
  const lengths = new Uint32Array(copies.length).fill(cut);
  const r = parsePackets(buffer, offsets, lengths, lt);
  return packetFlowObjects(r).map(({ index: _i, ...rest }) => rest);
}

describe('every truncation point of every sample', () => {
  for (const [name, p, lt, full] of SAMPLES) {
    it(`${name}: a status at each of ${p.length + 1} cuts, no reads past the cut, the full packet ${PACKET_STATUS_NAMES[full]}`, () => {
      const seen = new Set<string>();
      for (let cut = 0; cut <= p.length; cut++) {
        const [a, ...others] = parseCut(p, cut, lt);
        for (const o of others) expect(o).toEqual(a);
        expect(PACKET_STATUS_NAMES).toContain(a!.status);
        seen.add(a!.status);
        if (cut === p.length) expect(a!.status).toBe(PACKET_STATUS_NAMES[full]);
        if (cut < 14 && lt === LinkType.ethernet) expect(a!.status).toBe('truncated');
      }
      // Cutting a packet always reports it somewhere before the full status.
      expect(seen.has('truncated')).toBe(true);
    });
  }

  it('a cut inside the L4 header of a TCP packet is truncatedL4 with the addresses intact', () => {
    const p = eth(0x0800, ip4tcp);
    const l4 = 14 + 28;
    for (let cut = l4; cut < l4 + 20; cut++) {
      const [o] = parseCut(p, cut, LinkType.ethernet);
      expect(o).toMatchObject({ status: 'truncatedL4', src: '10.0.0.1', dst: '10.0.0.2', proto: 6 });
      expect(o!.sport).toBe(cut >= l4 + 4 ? 1234 : 0);
    }
  });
});

describe('random bytes (fast-check)', () => {
  const links = fc.constantFrom(0, 1, 101, 113, 228, 229, 276, 147, 65535);
  it('never throws, gives valid statuses and flows only for flow statuses, and never reads past a packet', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { minLength: 1, maxLength: 20 }), links, (pkts, lt) => {
      for (const p of pkts) {
        const [a, ...others] = parseCut(p, p.length, lt);
        for (const o of others) expect(o).toEqual(a);
      }
      const offsets = new Uint32Array(pkts.length);
      const lengths = Uint32Array.from(pkts.map((p) => p.length));
      for (let i = 1; i < pkts.length; i++) offsets[i] = offsets[i - 1]! + lengths[i - 1]!;
      const r = parsePackets(cat(...pkts), offsets, lengths, lt);
      const total = PACKET_STATUS_NAMES.reduce((n, s) => n + r.counts[s], 0);
      expect(total).toBe(pkts.length);
      expect(r.counts.v4 + r.counts.v6).toBe(r.counts.ok + r.counts.fragment + r.counts.truncatedL4);
      for (const s of r.status) expect(s).toBeLessThan(PACKET_STATUS_NAMES.length);
    }), { numRuns: 1500 });
  });

  it('random bytes behind valid Ethernet/IPv4 and IPv6 headers (random protocol numbers)', () => {
    fc.assert(fc.property(fc.nat(255), fc.uint8Array({ maxLength: 120 }), fc.boolean(), (proto, body, v6) => {
      const ip = v6 ? ipv6({ src: '2001:db8::1', dst: '2001:db8::2', proto, payload: body }) : ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto, payload: body });
      const p = eth(v6 ? 0x86dd : 0x0800, ip);
      const hdr = 14 + (v6 ? 40 : 20);
      for (const cut of [p.length, Math.max(hdr, Math.floor(p.length * 0.7)), hdr]) {
        const [a, ...others] = parseCut(p, cut, LinkType.ethernet);
        for (const o of others) expect(o).toEqual(a);
        expect(['ok', 'fragment', 'truncatedL4']).toContain(a!.status);
      }
    }), { numRuns: 1500 });
  });
});
