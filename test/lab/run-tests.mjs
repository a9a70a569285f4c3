#!/usr/bin/env node
// `npm test`: runs the three vitest tiers where each can really run, and sums them up.
//   unit  - on the host
//   netns - on the host, inside network namespaces the test files create (they need CAP_NET_ADMIN;
//           they probe and skip loudly on their own)
//   ipvs  - on the host when its kernel has IPVS, else inside the lab VM (test/lab/vm.sh: QEMU
//           booting Debian's stock kernel), set up on first use (test/lab/setup.sh)
//
// usage: node test/lab/run-tests.mjs [--tier unit|netns|ipvs]... [--vm | --no-vm]
//          [--vm-mem MiB] [--vm-smp N] [--vm-timeout SEC] [--vm-isolate] [--] [vitest args]
//   --tier       run only these tiers (repeatable, or comma separated); default: all three
//   --vm         run the ipvs tier in the lab VM even when the host has IPVS
//   --no-vm      never boot the VM: without IPVS on the host the ipvs tier does not run
//   --vm-*       passed to vm.sh (defaults here: 1 vCPU, 2048 MiB, 3000 s)
//   --vm-isolate in the VM, one process per test file as on the host (default there: one process
//                for all ipvs files, which saves 5-10 s a file under emulation)
//   anything else (and everything after --) goes to vitest, for every tier that runs
// env: CI=true  also fail when the netns or ipvs tier passed no test at all (the real-kernel
//               tests did not really run), or when the lab VM could not be set up or booted;
//               passed on to the tests (in the VM too): a file whose tool is missing then fails
//               instead of skipping (test/helpers/tools.ts)
// Before a real-kernel tier: every tool in test/lab/test-tools.txt must be on PATH (npm run
// lab:setup installs them); a missing one fails the run, named with its apt package.
// The summary lists every skipped test by file.
// exit: 0 all good; 1 a test failed, a tier errored, a test tool is missing, or (CI) a
//       real-kernel tier did not run; 2 usage; 130 interrupted
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { release } from 'node:os';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');
const WORK = process.env.LAB_WORK ?? join(REPO, '.lab');
const RESULTS = join(WORK, 'results');
const VITEST = join(REPO, 'node_modules', 'vitest', 'vitest.mjs');
const TIERS = ['unit', 'netns', 'ipvs'];
const CI = /^(1|true|yes)$/i.test(process.env.CI ?? '');

