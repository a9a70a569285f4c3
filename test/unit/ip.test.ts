import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isIP } from 'node:net';
import {
  canonicalAddress,
  canonicalPrefix,
  formatAddress,
  formatMac,
  isNetworkAddress,
  maskAddress,
  parseAddress,
  parseIPv4,
  parseIPv6,
  parseMac,
  parsePrefix,
  prefixContains,
  requireAddress,
  requirePrefix,
} from '../../lib/rtnl/ip.js';
import { ValidationError } from '../../lib/errors.js';
import { ipv4RowWord, ipv4Value } from '../../lib/rtnl/ipv4-fast.js';

describe('IPv4', () => {
  it.each([
    ['0.0.0.0', [0, 0, 0, 0]],
    ['10.0.0.1', [10, 0, 0, 1]],
    ['255.255.255.255', [255, 255, 255, 255]],
  ])('parses %s', (t, b) => {
    expect(Array.from(parseIPv4(t)!)).toEqual(b);
    expect(formatAddress(parseIPv4(t)!)).toBe(t);
  });
  it.each(['256.0.0.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.-1', '', ' 1.2.3.4', '1..2.3', '0x1.2.3.4'])('refuses %j', (t) => {
    expect(parseIPv4(t)).toBeUndefined();
  });
});

describe('IPv6', () => {
  it.each([
    ['::', '::'],
    ['::1', '::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:1:1:1:1:0:1', '2001:db8:1:1:1:1:0:1'],
    ['fe80::0001', 'fe80::1'],
    ['::ffff:10.0.0.1', '::ffff:10.0.0.1'],
    ['::FFFF:a00:1', '::ffff:10.0.0.1'],
    ['1::', '1::'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ])('canonicalizes %s -> %s (RFC 5952)', (input, want) => {
    expect(canonicalAddress(input)).toBe(want);
  });
  it.each(['1:2:3:4:5:6:7:8:9', ':::', '1::2::3', 'fe80::1%eth0', '12345::', 'g::', '1:2:3:4:5:6:7', ':1:2:3:4:5:6:7', '1.2.3.4::'])('refuses %j', (t) => {
    expect(parseIPv6(t)).toBeUndefined();
  });
  it('agrees with node:net on what an address is, and round-trips every 16-byte value', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        const s = formatAddress(b);
        expect(isIP(s)).toBe(6);
        expect(Array.from(parseIPv6(s)!)).toEqual(Array.from(b));
      }),
    );
    fc.assert(
      fc.property(fc.ipV6(), (s) => {
        expect(parseAddress(s)?.family).toBe(6);
      }),
    );
    fc.assert(
      fc.property(fc.ipV4(), (s) => {
        expect(formatAddress(parseAddress(s)!.bytes)).toBe(s);
      }),
    );
  });
});

describe('prefixes', () => {
  it('parses, masks and canonicalizes', () => {
    expect(parsePrefix('10.1.2.3/8')).toMatchObject({ family: 4, prefixLength: 8 });
    expect(parsePrefix('10.1.2.3')?.prefixLength).toBe(32);
    expect(parsePrefix('2001:db8::/32')?.prefixLength).toBe(32);
    expect(parsePrefix('::1')?.prefixLength).toBe(128);
    expect(canonicalPrefix('10.1.2.3/8')).toBe('10.0.0.0/8');
    expect(canonicalPrefix('10.1.2.3/0')).toBe('0.0.0.0/0');
    expect(canonicalPrefix('2001:db8:ffff::1/33')).toBe('2001:db8:8000::/33');
    expect(Array.from(maskAddress(Uint8Array.from([255, 255, 255, 255]), 21))).toEqual([255, 255, 248, 0]);
    expect(isNetworkAddress(parseIPv4('10.0.0.0')!, 8)).toBe(true);
    expect(isNetworkAddress(parseIPv4('10.0.0.1')!, 8)).toBe(false);
    expect(prefixContains(parsePrefix('10.0.0.0/8')!, parseAddress('10.200.0.1')!)).toBe(true);
    expect(prefixContains(parsePrefix('10.0.0.0/8')!, parseAddress('11.0.0.1')!)).toBe(false);
    expect(prefixContains(parsePrefix('10.0.0.0/8')!, parseAddress('::1')!)).toBe(false);
  });
  it.each(['10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/08', '10.0.0.0/-1', 'x/8'])('refuses %j', (t) => {
    expect(parsePrefix(t)).toBeUndefined();
  });
});

describe('validation', () => {
  it('names field and value', () => {
    expect(() => requireAddress('address', '10.0.0.256')).toThrow(ValidationError);
    expect(() => requireAddress('address', '10.0.0.256')).toThrow('address must be an IPv4 or IPv6 address, got "10.0.0.256"');
    expect(() => requireAddress('gateway', '::1', 4)).toThrow('gateway must be an IPv4 address, got "::1"');
    expect(() => requirePrefix('dst', 42)).toThrow('dst must be an address or ADDR/LEN prefix');
    expect(requirePrefix('dst', '10.0.0.0/24').prefixLength).toBe(24);
  });
});

describe('MAC', () => {
  it('round-trips', () => {
    expect(formatMac(parseMac('02:AB:00:00:00:01')!)).toBe('02:ab:00:00:00:01');
    expect(parseMac('02-ab-00-00-00-01')!.length).toBe(6);
    expect(parseMac('02:ab:0:00:00:01')).toBeUndefined();
  });
});

describe('ipv4Value / ipv4RowWord (the bulk encoders\' allocation-free IPv4 path)', () => {
  const quad = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }));
  it('accepts exactly what parseIPv4 accepts, with the same value', () => {
    const near = fc.oneof(
      quad.map((q) => q.join('.')),
      quad.map((q) => q.map((x, i) => (i === 1 ? `0${x}` : String(x))).join('.')), // a leading zero
      fc.stringMatching(/^[0-9.]{0,17}$/),
      fc.string({ maxLength: 16 }),
    );
    fc.assert(
      fc.property(near, (t) => {
        const b = parseIPv4(t);
        const v = ipv4Value(t);
        if (!b) return v === -1;
        return v === ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
      }),
      { numRuns: 20000 },
    );
  });
  it('reads a slice, and the row word is the address bytes in memory order', () => {
    expect(ipv4Value('x10.1.2.3/24', 1, 9)).toBe(0x0a010203);
    expect(ipv4RowWord(0x0a010203)).toBe(0x0302010a);
    expect(ipv4Value('010.1.2.3')).toBe(-1);
    expect(ipv4Value('10.1.2.3.4')).toBe(-1);
  });
});
