// Route, nexthop and rule codecs on bytes (no kernel): what the encoders put on the wire, and
// what the decoders make of hand-built and malformed messages. Layouts from
// include/uapi/linux/rtnetlink.h, nexthop.h and fib_rules.h.
import { describe, expect, it } from 'vitest';
import { native } from '../../lib/native.js';
import { decodeRouteMessage } from '../../lib/rtnl/route.js';
import { decodeNextHopMessage } from '../../lib/rtnl/nexthop.js';
import { decodeRuleMessage } from '../../lib/rtnl/rule.js';

const v4 = (s: string) => Uint8Array.from(s.split('.').map(Number));

/** Splits attributes of [off, end) into [type, payload] pairs. */
function attrs(b: Buffer, off: number, end: number): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  while (off + 4 <= end) {
    const len = b.readUInt16LE(off);
    out.push([b.readUInt16LE(off + 2) & 0x3fff, b.subarray(off + 4, off + len)]);
    off += (len + 3) & ~3;
  }
  return out;
}

function attr(type: number, payload: Buffer): Buffer {
  const b = Buffer.alloc((4 + payload.length + 3) & ~3);
  b.writeUInt16LE(4 + payload.length, 0);
  b.writeUInt16LE(type, 2);
  payload.copy(b, 4);
  return b;
}
const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};
function message(type: number, header: Buffer, ...a: Buffer[]): Buffer {
  const body = Buffer.concat([header, ...a]);
  const h = Buffer.alloc(16);
  h.writeUInt32LE(16 + body.length, 0);
  h.writeUInt16LE(type, 4);
  return Buffer.concat([h, body]);
}

