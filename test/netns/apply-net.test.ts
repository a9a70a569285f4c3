// apply() for addresses and routes on the host kernel, in a namespace this file creates: an Rtnl
// handle alone (no IPVS needed) adds, keeps and removes addresses (on lo and a veth) and routes
// (plain, gateway, metric, table > 255, weighted multipath, default, IPv6) from random starting
// states; the result is read back with readState() and with `ip -j addr` / `ip -j route` (the
// independent reference), and a second apply() of the same state plans nothing. A dry run sends
// nothing; a failure midway names the item, and with rollback the original state is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Rtnl, apply, readState, ApplyError, type LvsState, type StateAddress, type StateRoute } from '../../lib/index.js';
import { BatchError } from '../../lib/batch.js';
import { NetlinkError, ValidationError } from '../../lib/errors.js';
import { execFileSync } from 'node:child_process';
import { ip, skipUnless, useNetns } from '../helpers/kernel.js';

const skip = skipUnless('netns');

/** `ip -n NS -j ARGS` (stderr captured, for the error text). */
function ipJson<T>(ns: string, ...args: string[]): T {
  const out = execFileSync('ip', ['-n', ns, '-j', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return (out.trim() ? JSON.parse(out) : []) as T;
}

interface IpAddr {
  ifname: string;
  addr_info: { local: string; prefixlen: number; scope: string }[];
}
interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  metric?: number;
  table?: string;
  nexthops?: { gateway?: string; dev: string; weight: number }[];
}

const IFACES = ['lo', 'va'];
const TABLES = [254, 1000];
/** Every interface and table the tests manage, so that the last address or route of one can go. */
const M = { interfaces: [...IFACES, 'v0', 'v1'], tables: TABLES, allowWipe: true }; // random transitions may delete anything

// Each slot is one key (table, destination, metric) the random states fill with nothing or one of
// its variants; `dev`/`hops` are what the kernel must show (it picks the device for a gateway).
interface Variant {
  route: StateRoute;
  dev?: string;
  hops?: { gateway?: string; dev: string; weight: number }[];
}
const SLOTS: Variant[][] = [
  // plain device route
  [{ route: { destination: '10.61.0.0/24', interface: 'v1' }, dev: 'v1' }, { route: { destination: '10.61.0.0/24', interface: 'v0' }, dev: 'v0' }],
  // gateway, the kernel finds the device
  [{ route: { destination: '10.60.0.0/24', gateway: '10.0.0.2' }, dev: 'v0' }, { route: { destination: '10.60.0.0/24', gateway: '10.1.0.2', interface: 'v1' }, dev: 'v1' }],
  // metric
  [{ route: { destination: '10.62.0.0/24', gateway: '10.0.0.2', metric: 50 }, dev: 'v0' }],
  [{ route: { destination: '10.62.0.0/24', gateway: '10.1.0.2', metric: 60 }, dev: 'v1' }],
  // default, main
  [{ route: { destination: 'default', gateway: '10.0.0.2' }, dev: 'v0' }, { route: { destination: 'default', gateway: '10.1.0.2' }, dev: 'v1' }],
  // table > 255: weighted multipath, and a default
  [
    { route: { destination: '10.63.0.0/16', table: 1000, nexthops: [{ gateway: '10.0.0.2', weight: 1 }, { gateway: '10.1.0.2', weight: 3 }] }, hops: [{ gateway: '10.0.0.2', dev: 'v0', weight: 1 }, { gateway: '10.1.0.2', dev: 'v1', weight: 3 }] },
    { route: { destination: '10.63.0.0/16', table: 1000, nexthops: [{ gateway: '10.0.0.2', interface: 'v0', weight: 2 }, { gateway: '10.1.0.2', interface: 'v1', weight: 2 }] }, hops: [{ gateway: '10.0.0.2', dev: 'v0', weight: 2 }, { gateway: '10.1.0.2', dev: 'v1', weight: 2 }] },
  ],
  [{ route: { destination: 'default', table: 1000, gateway: '10.1.0.2' }, dev: 'v1' }],
  // IPv6: gateway (metric 1024 by default), default in table 1000, multipath
  [{ route: { destination: '2001:db8:70::/48', gateway: '2001:db8::2' }, dev: 'v0' }, { route: { destination: '2001:db8:70:0::/48', gateway: '2001:db8:1:0::2', interface: 'v1' }, dev: 'v1' }],
  [{ route: { destination: 'default', table: 1000, gateway: '2001:db8::2' }, dev: 'v0' }],
  [{ route: { destination: '2001:db8:71::/48', nexthops: [{ gateway: '2001:db8::2', interface: 'v0' }, { gateway: '2001:db8:1::2', interface: 'v1' }] }, hops: [{ gateway: '2001:db8::2', dev: 'v0', weight: 1 }, { gateway: '2001:db8:1::2', dev: 'v1', weight: 1 }] }],
];
const ADDRS: StateAddress[] = [
  { interface: 'lo', address: '10.200.0.1/32' },
  { interface: 'lo', address: '10.200.0.2' }, // bare: /32
  { interface: 'lo', address: '2001:db8:200::1/128' },
  { interface: 'va', address: '10.50.0.5/24' },
  { interface: 'va', address: '10.51.0.5/24' },
  { interface: 'va', address: '10.50.0.6/24' }, // a secondary of 10.50.0.5/24 when both are there
  { interface: 'va', address: '2001:db8:50:0::5/64' },
];

interface Desired {
  state: LvsState;
  variants: Variant[];
}
const desired = fc
  .record({ addrs: fc.subarray(ADDRS), picks: fc.tuple(...SLOTS.map((vs) => fc.integer({ min: -1, max: vs.length - 1 }))) })
  .map(({ addrs, picks }): Desired => {
    const variants = picks.flatMap((p, i) => (p < 0 ? [] : [SLOTS[i]![p]!]));
    return { state: { addresses: addrs, routes: variants.map((v) => v.route) }, variants };
  });

const canon = (a: string) => {
  const [x, len] = a.split('/');
  const bare = !len;
  const full = bare ? `${x}/${x!.includes(':') ? 128 : 32}` : a;
  return full.replace(/(^|:)0+([0-9a-f])/g, '$1$2').replace(/:(0:)+/, '::').replace(':::', '::');
};

describe.skipIf(skip)('apply() for addresses and routes (netns, Rtnl handle only)', () => {
  const ns = useNetns('lvskit-applynet');
  let rtnl: Rtnl;

  beforeAll(() => {
    for (const [dev, v4, v6] of [['v0', '10.0.0.1/24', '2001:db8::1/64'], ['v1', '10.1.0.1/24', '2001:db8:1::1/64']] as const) {
      ip(ns.name, 'link', 'add', dev, 'type', 'veth', 'peer', 'name', `${dev}p`);
      ip(ns.name, 'link', 'set', `${dev}p`, 'up');
      ip(ns.name, 'addr', 'add', v4, 'dev', dev);
      ip(ns.name, '-6', 'addr', 'add', v6, 'dev', dev, 'nodad');
      ip(ns.name, 'link', 'set', dev, 'up');
    }
    ip(ns.name, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vap');
    ip(ns.name, 'link', 'set', 'va', 'up');
    rtnl = Rtnl.open({ netns: ns.name });
  });
  afterAll(() => rtnl?.close());

  /** Managed addresses as `ip -j addr` shows them: 'IFACE ADDR/LEN', scope global only. */
  function ipAddrs(): string[] {
    return ipJson<IpAddr[]>(ns.name, 'addr', 'show')
      .filter((l) => M.interfaces.includes(l.ifname))
      .flatMap((l) => l.addr_info.filter((a) => a.scope === 'global').map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`))
      .sort();
  }
  /** Routes we manage as `ip -j route` shows them (protocol boot/static), one text each. */
  function ipRoutes(): string[] {
    const out: string[] = [];
    for (const fam of ['-4', '-6']) {
      for (const t of TABLES) {
        let rs: IpRoute[] = [];
        try {
          rs = ipJson<IpRoute[]>(ns.name, fam, 'route', 'show', 'table', String(t));
        } catch (e) {
          // an IPv6 table that never held a route does not exist yet: ip says so and fails
          if (!String((e as { stderr?: unknown }).stderr).includes('FIB table does not exist')) throw e;
        }
        for (const r of rs) {
          if (r.protocol !== undefined && r.protocol !== 'boot' && r.protocol !== 'static') continue;
          const dst = r.dst === 'default' ? `default${fam}` : r.dst;
          const hops = r.nexthops?.map((h) => `${h.gateway ?? ''}@${h.dev}*${h.weight}`).sort().join(',');
          out.push(`${t} ${dst} m${r.metric ?? 0} ${hops ?? `${r.gateway ?? ''}@${r.dev}`}`);
        }
      }
    }
    return out.sort();
  }
  /** The same text for what a desired state should give. */
  function expectedRoutes(vs: Variant[]): string[] {
    return vs
      .map(({ route: r, dev, hops }) => {
        const v6 = r.destination.includes(':') || (r.gateway ?? r.nexthops?.[0]?.gateway ?? '').includes(':');
        const dst = r.destination === 'default' ? `default${v6 ? '-6' : '-4'}` : canon(r.destination);
        const via = hops ? hops.map((h) => `${h.gateway ?? ''}@${h.dev}*${h.weight}`).sort().join(',') : `${r.gateway ? canon(r.gateway).replace(/\/\d+$/, '') : ''}@${dev}`;
        return `${r.table ?? 254} ${dst} m${r.metric ?? (v6 ? 1024 : 0)} ${via}`;
      })
      .sort();
  }
  const expectedAddrs = (as: StateAddress[]) => as.map((a) => `${a.interface} ${canon(a.address)}`).sort();
  /** readState's view in the same text. */
  async function libView(): Promise<{ addrs: string[]; routes: string[] }> {
    const s = await readState(rtnl, M);
    const routes = s.routes!.map((r) => {
      const v6 = r.destination.includes(':') || (r.gateway ?? r.nexthops?.[0]?.gateway ?? '').includes(':');
      const dst = r.destination === 'default' ? `default${v6 ? '-6' : '-4'}` : r.destination;
      const via = r.nexthops ? r.nexthops.map((h) => `${h.gateway ?? ''}@${h.interface}*${h.weight}`).sort().join(',') : `${r.gateway ?? ''}@${r.interface}`;
      return `${r.table ?? 254} ${dst} m${r.metric ?? 0} ${via}`;
    });
    return { addrs: s.addresses!.map((a) => `${a.interface} ${a.address}`).sort(), routes: routes.sort() };
  }
  /** Manages everything the pool can touch, so leftovers of a previous run are removed too. */
  const full = (s: LvsState): LvsState => ({
    addresses: [...(s.addresses ?? []), { interface: 'v0', address: '10.0.0.1/24' }, { interface: 'v0', address: '2001:db8::1/64' }, { interface: 'v1', address: '10.1.0.1/24' }, { interface: 'v1', address: '2001:db8:1::1/64' }],
    routes: [...(s.routes ?? [])],
  });

  it('reaches random desired states from random starting states; readState and ip agree; a second apply plans nothing', async () => {
    let ops = 0;
    await fc.assert(
      fc.asyncProperty(desired, desired, async (start, want) => {
        await apply(rtnl, full(start.state), M);
        const r = await apply(rtnl, full(want.state), M);
        expect(r.report?.ok ?? true).toBe(true);
        ops += r.plan.ops.length;
        // the kernel, through ip (independent) and through readState
        expect(ipAddrs()).toEqual(expectedAddrs(full(want.state).addresses!));
        expect(ipRoutes()).toEqual(expectedRoutes(want.variants));
        const lib = await libView();
        expect(lib.addrs).toEqual(ipAddrs());
        expect(lib.routes).toEqual(ipRoutes());
        // nothing left to do
        const again = await apply(rtnl, full(want.state), M);
        expect(again.plan.ops).toEqual([]);
        expect(again.report).toBeUndefined();
      }),
      { numRuns: 25 },
    );
    expect(ops).toBeGreaterThan(25); // the runs did change things
  });

  it('from empty: each kind of change is one operation (add, replace, delete), each once', async () => {
    await apply(rtnl, full({ addresses: [], routes: [] }), M);
    const a = SLOTS[1]![0]!.route;
    const b = SLOTS[1]![1]!.route;
    const r1 = await apply(rtnl, full({ addresses: [ADDRS[0]!], routes: [a, SLOTS[5]![0]!.route] }), M);
    expect(r1.changes).toEqual(['add address 10.200.0.1/32 dev lo', 'add route 10.60.0.0/24 via 10.0.0.2', 'add route 10.63.0.0/16 table 1000 nexthop via 10.0.0.2 weight 1 nexthop via 10.1.0.2 weight 3']);
    const r2 = await apply(rtnl, full({ addresses: [ADDRS[1]!], routes: [b, SLOTS[5]![0]!.route] }), M);
    expect(r2.changes).toEqual(['add address 10.200.0.2/32 dev lo', 'delete address 10.200.0.1/32 dev lo', 'replace route 10.60.0.0/24 via 10.1.0.2 dev v1']);
    expect(ipRoutes()).toEqual(expectedRoutes([SLOTS[1]![1]!, SLOTS[5]![0]!]));
    const r3 = await apply(rtnl, full({ addresses: [ADDRS[1]!], routes: [] }), M);
    expect(r3.changes).toEqual(['delete route 10.60.0.0/24 via 10.1.0.2 dev v1', 'delete route 10.63.0.0/16 table 1000 nexthop via 10.0.0.2 dev v0 weight 1 nexthop via 10.1.0.2 dev v1 weight 3']);
    expect(ipRoutes()).toEqual([]);
  });

  it('leaves alone what it does not manage: other interfaces, other tables, kernel routes', async () => {
    await apply(rtnl, full({ addresses: [], routes: [] }), M);
    ip(ns.name, 'route', 'add', '10.90.0.0/24', 'via', '10.0.0.2', 'table', '77');
    ip(ns.name, 'addr', 'add', '10.91.0.1/32', 'dev', 'v1');
    try {
      const r = await apply(rtnl, { addresses: [{ interface: 'lo', address: '10.200.0.9/32' }], routes: [{ destination: '10.60.0.0/24', gateway: '10.0.0.2' }] });
      expect(r.changes).toEqual(['add address 10.200.0.9/32 dev lo', 'add route 10.60.0.0/24 via 10.0.0.2']);
      expect(ip(ns.name, 'route', 'show', 'table', '77')).toContain('10.90.0.0/24 via 10.0.0.2');
      expect(ip(ns.name, 'addr', 'show', 'dev', 'v1')).toContain('10.91.0.1/32');
      // kernel routes of main (the prefix routes of v0 and v1) and lo's own address stay
      expect(ip(ns.name, 'route', 'show', 'proto', 'kernel')).toContain('10.0.0.0/24 dev v0');
      expect(ip(ns.name, 'addr', 'show', 'dev', 'lo')).toContain('127.0.0.1/8');
      // an empty section names no interface or table: nothing is removed ...
      expect((await apply(rtnl, { addresses: [], routes: [] })).changes).toEqual([]);
      // ... unless the options name them
      const r2 = await apply(rtnl, { addresses: [], routes: [] }, { interfaces: ['lo'], tables: [254] });
      expect(r2.changes).toEqual(['delete address 10.200.0.9/32 dev lo', 'delete route 10.60.0.0/24 via 10.0.0.2 dev v0']);
      expect(ipAddrs().filter((a) => a.startsWith('lo '))).toEqual([]);
      expect(ipRoutes()).toEqual([]);
    } finally {
      ip(ns.name, 'route', 'del', '10.90.0.0/24', 'table', '77');
      ip(ns.name, 'addr', 'del', '10.91.0.1/32', 'dev', 'v1');
    }
  });

  it('removing a primary IPv4 address keeps the secondary of the same subnet that is still wanted', async () => {
    const prim = { interface: 'va', address: '10.52.0.5/24' };
    const sec = { interface: 'va', address: '10.52.0.6/24' };
    await apply(rtnl, full({ addresses: [prim, sec] }), M);
    expect(ip(ns.name, 'addr', 'show', 'dev', 'va')).toMatch(/10\.52\.0\.6\/24 .*secondary/);
    const r = await apply(rtnl, full({ addresses: [sec] }), M);
    expect(r.report!.ok).toBe(true);
    expect(ipAddrs().filter((a) => a.startsWith('va '))).toEqual(['va 10.52.0.6/24']);
    expect((await apply(rtnl, full({ addresses: [sec] }), { ...M, dryRun: true })).changes).toEqual([]);
  });

  it('a dry run sends nothing (checked with ip)', async () => {
    await apply(rtnl, full({ addresses: [ADDRS[0]!], routes: [SLOTS[0]![0]!.route] }), M);
    const before = [ipAddrs(), ipRoutes()];
    const r = await apply(rtnl, full({ addresses: [ADDRS[3]!, ADDRS[5]!], routes: [SLOTS[0]![1]!.route, SLOTS[7]![0]!.route, SLOTS[5]![1]!.route] }), { ...M, dryRun: true });
    expect(r.dryRun).toBe(true);
    expect(r.changes.length).toBe(3 + 3); // addresses: 2 adds + 1 delete; routes: 1 replace + 2 adds
    expect(r.report).toBeUndefined();
    expect([ipAddrs(), ipRoutes()]).toEqual(before);
  });

  describe('failure midway', () => {
    // the start: addresses and routes a failed apply must leave (with rollback) exactly as they were
    const start = full({ addresses: [ADDRS[0]!, ADDRS[3]!], routes: [SLOTS[2]![0]!.route, SLOTS[3]![0]!.route, SLOTS[0]![0]!.route] });
    // adds and deletes addresses, adds a route, replaces one route fine, then one via a gateway
    // no route reaches (the kernel refuses: ENETUNREACH), and would delete one after that
    const bad = full({
      addresses: [ADDRS[1]!, ADDRS[3]!, ADDRS[5]!],
      routes: [
        SLOTS[1]![0]!.route,
        { destination: '10.62.0.0/24', gateway: '10.1.0.2', metric: 50 },
        { destination: '10.62.0.0/24', gateway: '10.99.0.1', metric: 60 },
      ],
    });
    let before: string[][] = [];

    it('without rollback: ApplyError whose report names the failed item; what was applied stays', async () => {
      await apply(rtnl, start, M);
      before = [ipAddrs(), ipRoutes()];
      const err = (await apply(rtnl, bad, M).catch((e: unknown) => e)) as ApplyError;
      expect(err).toBeInstanceOf(ApplyError);
      const { report, changes } = err.result;
      expect(report!.failed.length).toBe(1);
      const i = report!.failed[0]!;
      expect(changes[i]).toBe('replace route 10.62.0.0/24 via 10.99.0.1 metric 60');
      const e = report!.items[i]!.error!;
      expect(e).toBeInstanceOf(NetlinkError);
      expect(e.code).toBe('ENETUNREACH');
      expect(e.message).toContain('10.62.0.0/24');
      expect(err.message).toContain('replace route 10.62.0.0/24 via 10.99.0.1 metric 60');
      // before it: 2 address adds, 1 delete, 1 route add, 1 replace (5 applied); after it: the delete, not sent
      expect(report!.applied).toEqual([0, 1, 2, 3, 4]);
      expect(i).toBe(5);
      expect(changes[6]).toBe('delete route 10.61.0.0/24 dev v1');
      expect(report!.notSent).toEqual([6]);
      expect(ipAddrs()).toEqual(expectedAddrs(bad.addresses!));
      expect(ipRoutes()).toEqual(expectedRoutes([SLOTS[1]![0]!, { route: { destination: '10.62.0.0/24', gateway: '10.1.0.2', metric: 50 }, dev: 'v1' }, SLOTS[3]![0]!, SLOTS[0]![0]!]));
    });

    it('with rollback: the original addresses and routes are back (checked with ip)', async () => {
      await apply(rtnl, start, M);
      expect([ipAddrs(), ipRoutes()]).toEqual(before);
      const err = (await apply(rtnl, bad, { ...M, rollback: true }).catch((e: unknown) => e)) as ApplyError;
      expect(err).toBeInstanceOf(ApplyError);
      expect(err.cause).toBeInstanceOf(BatchError);
      const cause = err.cause as BatchError;
      expect(cause.code).toBe('ENETUNREACH');
      expect(cause.rollback!.ok).toBe(true);
      expect(cause.rollback!.applied.length).toBe(5); // each applied operation undone
      expect(err.message).toContain('rollback restored the previous state');
      expect([ipAddrs(), ipRoutes()]).toEqual(before);
      expect((await apply(rtnl, start, { ...M, dryRun: true })).changes).toEqual([]);
    });

    it('an interface that does not exist is refused before anything is sent, naming the field', async () => {
      await apply(rtnl, start, M);
      const err = await apply(rtnl, full({ addresses: [ADDRS[1]!], routes: [SLOTS[1]![0]!.route, { destination: '10.64.0.0/24', interface: 'nosuch0' }] }), M).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe('routes[1].interface');
      expect((err as ValidationError).value).toBe('nosuch0');
      expect([ipAddrs(), ipRoutes()]).toEqual(before);
    });
  });

  it('apply(rtnl) refuses an IPVS part; a non-handle is refused', async () => {
    const e1 = await apply(rtnl, { services: [], routes: [] }).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(ValidationError);
    expect((e1 as ValidationError).field).toBe('services');
    const e2 = await apply(rtnl, { timeouts: { tcp: 900 } }).catch((e: unknown) => e);
    expect((e2 as ValidationError).field).toBe('timeouts');
    const e3 = await apply({} as Rtnl, { routes: [] }).catch((e: unknown) => e);
    expect((e3 as ValidationError).field).toBe('handle');
  });

  it('a closed handle: the apply fails with EBADF and sends nothing', async () => {
    const h = Rtnl.open({ netns: ns.name });
    h.close();
    const err = await apply(h, { addresses: [ADDRS[2]!] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect((err as NetlinkError).code).toBe('EBADF');
    expect(ipAddrs()).not.toContain('lo 2001:db8:200::1/128');
  });
});
