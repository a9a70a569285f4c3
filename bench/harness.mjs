// Benchmark harness (better-sqlite3's benchmark/ in spirit): each trial runs in a fresh process,
// drivers of one benchmark run side by side in the same run, results are absolute figures plus
// ratios against a baseline driver, stamped with machine, kernel, Node version, date and where
// the kernel work ran (host kernel, or the emulated IPVS VM).
//
// A benchmark file exports `benchmarks`: [{ name, where, drivers: { driverName: { setup?, run,
// teardown?, ops } } }] and is executed as `node bench/<file>.mjs --trial BENCH DRIVER` by
// runTrials(); a trial prints one JSON line {bench, driver, ops, ms, rssPeakKiB, extra}.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';

export function environment(where) {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  cpu = cpu.replace(/\s+/g, ' ').trim();
  return {
    date: new Date().toISOString(),
    machine: `${cpu}, ${os.cpus().length} vCPU, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    where,
  };
}

/** CPU time (user + system) of waited-for child processes so far, in ms (/proc/self/stat). */
export function childCpuMs() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) * 10; // cutime, cstime in USER_HZ (100) ticks
}

/** Peak RSS of this process so far, in KiB (VmHWM). */
export function peakRssKiB() {
  const m = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : 0;
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** Times `fn` `n` times, returning latency percentiles in microseconds. */
export async function latencies(n, fn) {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn(i);
    out[i] = Number(process.hrtime.bigint() - t) / 1e3;
  }
  const sorted = Array.from(out).sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean: sorted.reduce((a, b) => a + b, 0) / n };
}

/**
 * Runs `node file --trial bench driver` in a fresh process per trial and returns the parsed
 * JSON results. `wrap` turns the argv into another command (e.g. the IPVS VM runner).
 */
export function runTrial(file, bench, driver, { wrap, env, timeoutMs = 600_000 } = {}) {
  const argv = [process.execPath, file, '--trial', bench, driver];
  const [cmd, ...args] = wrap ? wrap(argv) : argv;
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 64 << 20 });
  const line = (r.stdout ?? '').split('\n').reverse().find((l) => l.startsWith('{"bench"'));
  if (r.status !== 0 || !line) {
    return { bench, driver, error: `exit ${r.status ?? r.signal}: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-5).join(' | ')}` };
  }
  return JSON.parse(line);
}

/** In a trial process: runs the driver and prints its JSON line. */
export async function trialMain(benchmarks) {
  const i = process.argv.indexOf('--trial');
  if (i < 0) return false;
  const [benchName, driverName] = process.argv.slice(i + 1, i + 3);
  const bench = benchmarks.find((b) => b.name === benchName);
  const driver = bench?.drivers[driverName];
  if (!driver) throw new Error(`no driver ${benchName}/${driverName}`);
  const ctx = (await bench.setup?.()) ?? {};
  try {
    const state = (await driver.setup?.(ctx)) ?? {};
    const c0 = process.cpuUsage();
    const ch0 = childCpuMs();
    const t = process.hrtime.bigint();
    const extra = (await driver.run(ctx, state)) ?? {};
    let ms = Number(process.hrtime.bigint() - t) / 1e6;
    // CPU time of the timed part, kernel work included (netlink requests run in the sender's
    // system time), child processes included: steadier than wall time on a loaded machine.
    const c = process.cpuUsage(c0);
    const cpuMs = (c.user + c.system) / 1000 + (childCpuMs() - ch0);
    // A driver may time itself (extra.timedMs: e.g. the C floor's own clock, excluding exec) or
    // run fewer operations than the benchmark's (extra.ops: sampled one-process-per-rule drivers).
    let ops = driver.ops ?? bench.ops;
    if (typeof extra.timedMs === 'number') ms = extra.timedMs;
    if (typeof extra.ops === 'number') ops = extra.ops;
    delete extra.timedMs;
    delete extra.ops;
    await driver.teardown?.(ctx, state);
    console.log(JSON.stringify({ bench: benchName, driver: driverName, ops, ms, cpuMs, rssPeakKiB: peakRssKiB(), extra }));
  } finally {
    await bench.teardown?.(ctx);
  }
  return true;
}

export function formatOps(ops, ms) {
  const perSec = (ops / ms) * 1000;
  if (perSec >= 1e6) return `${(perSec / 1e6).toFixed(2)} M/s`;
  if (perSec >= 1e3) return `${(perSec / 1e3).toFixed(1)} k/s`;
  return `${perSec.toFixed(1)} /s`;
}

function fmtTime(us) {
  if (!Number.isFinite(us)) return '';
  if (us >= 1e6) return `${(us / 1e6).toFixed(2)} s`;
  if (us >= 1e3) return `${(us / 1e3).toFixed(2)} ms`;
  return `${us.toFixed(2)} us`;
}

/** Peak RSS a result stands for: the child's when the driver is another program, else the trial's. */
export function rssOf(r) {
  return r.extra?.childRssKiB ?? r.rssPeakKiB;
}

/** Per-operation time in microseconds. */
export function perOpUs(r) {
  return (r.ms * 1000) / r.ops;
}

/**
 * Ratio of `r` against `base`, per operation (so a driver sampled over fewer operations, such as
 * one process per rule, compares fairly): > 1 means r is faster.
 */
export function ratioOf(r, base) {
  if (!base || base.error || r.error) return NaN;
  return perOpUs(base) / perOpUs(r);
}

/** The same ratio on CPU time (user + system, children included) per operation. */
export function cpuRatioOf(r, base) {
  if (!base || base.error || !r || r.error || !base.cpuMs || !r.cpuMs) return NaN;
  return base.cpuMs / base.ops / (r.cpuMs / r.ops);
}

export function ratioText(x) {
  if (!Number.isFinite(x)) return '';
  return x >= 1 ? `${x >= 100 ? x.toFixed(0) : x.toFixed(1)}x faster` : `${(1 / x).toFixed(1)}x slower`;
}

/**
 * Markdown table of one benchmark's results, ratios (per operation) against `baseline`. Latency
 * columns appear when a driver reported extra.p50/p99 (microseconds).
 */
export function table(results, baseline) {
  const base = results.find((r) => r.driver === baseline && !r.error);
  const lat = results.some((r) => r.extra?.p50 !== undefined);
  const head = ['driver', 'ops', 'time', 'per op', 'rate', ...(lat ? ['p50', 'p99'] : []), 'CPU per op', 'peak RSS', `vs ${baseline}`, 'CPU vs baseline', 'notes'];
  const rows = [`| ${head.join(' | ')} |`, `|---|${head.slice(1, -1).map(() => '---:').join('|')}|---|`];
  for (const r of results) {
    if (r.error) {
      rows.push(`| ${[r.driver, ...head.slice(2).map(() => ''), `failed: ${r.error.replace(/\|/g, '/').slice(0, 300)}`].join(' | ')} |`);
      continue;
    }
    const cells = [r.driver, String(r.ops), fmtTime(r.ms * 1000), fmtTime(perOpUs(r)), formatOps(r.ops, r.ms)];
    if (lat) cells.push(fmtTime(r.extra?.p50), fmtTime(r.extra?.p99));
    const cpuRatio = cpuRatioOf(r, base);
    cells.push(
      r.cpuMs === undefined ? '' : fmtTime((r.cpuMs * 1000) / r.ops),
      `${(rssOf(r) / 1024).toFixed(1)} MiB`,
      r.driver === baseline ? 'baseline' : ratioText(ratioOf(r, base)),
      r.driver === baseline ? '' : ratioText(cpuRatio),
      (r.extra?.note ?? '').replace(/\|/g, '/'),
    );
    rows.push(`| ${cells.join(' | ')} |`);
  }
  return rows.join('\n');
}

/**
 * Runs another program as a driver: wall time of the process (fork, exec and all), its peak RSS
 * (through /usr/bin/time when present and `rss`: that adds an exec, so drivers timing one process
 * per rule measure RSS on one call only) and its stdout. Throws on a non-zero exit.
 */
export function runChild(cmd, args, { input, allowFail = false, rss = true } = {}) {
  const useTime = rss && commandExists('/usr/bin/time');
  const argv = useTime ? ['/usr/bin/time', '-f', 'LVSKIT_MAXRSS %M', cmd, ...args] : [cmd, ...args];
  const t = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { input, encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const m = /LVSKIT_MAXRSS (\d+)/.exec(r.stderr ?? '');
  if (r.status !== 0 && !allowFail) throw new Error(`${cmd} ${args.slice(0, 6).join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr ?? '').replace(/LVSKIT_MAXRSS \d+/, '').trim().slice(0, 400)}`);
  return { ms, rssKiB: m ? Number(m[1]) : 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status };
}

/** System load average (1 min) and CPU count, for the results' stamp. */
export function loadStamp() {
  const [l1, l5] = os.loadavg();
  return { load1: Number(l1.toFixed(2)), load5: Number(l5.toFixed(2)), cpus: os.cpus().length };
}

export function hostKernelHasIpvs() {
  try {
    return readFileSync('/proc/net/ip_vs', 'utf8').length >= 0;
  } catch {
    return false;
  }
}

const exists = new Map();
export function commandExists(cmd) {
  if (!exists.has(cmd)) {
    try {
      execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
      exists.set(cmd, true);
    } catch {
      exists.set(cmd, false);
    }
  }
  return exists.get(cmd);
}

/**
 * Compiles a floor program (bench/c/NAME.c) with `cc -O2` into `dir` (default BENCH_TMP, else
 * /tmp/lvskit-bench) when the binary is missing or older than its source; returns its path.
 */
export function buildFloorProgram(name, dir = process.env.BENCH_TMP ?? '/tmp/lvskit-bench') {
  const here = new URL('.', import.meta.url).pathname;
  const src = `${here}c/${name}.c`;
  const bin = `${dir}/${name}`;
  mkdirSync(dir, { recursive: true });
  if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) execFileSync('cc', ['-O2', '-Wall', '-o', bin, src], { stdio: 'inherit' });
  return bin;
}
