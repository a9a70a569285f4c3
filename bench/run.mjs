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
//   --base-results FILE  the parts --only leaves out (routes, hash) are copied from an earlier
//             bench/results/*.json, so docs/benchmark.md keeps them (the Run line says so)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuRatioOf, environment, hostKernelHasIpvs, loadStamp, perOpUs, ratioOf, ratioText, rssOf, runTrial, table } from './harness.mjs';

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

/** Runs a trial `repeat` times and keeps the median by time. */
function trial(file, bench, driver, opts) {
  const rs = [];
  for (let k = 0; k < repeat; k++) rs.push(runTrial(file, bench, driver, opts));
  const ok = rs.filter((r) => !r.error).sort((a, b) => perOpUs(a) - perOpUs(b));
  const r = ok.length ? ok[(ok.length - 1) >> 1] : rs[0];
  if (repeat > 1 && ok.length) r.extra = { ...r.extra, trials: ok.map((x) => Number(x.ms.toFixed(1))) };
  return r;
}

// ---- 1. routes and addresses (host) ----------------------------------------------------------
if (only.has('routes')) {
  const env = { BENCH_ROUTES: String(ROUTES), BENCH_ADDRS: String(quick ? 2000 : 10_000), BENCH_SAMPLE: String(quick ? 50 : 300) };
  Object.assign(process.env, env); // routes.mjs reads its sizes (and titles) at import
  const { benchmarks, buildFloor } = await import('./routes.mjs');
  buildFloor();
  const baselines = { 'route-add-single': 'ip route add (process per rule)', 'route-add-bulk': 'ip -batch', 'route-dump': 'ip -j route show + JSON.parse', 'addr-add-bulk': 'ip -batch' };
  for (const b of benchmarks) {
    for (const d of Object.keys(b.drivers)) {
      const r = trial(join(here, 'routes.mjs'), b.name, d, { env });
      log(`  ${b.name} / ${d}: ${r.error ? 'FAILED ' + r.error : `${r.ms.toFixed(1)} ms for ${r.ops}`}`);
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
  const ipvsEnv = { BENCH_SIZES: IPVS_SIZES, BENCH_SAMPLE: quick ? '20' : '30', BENCH_LATENCY: quick ? '200' : '1000', BENCH_REPEAT: String(repeat), ...(flag('--full') ? { BENCH_FULL: '1' } : {}), ...(opt('--ipvs-only') ? { BENCH_ONLY: opt('--ipvs-only') } : {}) };
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
    const r = spawnSync(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...ipvsEnv }, cwd: root });
    if (existsSync(file)) {
      out.ipvs = JSON.parse(readFileSync(file, 'utf8'));
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

function goals(o) {
  const g = [];
  const ipvs = o.ipvs?.results;
  const sizes = (o.ipvs?.sizes ?? []).slice().sort((a, b) => b - a);
  const big = sizes[0];
  const where = o.ipvs?.environment?.where ?? '';
  const add = (name, target, value, note, cpu = NaN) => g.push({ name, target, value, cpu, met: Number.isFinite(value) ? value >= target : null, note });
  if (ipvs && big) {
    const lb = `ipvs-load-${big}`;
    const lv = find(ipvs, lb, 'lvskit batch()');
    const R = find(ipvs, lb, 'ipvsadm -R');
    const per = find(ipvs, lb, 'ipvsadm process per rule');
    add(`IPVS bulk load (${big} x 4): lvskit batch vs ipvsadm -R`, 5, ratioOf(lv, R), where, cpuRatioOf(lv, R));
    add(`IPVS bulk load (${big} x 4): lvskit batch vs one ipvsadm per rule`, 200, ratioOf(lv, per), where, cpuRatioOf(lv, per));
    const sl = find(ipvs, 'ipvs-add-single', 'lvskit addService');
    const sp = find(ipvs, 'ipvs-add-single', 'ipvsadm -A (process)');
    add('IPVS single add p50: lvskit vs one ipvsadm process', 50, sl && sp ? sp.extra.p50 / sl.extra.p50 : NaN, where, cpuRatioOf(sl, sp));
    const rd = (d) => find(ipvs, o.ipvs.results.find((r) => r.bench.startsWith('ipvs-read'))?.bench, d);
    add(`IPVS full read (${o.ipvs.results.find((r) => r.bench.startsWith('ipvs-read'))?.bench.slice(10) ?? '?'} x 4): lvskit listAll vs ipvsadm -Sn`, 3, ratioOf(rd('lvskit listAll()'), rd('ipvsadm -Sn')), where, cpuRatioOf(rd('lvskit listAll()'), rd('ipvsadm -Sn')));
  }
  const rb = o.routes;
  if (rb.length) {
    const lv = find(rb, 'route-add-bulk', 'lvskit addMany');
    const floor = find(rb, 'route-add-bulk', 'C floor (batched netlink)');
    // "within 1.5x of the floor": lvskit time <= 1.5 x floor time, i.e. floor/lvskit >= 1/1.5.
    g.push({ name: `${o.options.routes} routes: lvskit addMany within 1.5x of the C floor`, target: 1 / 1.5, value: ratioOf(lv, floor), cpu: cpuRatioOf(lv, floor), met: lv && floor ? lv.ms <= 1.5 * floor.ms : null, note: lv && floor ? `lvskit takes ${(lv.ms / floor.ms).toFixed(2)}x the floor's time` : '' });
    const ipb = find(rb, 'route-add-bulk', 'ip -batch');
    add(`${o.options.routes} routes: lvskit addMany vs ip -batch`, 3, ratioOf(lv, ipb), 'host kernel', cpuRatioOf(lv, ipb));
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
  if (o.ipvs?.environment) push(`\nIPVS: ${envLine(o.ipvs.environment)}.`);
  push('\n### Goals (ratios measured side by side in this run)\n');
  push('| goal | target | measured (wall) | CPU time ratio | met |');
  push('|---|---:|---:|---:|---|');
  for (const g of o.goals) {
    const measured = g.name.includes('within 1.5x') ? g.note : ratioText(g.value);
    const target = g.name.includes('within 1.5x') ? '<= 1.5x the floor' : `>= ${g.target}x faster`;
    const cpu = g.name.includes('within 1.5x') ? (Number.isFinite(g.cpu) ? `lvskit uses ${(1 / g.cpu).toFixed(2)}x the floor's CPU` : '') : ratioText(g.cpu);
    push(`| ${g.name} | ${target} | ${measured} | ${cpu} | ${g.met === null ? 'not measured' : g.met ? 'met' : '**missed**'}${g.note && !g.name.includes('within') ? ` (${g.note.startsWith('emulated') ? 'emulated' : g.note})` : ''} |`);
  }
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

lvskit against shelling out to \`ipvsadm\` and \`ip\`, side by side in one run, plus a plain C
program doing batched netlink as the floor for routes and a plain C++ loop for hashing. Every
trial runs in a fresh process; every routes/IPVS trial in a network namespace of its own. Ratios
are per operation (drivers that start one process per rule are sampled over fewer rules).

## How to reproduce

\`\`\`sh
npm ci && npm run build          # addon + dist/
bash test/lab/setup.sh           # only if the kernel lacks IPVS: the QEMU lab VM (see docs/contributing.md)
npm run bench                    # as root (namespaces, netlink); ~2 min quiet, 9-12 min loaded here
node bench/run.mjs --quick       # smaller sizes: a smoke run
node bench/run.mjs --only routes --repeat 3
node bench/run.mjs --ipvs-sizes 1000,10000,100000 --vm-mem 6144 --full   # 100k services (long)
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
