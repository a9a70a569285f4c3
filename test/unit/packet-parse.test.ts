// Header parsing on packets built in the test (test/helpers/packets.ts writes every byte from
// the RFCs). Expected values come from the builders' inputs, never from the parser.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ipv4ToNumber, ipv6ToWords, MultipathRoute } from '../../lib/hash/index.js';
import {
  FlowFlag, LinkType, PacketFlowBuffer, PacketStatus, multipathFlowsV4, multipathFlowsV6, packPackets,
  packetFlowObjects, parsePackets, type ParsedPackets,
} from '../../lib/packet/index.js';
import { ValidationError } from '../../lib/errors.js';
import { cat, eth, fragExt, icmp, icmpv6, ipv4, ipv6, sctp, sll, sll2, tcp, udp } from '../helpers/packets.js';

const parseOne = (p: Uint8Array, lt: number | keyof typeof LinkType = 'ethernet'): ParsedPackets => {
  const { buffer, offsets, lengths } = packPackets([p]);
  return parsePackets(buffer, offsets, lengths, lt);
};
const obj = (p: Uint8Array, lt: number | keyof typeof LinkType = 'ethernet') => packetFlowObjects(parseOne(p, lt))[0]!;
const words = (a: string) => Array.from(ipv6ToWords(a));

describe('Ethernet, VLAN, IPv4, L4 ports', () => {
  it('TCP, UDP, SCTP, DCCP, UDP-Lite ports; ESP SPI as ports; AH SPI at offset 4 (proto_ports_offset)', () => {
    const cases: Array<[number, Uint8Array, number, number]> = [
      [6, tcp(40000, 443), 40000, 443],
      [17, udp(5353, 53), 5353, 53],
      [132, sctp(2905, 3868), 2905, 3868],
      [33, cat(tcp(1111, 2222).subarray(0, 12)), 1111, 2222],
      [136, udp(7, 9), 7, 9],
      [50, Uint8Array.from([0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1]), 0x1234, 0x5678],
      [51, Uint8Array.from([6, 4, 0, 0, 0xab, 0xcd, 0xef, 0x01, 0, 0, 0, 1, 0, 0, 0, 0]), 0xabcd, 0xef01],
    ];
    for (const [proto, l4, sport, dport] of cases) {
      const o = obj(eth(0x0800, ipv4({ src: '192.0.2.10', dst: '198.51.100.7', proto, payload: l4 })));
      expect(o).toMatchObject({ status: 'ok', src: '192.0.2.10', dst: '198.51.100.7', proto, sport, dport });
    }
  });

  it('ICMP echo and protocols without ports: ports 0, not an error', () => {
    for (const proto of [1, 2, 89, 103]) {
      const o = obj(eth(0x0800, ipv4({ src: '10.1.2.3', dst: '10.3.2.1', proto, payload: icmp(8, 0, [0, 1, 0, 2]) })));
      expect(o).toMatchObject({ status: 'ok', proto, sport: 0, dport: 0 });
      expect(o.flags & FlowFlag.icmpError).toBe(0);
    }
  });

  it('802.1Q, QinQ (802.1ad over 802.1Q) and the old 0x9100 TPID: the outer VLAN id is reported', () => {
    const ip = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, payload: udp(1000, 2000) });
    const one = obj(eth(0x0800, ip, { vlans: [{ vid: 100, pcp: 5 }] }));
    expect(one).toMatchObject({ status: 'ok', vlan: 100, sport: 1000, dport: 2000 });
    const qinq = obj(eth(0x0800, ip, { vlans: [{ tpid: 0x88a8, vid: 3001 }, { vid: 42 }] }));
    expect(qinq).toMatchObject({ status: 'ok', vlan: 3001, dport: 2000 });
    expect(obj(eth(0x0800, ip, { vlans: [{ tpid: 0x9100, vid: 7 }, { vid: 8 }] }))).toMatchObject({ vlan: 7 });
    expect(obj(eth(0x0800, ip)).flags & FlowFlag.vlan).toBe(0);
  });

  it('IPv4 options of every length are skipped by ihl', () => {
    for (let optLen = 1; optLen <= 40; optLen += 3) {
      const options = [0x94, 4, 0, 0, ...new Array(Math.max(0, optLen - 4)).fill(1)].slice(0, Math.max(optLen, 4));
      const o = obj(eth(0x0800, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 6, options, payload: tcp(1234, 80) })));
      expect(o).toMatchObject({ status: 'ok', sport: 1234, dport: 80 });
      expect(o.flags & FlowFlag.ipOptions).toBe(FlowFlag.ipOptions);
    }
  });

  it('Ethernet padding past the IPv4 total length is not read as headers', () => {
    // A short UDP datagram in a 60-byte frame: the padding is 0xff, which would be garbage ports.
    const ip = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, payload: udp(1, 2).subarray(0, 8) });
    const framed = cat(eth(0x0800, ip), new Array(30).fill(0xff));
    expect(obj(framed)).toMatchObject({ status: 'ok', sport: 1, dport: 2 });
    // A datagram whose total length stops inside the UDP header: ports are beyond the datagram.
    const cut = cat(eth(0x0800, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, totalLength: 22, payload: udp(1, 2) })));
    expect(obj(cut)).toMatchObject({ status: 'truncatedL4', sport: 0, dport: 0 });
  });

  it('fragments: first and later, both without ports (the kernel does not hash them), protocol kept', () => {
    const first = obj(eth(0x0800, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 6, mf: true, payload: tcp(5, 6) })));
    expect(first).toMatchObject({ status: 'fragment', proto: 6, sport: 0, dport: 0 });
    expect(first.flags & FlowFlag.firstFragment).toBe(FlowFlag.firstFragment);
    const later = obj(eth(0x0800, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, fragOffset: 185, payload: udp(5, 6) })));
    expect(later).toMatchObject({ status: 'fragment', proto: 17, sport: 0 });
    expect(later.flags & FlowFlag.firstFragment).toBe(0);
    const last = obj(eth(0x0800, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, fragOffset: 1, mf: false, payload: udp(5, 6) })));
    expect(last.status).toBe('fragment');
    const df = obj(eth(0x0800, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, df: true, payload: udp(5, 6) })));
    expect(df).toMatchObject({ status: 'ok', sport: 5 });
  });

  it('IPIP, IPv6-in-IPv4 and GRE stop at the outer header (STOP_AT_ENCAP)', () => {
    for (const proto of [4, 41, 47]) {
      const inner = ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 6, payload: tcp(1, 2) });
      const o = obj(eth(0x0800, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto, payload: cat([0, 0, 8, 0], inner) })));
      expect(o).toMatchObject({ status: 'ok', proto, src: '10.0.0.1', sport: 0 });
      expect(o.flags & FlowFlag.encap).toBe(FlowFlag.encap);
    }
  });
});

