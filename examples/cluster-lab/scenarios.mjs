// The cluster lab's experiments, as functions that return what happened (the demo prints it, the
// IPVS-tier test asserts on it). Each works on a ClusterLab (topology.mjs) that is built, has FRR
// running and its real servers listening, and on a client from lab.startClient().
//
//  directorFailure   (a)/(b) kill a director under load: survivors, the router's reaction time,
//                    predicted vs actual moved flows (director and real server)
//  realServerFailure (c) kill a real server: health checks drain it on every director, new
//                    connections avoid it, the other servers' connections go on
//  gracefulDrain     (d) withdraw one director's VIP announcement: its flows move, none is reset
//  restore           (e) everything back: every path, every weight, the connections still going
import { PORT, SERVICE, VIP, flows } from './topology.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls the client until every connection of `keys` has an answer after `since` (recv above it) or an error; bounded. */
async function settle(client, keys, recvAt, { timeoutMs = 45_000, pollMs = 500 } = {}) {
  const t0 = performance.now();
  const want = new Set(keys);
  for (;;) {
    const rep = await client.send({ op: 'report' });
    const conns = rep.conns.filter((c) => want.has(c.key));
    const pending = conns.filter((c) => !c.error && c.recv <= (recvAt.get(c.key) ?? 0));
    if (pending.length === 0 || performance.now() - t0 > timeoutMs) return { conns, waitedMs: performance.now() - t0 };
    await sleep(pollMs);
  }
}

const keys0 = (fl) => fl.map((f) => f.key);

async function report(client, keys) {
  const want = new Set(keys);
  return (await client.send({ op: 'report' })).conns.filter((c) => want.has(c.key));
}

/** Opens `count` long-lived connections from fresh address:port pairs and waits for their first answers. */
export async function openConnections(lab, client, { count, basePort, intervalMs = 300, concurrency = 24 }) {
  const fl = flows(lab.t, count, basePort);
  const t0 = performance.now();
  const r = await client.send({ op: 'open', flows: fl, concurrency, intervalMs, connectTimeoutMs: 30_000 });
  const openMs = performance.now() - t0;
  const keys = fl.map((f) => f.key);
  const warm = await settle(client, keys, new Map(), { timeoutMs: 60_000 });
  return { flows: fl, keys, opened: r.opened, failed: r.failed, openMs, byServer: countBy(warm.conns.map((c) => c.server)) };
}

function countBy(list) {
  const m = {};
  for (const x of list) m[x ?? 'none'] = (m[x ?? 'none'] ?? 0) + 1;
  return m;
}

function errorsOf(conns) {
  return countBy(conns.filter((c) => c.error).map((c) => c.error));
}

/** Per director: its IPVS connection entries (client key -> { server, expires }). */
async function tables(lab, directors) {
  const m = new Map();
  for (const d of directors) m.set(d.name, await lab.connectionEntries(d));
  return m;
}

/**
 * Where each flow's packets go now, read from the directors' connection tables: a flow that
 * reaches a director holding no entry for it makes one there (sloppy_tcp), and each packet
 * re-arms its entry's timer, so the entry with the most seconds left is the one in use (read a
 * few seconds after the change, when an abandoned entry has aged). 'none' without an entry,
 * 'unclear' when two entries are within a second of each other.
 */
function actualDirectors(fl, after) {
  return fl.map((f) => {
    const seen = [];
    for (const [name, t] of after) {
      const e = t.get(f.key);
      if (e) seen.push([name, e.expires]);
    }
    if (seen.length === 0) return 'none';
    seen.sort((a, b) => b[1] - a[1]);
    if (seen.length > 1 && seen[0][1] - seen[1][1] < 2) return 'unclear';
    return seen[0][0];
  });
}

/** Waits until every entry that is not in use has aged by at least 3 s (see actualDirectors). */
const AGE_MS = 3500;

/** mh's prediction of each flow's real server from a director's own destination dump. */
async function predictServers(lab, d, fl, lastWeights) {
  const svc = await lab.ipvs(d.ns).getService(SERVICE, { withDestinations: true });
  const table = lab.lvs.schedulerForService(svc, svc.destinations, lastWeights ? { lastWeights } : {});
  return fl.map((f) => lab.byServerAddr.get(table.pick(f.src, f.sport, 6)?.address)?.name ?? 'none');
}

