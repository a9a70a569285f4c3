// apply() in a real kernel: random desired states from random starting states (small: the VM is
// emulated), a plan that reaches them and then has nothing left to do, a dry run that changes
// nothing, and a failure midway that leaves a report and, with rollback, the original state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Ipvs, Rtnl, apply, readState, ApplyError, emitRules, stateServicesOf, type LvsState, type StateService } from '../../lib/index.js';
import { BatchError } from '../../lib/batch.js';
import { ip, skipUnless, useNetns } from '../helpers/kernel.js';
import { savedRules } from './ipvs-helpers.js';

const skip = skipUnless('ipvs');

const dest = fc.record({ address: fc.constantFrom('10.1.0.1', '10.1.0.2', '10.1.0.3', '192.168.7.1'), weight: fc.integer({ min: 0, max: 4 }), masq: fc.boolean(), uth: fc.constantFrom(0, 50) });
const svc = fc.record({ vip: fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3'), scheduler: fc.constantFrom('rr', 'wlc', 'mh', 'sh'), dests: fc.uniqueArray(dest, { selector: (d) => d.address, maxLength: 4 }) });
const state = fc.uniqueArray(svc, { selector: (s) => s.vip, maxLength: 3 }).map(
  (ss): LvsState => ({
    services: ss.map(
      (s): StateService => ({
        key: { protocol: 'tcp', address: s.vip, port: 80 },
        scheduler: s.scheduler as 'rr',
        destinations: s.dests.map((d) => ({ address: d.address, port: 80, forward: d.masq ? 'masq' : 'route', weight: d.weight, ...(d.uth ? { upperThreshold: d.uth } : {}) })),
      }),
    ),
  }),
);

describe.skipIf(skip)('apply() in the kernel', () => {
  const ns = useNetns('lvs-apply');
  let ipvs: Ipvs;
  beforeAll(() => {
    ipvs = Ipvs.open({ netns: ns.name });
  });
  afterAll(() => ipvs?.close());

  it('reaches random desired states from random starting states, then has nothing to do', async () => {
    await fc.assert(
      fc.asyncProperty(state, state, async (start, want) => {
        await ipvs.flush();
        await apply(ipvs, start, { allowEmpty: true, allowWipe: true });
        const r = await apply(ipvs, want, { allowEmpty: true, allowWipe: true });
        expect(r.report?.ok ?? true).toBe(true);
        const again = await apply(ipvs, want, { allowEmpty: true, allowWipe: true, dryRun: true });
        expect(again.changes).toEqual([]);
        // what the kernel holds is what was asked (compared through the rules text + thresholds)
        const got = stateServicesOf(await ipvs.listAll());
        expect(emitRules(got, { nosort: false })).toBe(emitRules(want.services!));
        const th = (s: StateService[]) => s.flatMap((x) => (x.destinations ?? []).map((d) => `${x.key && 'address' in x.key ? x.key.address : ''} ${d.address} ${d.upperThreshold ?? 0}`)).sort();
        expect(th(got)).toEqual(th(want.services!));
      }),
      { numRuns: 12 },
    );
  });

  it('a dry run sends nothing', async () => {
    await ipvs.flush();
    const r = await apply(ipvs, { services: [{ key: { protocol: 'tcp', address: '10.0.0.9', port: 80 }, destinations: [{ address: '10.1.0.1', port: 80 }] }] }, { dryRun: true });
    expect(r.changes.length).toBe(2);
    expect(await ipvs.listAll()).toEqual([]);
  });

  it('a failure midway leaves a report; with rollback the original state comes back', async () => {
    await ipvs.flush();
    const start: LvsState = { services: [{ key: { protocol: 'tcp', address: '10.0.0.1', port: 80 }, scheduler: 'rr', destinations: [{ address: '10.1.0.1', port: 80, weight: 2 }] }] };
    await apply(ipvs, start);
    const before = emitRules(stateServicesOf(await ipvs.listAll()));
    // a persistence engine the kernel does not have fails in the kernel, after other operations
    const bad: LvsState = {
      services: [
        { key: { protocol: 'tcp', address: '10.0.0.1', port: 80 }, scheduler: 'wlc', destinations: [{ address: '10.1.0.2', port: 80 }] },
        { key: { protocol: 'udp', address: '10.0.0.5', port: 5060 }, persistence: { timeout: 60 }, persistenceEngine: 'nosuchpe' },
      ],
    };
    const err = await apply(ipvs, bad, { rollback: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplyError);
    expect((err as ApplyError).result.changes.length).toBeGreaterThan(2);
    expect(emitRules(stateServicesOf(await ipvs.listAll()))).toBe(before);
    // without rollback: the report says what was applied and what failed
    const err2 = (await apply(ipvs, bad).catch((e: unknown) => e)) as ApplyError;
    expect(err2).toBeInstanceOf(ApplyError);
    expect(err2.result.report!.failed.length).toBe(1);
    expect(err2.result.report!.applied.length).toBe(err2.result.changes.length - 1);
  });

  it('readState carries timeouts and daemons', async () => {
    const s = await readState(ipvs);
    expect(s.timeouts).toMatchObject({ tcp: expect.any(Number) });
    expect(Array.isArray(s.syncDaemons)).toBe(true);
  });
});

// One desired state with services, addresses and routes: the VIP address and the routes go first
// (rtnetlink), the services after (one IPVS batch); a failure in the IPVS batch with rollback also
// takes the addresses and routes back.
describe.skipIf(skip)('apply() with services, addresses and routes together', () => {
  const ns = useNetns('lvs-applyall');
  let ipvs: Ipvs;
  let rtnl: Rtnl;
  const VIP = '10.0.5.100';
  const svcs = (scheduler: 'rr' | 'wlc', dests: string[]): StateService[] => [
    { key: { protocol: 'tcp', address: VIP, port: 80 }, scheduler, destinations: dests.map((a) => ({ address: a, port: 80, forward: 'masq' as const })) },
  ];
  const M = { interfaces: ['lo', 'v0'], tables: [254, 300], allowWipe: true }; // random transitions may delete anything
  const netView = () => [
    ip(ns.name, '-br', 'addr', 'show', 'dev', 'lo').trim(),
    ip(ns.name, 'route', 'show', 'proto', 'boot').trim(),
    ip(ns.name, 'route', 'show', 'table', '300').trim(),
  ];

  beforeAll(() => {
    ip(ns.name, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v0p');
    ip(ns.name, 'addr', 'add', '10.1.0.1/24', 'dev', 'v0');
    ip(ns.name, 'link', 'set', 'v0p', 'up');
    ip(ns.name, 'link', 'set', 'v0', 'up');
    ipvs = Ipvs.open({ netns: ns.name });
    rtnl = Rtnl.open({ netns: ns.name });
  });
  afterAll(() => {
    ipvs?.close();
    rtnl?.close();
  });

  const start: LvsState = {
    services: svcs('rr', ['10.1.0.2', '10.1.0.3']),
    addresses: [{ interface: 'lo', address: `${VIP}/32` }, { interface: 'v0', address: '10.1.0.1/24' }],
    routes: [{ destination: '10.70.0.0/24', gateway: '10.1.0.9' }, { destination: 'default', table: 300, gateway: '10.1.0.9', metric: 5 }],
  };

  it('reaches the whole state (ipvsadm and ip agree), addresses and routes first; a second apply plans nothing', async () => {
    const r = await apply(ipvs, start, { rtnl, ...M });
    expect(r.report!.ok).toBe(true);
    expect(r.changes).toEqual([
      `add address ${VIP}/32 dev lo`,
      'add route 10.70.0.0/24 via 10.1.0.9',
      'add route default via 10.1.0.9 table 300 metric 5',
      expect.stringMatching(/^add service tcp 10\.0\.5\.100:80 /),
      expect.stringMatching(/^add destination 10\.1\.0\.3:80 /),
      expect.stringMatching(/^add destination 10\.1\.0\.2:80 /),
    ]);
    expect(r.report!.applied).toEqual([0, 1, 2, 3, 4, 5]);
    expect(savedRules(ns.name)).toEqual(['-A -t 10.0.5.100:80 -s rr', '-a -t 10.0.5.100:80 -r 10.1.0.2:80 -m -w 1', '-a -t 10.0.5.100:80 -r 10.1.0.3:80 -m -w 1']);
    expect(ip(ns.name, 'addr', 'show', 'dev', 'lo')).toContain(`inet ${VIP}/32 scope global lo`);
    expect(ip(ns.name, 'route', 'show', '10.70.0.0/24')).toContain('10.70.0.0/24 via 10.1.0.9 dev v0');
    expect(ip(ns.name, 'route', 'show', 'table', '300')).toContain('default via 10.1.0.9 dev v0 metric 5');
    const s = await readState(ipvs, { rtnl, interfaces: M.interfaces, tables: M.tables });
    expect(s.addresses).toEqual(expect.arrayContaining(start.addresses!));
    expect(s.routes).toEqual([{ destination: '10.70.0.0/24', gateway: '10.1.0.9', interface: 'v0' }, { destination: 'default', table: 300, gateway: '10.1.0.9', metric: 5, interface: 'v0' }]);
    expect((await apply(ipvs, start, { rtnl, ...M, dryRun: true })).changes).toEqual([]);
  });

  it('an IPVS failure after the addresses and routes went in: with rollback, all of it comes back (ipvsadm and ip)', async () => {
    await apply(ipvs, start, { rtnl, ...M });
    const before = [savedRules(ns.name), netView()];
    const bad: LvsState = {
      services: [...svcs('wlc', ['10.1.0.4']), { key: { protocol: 'udp', address: VIP, port: 5060 }, persistence: { timeout: 60 }, persistenceEngine: 'nosuchpe' }],
      addresses: [{ interface: 'lo', address: '10.0.5.101/32' }, { interface: 'v0', address: '10.1.0.1/24' }],
      routes: [{ destination: '10.71.0.0/24', gateway: '10.1.0.9' }, { destination: 'default', table: 300, gateway: '10.1.0.8', metric: 5 }],
    };
    const err = (await apply(ipvs, bad, { rtnl, ...M, rollback: true }).catch((e: unknown) => e)) as ApplyError;
    expect(err).toBeInstanceOf(ApplyError);
    const { report, changes } = err.result;
    const failed = report!.failed.map((i) => changes[i]);
    expect(failed).toEqual([expect.stringMatching(/^add service udp 10\.0\.5\.100:5060 /)]);
    // the address and route changes had been applied before the IPVS batch
    expect(changes.slice(0, 5)).toEqual([
      'add address 10.0.5.101/32 dev lo',
      `delete address ${VIP}/32 dev lo`,
      'add route 10.71.0.0/24 via 10.1.0.9',
      'replace route default via 10.1.0.8 table 300 metric 5',
      'delete route 10.70.0.0/24 via 10.1.0.9 dev v0',
    ]);
    expect(report!.applied.slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
    expect(err.cause).toBeInstanceOf(BatchError);
    expect((err.cause as BatchError).rollback!.ok).toBe(true);
    expect([savedRules(ns.name), netView()]).toEqual(before);
    expect((await apply(ipvs, start, { rtnl, ...M, dryRun: true })).changes).toEqual([]);
  });

  it('an Ipvs handle closed after the read: the IPVS part is not sent, and with rollback the addresses and routes that went in are undone', async () => {
    await apply(ipvs, start, { rtnl, ...M });
    const before = netView();
    const other = Ipvs.open({ netns: ns.name });
    const desired: LvsState = { ...start, services: svcs('rr', ['10.1.0.2']), addresses: [...start.addresses!, { interface: 'lo', address: '10.0.5.102/32' }] };
    // closed between the read and the send: the progress callback fires right before sending
    const err = (await apply(other, desired, { rtnl, ...M, rollback: true, onProgress: (d) => d === 0 && other.close() }).catch((e: unknown) => e)) as ApplyError;
    expect(err).toBeInstanceOf(ApplyError);
    const { report, changes } = err.result;
    expect(changes[0]).toBe('add address 10.0.5.102/32 dev lo');
    expect(report!.applied).toEqual([0]);
    expect(report!.notSent).toEqual([1]);
    expect((err.cause as BatchError).rollback!.ok).toBe(true);
    expect(netView()).toEqual(before);
    expect(savedRules(ns.name)).toHaveLength(3);
  });
});