describe('IPv6', () => {
  const src = '2001:db8::1', dst = '2001:db8:aaaa::7';
  it('flow label, and hop-by-hop / routing / destination options skipped to the L4 header', () => {
    const p = eth(0x86dd, ipv6({ src, dst, proto: 17, flowLabel: 0xabcde, tc: 0xff, payload: udp(4000, 53),
      ext: [{ type: 0 }, { type: 43, data: [0, 0, 0, 0, 0, 0, ...new Array(16).fill(0)] }, { type: 60, data: new Array(14).fill(1) }] }));
    const r = parseOne(p);
    expect(r.counts.v6).toBe(1);
    expect(Array.from(r.v6.saddr)).toEqual(words(src));
    expect(Array.from(r.v6.daddr)).toEqual(words(dst));
    expect([r.v6.sport[0], r.v6.dport[0], r.v6.proto[0], r.v6.flowLabel[0]]).toEqual([4000, 53, 17, 0xabcde]);
    expect(r.v6.flags[0]! & FlowFlag.ipOptions).toBe(FlowFlag.ipOptions);
    // ip6_multipath_l3_keys takes the header's own next-header byte: hop-by-hop (0).
    expect([r.v6.l3.proto[0], r.v6.l3.flowLabel[0]]).toEqual([0, 0xabcde]);
  });

  it('fragment header: protocol from it, no ports, first fragment flagged', () => {
    const first = obj(eth(0x86dd, ipv6({ src, dst, proto: 6, ext: [fragExt(0, true)], payload: tcp(1, 2) })));
    expect(first).toMatchObject({ status: 'fragment', proto: 6, sport: 0, dport: 0 });
    expect(first.flags & FlowFlag.firstFragment).toBe(FlowFlag.firstFragment);
    const later = obj(eth(0x86dd, ipv6({ src, dst, proto: 17, ext: [{ type: 0 }, fragExt(100, false)], payload: udp(1, 2) })));
    expect(later).toMatchObject({ status: 'fragment', proto: 17 });
    expect(later.flags & FlowFlag.firstFragment).toBe(0);
  });

  it('AH is not skipped: its SPI is the ports, as in the kernel', () => {
    const ah = [6, 4, 0, 0, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const o = obj(eth(0x86dd, ipv6({ src, dst, proto: 51, payload: cat(ah, tcp(7, 8)) })));
    expect(o).toMatchObject({ status: 'ok', proto: 51, sport: 0x1122, dport: 0x3344 });
  });

  it('at most 15 extension headers are followed, plus the one that crosses MAX_FLOW_DISSECT_HDRS', () => {
    const chain = (k: number) => obj(eth(0x86dd, ipv6({ src, dst, proto: 6, ext: Array.from({ length: k }, () => ({ type: 60 })), payload: tcp(11, 22) })));
    expect(chain(16)).toMatchObject({ status: 'ok', proto: 6, sport: 11 });
    expect(chain(17)).toMatchObject({ proto: 60, sport: 0, dport: 0 });
  });

  it('payload length bounds the datagram (padding ignored); 0 (jumbogram) keeps the capture', () => {
    const body = udp(9, 10);
    const padded = cat(eth(0x86dd, ipv6({ src, dst, proto: 17, payload: body })), new Array(20).fill(0xee));
    expect(obj(padded)).toMatchObject({ status: 'ok', sport: 9, dport: 10 });
    expect(obj(eth(0x86dd, ipv6({ src, dst, proto: 17, payload: body, payloadLength: 2 })))).toMatchObject({ status: 'truncatedL4', sport: 0 });
    expect(obj(eth(0x86dd, ipv6({ src, dst, proto: 17, payload: body, payloadLength: 0 })))).toMatchObject({ status: 'ok', sport: 9 });
  });
});

describe('ICMP errors: the quoted header (ip_multipath_l3_keys, ip6_multipath_l3_keys)', () => {
  const quotedV4 = ipv4({ src: '203.0.113.5', dst: '198.51.100.9', proto: 6, payload: tcp(51000, 443) }).subarray(0, 28);
  it('IPv4 errors of types 3, 4, 5, 11, 12: l3 key = quoted addresses, inner flow with its ports', () => {
    for (const type of [3, 4, 5, 11, 12]) {
      const o = obj(eth(0x0800, ipv4({ src: '192.0.2.1', dst: '203.0.113.5', proto: 1, payload: icmp(type, 0, [0, 0, 5, 0xdc], quotedV4) })));
      expect(o).toMatchObject({ status: 'ok', src: '192.0.2.1', dst: '203.0.113.5', proto: 1, sport: 0, dport: 0 });
      expect(o.l3).toEqual({ src: '203.0.113.5', dst: '198.51.100.9' });
      expect(o.inner).toMatchObject({ src: '203.0.113.5', dst: '198.51.100.9', proto: 6, sport: 51000, dport: 443 });
      expect(o.flags & (FlowFlag.icmpError | FlowFlag.inner | FlowFlag.l3Inner)).toBe(FlowFlag.icmpError | FlowFlag.inner | FlowFlag.l3Inner);
    }
  });

  it('non-error types (echo, timestamp, router advertisement) keep the outer key', () => {
    for (const type of [0, 8, 9, 13, 14]) {
      const o = obj(eth(0x0800, ipv4({ src: '192.0.2.1', dst: '203.0.113.5', proto: 1, payload: icmp(type, 0, [0, 0, 0, 0], quotedV4) })));
      expect(o.flags & (FlowFlag.icmpError | FlowFlag.l3Inner)).toBe(0);
      expect(o.l3).toBeUndefined();
    }
  });

  it('the kernel reads 20 quoted bytes without validating them; a non-first fragment is never looked into', () => {
    const bogus = Uint8Array.from([0x65, ...new Array(11).fill(0), 1, 2, 3, 4, 5, 6, 7, 8]); // version 6, ihl 5
    const o = obj(eth(0x0800, ipv4({ src: '192.0.2.1', dst: '203.0.113.5', proto: 1, payload: icmp(3, 1, [0, 0, 0, 0], bogus) })));
    expect(o.l3).toEqual({ src: '1.2.3.4', dst: '5.6.7.8' });
    expect(o.flags & FlowFlag.inner).toBe(0);
    expect(o.flags & FlowFlag.innerBad).toBe(FlowFlag.innerBad);
    const short = obj(eth(0x0800, ipv4({ src: '192.0.2.1', dst: '203.0.113.5', proto: 1, payload: icmp(3, 1, [0, 0, 0, 0], quotedV4.subarray(0, 19)) })));
    expect(short.flags & FlowFlag.l3Inner).toBe(0);
    const frag = obj(eth(0x0800, ipv4({ src: '192.0.2.1', dst: '203.0.113.5', proto: 1, fragOffset: 3, payload: icmp(3, 1, [0, 0, 0, 0], quotedV4) })));
    expect(frag.flags & (FlowFlag.l3Inner | FlowFlag.icmpError)).toBe(0);
    const firstFrag = obj(eth(0x0800, ipv4({ src: '192.0.2.1', dst: '203.0.113.5', proto: 1, mf: true, payload: icmp(3, 1, [0, 0, 0, 0], quotedV4) })));
    expect(firstFrag.status).toBe('fragment');
    expect(firstFrag.l3).toEqual({ src: '203.0.113.5', dst: '198.51.100.9' });
  });

  it('a quoted header in the link padding (past the total length) is not used', () => {
    const ip = ipv4({ src: '192.0.2.1', dst: '203.0.113.5', proto: 1, payload: icmp(3, 1, [0, 0, 0, 0]) });
    const o = obj(cat(eth(0x0800, ip), quotedV4));
    expect(o.flags & FlowFlag.l3Inner).toBe(0);
    expect(o.flags & FlowFlag.icmpError).toBe(FlowFlag.icmpError);
  });

  const quotedV6 = ipv6({ src: '2001:db8:5::9', dst: '2001:db8:aaaa::1', proto: 6, flowLabel: 0x12345, payload: tcp(33000, 80) });
  it('ICMPv6 errors 1..4: quoted addresses, flow label and next header', () => {
    for (const type of [1, 2, 3, 4]) {
      const p = eth(0x86dd, ipv6({ src: '2001:db8:ffff::1', dst: '2001:db8:5::9', proto: 58, flowLabel: 0x777, payload: icmpv6(type, 0, [0, 0, 5, 0], quotedV6) }));
      const r = parseOne(p);
      expect(Array.from(r.v6.l3.saddr)).toEqual(words('2001:db8:5::9'));
      expect(Array.from(r.v6.l3.daddr)).toEqual(words('2001:db8:aaaa::1'));
      expect([r.v6.l3.proto[0], r.v6.l3.flowLabel[0]]).toEqual([6, 0x12345]);
      expect([r.v6.proto[0], r.v6.flowLabel[0], r.v6.sport[0]]).toEqual([58, 0x777, 0]);
      expect([r.v6.inner.sport[0], r.v6.inner.dport[0], r.v6.inner.proto[0], r.v6.inner.flowLabel[0]]).toEqual([33000, 80, 6, 0x12345]);
    }
  });

  it('ICMPv6 informational (128, 135) and errors behind an extension header keep the outer l3 key', () => {
    for (const type of [128, 129, 135]) {
      const o = obj(eth(0x86dd, ipv6({ src: '2001:db8::1', dst: '2001:db8::2', proto: 58, payload: icmpv6(type, 0, [0, 0, 0, 0], quotedV6) })));
      expect(o.flags & (FlowFlag.icmpError | FlowFlag.l3Inner)).toBe(0);
    }
    const behind = obj(eth(0x86dd, ipv6({ src: '2001:db8::1', dst: '2001:db8::2', proto: 58, ext: [{ type: 60 }], payload: icmpv6(1, 0, [0, 0, 0, 0], quotedV6) })));
    expect(behind.flags & FlowFlag.l3Inner).toBe(0);
    expect(behind.flags & (FlowFlag.icmpError | FlowFlag.inner)).toBe(FlowFlag.icmpError | FlowFlag.inner);
    expect(behind.inner).toMatchObject({ src: '2001:db8:5:0:0:0:0:9', sport: 33000 });
  });
});

describe('link types', () => {
  const ip4 = ipv4({ src: '10.9.8.7', dst: '10.1.1.1', proto: 6, payload: tcp(3333, 22) });
  const ip6 = ipv6({ src: '2001:db8::5', dst: '2001:db8::6', proto: 17, payload: udp(1, 2) });
  it('Linux cooked v1/v2, raw, ipv4/ipv6, BSD null (both byte orders), PPPoE session', () => {
    expect(obj(sll(0x0800, ip4), 'linuxSll')).toMatchObject({ status: 'ok', sport: 3333 });
    expect(obj(sll(0x8100, cat([0, 5, 0x08, 0x00], ip4)), 'linuxSll')).toMatchObject({ status: 'ok', vlan: 5 });
    expect(obj(sll2(0x86dd, ip6), 'linuxSll2')).toMatchObject({ status: 'ok', dport: 2 });
    expect(obj(ip4, 'raw')).toMatchObject({ status: 'ok', src: '10.9.8.7' });
    expect(obj(ip6, 'raw')).toMatchObject({ status: 'ok', proto: 17 });
    expect(obj(ip4, 'ipv4').status).toBe('ok');
    expect(obj(ip6, 'ipv6').status).toBe('ok');
    expect(obj(ip6, 'ipv4').status).toBe('malformed');
    expect(obj(cat([2, 0, 0, 0], ip4), 'null').status).toBe('ok');
    expect(obj(cat([0, 0, 0, 2], ip4), 'null').status).toBe('ok');
    for (const af of [10, 24, 28, 30]) expect(obj(cat([af, 0, 0, 0], ip6), 'null').status).toBe('ok');
    expect(obj(cat([7, 0, 0, 0], ip6), 'null').status).toBe('notIp');
    const pppoe = (proto: number, ip: Uint8Array) => eth(0x8864, cat([0x11, 0, 0, 1, 0, ip.length + 2, proto >> 8, proto & 255], ip));
    expect(obj(pppoe(0x0021, ip4))).toMatchObject({ status: 'ok', sport: 3333 });
    expect(obj(pppoe(0x0057, ip6))).toMatchObject({ status: 'ok', dport: 2 });
    expect(obj(pppoe(0xc021, ip4)).status).toBe('notIp');
  });

  it('not IP, unsupported links and malformed IP headers are reported, with no flow', () => {
    const arp = eth(0x0806, new Uint8Array(28));
    const llc = eth(46, new Uint8Array(46));
    const badVersion = eth(0x0800, ip6);
    const ihl4 = eth(0x0800, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 6, ihl: 4, payload: tcp(1, 2) }));
    const totShort = eth(0x0800, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 6, totalLength: 19, payload: tcp(1, 2) }));
    const { buffer, offsets, lengths } = packPackets([arp, llc, badVersion, ihl4, totShort, ip4, new Uint8Array(0)]);
    const lt = Uint16Array.of(1, 1, 1, 1, 1, 147, 1);
    const r = parsePackets(buffer, offsets, lengths, lt);
    expect(Array.from(r.status)).toEqual([PacketStatus.notIp, PacketStatus.notIp, PacketStatus.malformed, PacketStatus.malformed, PacketStatus.malformed, PacketStatus.unsupportedLink, PacketStatus.truncated]);
    expect(r.counts).toMatchObject({ notIp: 2, malformed: 3, unsupportedLink: 1, truncated: 1, v4: 0, v6: 0 });
  });
});

