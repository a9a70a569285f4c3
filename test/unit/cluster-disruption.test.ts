// predictDisruption (IPVS sh/mh slots, per-flow moves) and predictEcmpDisruption /
// predictResilientDisruption (hash space, buckets), checked against brute force over the same
// kernel-exact primitives (SchedulerTable, multipathUpperBounds + multipathSelect). The kernel
// itself is the judge in test/netns/cluster-ecmp.test.ts and test/ipvs/cluster-consistency.test.ts.
import { describe, expect, it } from 'vitest';
import { formatDisruption, predictDisruption } from '../../lib/cluster/disruption.js';
import { HASH_SPACE, ecmpPathsOfGroup, ecmpPathsOfRoute, formatEcmpDisruption, predictEcmpDisruption, predictResilientDisruption } from '../../lib/cluster/ecmp.js';
import { SchedulerTable, multipathHash, multipathSelect, multipathUpperBounds, numberToIpv4 } from '../../lib/hash/index.js';
import type { StateService } from '../../lib/format/state.js';

const KEY = { protocol: 'tcp' as const, address: '10.0.0.1', port: 80 };
const d = (a: string, weight = 1) => ({ address: a, port: 80, weight });
const svc = (scheduler: StateService['scheduler'], dests: ReturnType<typeof d>[]): StateService => ({ key: KEY, scheduler, destinations: dests });

let rng = 0x2545f491;
const rnd = () => { rng ^= rng << 13; rng >>>= 0; rng ^= rng >>> 17; rng ^= rng << 5; rng >>>= 0; return rng; };

