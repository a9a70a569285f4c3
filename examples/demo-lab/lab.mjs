#!/usr/bin/env node
// The lvskit demo lab: LVS-DR directors, all active, behind an ECMP route, built and checked with
// lvskit. Needs a kernel with IPVS and root; `npm run demo` (run.mjs) finds one for you: this
// host's kernel if it has IPVS, else the lab VM (test/lab/vm.sh).
//
//   node examples/demo-lab/lab.mjs [--flows N] [--concurrency N] [--rows N] [--no-compare]
//
// What it does, all inside namespaces it creates (never the caller's own):
//  1. builds the topology of topology.mjs with lvskit (namespaces, veths, a bridge, addresses,
//     a weighted multipath route, sysctls, the VIP on lo, an IPVS DR service with mh on each
//     director);
//  2. starts a tiny TCP server in each real-server namespace (`ip netns exec NS node server.mjs`);
//  3. predicts, for every flow, the director (the router's multipath choice) and the real server
//     (the mh table computed from the destination list dumped over netlink);
//  4. opens one TCP connection per flow from the client namespace, each from its own source
//     address:port, and learns where it landed: the real server from its reply, the director
//     from /proc/net/ip_vs_conn read inside each director's namespace;
//  5. prints predicted vs actual per flow and the agreement counts;
//  6. removes everything, then builds the same set-up three more times, timed: through lvskit,
//     through one ip/sysctl/ipvsadm command per step, and through the tools' batch modes; reads
//     each back (links, addresses, routes, sysctls, IPVS) to show they left the same state, and
//     removes each.
// Cleanup runs on success, on failure, on SIGINT/SIGTERM and when the overall timeout fires.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { MultipathRoute, NetlinkSocket, schedulerForService } from 'lvskit';
import * as T from './topology.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const opts = parseArgs(process.argv.slice(2));
const DEADLINE_S = Number(process.env.LVSKIT_DEMO_TIMEOUT ?? 420);
const prefix = `lvsdemo${process.pid}`;
const main = T.topology(prefix);
const copies = [T.topology(`${prefix}l`), T.topology(`${prefix}c`), T.topology(`${prefix}b`)];
const children = new Set();
const t0 = performance.now();
const log = (s = '') => process.stdout.write(`${s}\n`);
const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;
const since = () => secs(performance.now() - t0);

function parseArgs(argv) {
  const o = { flows: 300, concurrency: 16, rows: 20, compare: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (lo, hi) => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`${a} wants an integer in ${lo}..${hi}`);
      return v;
    };
    if (a === '--flows') o.flows = num(1, 5000);
    else if (a === '--concurrency') o.concurrency = num(1, 256);
    else if (a === '--rows') o.rows = num(0, 5000);
    else if (a === '--no-compare') o.compare = false;
    else if (a === '--help' || a === '-h') {
      console.log('usage: node examples/demo-lab/lab.mjs [--flows N] [--concurrency N] [--rows N] [--no-compare] (see README.md here)');
      process.exit(0);
    }
    else throw new Error(`unknown argument ${a} (see the header of ${fileURLToPath(import.meta.url)})`);
  }
  return o;
}

// ---- cleanup ----------------------------------------------------------------------------------

let cleaned = false;
function cleanup() {
  if (cleaned) return [];
  cleaned = true;
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  const failed = [];
  for (const t of [main, ...copies]) failed.push(...T.teardownWithLvskit(t));
  for (const f of failed) console.error(`cleanup: could not delete namespace ${f}`);
  return failed;
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    console.error(`\n${sig}: removing the lab's namespaces`);
    cleanup();
    process.exit(130);
  });
}
for (const ev of ['uncaughtException', 'unhandledRejection']) {
  process.on(ev, (e) => {
    console.error(`demo failed: ${e?.stack ?? e}`);
    cleanup();
    process.exit(1);
  });
}
const watchdog = setTimeout(() => {
  console.error(`demo: gave up after ${DEADLINE_S} s (LVSKIT_DEMO_TIMEOUT); removing the lab's namespaces`);
  cleanup();
  process.exit(124);
}, DEADLINE_S * 1000);
watchdog.unref();

// ---- helpers ----------------------------------------------------------------------------------