/** The share of the hash space that moves (lvskit's ECMP disruption, when the library has it). */
function ecmpShare(lab, before, after) {
  if (typeof lab.lvs.predictEcmpDisruption !== 'function') return undefined;
  const p = lab.lvs.predictEcmpDisruption(before.map((id) => ({ id })), after.map((id) => ({ id })), { kind: 'group' });
  return { share: p.share, survivorShare: p.survivorShare };
}

/**
 * (a)/(b) Kills `victim` while `count` connections exchange data through the recipe on every
 * director, and measures what survived. Returns the numbers the report prints.
 */
export async function directorFailure(lab, client, { victim, recipe, count, basePort, intervalMs = 300, settleMs = 45_000 }) {
  const t = lab.t;
  await lab.configureIpvs(recipe);
  await lab.waitForPaths(t.directors.map((d) => d.name));
  await lab.waitForBfd();
  const tStart = performance.now();
  const conns = await openConnections(lab, client, { count, basePort, intervalMs });
  // the experiment is about the connections alive now (under emulation a starved routing daemon
  // can flap a path while they open; the report says how many were lost before)
  const liveBefore = new Set((await report(client, conns.keys)).filter((c) => !c.error).map((c) => c.key));
  const fl = conns.flows.filter((f) => liveBefore.has(f.key));
  const tOpened = performance.now();
  const paths = await lab.routerPaths();
  const planned = paths.filter((n) => n !== victim.name);
  const survivors = t.directors.filter((d) => d !== victim);

  // before the failure: where every flow is, and where the router will send it
  const current = await lab.queryDirectors(fl);
  const predicted = await lab.queryDirectors(fl, planned);
  const byHash = lab.hasSeed ? lab.predictDirectorsByHash(fl, planned) : undefined;
  const share = ecmpShare(lab, paths, planned);
  const tPredicted = performance.now();
  const tablesBefore = await tables(lab, t.directors);
  const entryAgrees = fl.filter((f, i) => actualDirectors([f], tablesBefore)[0] === current[i]).length;
  const predictedMoved = fl.filter((_, i) => predicted[i] !== current[i]).map((f) => f.key);
  let serverAgrees;
  if (recipe.scheduler === 'mh') {
    const rep = await report(client, keys0(fl));
    const greeted = new Map(rep.map((c) => [c.key, c.server]));
    const ps = await predictServers(lab, survivors[0], fl);
    serverAgrees = fl.filter((f, i) => greeted.get(f.key) === ps[i]).length;
  }

  // the failure
  const keys = fl.map((f) => f.key);
  const tTables = performance.now();
  const recvAt = new Map((await report(client, keys)).map((c) => [c.key, c.recv]));
  const at = await lab.killDirector(victim);
  const drop = await lab.waitForPaths(planned, { since: at });
  const recvAtDrop = new Map((await report(client, keys)).map((c) => [c.key, Math.max(c.recv, recvAt.get(c.key) ?? 0)]));
  const after = await settle(client, keys, recvAtDrop, { timeoutMs: settleMs });
  await sleep(AGE_MS);
  const tablesAfter = await tables(lab, survivors);
  const actual = actualDirectors(fl, tablesAfter);
  const actualMoved = fl.filter((_, i) => actual[i] !== current[i]).map((f) => f.key);
  const byKey = new Map(after.conns.map((c) => [c.key, c]));
  const broken = fl.filter((f) => byKey.get(f.key)?.error).map((f) => f.key);
  const stalled = fl.filter((f) => { const c = byKey.get(f.key); return c && !c.error && c.recv <= (recvAtDrop.get(f.key) ?? 0); }).map((f) => f.key);
  return {
    recipe: recipe.name,
    victim: victim.name,
    connections: fl.length,
    opened: conns.opened,
    lostBefore: conns.keys.length - fl.length,
    openFailed: conns.failed.length,
    openMs: conns.openMs,
    byServer: conns.byServer,
    paths,
    planned,
    pathsAfter: drop.paths,
    dropMs: drop.ms,
    settleMs: after.waitedMs,
    survived: fl.length - broken.length - stalled.length,
    broken,
    stalled,
    errors: errorsOf(after.conns),
    resets: after.conns.filter((c) => c.error === 'ECONNRESET').length,
    entryAgrees,
    serverAgrees,
    byHashAgrees: byHash ? byHash.filter((x, i) => x === predicted[i]).length : undefined,
    share,
    predictedMoved,
    actualMoved,
    unclear: actual.filter((x) => x === 'unclear' || x === 'none').length,
    fromVictim: fl.filter((_, i) => current[i] === victim.name).length,
    betweenSurvivors: predictedMoved.filter((k) => current[fl.findIndex((f) => f.key === k)] !== victim.name).length,
    keys,
    pathChanges: lab.pathChanges(tStart),
    /** The router's paths changed more than once (the failure) after the connections were open: a flap moved flows too. */
    flapped: lab.pathChanges(tOpened).length > 1,
    /** Where the experiment's time went, ms: opening, route queries, reading the tables, kill to the end. */
    phasesMs: { open: Math.round(tOpened - tStart), predict: Math.round(tPredicted - tOpened), tables: Math.round(tTables - tPredicted), failure: Math.round(performance.now() - tTables) },
  };
}

