// Batches in the kernel: a mix of operations in one run, few sendmsg calls, one result per item;
// a failure in the middle reports exactly what was applied, and rollback restores the state read
// before the batch (services, destinations with their order, edits, deletions, flush, timeouts).
// Unlike `ipvsadm -R`, which stops at the first bad line leaving partial state and reports only
// the last status.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { BatchError, Ipvs, ValidationError, type IpvsRollbackReport, type ServiceKey } from '../../lib/index.js';
import { skipUnless, useNetns } from '../helpers/kernel.js';
import { savedRules, shape } from './ipvs-helpers.js';

const skip = skipUnless('ipvs');

const A: ServiceKey = { protocol: 'tcp', address: '10.0.0.1', port: 80 };
const B: ServiceKey = { protocol: 'udp', address: '10.0.0.2', port: 53 };
const C: ServiceKey = { fwmark: 9 };

describe.skipIf(skip)('IPVS batches in the kernel', () => {
  const ns = useNetns('lvs-batch');
  let ipvs: Ipvs;
  beforeAll(() => {
    ipvs = Ipvs.open({ netns: ns.name });
  });
  afterAll(() => ipvs?.close());

  async function seed(): Promise<void> {
    await ipvs.flush();
    await ipvs
      .batch()
      .addService({ key: A, scheduler: 'sh', flags: { schedPort: true }, persistence: { timeout: 100, netmask: '255.255.255.0' } })
      .addDestination(A, { address: '10.1.0.1', port: 80, weight: 3, upperThreshold: 50, lowerThreshold: 5 })
      .addDestination(A, { address: '10.1.0.2', port: 80, forward: 'masq' })
      .addDestination(A, { address: '10.1.0.3', port: 80, forward: 'tunnel', tunnel: { type: 'gue', port: 6080, checksum: true } })
      .addService({ key: B, scheduler: 'rr', flags: { onePacket: true } })
      .addDestination(B, { address: '10.1.0.4', port: 5353, forward: 'masq', weight: 9 })
      .run({ rollback: true });
  }
  beforeEach(seed);

  it('a mixed batch applies in order, in few sendmsg calls, with a result per item', async () => {
    const b = ipvs.batch();
    b.addService({ key: C, scheduler: 'wlc' });
    for (let i = 1; i <= 40; i++) b.addDestination(C, { address: `10.2.0.${i}`, port: 0, weight: i });
    b.editService(A, { scheduler: 'mh' });
    b.editDestination(A, { address: '10.1.0.1', port: 80 }, { weight: 4 });
    b.deleteDestination(B, { address: '10.1.0.4', port: 5353 });
    b.setTimeouts({ tcp: 901 });
    b.zero(A);
    const report = await b.run();
    expect(report.ok).toBe(true);
    expect(report.items).toHaveLength(b.length);
    expect(report.applied).toHaveLength(b.length);
    expect(report.sendCalls).toBe(1);
    const c = (await ipvs.getService(C, { withDestinations: true }))!;
    expect(c.destinations).toHaveLength(40);
    expect(c.destinations![0]).toMatchObject({ address: '10.2.0.40', weight: 40 });
    const a = (await ipvs.getService(A, { withDestinations: true }))!;
    expect(a).toMatchObject({ scheduler: 'mh', flags: { schedPort: true }, persistence: { timeout: 100, netmask: '255.255.255.0' } });
    expect(a.destinations!.find((d) => d.address === '10.1.0.1')).toMatchObject({ weight: 4, upperThreshold: 50, lowerThreshold: 5 });
    expect(await ipvs.listDestinations(B)).toEqual([]);
    expect((await ipvs.getTimeouts()).tcp).toBe(901);
  });

  it('a failure in the middle: the report says exactly which items were applied (no rollback)', async () => {
    const report = await ipvs
      .batch()
      .addDestination(A, { address: '10.1.0.5', port: 80 }) // 0 applied
      .addDestination(A, { address: '10.1.0.1', port: 80 }) // 1 EEXIST
      .addService({ key: C, scheduler: 'rr' }) // 2 applied
      .deleteDestination(B, { address: '10.9.9.9', port: 1 }) // 3 ENOENT
      .editService(B, { scheduler: 'lc' }) // 4 applied
      .run();
    expect(report.ok).toBe(false);
    expect(report.applied).toEqual([0, 2, 4]);
    expect(report.failed).toEqual([1, 3]);
    expect(report.items[1]!.error!.code).toBe('EEXIST');
    expect(report.items[1]!.error!.batchIndex).toBe(1);
    expect(report.items[1]!.error!.message).toContain('addDestination tcp 10.0.0.1:80 -> 10.1.0.1:80');
    expect(report.items[3]!.error!.code).toBe('ENOENT');
    const lines = savedRules(ns.name);
    expect(lines).toContain('-a -t 10.0.0.1:80 -r 10.1.0.5:80 -g -w 1');
    expect(lines).toContain('-A -f 9 -s rr');
    expect(lines).toContain('-A -u 10.0.0.2:53 -s lc -o');
  });

  it('edits read only the services they touch, and merge against them; a service added earlier in the batch can be edited', async () => {
    const D: ServiceKey = { protocol: 'tcp', address: '10.0.0.9', port: 443 }; // made by the batch
    const before = savedRules(ns.name);
    const report = await ipvs
      .batch()
      .editDestination(B, { address: '10.1.0.4', port: 5353 }, { weight: 2 })
      .addService({ key: D, scheduler: 'rr' })
      .addDestination(D, { address: '10.1.0.7', port: 443, weight: 3 })
      .editDestination(D, { address: '10.1.0.7', port: 443 }, { weight: 6 }) // the model has what the adds made
      .editDestination(A, { address: '10.1.0.3', port: 80 }, { weight: 8 }) // the GUE tunnel kept
      .run();
    expect(report.ok).toBe(true);
    expect(report.applied).toEqual([0, 1, 2, 3, 4]);
    const lines = savedRules(ns.name);
    expect(lines).toContain('-a -u 10.0.0.2:53 -r 10.1.0.4:5353 -m -w 2');
    expect(lines).toContain('-a -t 10.0.0.9:443 -r 10.1.0.7:443 -g -w 6');
    const tun = before.find((x) => x.startsWith('-a -t 10.0.0.1:80 -r 10.1.0.3:80 '))!;
    expect(tun).toMatch(/ -w 1 .*--tun-type gue/);
    expect(lines).toContain(tun.replace(' -w 1 ', ' -w 8 '));
    // the rest of A (not edited) is as it was
    for (const l of before.filter((x) => x.startsWith('-a -t 10.0.0.1:80') && !x.includes('10.1.0.3'))) expect(lines).toContain(l);
  });

  it('an edit of a service that does not exist refuses the batch before anything is sent, naming the item', async () => {
    const before = savedRules(ns.name);
    const D: ServiceKey = { protocol: 'tcp', address: '10.0.0.9', port: 443 };
    const run = ipvs
      .batch()
      .editDestination(B, { address: '10.1.0.4', port: 5353 }, { weight: 2 })
      .editDestination(D, { address: '10.1.0.1', port: 443 }, { weight: 2 })
      .run();
    await expect(run).rejects.toMatchObject({ code: 'ESRCH', batchIndex: 1, message: expect.stringContaining('nothing was sent') });
    expect(savedRules(ns.name)).toEqual(before);
  });

  it('stopOnError: after the send that had the failure nothing more is sent', async () => {
    const b = ipvs.batch().addDestination(A, { address: '10.1.0.1', port: 80 }).addService({ key: C, scheduler: 'rr' });
    // More requests than one send can carry (sk_sndbuf - 32 bytes per sendmsg).
    for (let i = 0; i < 3000; i++) b.addDestination(C, { address: `10.${4 + (i >> 8)}.${i & 255}.1`, port: 0 });
    const report = await b.run({ stopOnError: true });
    expect(report.failed).toEqual([0]);
    expect(report.notSent.length).toBeGreaterThan(0);
    expect(report.applied.length + report.notSent.length).toBe(b.length - 1);
    // The applied ones are really there, the others really not.
    expect(await ipvs.listDestinations(C)).toHaveLength(report.applied.length - 1);
    const full = await ipvs.batch().addDestination(A, { address: '10.1.0.1', port: 80 }).addDestination(A, { address: '10.1.0.9', port: 80 }).run();
    expect(full.applied).toEqual([1]); // without stopOnError the kernel goes on after a failure
  });

  it('rollback restores the state read before the batch, destination order included', async () => {
    await ipvs.setTimeouts({ tcp: 800, tcpFin: 100, udp: 200 });
    const before = shape(await ipvs.listAll());
    const rulesBefore = savedRules(ns.name);
    const orderBefore = (await ipvs.listDestinations(A)).map((d) => d.address);
    const b = ipvs
      .batch()
      .addService({ key: C, scheduler: 'rr' })
      .addDestination(C, { address: '10.2.0.1', port: 0 })
      .editService(A, { scheduler: 'wrr', persistence: null })
      .editDestination(A, { address: '10.1.0.3', port: 80 }, { weight: 0, tunnel: { type: 'gre' } })
      .deleteDestination(A, { address: '10.1.0.2', port: 80 })
      .setTimeouts({ tcp: 10, udp: 20 })
      .deleteService(B)
      .addDestination(A, { address: '10.1.0.1', port: 80 }); // EEXIST: triggers the rollback
    const err = (await b.run({ rollback: true }).catch((e: unknown) => e)) as BatchError;
    expect(err).toBeInstanceOf(BatchError);
    expect(err.report.applied).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(err.report.failed).toEqual([7]);
    expect(err.rollback!.ok).toBe(true);
    expect(err.message).toContain('rollback restored the previous state');
    expect(shape(await ipvs.listAll())).toEqual(before);
    expect(savedRules(ns.name)).toEqual(rulesBefore);
    expect((await ipvs.listDestinations(A)).map((d) => d.address)).toEqual(orderBefore);
    expect(await ipvs.getTimeouts()).toEqual({ tcp: 800, tcpFin: 100, udp: 200 });
  });

  it('rollback undoes a flush', async () => {
    const before = shape(await ipvs.listAll());
    const err = (await ipvs.batch().flush().addDestination(A, { address: '10.1.0.1', port: 80 }).run({ rollback: true }).catch((e: unknown) => e)) as BatchError;
    expect(err).toBeInstanceOf(BatchError);
    expect(err.report.applied).toEqual([0]);
    expect(err.report.items[1]!.error!.code).toBe('ESRCH');
    expect(shape(await ipvs.listAll())).toEqual(before);
  });

  it('rollback reports what cannot be undone (zeroed counters)', async () => {
    const err = (await ipvs.batch().zero(A).addService({ key: C, scheduler: 'rr' }).addDestination(A, { address: '10.1.0.1', port: 80 }).run({ rollback: true }).catch((e: unknown) => e)) as BatchError;
    expect(err).toBeInstanceOf(BatchError);
    expect(err.report.applied).toEqual([0, 1]);
    expect((err.rollback as IpvsRollbackReport).notUndone).toEqual([0]);
    expect(err.rollback!.applied).toEqual([0]); // the addService was undone
    expect(await ipvs.getService(C)).toBeUndefined();
  });

  it('invalid input anywhere in a batch is refused before anything is sent, naming the item', async () => {
    const rules = savedRules(ns.name);
    const b = ipvs.batch().addService({ key: C, scheduler: 'rr' }).addDestination(C, { address: '10.2.0.1', port: 70000 });
    const e = (await b.run().catch((x: unknown) => x)) as ValidationError;
    expect(e).toBeInstanceOf(ValidationError);
    expect(e.field).toBe('batch[1].destination.port');
    expect(e.message).toContain('70000');
    expect(savedRules(ns.name)).toEqual(rules);
  });

  it('contrast: ipvsadm -R reports success when a line in the middle fails; the batch report names it', async () => {
    await ipvs.flush();
    const input = '-A -t 10.3.0.1:80 -s rr\n-A -t 10.3.0.2:80 -s nosuch\n-A -t 10.3.0.3:80 -s rr\n';
    const r = spawnSync('ip', ['netns', 'exec', ns.name, 'ipvsadm', '-R'], { input, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/not found/);
    expect(savedRules(ns.name)).toEqual(['-A -t 10.3.0.1:80 -s rr', '-A -t 10.3.0.3:80 -s rr']);
    await ipvs.flush();
    const e = (await ipvs.batch().addService({ key: { protocol: 'tcp', address: '10.3.0.1', port: 80 }, scheduler: 'rr' }).addService({ key: { protocol: 'tcp', address: '10.3.0.2', port: 80 }, scheduler: 'twos' }).addService({ key: { protocol: 'tcp', address: '10.3.0.3', port: 80 }, scheduler: 'rr' }).run());
    if (process.env.LVSKIT_IN_LAB_VM) {
      expect(e.failed).toEqual([1]);
      expect(e.items[1]!.error!.message).toContain("scheduler 'twos' is not available");
    }
    expect(e.applied).toEqual(expect.arrayContaining([0, 2]));
  });
});
