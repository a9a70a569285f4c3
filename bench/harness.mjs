// Benchmark harness (better-sqlite3's benchmark/ in spirit): each trial runs in a fresh process,
// drivers of one benchmark run side by side in the same run, results are absolute figures plus
// ratios against a baseline driver, stamped with machine, kernel, Node version, date and where
// the kernel work ran (host kernel, or the emulated IPVS VM).
//
// A benchmark file exports `benchmarks`: [{ name, where, drivers: { driverName: { setup?, run,
// teardown?, ops } } }] and is executed as `node bench/<file>.mjs --trial BENCH DRIVER` by
// runTrials(); a trial prints one JSON line {bench, driver, ops, ms, rssPeakKiB, extra}.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
    const t = process.hrtime.bigint();
    const extra = (await driver.run(ctx, state)) ?? {};
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    await driver.teardown?.(ctx, state);
    console.log(JSON.stringify({ bench: benchName, driver: driverName, ops: driver.ops ?? bench.ops, ms, rssPeakKiB: peakRssKiB(), extra }));
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

/** Markdown table of one benchmark's results, ratios against `baseline` (slower/faster). */
export function table(results, baseline) {
  const base = results.find((r) => r.driver === baseline && !r.error);
  const rows = ['| driver | ops | time | rate | per op | peak RSS | vs ' + baseline + ' |', '|---|---:|---:|---:|---:|---:|---:|'];
  for (const r of results) {
    if (r.error) {
      rows.push(`| ${r.driver} | | | | | | failed: ${r.error.replace(/\|/g, '/')} |`);
      continue;
    }
    const ratio = base ? base.ms / r.ms : NaN;
    const perOp = (r.ms * 1000) / r.ops;
    rows.push(
      `| ${r.driver} | ${r.ops} | ${r.ms.toFixed(1)} ms | ${formatOps(r.ops, r.ms)} | ${perOp >= 1000 ? (perOp / 1000).toFixed(2) + ' ms' : perOp.toFixed(2) + ' us'} | ${(r.rssPeakKiB / 1024).toFixed(0)} MiB | ${Number.isFinite(ratio) ? (ratio >= 1 ? `${ratio.toFixed(1)}x faster` : `${(1 / ratio).toFixed(1)}x slower`) : ''} |`,
    );
  }
  return rows.join('\n');
}

export function hostKernelHasIpvs() {
  try {
    return readFileSync('/proc/net/ip_vs', 'utf8').length >= 0;
  } catch {
    return false;
  }
}

export function commandExists(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