// ---------------------------------------------------------------------------------------------
function usage(code) {
  const text = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
  const from = text.findIndex((l) => l.startsWith('// usage:'));
  const to = text.findIndex((l, i) => i > from && !l.startsWith('//'));
  process.stderr.write(`${text.slice(from, to).map((l) => l.replace(/^\/\/ ?/, '')).join('\n')}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const o = { tiers: [], vm: 'auto', vmArgs: [], vitestArgs: [], vmIsolate: false };
  const value = (i, name) => {
    if (i + 1 >= argv.length) { console.error(`run-tests: ${name} needs a value`); usage(2); }
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const [name, inline] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const take = () => inline ?? value(i++, name);
    switch (name) {
      case '--': o.vitestArgs.push(...argv.slice(i + 1)); i = argv.length; break;
      case '--tier':
        for (const t of take().split(',').filter(Boolean)) {
          if (!TIERS.includes(t)) { console.error(`run-tests: unknown tier '${t}' (${TIERS.join('|')})`); usage(2); }
          if (!o.tiers.includes(t)) o.tiers.push(t);
        }
        break;
      case '--vm': o.vm = 'always'; break;
      case '--no-vm': o.vm = 'never'; break;
      case '--vm-mem': o.vmArgs.push('--mem', take()); break;
      case '--vm-smp': o.vmArgs.push('--smp', take()); break;
      case '--vm-timeout': o.vmArgs.push('--timeout', take()); break;
      case '--vm-isolate': o.vmIsolate = true; break;
      case '-h': case '--help': usage(0); break;
      default: o.vitestArgs.push(a);
    }
  }
  if (o.tiers.length === 0) o.tiers = [...TIERS];
  else o.tiers.sort((a, b) => TIERS.indexOf(a) - TIERS.indexOf(b));
  return o;
}

// ---------------------------------------------------------------------------------------------
let interrupted = false;
let child;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    interrupted = true;
    if (child && child.exitCode === null) child.kill(sig);   // vm.sh forwards it to QEMU
  });
}

function run(cmd, args, opts = {}) {
  return new Promise((done) => {
    const t0 = process.hrtime.bigint();
    child = spawn(cmd, args, { cwd: REPO, stdio: 'inherit', ...opts });
    child.on('error', (e) => { console.error(`run-tests: ${cmd}: ${e.message}`); });
    child.on('close', (code, signal) => {
      child = undefined;
      done({ code: code ?? (signal ? 128 : 1), signal, seconds: Number(process.hrtime.bigint() - t0) / 1e9 });
    });
  });
}

const bold = (text) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const banner = (text) => process.stdout.write(`\n${bold(`=== ${text}`)}\n`);
const loud = (text) => process.stderr.write(`\n*** ${text} ***\n`);
const fmtSec = (s) => (s === undefined ? '' : s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`);

function readJson(file) {
  try { return JSON.parse(readFileSync(file, 'utf8')); } catch { return undefined; }
}

/** Counts from vitest's JSON reporter, and the skipped tests per file (repo-relative). */
function counts(report) {
  const suites = report.testResults ?? [];
  const failedFiles = suites.filter((s) => s.status === 'failed').length;
  const skippedByFile = [];
  for (const s of suites) {
    const n = (s.assertionResults ?? []).filter((a) => ['skipped', 'pending', 'todo', 'disabled'].includes(a.status)).length;
    if (n) skippedByFile.push([String(s.name ?? '?').replace(`${REPO}/`, ''), n]);
  }
  return {
    skippedByFile,
    files: suites.length,
    passed: report.numPassedTests ?? 0,
    failed: report.numFailedTests ?? 0,
    skipped: (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0),
    failedFiles,
    success: report.success,
  };
}

/** The tier's test files as vitest sees them (include globs + the caller's filters), on the host. */
function listFiles(tier, vitestArgs) {
  const r = spawnSync(process.execPath, [VITEST, 'list', '--project', tier, '--filesOnly', ...vitestArgs, '--json'],
    { cwd: REPO, encoding: 'utf8', maxBuffer: 64 << 20 });
  try {
    const list = JSON.parse(r.stdout);
    if (Array.isArray(list)) return list.map((e) => (typeof e === 'string' ? e : e.file)).filter(Boolean);
  } catch { /* fall through */ }
  return undefined;   // unknown: let the run decide
}

/**
 * The repo's vitest.config.ts with the ipvs project in one child process for all its files
 * (poolOptions.forks.singleFork): under emulation a fresh process per test file costs 5-10 s of
 * node start, vitest worker and module loading. Generated into .lab/ at each run; --vm-isolate
 * keeps a process per file.
 */
function labConfig() {
  const file = join(WORK, 'vitest.lab.config.mjs');
  writeFileSync(file, `// generated by test/lab/run-tests.mjs for the lab VM: vitest.config.ts, ipvs project in one fork
import base from ${JSON.stringify(join(REPO, 'vitest.config.ts'))};
const config = typeof base === 'function' ? await base({ mode: 'test', command: 'serve' }) : base;
if (Array.isArray(config?.test?.projects)) {
  config.test.projects = config.test.projects.map((p) => (p?.test?.name !== 'ipvs' ? p : {
    ...p,
    test: { ...p.test, poolOptions: { ...p.test.poolOptions, forks: { ...p.test.poolOptions?.forks, singleFork: true } } },
  }));
}
config.root ??= ${JSON.stringify(REPO)};
export default config;
`);
  return file;
}

function vitestCommand(tier, outFile, extra, more = []) {
  return ['run', '--project', tier, '--reporter=default', '--reporter=json', `--outputFile.json=${outFile}`,
    '--passWithNoTests', ...more, ...extra];
}

// ---------------------------------------------------------------------------------------------
async function runTier(tier, opts) {
  const res = { tier, where: '', status: 'ran', note: '' };
  const outFile = join(RESULTS, `${tier}.json`);
  rmSync(outFile, { force: true });
  const vitest = [VITEST, ...vitestCommand(tier, outFile, opts.vitestArgs)];
  let cmd = process.execPath;
  let args = vitest;
  let vmStatus;

  // the VM costs a boot: find out first whether there is anything to run there
  const files = tier === 'ipvs' ? listFiles(tier, opts.vitestArgs) : undefined;
  if (files && files.length === 0) {
    return { ...res, where: tier === 'ipvs' ? '-' : tier === 'unit' ? 'host' : 'host netns', status: 'no test files',
      note: opts.vitestArgs.length ? 'none match the filter' : `no test/${tier}/**/*.test.ts yet` };
  }

  if (tier === 'unit') res.where = 'host';
  else if (tier === 'netns') res.where = 'host netns';
  else {
    // where can IPVS run?
    const probe = spawnSync(process.execPath, [join(HERE, 'probe-ipvs.mjs')], { cwd: REPO, encoding: 'utf8' });
    let p;
    try { p = JSON.parse(probe.stdout.trim().split('\n').pop()); } catch { p = { ipvs: { ok: false, why: `probe failed: ${probe.stderr || probe.stdout}` } }; }
    const native = p.ipvs.ok && opts.vm !== 'always';
    console.log(`ipvs tier: host kernel ${release()}: IPVS ${p.ipvs.ok ? 'yes' : 'no'} (${p.ipvs.why})`);
    if (native) {
      res.where = `host kernel ${release()}`;
    } else if (opts.vm === 'never') {
      return { ...res, where: '-', status: 'did not run', note: 'no IPVS on the host and --no-vm' };
    } else {
      // the lab VM: set it up on first use
      if (spawnSync('bash', [join(HERE, 'setup.sh'), '--check'], { cwd: REPO, stdio: 'ignore' }).status !== 0) {
        banner('lab setup (once): QEMU + Debian kernel + initramfs');
        const s = await run('bash', [join(HERE, 'setup.sh')]);
        if (interrupted) return { ...res, status: 'interrupted' };
        if (s.code !== 0) return { ...res, where: 'IPVS VM', status: 'did not run', vmFailed: true, note: `lab setup failed (exit ${s.code})` };
      }
      const krel = readFileSync(join(WORK, 'out', 'kernel-release'), 'utf8').trim();
      res.where = `IPVS VM: Debian kernel ${krel} under QEMU TCG`;
      vmStatus = join(RESULTS, 'vm-status.json');
      rmSync(vmStatus, { force: true });
      const env = ['LVSKIT_IN_LAB_VM=1', `LVSKIT_HOST_KERNEL=${release()}`];
      for (const [k, v] of Object.entries(process.env)) {
        if ((k.startsWith('LVSKIT_') || k.startsWith('VITEST_') || k === 'CI') && !env.some((e) => e.startsWith(`${k}=`))) env.push(`${k}=${v}`);
      }
      const config = opts.vmIsolate ? [] : ['--config', labConfig()];
      // one vCPU unless asked: measured on a 2-core host, 2 vCPUs cost ~50% more CPU (TCG
      // cross-CPU overhead) for the same or a longer wall time
      const smp = opts.vmArgs.includes('--smp') ? [] : ['--smp', '1'];
      args = [join(HERE, 'vm.sh'), ...smp, ...opts.vmArgs, '--status', vmStatus, ...env.flatMap((e) => ['--env', e]), '--',
        process.execPath, VITEST, ...vitestCommand(tier, outFile, opts.vitestArgs, config)];
      cmd = 'bash';
    }
  }

  banner(`${tier}: vitest on ${res.where}`);
  const r = await run(cmd, args);
  res.seconds = r.seconds;
  if (interrupted) return { ...res, status: 'interrupted' };
  if (vmStatus) {
    const st = readJson(vmStatus);
    if (st?.readyUptime) res.note = `VM ready in ${st.readyUptime.toFixed(1)} s (guest uptime)`;
    if (!st?.booted) {
      return { ...res, status: 'did not run', vmFailed: true, note: `${st?.why || 'the VM did not boot (vm.sh wrote no status)'}; log ${st?.log ?? join(WORK, 'guest.log')}` };
    }
    if (!st.ran) res.note = `${st.why}; log ${st.log}`;
  }
  const report = readJson(outFile);
  if (!report) {
    return { ...res, status: 'error', note: `${res.note ? `${res.note}; ` : ''}vitest wrote no report (exit ${r.code})` };
  }
  const c = counts(report);
  Object.assign(res, c);
  if (c.files === 0) res.status = 'no test files';
  else if (r.code !== 0 && c.failed === 0) {
    res.status = 'error';
    res.note = `${res.note ? `${res.note}; ` : ''}vitest exited ${r.code}${c.failedFiles ? ` (${c.failedFiles} file(s) failed to run)` : ''}`;
  }
  return res;
}

// ---------------------------------------------------------------------------------------------
function table(rows) {
  const head = ['tier', 'where', 'passed', 'failed', 'skipped', 'duration', 'status'];
  const body = rows.map((r) => [r.tier, r.where, String(r.passed ?? 0), String(r.failed ?? 0), String(r.skipped ?? 0),
    fmtSec(r.seconds), r.status !== 'ran' ? r.status : r.failed ? 'FAILED' : 'ok']);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ').trimEnd();
  const out = [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...body.map(line)];
  for (const r of rows) if (r.note) out.push(`  ${r.tier}: ${r.note}`);
  for (const r of rows) {
    if (r.skippedByFile?.length) out.push(`  ${r.tier}: skipped: ${r.skippedByFile.map(([f, n]) => `${f} (${n})`).join(', ')} (each file logs why)`);
  }
  return out.join('\n');
}

/** test/lab/test-tools.txt: the [command, apt package] pairs the real-kernel tiers run. */
function testTools() {
  return readFileSync(join(HERE, 'test-tools.txt'), 'utf8').split('\n')
    .map((l) => l.replace(/#.*/, '').trim().split(/\s+/))
    .filter((f) => f.length >= 2 && f[0]);
}

function missingTools() {
  return testTools().filter(([cmd]) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' }).status !== 0);
}

/**
 * Test files name their namespaces `lvskit-<what>-<pid>[-<n>]` (test/helpers/kernel.ts useNetns). A
 * worker killed before its afterAll can leave one behind: remove those whose process is gone, so
 * a run leaves the host as it found it. Only names of that exact shape, only on the host.
 */
function sweepTestNamespaces() {
  const removed = [];
  let names = [];
  try {
    names = readdirSync('/run/netns');
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = /^lvskit-[a-z0-9-]+?-(\d+)(?:-\d+)?$/.exec(name);
    if (!m || existsSync(`/proc/${m[1]}`)) continue;
    const r = spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    if (r.status === 0) removed.push(name);
  }
  return removed;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!existsSync(VITEST)) {
    console.error('run-tests: vitest is not installed (run: npm install)');
    process.exit(1);
  }
  mkdirSync(RESULTS, { recursive: true });
  const problems = [];
  if (opts.tiers.some((t) => t !== 'unit')) {
    const missing = missingTools();
    if (missing.length) {
      problems.push(`test tools missing: ${missing.map(([c, p]) => `${c} (apt package ${p})`).join(', ')}; ` +
        'run: npm run lab:setup (or bash test/lab/setup.sh --packages). Tests that need them cannot run');
      loud(problems[0]);
    }
  }
  const rows = [];
  for (const tier of opts.tiers) {
    if (interrupted) break;
    rows.push(await runTier(tier, opts));
  }

  const warnings = [];
  const swept = sweepTestNamespaces();
  if (swept.length) warnings.push(`removed ${swept.length} test namespace(s) a test process left behind: ${swept.join(', ')}`);
  for (const r of rows) {
    if (r.failed) problems.push(`${r.tier}: ${r.failed} test(s) failed`);
    if (r.status === 'error') problems.push(`${r.tier}: ${r.note}`);
    if (CI && (r.tier === 'netns' || r.tier === 'ipvs') && !(r.passed > 0)) {
      problems.push(`${r.tier}: CI=true and no ${r.tier} test passed (${r.status}${r.note ? `: ${r.note}` : ''}): the real-kernel tests did not really run`);
    } else if (r.status === 'did not run') {
      warnings.push(`${r.tier} tests DID NOT RUN: ${r.note} (not a failure outside CI)`);
    }
    if (CI && r.vmFailed) problems.push(`${r.tier}: CI=true and the lab VM could not be set up or booted`);
  }
  const total = (k) => rows.reduce((n, r) => n + (r[k] ?? 0), 0);

  console.log(`\n${table(rows)}`);
  for (const w of warnings) loud(w);
  for (const p of [...new Set(problems)]) loud(`FAILED: ${p}`);
  if (interrupted) console.log('interrupted');
  console.log(`\n${total('passed')} passed, ${total('failed')} failed, ${total('skipped')} skipped`);
  process.exit(interrupted ? 130 : problems.length ? 1 : 0);
}

await main();
