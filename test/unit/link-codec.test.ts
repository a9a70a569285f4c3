// Link and address codec (native/src/families/link.cc, addr.cc) without a kernel: requests
// encoded byte for byte as include/uapi/linux/{rtnetlink,if_link,if_addr,veth}.h lay them out,
// replies decoded from messages captured from a 6.18 kernel, and malformed input refused cleanly.
import { describe, expect, it } from 'vitest';
import { native } from '../../lib/native.js';
import { toLink } from '../../lib/rtnl/link.js';
import { toAddress } from '../../lib/rtnl/address.js';

// `ip link add cv0 address 02:00:00:00:00:01 type veth peer name cv1 address 02:00:00:00:00:02`
// in a fresh namespace, then RTM_GETLINK cv0 with RTEXT_FILTER_SKIP_STATS.
const LINK_CV0 = Buffer.from(
  '640400001000000001000000cb05000000000100030000000210000000000000080003006376300008000d00e8030000' +
  '05001000020000000500110000000000050043000000000008000400dc050000080032004400000008003300ffff0000' +
  '08001b000000000008001e000000000008003d000000000008001f000200000008002800ffff00000800290000000100' +
  '08003a000000010008003f0000000100080040000000010008003b00f8ff070008003c00ffff00000800420000000000' +
  '08002000020000000500210000000000080023000100000008002f000000000008003000010000000600440000000000' +
  '060045000000000005002700000000000a00010002000000000100000a000200ffffffffffff0000cc00170000000000' +
  '000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000' +
  '000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000' +
  '000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000' +
  '000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000' +
  '000000006400070000000000000000000000000000000000000000000000000000000000000000000000000000000000' +
  '000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000' +
  '00000000000000000c002b00050002000000000010001200090001007665746800000000080005000200000009000600' +
  '6e6f6f7000000000c0011a008c0002008800010000000000000000000000000001000000010000000100000001000000' +
  '000000000100000000000000000000000000000000000000000000000000000000000000000000000000000000000000' +
  '0000000000000000000000000000000000000000000000000000000010270000e8030000000000000000000000000000' +
  '000000000100000030010a00080001000000000014000500ffff000042c30100d8500000e8030000f400020000000000' +
  '40000000dc05000001000000010000000100000001000000ffffffffa00f0000e803000000000000803a090080510100' +
  '0300000058020000100000000000000001000000010000000100000060ea000000000000000000000000000000000000' +
  '000000000000000001000000000000000000000010270000e80300000100000000000000000000000100000000000000' +
  '00000000010000000000000000000000000000000000000080ee36000000000000000000010000000000000000000000' +
  '0000000000000000000000000004000000000000ffff0000ffffffff0100000000000000000000000000000014000700' +
  '00000000000000000000000000000000050008000000000024000e000000000000000000000000000000000000000000' +
  '00000000000000000000000004003e8004004180',
  'hex',
);
// `ip addr add 10.5.0.1/24 dev cv0 label cv0:a`, from an RTM_GETADDR dump.
const ADDR_V4 = Buffer.from(
  '500000001400020002000000cb0500000218800003000000080001000a050001080002000a0500010a0003006376303a' +
  '61000000080008008000000014000600ffffffffffffffff44c3010044c30100',
  'hex',
);
// `ip addr add 2001:db8::5/64 dev cv0 nodad noprefixroute valid_lft 600 preferred_lft 300`.
const ADDR_V6 = Buffer.from(
  '480000001400020002000000cb0500000a400200030000001400010020010db800000000000000000000000514000600' +
  '2c0100005802000045c3010045c301000800080002020000',
  'hex',
);