describe('route codec', () => {
  it('encodes a table id above 255 as RT_TABLE_COMPAT + RTA_TABLE and weights as weight-1', () => {
    const batch = new native.NativeBatch();
    native.routeEncode(batch, 24, 0x600, 2, 24, 0, 0, 100000, 4, 0, 1, 0, v4('10.0.0.0'), null, null, null, 0, 7, 0, [
      [v4('10.0.0.1'), 3, 1, 0],
      [Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1]), 4, 256, 4],
    ]);
    const b = batch.bytes();
    expect(b.readUInt16LE(4)).toBe(24);
    expect(b.readUInt16LE(6)).toBe(0x600);
    expect([...b.subarray(16, 24)]).toEqual([2, 24, 0, 0, 252, 4, 0, 1]); // family, dst_len, src_len, tos, table, proto, scope, type
    const a = new Map(attrs(b, 28, b.length));
    expect(a.get(15)!.readUInt32LE(0)).toBe(100000); // RTA_TABLE
    expect([...a.get(1)!]).toEqual([10, 0, 0, 0]); // RTA_DST
    expect(a.get(6)!.readUInt32LE(0)).toBe(7); // RTA_PRIORITY
    const mp = a.get(9)!; // RTA_MULTIPATH: rtnexthop { u16 len; u8 flags; u8 hops; s32 ifindex } + attrs
    const len0 = mp.readUInt16LE(0);
    expect([mp[2], mp[3], mp.readInt32LE(4)]).toEqual([0, 0, 3]); // weight 1 -> hops 0
    expect(attrs(mp, 8, len0)).toEqual([[5, Buffer.from([10, 0, 0, 1])]]); // RTA_GATEWAY
    const second = mp.subarray(len0);
    expect([second[2], second[3], second.readInt32LE(4)]).toEqual([4, 255, 4]); // onlink, weight 256 -> hops 255
    const via = attrs(second, 8, second.readUInt16LE(0));
    expect(via[0]![0]).toBe(18); // RTA_VIA for a gateway of the other family
    expect(via[0]![1].readUInt16LE(0)).toBe(10); // rtvia_family AF_INET6
  });

  it('encodes a query with big-endian ports, a u8 protocol and RTM_F_LOOKUP_TABLE', () => {
    const batch = new native.NativeBatch();
    native.routeEncodeQuery(batch, 2, v4('198.18.0.1'), v4('10.0.0.1'), 5, 0, 0x42, 1000, 6, 0x1234, 443, 0, true, 0);
    const b = batch.bytes();
    expect(b.readUInt16LE(4)).toBe(26);
    expect(b.readUInt32LE(16 + 8)).toBe(0x1000 | 0x2000); // LOOKUP_TABLE | FIB_MATCH
    const a = new Map(attrs(b, 28, b.length));
    expect(a.get(3)!.readUInt32LE(0)).toBe(5); // RTA_IIF
    expect(a.get(16)!.readUInt32LE(0)).toBe(0x42); // RTA_MARK
    expect(a.get(25)!.readUInt32LE(0)).toBe(1000); // RTA_UID
    expect([...a.get(27)!]).toEqual([6]); // RTA_IP_PROTO
    expect([...a.get(28)!]).toEqual([0x12, 0x34]); // RTA_SPORT, network order
    expect(a.get(29)!.readUInt16BE(0)).toBe(443); // RTA_DPORT
  });

  it('decodes RTA_TABLE over rtm_table, RTA_MULTIPATH hops+1, RTA_VIA', () => {
    const rtm = Buffer.from([2, 24, 0, 0, 252, 3, 0, 1, 0, 0, 0, 0]);
    const hop = (gw: Buffer, ifindex: number, hops: number) => {
      const inner = attr(5, gw);
      const h = Buffer.alloc(8);
      h.writeUInt16LE(8 + inner.length, 0);
      h[3] = hops;
      h.writeInt32LE(ifindex, 4);
      return Buffer.concat([h, inner]);
    };
    const msg = message(24, rtm, attr(15, u32(70000)), attr(1, Buffer.from([10, 9, 8, 0])),
      attr(9, Buffer.concat([hop(Buffer.from([10, 0, 0, 1]), 2, 0), hop(Buffer.from([10, 0, 0, 2]), 3, 199)])));
    const { kind, route } = decodeRouteMessage(msg, 0);
    expect(kind).toBe('new');
    expect(route).toMatchObject({ family: 4, dst: '10.9.8.0/24', table: 70000, protocol: 'boot', type: 'unicast' });
    expect(route.nexthops).toEqual([{ gateway: '10.0.0.1', dev: 2, weight: 1 }, { gateway: '10.0.0.2', dev: 3, weight: 200 }]);
    const via = Buffer.alloc(18);
    via.writeUInt16LE(10, 0);
    via[2] = 0x20; via[3] = 0x01; via[17] = 9;
    const m2 = message(25, rtm, attr(18, via));
    expect(decodeRouteMessage(m2, 0)).toMatchObject({ kind: 'del', route: { gateway: '2001::9', table: 252 } });
  });

  it('refuses malformed messages with a message naming the problem', () => {
    const rtm = Buffer.from([2, 32, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0]);
    const bad = message(24, rtm, attr(1, Buffer.from([10, 0, 0])) /* a 3-byte IPv4 RTA_DST */);
    expect(() => decodeRouteMessage(bad, 0)).toThrow(/attribute 1 is 3 bytes/);
    const lying = message(24, rtm, attr(15, u32(1)));
    lying.writeUInt16LE(200, 28); // RTA_TABLE claims 200 bytes
    expect(() => decodeRouteMessage(lying, 0)).toThrow(/claims 200 bytes/);
    expect(() => decodeRouteMessage(Buffer.alloc(10), 0)).toThrow(RangeError);
    const mp = Buffer.alloc(8);
    mp.writeUInt16LE(40, 0); // rtnexthop longer than its attribute
    expect(() => decodeRouteMessage(message(24, rtm, attr(9, mp)), 0)).toThrow(/rtnexthop claims 40 bytes/);
  });
});