/** Brings `victim` back and waits for the router to use it again; then for the connections to keep going. */
export async function reviveDirector(lab, client, victim, keys, { settleMs = 45_000 } = {}) {
  const t0 = performance.now();
  await lab.reviveDirector(victim);
  const back = await lab.waitForPaths(lab.t.directors.map((d) => d.name), { since: t0 });
  if (!keys?.length) return { backMs: back.ms, paths: back.paths };
  const rep = await report(client, keys);
  const alive = rep.filter((c) => !c.error);
  const after = await settle(client, alive.map((c) => c.key), new Map(alive.map((c) => [c.key, c.recv])), { timeoutMs: settleMs });
  return { backMs: back.ms, paths: back.paths, aliveBefore: alive.length, aliveAfter: after.conns.filter((c) => !c.error).length, errors: errorsOf(after.conns) };
}

/** Starts a health monitor on every director (lvskit's monitorHealth), all with the same checks. */
export async function startMonitors(lab, { intervalMs = 500, timeoutMs = 2000, rise = 2, fall = 2 } = {}) {
  if (typeof lab.lvs.monitorHealth !== 'function') throw new Error('this lvskit has no monitorHealth (health checks)');
  const t = lab.t;
  const t0 = performance.now();
  const monitors = new Map();
  for (const d of t.directors) {
    const m = lab.lvs.monitorHealth(lab.ipvs(d.ns), {
      services: [{ service: SERVICE, destinations: t.servers.map((s) => ({ address: s.addr, port: PORT, weight: s.weight })) }],
      check: { type: 'tcp' },
      intervalMs,
      timeoutMs,
      rise,
      fall,
    });
    if (m.ready) await m.ready;
    monitors.set(d.name, m);
  }
  return { monitors, intervalMs, fall, rise, startMs: performance.now() - t0 };
}

export async function stopMonitors(mon) {
  for (const m of mon?.monitors.values() ?? []) await m.stop();
}

/** Weight of real server `s` on each director (null: not there). */
async function weights(lab, s) {
  const out = {};
  for (const d of lab.t.directors) out[d.name] = (await lab.ipvs(d.ns).listDestinations(SERVICE)).find((x) => x.address === s.addr)?.weight ?? null;
  return out;
}

async function waitWeights(lab, s, want, since, timeoutMs = 60_000) {
  for (;;) {
    const w = await weights(lab, s);
    if (Object.values(w).every((x) => x === want)) return performance.now() - since;
    if (performance.now() - since > timeoutMs) throw new Error(`${s.name}'s weight is ${JSON.stringify(w)}, not ${want} everywhere, after ${timeoutMs / 1000} s`);
    await sleep(20);
  }
}

/**
 * (c) Kills real server `victim` while `keys` connections run; the health monitors drain it on
 * every director; `probes` new connections then open; the server comes back and is restored.
 */