interface Tlv {
  type: number;
  nested: boolean;
  value: Buffer;
}
/** Walks netlink attributes the way the kernel's nla_for_each_attr does. */
function attrs(b: Buffer): Tlv[] {
  const out: Tlv[] = [];
  let off = 0;
  while (off + 4 <= b.length) {
    const len = b.readUInt16LE(off);
    const type = b.readUInt16LE(off + 2);
    out.push({ type: type & 0x3fff, nested: (type & 0x8000) !== 0, value: b.subarray(off + 4, off + len) });
    off += (len + 3) & ~3;
  }
  return out;
}
function one(b: Buffer): { type: number; flags: number; body: Buffer } {
  expect(b.readUInt32LE(0)).toBe(b.length);
  return { type: b.readUInt16LE(4), flags: b.readUInt16LE(6), body: b.subarray(16) };
}
const cstr = (s: string) => Buffer.from(s + '\0');
const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};

describe('link requests', () => {
  it('ip link set dev #5 up mtu 1400: RTM_NEWLINK, ifi_change selects IFF_UP, IFLA_MTU host order', () => {
    const b = new native.NativeBatch();
    native.linkEncodeSet(b, 5, '', 1, 1, 1400, null, null, -1, -1, -1, -1);
    const m = one(b.bytes());
    expect(m.type).toBe(16);
    expect(m.flags).toBe(1); // NLM_F_REQUEST, no CREATE: changes an existing link only
    // struct ifinfomsg { u8 family, pad; u16 type; s32 index; u32 flags; u32 change; }
    expect(m.body.subarray(0, 16)).toEqual(Buffer.from([0, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]));
    expect(attrs(m.body.subarray(16))).toEqual([{ type: 4 /* IFLA_MTU */, nested: false, value: u32(1400) }]);
  });

  it('by name: IFLA_IFNAME is the key; a move carries IFLA_NET_NS_FD', () => {
    const b = new native.NativeBatch();
    native.linkEncodeSet(b, 0, 'eth0', 0, 0, -1, null, Buffer.from([2, 0, 0, 0, 0, 9]), 100, 0, 7, -1);
    const m = one(b.bytes());
    expect(m.body.readInt32LE(4)).toBe(0);
    expect(attrs(m.body.subarray(16))).toEqual([
      { type: 3 /* IFLA_IFNAME */, nested: false, value: cstr('eth0') },
      { type: 1 /* IFLA_ADDRESS */, nested: false, value: Buffer.from([2, 0, 0, 0, 0, 9]) },
      { type: 13 /* IFLA_TXQLEN */, nested: false, value: u32(100) },
      { type: 10 /* IFLA_MASTER */, nested: false, value: u32(0) },
      { type: 28 /* IFLA_NET_NS_FD */, nested: false, value: u32(7) },
    ]);
  });

  it('a rename by index puts the new name in IFLA_IFNAME', () => {
    const b = new native.NativeBatch();
    native.linkEncodeSet(b, 9, '', 0, 0, -1, 'new0', null, -1, -1, -1, -1);
    expect(attrs(one(b.bytes()).body.subarray(16))).toEqual([{ type: 3, nested: false, value: cstr('new0') }]);
  });

  it('veth: IFLA_LINKINFO { KIND "veth", DATA { VETH_INFO_PEER { ifinfomsg, IFLA_IFNAME, IFLA_NET_NS_FD } } }', () => {
    const b = new native.NativeBatch();
    native.linkEncodeCreate(b, 'a0', 'veth', 1, 1500, null, -1, 'b0', null, 11);
    const m = one(b.bytes());
    expect(m.flags).toBe(0x1 | 0x400 | 0x200); // REQUEST | CREATE | EXCL
    expect(m.body.readUInt32LE(8)).toBe(1); // ifi_flags IFF_UP
    expect(m.body.readUInt32LE(12)).toBe(1); // ifi_change IFF_UP
    const top = attrs(m.body.subarray(16));
    expect(top.map((a) => a.type)).toEqual([3, 4, 18]);
    const info = attrs(top[2]!.value);
    expect(info[0]).toEqual({ type: 1 /* IFLA_INFO_KIND */, nested: false, value: cstr('veth') });
    const data = attrs(info[1]!.value);
    expect(info[1]!.type).toBe(2); // IFLA_INFO_DATA
    expect(data[0]!.type).toBe(1); // VETH_INFO_PEER
    const peer = data[0]!.value;
    expect(peer.subarray(0, 16)).toEqual(Buffer.alloc(16));
    expect(attrs(peer.subarray(16))).toEqual([
      { type: 3, nested: false, value: cstr('b0') },
      { type: 4, nested: false, value: u32(1500) },
      { type: 28, nested: false, value: u32(11) },
    ]);
  });

  it('dummy: no IFLA_INFO_DATA; delete and get by name', () => {
    const b = new native.NativeBatch();
    native.linkEncodeCreate(b, 'd0', 'dummy', 0, -1, null, -1, null, null, -1);
    native.linkEncodeDelete(b, 0, 'd0');
    native.linkEncodeGet(b, 3, '', true);
    native.linkEncodeDump(b, false);
    expect(b.count).toBe(4);
    const bytes = b.bytes();
    const msgs: Buffer[] = [];
    for (let off = 0; off < bytes.length; ) {
      const len = bytes.readUInt32LE(off);
      msgs.push(bytes.subarray(off, off + len));
      off += (len + 3) & ~3;
    }
    const info = attrs(attrs(one(msgs[0]!).body.subarray(16))[1]!.value);
    expect(info).toEqual([{ type: 1, nested: false, value: cstr('dummy') }]);
    expect(one(msgs[1]!).type).toBe(17);
    expect(attrs(one(msgs[1]!).body.subarray(16))).toEqual([{ type: 3, nested: false, value: cstr('d0') }]);
    const get = one(msgs[2]!);
    expect([get.type, get.body.readInt32LE(4)]).toEqual([18, 3]);
    expect(attrs(get.body.subarray(16))).toEqual([{ type: 29 /* IFLA_EXT_MASK */, nested: false, value: u32(8) }]);
    expect(one(msgs[3]!).flags).toBe(0x301); // REQUEST | DUMP
  });
});

