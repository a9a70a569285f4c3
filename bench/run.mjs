// `npm run bench`: the default benchmark set, side by side, in one run.
//
//   1. routes and addresses on the host kernel (bench/routes.mjs), each trial a fresh process in
//      its own network namespace;
//   2. hashing (bench/hash.mjs: batched, single-call and plain C++ loop; plus the pure-TS
//      reference, measured here);
//   3. IPVS (bench/ipvs.mjs): natively when the host kernel has IPVS, else inside the lab VM
//      (bash test/lab/vm.sh, QEMU TCG: emulated, so only ratios mean anything there).
//
// Writes bench/results/<date>.json and regenerates docs/benchmark.md (its hand-written analysis
// between the <!-- analysis --> markers is kept).
//
// usage: node bench/run.mjs [--only routes,hash,ipvs] [--quick] [--ipvs-sizes 1000,10000]
//                           [--routes N] [--repeat K] [--full] [--no-docs]
//   --ipvs-results FILE  take the IPVS part from an earlier `node bench/ipvs.mjs --out FILE`
//   --vm-mem MiB  memory of the lab VM (default 2048; 100k services x 4 want ~6144)
//   --full    every IPVS driver at every size, read/edit/delete at the largest (slow in the VM)
//   --quick   small sizes (10k routes, 100/1000 services): a smoke run
//   --repeat  K trials per driver, the median kept (default 1); IPVS: K rounds of its drivers,
//             with each round's ratio against the baseline kept (median and spread in the notes)
//   --ipvs-only REGEX  only the IPVS benchmarks whose name matches (e.g. 'load-1000|read')
//   --controller-size N  services of the controller case (default: the largest IPVS size)
//   --base-results FILE  the parts --only leaves out (routes, hash) are copied from an earlier
//             bench/results/*.json, so docs/benchmark.md keeps them (the Run line says so)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFloorProgram, cpuRatioOf, environment, hostKernelHasIpvs, loadStamp, perOpUs, ratioOf, ratioText, rssOf, runTrial, table } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const argv = process.argv.slice(2);
const opt = (k, d) => {
  const i = argv.indexOf(k);
  return i < 0 ? d : argv[i + 1];
};
const flag = (k) => argv.includes(k);

if (flag('--hash-reference')) {
  await hashReference(Number(opt('--hash-reference', 20000)));
  process.exit(0);
}

const quick = flag('--quick');
const only = new Set(opt('--only', 'routes,hash,ipvs').split(','));
const repeat = Math.max(1, Number(opt('--repeat', 1)));
const ROUTES = Number(opt('--routes', quick ? 10_000 : 100_000));
const IPVS_SIZES = opt('--ipvs-sizes', quick ? '100,1000' : '1000,10000');
const log = (...a) => console.error(...a);

for (const f of ['build/Release/lvskit.node', 'dist/index.js']) {
  if (!existsSync(join(root, f))) {
    log(`bench: ${f} is missing: run \`npm run build\` first`);
    process.exit(2);
  }
}

const started = Date.now();
const out = { environment: { ...environment('host kernel'), load: loadStamp() }, options: { quick, repeat, routes: ROUTES, ipvsSizes: IPVS_SIZES }, routes: [], hash: null, ipvs: null };
log(`lvskit bench: ${out.environment.date}, ${out.environment.machine}, ${out.environment.kernel}, node ${out.environment.node}, load ${out.environment.load.load1}`);

// ---- 1. routes and addresses (host) ----------------------------------------------------------
if (only.has('routes')) {
  const env = { BENCH_ROUTES: String(ROUTES), BENCH_ADDRS: String(quick ? 2000 : 10_000), BENCH_SAMPLE: String(quick ? 50 : 300) };
  Object.assign(process.env, env); // routes.mjs reads its sizes (and titles) at import
  const { benchmarks, buildFloor } = await import('./routes.mjs');
  buildFloor();
  const baselines = { 'route-add-single': 'ip route add (process per rule)', 'route-add-bulk': 'ip -batch', 'route-dump': 'ip -j route show + JSON.parse', 'addr-add-bulk': 'ip -batch' };
  for (const b of benchmarks) {
    // K paired rounds: every driver once a round, every other round in reverse order; a row is
    // the driver's median trial, extra.roundsPerOpUs keeps each round's figure for pairing
    const drivers = Object.keys(b.drivers);
    const trials = new Map(drivers.map((d) => [d, []]));
    for (let k = 0; k < repeat; k++) {
      for (const d of k % 2 ? [...drivers].reverse() : drivers) {
        const r = runTrial(join(here, 'routes.mjs'), b.name, d, { env });
        log(`  ${b.name} / ${d}${repeat > 1 ? ` [${k + 1}/${repeat}]` : ''}: ${r.error ? 'FAILED ' + r.error : `${r.ms.toFixed(1)} ms for ${r.ops}`}`);
        trials.get(d).push(r);
      }
    }
    for (const d of drivers) {
      const rs = trials.get(d);
      const ok = rs.filter((r) => !r.error).sort((x, y) => perOpUs(x) - perOpUs(y));
      const r = ok.length ? ok[(ok.length - 1) >> 1] : rs[0];
      if (repeat > 1 && ok.length) r.extra = { ...r.extra, trials: ok.map((x) => Number(x.ms.toFixed(1))), roundsPerOpUs: rs.map((x) => (x.error ? null : Number(perOpUs(x).toPrecision(4)))) };
      out.routes.push({ ...r, title: b.title, baseline: baselines[b.name] });
    }
  }
}

