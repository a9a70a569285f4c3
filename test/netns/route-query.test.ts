// Route queries ("which path does this flow take") against the host kernel in a namespace this
// file creates: every answer is compared with `ip -j route get` for the same flow.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { ip, ipJson, skipUnless, useNetns } from '../helpers/kernel.js';
import { openRoutes, type Routes } from '../../lib/rtnl/route.js';
import { NetlinkError } from '../../lib/errors.js';

const skip = skipUnless('netns');

interface IpGet {
  dst: string;
  gateway?: string;
  dev: string;
  prefsrc?: string;
  iif?: string;
  uid?: number;
}

describe.skipIf(skip)('route queries (netns)', () => {
  const ns = useNetns('lvskit-rquery');
  let routes: Routes;
  const idx = new Map<string, number>();
  const sysctl = (kv: string) => execFileSync('ip', ['netns', 'exec', ns.name, 'sysctl', '-qw', kv], { stdio: 'pipe' });
  const ipGet = (...args: string[]) => ipJson<IpGet[]>(ns.name, 'route', 'get', ...args)[0]!;

  beforeAll(async () => {
    for (const [dev, v4, v6] of [['d0', '10.0.0.1/24', '2001:db8::1/64'], ['d1', '10.1.0.1/24', '2001:db8:1::1/64'], ['d2', '10.2.0.1/24', '2001:db8:2::1/64']] as const) {
      ip(ns.name, 'link', 'add', dev, 'type', 'veth', 'peer', 'name', `${dev}p`);
      ip(ns.name, 'link', 'set', `${dev}p`, 'up');
      ip(ns.name, 'addr', 'add', v4, 'dev', dev);
      ip(ns.name, '-6', 'addr', 'add', v6, 'dev', dev, 'nodad');
      ip(ns.name, 'link', 'set', dev, 'up');
    }
    for (const l of ipJson<{ ifname: string; ifindex: number }[]>(ns.name, 'link', 'show')) idx.set(l.ifname, l.ifindex);
    sysctl('net.ipv4.fib_multipath_hash_policy=1');
    sysctl('net.ipv6.fib_multipath_hash_policy=1');
    sysctl('net.ipv4.ip_forward=1');
    routes = openRoutes({ netns: ns.name });
    await routes.add({ dst: '198.18.0.0/24', nexthops: [{ gateway: '10.0.0.10', dev: 'd0', weight: 1 }, { gateway: '10.1.0.10', dev: 'd1', weight: 3 }] });
    await routes.add({ dst: '2001:db8:ff::/64', nexthops: [{ gateway: '2001:db8::10', dev: 'd0' }, { gateway: '2001:db8:1::10', dev: 'd1' }] });
    await routes.add({ dst: '198.19.1.0/24', type: 'unreachable' });
    await routes.add({ dst: '198.19.2.0/24', type: 'prohibit' });
    await routes.add({ dst: '198.19.3.0/24', type: 'blackhole' });
  });
  afterAll(() => routes?.close());

  it('IPv4 multipath: the kernel choice per flow equals ip route get, and both paths are used', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 48; i++) {
      const sport = 1024 + i * 997;
      // No source address: with one, recent kernels prefer the path whose device owns it.
      const c = await routes.query({ dst: '198.18.0.5', ipProto: 'tcp', sport, dport: 443 });
      const ref = ipGet('198.18.0.5', 'ipproto', 'tcp', 'sport', String(sport), 'dport', '443');
      expect(c.gateway, `sport ${sport}`).toBe(ref.gateway);
      expect(c.dev).toBe(idx.get(ref.dev));
      expect(c).toMatchObject({ family: 4, dst: '198.18.0.5/32', type: 'unicast', table: 254 });
      seen.add(c.gateway!);
    }
    expect(seen).toEqual(new Set(['10.0.0.10', '10.1.0.10']));
  });

  it('IPv6 multipath: siblings chosen per flow as ip -6 route get says', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 48; i++) {
      const dport = 2000 + i * 131;
      const c = await routes.query({ dst: '2001:db8:ff::7', src: '2001:db8::1', ipProto: 'udp', sport: 5353, dport });
      const ref = ipJson<IpGet[]>(ns.name, '-6', 'route', 'get', '2001:db8:ff::7', 'from', '2001:db8::1', 'ipproto', 'udp', 'sport', '5353', 'dport', String(dport))[0]!;
      expect(c.gateway, `dport ${dport}`).toBe(ref.gateway);
      expect(c.dev).toBe(idx.get(ref.dev));
      seen.add(c.gateway!);
    }
    expect(seen.size).toBe(2);
  });

  it('input-path queries (iif) as a forwarded packet, with the uid echoed', async () => {
    const c = await routes.query({ dst: '198.18.0.9', src: '10.2.0.50', iif: 'd2', ipProto: 'tcp', sport: 40000, dport: 80 });
    const ref = ipGet('198.18.0.9', 'from', '10.2.0.50', 'iif', 'd2', 'ipproto', 'tcp', 'sport', '40000', 'dport', '80');
    expect(c.gateway).toBe(ref.gateway);
    expect(c.iif).toBe(idx.get('d2'));
    const u = await routes.query({ dst: '10.1.0.77', uid: 4242 });
    expect(u).toMatchObject({ uid: 4242, dev: idx.get('d1') });
    expect(ipGet('10.1.0.77', 'uid', '4242').uid).toBe(4242);
  });

  it('fibMatch returns the whole matching route with every weighted path', async () => {
    const r = await routes.queryFibMatch({ dst: '198.18.0.5' });
    expect(r.dst).toBe('198.18.0.0/24');
    expect(r.nexthops?.map((h) => [h.gateway, h.weight])).toEqual([['10.0.0.10', 1], ['10.1.0.10', 3]]);
  });

  it('reject routes answer with the kernel error (unreachable, prohibit, blackhole)', async () => {
    const codeOf = async (dst: string) => ((await routes.query({ dst }).catch((e: unknown) => e)) as NetlinkError).code;
    expect(await codeOf('198.19.1.1')).toBe('EHOSTUNREACH');
    expect(await codeOf('198.19.2.1')).toBe('EACCES');
    expect(await codeOf('198.19.3.1')).toBe('EINVAL');
    const e = await routes.query({ dst: '198.19.1.1' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NetlinkError);
    // The same flows through ip fail the same way.
    expect(() => ip(ns.name, 'route', 'get', '198.19.1.1')).toThrow(/No route to host/);
    expect(() => ip(ns.name, 'route', 'get', '198.19.2.1')).toThrow(/Permission denied/);
  });

  it('refuses ports without a protocol and a source of the other family', async () => {
    await expect(routes.query({ dst: '198.18.0.5', sport: 1 })).rejects.toMatchObject({ field: 'ipProto' });
    await expect(routes.query({ dst: '198.18.0.5', src: '2001:db8::1' })).rejects.toMatchObject({ field: 'src' });
    await expect(routes.query({ dst: '198.18.0.5', ipProto: 'tcp', dport: 65536 })).rejects.toMatchObject({ field: 'dport' });
  });
});
