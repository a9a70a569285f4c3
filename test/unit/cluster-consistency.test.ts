// compareDirectors on states: identical directors agree; each kind of difference (order, weight,
// missing destination, flags, scheduler, missing service) is named with the first differing slot,
// and that slot really sends a client to different servers (checked through SchedulerTable).
import { describe, expect, it } from 'vitest';
import { compareDirectors, formatDirectorComparison } from '../../lib/cluster/consistency.js';
import { SchedulerTable, numberToIpv4 } from '../../lib/hash/index.js';
import { nativeHash } from '../../lib/hash/native-types.js';
import { ValidationError } from '../../lib/errors.js';
import type { StateService } from '../../lib/format/state.js';

const KEY = { protocol: 'tcp' as const, address: '10.0.0.1', port: 80 };
const d = (a: string, weight = 1) => ({ address: a, port: 80, weight });
const svc = (dests: ReturnType<typeof d>[], extra: Partial<StateService> = {}): StateService => ({ key: KEY, scheduler: 'mh', destinations: dests, ...extra });
const three = [d('10.1.0.1'), d('10.1.0.2'), d('10.1.0.3')];

/** A client address whose mh slot (no port flag) is `slot`. */
function clientForSlot(slot: number, m = 4093): string {
  const nh = nativeHash();
  for (let a = 0x05000001; ; a++) if (nh.mhHashKey(a, 0, 0, false) % m === slot) return numberToIpv4(a);
}

describe('compareDirectors', () => {
  it('identical directors agree on every slot', () => {
    const c = compareDirectors([
      { name: 'd1', services: { services: [svc(three)] }, sloppyTcp: true },
      { name: 'd2', services: [svc(three)], sloppyTcp: true },
      { name: 'd3', services: { services: [svc(three)] } },
    ]);
    expect(c.consistent).toBe(true);
    expect(c.first).toBeUndefined();
    expect(c.services).toEqual([{ service: 'tcp 10.0.0.1:80', scheduler: 'mh', hashed: true, slots: 4093, differingSlots: 0, consistent: true }]);
    expect(c.warnings).toEqual([]);
    expect(formatDirectorComparison(c)[0]).toMatch(/^directors agree: 1 service/);
  });

  it('a different destination order: the first differing slot, both servers, the cause', () => {
    const other = [three[1]!, three[0]!, three[2]!];
    const c = compareDirectors([{ name: 'd1', services: [svc(three)] }, { name: 'd2', services: [svc(other)] }]);
    expect(c.consistent).toBe(false);
    const f = c.first!;
    expect(f).toMatchObject({ service: 'tcp 10.0.0.1:80', directors: ['d1', 'd2'], kind: 'slot', cause: 'destination order' });
    expect(f.detail).toMatch(/position 0 of the kernel list is 10\.1\.0\.1:80 on one and 10\.1\.0\.2:80/);
    expect(f.servers![0]).not.toBe(f.servers![1]);
    // the named slot is real: a client hashed to it goes to the named server on each director
    const client = clientForSlot(f.slot!);
    expect(new SchedulerTable('mh', three).pick(client)?.address + ':80').toBe(f.servers![0]);
    expect(new SchedulerTable('mh', other).pick(client)?.address + ':80').toBe(f.servers![1]);
    // and no earlier slot differs
    for (let s = 0; s < f.slot!; s++) {
      const cl = clientForSlot(s);
      expect(new SchedulerTable('mh', three).pick(cl)?.address).toBe(new SchedulerTable('mh', other).pick(cl)?.address);
    }
    expect(c.services[0]!.differingSlots).toBeGreaterThan(0);
  });

  it('a different weight, a missing destination, different flags, a missing service, another scheduler', () => {
    const w = compareDirectors([{ name: 'a', services: [svc(three)] }, { name: 'b', services: [svc([d('10.1.0.1'), d('10.1.0.2', 3), d('10.1.0.3')])] }]);
    expect(w.first).toMatchObject({ kind: 'slot', cause: 'weight' });
    expect(w.first!.detail).toMatch(/10\.1\.0\.2:80 has weight 1 on a and 3 on b/);

    const m = compareDirectors([{ name: 'a', services: [svc(three)] }, { name: 'b', services: [svc(three.slice(0, 2))] }]);
    expect(m.first).toMatchObject({ kind: 'slot', cause: 'missing destination' });
    expect(m.first!.detail).toMatch(/10\.1\.0\.3:80 only on a/);

    const fl = compareDirectors([{ name: 'a', services: [svc(three)] }, { name: 'b', services: [svc(three, { flags: { schedPort: true } })] }]);
    expect(fl.first).toMatchObject({ kind: 'slot', cause: 'flags' });
    expect(fl.first!.detail).toMatch(/hashed differently \(with and without their port\)/);
    const fb = compareDirectors([{ name: 'a', services: [svc(three)] }, { name: 'b', services: [svc(three, { flags: { schedFallback: true } })] }]);
    expect(fb.first!.detail).toMatch(/differ once a server is unusable/);

    const ms = compareDirectors([{ name: 'a', services: [svc(three)] }, { name: 'b', services: [] }]);
    expect(ms.first).toMatchObject({ kind: 'service', cause: 'missing service', directors: ['a', 'b'] });

    const sc = compareDirectors([{ name: 'a', services: [svc(three)] }, { name: 'b', services: [svc(three, { scheduler: 'sh' })] }]);
    expect(sc.first).toMatchObject({ kind: 'service', cause: 'scheduler' });
  });

  it('sh buckets are compared too, weights scaled alike agree for mh only', () => {
    const sh = compareDirectors([{ name: 'a', services: [svc(three, { scheduler: 'sh' })] }, { name: 'b', services: [svc([...three].reverse(), { scheduler: 'sh' })] }]);
    expect(sh.first).toMatchObject({ kind: 'slot', cause: 'destination order' });
    expect(sh.services[0]!.slots).toBe(256);
    // mh divides the weights by their gcd: 2,2,2 builds the table 1,1,1 builds
    const mh = compareDirectors([{ name: 'a', services: [svc(three)] }, { name: 'b', services: [svc(three.map((x) => ({ ...x, weight: 2 })))] }]);
    expect(mh.first).toMatchObject({ kind: 'config', cause: 'weight' });
    expect(mh.services[0]!.differingSlots).toBe(0);
  });

  it('warns about schedulers that do not hash and about sloppy_tcp off', () => {
    const c = compareDirectors([
      { name: 'a', services: [svc(three, { scheduler: 'wrr' })], sloppyTcp: false },
      { name: 'b', services: [svc(three, { scheduler: 'wrr' })], sloppyTcp: true },
    ]);
    expect(c.consistent).toBe(true);
    expect(c.warnings.join('\n')).toMatch(/scheduler wrr does not hash/);
    expect(c.warnings.join('\n')).toMatch(/a: net\.ipv4\.vs\.sloppy_tcp is 0/);
  });

  it('validates its input', () => {
    expect(() => compareDirectors([{ name: 'a', services: [] }])).toThrow(ValidationError);
    expect(() => compareDirectors([{ name: '', services: [] }, { name: 'b', services: [] }])).toThrow(/directors\[0\]\.name/);
    expect(() => compareDirectors([{ name: 'a', services: 5 as never }, { name: 'b', services: [] }])).toThrow(/directors\[0\]\.services/);
  });
});