describe('predictDisruption (IPVS)', () => {
  // kernel order (newest first) as a dump would give it: canonical ascending
  const cur = [svc('mh', [d('10.1.0.1'), d('10.1.0.2'), d('10.1.0.3'), d('10.1.0.4')])];

  it('mh, one real server removed: the moved slots, and every flow moves exactly when its slot says so', () => {
    const planned = [svc('mh', [d('10.1.0.1'), d('10.1.0.2'), d('10.1.0.4')])];
    const flows = Array.from({ length: 3000 }, () => ({ src: numberToIpv4(rnd()), sport: rnd() & 0xffff, dst: '10.0.0.1', dport: 80 }));
    const p = predictDisruption({ services: cur }, { services: planned }, { flows });
    const s = p.services[0]!;
    expect(s).toMatchObject({ service: 'tcp 10.0.0.1:80', scheduler: 'mh', status: 'predicted', totalSlots: 4093, rehashedSlots: 0 });
    // the removed server's slots all move (Maglev moves a few more: never fewer)
    const before = new SchedulerTable('mh', cur[0]!.destinations!.map((x) => ({ address: x.address, port: x.port, weight: x.weight ?? 1 })));
    const owned = Array.from(before.table).filter((i) => i === 2).length;
    expect(s.movedSlots).toBeGreaterThanOrEqual(owned);
    expect(s.movedSlots).toBeLessThan(owned * 1.2);
    expect(s.transitions!.filter((t) => t.from === '10.1.0.3:80').reduce((a, t) => a + t.slots, 0)).toBe(owned);
    // per flow: brute force with the two tables
    const after = new SchedulerTable('mh', planned[0]!.destinations!.map((x) => ({ address: x.address, port: x.port, weight: x.weight ?? 1 })));
    let moved = 0;
    p.flows!.forEach((f, i) => {
      const b = before.pick(flows[i]!.src)!.address, a = after.pick(flows[i]!.src)!.address;
      expect(f).toMatchObject({ predictable: true, before: `${b}:80`, after: `${a}:80`, moved: a !== b });
      if (a !== b) moved++;
    });
    // the flow share is the slot share, within sampling error
    expect(Math.abs(moved / flows.length - s.share!)).toBeLessThan(0.03);
    const text = formatDisruption(p, { flows });
    expect(text[0]).toMatch(/^tcp 10\.0\.0\.1:80 mh: \d+ of 4093 slots change real server \(\d+\.\d\d%\)/);
    expect(text.some((l) => /^flows: \d+ of 3000 move$/.test(l))).toBe(true);
  });

  it('a desired state goes through the planner: a non-canonical kernel order is rebuilt, and that moves flows', () => {
    const shuffled = [svc('mh', [d('10.1.0.3'), d('10.1.0.1'), d('10.1.0.4'), d('10.1.0.2')])];
    const same = predictDisruption({ services: shuffled }, { services: shuffled }, { planned: 'kernel' });
    expect(same.services[0]!.status).toBe('unchanged');
    const viaPlan = predictDisruption({ services: shuffled }, { services: shuffled });
    expect(viaPlan.services[0]!.status).toBe('predicted');
    expect(viaPlan.services[0]!.movedSlots).toBeGreaterThan(0);
    // with order 'add' the planner keeps the kernel order: nothing moves
    expect(predictDisruption({ services: shuffled }, { services: shuffled }, { plan: { order: 'add' } }).services[0]!.status).toBe('unchanged');
  });

  it('mh weight 0 keeps the slots: with fallback they re-hash by client, without they have no server', () => {
    const drained = [svc('mh', [d('10.1.0.1'), d('10.1.0.2'), d('10.1.0.3', 0), d('10.1.0.4')])];
    const p = predictDisruption({ services: cur }, { services: drained });
    const s = p.services[0]!;
    expect(s.transitions!.every((t) => t.from === '10.1.0.3:80' && t.to === 'none')).toBe(true);
    const fb = (x: StateService[]) => x.map((y) => ({ ...y, flags: { schedFallback: true } }));
    const q = predictDisruption({ services: fb(cur) }, { services: fb(drained) }).services[0]!;
    // the drained server's clients certainly move; where to depends on each client
    expect(q.movedSlots).toBe(s.movedSlots);
    expect(q.rehashedSlots).toBe(0);
    expect(q.transitions!.every((t) => t.from === '10.1.0.3:80' && t.to === 'rehashed')).toBe(true);
    // undrained again: the same slots come back to it, certainly
    const back = predictDisruption({ services: fb(drained) }, { services: fb(cur) }, { lastWeights: { 'tcp 10.0.0.1:80': { '10.1.0.3:80': 1 } } }).services[0]!;
    expect(back.movedSlots).toBe(s.movedSlots);
    expect(back.transitions!.every((t) => t.from === 'rehashed' && t.to === '10.1.0.3:80')).toBe(true);
  });

  it('sh buckets, and honest answers for wrr, new and removed services', () => {
    const sh = predictDisruption({ services: [svc('sh', [d('10.1.0.1'), d('10.1.0.2')])] }, { services: [svc('sh', [d('10.1.0.1'), d('10.1.0.2', 3)])] });
    expect(sh.services[0]).toMatchObject({ status: 'predicted', totalSlots: 256 });
    const wrr = predictDisruption({ services: [svc('wrr', [d('10.1.0.1')])] }, { services: [svc('wrr', [d('10.1.0.1'), d('10.1.0.2')])] }, { flows: [{ src: '5.0.0.1', dst: '10.0.0.1', dport: 80 }] });
    expect(wrr.services[0]!.status).toBe('not-predictable');
    expect(wrr.services[0]!.note).toMatch(/not predictable: connections already established stay; new ones redistribute/);
    expect(wrr.flows![0]).toMatchObject({ predictable: false, service: 'tcp 10.0.0.1:80' });
    const other = { ...svc('mh', [d('10.1.0.9')]), key: { ...KEY, port: 443 } };
    const addRemove = predictDisruption({ services: cur }, { services: [other] }, { planned: 'kernel' });
    expect(addRemove.services.map((x) => x.status)).toEqual(['removed', 'added']);
  });
});

