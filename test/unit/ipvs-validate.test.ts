// IPVS validation without a kernel: messages name the field and the value; conversions to the
// wire (IPv4 mask vs IPv6 prefix, flags, tunnel options) and back; feature evidence.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors.js';
import { destSpec, serviceKey, serviceSpec, daemonOf, timeoutsOf, serviceOf, destinationOf, formatIpv4Mask } from '../../lib/ipvs/validate.js';
import { checkTunnelSupport, featuresFromSeen, IpvsFeatureError } from '../../lib/ipvs/client.js';

function refusal(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return e as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

const V4 = serviceKey({ protocol: 'tcp', address: '10.0.0.1', port: 80 });
const V6 = serviceKey({ protocol: 'tcp', address: '2001:db8::1', port: 80 });

describe('IPVS validation messages name the field and the value', () => {
  it.each([
    ['port 70000', () => serviceKey({ protocol: 'tcp', address: '10.0.0.1', port: 70000 }), 'key.port', 'key.port must be an integer in 0..65535, got 70000'],
    ['port 1.5', () => serviceKey({ protocol: 'tcp', address: '10.0.0.1', port: 1.5 }), 'key.port', 'got 1.5'],
    ['bad protocol', () => serviceKey({ protocol: 'icmp', address: '10.0.0.1', port: 1 }), 'key.protocol', 'got "icmp"'],
    ['bad address', () => serviceKey({ protocol: 'tcp', address: '10.0.0.256', port: 1 }), 'key.address', 'got "10.0.0.256"'],
    ['family mismatch', () => serviceKey({ protocol: 'tcp', address: '10.0.0.1', port: 1, family: 'inet6' }), 'key.family', 'must match the address 10.0.0.1'],
    ['fwmark with a port', () => serviceKey({ fwmark: 5, port: 80 }), 'key.port', 'a fwmark service (fwmark 5) has no port, got 80'],
    ['fwmark 0', () => serviceKey({ fwmark: 0 }), 'key.fwmark', 'got 0'],
    ["scheduler 'foo'", () => serviceSpec({ key: { fwmark: 1 }, scheduler: 'foo' }), 'service.scheduler', 'got "foo"'],
    ['IPv6 netmask 200', () => serviceSpec({ key: { fwmark: 1, family: 'inet6' }, persistence: { timeout: 10, netmask: 200 } }), 'service.persistence.netmask', 'must be an integer in 1..128, got 200'],
    ['IPv4 non-contiguous mask', () => serviceSpec({ key: { fwmark: 1 }, persistence: { timeout: 10, netmask: '255.0.255.0' } }), 'service.persistence.netmask', 'contiguous'],
    ['timeout 0', () => serviceSpec({ key: { fwmark: 1 }, persistence: { timeout: 0 } }), 'service.persistence.timeout', 'got 0'],
    ['unknown flag', () => serviceSpec({ key: { fwmark: 1 }, flags: { fast: true } }), 'service.flags.fast', 'is not a service flag'],
    ['pe name', () => serviceSpec({ key: { fwmark: 1 }, persistenceEngine: 'S I P' }), 'service.persistenceEngine', 'got "S I P"'],
    ['weight -1', () => destSpec({ address: '10.1.0.1', port: 80, weight: -1 }, V4), 'destination.weight', 'destination.weight must be an integer in 0..2147483647, got -1'],
    ['weight 2^31', () => destSpec({ address: '10.1.0.1', port: 80, weight: 2 ** 31 }, V4), 'destination.weight', 'got 2147483648'],
    ['threshold above INT_MAX', () => destSpec({ address: '10.1.0.1', port: 80, upperThreshold: 2 ** 31 }, V4), 'destination.upperThreshold', 'got 2147483648'],
    ['lower > upper', () => destSpec({ address: '10.1.0.1', port: 80, upperThreshold: 5, lowerThreshold: 6 }, V4), 'destination.lowerThreshold', 'must not exceed upperThreshold (5)'],
    ['forward foo', () => destSpec({ address: '10.1.0.1', port: 80, forward: 'nat' }, V4), 'destination.forward', 'got "nat"'],
    ['v6 dest of v4 service without tunnel', () => destSpec({ address: '2001:db8::2', port: 80, forward: 'masq' }, V4), 'destination.forward', "must be 'tunnel' for an IPv6 destination of an IPv4 service"],
    ['tunnel without tunnel forward', () => destSpec({ address: '10.1.0.1', port: 80, tunnel: { type: 'gue', port: 1 } }, V4), 'destination.tunnel', "needs forward 'tunnel'"],
    ['gue without port', () => destSpec({ address: '10.1.0.1', port: 80, forward: 'tunnel', tunnel: { type: 'gue' } }, V4), 'destination.tunnel.port', 'got undefined'],
    ['gre with port', () => destSpec({ address: '10.1.0.1', port: 80, forward: 'tunnel', tunnel: { type: 'gre', port: 5 } }, V4), 'destination.tunnel.port', 'only a gue tunnel has a port'],
    ['ipip checksum', () => destSpec({ address: '10.1.0.1', port: 80, forward: 'tunnel', tunnel: { type: 'ipip', checksum: true } }, V4), 'destination.tunnel.checksum', 'ipip'],
    ['gre remote checksum', () => destSpec({ address: '10.1.0.1', port: 80, forward: 'tunnel', tunnel: { type: 'gre', remoteChecksum: true } }, V4), 'destination.tunnel.remoteChecksum', 'gue tunnels only'],
    ['timeout -1', () => timeoutsOf({ tcp: -1 }), 'timeouts.tcp', 'got -1'],
    ['daemon state', () => daemonOf({ state: 'both', interface: 'eth0' }), 'daemon.state', 'got "both"'],
    ['daemon group not multicast', () => daemonOf({ state: 'master', interface: 'eth0', group: '10.0.0.1' }), 'daemon.group', 'multicast'],
    ['daemon interface too long', () => daemonOf({ state: 'master', interface: 'x'.repeat(16) }), 'daemon.interface', '1..15 bytes'],
  ])('%s', (_name, fn, field, text) => {
    const e = refusal(fn);
    expect(e.field).toBe(field);
    expect(e.message).toContain(text);
  });
});

describe('IPVS conversions', () => {
  it('IPv4 persistence netmask: a dotted mask or a prefix length, as a host-order number', () => {
    expect(serviceSpec({ key: { fwmark: 1 }, persistence: { timeout: 1, netmask: '255.255.255.0' } }).netmask).toBe(0xffffff00);
    expect(serviceSpec({ key: { fwmark: 1 }, persistence: { timeout: 1, netmask: 16 } }).netmask).toBe(0xffff0000);
    expect(serviceSpec({ key: { fwmark: 1 } }).netmask).toBe(0xffffffff);
    expect(formatIpv4Mask(0xffffff00)).toBe('255.255.255.0');
  });

  it('IPv6 persistence netmask: the prefix length; default 128 (the kernel refuses 0)', () => {
    expect(serviceSpec({ key: V6Key(), persistence: { timeout: 1, netmask: 64 } }).netmask).toBe(64);
    expect(serviceSpec({ key: V6Key() }).netmask).toBe(128);
  });

  it('defaults as ipvsadm: wlc, route, weight 1, -p alone is 360 s', () => {
    const s = serviceSpec({ key: { fwmark: 1 }, persistence: {} });
    expect([s.scheduler, s.timeout, s.flags & 1]).toEqual(['wlc', 360, 1]);
    const d = destSpec({ address: '10.1.0.1', port: 80 }, V4);
    expect([d.forward, d.weight, d.tunnelType, d.tunnelFlags]).toEqual([3, 1, -1, -1]);
    const t = destSpec({ address: '10.1.0.1', port: 80, forward: 'tunnel' }, V4);
    expect([t.tunnelType, t.tunnelFlags]).toEqual([0, -1]);
    const g = destSpec({ address: '2001:db8::9', port: 80, forward: 'tunnel', tunnel: { type: 'gue', port: 6080, remoteChecksum: true } }, V4);
    expect([g.af, g.tunnelType, g.tunnelPort, g.tunnelFlags]).toEqual([10, 1, 6080, 2]);
  });

  it('addresses are canonical in keys and labels', () => {
    const k = serviceKey({ protocol: 'udp', address: '2001:DB8:0:0::1', port: 53 });
    expect(k.label).toBe('udp [2001:db8::1]:53');
    expect(k.id).toBe(serviceKey({ protocol: 'udp', address: '2001:db8::1', port: 53 }).id);
  });

  it('kernel values map back to the public model', () => {
    const s = serviceOf({ af: 2, family: 'inet', fwmark: 0, protocol: 17, address: '10.0.0.5', port: 5060, scheduler: 'rr', pe: 'sip', flags: 0x1 | 0x2 | 0x4, timeout: 60, netmask: 0xffffff00, seen: 0 });
    expect(s).toEqual({ key: { protocol: 'udp', address: '10.0.0.5', port: 5060, family: 'inet' }, family: 'inet', scheduler: 'rr', flags: { persistent: true, hashed: true, onePacket: true, schedFallback: false, schedPort: false, sched3: false }, persistence: { timeout: 60, netmask: '255.255.255.0' }, persistenceEngine: 'sip' });
    const d = destinationOf({ af: 10, family: 'inet6', address: '2001:db8::9', port: 80, forward: 2, weight: 5, upperThreshold: 0, lowerThreshold: 0, activeConnections: 1, inactiveConnections: 2, persistentConnections: 3, tunnelType: 1, tunnelPort: 6080, tunnelFlags: 1, seen: 0 });
    expect(d.tunnel).toEqual({ type: 'gue', port: 6080, checksum: true, remoteChecksum: false });
    expect(d.family).toBe('inet6');
  });

  it('feature evidence from the attributes a destination reply carried', () => {
    expect(featuresFromSeen(undefined, undefined)).toEqual({ tunnelTypes: [], tunnelChecksumFlags: false, destinationAddressFamily: false, stats64: false });
    // A 4.x kernel: ADDR_FAMILY and STATS64 but no tunnel attributes: GUE would silently become IPIP.
    expect(featuresFromSeen(0b000011, 0b1)).toEqual({ tunnelTypes: ['ipip'], tunnelChecksumFlags: false, destinationAddressFamily: true, stats64: true });
    // 5.2: TUN_TYPE and TUN_PORT, no TUN_FLAGS (no GRE, no checksums).
    expect(featuresFromSeen(0b001111, 0b1).tunnelTypes).toEqual(['ipip', 'gue']);
    expect(featuresFromSeen(0b011111, 0b1)).toMatchObject({ tunnelTypes: ['ipip', 'gue', 'gre'], tunnelChecksumFlags: true });
  });
});

describe('IPVS tunnel requests a kernel would silently downgrade are refused', () => {
  const k51 = 0b000011 | (1 << 5); // ADDR_FAMILY + STATS64 + STATS: no tunnel attributes (before 5.2)
  const k52 = k51 | 0b001100; // + TUN_TYPE, TUN_PORT (5.2)
  const k53 = k52 | 0b010000; // + TUN_FLAGS (5.3)
  it.each([
    ['gue on 5.1', { gue: true }, k51, /does not support gue tunnels \(IPVS in Linux 5\.2\+\); it would silently ignore it and make the tunnel plain IPIP/],
    ['gre on 5.2', { gre: true }, k52, /does not support gre tunnels \(IPVS in Linux 5\.3\+\)/],
    ['checksum on 5.2', { gue: true, flags: true }, k52, /does not support tunnel checksum flags/],
    ['nothing seen', { gue: true }, undefined, /cannot tell/],
  ])('%s', (_n, needs, seen, re) => {
    let err: unknown;
    try {
      checkTunnelSupport(needs, seen, 'addDestination fwmark 1 -> 10.1.0.1:0 (tunnel)');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IpvsFeatureError);
    expect((err as Error).message).toMatch(re);
    expect((err as Error).message).toContain('addDestination fwmark 1 -> 10.1.0.1:0');
  });
  it('accepts what the kernel supports', () => {
    expect(() => checkTunnelSupport({ gue: true }, k52, 'x')).not.toThrow();
    expect(() => checkTunnelSupport({ gue: true, gre: true, flags: true }, k53, 'x')).not.toThrow();
  });
});

function V6Key() {
  return { fwmark: 1, family: 'inet6' as const };
}
