// IPVS benchmarks, in a kernel with IPVS (the lab VM here: bash test/lab/vm.sh -- node bench/ipvs.mjs).
// Drivers side by side: lvskit one call per rule, lvskit batched, `ipvsadm` one process per rule
// (spawned from Node, as an application shelling out would), and `ipvsadm -R` / `-Sn` / `-C`.
//
//   node bench/ipvs.mjs [--out FILE] [--only REGEX]   run the set (sizes: BENCH_SIZES; BENCH_REPEAT=K rounds), print tables
//   node bench/ipvs.mjs --trial BENCH DRIVER                               one trial (run in a netns)
//
// Every trial runs in a fresh process inside a fresh network namespace (`ip netns exec NS node
// ...`, so lvskit and ipvsadm both act on "their current" namespace); the namespace is deleted
// after the trial. State a trial needs before its timed part (the services to read, edit or
// delete) is loaded untimed with lvskit in its setup.
//
// Services spread over the VIP's low octets and the port, because before 7.x kernels IPVS hashes
// services into 256 buckets on (proto ^ addr ^ (port >> 8) ^ port) & 255 (see KERNEL-FACTS.md).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFloorProgram, environment, hostKernelHasIpvs, latencies, loadStamp, ratioText, runChild, runTrial, table, trialMain } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const DESTS = 4;
const SAMPLE = Number(process.env.BENCH_SAMPLE ?? 50); // rules for the process-per-rule drivers
const FULL = process.env.BENCH_FULL === '1'; // every driver at every size (slow under emulation)
const LAT = Number(process.env.BENCH_LATENCY ?? 1000);
const tmp = process.env.BENCH_TMP ?? '/tmp/lvskit-bench';

const lib = () => import(join(root, 'dist/index.js'));
const CLI = join(root, 'dist/cli/main.js');
/** The IPVS floor (bench/c/ipvs_floor.c), built into the checkout's build/ (shared with the lab VM, whose /tmp is its own). */
export const ipvsFloorDir = join(root, 'build/bench');
export const buildIpvsFloor = () => buildFloorProgram('ipvs_floor', ipvsFloorDir);
const vip = (i) => `10.${100 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}`;
const vport = (i) => 80 + ((i * 7) & 1023);
const rip = (j) => `192.168.${j}.10`;
const key = (i) => ({ protocol: 'tcp', address: vip(i), port: vport(i) });
const dest = (j, weight = 1) => ({ address: rip(j), port: 8080, forward: 'masq', weight });
const vs = (i) => `${vip(i)}:${vport(i)}`;
const serviceLine = (i) => `-A -t ${vs(i)} -s wlc`;
const destLine = (i, j, op = 'a', w = 1) => `-${op} -t ${vs(i)} -r ${rip(j)}:8080 -m -w ${w}`;
const ruleLines = (n) => {
  const out = [];
  for (let i = 0; i < n; i++) {
    out.push(serviceLine(i));
    for (let j = 0; j < DESTS; j++) out.push(destLine(i, j));
  }
  return out;
};
/** lvskit's input for n services x DESTS: fresh key objects for every call, as an application
 * building them would pass (built untimed, like ipvsadm -R's rules file). */
const ruleSpecs = (n) => {
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = { service: { key: key(i), scheduler: 'wlc' }, dests: Array.from({ length: DESTS }, (_, j) => [key(i), dest(j)]) };
  return out;
};
/** The 10% of destinations an edit touches: every tenth, by (service, dest) order. */
const editSet = (n) => {
  const out = [];
  for (let k = 0; k < n * DESTS; k += 10) out.push([Math.floor(k / DESTS), k % DESTS]);
  return out;
};

function file(name, lines) {
  mkdirSync(tmp, { recursive: true });
  const f = join(tmp, `${name}-${process.pid}.rules`);
  writeFileSync(f, lines.join('\n') + '\n');
  return f;
}

async function open() {
  const { Ipvs } = await lib();
  return Ipvs.open();
}