describe('predictEcmpDisruption (hash-threshold)', () => {
  const owner = (weights: number[], ids: string[], h: number) => ids[multipathSelect(Uint32Array.of(h), multipathUpperBounds(weights), new Uint16Array(1))[0]!]!;

  it('three equal paths, one removed: 1/2 of the hash space moves, 1/6 between the survivors', () => {
    const p = predictEcmpDisruption([{ id: 'a' }, { id: 'b' }, { id: 'c' }], [{ id: 'a' }, { id: 'b' }]);
    expect(p.share).toBeCloseTo(1 / 2, 8);
    expect(p.survivorShare).toBeCloseTo(1 / 6, 8);
    expect(p.transitions.map((t) => [t.from, t.to])).toEqual([['c', 'b'], ['b', 'a']]);
    expect(formatEcmpDisruption(p)[0]).toBe('ECMP (hash-threshold): 50.00% of flows change path; 16.67% move between paths that stay');
  });

  it('weights, additions and dead paths: the measure and every flow agree with brute force', () => {
    const cases: Array<[Array<{ id: string; weight?: number; alive?: boolean }>, Array<{ id: string; weight?: number; alive?: boolean }>]> = [
      [[{ id: 'a', weight: 3 }, { id: 'b' }, { id: 'c', weight: 7 }], [{ id: 'a', weight: 3 }, { id: 'c', weight: 7 }]],
      [[{ id: 'a' }, { id: 'b' }], [{ id: 'a' }, { id: 'b' }, { id: 'x', weight: 2 }]],
      [[{ id: 'a' }, { id: 'b' }, { id: 'c' }], [{ id: 'a' }, { id: 'b', alive: false }, { id: 'c' }]],
      [[{ id: 'a', weight: 200 }, { id: 'b', weight: 1 }], [{ id: 'a', weight: 1 }, { id: 'b', weight: 200 }]],
    ];
    const regionOwner = (regions: Array<{ path: string; from: number; to: number }>, h: number) => regions.find((r) => r.from <= h && h <= r.to)?.path ?? null;
    for (const [before, after] of cases) {
      const p = predictEcmpDisruption(before, after);
      const live = (x: typeof before) => x.filter((y) => y.alive !== false);
      const wb = live(before).map((y) => y.weight ?? 1), ib = live(before).map((y) => y.id);
      const wa = live(after).map((y) => y.weight ?? 1), ia = live(after).map((y) => y.id);
      // every region boundary (and its neighbours) is owned as the kernel's rule says
      for (const r of [...p.before, ...p.after]) {
        for (const h of [r.from, r.to, Math.max(0, r.from - 1), Math.min(HASH_SPACE - 1, r.to + 1)]) {
          expect(regionOwner(p.before, h)).toBe(owner(wb, ib, h));
          expect(regionOwner(p.after, h)).toBe(owner(wa, ia, h));
        }
      }
      // the exact measure equals the sum of the transitions, and a large sample agrees with it
      expect(p.transitions.reduce((a, t) => a + t.hashes, 0)).toBe(p.movedHashes);
      const N = 100_000;
      const hs = Uint32Array.from({ length: N }, () => rnd() >>> 1);
      const ob = multipathSelect(hs, multipathUpperBounds(wb), new Uint16Array(N));
      const oa = multipathSelect(hs, multipathUpperBounds(wa), new Uint16Array(N));
      let count = 0;
      for (let i = 0; i < N; i++) if (ib[ob[i]!] !== ia[oa[i]!]) count++;
      expect(Math.abs(count / N - p.share)).toBeLessThan(0.006);
    }
  });

  it('per flow: the kernel hash, or the packet\'s L4 hash >> 1 under policy 1', () => {
    const flows = Array.from({ length: 500 }, () => ({ src: numberToIpv4(rnd()), dst: '198.51.100.7', sport: rnd() & 0xffff, dport: 443, proto: 'tcp' as const }));
    const hash = { seed: 0x5eed, policy: 1 as const };
    const p = predictEcmpDisruption([{ id: 'a' }, { id: 'b' }, { id: 'c' }], [{ id: 'a' }, { id: 'c' }], { flows, hash });
    p.flows!.forEach((f, i) => {
      expect(f.hash).toBe(multipathHash(flows[i]!, hash));
      expect(f.before).toBe(owner([1, 1, 1], ['a', 'b', 'c'], f.hash));
      expect(f.after).toBe(owner([1, 1], ['a', 'c'], f.hash));
    });
    const withL4 = predictEcmpDisruption([{ id: 'a' }, { id: 'b' }], [{ id: 'a' }], { flows: [{ ...flows[0]!, packet: { l4Hash: 0xfffffffe } }], hash });
    expect(withL4.flows![0]).toMatchObject({ hash: 0x7fffffff, before: 'b', after: 'a', moved: true });
    const policy0 = predictEcmpDisruption([{ id: 'a' }, { id: 'b' }], [{ id: 'a' }], { flows: [{ ...flows[0]!, packet: { l4Hash: 0xfffffffe } }], hash: { seed: 0x5eed, policy: 0 } });
    expect(policy0.flows![0]!.hash).toBe(multipathHash(flows[0]!, { seed: 0x5eed, policy: 0 }));
  });
});

