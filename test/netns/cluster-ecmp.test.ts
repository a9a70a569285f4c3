// ECMP disruption predicted before the change, then judged by the host kernel: in a namespace
// this file creates (and deletes), a router with a multipath route (then a hash-threshold
// nexthop group, then a resilient group) is asked for the path of a few thousand flows before and
// after a change (`ip route get ... iif IN ipproto P sport S dport D`, batched: the kernel's own
// choice for a forwarded packet). Every flow predicted to move must have moved to the predicted
// path, and every other flow must have stayed: 100%, no tolerance.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ecmpPathsOfGroup, ecmpPathsOfRoute, predictEcmpDisruption, predictResilientDisruption, type EcmpPath } from '../../lib/cluster/ecmp.js';
import { Rtnl } from '../../lib/rtnl/handle.js';
import { numberToIpv4 } from '../../lib/hash/index.js';
import type { Flow } from '../../lib/hash/multipath.js';

const NS = `lvskit-cecmp-${process.pid}`;
const SEED = 0x5eed2468;
const FLOWS = 3000;
const NH = 4;

function probe(): { ok: boolean; why: string } {
  try {
    execFileSync('ip', ['netns', 'add', NS], { stdio: 'pipe' });
    return { ok: true, why: '' };
  } catch (e) {
    return { ok: false, why: `cannot create a network namespace: ${(e as Error).message.split('\n')[0]}` };
  }
}
const caps = probe();
if (!caps.ok) console.warn(`\n*** SKIPPED cluster-ecmp: ${caps.why} ***\n`);

const ip = (...args: string[]) => execFileSync('ip', ['-n', NS, ...args], { encoding: 'utf8', stdio: 'pipe' });
const sysctl = (kv: string) => execFileSync('ip', ['netns', 'exec', NS, 'sysctl', '-qw', kv], { stdio: 'pipe' });

let rng = 0x7f4a7c15;
const rnd = (k: number) => {
  rng ^= rng << 13; rng >>>= 0; rng ^= rng >>> 17; rng ^= rng << 5; rng >>>= 0;
  return rng % k;
};

function randomFlows(n: number): Flow[] {
  return Array.from({ length: n }, () => ({
    src: numberToIpv4(((rnd(2) ? 0x05000000 : 0x64000000) | rnd(1 << 24)) >>> 0),
    dst: numberToIpv4((0xc6336400 | rnd(256)) >>> 0),
    sport: 1 + rnd(65535), dport: 1 + rnd(65535), proto: rnd(2) ? 'tcp' as const : 'udp' as const,
  }));
}

/** The kernel's path (device) for each flow, as a forwarded packet arriving on vin. */
function kernelPaths(flows: Flow[]): string[] {
  const lines = flows.map((f) => `route get ${f.dst} from ${f.src} iif vin ipproto ${f.proto} sport ${f.sport} dport ${f.dport}`);
  return execFileSync('ip', ['-n', NS, '-j', '-batch', '-'], { input: lines.join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 26 })
    .trim().split('\n').map((l) => (JSON.parse(l) as Array<{ dev: string }>)[0]!.dev);
}

const hops = (paths: EcmpPath[]) => paths.flatMap((p) => ['nexthop', 'via', `10.${String(p.id).slice(1)}.0.2`, 'dev', String(p.id), 'weight', String(p.weight ?? 1)]);

