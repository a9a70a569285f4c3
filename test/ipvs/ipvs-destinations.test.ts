// Destinations round-trip through the kernel: every forwarding method, tunnels (ipip, gue with its
// port, gre, checksum flags), IPv6 real servers behind an IPv4 service, the full weight range,
// thresholds, partial edits; cross-checked against `ipvsadm -Sn` and `ipvsadm -Ln` views.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ipvs, NetlinkError, ValidationError, type Destination, type ServiceKey } from '../../lib/index.js';
import { skipUnless, useNetns } from '../helpers/kernel.js';
import { ipvsadm, savedRules } from './ipvs-helpers.js';

const skip = skipUnless('ipvs');

const V4: ServiceKey = { protocol: 'tcp', address: '10.0.0.1', port: 80 };
const V6: ServiceKey = { protocol: 'tcp', address: '2001:db8::1', port: 80 };
const FW: ServiceKey = { fwmark: 1 };

describe.skipIf(skip)('IPVS destinations in the kernel', () => {
  const ns = useNetns('lvs-dest');
  let ipvs: Ipvs;
  beforeAll(async () => {
    ipvs = Ipvs.open({ netns: ns.name });
    await ipvs.addService({ key: V4, scheduler: 'wrr' });
    await ipvs.addService({ key: V6, scheduler: 'wrr' });
    await ipvs.addService({ key: FW, scheduler: 'lc' });
  });
  afterAll(() => ipvs?.close());

  const find = (ds: Destination[], address: string, port: number) => ds.find((d) => d.address === address && d.port === port);

  it('every forwarding method, the full weight range and thresholds round-trip (no 16-bit weights)', async () => {
    await ipvs.addDestination(V4, { address: '10.1.0.1', port: 80, forward: 'route', weight: 0 });
    await ipvs.addDestination(V4, { address: '10.1.0.2', port: 8080, forward: 'masq', weight: 2147483647, upperThreshold: 2147483647, lowerThreshold: 10 });
    await ipvs.addDestination(V4, { address: '10.1.0.3', port: 80, forward: 'tunnel', weight: 65536 });
    await ipvs.addDestination(V4, { address: '10.1.0.4', port: 80, forward: 'local', weight: 5 });
    await ipvs.addDestination(V4, { address: '10.1.0.5', port: 80, forward: 'bypass', weight: 6 });
    await ipvs.addDestination(V4, { address: '10.1.0.6', port: 80 }); // defaults: route, weight 1
    const ds = await ipvs.listDestinations(V4);
    expect(ds).toHaveLength(6);
    // Newest first: the kernel adds at the head of the list.
    expect(ds.map((d) => d.address)).toEqual(['10.1.0.6', '10.1.0.5', '10.1.0.4', '10.1.0.3', '10.1.0.2', '10.1.0.1']);
    expect(find(ds, '10.1.0.1', 80)).toMatchObject({ forward: 'route', weight: 0, upperThreshold: 0, lowerThreshold: 0, family: 'inet' });
    expect(find(ds, '10.1.0.2', 8080)).toMatchObject({ forward: 'masq', weight: 2147483647, upperThreshold: 2147483647, lowerThreshold: 10 });
    expect(find(ds, '10.1.0.3', 80)).toMatchObject({ forward: 'tunnel', weight: 65536, tunnel: { type: 'ipip' } });
    expect(find(ds, '10.1.0.4', 80)).toMatchObject({ forward: 'local', weight: 5 });
    expect(find(ds, '10.1.0.5', 80)).toMatchObject({ forward: 'bypass', weight: 6 });
    expect(find(ds, '10.1.0.6', 80)).toMatchObject({ forward: 'route', weight: 1 });
    for (const d of ds) expect([d.activeConnections, d.inactiveConnections, d.persistentConnections]).toEqual([0, 0, 0]);
    const lines = savedRules(ns.name);
    expect(lines).toContain('-a -t 10.0.0.1:80 -r 10.1.0.2:8080 -m -w 2147483647');
    expect(lines).toContain('-a -t 10.0.0.1:80 -r 10.1.0.3:80 -i -w 65536 --tun-type ipip');
    expect(lines).toContain('-a -t 10.0.0.1:80 -r 10.1.0.1:80 -g -w 0');
    // ipvsadm -S drops thresholds; its -L --thresholds view shows what lvskit read.
    const th = ipvsadm(ns.name, '-Ln', '--thresholds', '-t', '10.0.0.1:80');
    expect(th).toMatch(/10\.1\.0\.2:8080\s+2147483647\s+10\s/);
    // Thresholds are u32 on the wire but the kernel refuses more than INT_MAX (EINVAL): refused up front.
    await expect(ipvs.addDestination(V4, { address: '10.1.0.7', port: 80, upperThreshold: 2147483648 })).rejects.toThrow(/upperThreshold must be an integer in 0\.\.2147483647, got 2147483648/);
  });

  it('tunnels: gue with its port in network order, gre, checksum flags, IPv6 real servers behind IPv4 and the reverse', async () => {
    await ipvs.addDestination(FW, { address: '10.1.0.11', port: 0, forward: 'tunnel', tunnel: { type: 'gue', port: 5555, checksum: true } });
    await ipvs.addDestination(FW, { address: '10.1.0.12', port: 0, forward: 'tunnel', tunnel: { type: 'gre', checksum: true } });
    await ipvs.addDestination(FW, { address: '10.1.0.13', port: 0, forward: 'tunnel', tunnel: { type: 'gue', port: 5556 } });
    await ipvs.addDestination(FW, { address: '10.1.0.14', port: 0, forward: 'tunnel', tunnel: { type: 'gue', port: 6080, remoteChecksum: true } });
    await ipvs.addDestination(V4, { address: '2001:db8:1::9', port: 80, forward: 'tunnel', tunnel: { type: 'gue', port: 6080 } });
    await ipvs.addDestination(V6, { address: '10.1.0.9', port: 80, forward: 'tunnel', tunnel: { type: 'gre' } });
    await ipvs.addDestination(V6, { address: '2001:db8:1::10', port: 80, forward: 'route', weight: 3 });
    const fw = await ipvs.listDestinations(FW);
    expect(find(fw, '10.1.0.11', 0)!.tunnel).toEqual({ type: 'gue', port: 5555, checksum: true, remoteChecksum: false });
    expect(find(fw, '10.1.0.12', 0)!.tunnel).toEqual({ type: 'gre', checksum: true, remoteChecksum: false });
    expect(find(fw, '10.1.0.13', 0)!.tunnel).toEqual({ type: 'gue', port: 5556, checksum: false, remoteChecksum: false });
    expect(find(fw, '10.1.0.14', 0)!.tunnel).toEqual({ type: 'gue', port: 6080, checksum: false, remoteChecksum: true });
    expect(find(await ipvs.listDestinations(V4), '2001:db8:1::9', 80)).toMatchObject({ family: 'inet6', forward: 'tunnel', tunnel: { type: 'gue', port: 6080 } });
    const v6 = await ipvs.listDestinations(V6);
    expect(find(v6, '10.1.0.9', 80)).toMatchObject({ family: 'inet', tunnel: { type: 'gre' } });
    expect(find(v6, '2001:db8:1::10', 80)).toMatchObject({ family: 'inet6', forward: 'route', weight: 3 });
    const lines = savedRules(ns.name);
    expect(lines).toContain('-a -f 1 -r 10.1.0.11:0 -i -w 1 --tun-type gue --tun-port 5555 --tun-csum');
    expect(lines).toContain('-a -f 1 -r 10.1.0.12:0 -i -w 1 --tun-type gre --tun-csum');
    expect(lines).toContain('-a -f 1 -r 10.1.0.13:0 -i -w 1 --tun-type gue --tun-port 5556 --tun-nocsum');
    expect(lines).toContain('-a -f 1 -r 10.1.0.14:0 -i -w 1 --tun-type gue --tun-port 6080 --tun-remcsum');
    expect(lines).toContain('-a -t 10.0.0.1:80 -r [2001:db8:1::9]:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum');
    expect(lines).toContain('-a -t [2001:db8::1]:80 -r 10.1.0.9:80 -i -w 1 --tun-type gre --tun-nocsum');
    // The tunnel-info view: the port the kernel holds is 6080, not 0xc017 (host order sent as network).
    expect(ipvsadm(ns.name, '-Ln', '--tun-info', '-t', '10.0.0.1:80')).toMatch(/\[2001:db8:1::9\]:80\s+Tunnel\s+gue:6080/);
  });

  it('editDestination changes only the named field (ipvsadm -e would reset thresholds and the tunnel)', async () => {
    await ipvs.editDestination(V4, { address: '10.1.0.2', port: 8080 }, { weight: 7 });
    let d = find(await ipvs.listDestinations(V4), '10.1.0.2', 8080)!;
    expect(d).toMatchObject({ forward: 'masq', weight: 7, upperThreshold: 2147483647, lowerThreshold: 10 });
    await ipvs.editDestination(FW, { address: '10.1.0.11', port: 0 }, { weight: 0 });
    d = find(await ipvs.listDestinations(FW), '10.1.0.11', 0)!;
    expect(d).toMatchObject({ weight: 0, tunnel: { type: 'gue', port: 5555, checksum: true } });
    await ipvs.editDestination(FW, { address: '10.1.0.11', port: 0 }, { tunnel: { type: 'gre' } });
    d = find(await ipvs.listDestinations(FW), '10.1.0.11', 0)!;
    expect(d).toMatchObject({ weight: 0, tunnel: { type: 'gre', checksum: false } });
    await ipvs.editDestination(V4, { address: '10.1.0.2', port: 8080 }, { lowerThreshold: 0, upperThreshold: 0 });
    d = find(await ipvs.listDestinations(V4), '10.1.0.2', 8080)!;
    expect(d).toMatchObject({ weight: 7, upperThreshold: 0, lowerThreshold: 0 });
    // Editing does not move it in the list (sh/mh depend on that order).
    expect((await ipvs.listDestinations(V4)).map((x) => x.address)).toEqual(['2001:db8:1::9', '10.1.0.6', '10.1.0.5', '10.1.0.4', '10.1.0.3', '10.1.0.2', '10.1.0.1']);
    // The contrast: ipvsadm -e with only a weight drops the thresholds.
    ipvsadm(ns.name, '-e', '-t', '10.0.0.1:80', '-r', '10.1.0.6:80', '-x', '9', '-y', '3', '-w', '1');
    ipvsadm(ns.name, '-e', '-t', '10.0.0.1:80', '-r', '10.1.0.6:80', '-w', '2');
    expect(find(await ipvs.listDestinations(V4), '10.1.0.6', 80)).toMatchObject({ weight: 2, upperThreshold: 0, lowerThreshold: 0 });
  });

  it('errors name the object: EEXIST, ENOENT, ESRCH; bad input is refused before sending', async () => {
    const dup = (await ipvs.addDestination(V4, { address: '10.1.0.1', port: 80 }).catch((e: unknown) => e)) as NetlinkError;
    expect(dup.code).toBe('EEXIST');
    expect(dup.message).toContain('tcp 10.0.0.1:80 -> 10.1.0.1:80');
    const gone = (await ipvs.deleteDestination(V4, { address: '10.1.9.9', port: 80 }).catch((e: unknown) => e)) as NetlinkError;
    expect(gone.code).toBe('ENOENT');
    const noSvc: ServiceKey = { protocol: 'udp', address: '10.0.0.1', port: 80 };
    for (const p of [ipvs.addDestination(noSvc, { address: '10.1.0.1', port: 80 }), ipvs.listDestinations(noSvc), ipvs.editDestination(noSvc, { address: '10.1.0.1', port: 80 }, { weight: 1 })]) {
      const e = (await p.catch((x: unknown) => x)) as NetlinkError;
      expect(e.code).toBe('ESRCH');
      expect(e.message).toContain('udp 10.0.0.1:80');
    }
    await expect(ipvs.addDestination(V4, { address: '10.1.0.50', port: 80, weight: -1 })).rejects.toThrow(/weight must be an integer in 0\.\.2147483647, got -1/);
    await expect(ipvs.addDestination(V4, { address: '10.1.0.50', port: 80, upperThreshold: 5, lowerThreshold: 6 })).rejects.toThrow(ValidationError);
    await expect(ipvs.addDestination(V4, { address: '2001:db8::50', port: 80, forward: 'masq' })).rejects.toThrow(/must be 'tunnel'/);
    expect((await ipvs.listDestinations(V4)).some((d) => d.address === '10.1.0.50')).toBe(false);
  });

  it('deleteDestination removes exactly one', async () => {
    const before = (await ipvs.listDestinations(FW)).length;
    await ipvs.deleteDestination(FW, { address: '10.1.0.12', port: 0 });
    const after = await ipvs.listDestinations(FW);
    expect(after).toHaveLength(before - 1);
    expect(find(after, '10.1.0.12', 0)).toBeUndefined();
    expect(savedRules(ns.name).some((l) => l.includes('10.1.0.12'))).toBe(false);
  });
});