/** Spawns `ip netns exec NS node SCRIPT ARGS`; the caller waits for what it needs. */
function inNamespace(ns, script, args) {
  const c = spawn('ip', ['netns', 'exec', ns, process.execPath, join(HERE, script), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.add(c);
  c.on('exit', () => children.delete(c));
  return c;
}

function waitForLine(child, line, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${what}: not ready after ${timeoutMs / 1000} s`)), timeoutMs);
    child.stdout.on('data', (d) => {
      buf += d;
      if (buf.split('\n').includes(line)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what}: exited with ${code} before it was ready`));
    });
  });
}

function runClient(ns, job, timeoutMs) {
  return new Promise((resolve, reject) => {
    const c = inNamespace(ns, 'client.mjs', []);
    let out = '';
    const timer = setTimeout(() => {
      c.kill('SIGKILL');
      reject(new Error(`client: no answer after ${timeoutMs / 1000} s`));
    }, timeoutMs);
    c.stdout.on('data', (d) => (out += d));
    c.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`client exited with ${code}`));
      try {
        resolve(JSON.parse(out));
      } catch (e) {
        reject(new Error(`client: bad output (${e.message})`));
      }
    });
    c.stdin.end(JSON.stringify(job));
  });
}

const hex32 = (ip) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0).toString(16).toUpperCase().padStart(8, '0');
const hex16 = (p) => p.toString(16).toUpperCase().padStart(4, '0');

/** /proc/net/ip_vs_conn of a namespace: client "ADDR:PORT" (hex, as the file has it) -> real server address. */
function ipvsConnections(ns) {
  const s = NetlinkSocket.open('route', { netns: ns });
  try {
    // /proc/net follows the thread group leader's namespace; /proc/thread-self/net the reading
    // thread's, which is the one lvskit's reader entered.
    const text = s.readNamespaceFile('/proc/thread-self/net/ip_vs_conn');
    const m = new Map();
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 7 || f[0] !== 'TCP') continue;
      const d = f[5];
      m.set(`${f[1]}:${f[2]}`, [0, 2, 4, 6].map((k) => parseInt(d.slice(k, k + 2), 16)).join('.'));
    }
    return m;
  } finally {
    s.close();
  }
}

