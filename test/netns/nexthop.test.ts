// Nexthop objects and groups round-trip through the host kernel in a namespace this file
// creates, cross-checked against `ip -j nexthop`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { ip, ipJson, skipUnless, useNetns } from '../helpers/kernel.js';
import { NetlinkSocket } from '../../lib/socket.js';
import { NextHops } from '../../lib/rtnl/nexthop.js';
import { Routes } from '../../lib/rtnl/route.js';
import { BatchError } from '../../lib/batch.js';

const skip = skipUnless('netns');

interface IpNh {
  id: number;
  gateway?: string;
  dev?: string;
  blackhole?: boolean;
  group?: { id: number; weight?: number }[];
  type?: string;
  resilient_args?: { buckets: number; idle_timer: number; unbalanced_timer: number };
}

describe.skipIf(skip)('nexthop objects and groups (netns)', () => {
  const ns = useNetns('lvskit-nh');
  let socket: NetlinkSocket;
  let nhs: NextHops;
  let routes: Routes;
  const idx = new Map<string, number>();
  const shown = () => ipJson<IpNh[]>(ns.name, 'nexthop', 'show');

  beforeAll(() => {
    for (const [dev, v4, v6] of [['d0', '10.0.0.1/24', '2001:db8::1/64'], ['d1', '10.1.0.1/24', '2001:db8:1::1/64']] as const) {
      ip(ns.name, 'link', 'add', dev, 'type', 'veth', 'peer', 'name', `${dev}p`);
      ip(ns.name, 'link', 'set', `${dev}p`, 'up');
      ip(ns.name, 'addr', 'add', v4, 'dev', dev);
      ip(ns.name, '-6', 'addr', 'add', v6, 'dev', dev, 'nodad');
      ip(ns.name, 'link', 'set', dev, 'up');
    }
    for (const l of ipJson<{ ifname: string; ifindex: number }[]>(ns.name, 'link', 'show')) idx.set(l.ifname, l.ifindex);
    socket = NetlinkSocket.open('route', { netns: ns.name });
    nhs = new NextHops(socket);
    routes = new Routes(socket);
  });
  afterAll(() => socket?.close());

  it('single nexthops (v4, v6, device-only, onlink, blackhole) round-trip and match ip', async () => {
    await nhs.add({ id: 1, gateway: '10.0.0.2', dev: 'd0' });
    await nhs.add({ id: 2, gateway: '10.1.0.2', dev: 'd1' });
    await nhs.add({ id: 3, gateway: '2001:db8::2', dev: 'd0' });
    await nhs.add({ id: 4, dev: 'd1', family: 4 });
    await nhs.add({ id: 5, gateway: '192.168.50.1', dev: 'd0', onlink: true, protocol: 'zebra' });
    await nhs.add({ id: 6, blackhole: true });
    const ref = new Map(shown().map((n) => [n.id, n]));
    expect(ref.get(1)).toMatchObject({ gateway: '10.0.0.2', dev: 'd0' });
    expect(ref.get(3)).toMatchObject({ gateway: '2001:db8::2', dev: 'd0' });
    expect(ref.get(4)).toMatchObject({ dev: 'd1' });
    expect(ref.get(6)).toHaveProperty('blackhole'); // ip -j prints the flag as null
    const mine = new Map((await nhs.list()).map((n) => [n.id, n]));
    expect(mine.get(1)).toMatchObject({ family: 4, gateway: '10.0.0.2', dev: idx.get('d0'), protocol: 'boot' });
    expect(mine.get(3)).toMatchObject({ family: 6, gateway: '2001:db8::2', dev: idx.get('d0') });
    expect(mine.get(4)).toMatchObject({ family: 4, dev: idx.get('d1'), scope: 'host' });
    expect(mine.get(5)).toMatchObject({ onlink: true, protocol: 'zebra' });
    expect(mine.get(6)).toMatchObject({ blackhole: true });
    expect(await nhs.get(1)).toEqual(mine.get(1));
    expect(await nhs.get(999)).toBeUndefined();
    await expect(nhs.add({ id: 1, gateway: '10.0.0.3', dev: 'd0' })).rejects.toMatchObject({ code: 'EEXIST' });
  });

  it('hash-threshold groups with weights, and routes pointing at them', async () => {
    await nhs.add({ id: 10, group: [{ id: 1, weight: 1 }, { id: 2, weight: 200 }] });
    const ref = shown().find((n) => n.id === 10)!;
    expect(ref.group).toEqual([{ id: 1 }, { id: 2, weight: 200 }]); // ip omits weight 1
    expect((await nhs.get(10))?.group).toEqual([{ id: 1, weight: 1 }, { id: 2, weight: 200 }]);
    expect((await nhs.list({ groupsOnly: true })).map((n) => n.id)).toEqual([10]);
    await routes.add({ dst: '198.18.0.0/24', nhid: 10 });
    const r = ipJson<{ dst: string; nhid: number }[]>(ns.name, 'route', 'show', '198.18.0.0/24')[0];
    expect(r?.nhid).toBe(10);
    expect((await routes.get('198.18.0.0/24'))?.nhid).toBe(10);
    const seen = new Set<string>();
    for (let sport = 1000; sport < 1400; sport += 10) {
      const c = await routes.query({ dst: '198.18.0.1', ipProto: 'udp', sport, dport: 53 });
      const g = ipJson<{ gateway: string }[]>(ns.name, 'route', 'get', '198.18.0.1', 'ipproto', 'udp', 'sport', String(sport), 'dport', '53')[0]!;
      expect(c.gateway).toBe(g.gateway);
      seen.add(c.gateway!);
    }
    expect(seen.has('10.1.0.2')).toBe(true);
  });

  it('16-bit group weights (Linux 6.12+) read back exactly', async () => {
    await nhs.add({ id: 11, group: [{ id: 1, weight: 300 }, { id: 2, weight: 65535 }] });
    expect((await nhs.get(11))?.group).toEqual([{ id: 1, weight: 300 }, { id: 2, weight: 65535 }]);
    await expect(nhs.add({ id: 12, group: [{ id: 1, weight: 65536 }] })).rejects.toMatchObject({ field: 'nexthop.group[0].weight' });
    await expect(nhs.add({ id: 12, group: [{ id: 1, weight: 0 }] })).rejects.toMatchObject({ field: 'nexthop.group[0].weight' });
  });

  it('resilient groups: buckets and timers round-trip, the bucket table reads back', async () => {
    await nhs.add({ id: 20, group: [{ id: 1, weight: 1 }, { id: 2, weight: 3 }], type: 'resilient', buckets: 32, idleTimer: 10, unbalancedTimer: 20 });
    const ref = shown().find((n) => n.id === 20)!;
    expect(ref.type).toBe('resilient');
    expect(ref.resilient_args).toMatchObject({ buckets: 32, idle_timer: 10, unbalanced_timer: 20 });
    const mine = await nhs.get(20);
    expect(mine).toMatchObject({ type: 'resilient', buckets: 32, idleTimer: 10, unbalancedTimer: 20 });
    const buckets = await nhs.buckets(20);
    expect(buckets.map((b) => b.index)).toEqual(Array.from({ length: 32 }, (_, i) => i));
    const count = (id: number) => buckets.filter((b) => b.nhid === id).length;
    expect([count(1), count(2)]).toEqual([8, 24]); // 1:3 of 32 buckets
    const refBuckets = execFileSync('ip', ['-n', ns.name, '-j', 'nexthop', 'bucket', 'show', 'id', '20'], { encoding: 'utf8' });
    const refMap = new Map((JSON.parse(refBuckets) as { bucket: { index: number; nhid: number } }[]).map((b) => [b.bucket.index, b.bucket.nhid]));
    for (const b of buckets) expect(b.nhid).toBe(refMap.get(b.index));
  });

  it('replace swaps a member in place; delete by id; batches roll back', async () => {
    await nhs.replace({ id: 2, gateway: '10.1.0.9', dev: 'd1' });
    expect((await nhs.get(2))?.gateway).toBe('10.1.0.9');
    expect(shown().find((n) => n.id === 2)?.gateway).toBe('10.1.0.9');
    await nhs.delete(5);
    expect(await nhs.get(5)).toBeUndefined();
    await expect(nhs.delete(5)).rejects.toMatchObject({ code: 'ENOENT' });
    const e = await nhs.addMany([
      { id: 30, gateway: '10.0.0.30', dev: 'd0' },
      { id: 31, gateway: '10.0.0.31', dev: 'd0' },
      { id: 32, group: [{ id: 30 }, { id: 999 }] }, // no such member
    ], { rollback: true }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BatchError);
    expect((e as BatchError).report.failed).toEqual([2]);
    expect(shown().map((n) => n.id)).not.toContain(30);
  });
});