export async function realServerFailure(lab, client, mon, { victim, keys, probes, probeBasePort, settleMs = 45_000 }) {
  const t = lab.t;
  const before = await report(client, keys);
  const onVictim = before.filter((c) => c.server === victim.name && !c.error).map((c) => c.key);
  const others = before.filter((c) => c.server !== victim.name && !c.error).map((c) => c.key);
  const recvAt = new Map(before.map((c) => [c.key, c.recv]));
  const pf = flows(t, probes, probeBasePort);
  // before the failure: lvskit's disruption prediction for the drain (the victim at weight 0),
  // from a director's own dump in kernel order, for the new connections the lab will open
  let disruption;
  if (typeof lab.lvs.predictDisruption === 'function') {
    const current = await lab.ipvs(t.directors[0].ns).listAll();
    const planned = current.map((svc) => ({ ...svc, destinations: svc.destinations.map((d) => (d.address === victim.addr ? { ...d, weight: 0 } : d)) }));
    const p = lab.lvs.predictDisruption(current, planned, { planned: 'kernel', flows: pf.map((f) => ({ src: f.src, sport: f.sport, dst: VIP, dport: PORT, proto: 'tcp' })) });
    disruption = { share: p.services[0]?.share, shareMax: p.services[0]?.shareMax, after: p.flows.map((m) => lab.byServerAddr.get(String(m.after).split(':')[0])?.name ?? String(m.after)) };
  }
  // each monitor's verdict on the victim, timed from its death
  const verdicts = [];
  const subs = [...mon.monitors.values()].map((m) => m.events?.()).filter(Boolean);
  const at = performance.now();
  for (const sub of subs) {
    (async () => {
      for await (const e of sub) {
        if (e.address === victim.addr && (e.type === 'fall' || e.type === 'drained' || e.type === 'rise' || e.type === 'restored')) verdicts.push([e.type, performance.now() - at]);
      }
    })().catch(() => {});
  }
  lab.killServer(victim);
  const drainMs = await waitWeights(lab, victim, 0, at);
  // new connections: none may reach the drained server; mh (with fallback) says where each goes
  const predicted = await predictServers(lab, t.directors[0], pf, { [victim.addr]: victim.weight });
  const probe = (await client.send({ op: 'probe', flows: pf, timeoutMs: 20_000, concurrency: 8 })).results;
  const after = await settle(client, others, recvAt, { timeoutMs: settleMs });
  const entriesToVictim = [];
  for (const d of t.directors) for (const [k, rs] of await lab.connections(d)) if (rs === victim.name && pf.some((f) => f.key === k)) entriesToVictim.push(k);
  // the server comes back; the monitors restore its weight everywhere
  await lab.startServer(victim);
  const t1 = performance.now();
  const riseMs = await waitWeights(lab, victim, victim.weight, t1);
  for (const sub of subs) sub.return?.();
  const when = (type) => verdicts.filter(([t]) => t === type).map(([, ms]) => Math.round(ms));
  return {
    victim: victim.name,
    checkIntervalMs: mon.intervalMs,
    fall: mon.fall,
    rise: mon.rise,
    drainMs,
    riseMs,
    /** ms after the kill at which each director's monitor said 'fall', then had weight 0 in the kernel. */
    fallAt: when('fall'),
    drainedAt: when('drained'),
    onVictim: onVictim.length,
    others: others.length,
    othersAlive: after.conns.filter((c) => !c.error && c.recv > (recvAt.get(c.key) ?? 0)).length,
    othersErrors: errorsOf(after.conns),
    probes: probe.length,
    probeServers: countBy(probe.map((r) => r.server ?? `error ${r.error}`)),
    probesToVictim: probe.filter((r) => r.server === victim.name).length,
    probeFailures: probe.filter((r) => r.error).length,
    probePredicted: probe.filter((r, i) => r.server === predicted[i]).length,
    /** predictDisruption, asked before the failure: share of mh slots that move, and its per-flow answer's agreement. */
    disruptionShare: disruption?.share,
    probeDisruptionAgrees: disruption ? probe.filter((r, i) => r.server === disruption.after[i]).length : undefined,
    entriesToVictim: entriesToVictim.length,
  };
}

/**
 * (d) Drains `director` gracefully: withdraws its VIP announcement (lvskit's drainDirector when
 * the library has it), lets the router move its flows, counts resets; then announces it again.
 */
