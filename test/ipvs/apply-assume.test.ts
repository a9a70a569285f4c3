// The controller case in the kernel (issue 17): a controller that knows what it last applied
// passes it as assumeCurrent, and apply() reads nothing (the IPVS batch reads no service to merge
// its edits into either: timing.ipvs.readMs is 0); the kernel ends as desired, checked with
// ipvsadm. detectDrift finds a change made behind its back (by ipvsadm) and plans against the
// kernel. And batches given knownServices merge edits and roll back without reading.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apply, BatchError, Ipvs, readState, type LvsState, type StateService } from '../../lib/index.js';
import { skipUnless, useNetns } from '../helpers/kernel.js';
import { ipvsadm, savedRules } from './ipvs-helpers.js';

const skip = skipUnless('ipvs');
const N = 200;
const svc = (i: number, w = (_: number) => 1): StateService => ({
  key: { protocol: 'tcp', address: `10.7.${i >> 8}.${i & 255}`, port: 80 },
  scheduler: 'wlc',
  destinations: [0, 1, 2, 3].map((j) => ({ address: `192.168.${j}.10`, port: 8080, forward: 'masq', weight: w(j) })),
});
const state = (w: (i: number, j: number) => number): LvsState => ({ services: Array.from({ length: N }, (_, i) => svc(i, (j) => w(i, j))) });

describe.skipIf(skip)('apply() with assumeCurrent and detectDrift', () => {
  const ns = useNetns('lvs-assume');
  let ipvs: Ipvs;
  beforeAll(() => {
    ipvs = Ipvs.open({ netns: ns.name });
  });
  afterAll(() => ipvs?.close());

  it('1% of destinations changed: nothing read, only the changes sent, the kernel as desired', async () => {
    const first = state(() => 1);
    await apply(ipvs, first);
    const second = state((i, j) => (i % 25 === 0 && j === 1 ? 7 : 1)); // 8 of 800 destinations
    const r = await apply(ipvs, second, { assumeCurrent: first });
    expect(r.changes).toHaveLength(8);
    expect(r.report!.ok).toBe(true);
    expect(r.timing.ipvs!.readMs).toBe(0);
    expect(r.drift).toBeUndefined();
    console.log(`assumeCurrent, 8 edits among ${N} services: ${JSON.stringify(r.timing)}`);
    const rules = savedRules(ns.name);
    expect(rules.filter((l) => / -w 7$/.test(l))).toHaveLength(8);
    expect(rules).toHaveLength(N * 5);
    expect(await readState(ipvs).then((s) => s.services!.length)).toBe(N);
  });

  it('detectDrift: a weight changed by ipvsadm behind its back is reported, and put back', async () => {
    const second = state((i, j) => (i % 25 === 0 && j === 1 ? 7 : 1));
    ipvsadm(ns.name, '-e', '-t', '10.7.0.3:80', '-r', '192.168.2.10:8080', '-m', '-w', '9');
    const blind = await apply(ipvs, second, { assumeCurrent: second, dryRun: true });
    expect(blind.changes).toEqual([]); // assuming, it cannot see the change
    const r = await apply(ipvs, second, { assumeCurrent: second, detectDrift: true });
    expect(r.drift).toHaveLength(1);
    expect(r.drift![0]).toMatch(/192\.168\.2\.10:8080 .*10\.7\.0\.3.*"weight":9/);
    expect(r.changes).toHaveLength(1);
    expect(savedRules(ns.name).filter((l) => / -w 9$/.test(l))).toHaveLength(0);
  });

  it('a batch given knownServices merges its edits from them and rolls back without reading', async () => {
    const known = (await readState(ipvs)).services!;
    const b = ipvs.batch();
    b.editDestination(svc(1).key, { address: '192.168.0.10', port: 8080 }, { weight: 42 });
    b.editService(svc(2).key, { scheduler: 'rr' });
    b.addService(svc(0)); // exists: EEXIST, the batch rolls back
    const before = savedRules(ns.name);
    const err = (await b.run({ rollback: true, knownServices: known }).catch((e: unknown) => e)) as BatchError;
    expect(err).toBeInstanceOf(BatchError);
    expect(err.report.applied).toEqual([0, 1]);
    expect(err.report.timing!.readMs).toBe(0);
    expect(err.rollback!.ok).toBe(true);
    expect(savedRules(ns.name)).toEqual(before);
    const ok = await ipvs.batch().editDestination(svc(1).key, { address: '192.168.0.10', port: 8080 }, { weight: 42 }).run({ knownServices: known });
    expect(ok.ok).toBe(true);
    // merged: the forwarding method and thresholds were kept, only the weight changed
    expect(savedRules(ns.name)).toContain('-a -t 10.7.0.1:80 -r 192.168.0.10:8080 -m -w 42');
  });

  it('knownServices written another way than the ops (an IPv6 address) are still found', async () => {
    const v6 = { protocol: 'tcp' as const, address: '2001:db8::7', port: 80 };
    await ipvs.batch().addService({ key: v6, scheduler: 'rr' }).addDestination(v6, { address: '2001:db8::10', port: 80, weight: 2 }).run();
    const known: StateService[] = [{ key: { ...v6, address: '2001:0db8:0:0::7' }, scheduler: 'rr', destinations: [{ address: '2001:db8::10', port: 80, weight: 2 }] }];
    const rep = await ipvs.batch().editDestination(v6, { address: '2001:db8::10', port: 80 }, { weight: 3 }).run({ knownServices: known });
    expect(rep.ok).toBe(true);
    expect(rep.timing!.readMs).toBe(0);
    expect(savedRules(ns.name)).toContain('-a -t [2001:db8::7]:80 -r [2001:db8::10]:80 -g -w 3');
  });
});
