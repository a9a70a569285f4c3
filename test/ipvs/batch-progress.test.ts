// IPVS batches sent in acknowledged pieces for a progress display (issue 18 part 5), in the
// kernel: the progress callback hears increasing counts several times, and the pieces change
// nothing else (one report, stopOnError stops after the failing piece, rollback undoes every
// piece). Batch timing (issue 17 part 4): every phase present, the read attributed to readMs.
// And the whole program: `lvskit -R` under a pseudo-terminal (script(1)) draws a moving progress
// line; through a pipe it writes no byte of it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchError, Ipvs, type BatchTiming, type ServiceKey } from '../../lib/index.js';
import { skipUnless, useNetns } from '../helpers/kernel.js';
import { savedRules } from './ipvs-helpers.js';

const skip = skipUnless('ipvs');
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const key = (i: number): ServiceKey => ({ protocol: 'tcp', address: `10.9.${(i >> 8) & 255}.${i & 255}`, port: 80 });

function run(cmd: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('error', reject);
    c.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function expectTiming(t: BatchTiming | undefined): void {
  expect(t).toBeDefined();
  for (const k of ['readMs', 'planMs', 'encodeMs', 'sendMs', 'reportMs', 'totalMs'] as const) expect(t![k]).toBeGreaterThanOrEqual(0);
  expect(t!.readMs + t!.planMs + t!.encodeMs + t!.sendMs + t!.reportMs + (t!.rollbackMs ?? 0)).toBeLessThanOrEqual(t!.totalMs + 1e-6);
}

describe.skipIf(skip)('IPVS batches in acknowledged pieces', () => {
  const ns = useNetns('lvs-progress');
  let ipvs: Ipvs;
  beforeAll(() => {
    ipvs = Ipvs.open({ netns: ns.name });
  });
  afterAll(() => ipvs?.close());
  beforeEach(() => ipvs.flush());

  function load(n: number, from = 0) {
    const b = ipvs.batch();
    for (let i = from; i < from + n; i++) {
      b.addService({ key: key(i), scheduler: 'rr' });
      b.addDestination(key(i), { address: '192.168.1.1', port: 80, forward: 'masq' });
    }
    return b;
  }

  it('progress is heard after every piece but the last, increasing; the report covers every item; the kernel has them all', async () => {
    const seen: [number, number][] = [];
    const rep = await load(1500).run({ onProgress: (d, t) => seen.push([d, t]) });
    expect(rep.ok).toBe(true);
    expect(rep.items).toHaveLength(3000);
    expect(seen.map(([d]) => d)).toEqual(Array.from({ length: 11 }, (_, k) => (k + 1) * 256));
    expect(seen.every(([, t]) => t === 3000)).toBe(true);
    expect(rep.sendCalls).toBeGreaterThanOrEqual(12);
    expectTiming(rep.timing);
    expect(rep.timing!.readMs).toBeLessThan(rep.timing!.totalMs);
    const rules = savedRules(ns.name);
    expect(rules.filter((l) => l.startsWith('-A'))).toHaveLength(1500);
    expect(rules.filter((l) => l.startsWith('-a'))).toHaveLength(1500);
  });

  it('stopOnError stops after the piece with the failure: the items before are applied, those after not sent', async () => {
    await ipvs.addService({ key: key(700), scheduler: 'rr' }); // item 1400 (piece 5: 1280..1535) will fail
    const rep = await load(1500).run({ stopOnError: true, onProgress: () => {} });
    expect(rep.failed).toEqual([1400]);
    expect(rep.items[1400]!.error!.code).toBe('EEXIST');
    expect(rep.applied).toHaveLength(1536 - 1); // pieces 0..5 went in, but the failed item
    expect(rep.notSent).toEqual(Array.from({ length: 3000 - 1536 }, (_, k) => 1536 + k));
    expect(savedRules(ns.name).filter((l) => l.startsWith('-A'))).toHaveLength(768);
  });

  it('rollback undoes every piece after a failure in the last one; the timing has the rollback', async () => {
    await load(3).run();
    const before = savedRules(ns.name);
    await ipvs.addService({ key: key(1499), scheduler: 'rr' }); // the last piece fails
    const mid = savedRules(ns.name);
    const seen: number[] = [];
    const err = (await load(1500, 3).run({ rollback: true, onProgress: (d) => seen.push(d) }).catch((e: unknown) => e)) as BatchError;
    expect(err).toBeInstanceOf(BatchError);
    expect(seen.length).toBe(11);
    expect(err.report.failed).toEqual([(1499 - 3) * 2]);
    expect(err.rollback!.ok).toBe(true);
    expectTiming(err.report.timing);
    expect(err.report.timing!.rollbackMs).toBeGreaterThanOrEqual(0);
    expect(savedRules(ns.name)).toEqual(mid);
    expect(mid).toHaveLength(before.length + 1);
  });

  it('an edit batch reads first: its readMs is part of the timing', async () => {
    await load(300).run();
    const b = ipvs.batch();
    for (let i = 0; i < 300; i++) b.editDestination(key(i), { address: '192.168.1.1', port: 80 }, { weight: 7 });
    const rep = await b.run();
    expect(rep.ok).toBe(true);
    expectTiming(rep.timing);
    expect(rep.timing!.readMs).toBeGreaterThan(0);
  });
});

describe.skipIf(skip)('lvskit -R progress in a terminal', () => {
  const ns = useNetns('lvs-progress-cli');
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lvskit-progress-'));
    const lines: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const vs = `10.8.${(i >> 8) & 255}.${i & 255}:80`;
      lines.push(`-A -t ${vs} -s rr`, `-a -t ${vs} -r 192.168.2.1:80 -m`);
    }
    writeFileSync(join(dir, 'rules'), lines.join('\n') + '\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('under script(1): several distinct, increasing values, then the line is erased; through a pipe: none', async () => {
    const cmd = `${process.execPath} ${CLI} --netns ${ns.name} -R < ${join(dir, 'rules')}`;
    const tty = await run('script', ['-qfec', cmd, '/dev/null']);
    expect(tty.status).toBe(0);
    const values = [...tty.stdout.matchAll(/\r\[[#.]{30}\] (\d+)\/4000 (\d+)%/g)].map((m) => Number(m[1]));
    console.log(`progress values drawn under a pseudo-terminal: ${values.join(', ')}`);
    expect(new Set(values).size).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThan(values[i - 1]!);
    expect(tty.stdout).toContain('\r\x1b[2K');
    expect(savedRules(ns.name)).toHaveLength(4000);

    const piped = await run('sh', ['-c', `${process.execPath} ${CLI} --netns ${ns.name} -C && ${cmd}`]);
    expect(piped.status).toBe(0);
    expect(piped.stdout + piped.stderr).toBe('');
    expect(savedRules(ns.name)).toHaveLength(4000);
  });
});
