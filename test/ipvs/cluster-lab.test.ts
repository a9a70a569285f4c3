// The cluster lab (examples/cluster-lab, `npm run demo:cluster`) as tests: the same topology and
// experiments, driving the library's TypeScript sources. A router learns the VIP from three IPVS
// DR directors by FRR ospfd (a real routing daemon; FRR comes from the host's filesystem in the lab
// VM), hundreds of long-lived connections exchange data through them, and directors and real
// servers fail. Behaviour is asserted (who survives, which flows move, where new connections go);
// times are only reported. The its run in order on one lab: each leaves it whole for the next.
//
// BFD is off here (OSPF's dead interval detects a dead director): under emulation a starved bfdd
// can miss its deadlines, and a flap would move flows the test did not plan. The demo measures BFD.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as lvs from '../../lib/index.js';
import { skipUnless } from '../helpers/kernel.js';
import { skipWithoutTools } from '../helpers/tools.js';
import { BASELINE, ClusterLab, RECIPE, clusterTopology, haveFrr, type LabClient } from '../../examples/cluster-lab/topology.mjs';
import {
  directorFailure,
  gracefulDrain,
  openConnections,
  realServerFailure,
  restore,
  reviveDirector,
  startMonitors,
  stopMonitors,
  type Monitors,
  type Opened,
} from '../../examples/cluster-lab/scenarios.mjs';

// FRR (Debian's frr: zebra, ospfd in /usr/lib/frr, vtysh on PATH) is a test tool: missing, the
// file skips loudly, or fails under CI=true
const skip = skipUnless('ipvs') || skipWithoutTools('cluster lab (FRR)', ['vtysh'], () => (haveFrr() ? undefined : 'no zebra/ospfd in /usr/lib/frr'));

const COUNT = 120;
const sorted = (a: string[]) => [...a].sort();

describe.skipIf(skip)('cluster lab: FRR-announced VIP, three directors, long-lived connections through failures', () => {
  const t = clusterTopology(`lvscl-${process.pid}`, { clientAddrs: 40 });
  const lab = new ClusterLab(lvs, t, { bfd: false });
  let client: LabClient;
  let open: Opened;
  let mon: Monitors | undefined;
  const [d1, d2] = [t.directors[0]!, t.directors[1]!];
  const report = (what: string, o: unknown) => console.log(`cluster lab ${what}: ${JSON.stringify(o, (k, v) => (k === 'keys' || k === 'broken' || k === 'predictedMoved' || k === 'actualMoved' ? (v as string[]).length : v))}`);

  beforeAll(async () => {
    await lab.build();
    lab.watchPaths();
    for (const node of [t.router, ...t.directors]) await lab.startFrr(node);
    await lab.configureIpvs(RECIPE);
    await Promise.all([lab.startServers(), lab.startStandby(t.servers[0]!)]);
    await lab.waitForPaths(t.directors.map((d) => d.name), { timeoutMs: 120_000 });
    client = await lab.startClient();
  });

  afterAll(async () => {
    await stopMonitors(mon);
    expect(lab.close()).toEqual([]);
  });
  // a worker that exits without reaching afterAll must still stop FRR and remove the namespaces
  process.once('exit', () => lab.close());

  it('(a) recipe mh + sloppy_tcp: every connection survives a director failure; the moved flows are exactly the predicted ones; they survive moving back', async () => {
    const a = await directorFailure(lab, client, { victim: d1, recipe: RECIPE, count: COUNT, basePort: 20000 });
    report('(a)', a);
    expect(a.opened).toBe(COUNT);
    expect(a.lostBefore).toBe(0);
    expect(sorted(a.pathsAfter)).toEqual(sorted(a.planned));
    expect(a.entryAgrees).toBe(COUNT); // each flow's IPVS entry is on the director the router query names
    expect(a.serverAgrees).toBe(COUNT); // and its real server is the one mh predicts
    expect(a.predictedMoved.length).toBeGreaterThan(a.fromVictim - 1);
    expect(a.fromVictim).toBeGreaterThan(0);
    expect(sorted(a.actualMoved)).toEqual(sorted(a.predictedMoved));
    expect(a.broken).toEqual([]);
    expect(a.stalled).toEqual([]);
    expect(a.survived).toBe(COUNT);
    const back = await reviveDirector(lab, client, d1, a.keys);
    report('(a) back', back);
    expect(back.aliveAfter).toBe(COUNT);
    await client.send({ op: 'close' });
  });

  it('(b) baseline wrr without sloppy_tcp: exactly the flows the router moves are reset, the others go on', async () => {
    const b = await directorFailure(lab, client, { victim: d1, recipe: BASELINE, count: COUNT, basePort: 25000 });
    report('(b)', b);
    expect(b.opened).toBe(COUNT);
    expect(b.flapped, 'the router flapped a path during the experiment (a starved ospfd?): other flows moved too').toBe(false);
    expect(b.lostBefore).toBe(0);
    expect(b.predictedMoved.length).toBeGreaterThan(0);
    expect(sorted(b.broken)).toEqual(sorted(b.predictedMoved));
    expect(b.stalled).toEqual([]);
    expect(b.survived).toBe(COUNT - b.predictedMoved.length);
    await client.send({ op: 'close' });
    await reviveDirector(lab, client, d1, []);
    await lab.configureIpvs(RECIPE);
    open = await openConnections(lab, client, { count: COUNT, basePort: 30000 });
    expect(open.opened).toBe(COUNT);
  });

  it('(c) health checks drain a dead real server on every director: no new connection reaches it, the others go on, it comes back', async () => {
    mon = await startMonitors(lab, { intervalMs: 500, timeoutMs: 2000, rise: 2, fall: 2 });
    const c = await realServerFailure(lab, client, mon, { victim: t.servers[0]!, keys: open.keys, probes: 40, probeBasePort: 35000 });
    report('(c)', { ...c, monitorsStartMs: mon.startMs });
    expect(c.onVictim).toBeGreaterThan(0);
    expect(c.probesToVictim).toBe(0);
    expect(c.entriesToVictim).toBe(0);
    expect(c.probeFailures).toBe(0);
    expect(c.probePredicted).toBe(c.probes); // mh with fallback, the drained server's slots re-hashed
    expect(c.probeDisruptionAgrees).toBe(c.probes); // predictDisruption, asked before the failure
    expect(c.othersAlive).toBe(c.others);
  });

  it('(d) a graceful director drain (VIP announcement withdrawn) resets nothing; the moved flows are exactly the predicted ones', async () => {
    const d = await gracefulDrain(lab, client, { director: d2, keys: open.keys });
    report('(d)', d);
    expect(d.predictedMoved.length).toBeGreaterThan(0);
    expect(sorted(d.actualMoved)).toEqual(sorted(d.predictedMoved));
    expect(d.resets).toBe(0);
    expect(d.errors).toEqual({});
    expect(d.survived).toBe(d.connections);
    expect(sorted(d.pathsBack)).toEqual(t.directors.map((x) => x.name));
  });

  it('(e) everything back: every path, every weight on every director, identical directors, the connections still going', async () => {
    const e = await restore(lab, client, open.keys);
    report('(e)', e);
    expect(e.allPaths).toBe(true);
    expect(e.allWeights).toBe(true);
    expect(e.consistent.ok).toBe(true);
    expect(e.stillGoing).toBe(e.open);
  });
});