// ---- 2. hashing (host) ------------------------------------------------------------------------
if (only.has('hash')) {
  const flows = quick ? 1 << 18 : 1 << 20;
  log(`  hash: bench/hash.mjs ${flows}`);
  const text = execFileSync(process.execPath, [join(here, 'hash.mjs'), String(flows)], { encoding: 'utf8', cwd: root });
  const rows = [];
  for (const line of text.trim().split('\n').slice(2)) {
    const [name, batched, floor, , target, single] = line.trim().split(/\s+/);
    rows.push({ name, batchedMps: Number(batched), floorMps: Number(floor), targetMps: target === '-' ? null : Number(target), singleMps: single === '-' ? null : Number(single) });
  }
  log('  hash: pure-TS reference');
  const ref = JSON.parse(execFileSync(process.execPath, [join(here, 'run.mjs'), '--hash-reference', quick ? '5000' : '20000'], { encoding: 'utf8' }));
  for (const r of rows) r.referenceMps = ref[r.name] ?? null;
  out.hash = { flows, rows, raw: text };
}

// ---- 3. IPVS (native, or the lab VM) ----------------------------------------------------------
if (only.has('ipvs')) {
  mkdirSync(join(here, 'results'), { recursive: true });
  const file = join(here, 'results', `.ipvs-${process.pid}.json`);
  const ipvsEnv = { BENCH_SIZES: IPVS_SIZES, BENCH_SAMPLE: quick ? '20' : '30', BENCH_LATENCY: quick ? '200' : '1000', BENCH_REPEAT: String(repeat), ...(flag('--full') ? { BENCH_FULL: '1' } : {}), ...(opt('--ipvs-only') ? { BENCH_ONLY: opt('--ipvs-only') } : {}), ...(opt('--controller-size') ? { BENCH_CONTROLLER_SIZE: opt('--controller-size') } : {}) };
  let cmd;
  if (opt('--ipvs-results')) {
    out.ipvs = JSON.parse(readFileSync(opt('--ipvs-results'), 'utf8'));
    log(`  ipvs: results of an earlier run, ${opt('--ipvs-results')}`);
  } else if (hostKernelHasIpvs()) {
    cmd = [process.execPath, join(here, 'ipvs.mjs'), '--out', file];
  } else if (existsSync(join(root, '.lab/out/vmlinux'))) {
    cmd = ['bash', join(root, 'test/lab/vm.sh'), '--timeout', '3000', '--mem', String(opt('--vm-mem', 2048)), ...Object.entries(ipvsEnv).flatMap(([k, v]) => ['--env', `${k}=${v}`]), '--', 'node', join(here, 'ipvs.mjs'), '--out', file];
  }
  if (out.ipvs) {
    // taken from --ipvs-results
  } else if (!cmd) {
    log('  ipvs: SKIPPED: the host kernel has no IPVS and the lab VM is not set up (bash test/lab/setup.sh)');
    out.ipvs = { skipped: 'the host kernel has no IPVS and the lab VM is not set up' };
  } else {
    log(`  ipvs: ${cmd.slice(0, 2).join(' ')} ... (${hostKernelHasIpvs() ? 'host kernel' : 'lab VM, emulated'})`);
    buildFloorProgram('ipvs_floor', join(root, 'build/bench')); // on the host: the VM runs it from the shared checkout
    const hostLoadBefore = loadStamp();
    const r = spawnSync(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...ipvsEnv }, cwd: root });
    if (existsSync(file)) {
      out.ipvs = JSON.parse(readFileSync(file, 'utf8'));
      out.ipvs.hostLoad = { before: hostLoadBefore, after: loadStamp() };
      execFileSync('rm', ['-f', file]);
    } else {
      out.ipvs = { error: `bench/ipvs.mjs exited ${r.status ?? r.signal} without results` };
    }
  }
}