describe('nexthop codec', () => {
  it('encodes 16-bit group weights as weight-1 split over weight and weight_high', () => {
    const batch = new native.NativeBatch();
    native.nexthopEncode(batch, 0x600, 0, 3, 0, 10, null, 0, false, false, Uint32Array.of(1, 2), Uint32Array.of(1, 300), 1, 64, 1000, -1);
    const b = batch.bytes();
    expect(b.readUInt16LE(4)).toBe(104);
    const a = new Map(attrs(b, 24, b.length));
    expect(a.get(1)!.readUInt32LE(0)).toBe(10); // NHA_ID
    const g = a.get(2)!; // NHA_GROUP: { u32 id; u8 weight; u8 weight_high; u16 resvd2 }
    expect([g.readUInt32LE(0), g[4], g[5], g.readUInt16LE(6)]).toEqual([1, 0, 0, 0]);
    expect([g.readUInt32LE(8), g[12], g[13]]).toEqual([2, 299 & 0xff, 299 >> 8]);
    expect(a.get(3)!.readUInt16LE(0)).toBe(1); // NHA_GROUP_TYPE resilient
    const res = new Map(attrs(a.get(12)!, 0, a.get(12)!.length)); // NHA_RES_GROUP
    expect(res.get(1)!.readUInt16LE(0)).toBe(64);
    expect(res.get(2)!.readUInt32LE(0)).toBe(1000);
    expect(res.has(3)).toBe(false);
  });

  it('decodes weight_high only when the kernel flags it (NHA_OP_FLAG_RESP_GRP_RESVD_0)', () => {
    const group = Buffer.alloc(8);
    group.writeUInt32LE(7, 0);
    group[4] = 43; // (300 - 1) & 0xff
    group[5] = 1; // (300 - 1) >> 8
    const nhm = Buffer.alloc(8);
    const withFlag = message(104, nhm, attr(1, u32(9)), attr(2, group), attr(14, u32(0x80000000)));
    expect(decodeNextHopMessage(withFlag, 0).nexthop.group).toEqual([{ id: 7, weight: 300 }]);
    const without = message(104, nhm, attr(1, u32(9)), attr(2, group));
    expect(decodeNextHopMessage(without, 0).nexthop.group).toEqual([{ id: 7, weight: 44 }]);
    expect(() => decodeNextHopMessage(message(104, nhm, attr(2, Buffer.alloc(6))), 0)).toThrow(/not a whole number of nexthop_grp/);
  });
});

describe('rule codec', () => {
  it('encodes tables above 255, host-order port and uid ranges, and the invert flag', () => {
    const batch = new native.NativeBatch();
    native.ruleEncode(batch, 32, 0x600, 2, 0, 8, 0, 1, 2, 100000, null, v4('10.0.0.0'), 'eth0', '', 100, -1, 0x10, 0xff, -1, -1, false,
      100, 200, -1, 6, 1000, 2000, 443, 443, 46);
    const b = batch.bytes();
    expect([...b.subarray(16, 24)]).toEqual([2, 0, 8, 0, 252, 0, 0, 1]);
    expect(b.readUInt32LE(24)).toBe(2); // FIB_RULE_INVERT
    const a = new Map(attrs(b, 28, b.length));
    expect(a.get(15)!.readUInt32LE(0)).toBe(100000); // FRA_TABLE
    expect(a.get(6)!.readUInt32LE(0)).toBe(100); // FRA_PRIORITY
    expect(a.get(3)!.toString()).toBe('eth0\0'); // FRA_IIFNAME
    expect([a.get(10)!.readUInt32LE(0), a.get(16)!.readUInt32LE(0)]).toEqual([0x10, 0xff]);
    expect([a.get(20)!.readUInt32LE(0), a.get(20)!.readUInt32LE(4)]).toEqual([100, 200]); // FRA_UID_RANGE
    expect([a.get(23)!.readUInt16LE(0), a.get(23)!.readUInt16LE(2)]).toEqual([1000, 2000]); // FRA_SPORT_RANGE
    expect([...a.get(22)!]).toEqual([6]); // FRA_IP_PROTO
    expect([...a.get(25)!]).toEqual([46]); // FRA_DSCP
    expect(a.has(21)).toBe(false); // no FRA_PROTOCOL unless given
  });

  it('decodes a rule, treating suppress_prefixlen -1 as unset', () => {
    const frh = Buffer.from([10, 0, 48, 0, 252, 0, 0, 1, 0, 0, 0, 0]);
    const src = Buffer.alloc(16);
    src[0] = 0x20; src[1] = 0x01; src[2] = 0x0d; src[3] = 0xb8;
    const msg = message(32, frh, attr(15, u32(5000)), attr(6, u32(7)), attr(2, src), attr(14, u32(0xffffffff)), attr(13, u32(3)));
    const { kind, rule } = decodeRuleMessage(msg, 0);
    expect(kind).toBe('new');
    expect(rule).toEqual({ family: 6, priority: 7, tos: 0, action: 'lookup', protocol: 'unspec', from: '2001:db8::/48', table: 5000, suppressIfgroup: 3 });
  });
});
