// Routes round-trip through the host kernel inside a namespace this file creates, cross-checked
// against `ip -j route`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ip, ipJson, skipUnless, useNetns } from '../helpers/kernel.js';
import { openRoutes, type Routes } from '../../lib/rtnl/route.js';
import { BatchError } from '../../lib/batch.js';
import { NetlinkError, ValidationError } from '../../lib/errors.js';

const skip = skipUnless('netns');

interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  type?: string;
  metric?: number;
  prefsrc?: string;
  flags: string[];
  table?: string;
  via?: { family: string; host: string };
  nexthops?: { gateway?: string; dev: string; weight: number; flags: string[] }[];
}

describe.skipIf(skip)('routes (netns)', () => {
  const ns = useNetns('lvskit-route');
  let routes: Routes;
  let d0 = 0;
  let d1 = 0;
  const show = (...args: string[]) => ipJson<IpRoute[]>(ns.name, 'route', 'show', ...args);
  const show6 = (...args: string[]) => ipJson<IpRoute[]>(ns.name, '-6', 'route', 'show', ...args);

  beforeAll(() => {
    for (const [dev, v4, v6] of [['d0', '10.0.0.1/24', '2001:db8::1/64'], ['d1', '10.1.0.1/24', '2001:db8:1::1/64']] as const) {
      // The host kernel may lack the dummy driver; a veth pair with both ends up works everywhere.
      ip(ns.name, 'link', 'add', dev, 'type', 'veth', 'peer', 'name', `${dev}p`);
      ip(ns.name, 'link', 'set', `${dev}p`, 'up');
      ip(ns.name, 'addr', 'add', v4, 'dev', dev);
      ip(ns.name, '-6', 'addr', 'add', v6, 'dev', dev, 'nodad');
      ip(ns.name, 'link', 'set', dev, 'up');
    }
    const links = ipJson<{ ifname: string; ifindex: number }[]>(ns.name, 'link', 'show');
    d0 = links.find((l) => l.ifname === 'd0')!.ifindex;
    d1 = links.find((l) => l.ifname === 'd1')!.ifindex;
    routes = openRoutes({ netns: ns.name });
  });
  afterAll(() => routes?.close());

  it('adds an IPv4 route via a gateway and lists it as ip shows it', async () => {
    await routes.add({ dst: '10.2.0.0/24', gateway: '10.0.0.254', dev: 'd0', priority: 50 });
    const [r] = show('10.2.0.0/24');
    expect(r).toMatchObject({ dst: '10.2.0.0/24', gateway: '10.0.0.254', dev: 'd0', metric: 50 });
    expect(r!.protocol ?? 'boot').toBe('boot'); // ip -j leaves out the default protocol
    const mine = (await routes.list({ family: 4 })).find((x) => x.dst === '10.2.0.0/24');
    expect(mine).toMatchObject({ family: 4, gateway: '10.0.0.254', dev: d0, priority: 50, table: 254, protocol: 'boot', scope: 'universe', type: 'unicast' });
    const got = await routes.get('10.2.0.0/24');
    expect(got?.gateway).toBe('10.0.0.254');
    await expect(routes.add({ dst: '10.2.0.0/24', gateway: '10.0.0.254', dev: 'd0', priority: 50 })).rejects.toMatchObject({ code: 'EEXIST' });
  });

  it('device routes get link scope; prefsrc, protocol and tos round-trip', async () => {
    await routes.add({ dst: '10.3.0.0/16', dev: d1, prefsrc: '10.1.0.1', protocol: 'zebra', tos: 0x10 });
    const [r] = show('10.3.0.0/16');
    expect(r).toMatchObject({ dev: 'd1', scope: 'link', prefsrc: '10.1.0.1', protocol: 'zebra' });
    const mine = (await routes.list({ family: 4 })).find((x) => x.dst === '10.3.0.0/16');
    expect(mine).toMatchObject({ scope: 'link', prefsrc: '10.1.0.1', protocol: 'zebra', tos: 0x10, dev: d1 });
    await routes.add({ dst: '10.3.1.0/24', dev: 'd1', protocol: 77 });
    expect((await routes.get('10.3.1.0/24'))?.protocol).toBe(77);
  });

  it('tables above 255 travel in RTA_TABLE', async () => {
    await routes.add({ dst: '10.4.0.0/24', gateway: '10.0.0.2', table: 100000 });
    const [r] = show('table', '100000');
    expect(r).toMatchObject({ dst: '10.4.0.0/24', gateway: '10.0.0.2' });
    const mine = await routes.list({ table: 100000 });
    expect(mine.map((x) => x.dst)).toEqual(['10.4.0.0/24']);
    expect(mine[0]!.table).toBe(100000);
    expect((await routes.get('10.4.0.0/24', { table: 100000 }))?.gateway).toBe('10.0.0.2');
    expect(await routes.get('10.4.0.0/24')).toBeUndefined();
    await routes.delete({ dst: '10.4.0.0/24', table: 100000 });
    expect(show('table', '100000')).toEqual([]);
  });

  it('blackhole, unreachable, prohibit and local types (v4 and v6)', async () => {
    await routes.add({ dst: '192.0.2.0/25', type: 'blackhole' });
    await routes.add({ dst: '192.0.2.128/25', type: 'unreachable' });
    await routes.add({ dst: '198.51.100.0/24', type: 'prohibit' });
    await routes.add({ dst: '203.0.113.7', type: 'local', dev: 'd0', table: 'local' });
    await routes.add({ dst: '2001:db8:dead::/48', type: 'blackhole' });
    const v4 = show();
    expect(v4.find((r) => r.dst === '192.0.2.0/25')?.type).toBe('blackhole');
    expect(v4.find((r) => r.dst === '192.0.2.128/25')?.type).toBe('unreachable');
    expect(v4.find((r) => r.dst === '198.51.100.0/24')?.type).toBe('prohibit');
    expect(show('table', 'local').find((r) => r.dst === '203.0.113.7')).toMatchObject({ type: 'local', scope: 'host', dev: 'd0' });
    expect(show6().find((r) => r.dst === '2001:db8:dead::/48')?.type).toBe('blackhole');
    const mine = await routes.list({ table: 'all' });
    const byDst = new Map(mine.map((r) => [`${r.dst} ${r.table}`, r]));
    expect(byDst.get('192.0.2.0/25 254')?.type).toBe('blackhole');
    expect(byDst.get('192.0.2.128/25 254')?.type).toBe('unreachable');
    expect(byDst.get('198.51.100.0/24 254')?.type).toBe('prohibit');
    expect(byDst.get('203.0.113.7/32 255')).toMatchObject({ type: 'local', scope: 'host', dev: d0 });
    expect(byDst.get('2001:db8:dead::/48 254')?.type).toBe('blackhole');
  });

  it('IPv4 multipath with weights 1..256 (wire weight-1 invisible)', async () => {
    await routes.add({ dst: '10.5.0.0/24', nexthops: [{ gateway: '10.0.0.10', dev: 'd0', weight: 1 }, { gateway: '10.1.0.10', dev: 'd1', weight: 256 }, { gateway: '10.0.0.11', weight: 17 }] });
    const [r] = show('10.5.0.0/24');
    expect(r!.nexthops!.map((h) => [h.gateway, h.dev, h.weight])).toEqual([['10.0.0.10', 'd0', 1], ['10.1.0.10', 'd1', 256], ['10.0.0.11', 'd0', 17]]);
    const mine = await routes.get('10.5.0.0/24');
    expect(mine?.nexthops).toEqual([
      { gateway: '10.0.0.10', dev: d0, weight: 1 },
      { gateway: '10.1.0.10', dev: d1, weight: 256 },
      { gateway: '10.0.0.11', dev: d0, weight: 17 },
    ]);
  });

  it('IPv6 multipath: added with RTA_MULTIPATH, appended sibling, listed merged', async () => {
    await routes.add({ dst: '2001:db8:100::/64', nexthops: [{ gateway: '2001:db8::10', dev: 'd0', weight: 3 }, { gateway: '2001:db8:1::10', dev: 'd1', weight: 200 }] });
    await routes.append({ dst: '2001:db8:100::/64', gateway: '2001:db8::11', dev: 'd0' });
    const [r] = show6('2001:db8:100::/64');
    expect(r!.nexthops!.map((h) => [h.gateway, h.dev, h.weight])).toEqual([['2001:db8::10', 'd0', 3], ['2001:db8:1::10', 'd1', 200], ['2001:db8::11', 'd0', 1]]);
    const mine = (await routes.list({ family: 6 })).filter((x) => x.dst === '2001:db8:100::/64');
    expect(mine).toHaveLength(1);
    expect(mine[0]!.nexthops).toEqual([
      { gateway: '2001:db8::10', dev: d0, weight: 3 },
      { gateway: '2001:db8:1::10', dev: d1, weight: 200 },
      { gateway: '2001:db8::11', dev: d0, weight: 1 },
    ]);
    await routes.delete({ dst: '2001:db8:100::/64' });
    expect(show6('2001:db8:100::/64')).toEqual([]);
  });

  it('replace changes the gateway; delete removes; deleting again fails with the kernel code', async () => {
    await routes.replace({ dst: '10.6.0.0/24', gateway: '10.0.0.3' });
    await routes.replace({ dst: '10.6.0.0/24', gateway: '10.1.0.3' });
    expect(show('10.6.0.0/24')).toEqual([expect.objectContaining({ gateway: '10.1.0.3', dev: 'd1' })]);
    await routes.delete({ dst: '10.6.0.0/24' });
    expect(show('10.6.0.0/24')).toEqual([]);
    const e = await routes.delete({ dst: '10.6.0.0/24' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NetlinkError);
    expect((e as NetlinkError).code).toBe('ESRCH');
    expect((e as NetlinkError).op).toContain('deleteRoute 10.6.0.0/24');
  });

  it('onlink gateways and an IPv4 route via an IPv6 gateway (RTA_VIA)', async () => {
    await routes.add({ dst: '10.7.0.0/24', gateway: '192.168.99.1', dev: 'd0', onlink: true });
    expect(show('10.7.0.0/24')[0]).toMatchObject({ gateway: '192.168.99.1', flags: ['onlink'] });
    expect((await routes.get('10.7.0.0/24'))?.onlink).toBe(true);
    await routes.add({ dst: '10.8.0.0/24', gateway: '2001:db8::99', dev: 'd0' });
    expect(show('10.8.0.0/24')[0]?.via).toEqual({ family: 'inet6', host: '2001:db8::99' });
    expect((await routes.get('10.8.0.0/24'))?.gateway).toBe('2001:db8::99');
  });

  it('validates before sending: weights, prefixes, tables, gateway families', async () => {
    const bad: [object, string][] = [
      [{ dst: '10.9.0.0/24', nexthops: [{ gateway: '10.0.0.5', weight: 0 }] }, 'route.nexthops[0].weight'],
      [{ dst: '10.9.0.0/24', nexthops: [{ gateway: '10.0.0.5', weight: 257 }] }, 'route.nexthops[0].weight'],
      [{ dst: '10.9.0.0/33', dev: 'd0' }, 'route.dst'],
      [{ dst: '10.9.0.1/24', dev: 'd0' }, 'route.dst'],
      [{ dst: '10.9.0.0/24', dev: 'd0', table: 2 ** 32 }, 'route.table'],
      [{ dst: '2001:db8:9::/64', gateway: '10.0.0.5' }, 'route.gateway'],
      [{ dst: '10.9.0.0/24', gateway: '10.0.0.5', nhid: 3 }, 'route.nhid'],
      [{ dst: '10.9.0.0/24', dev: 'nosuchdev0' }, 'dev'],
    ];
    for (const [spec, field] of bad) {
      const e = await routes.add(spec as never).catch((x: unknown) => x);
      expect(e, JSON.stringify(spec)).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).field).toBe(field);
    }
    expect(show('10.9.0.0/24')).toEqual([]);
  });

  it('addMany with rollback undoes what it applied and throws BatchError', async () => {
    const batch = [
      { dst: '10.10.0.0/24', dev: 'd0' },
      { dst: '10.10.1.0/24', dev: 'd0' },
      { dst: '10.10.2.0/24', gateway: '10.77.0.1' }, // no route to that gateway: ENETUNREACH
      { dst: '10.10.3.0/24', dev: 'd0' },
    ];
    const e = await routes.addMany(batch, { rollback: true }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BatchError);
    const be = e as BatchError;
    expect(be.report.failed).toEqual([2]);
    expect(be.report.items[2]!.error?.code).toBe('ENETUNREACH');
    expect(be.rollback?.ok).toBe(true);
    expect(show().filter((r) => r.dst.startsWith('10.10.'))).toEqual([]);
    const report = await routes.addMany(batch);
    expect(report.failed).toEqual([2]);
    expect(report.applied).toEqual([0, 1, 3]);
    expect(show().filter((r) => r.dst.startsWith('10.10.')).map((r) => r.dst)).toEqual(['10.10.0.0/24', '10.10.1.0/24', '10.10.3.0/24']);
  });
});