function pad(s, n) {
  s = String(s);
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

// ---- the demo ---------------------------------------------------------------------------------

async function demo() {
  const release = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  const hasSeed = existsSync('/proc/sys/net/ipv4/fib_multipath_hash_seed');
  const where = process.env.LVSKIT_IN_LAB_VM ? `the lab VM (QEMU TCG, emulated: timings are slow, ratios are what counts)` : 'this host';
  log(`lvskit demo lab on Linux ${release}, in ${where}`);
  log(`  ${main.client.addrs.length} client addresses -> router (ECMP, weights ${main.directors.map((d) => `${d.name}:${d.weight}`).join(' ')}) -> directors (IPVS DR, mh) -> real servers ${main.servers.map((s) => `${s.name}:${s.weight}`).join(' ')}`);

  // 1. build with lvskit
  let tb = performance.now();
  const h = await T.buildWithLvskit(T.steps(main, { seed: hasSeed }));
  const firstBuildMs = performance.now() - tb;
  log(`built with lvskit in ${secs(firstBuildMs)} (first build: includes loading the bridge, veth and ip_vs_mh modules)`);

  try {
    // 2. real servers
    const servers = main.servers.map((s) => {
      const c = inNamespace(s.ns, 'server.mjs', [s.name, String(T.PORT), String(DEADLINE_S)]);
      return waitForLine(c, 'ready', 90_000, `server ${s.name}`);
    });
    await Promise.all(servers);
    log(`real servers listening (${since()})`);

    // 3. predictions
    const flows = Array.from({ length: opts.flows }, (_, i) => ({ src: main.client.addrs[i % main.client.addrs.length], sport: 20000 + i }));
    const byAddr = new Map([...main.directors, ...main.servers].map((m) => [m.addr, m.name]));

    // real server: every director dumps its service; the lists must be equal (same order too,
    // since mh fills its table in list order), then one table predicts for both
    const dumps = [];
    for (const d of main.directors) dumps.push(await h.ipvs.get(d.ns).getService(T.SERVICE, { withDestinations: true }));
    const order = dumps.map((s) => s.destinations.map((x) => `${x.address}:${x.port}/${x.weight}`).join(' '));
    const sameTables = order.every((o) => o === order[0]);
    log(`destination lists (kernel order): ${main.directors.map((d, i) => `${d.name} [${order[i]}]`).join(', ')}${sameTables ? ': identical' : ': DIFFERENT'}`);
    const table = schedulerForService(dumps[0], dumps[0].destinations);
    const predictedRs = flows.map((f) => byAddr.get(table.pick(f.src, f.sport, 6)?.address) ?? 'none');

    // director: with fib_multipath_hash_seed (6.11+) lvskit computes the kernel's hash itself;
    // before 6.11 the key is random per boot and only the kernel can answer (a route query with
    // iif, which hashes a dummy packet exactly as forwarding does)
    const router = h.rtnl.get(main.router.ns);
    const queried = [];
    for (const f of flows) {
      const c = await router.routes.query({ dst: T.VIP, src: f.src, iif: 'v-client', ipProto: 'tcp', sport: f.sport, dport: T.PORT });
      queried.push(byAddr.get(c.gateway) ?? '?');
    }
    let predictedDir = queried;
    let dirSource = `kernel route query (RTM_GETROUTE iif v-client): Linux ${release} has no fib_multipath_hash_seed (6.11+), its multipath key is random per boot`;
    let hashVsQuery;
    if (hasSeed) {
      const route = (await router.routes.list({ family: 4 })).find((r) => r.dst === `${T.VIP}/32`);
      const mp = new MultipathRoute(route.nexthops.map((n) => n.weight), { policy: 3, fields: T.HASH_FIELDS, seed: T.HASH_SEED, path: 'packet' });
      predictedDir = flows.map((f) => byAddr.get(route.nexthops[mp.predict({ src: f.src, dst: T.VIP, sport: f.sport, dport: T.PORT, proto: 'tcp' })].gateway) ?? '?');
      hashVsQuery = predictedDir.filter((d, i) => d === queried[i]).length;
      dirSource = `lvskit multipath hash (policy 3, 5-tuple, seed 0x${T.HASH_SEED.toString(16)}); agrees with the kernel's route query for ${hashVsQuery}/${flows.length}`;
    }
    log(`predicted ${flows.length} flows (${since()})`);

    // 4. traffic
    tb = performance.now();
    const results = await runClient(main.client.ns, { host: T.VIP, port: T.PORT, flows, concurrency: opts.concurrency, timeoutMs: 15_000 }, 240_000);
    const trafficMs = performance.now() - tb;
    const conns = main.directors.map((d) => ipvsConnections(d.ns));

    // 5. compare
    const rows = flows.map((f, i) => {
      const key = `${hex32(f.src)}:${hex16(f.sport)}`;
      const at = main.directors.filter((_, k) => conns[k].has(key));
      const actualDir = at.length === 1 ? at[0].name : at.length === 0 ? 'none' : 'both';
      const r = results[i];
      const actualRs = r.server ?? `(${r.error})`;
      const connRs = at.length === 1 ? byAddr.get(conns[main.directors.indexOf(at[0])].get(key)) : undefined;
      return { f, pd: predictedDir[i], ad: actualDir, pr: predictedRs[i], ar: actualRs, connRs, ok: predictedDir[i] === actualDir && predictedRs[i] === actualRs };
    });
    const completed = results.filter((r) => r.server).length;
    const dirOk = rows.filter((r) => r.pd === r.ad).length;
    const rsOk = rows.filter((r) => r.pr === r.ar).length;
    const both = rows.filter((r) => r.ok).length;
    const connAgrees = rows.filter((r) => r.connRs === r.ar).length;

    log('');
    log(`director predicted by: ${dirSource}`);
    log('real server predicted by: lvskit mh table (schedulerForService) from the destination list dumped over netlink');
    log('');
    log(`${pad('#', 4)} ${pad('client', 22)} ${pad('director pred/actual', 21)} ${pad('real server pred/actual', 24)}`);
    const shown = rows.filter((r) => !r.ok).concat(rows.filter((r) => r.ok)).slice(0, opts.rows);
    for (const r of shown) {
      const i = rows.indexOf(r);
      log(`${pad(i, 4)} ${pad(`${r.f.src}:${r.f.sport}`, 22)} ${pad(`${r.pd} / ${r.ad}`, 21)} ${pad(`${r.pr} / ${r.ar}`, 24)} ${r.ok ? 'ok' : 'MISMATCH'}`);
    }
    if (rows.length > shown.length) log(`... ${rows.length - shown.length} more rows (--rows N shows more; mismatches are listed first)`);
    log('');
    const count = (list, names) => names.map((n) => `${n} ${list.filter((x) => x === n).length}`).join(', ');
    const dn = main.directors.map((d) => d.name);
    const sn = main.servers.map((s) => s.name);
    log(`flows completed:           ${completed}/${flows.length} in ${secs(trafficMs)} (concurrency ${opts.concurrency})`);
    log(`director  agreement:       ${dirOk}/${flows.length}   predicted ${count(predictedDir, dn)}; actual ${count(rows.map((r) => r.ad), dn)}`);
    log(`real server agreement:     ${rsOk}/${flows.length}   predicted ${count(predictedRs, sn)}; actual ${count(rows.map((r) => r.ar), sn)}`);
    log(`both right:                ${both}/${flows.length}`);
    log(`ip_vs_conn names the replying server for ${connAgrees}/${flows.length}`);
    return { ok: both === flows.length && completed === flows.length && sameTables, firstBuildMs };
  } finally {
    for (const c of children) c.kill('SIGTERM');
    T.closeHandles(h);
  }
}

async function compare() {
  const hasSeed = existsSync('/proc/sys/net/ipv4/fib_multipath_hash_seed');
  const [a, b, c] = copies;
  const list = T.steps(a, { seed: hasSeed });
  const n = list.length;
  const k = (...ops) => list.filter((s) => ops.includes(s.op)).length;
  log('');
  log(`the same set-up again, timed (${n} steps: ${k('netns')} namespaces, ${k('veth', 'bridge')} links, ${k('addr', 'vip')} addresses, ${k('route')} routes, ${k('sysctl')} sysctls, ${k('ipvsService')} IPVS services, ${k('ipvsDest')} real servers):`);
  const timed = async (f) => {
    const t = performance.now();
    const r = await f();
    return [performance.now() - t, r];
  };
  // each build is read back (untimed) before it is removed: the three must leave the same state
  const [lb] = await timed(async () => T.closeHandles(await T.buildWithLvskit(T.steps(a, { seed: hasSeed }))));
  const fa = await T.fingerprint(a);
  const [lt, failed] = await timed(async () => T.teardownWithLvskit(a));
  if (failed.length) throw new Error(`teardown: ${failed.join('; ')}`);
  const [cb] = await timed(() => T.buildWithCommands(T.steps(b, { seed: hasSeed })));
  const fb = await T.fingerprint(b);
  const [ct] = await timed(() => T.teardownWithCommands(b));
  const [bb, procs] = await timed(() => T.buildWithBatchedCommands(T.steps(c, { seed: hasSeed })));
  const fc = await T.fingerprint(c);
  const [bt] = await timed(() => T.teardownWithBatchedCommands(c));
  const lines = fa.split('\n').length;
  const diff = (x) => x.split('\n').filter((l, i) => l !== fa.split('\n')[i]);
  const same = fb === fa && fc === fa;
  log(`  the three builds left the same state (${lines} lines read back: links, addresses, routes, sysctls, IPVS): ${same ? 'yes' : 'NO'}`);
  for (const l of [...diff(fb).map((x) => `commands: ${x}`), ...diff(fc).map((x) => `batched:  ${x}`)].slice(0, 10)) log(`    differs: ${l}`);
  const row = (label, l, x, y) => log(`  ${pad(label, 8)} ${pad(secs(l), 10)} ${pad(`${secs(x)} (${(x / l).toFixed(1)}x)`, 26)} ${secs(y)} (${(y / l).toFixed(1)}x)`);
  log(`  ${pad('', 8)} ${pad('lvskit', 10)} ${pad('a command per step', 26)} ip -batch, sysctl, ipvsadm -R`);
  log(`  ${pad('', 8)} ${pad('(no forks)', 10)} ${pad(`(${n} processes)`, 26)} (${procs} processes)`);
  row('build', lb, cb, bb);
  row('remove', lt, ct, bt);
  log('  (lvskit: this one process, no forks. Removing = deleting the namespaces; the kernel finishes that in the background)');
  return same;
}

let code = 0;
try {
  const r = await demo();
  const t = performance.now();
  const failed = T.teardownWithLvskit(main);
  log(`removed the lab's namespaces in ${secs(performance.now() - t)}`);
  if (failed.length) code = 1;
  if (opts.compare && !(await compare())) code = 1;
  log('');
  log(r.ok ? `demo: every flow landed where lvskit said it would (${since()} in all)` : `demo: some flows did not land where predicted (${since()} in all)`);
  if (!r.ok) code = 1;
} catch (e) {
  console.error(`demo failed: ${e?.stack ?? e}`);
  code = 1;
} finally {
  if (cleanup().length) code = 1;
  clearTimeout(watchdog);
}
process.exit(code);
