// apply() in a real kernel: random desired states from random starting states (small: the VM is
// emulated), a plan that reaches them and then has nothing left to do, a dry run that changes
// nothing, and a failure midway that leaves a report and, with rollback, the original state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Ipvs, apply, readState, ApplyError, emitRules, stateServicesOf, type LvsState, type StateService } from '../../lib/index.js';
import { skipUnless, useNetns } from '../helpers/kernel.js';

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
        await apply(ipvs, start, { allowEmpty: true });
        const r = await apply(ipvs, want, { allowEmpty: true });
        expect(r.report?.ok ?? true).toBe(true);
        const again = await apply(ipvs, want, { allowEmpty: true, dryRun: true });
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