describe('address requests', () => {
  it('ip addr add 10.0.0.1/24 dev #4 noprefixroute valid_lft 60: IFA_LOCAL, IFA_ADDRESS, IFA_FLAGS, IFA_CACHEINFO', () => {
    const b = new native.NativeBatch();
    native.addrEncode(b, 0, 2, 24, 0x200, 0, 4, Buffer.from([10, 0, 0, 1]), null, null, 'eth0:x', 60, -1, 5, -1);
    const m = one(b.bytes());
    expect([m.type, m.flags]).toEqual([20, 0x601]);
    // struct ifaddrmsg { u8 family, prefixlen, flags, scope; u32 index; }: bits above 0xff only in IFA_FLAGS.
    expect(m.body.subarray(0, 8)).toEqual(Buffer.from([2, 24, 0, 0, 4, 0, 0, 0]));
    const ci = Buffer.alloc(16);
    ci.writeUInt32LE(60, 0); // ifa_prefered defaults to ifa_valid
    ci.writeUInt32LE(60, 4);
    expect(attrs(m.body.subarray(8))).toEqual([
      { type: 2, nested: false, value: Buffer.from([10, 0, 0, 1]) },
      { type: 1, nested: false, value: Buffer.from([10, 0, 0, 1]) },
      { type: 3 /* IFA_LABEL */, nested: false, value: cstr('eth0:x') },
      { type: 8 /* IFA_FLAGS */, nested: false, value: u32(0x200) },
      { type: 6 /* IFA_CACHEINFO */, nested: false, value: ci },
      { type: 9 /* IFA_RT_PRIORITY */, nested: false, value: u32(5) },
    ]);
  });

  it('replace sets NLM_F_REPLACE; delete sends IFA_LOCAL only (as iproute2)', () => {
    const b = new native.NativeBatch();
    const a6 = Buffer.from('20010db8000000000000000000000001', 'hex');
    native.addrEncode(b, 1, 10, 64, 0x2, 0, 4, a6, null, null, null, -1, -1, -1, -1);
    const bytes = b.bytes();
    const rep = one(bytes);
    expect(rep.flags).toBe(0x501);
    expect(rep.body[2]).toBe(2); // IFA_F_NODAD fits ifa_flags too
    b.clear();
    native.addrEncode(b, 2, 10, 64, 0, 0, 4, a6, null, null, null, -1, -1, -1, -1);
    const del = one(b.bytes());
    expect([del.type, del.flags]).toEqual([21, 1]);
    expect(attrs(del.body.subarray(8))).toEqual([{ type: 2, nested: false, value: a6 }]);
  });
});