describe('predictResilientDisruption', () => {
  it('a removal moves exactly the removed nexthop\'s buckets; a table read after gives the transitions', () => {
    const buckets = Uint32Array.from({ length: 64 }, (_, i) => 1 + (i % 3));
    const p = predictResilientDisruption(buckets, { remove: [2] });
    expect(p).toMatchObject({ kind: 'resilient', totalBuckets: 64, movedBuckets: 21 });
    expect(p.transitions).toEqual([{ from: 2, to: null, buckets: 21 }]);
    const after = Uint32Array.from(buckets, (id, i) => (id === 2 ? (i % 2 ? 1 : 3) : id));
    const q = predictResilientDisruption(buckets, { after }, { hash: { seed: 7, policy: 1 }, flows: [{ src: '5.0.0.1', dst: '198.51.100.1', sport: 1, dport: 2, proto: 'udp' }] });
    expect(q.movedBuckets).toBe(21);
    expect(q.flows![0]!.bucket).toBe(q.flows![0]!.hash % 64);
    expect(formatEcmpDisruption(p)[0]).toBe('ECMP (resilient): 21 of 64 buckets change nexthop (32.81%)');
  });
});

describe('paths from kernel objects', () => {
  it('ecmpPathsOfRoute / ecmpPathsOfGroup', () => {
    expect(ecmpPathsOfRoute({ nexthops: [{ gateway: '10.0.0.2', dev: 3, weight: 2 }, { dev: 4, weight: 1, dead: true }] })).toEqual([
      { id: '10.0.0.2', weight: 2, alive: true }, { id: 'dev 4', weight: 1, alive: false }]);
    expect(ecmpPathsOfRoute({ gateway: '10.0.0.2', dev: 3 })).toEqual([{ id: '10.0.0.2', weight: 1, alive: true }]);
    expect(() => ecmpPathsOfRoute({ nhid: 7 })).toThrow(/route\.nhid/);
    expect(ecmpPathsOfGroup({ id: 9, group: [{ id: 1, weight: 1 }, { id: 2, weight: 3 }] })).toEqual([{ id: 1, weight: 1 }, { id: 2, weight: 3 }]);
    expect(() => ecmpPathsOfGroup({ id: 1 } as never)).toThrow(/group/);
    const members = [{ id: 1, gateway: '10.0.0.2', dev: 3 }, { id: 2, dev: 4 }];
    expect(ecmpPathsOfGroup({ id: 9, group: [{ id: 1, weight: 1 }, { id: 2, weight: 3 }] }, members)).toEqual([{ id: '10.0.0.2', weight: 1 }, { id: 'dev 4', weight: 3 }]);
    expect(() => ecmpPathsOfGroup({ id: 9, group: [{ id: 5, weight: 1 }] }, members)).toThrow(/nexthops/);
  });
});