if (opt('--base-results')) {
  const base = JSON.parse(readFileSync(opt('--base-results'), 'utf8'));
  const taken = [];
  if (!only.has('routes') && base.routes?.length) (out.routes = base.routes), taken.push('routes and addresses');
  if (!only.has('hash') && base.hash) (out.hash = base.hash), taken.push('hashing');
  if (!only.has('ipvs') && base.ipvs) (out.ipvs = base.ipvs), taken.push('IPVS');
  if (taken.length) {
    out.options.routes = base.options?.routes ?? out.options.routes;
    out.environment.reused = `${taken.join(' and ')} from the run of ${base.environment.date} (${opt('--base-results').replace(/^.*bench\//, 'bench/')}), not re-run`;
  }
}
out.environment.loadAfter = loadStamp();
out.environment.wallSeconds = Math.round((Date.now() - started) / 1000);
out.goals = goals(out);
mkdirSync(join(here, 'results'), { recursive: true });
const stamp = out.environment.date.replace(/[:]/g, '-').replace(/\..*/, '');
const resultFile = join(here, 'results', `${stamp}.json`);
writeFileSync(resultFile, JSON.stringify(out, null, 1) + '\n');
const md = markdown(out, `bench/results/${stamp}.json`);
console.log(md.report);
if (!flag('--no-docs')) {
  const docs = join(root, 'docs/benchmark.md');
  writeFileSync(docs, md.page(existsSync(docs) ? readFileSync(docs, 'utf8') : ''));
  log(`wrote ${resultFile} and docs/benchmark.md (${out.environment.wallSeconds} s)`);
} else {
  log(`wrote ${resultFile} (${out.environment.wallSeconds} s)`);
}

// ---- goals ------------------------------------------------------------------------------------

function find(results, bench, driver) {
  return results?.find((r) => r.bench === bench && r.driver === driver && !r.error);
}

function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((p, q) => p - q);
  if (!v.length) return NaN;
  return v.length % 2 ? v[(v.length - 1) >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

/**
 * How many times faster driver `a` is than driver `b` in benchmark `bench`, round by round (the
 * two ran in the same round, one after the other): perOp(b) / perOp(a) for each round both
 * finished, from extra.roundsPerOpUs; with one round, the single trials.
 */
function paired(results, bench, a, b) {
  const ra = find(results, bench, a);
  const rb = find(results, bench, b);
  if (!ra || !rb) return null;
  const xa = ra.extra?.roundsPerOpUs ?? [perOpUs(ra)];
  const xb = rb.extra?.roundsPerOpUs ?? [perOpUs(rb)];
  const ratios = [];
  for (let k = 0; k < Math.min(xa.length, xb.length); k++) if (xa[k] && xb[k]) ratios.push(xb[k] / xa[k]);
  if (!ratios.length) return null;
  return { ratios, median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios), cpu: cpuRatioOf(ra, rb), rounds: ratios.length };
}

function fasterText(v) {
  return v >= 1 ? `${x2(v)} faster` : `${x2(1 / v)} slower`;
}

function x2(v) {
  return Number.isFinite(v) ? `${v >= 100 ? v.toFixed(0) : v.toFixed(2)}x` : '?';
}

/**
 * The goals of docs/benchmark.md, each judged on the per-round ratio's median (min and max
 * shown: with few rounds on a shared machine, read them as an indication). Two kinds: "faster"
 * (a must be at least `target` times faster than b) and "within" (a may take at most `target`
 * times b's time: the ratio b/a must be at least 1/target).
 */