export async function gracefulDrain(lab, client, { director, keys, settleMs = 45_000, deadlineMs = 3000 }) {
  const t = lab.t;
  const rep = await report(client, keys);
  const live = rep.filter((c) => !c.error);
  const fl = live.map((c) => { const [src, sport] = c.key.split(':'); return { key: c.key, src, sport: Number(sport) }; });
  const tStart = performance.now();
  const paths = await lab.routerPaths();
  const planned = paths.filter((n) => n !== director.name);
  const current = await lab.queryDirectors(fl);
  const predicted = await lab.queryDirectors(fl, planned);
  const predictedMoved = fl.filter((_, i) => predicted[i] !== current[i]).map((f) => f.key);
  const announcer = lab.announcer(director);
  const at = performance.now();
  let drain;
  const draining = typeof lab.lvs.drainDirector === 'function' && typeof lab.lvs.VipAnnouncer === 'function'
    ? lab.lvs.drainDirector({ announcer, ipvs: lab.ipvs(director.ns), deadlineMs, pollMs: 250 }).then((r) => (drain = r))
    : announcer.withdraw();
  const drop = await lab.waitForPaths(planned, { since: at });
  // every connection exchanges a line after the router changed (so each moved one has reached its new director)
  const recvAtDrop = new Map((await report(client, live.map((c) => c.key))).map((c) => [c.key, c.recv]));
  await draining;
  const after = await settle(client, live.map((c) => c.key), recvAtDrop, { timeoutMs: settleMs });
  await sleep(AGE_MS);
  const tablesAfter = await tables(lab, t.directors);
  const actual = actualDirectors(fl, tablesAfter);
  const actualMoved = fl.filter((_, i) => actual[i] !== current[i]).map((f) => f.key);
  // announce again: the director takes flows back
  const t1 = performance.now();
  await announcer.announce();
  const back = await lab.waitForPaths(t.directors.map((d) => d.name), { since: t1 });
  return {
    director: director.name,
    connections: fl.length,
    paths,
    planned,
    dropMs: drop.ms,
    drain: drain && { connectionsAtStart: drain.connectionsAtStart, connectionsLeft: drain.connectionsLeft, waitedMs: drain.waitedMs },
    survived: after.conns.filter((c) => !c.error && c.recv > (recvAtDrop.get(c.key) ?? 0)).length,
    resets: after.conns.filter((c) => c.error === 'ECONNRESET').length,
    errors: errorsOf(after.conns),
    unclear: actual.filter((x) => x === 'unclear' || x === 'none').length,
    predictedMoved,
    actualMoved,
    backMs: back.ms,
    pathsBack: back.paths,
    pathChanges: lab.pathChanges(tStart),
  };
}

/**
 * (e) Everything back: the router uses every director, every real server has its weight on every
 * director and the directors' tables agree; the connections still open keep exchanging data.
 */
export async function restore(lab, client, keys, { settleMs = 45_000, convergeMs = 90_000 } = {}) {
  const t = lab.t;
  // converge first (bounded): the router's paths and the monitors' verdicts may still be moving
  const t0 = performance.now();
  let paths;
  let w;
  let allWeights;
  for (;;) {
    paths = await lab.routerPaths();
    w = {};
    for (const s of t.servers) w[s.name] = await weights(lab, s);
    allWeights = t.servers.every((s) => Object.values(w[s.name]).every((x) => x === s.weight));
    if ((allWeights && paths.length === t.directors.length) || performance.now() - t0 > convergeMs) break;
    await sleep(250);
  }
  const convergedMs = performance.now() - t0;
  let consistent;
  if (typeof lab.lvs.compareDirectorHandles === 'function') {
    const c = await lab.lvs.compareDirectorHandles(t.directors.map((d) => ({ name: d.name, ipvs: lab.ipvs(d.ns), sysctl: lab.rtnl(d.ns).sysctl })));
    consistent = { ok: c.consistent ?? c.ok, lines: lab.lvs.formatDirectorComparison?.(c) ?? [] };
  } else {
    const dumps = [];
    for (const d of t.directors) dumps.push(JSON.stringify((await lab.ipvs(d.ns).listDestinations(SERVICE)).map((x) => [x.address, x.port, x.weight])));
    consistent = { ok: dumps.every((x) => x === dumps[0]), lines: [] };
  }
  const rep = await report(client, keys);
  const alive = rep.filter((c) => !c.error);
  const after = await settle(client, alive.map((c) => c.key), new Map(alive.map((c) => [c.key, c.recv])), { timeoutMs: settleMs });
  return {
    paths,
    allPaths: [...paths].sort().join() === t.directors.map((d) => d.name).sort().join(),
    weights: w,
    allWeights,
    convergedMs,
    consistent,
    open: alive.length,
    stillGoing: after.conns.filter((c) => !c.error).length,
  };
}

export { VIP };
