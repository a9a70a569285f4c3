#!/usr/bin/env node
// The cluster lab: three LVS-DR directors behind a router that learns the VIP from their FRR
// ospfd, under hundreds of long-lived connections, through failures. Needs a kernel with IPVS,
// root and FRR; `npm run demo:cluster` (run.mjs) finds the kernel (this host's, else the lab VM).
//
//   node examples/cluster-lab/lab.mjs [--connections N] [--interval MS] [--probes N] [--bfd | --no-bfd] [--bfd-interval MS]
//
// (a) kill a director under load with the recipe (mh + sloppy_tcp): survivors, the router's
//     reaction, predicted vs actual moved flows; (b) the same with the baseline (wrr, no
//     sloppy_tcp); (c) kill a real server: health checks drain it, new connections avoid it, the
//     others go on; (d) drain a director gracefully: zero resets; (e) everything back.
// Cleanup (FRR daemons, processes, namespaces) runs on success, on failure, on SIGINT/SIGTERM/SIGHUP
// and when the overall timeout (LVSKIT_CLUSTER_TIMEOUT, default 600 s) fires.
import { existsSync, readFileSync } from 'node:fs';
import * as lvs from 'lvskit';
import { BASELINE, ClusterLab, FRR_DIR, RECIPE, VIP, clusterTopology, haveFrr } from './topology.mjs';
import { directorFailure, gracefulDrain, openConnections, realServerFailure, restore, reviveDirector, startMonitors, stopMonitors } from './scenarios.mjs';

const opts = parseArgs(process.argv.slice(2));
const DEADLINE_S = Number(process.env.LVSKIT_CLUSTER_TIMEOUT ?? 600);
const log = (s = '') => process.stdout.write(`${s}\n`);
const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;
const t0 = performance.now();
const since = () => secs(performance.now() - t0);

function parseArgs(argv) {
  // Under emulation (the lab VM) on a busy machine a starved bfdd misses its deadlines and paths
  // flap (100 and 300 ms x 3 both did): there OSPF's dead interval detects a dead director unless
  // --bfd asks for BFD
  const o = { connections: 300, interval: 300, probes: 60, bfd: !process.env.LVSKIT_IN_LAB_VM, bfdInterval: 100 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (lo, hi) => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`${a} wants an integer in ${lo}..${hi}`);
      return v;
    };
    if (a === '--connections') o.connections = num(1, 4000);
    else if (a === '--interval') o.interval = num(50, 5000);
    else if (a === '--probes') o.probes = num(1, 1000);
    else if (a === '--no-bfd') o.bfd = false;
    else if (a === '--bfd') o.bfd = true;
    else if (a === '--bfd-interval') o.bfdInterval = num(10, 10000);
    else if (a === '--help' || a === '-h') {
      console.log('usage: node examples/cluster-lab/lab.mjs [--connections N] [--interval MS] [--probes N] [--bfd | --no-bfd] [--bfd-interval MS] (see README.md here)');
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (see examples/cluster-lab/README.md)`);
  }
  return o;
}

if (!haveFrr()) {
  console.error(`demo:cluster: needs FRR (zebra, ospfd${opts.bfd ? ', bfdd' : ''} in ${FRR_DIR}): apt-get install --no-install-recommends frr`);
  process.exit(2);
}
if (opts.bfd && !existsSync(`${FRR_DIR}/bfdd`)) opts.bfd = false;

const t = clusterTopology(`lvscl-${process.pid}`);
const lab = new ClusterLab(lvs, t, { bfd: opts.bfd, bfdIntervalMs: opts.bfdInterval, maxSeconds: DEADLINE_S + 60 });
let cleaned = false;
function cleanup() {
  if (cleaned) return [];
  cleaned = true;
  const failed = lab.close();
  for (const f of failed) console.error(`cleanup: could not delete namespace ${f}`);
  return failed;
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    console.error(`\n${sig}: stopping FRR and removing the lab's namespaces`);
    cleanup();
    process.exit(130);
  });
}
for (const ev of ['uncaughtException', 'unhandledRejection']) {
  process.on(ev, (e) => {
    console.error(`demo:cluster failed: ${e?.stack ?? e}`);
    cleanup();
    process.exit(1);
  });
}
const watchdog = setTimeout(() => {
  console.error(`demo:cluster: gave up after ${DEADLINE_S} s (LVSKIT_CLUSTER_TIMEOUT); removing the lab`);
  cleanup();
  process.exit(124);
}, DEADLINE_S * 1000);
watchdog.unref();