function goals(o) {
  const g = [];
  const where = o.ipvs?.environment?.where ?? '';
  const emulated = where.startsWith('emulated') ? 'emulated' : where ? 'host kernel' : '';
  const faster = (name, results, bench, a, b, target, extra = {}) => {
    const p = paired(results ?? [], bench, a, b);
    const minOk = extra.everyRound === undefined || (p && p.min >= extra.everyRound);
    g.push({
      name,
      target: `>= ${target}x faster${extra.everyRound ? `, every round >= ${extra.everyRound}x` : ''}`,
      measured: p ? `${fasterText(p.median)} (${fasterText(p.min)} to ${fasterText(p.max)}, ${p.rounds} round${p.rounds > 1 ? 's' : ''})` : 'not measured',
      cpu: p ? ratioText(p.cpu) : '',
      met: p ? p.median >= target && minOk : null,
      where: extra.where ?? emulated,
    });
  };
  const within = (name, results, bench, a, b, target, extra = {}) => {
    const p = paired(results ?? [], bench, a, b);
    g.push({
      name,
      target: `<= ${target}x ${extra.of ?? "the floor's time"}`,
      measured: p ? `${x2(1 / p.median)} (${x2(1 / p.max)}-${x2(1 / p.min)}, ${p.rounds} round${p.rounds > 1 ? 's' : ''})` : 'not measured',
      cpu: p && Number.isFinite(p.cpu) ? `${x2(1 / p.cpu)} the CPU` : '',
      met: p ? 1 / p.median <= target : null,
      where: extra.where ?? emulated,
    });
  };
  const ipvs = o.ipvs?.results;
  const sizes = (o.ipvs?.sizes ?? []).slice().sort((p, q) => p - q);
  if (ipvs) {
    for (const n of sizes) within(`IPVS bulk load ${n} x 4: lvskit batch() vs the C floor (same messages, 1024 a send)`, ipvs, `ipvs-load-${n}`, 'lvskit batch()', 'C floor (batched genetlink)', 1.3);
    for (const n of sizes) faster(`IPVS bulk load ${n} x 4, whole processes: lvskit -R vs ipvsadm -R`, ipvs, `ipvs-load-${n}`, 'lvskit -R (whole process)', 'ipvsadm -R', 8, { everyRound: 5 });
    for (const n of sizes) faster(`IPVS bulk load ${n} x 4, in-process: lvskit batch() vs ipvsadm -R`, ipvs, `ipvs-load-${n}`, 'lvskit batch()', 'ipvsadm -R', 5);
    const big = sizes[sizes.length - 1];
    faster(`IPVS bulk load ${big} x 4: lvskit batch() vs one ipvsadm process per rule`, ipvs, `ipvs-load-${big}`, 'lvskit batch()', 'ipvsadm process per rule', 200);
    const sl = find(ipvs, 'ipvs-add-single', 'lvskit addService');
    const sp = find(ipvs, 'ipvs-add-single', 'ipvsadm -A (process)');
    if (sl && sp) {
      const x = sp.extra.p50 / sl.extra.p50;
      g.push({ name: 'IPVS single add p50: lvskit vs one ipvsadm process', target: '>= 50x faster', measured: `${x2(x)} faster (medians of the p50s)`, cpu: ratioText(cpuRatioOf(sl, sp)), met: x >= 50, where: emulated });
    }
    const read = ipvs.find((r) => r.bench.startsWith('ipvs-read'))?.bench;
    if (read) {
      faster(`IPVS full read ${read.slice(10)} x 4: lvskit listAll() vs ipvsadm -Sn`, ipvs, read, 'lvskit listAll()', 'ipvsadm -Sn', 3);
    }
    const ctl = ipvs.find((r) => r.bench.startsWith('ipvs-controller'))?.bench;
    if (ctl) {
      faster(`IPVS controller case (1% of destinations among ${ctl.slice(16)} services): apply() with assumeCurrent vs ipvsadm -R of the changed lines`, ipvs, ctl, 'lvskit apply({ assumeCurrent })', 'ipvsadm -R (changed lines)', 10);
      faster(`IPVS controller case (${ctl.slice(16)} services): a batch() of just the edits with knownServices vs ipvsadm -R of the changed lines`, ipvs, ctl, 'lvskit batch() of the edits (knownServices)', 'ipvsadm -R (changed lines)', 10);
    }
    const lr = find(ipvs, `ipvs-load-${big}`, 'lvskit -R (whole process)');
    const ir = find(ipvs, `ipvs-load-${big}`, 'ipvsadm -R');
    if (lr && ir) {
      const x = rssOf(lr) / rssOf(ir);
      g.push({ name: `peak RSS, ${big} x 4 loaded from a rules file: lvskit -R vs ipvsadm -R`, target: "<= 1.5x ipvsadm's (100k x 4)", measured: `${x2(x)} (${(rssOf(lr) / 1024).toFixed(0)} vs ${(rssOf(ir) / 1024).toFixed(0)} MiB)`, cpu: '', met: big >= 100_000 ? x <= 1.5 : null, where: emulated });
    }
  }
  const rb = o.routes;
  if (rb.length) {
    within(`${o.options.routes} routes: lvskit addMany vs the C floor`, rb, 'route-add-bulk', 'lvskit addMany', 'C floor (batched netlink)', 1.5, { where: 'host kernel' });
    faster(`${o.options.routes} routes: lvskit addMany vs ip -batch`, rb, 'route-add-bulk', 'lvskit addMany', 'ip -batch', 3, { where: 'host kernel' });
  }
  if (o.hash?.rows) {
    for (const r of o.hash.rows) {
      const x = r.floorMps / r.batchedMps;
      g.push({ name: `hashing ${r.name}: batched vs a plain C loop`, target: "<= 1.1x the loop's time", measured: x2(x), cpu: '', met: Number.isFinite(x) ? x <= 1.1 : null, where: 'host' });
    }
  }
  return g;
}