describe('bulk API', () => {
  it('mixed families land in v4 / v6 in packet order with index back to the packet; counts add up', () => {
    const pk: Uint8Array[] = [];
    for (let i = 0; i < 50; i++) {
      pk.push(i % 3 === 0
        ? eth(0x86dd, ipv6({ src: `2001:db8::${i + 1}`, dst: '2001:db8::ffff', proto: 6, payload: tcp(1000 + i, 80) }))
        : i % 7 === 0 ? eth(0x0806, new Uint8Array(28))
          : eth(0x0800, ipv4({ src: `10.0.0.${i}`, dst: '10.0.1.1', proto: 17, payload: udp(2000 + i, 53) })));
    }
    const { buffer, offsets, lengths } = packPackets(pk);
    const out = new PacketFlowBuffer(64);
    const r = parsePackets(buffer, offsets, lengths, 'ethernet', out);
    expect(r.counts.v4 + r.counts.v6).toBe(r.counts.ok);
    expect(r.counts.ok + r.counts.notIp).toBe(50);
    for (let k = 0; k < r.v4.length; k++) {
      const i = r.v4.index[k]!;
      expect(r.v4.saddr[k]).toBe(ipv4ToNumber(`10.0.0.${i}`));
      expect(r.v4.sport[k]).toBe(2000 + i);
    }
    for (let k = 0; k < r.v6.length; k++) expect(r.v6.sport[k]).toBe(1000 + r.v6.index[k]!);
    // The buffer is reused: a second call overwrites the views' contents.
    const again = parsePackets(buffer, offsets.subarray(0, 1), lengths, 'ethernet', out);
    expect(again.count).toBe(1);
    expect(again.v6.length).toBe(1);
  });

  it('multipathFlowsV4/V6 give policy 0 the l3 key and policy 1 the outer flow; both feed MultipathRoute', () => {
    const quoted = ipv4({ src: '5.0.0.1', dst: '198.51.100.7', proto: 6, payload: tcp(40000, 443) }).subarray(0, 28);
    const err = eth(0x0800, ipv4({ src: '192.0.2.99', dst: '198.51.100.7', proto: 1, payload: icmp(11, 0, [0, 0, 0, 0], quoted) }));
    const { buffer, offsets, lengths } = packPackets([err]);
    const r = parsePackets(buffer, offsets, lengths, 'ethernet');
    const p0 = multipathFlowsV4(r.v4, 0);
    expect(p0.saddr[0]).toBe(ipv4ToNumber('5.0.0.1'));
    expect(multipathFlowsV4(r.v4, 1).saddr[0]).toBe(ipv4ToNumber('192.0.2.99'));
    const route = new MultipathRoute([1, 2, 3, 4, 5, 6, 7, 8], { policy: 0, seed: 1 });
    expect(route.predictV4(p0, new Uint16Array(1))[0]).toBe(route.predict({ src: '5.0.0.1', dst: '198.51.100.7' }));
    const e6 = eth(0x86dd, ipv6({ src: '2001:db8::99', dst: '2001:db8::7', proto: 58, payload: icmpv6(1, 0, [0, 0, 0, 0], ipv6({ src: '2001:db8::5', dst: '2001:db8::7', proto: 17, flowLabel: 5, payload: udp(1, 2) })) }));
    const r6 = parseOne(e6);
    expect(Array.from(multipathFlowsV6(r6.v6, 0).saddr)).toEqual(words('2001:db8::5'));
    expect(multipathFlowsV6(r6.v6, 0).flowLabel?.[0]).toBe(5);
    expect(Array.from(multipathFlowsV6(r6.v6, 3).saddr)).toEqual(words('2001:db8::99'));
  });

  it('bad arguments throw ValidationError naming the argument', () => {
    const b = new Uint8Array(10);
    expect(() => parsePackets([] as unknown as Uint8Array, new Uint32Array(1), new Uint32Array(1), 1)).toThrow(ValidationError);
    expect(() => parsePackets(b, [0] as unknown as Uint32Array, new Uint32Array(1), 1)).toThrow(/offsets/);
    expect(() => parsePackets(b, new Uint32Array(2), new Uint32Array(1), 1)).toThrow(/lengths/);
    expect(() => parsePackets(b, new Uint32Array(1), new Uint32Array(1), 'token-ring' as 'raw')).toThrow(/linkType/);
    expect(() => parsePackets(b, new Uint32Array(1), new Uint32Array(1), 70000)).toThrow(/linkType/);
    expect(() => parsePackets(b, new Uint32Array(2), new Uint32Array(2), new Uint16Array(1))).toThrow(/linkType/);
    expect(() => parsePackets(b, new Uint32Array(3), new Uint32Array(3), 1, new PacketFlowBuffer(2))).toThrow(/capacity/);
    expect(() => parsePackets(b, Uint32Array.of(5), Uint32Array.of(6), 1)).toThrow(/outside the buffer/);
    expect(() => parsePackets(b, Uint32Array.of(0xffffffff), Uint32Array.of(2), 1)).toThrow(ValidationError);
    expect(() => new PacketFlowBuffer(-1)).toThrow(/capacity/);
    expect(() => multipathFlowsV4(parseOne(new Uint8Array(0)).v4, 4 as 0)).toThrow(/policy/);
  });
});