/** Untimed: load n services x 4 destinations with one lvskit batch. */
async function load(n) {
  const ipvs = await open();
  const b = ipvs.batch();
  for (let i = 0; i < n; i++) {
    b.addService({ key: key(i), scheduler: 'wlc' });
    for (let j = 0; j < DESTS; j++) b.addDestination(key(i), dest(j));
  }
  const rep = await b.run();
  ipvs.close();
  if (!rep.ok) throw new Error(`load: ${rep.failed.length} failed: ${rep.items[rep.failed[0]]?.error?.message}`);
}

/** Untimed check after a load: services and destinations the kernel holds (by ipvsadm -Sn). */
function countRules() {
  const out = execFileSync('ipvsadm', ['-Sn'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  let svc = 0;
  let dst = 0;
  for (const l of out.split('\n')) {
    if (l.startsWith('-A')) svc++;
    else if (l.startsWith('-a')) dst++;
  }
  return { svc, dst };
}

function expectLoaded(n) {
  const c = countRules();
  if (c.svc !== n || c.dst !== n * DESTS) throw new Error(`expected ${n} services/${n * DESTS} destinations, found ${c.svc}/${c.dst}`);
}

const ipvsadm = (args, opts) => runChild('ipvsadm', args, opts);

function loadBench(n) {
  const rules = n * (1 + DESTS);
  return {
    name: `ipvs-load-${n}`,
    title: `Bulk load: ${n} services x ${DESTS} destinations (${rules} rules)`,
    ops: rules,
    drivers: {
      'lvskit batch()': {
        // The rules are built untimed, as ipvsadm -R's rules file is written untimed by its setup.
        setup: async () => ({ ipvs: await open(), rules: ruleSpecs(n) }),
        run: async (ctx, { ipvs, rules }) => {
          const b = ipvs.batch();
          for (const r of rules) {
            b.addService(r.service);
            for (const [k, d] of r.dests) b.addDestination(k, d);
          }
          const rep = await b.run();
          if (!rep.ok) throw new Error(`${rep.failed.length} failed`);
          ipvs.close();
          return { note: `${rep.sendCalls} sendmsg; timing ${JSON.stringify(roundTiming(rep.timing))}`, timing: rep.timing };
        },
        teardown: () => expectLoaded(n),
      },
      'C floor (batched genetlink)': {
        // Same messages byte for byte (bench/ipvs-floor-check.mjs), 1024 a send, last acked.
        run: async () => {
          const r = runChild(buildIpvsFloor(), [String(n), String(DESTS)]);
          const m = /ok (\d+) failed (\d+) ms ([\d.]+) resolve_ms ([\d.]+) sends (\d+)/.exec(r.stdout);
          if (!m || Number(m[2]) !== 0) throw new Error(`ipvs_floor: ${r.stdout.trim()} ${r.stderr.trim()}`);
          return {
            timedMs: Number(m[3]),
            childRssKiB: r.rssKiB,
            processMs: Number(r.ms.toFixed(1)),
            note: `own clock, socket and family resolution excluded (as lvskit's in-process row excludes Ipvs.open()); ${m[5]} sendmsg; whole process ${r.ms.toFixed(0)} ms`,
          };
        },
        teardown: () => expectLoaded(n),
      },
      'lvskit -R (whole process)': {
        // The program as an operator runs it: Node start, import, socket, family resolution,
        // reading and parsing the rules file, the batch, exit. Beside ipvsadm -R's whole process.
        setup: () => ({ f: file('load', ruleLines(n)) }),
        run: async (ctx, { f }) => {
          const r = runChild('sh', ['-c', `exec "${process.execPath}" "${CLI}" -R < "$0"`, f]);
          return { childRssKiB: r.rssKiB, note: 'Node start included' };
        },
        teardown: () => expectLoaded(n),
      },
      'lvskit call per rule': {
        skip: n > 1000 && !FULL ? 'runs at the smaller size unless BENCH_FULL=1 (slow under emulation)' : undefined,
        setup: async () => ({ ipvs: await open(), rules: ruleSpecs(FULL ? n : Math.min(n, 200)) }),
        run: async (ctx, { ipvs, rules }) => {
          // Under emulation one call costs ~20 ms: sample 200 services unless BENCH_FULL=1.
          const m = rules.length;
          for (const r of rules) {
            await ipvs.addService(r.service);
            for (const [k, d] of r.dests) await ipvs.addDestination(k, d);
          }
          ipvs.close();
          return m < n ? { ops: m * (1 + DESTS), note: `sampled: ${m} services (${m * (1 + DESTS)} rules)` } : {};
        },
        teardown: () => expectLoaded(FULL ? n : Math.min(n, 200)),
      },
      'ipvsadm -R': {
        setup: () => ({ f: file('load', ruleLines(n)) }),
        run: async (ctx, { f }) => {
          const r = runChild('sh', ['-c', 'exec ipvsadm -R < "$0"', f]);
          return { childRssKiB: r.rssKiB };
        },
        teardown: () => expectLoaded(n),
      },
      'ipvsadm process per rule': {
        run: async () => {
          const lines = ruleLines(Math.max(1, Math.floor(SAMPLE / (1 + DESTS))));
          let rss = 0;
          lines.forEach((l, k) => (rss = Math.max(rss, ipvsadm(l.split(' '), { rss: k === 0 }).rssKiB)));
          return { ops: lines.length, childRssKiB: rss, note: `sampled: ${lines.length} rules` };
        },
      },
    },
  };
}

function readBench(n) {
  return {
    name: `ipvs-read-${n}`,
    title: `Full read: ${n} services x ${DESTS} destinations`,
    ops: n * (1 + DESTS),
    setup: async () => load(n),
    drivers: {
      'lvskit listAll()': {
        setup: async () => ({ ipvs: await open() }),
        run: async (ctx, { ipvs }) => {
          const all = await ipvs.listAll();
          const d = all.reduce((a, s) => a + (s.destinations?.length ?? 0), 0);
          if (all.length !== n || d !== n * DESTS) throw new Error(`listAll gave ${all.length}/${d}`);
          ipvs.close();
          return { note: 'services and destinations as objects (with stats)' };
        },
      },
      'ipvsadm -Sn': {
        run: async () => {
          const r = ipvsadm(['-Sn']);
          const lines = r.stdout.split('\n').filter((l) => l.startsWith('-'));
          if (lines.length !== n * (1 + DESTS)) throw new Error(`-Sn gave ${lines.length} lines`);
          return { childRssKiB: r.rssKiB, note: 'text, not parsed' };
        },
      },
      'ipvsadm -Ln --stats': {
        run: async () => ({ childRssKiB: ipvsadm(['-Ln', '--stats']).rssKiB, note: 'text with counters, not parsed' }),
      },
      'lvskit -Sn (whole process)': {
        run: async () => {
          const r = runChild(process.execPath, [CLI, '-Sn']);
          const lines = r.stdout.split('\n').filter((l) => l.startsWith('-'));
          if (lines.length !== n * (1 + DESTS)) throw new Error(`lvskit -Sn gave ${lines.length} lines`);
          return { childRssKiB: r.rssKiB, note: 'Node start included; the same text as ipvsadm -Sn' };
        },
      },
    },
  };
}

function editBench(n) {
  const edits = editSet(n);
  return {
    name: `ipvs-edit-${n}`,
    title: `Edit 10% of destinations (${edits.length} weight changes) among ${n} services`,
    ops: edits.length,
    setup: async () => load(n),
    drivers: {
      'lvskit batch()': {
        setup: async () => ({ ipvs: await open() }),
        run: async (ctx, { ipvs }) => {
          const b = ipvs.batch();
          for (const [i, j] of edits) b.editDestination(key(i), { address: rip(j), port: 8080 }, { weight: 5 });
          const rep = await b.run();
          if (!rep.ok) throw new Error(`${rep.failed.length} failed`);
          ipvs.close();
          return { note: 'includes reading the edited services to merge the fields not given' };
        },
      },
      'lvskit call per rule': {
        setup: async () => ({ ipvs: await open() }),
        run: async (ctx, { ipvs }) => {
          for (const [i, j] of edits) await ipvs.editDestination(key(i), { address: rip(j), port: 8080 }, { weight: 5 });
          ipvs.close();
          return { note: 'each reads its service first' };
        },
      },
      'ipvsadm -R (-e lines)': {
        setup: () => ({ f: file('edit', edits.map(([i, j]) => destLine(i, j, 'e', 5))) }),
        run: async (ctx, { f }) => ({ childRssKiB: runChild('sh', ['-c', 'exec ipvsadm -R < "$0"', f]).rssKiB }),
      },
      'ipvsadm process per rule': {
        run: async () => {
          const some = edits.slice(0, SAMPLE);
          let rss = 0;
          some.forEach(([i, j], k) => (rss = Math.max(rss, ipvsadm(destLine(i, j, 'e', 5).split(' '), { rss: k === 0 }).rssKiB)));
          return { ops: some.length, childRssKiB: rss, note: `sampled: ${some.length} rules` };
        },
      },
    },
  };
}

/** The state load(n) leaves, as an LvsState, with `weight(i, j)` for destination j of service i. */
function stateOf(n, weight = () => 1) {
  const services = new Array(n);
  for (let i = 0; i < n; i++) services[i] = { key: key(i), scheduler: 'wlc', destinations: Array.from({ length: DESTS }, (_, j) => dest(j, weight(i, j))) };
  return { services };
}

/**
 * The controller case: 1% of the destinations (every 25th service's second one) change weight
 * among n services, as a controller's next desired state. lvskit: apply() with the state it last
 * applied as assumeCurrent (nothing read), apply() reading the table, and a batch of just the
 * edits given the known services; ipvsadm: -R with just the changed lines.
 */
function controllerBench(n) {
  const changed = [];
  for (let i = 0; i < n; i += 25) changed.push(i);
  const weight = (i, j) => (i % 25 === 0 && j === 1 ? 5 : 1);
  return {
    name: `ipvs-controller-${n}`,
    title: `Controller case: ${changed.length} destinations (1%) change weight among ${n} services`,
    ops: changed.length,
    setup: async () => load(n),
    drivers: {
      'lvskit apply({ assumeCurrent })': {
        setup: async () => ({ ipvs: await open(), last: stateOf(n), next: stateOf(n, weight), apply: (await lib()).apply }),
        run: async (ctx, { ipvs, last, next, apply }) => {
          const r = await apply(ipvs, next, { assumeCurrent: last });
          if (r.changes.length !== changed.length) throw new Error(`${r.changes.length} changes`);
          ipvs.close();
          return { note: `nothing read; the whole desired state validated and diffed; timing ${JSON.stringify(roundTiming(r.timing))}` };
        },
      },
      'lvskit apply() (reads the table)': {
        setup: async () => ({ ipvs: await open(), next: stateOf(n, weight), apply: (await lib()).apply }),
        run: async (ctx, { ipvs, next, apply }) => {
          const r = await apply(ipvs, next);
          if (r.changes.length !== changed.length) throw new Error(`${r.changes.length} changes`);
          ipvs.close();
          return { note: `timing ${JSON.stringify(roundTiming(r.timing))}` };
        },
      },
      'lvskit batch() of the edits (knownServices)': {
        setup: async () => ({ ipvs: await open(), known: stateOf(n).services }),
        run: async (ctx, { ipvs, known }) => {
          const b = ipvs.batch();
          for (const i of changed) b.editDestination(key(i), { address: rip(1), port: 8080 }, { weight: 5 });
          const rep = await b.run({ knownServices: known });
          if (!rep.ok) throw new Error(`${rep.failed.length} failed`);
          ipvs.close();
          return { note: 'a controller that computes its own changes; nothing read' };
        },
      },
      'ipvsadm -R (changed lines)': {
        setup: () => ({ f: file('ctl', changed.map((i) => destLine(i, 1, 'e', 5))) }),
        run: async (ctx, { f }) => ({ childRssKiB: runChild('sh', ['-c', 'exec ipvsadm -R < "$0"', f]).rssKiB }),
      },
    },
  };
}

const roundTiming = (t) => Object.fromEntries(Object.entries(t).filter(([, v]) => typeof v === 'number').map(([k, v]) => [k, Number(v.toFixed(1))]));

function deleteBench(n) {
  return {
    name: `ipvs-delete-${n}`,
    title: `Delete everything: ${n} services x ${DESTS} destinations`,
    ops: n,
    setup: async () => load(n),
    drivers: {
      'lvskit flush()': {
        setup: async () => ({ ipvs: await open() }),
        run: async (ctx, { ipvs }) => {
          await ipvs.flush();
          ipvs.close();
          return { note: 'one IPVS_CMD_FLUSH' };
        },
      },
      'lvskit batch() deleteService': {
        setup: async () => ({ ipvs: await open() }),
        run: async (ctx, { ipvs }) => {
          const b = ipvs.batch();
          for (let i = 0; i < n; i++) b.deleteService(key(i));
          const rep = await b.run();
          if (!rep.ok) throw new Error(`${rep.failed.length} failed`);
          ipvs.close();
          return { note: `${n} deletes in one batch` };
        },
      },
      'ipvsadm -C': {
        run: async () => ({ childRssKiB: ipvsadm(['-C']).rssKiB }),
      },
      'ipvsadm -R (-D lines)': {
        setup: () => ({ f: file('delete', Array.from({ length: n }, (_, i) => `-D -t ${vs(i)}`)) }),
        run: async (ctx, { f }) => ({ childRssKiB: runChild('sh', ['-c', 'exec ipvsadm -R < "$0"', f]).rssKiB }),
      },
    },
  };
}

const singleBench = {
  name: 'ipvs-add-single',
  title: 'One service add (latency), into an empty table',
  drivers: {
    'lvskit addService': {
      ops: LAT,
      setup: async () => {
        const ipvs = await open();
        await ipvs.addService({ key: key(LAT + 1), scheduler: 'wlc' }); // warm
        return { ipvs };
      },
      run: async (ctx, { ipvs }) => {
        const l = await latencies(LAT, (i) => ipvs.addService({ key: key(i), scheduler: 'wlc' }));
        ipvs.close();
        return { p50: l.p50, p99: l.p99 };
      },
    },
    'ipvsadm -A (process)': {
      run: async () => {
        const n = Math.min(SAMPLE, 100);
        const l = await latencies(n, (i) => ipvsadm(serviceLine(i).split(' '), { rss: false }));
        return { ops: n, p50: l.p50, p99: l.p99, timedMs: (l.mean * n) / 1000 };
      },
    },
  },
};

export function benchmarksFor(sizes) {
  const out = [singleBench];
  for (const n of sizes) out.push(loadBench(n));
  // Read, edit and delete run at one size: BENCH_OPS_SIZE, else the largest with BENCH_FULL=1,
  // else 1000 (each of their trials first loads the state, which is slow under emulation).
  const opsSize = Number(process.env.BENCH_OPS_SIZE ?? (FULL ? Math.max(...sizes) : Math.min(1000, Math.max(...sizes))));
  out.push(readBench(opsSize), editBench(opsSize), deleteBench(opsSize));
  // the controller case at the largest size (BENCH_CONTROLLER_SIZE to change it)
  out.push(controllerBench(Number(process.env.BENCH_CONTROLLER_SIZE ?? Math.max(...sizes))));
  return out;
}

const SIZES = (process.env.BENCH_SIZES ?? '1000,10000').split(',').map(Number);
export const benchmarks = benchmarksFor(SIZES);

/** Baseline driver of each benchmark (ratios are against it). */
export function baselineOf(name) {
  if (name === 'ipvs-add-single') return 'ipvsadm -A (process)';
  if (name.startsWith('ipvs-read')) return 'ipvsadm -Sn';
  if (name.startsWith('ipvs-delete')) return 'ipvsadm -C';
  if (name.startsWith('ipvs-controller')) return 'ipvsadm -R (changed lines)';
  return name.startsWith('ipvs-edit') ? 'ipvsadm -R (-e lines)' : 'ipvsadm -R';
}

/** One trial of a driver in a fresh namespace (deleted afterwards). */
function trialInNetns(b, d, tag) {
  const ns = `lvskit-bench-${process.pid}-${tag}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    return runTrial(join(here, 'ipvs.mjs'), b.name, d, { wrap: (argv) => ['ip', 'netns', 'exec', ns, ...argv] });
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
}

const perOp = (r) => (r.ms * 1000) / r.ops;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Runs every (benchmark, driver) as a fresh process in a fresh namespace; returns results.
 * With repeat K > 1 the drivers of a benchmark run in K rounds (each round every driver once, in
 * turn, so a round's drivers meet the same machine load); a driver's row is its median trial by
 * time per operation, and `extra.ratios` keeps each round's wall-time ratio against the
 * baseline driver of that same round (their median and spread are what to quote on a shared
 * machine).
 */
export function runAll({ only, log = console.error, repeat = Number(process.env.BENCH_REPEAT ?? 1) } = {}) {
  const results = [];
  const re = only ? new RegExp(only) : null;
  let tag = 0;
  for (const b of benchmarks) {
    if (re && !re.test(b.name)) continue;
    const drivers = Object.keys(b.drivers).filter((d) => {
      if (b.drivers[d].skip) log(`  ${b.name} / ${d}: skipped (${b.drivers[d].skip})`);
      return !b.drivers[d].skip;
    });
    const trials = new Map(drivers.map((d) => [d, []]));
    for (let k = 0; k < repeat; k++) {
      // every other round in reverse order, so no driver always runs right after the same one
      for (const d of k % 2 ? [...drivers].reverse() : drivers) {
        const r = trialInNetns(b, d, tag++);
        log(`  ${b.name} / ${d}${repeat > 1 ? ` [${k + 1}/${repeat}]` : ''}: ${r.error ? 'FAILED ' + r.error : `${r.ms.toFixed(1)} ms for ${r.ops}`}`);
        trials.get(d).push(r);
      }
    }
    const base = baselineOf(b.name);
    for (const d of drivers) {
      const rs = trials.get(d);
      const ok = rs.filter((r) => !r.error);
      const r = ok.length ? [...ok].sort((x, y) => perOp(x) - perOp(y))[(ok.length - 1) >> 1] : rs[0];
      if (repeat > 1 && ok.length) {
        const ratios = [];
        rs.forEach((x, k) => {
          const y = trials.get(base)?.[k];
          if (d !== base && !x.error && y && !y.error) ratios.push(Number((perOp(y) / perOp(x)).toPrecision(3)));
        });
        // per round (k): this driver's time per operation, so any two drivers can be paired by round
        const roundsPerOpUs = rs.map((x) => (x.error ? null : Number(perOp(x).toPrecision(4))));
        r.extra = { ...r.extra, trialsMs: ok.map((x) => Number(x.ms.toFixed(1))), roundsPerOpUs, ...(ratios.length ? { ratios } : {}) };
        const spread = ratios.length ? `; per-round ratio: median ${ratioText(median(ratios))}, range ${ratioText(Math.min(...ratios))} to ${ratioText(Math.max(...ratios))}` : '';
        r.extra.note = `${r.extra.note ? r.extra.note + '; ' : ''}median of ${ok.length} trials${spread}`;
      }
      results.push({ ...r, title: b.title, baseline: base });
    }
  }
  return results;
}

if (!(await trialMain(benchmarks))) {
  const arg = (k) => {
    const i = process.argv.indexOf(k);
    return i < 0 ? undefined : process.argv[i + 1];
  };
  if (!hostKernelHasIpvs()) {
    try {
      await (await lib()).Ipvs.open().close();
    } catch (e) {
      console.error(`bench/ipvs.mjs: this kernel has no IPVS (${e.message}); run it in the lab VM: bash test/lab/vm.sh -- node bench/ipvs.mjs`);
      process.exit(2);
    }
  }
  const inVm = process.env.LVSKIT_IN_LAB_VM === '1';
  const where = inVm ? `emulated IPVS VM (QEMU TCG, no KVM) on a host with kernel ${process.env.LVSKIT_HOST_KERNEL ?? '?'}` : 'host kernel';
  const env = { ...environment(where), load: loadStamp() };
  const results = runAll({ only: arg('--only') ?? process.env.BENCH_ONLY });
  env.loadAfter = loadStamp();
  const out = { environment: env, sizes: SIZES, results };
  if (arg('--out')) writeFileSync(arg('--out'), JSON.stringify(out, null, 1));
  const names = [...new Set(results.map((r) => r.bench))];
  for (const name of names) {
    const rs = results.filter((r) => r.bench === name);
    console.log(`\n### ${rs[0].title}\n\n${table(rs, rs[0].baseline)}`);
  }
}