// ---- markdown ---------------------------------------------------------------------------------

function envLine(e) {
  return `${e.date} · ${e.machine} · ${e.kernel} · Node ${e.node} · ${e.where} · load average ${e.load?.load1} before, ${e.loadAfter?.load1 ?? '?'} after`;
}

function sections(results) {
  const out = [];
  for (const name of [...new Set(results.map((r) => r.bench))]) {
    const rs = results.filter((r) => r.bench === name);
    out.push(`#### ${rs[0].title}\n\n${table(rs, rs[0].baseline)}\n`);
  }
  return out.join('\n');
}

function markdown(o, resultPath) {
  const lines = [];
  const push = (s = '') => lines.push(s);
  push(`Run: ${envLine(o.environment)}; whole run ${o.environment.wallSeconds} s. Raw results: \`${resultPath}\`.${o.environment.reused ? ` Routes/hash rows: ${o.environment.reused}.` : ''}`);
  if (o.ipvs?.environment) push(`\nIPVS: ${envLine(o.ipvs.environment)}${o.ipvs.hostLoad ? ` (the guest's); the host's load average ${o.ipvs.hostLoad.before.load1} before the VM run, ${o.ipvs.hostLoad.after.load1} after` : ''}.`);
  push('\n### Goals (ratios measured side by side in this run)\n');
  push('| goal | target | measured: per-round ratio, median (min-max) | CPU time | met |');
  push('|---|---|---|---|---|');
  for (const g of o.goals) push(`| ${g.name} | ${g.target} | ${g.measured} | ${g.cpu} | ${g.met === null ? 'not measured' : g.met ? 'met' : '**missed**'}${g.where ? ` (${g.where})` : ''} |`);
  if (o.routes.length) {
    push('\n### Routes and addresses (host kernel, real figures)\n');
    push(sections(o.routes));
  }
  if (o.hash) {
    push(`\n### Hashing (host, one core, ${o.hash.flows} flows; millions of flows per second)\n`);
    push('| hash | lvskit batched | lvskit one call per flow | pure-TS reference | plain C++ loop | batched / C |');
    push('|---|---:|---:|---:|---:|---:|');
    for (const r of o.hash.rows) {
      const f = (x) => (x === null || x === undefined || Number.isNaN(x) ? '-' : x >= 1 ? x.toFixed(1) : x.toFixed(3));
      push(`| ${r.name} | ${f(r.batchedMps)} | ${f(r.singleMps)} | ${f(r.referenceMps)} | ${f(r.floorMps)} | ${r.floorMps ? (r.batchedMps / r.floorMps).toFixed(2) : '-'} |`);
    }
  }
  if (o.ipvs?.results) {
    push(`\n### IPVS (${o.ipvs.environment.where}${o.ipvs.environment.where.startsWith('emulated') ? ': absolute times are emulation times, only the ratios carry over' : ''})\n`);
    push(sections(o.ipvs.results));
    const big = Math.max(...o.ipvs.sizes);
    const load = o.ipvs.results.filter((r) => r.bench === `ipvs-load-${big}` && !r.error);
    if (load.length) {
      push(`\n### Memory: peak RSS of each driver for the ${big} x 4 IPVS load\n`);
      push('| driver | peak RSS | what |');
      push('|---|---:|---|');
      for (const r of load) push(`| ${r.driver} | ${(rssOf(r) / 1024).toFixed(1)} MiB | ${r.extra?.childRssKiB !== undefined ? 'the ipvsadm process (max over calls for per-rule)' : 'the whole Node process (VmHWM), runtime included'} |`);
    }
  } else if (o.ipvs) {
    push(`\n### IPVS\n\nNot measured: ${o.ipvs.skipped ?? o.ipvs.error}.`);
  }
  const report = lines.join('\n');
  const page = (old) => {
    const m = /<!-- analysis -->[\s\S]*?<!-- \/analysis -->/.exec(old);
    const analysis = m ? m[0] : '<!-- analysis -->\n<!-- /analysis -->';
    return `# Benchmarks

lvskit against shelling out to \`ipvsadm\` and \`ip\`, side by side in one run, plus plain C
programs sending the same netlink messages in the same batches as the floor for routes and for
IPVS, and a plain C++ loop for hashing. lvskit is measured in-process (the library call) and as a
whole process (\`lvskit -R < rules\`, \`lvskit -Sn\`: Node start included) beside the tools' whole
processes. Every trial runs in a fresh process; every routes/IPVS trial in a network namespace of
its own. Drivers run in alternating paired rounds; the goals are judged on the per-round ratio
(median, with min and max). Ratios are per operation (drivers that start one process per rule
are sampled over fewer rules).

## How to reproduce

\`\`\`sh
npm ci && npm run build          # addon + dist/
bash test/lab/setup.sh           # only if the kernel lacks IPVS: the QEMU lab VM (see docs/contributing.md)
npm run bench                    # as root (namespaces, netlink); ~2 min quiet, 9-12 min loaded here
node bench/run.mjs --quick       # smaller sizes: a smoke run
node bench/run.mjs --only routes --repeat 3
node bench/run.mjs --ipvs-sizes 1000,10000,100000 --vm-mem 6144 --full   # 100k services (long)
node bench/run.mjs --only ipvs --repeat 3       # IPVS only, 3 paired rounds
node bench/ipvs-floor-check.mjs                 # the IPVS floor sends lvskit's messages byte for byte
\`\`\`

\`bench/README.md\` describes each benchmark and driver. The IPVS part runs inside the lab VM when
the host kernel has no IPVS: that VM is QEMU in software emulation (TCG), which slows the kernel,
process start-up and JavaScript unevenly (process spawns and JS far more than kernel work), so
there only ratios measured side by side mean anything, and they favour neither side reliably.

## Results

<!-- results: generated by bench/run.mjs -->
${report}
<!-- /results -->

## Analysis

${analysis}
`;
  };
  return { report, page };
}

// ---- pure-TS reference hashes (a child process of run.mjs) ------------------------------------

async function hashReference(n) {
  const ref = await import(join(root, 'dist/hash/reference/index.js'));
  let x = 12345;
  const r = () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5;
    return (x >>>= 0);
  };
  const flows = Array.from({ length: n }, () => ({ saddr: [r()], daddr: [r()], sport: r() & 0xffff, dport: r() & 0xffff, proto: 6, flowLabel: 0 }));
  const flows6 = Array.from({ length: n }, () => ({ saddr: [r(), r(), r(), r()], daddr: [r(), r(), r(), r()], sport: r() & 0xffff, dport: r() & 0xffff, proto: 6, flowLabel: 0 }));
  const key = new Uint8Array(40).map(r);
  const input = new Uint8Array(12);
  const rate = (fn) => {
    let best = 0;
    for (let k = 0; k < 3; k++) {
      const t = process.hrtime.bigint();
      fn();
      best = Math.max(best, n / (Number(process.hrtime.bigint() - t) / 1e9));
    }
    return best / 1e6;
  };
  let sink = 0;
  const res = {
    mpHashV4: rate(() => { for (const f of flows) sink ^= ref.refMultipathHash(false, f, 1, 42, 0, true); }),
    mpHashV6: rate(() => { for (const f of flows6) sink ^= ref.refMultipathHash(true, f, 1, 42, 0, true); }),
    sh: rate(() => { for (const f of flows) sink ^= ref.refHash32((f.saddr[0] + f.sport) >>> 0, 8); }),
    dh: rate(() => { for (const f of flows) sink ^= ref.refHash32(f.daddr[0], 8); }),
    mh: rate(() => { for (const f of flows) sink ^= ref.refMhHashKey(f.saddr[0], f.sport, 0, false) % 4093; }),
    toeplitzV4: rate(() => {
      for (const f of flows) {
        const v = new DataView(input.buffer);
        v.setUint32(0, f.saddr[0]); v.setUint32(4, f.daddr[0]); v.setUint16(8, f.sport); v.setUint16(10, f.dport);
        sink ^= ref.refToeplitz(key, input);
      }
    }),
  };
  res.sink = sink & 1;
  process.stdout.write(JSON.stringify(res));
}