describe('random structured packets round-trip (fast-check)', () => {
  const v4addr = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join('.'));
  const v6addr = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((g) => g.map((x) => x.toString(16)).join(':'));
  const l4 = fc.record({ proto: fc.constantFrom(6, 17, 132), sport: fc.nat(65535), dport: fc.nat(65535) });
  const vlans = fc.array(fc.record({ tpid: fc.constantFrom(0x8100, 0x88a8), vid: fc.nat(4095) }), { maxLength: 3 });
  const build = (t: { proto: number; sport: number; dport: number }) =>
    t.proto === 6 ? tcp(t.sport, t.dport) : t.proto === 17 ? udp(t.sport, t.dport) : sctp(t.sport, t.dport);

  it('IPv4 (random options, VLANs, padding): the parsed flow is the built one', () => {
    fc.assert(fc.property(v4addr, v4addr, l4, vlans, fc.nat(10), fc.nat(30), (src, dst, t, vl, optWords, pad) => {
      const p = cat(eth(0x0800, ipv4({ src, dst, proto: t.proto, options: new Array(optWords * 4).fill(1), payload: build(t) }), { vlans: vl }), new Array(pad).fill(0xab));
      const o = obj(p);
      expect(o).toMatchObject({ status: 'ok', src, dst, proto: t.proto, sport: t.sport, dport: t.dport });
      if (vl.length) expect(o.vlan).toBe(vl[0]!.vid);
    }), { numRuns: 400 });
  });

  it('IPv6 (random extension header chains and flow labels): the parsed flow is the built one', () => {
    const ext = fc.array(fc.record({ type: fc.constantFrom(0, 43, 60), len: fc.nat(3) }), { maxLength: 6 });
    fc.assert(fc.property(v6addr, v6addr, l4, ext, fc.nat(0xfffff), (src, dst, t, ex, label) => {
      const p = eth(0x86dd, ipv6({ src, dst, proto: t.proto, flowLabel: label, payload: build(t), ext: ex.map((e) => ({ type: e.type, data: new Array(6 + 8 * e.len).fill(0) })) }));
      const r = parseOne(p);
      expect(r.status[0]).toBe(PacketStatus.ok);
      expect(Array.from(r.v6.saddr)).toEqual(words(src));
      expect(Array.from(r.v6.daddr)).toEqual(words(dst));
      expect([r.v6.proto[0], r.v6.sport[0], r.v6.dport[0], r.v6.flowLabel[0], r.v6.l3.proto[0]]).toEqual([t.proto, t.sport, t.dport, label, ex.length ? ex[0]!.type : t.proto]);
    }), { numRuns: 400 });
  });
});