describe.skipIf(!caps.ok)('ECMP disruption predictions agree with the kernel (netns)', () => {
  const flows = randomFlows(FLOWS);
  const hash = { seed: SEED, policy: 1 as const };
  let judged = 0;

  beforeAll(() => {
    sysctl('net.ipv4.ip_forward=1');
    sysctl(`net.ipv4.fib_multipath_hash_seed=${SEED}`);
    sysctl('net.ipv4.fib_multipath_hash_policy=1');
    ip('link', 'set', 'lo', 'up');
    ip('link', 'add', 'vin', 'type', 'veth', 'peer', 'name', 'vinp');
    ip('link', 'set', 'vin', 'up'); ip('link', 'set', 'vinp', 'up');
    ip('addr', 'add', '192.0.2.1/24', 'dev', 'vin');
    for (let i = 0; i < NH; i++) {
      ip('link', 'add', `d${i}`, 'type', 'veth', 'peer', 'name', `p${i}`);
      ip('link', 'set', `d${i}`, 'up'); ip('link', 'set', `p${i}`, 'up');
      ip('addr', 'add', `10.${i}.0.1/24`, 'dev', `d${i}`);
      ip('nexthop', 'add', 'id', String(i + 1), 'via', `10.${i}.0.2`, 'dev', `d${i}`);
    }
  });
  afterAll(() => {
    try { execFileSync('ip', ['netns', 'del', NS], { stdio: 'pipe' }); } catch { /* already gone */ }
  });

  /** Installs `before`, asks the kernel, applies `change`, asks again; compares with the prediction. */
  function judge(before: EcmpPath[], after: EcmpPath[], install: (p: EcmpPath[]) => void, change: () => void, kind: 'route' | 'group' = 'route') {
    install(before);
    const k0 = kernelPaths(flows);
    change();
    const k1 = kernelPaths(flows);
    const p = predictEcmpDisruption(before, after, { flows, hash, kind });
    const wrong = p.flows!.filter((f, i) => f.before !== k0[i] || f.after !== k1[i]);
    expect(wrong).toEqual([]);
    const moved = k0.filter((d, i) => d !== k1[i]).length;
    expect(p.flows!.filter((f) => f.moved).length).toBe(moved);
    // the exact measure is the share of the hash space: the flows sample it
    expect(Math.abs(moved / FLOWS - p.share)).toBeLessThan(0.04);
    judged += FLOWS;
    return { p, moved };
  }

  it('multipath route: a director removed: the middle one moves only its own flows, the last one moves survivors too', () => {
    const before = [{ id: 'd0' }, { id: 'd1' }, { id: 'd2' }];
    const install = (x: EcmpPath[]) => ip('route', 'replace', '198.51.100.0/24', ...hops(x));
    const middle = [{ id: 'd0' }, { id: 'd2' }];
    const m = judge(before, middle, install, () => install(middle)).p;
    expect(m.survivorShare).toBe(0);
    expect(m.share).toBeCloseTo(1 / 3, 6);
    const last = [{ id: 'd0' }, { id: 'd1' }];
    const { p } = judge(before, last, install, () => install(last));
    expect(p.share).toBeCloseTo(1 / 2, 6);
    expect(p.survivorShare).toBeCloseTo(1 / 6, 6);
    const betweenSurvivors = p.flows!.filter((f) => f.moved && f.before !== 'd2').length;
    expect(betweenSurvivors).toBeGreaterThan(0);
    console.log(`cluster-ecmp: 3 -> 2 paths, last removed: predicted share ${(p.share * 100).toFixed(2)}% (between survivors ${(p.survivorShare * 100).toFixed(2)}%); ${p.flows!.filter((f) => f.moved).length} of ${FLOWS} flows moved, ${betweenSurvivors} of them between survivors, all as predicted`);
  });

  it('multipath route: a director added, weights changed', () => {
    const before = [{ id: 'd0', weight: 3 }, { id: 'd1', weight: 1 }, { id: 'd2', weight: 7 }];
    const after = [{ id: 'd0', weight: 3 }, { id: 'd1', weight: 2 }, { id: 'd2', weight: 7 }, { id: 'd3', weight: 5 }];
    judge(before, after, (x) => ip('route', 'replace', '198.51.100.0/24', ...hops(x)), () => ip('route', 'replace', '198.51.100.0/24', ...hops(after)));
  });

  it('multipath route: a nexthop\'s link set down (dead: out of the weights)', () => {
    const before = [{ id: 'd0' }, { id: 'd1' }, { id: 'd2' }, { id: 'd3', weight: 2 }];
    const after = [{ id: 'd0' }, { id: 'd1', alive: false }, { id: 'd2' }, { id: 'd3', weight: 2 }];
    // nexthop objects on d1 are flushed with the link: the plain route keeps a dead nexthop
    try {
      judge(before, after, (x) => ip('route', 'replace', '198.51.100.0/24', ...hops(x)), () => ip('link', 'set', 'd1', 'down'));
    } finally {
      ip('link', 'set', 'd1', 'up');
      ip('nexthop', 'replace', 'id', '2', 'via', '10.1.0.2', 'dev', 'd1');
    }
  });

  it('hash-threshold nexthop group (as FRR installs it): a member removed', () => {
    const before = [{ id: 'd0' }, { id: 'd1' }, { id: 'd2' }, { id: 'd3' }];
    const after = [{ id: 'd0' }, { id: 'd1' }, { id: 'd3' }];
    const group = (x: EcmpPath[]) => x.map((p) => `${Number(String(p.id).slice(1)) + 1},${p.weight ?? 1}`).join('/');
    judge(before, after, (x) => {
      ip('nexthop', 'replace', 'id', '100', 'group', group(x));
      ip('route', 'replace', '198.51.100.0/24', 'nhid', '100');
    }, () => ip('nexthop', 'replace', 'id', '100', 'group', group(after)), 'group');
  });

  it('hash-threshold nexthop group: a member whose neighbour failed is skipped (its hashes go to the next one)', () => {
    const before = [{ id: 'd0' }, { id: 'd1' }, { id: 'd2' }, { id: 'd3' }];
    const after = [{ id: 'd0' }, { id: 'd1', alive: false }, { id: 'd2' }, { id: 'd3' }];
    try {
      judge(before, after, () => {
        ip('nexthop', 'replace', 'id', '100', 'group', '1/2/3/4');
        ip('route', 'replace', '198.51.100.0/24', 'nhid', '100');
      }, () => ip('neigh', 'replace', '10.1.0.2', 'dev', 'd1', 'lladdr', '02:00:00:00:01:02', 'nud', 'failed'), 'group');
    } finally {
      ip('neigh', 'del', '10.1.0.2', 'dev', 'd1');
    }
  });

  it('paths read back from the kernel (ecmpPathsOfRoute, ecmpPathsOfGroup) predict the same moves', async () => {
    const rtnl = Rtnl.open({ netns: NS });
    try {
      const gw = (id: string | number) => `d${String(id).split('.')[1]}`; // 10.i.0.2 -> di
      const read = async () => ecmpPathsOfRoute((await rtnl.routes.get('198.51.100.0/24'))!);
      ip('route', 'replace', '198.51.100.0/24', ...hops([{ id: 'd0', weight: 2 }, { id: 'd1' }, { id: 'd2', weight: 5 }, { id: 'd3' }]));
      const before = await read();
      expect(before.map((p) => [p.id, p.weight, p.alive])).toEqual([['10.0.0.2', 2, true], ['10.1.0.2', 1, true], ['10.2.0.2', 5, true], ['10.3.0.2', 1, true]]);
      const k0 = kernelPaths(flows);
      ip('route', 'replace', '198.51.100.0/24', ...hops([{ id: 'd0', weight: 2 }, { id: 'd2', weight: 5 }, { id: 'd3' }]));
      const after = await read();
      const k1 = kernelPaths(flows);
      const p = predictEcmpDisruption(before, after, { flows, hash });
      expect(p.flows!.filter((f, i) => gw(f.before!) !== k0[i] || gw(f.after!) !== k1[i])).toEqual([]);
      // a hash-threshold group read back: member ids in the kernel's order
      ip('nexthop', 'replace', 'id', '101', 'group', '1,3/2,1/4,2');
      ip('route', 'replace', '198.51.100.0/24', 'nhid', '101');
      const g0 = ecmpPathsOfGroup((await rtnl.nexthops.get(101))!);
      expect(g0).toEqual([{ id: 1, weight: 3 }, { id: 2, weight: 1 }, { id: 4, weight: 2 }]);
      const kg0 = kernelPaths(flows);
      ip('nexthop', 'replace', 'id', '101', 'group', '1,3/4,2');
      const g1 = ecmpPathsOfGroup((await rtnl.nexthops.get(101))!);
      const kg1 = kernelPaths(flows);
      const q = predictEcmpDisruption(g0, g1, { flows, hash, kind: 'group' });
      const dev = (id: string | null) => `d${Number(id) - 1}`;
      expect(q.flows!.filter((f, i) => dev(f.before) !== kg0[i] || dev(f.after) !== kg1[i])).toEqual([]);
      judged += 2 * FLOWS;
    } finally {
      rtnl.close();
    }
  });

  it('resilient nexthop group: a member removed moves exactly its buckets', () => {
    ip('nexthop', 'replace', 'id', '200', 'group', '1/2/3', 'type', 'resilient', 'buckets', '256', 'idle_timer', '0');
    ip('route', 'replace', '198.51.100.0/24', 'nhid', '200');
    const read = () => {
      const rows = JSON.parse(ip('-j', 'nexthop', 'bucket', 'show', 'id', '200')) as Array<{ bucket: { index: number; nhid: number } }>;
      const b = new Uint32Array(rows.length);
      for (const r of rows) b[r.bucket.index] = r.bucket.nhid;
      return b;
    };
    const b0 = read();
    const k0 = kernelPaths(flows);
    const p = predictResilientDisruption(b0, { remove: [2] }, { flows, hash });
    ip('nexthop', 'replace', 'id', '200', 'group', '1/3', 'type', 'resilient', 'buckets', '256', 'idle_timer', '0');
    const b1 = read();
    const k1 = kernelPaths(flows);
    // the buckets that changed are exactly the removed member's
    const changed = [...b0.keys()].filter((i) => b0[i] !== b1[i]);
    expect(changed).toEqual([...b0.keys()].filter((i) => b0[i] === 2));
    expect(p.movedBuckets).toBe(changed.length);
    // every flow: moved iff predicted, before as predicted, and after as the table read after says
    const q = predictResilientDisruption(b0, { after: b1 }, { flows, hash });
    const dev = (id: number | null) => (id === null ? null : `d${id - 1}`);
    p.flows!.forEach((f, i) => {
      expect(dev(f.before)).toBe(k0[i]);
      expect(f.moved).toBe(k0[i] !== k1[i]);
      expect(dev(q.flows![i]!.after)).toBe(k1[i]);
    });
    judged += FLOWS;
    console.log(`cluster-ecmp: resilient 3 -> 2: ${changed.length} of 256 buckets moved as predicted; ${p.flows!.filter((f) => f.moved).length} of ${FLOWS} flows moved, none between survivors`);
  });

  it('summary', () => {
    console.log(`cluster-ecmp: ${judged} flow placements (before and after a change) agreed with the kernel`);
    expect(judged).toBe(9 * FLOWS);
  });
});
