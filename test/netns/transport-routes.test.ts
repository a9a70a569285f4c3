// Transport behaviour that needs a real family (issue #2), through the routes API: a batch of
// 10,000 adds with one bad item in the middle, and a dump of 100,000 routes. Inside a namespace
// this file creates. Durations are logged for the record, never asserted (speed lives in bench/).
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ip, ipJson, skipUnless, useNetns } from '../helpers/kernel.js';
import { openRoutes, type Routes } from '../../lib/rtnl/route.js';
import type { RouteSpec } from '../../lib/rtnl/route-types.js';

const skip = skipUnless('netns');

const hostRoute = (i: number, table: number): RouteSpec => ({
  dst: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`,
  dev: 'd0',
  table,
});

describe.skipIf(skip)('transport through routes (netns)', () => {
  const ns = useNetns('lvskit-troutes');
  let routes: Routes;

  beforeAll(() => {
    ip(ns.name, 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd0p');
    ip(ns.name, 'link', 'set', 'd0p', 'up');
    ip(ns.name, 'link', 'set', 'd0', 'up');
    ip(ns.name, 'addr', 'add', '192.168.0.1/24', 'dev', 'd0');
    routes = openRoutes({ netns: ns.name });
  });
  afterAll(() => routes?.close());

  it('10,000 adds with one bad item in the middle: exactly that item fails, the rest are applied', async () => {
    const specs = Array.from({ length: 10_000 }, (_, i) => hostRoute(i, 1000));
    specs[5000] = { dst: '10.200.0.0/24', gateway: '172.31.0.1', table: 1000 }; // gateway not on any link
    const report = await routes.addMany(specs);
    expect(report.failed).toEqual([5000]);
    expect(report.items[5000]!.error?.code).toBe('ENETUNREACH');
    expect(report.items[5000]!.error?.batchIndex).toBe(5000);
    expect(report.applied).toHaveLength(9_999);
    expect(report.notSent).toEqual([]);
    expect(report.unknown).toEqual([]);
    expect(report.sendCalls).toBeGreaterThan(1); // more than one datagram's worth, yet one call
    const listed = await routes.list({ table: 1000 });
    expect(listed).toHaveLength(9_999);
    expect(listed.some((r) => r.dst === '10.200.0.0/24')).toBe(false);
    expect(ipJson<unknown[]>(ns.name, 'route', 'show', 'table', '1000')).toHaveLength(9_999);
  });

  it('stopOnError leaves the items after the failing send unsent', async () => {
    // Large enough to need several sendmsg calls: the failure is in the first one.
    const specs = Array.from({ length: 20_000 }, (_, i) => hostRoute(i, 1001));
    specs[10] = { dst: '10.200.0.0/24', gateway: '172.31.0.1', table: 1001 };
    const report = await routes.addMany(specs, { stopOnError: true });
    expect(report.sendCalls).toBeGreaterThan(0);
    expect(report.failed).toEqual([10]);
    expect(report.notSent.length).toBeGreaterThan(0);
    expect(report.applied.length + report.failed.length + report.notSent.length).toBe(20_000);
    expect(report.notSent.at(-1)).toBe(19_999);
    expect((await routes.list({ table: 1001 })).length).toBe(report.applied.length);
  });

  it('100,000 routes load in one call and a dump returns every one of them', async () => {
    const N = 100_000;
    const specs = Array.from({ length: N }, (_, i) => hostRoute(i, 2000));
    const t0 = performance.now();
    const report = await routes.addMany(specs);
    const t1 = performance.now();
    expect(report.ok).toBe(true);
    expect(report.applied).toHaveLength(N);
    const listed = await routes.list({ table: 2000 });
    const t2 = performance.now();
    console.log(`[transport-routes] addMany ${N} routes: ${(t1 - t0).toFixed(0)} ms in ${report.sendCalls} sendmsg calls; list: ${(t2 - t1).toFixed(0)} ms`);
    expect(listed).toHaveLength(N);
    const want = new Set(specs.map((s) => s.dst));
    for (const r of listed) want.delete(r.dst);
    expect(want.size).toBe(0);
    const viaIp = execFileSync('ip', ['-n', ns.name, 'route', 'show', 'table', '2000'], { encoding: 'utf8', maxBuffer: 1 << 28 }).trim().split('\n');
    expect(viaIp).toHaveLength(N);
    const del = await routes.deleteMany(specs);
    expect(del.ok).toBe(true);
    expect(await routes.list({ table: 2000 })).toEqual([]);
  });
});
