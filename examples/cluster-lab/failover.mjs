#!/usr/bin/env node
// How fast the router drops a dead director's path: the cluster lab's routing part alone (router
// and three directors running FRR zebra + ospfd, and bfdd when asked), no IPVS, so it runs on any
// kernel with network namespaces, natively (the lab VM's emulated timings say little about it).
// Each round kills director d1 as lab.mjs does (SIGKILL to its daemons, its links deleted; the
// router's ports stay up), times until the router's route to the VIP no longer uses it, checks
// that the flows that moved are exactly the ones the what-if route query predicted, and brings
// d1 back.
//
//   node examples/cluster-lab/failover.mjs [--rounds N] [--flows N] [--bfd-interval MS]
import { readFileSync } from 'node:fs';
import * as lvs from 'lvskit';
import { ClusterLab, clusterTopology, flows, haveFrr } from './topology.mjs';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(name);
  return i < 0 ? dflt : Number(args[i + 1]);
};
const rounds = arg('--rounds', 5);
const nflows = arg('--flows', 300);
const bfdInterval = arg('--bfd-interval', 100);
if (!haveFrr()) {
  console.error('failover: needs FRR (zebra, ospfd, bfdd in /usr/lib/frr): apt-get install --no-install-recommends frr');
  process.exit(2);
}
if (!lvs.probeKernel().netns.ok) {
  console.error('failover: needs root (network namespaces)');
  process.exit(2);
}
const log = (s = '') => process.stdout.write(`${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let current;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { current?.close(); process.exit(130); });

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return `min ${(s[0] / 1000).toFixed(2)} s, median ${(s[Math.floor(s.length / 2)] / 1000).toFixed(2)} s, max ${(s[s.length - 1] / 1000).toFixed(2)} s`;
};

log(`router failover on Linux ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()} (native), FRR ospfd hello 1 / dead 4, ${rounds} rounds each, ${nflows} flows`);
let code = 0;
for (const bfd of [false, true]) {
  const t = clusterTopology(`lvsfo-${process.pid}-${bfd ? 'b' : 'o'}`);
  const lab = new ClusterLab(lvs, t, { bfd, bfdIntervalMs: bfdInterval, ipvs: false });
  current = lab;
  try {
    await lab.build();
    for (const n of [t.router, ...t.directors]) await lab.startFrr(n);
    const all = t.directors.map((d) => d.name);
    await lab.waitForPaths(all);
    const fl = flows(t, nflows, 20000);
    const drops = [];
    let exact = 0;
    let movedTotal = 0;
    for (let r = 0; r < rounds; r++) {
      const paths = (await lab.waitForPaths(all)).paths;
      await lab.waitForBfd();
      await sleep(1000); // the adjacencies settle
      const planned = paths.filter((n) => n !== 'd1');
      const before = await lab.queryDirectors(fl);
      const predicted = await lab.queryDirectors(fl, planned);
      const at = await lab.killDirector(t.directors[0]);
      const drop = await lab.waitForPaths(planned, { since: at, pollMs: 10 });
      drops.push(drop.ms);
      const after = await lab.queryDirectors(fl);
      if (after.every((x, i) => x === predicted[i])) exact++;
      movedTotal += after.filter((x, i) => x !== before[i]).length;
      await lab.reviveDirector(t.directors[0]);
    }
    log(`  ${bfd ? `BFD ${bfdInterval} ms x 3` : 'OSPF only    '}: path dropped after ${stats(drops)}; flows moved as predicted in ${exact}/${rounds} rounds (${(movedTotal / rounds).toFixed(0)} of ${nflows} moved per round)`);
    if (exact !== rounds) code = 1;
  } catch (e) {
    console.error(`failover: ${e?.stack ?? e}`);
    code = 1;
  } finally {
    const failed = lab.close();
    if (failed.length) code = 1;
  }
}
process.exit(code);