describe('decoding kernel messages', () => {
  it('decodes a veth link as the kernel sent it', () => {
    const n = native.linkDecode(LINK_CV0, 0);
    const l = toLink(n, false);
    expect(l).toMatchObject({ name: 'cv0', kind: 'veth', mtu: 1500, address: '02:00:00:00:00:01', broadcast: 'ff:ff:ff:ff:ff:ff', type: 1, up: false, operstate: 'down' });
    expect(l.flags).toEqual(['broadcast', 'multicast']);
    expect(l.parentIndex).toBeTypeOf('number');
    expect(l.stats).toBeUndefined();
    expect(n.stats).toBeDefined(); // the kernel sends IFLA_STATS64 even with RTEXT_FILTER_SKIP_STATS
  });

  it('decodes IPv4 and IPv6 addresses with label, flags and lifetimes', () => {
    const v4 = toAddress(native.addrDecode(ADDR_V4, 0));
    expect(v4).toMatchObject({ family: 4, address: '10.5.0.1', prefixLength: 24, label: 'cv0:a', broadcast: undefined, scope: 'global', validLifetime: 'forever', peer: undefined });
    expect(v4.flags).toEqual(['permanent']);
    const v6 = toAddress(native.addrDecode(ADDR_V6, 0));
    expect(v6).toMatchObject({ family: 6, address: '2001:db8::5', prefixLength: 64, scope: 'global' });
    expect(v6.flags).toEqual(['nodad', 'noprefixroute']);
    expect(v6.validLifetime as number).toBeLessThanOrEqual(600);
    expect(v6.preferredLifetime as number).toBeLessThanOrEqual(300);
  });

  it('decodes at an offset inside a larger buffer', () => {
    const buf = Buffer.concat([ADDR_V4, LINK_CV0]);
    expect(native.linkDecode(buf, ADDR_V4.length).name).toBe('cv0');
  });

  it.each([
    ['an empty buffer', Buffer.alloc(0), 0],
    ['a header only', LINK_CV0.subarray(0, 16), 0],
    ['a truncated message', LINK_CV0.subarray(0, 200), 0],
    ['an address message', ADDR_V4, 0],
  ])('refuses %s as a link with an Error, never a crash', (_what, buf, off) => {
    expect(() => native.linkDecode(buf, off)).toThrow(/linkDecode: /);
  });

  it('refuses bad arguments and lying attribute lengths', () => {
    expect(() => native.linkDecode(LINK_CV0, LINK_CV0.length + 1)).toThrow(RangeError);
    expect(() => native.addrDecode(LINK_CV0, 0)).toThrow(/not an address message/);
    expect(() => (native.linkDecode as (a: unknown, b: unknown) => unknown)('x', 0)).toThrow(TypeError);
    const bad = Buffer.from(ADDR_V4);
    bad.writeUInt16LE(0xff, 24); // first attribute claims 255 bytes
    expect(() => native.addrDecode(bad, 0)).toThrow(/addrDecode: /);
    const short = Buffer.from(ADDR_V4);
    // IFA_LOCAL (at 24) shrunk to 2 bytes: not an IPv4 address.
    short.writeUInt16LE(6, 24);
    expect(() => native.addrDecode(short, 0)).toThrow(/addrDecode: /);
    expect(() => native.addrEncode(new native.NativeBatch(), 3 as never, 2, 24, 0, 0, 1, Buffer.alloc(4), null, null, null, -1, -1, -1, -1)).toThrow(RangeError);
    expect(() => (native.linkEncodeGet as (...a: unknown[]) => void)({}, 1, '', true)).toThrow(/must be a NativeBatch/);
  });
});