const pct = (n, d) => (d ? `${((100 * n) / d).toFixed(1)}%` : '-');
const sameSet = (a, b) => a.length === b.length && a.every((k) => new Set(b).has(k));
const hist = (h) => Object.entries(h).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';

function printFailure(r, label) {
  log(`  ${r.opened} connections opened in ${secs(r.openMs)}, by real server: ${hist(r.byServer)}${r.lostBefore ? `; ${r.lostBefore} lost before the failure (path flaps below), the rest count` : ''}`);
  log(`  router paths ${r.paths.join(' ')} -> ${r.pathsAfter.join(' ')} (planned ${r.planned.join(' ')}${r.pathsAfter.join() === r.planned.join() ? ', as planned' : ', NOT as planned'})`);
  log(`  router dropped ${r.victim}'s path ${secs(r.dropMs)} after its links went (${detect})`);
  log(`  IPVS entries where the router query says: ${r.entryAgrees}/${r.connections}${r.serverAgrees !== undefined ? `; real server where mh says: ${r.serverAgrees}/${r.connections}` : ''}${r.byHashAgrees !== undefined ? `; lvskit's hash = route query: ${r.byHashAgrees}/${r.connections}` : ''}`);
  if (r.share) log(`  predicted share of the hash space that moves: ${pct(r.share.share, 1)} (between survivors: ${pct(r.share.survivorShare, 1)})`);
  log(`  predicted moved flows: ${r.predictedMoved.length} (${r.fromVictim} from ${r.victim}, ${r.betweenSurvivors} between survivors)`);
  if (label === 'recipe') {
    const ok = sameSet(r.predictedMoved, r.actualMoved);
    log(`  actual moved flows (the IPVS entry in use, on the survivors): ${r.actualMoved.length}; same set as predicted: ${ok ? 'yes' : 'NO'}${r.unclear ? ` (${r.unclear} unclear)` : ''}`);
  } else {
    log(`  broken connections = predicted moved flows: ${sameSet(r.predictedMoved, r.broken) ? 'yes' : 'NO'} (${r.broken.length} broken, ${r.predictedMoved.length} predicted)`);
  }
  if (flaps(r)) log(flaps(r));
  log(`  survived: ${r.survived}/${r.connections} (${pct(r.survived, r.connections)}); broken ${r.broken.length}, stalled ${r.stalled.length}; resets ${r.resets}; errors: ${hist(r.errors)} (waited ${secs(r.settleMs)})`);
}

const detect = opts.bfd ? `BFD ${opts.bfdInterval} ms x 3` : 'OSPF dead interval 4 s';
const flaps = (r) => (r.pathChanges.length > 1 ? `  router path changes during the experiment (ms, paths): ${r.pathChanges.map(([ms, p]) => `${ms} [${p}]`).join(', ')}` : '');
const results = {};
let code = 0;
try {
  const release = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  const where = process.env.LVSKIT_IN_LAB_VM ? 'the lab VM (QEMU TCG, emulated: timings are slow)' : 'this host';
  log(`lvskit cluster lab on Linux ${release}, in ${where}`);
  log(`  client (${t.client.addrs.length} addresses) -> router (FRR ospfd, ECMP policy 3) -> ${t.directors.map((d) => d.name).join(' ')} (IPVS DR, FRR ospfd${opts.bfd ? ' + bfdd' : ''}) -> ${t.servers.map((s) => s.name).join(' ')}`);
  await lab.build();
  lab.watchPaths();
  log(`built (${since()})`);
  const tf = performance.now();
  for (const node of [t.router, ...t.directors]) await lab.startFrr(node);
  await lab.configureIpvs(RECIPE);
  await Promise.all([lab.startServers(), lab.startStandby(t.servers[0])]);
  const conv = await lab.waitForPaths(t.directors.map((d) => d.name), { since: tf });
  log(`FRR started; the router learned ${VIP} from ${conv.paths.join(' ')} in ${secs(conv.ms)}; real servers listening (${since()})`);
  await lab.waitForBfd();
  const client = await lab.startClient();
  const victim = t.directors[0];
  const per = { count: opts.connections, intervalMs: opts.interval };

  log('');
  log(`(a) kill director ${victim.name} under ${opts.connections} connections, recipe: ${RECIPE.name} (mh-port, mh-fallback, same destination order everywhere)`);
  const a = await directorFailure(lab, client, { victim, recipe: RECIPE, basePort: 20000, ...per });
  results.a = a;
  printFailure(a, 'recipe');
  const ab = await reviveDirector(lab, client, victim, a.keys.filter((k) => !a.broken.includes(k)));
  results.aBack = ab;
  log(`  ${victim.name} back: the router uses ${ab.paths.join(' ')} after ${secs(ab.backMs)}; connections still going after the flows moved back: ${ab.aliveAfter}/${ab.aliveBefore} (${hist(ab.errors)})`);
  await client.send({ op: 'close' });

  log('');
  log(`(b) the same with the baseline: ${BASELINE.name}`);
  const b = await directorFailure(lab, client, { victim, recipe: BASELINE, basePort: 25000, ...per });
  results.b = b;
  printFailure(b, 'baseline');
  await client.send({ op: 'close' });
  const bb = await reviveDirector(lab, client, victim, []);
  log(`  ${victim.name} back after ${secs(bb.backMs)}`);
  await lab.configureIpvs(RECIPE);

  log('');
  const rsVictim = t.servers[0];
  const open = await openConnections(lab, client, { count: opts.connections, basePort: 30000, intervalMs: opts.interval });
  let mon;
  let c;
  if (typeof lvs.monitorHealth !== 'function') {
    log(`(c) skipped: this build of lvskit has no monitorHealth() (health checks); rebuild with npm run build:ts`);
  } else {
    mon = await startMonitors(lab, { intervalMs: 500, timeoutMs: 2000, rise: 2, fall: 2 });
    log(`(c) kill real server ${rsVictim.name}; health monitors on every director (TCP connect every ${mon.intervalMs} ms, fall ${mon.fall}, rise ${mon.rise}, drain to weight 0; started in ${secs(mon.startMs)})`);
    c = await realServerFailure(lab, client, mon, { victim: rsVictim, keys: open.keys, probes: opts.probes, probeBasePort: 35000 });
    results.c = c;
    log(`  ${open.opened} connections, by real server: ${hist(open.byServer)}`);
    log(`  ${rsVictim.name} at weight 0 on every director ${secs(c.drainMs)} after it died (bound: fall x interval + 1 s = ${secs(c.fall * c.checkIntervalMs + 1000)}); the monitors said 'fall' at ${c.fallAt.map((ms) => secs(ms)).join(', ')}`);
    log(`  new connections after the drain: ${c.probes}, by real server: ${hist(c.probeServers)}; to ${rsVictim.name}: ${c.probesToVictim}; failed: ${c.probeFailures}; where mh (with fallback) said: ${c.probePredicted}/${c.probes}`);
    if (c.probeDisruptionAgrees !== undefined) log(`  predictDisruption before the failure: ${pct(c.disruptionShare, 1)} of the mh slots move (s1's); its per-flow answer matched ${c.probeDisruptionAgrees}/${c.probes} new connections`);
    log(`  connections of the other servers still going: ${c.othersAlive}/${c.others} (errors: ${hist(c.othersErrors)}); ${rsVictim.name}'s own ${c.onVictim} ended with it`);
    log(`  ${rsVictim.name} restarted: weight back on every director ${secs(c.riseMs)} after it listened again`);
  }

  log('');
  const drained = t.directors[1];
  log(`(d) drain director ${drained.name} gracefully (withdraw its VIP announcement, keep serving what still arrives)`);
  const d = await gracefulDrain(lab, client, { director: drained, keys: open.keys });
  results.d = d;
  log(`  ${d.connections} connections; router paths ${d.paths.join(' ')} -> ${d.planned.join(' ')} ${secs(d.dropMs)} after the withdrawal`);
  if (d.drain) log(`  drainDirector: ${d.drain.connectionsAtStart} connections at the start, ${d.drain.connectionsLeft} left after ${secs(d.drain.waitedMs)} (entries linger until IPVS times them out)`);
  log(`  predicted moved flows ${d.predictedMoved.length}, actual ${d.actualMoved.length}, same set: ${sameSet(d.predictedMoved, d.actualMoved) ? 'yes' : 'NO'}`);
  if (flaps(d)) log(flaps(d));
  log(`  survived ${d.survived}/${d.connections}; resets ${d.resets}; errors: ${hist(d.errors)}`);
  log(`  ${drained.name} announced again: back in the route after ${secs(d.backMs)} (${d.pathsBack.join(' ')})`);

  log('');
  log('(e) everything back');
  const e = await restore(lab, client, open.keys);
  results.e = e;
  await stopMonitors(mon);
  log(`  router paths: ${e.paths.join(' ')}; every real server at its weight on every director: ${e.allWeights ? 'yes' : 'NO'}; directors' IPVS identical: ${e.consistent.ok ? 'yes' : 'NO'}`);
  for (const l of e.consistent.lines.slice(0, 6)) log(`    ${l}`);
  log(`  connections still going: ${e.stillGoing}/${e.open}`);

  // the verdicts
  const checks = [
    ['(a) every connection survived the director failure (recipe)', a.survived === a.connections],
    ['(a) moved flows exactly as predicted', sameSet(a.predictedMoved, a.actualMoved)],
    ['(a) flows moved back when the director returned, none broke', ab.aliveAfter === ab.aliveBefore],
    ['(b) the baseline broke exactly the moved flows', b.flapped ? 'skip' : sameSet(b.predictedMoved, b.broken) && b.broken.length > 0],
    ...(c ? [
      ['(c) no new connection reached the drained server, none failed', c.probesToVictim === 0 && c.probeFailures === 0],
      ['(c) the other servers\' connections went on', c.othersAlive === c.others],
      ['(c) new connections where mh said', c.probePredicted === c.probes && (c.probeDisruptionAgrees ?? c.probes) === c.probes],
    ] : []),
    ['(d) zero resets in the graceful drain', d.resets === 0 && d.survived === d.connections],
    ['(d) moved flows exactly as predicted', sameSet(d.predictedMoved, d.actualMoved)],
    ['(e) everything back', e.allPaths && e.allWeights && e.consistent.ok && e.stillGoing === e.open],
  ];
  log('');
  log('summary');
  log(`  director failure, ${RECIPE.name}: ${a.survived}/${a.connections} survived; baseline ${BASELINE.name}: ${b.survived}/${b.connections} survived (${pct(b.broken.length, b.connections)} broke)`);
  log(`  router dropped the dead director's path after ${secs(a.dropMs)} / ${secs(b.dropMs)} (${detect})`);
  log(`  ${c ? `health check drained the dead real server after ${secs(c.drainMs)}; ` : ''}graceful drain: ${d.resets} resets`);
  for (const [what, ok] of checks) log(`  ${ok === 'skip' ? 'skip' : ok ? 'ok  ' : 'FAIL'} ${what}${ok === 'skip' ? ' (not judged: the router\'s paths flapped during it, moving other flows; see above)' : ''}`);
  if (checks.some(([, ok]) => !ok)) code = 1;
  log(`done in ${since()}`);
} catch (e) {
  console.error(`demo:cluster failed: ${e?.stack ?? e}`);
  code = 1;
} finally {
  if (cleanup().length) code = 1;
  clearTimeout(watchdog);
}
process.exit(code);
