// Issue 18 part 5 on the host kernel: `lvskit apply` of 50,000 routes, run as the whole program
// under a pseudo-terminal (script(1) from util-linux), draws a progress line that moves as the
// kernel acknowledges each piece (several distinct, increasing values; it used to jump from 0%
// to 100%), erases it, and prints the summary; through a pipe, and with --json, not one byte of
// progress. In a namespace this file creates. Runs the built program (`npm run build:ts`).
import { describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ip, skipUnless, useNetns } from '../helpers/kernel.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const skip = skipUnless('netns');
const N = 50_000;

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

const routeCount = (ns: string) =>
  execFileSync('ip', ['-n', ns, 'route', 'show', 'table', '100'], { encoding: 'utf8', maxBuffer: 1 << 28 }).split('\n').filter((l) => l.trim() !== '').length;

describe.skipIf(skip)(`lvskit apply of ${N} routes: progress on a terminal only`, () => {
  const ns = useNetns('lvskit-progress');
  const dir = mkdtempSync(join(tmpdir(), 'lvskit-progress-'));
  const file = (name: string, count: number) => {
    const routes = Array.from({ length: count }, (_, i) => ({ destination: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`, interface: 'd0', table: 100 }));
    const p = join(dir, name);
    writeFileSync(p, JSON.stringify({ routes }));
    return p;
  };

  it('under script(1): several distinct increasing values, the line erased, the summary after it; piped and --json: none', async () => {
    ip(ns.name, 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1');
    ip(ns.name, 'link', 'set', 'd0', 'up');
    ip(ns.name, 'link', 'set', 'd1', 'up');
    try {
      const all = file('all.json', N);
      const tty = await run('script', ['-qfec', `${process.execPath} ${CLI} --netns ${ns.name} apply ${all}`, '/dev/null']);
      expect(tty.status).toBe(0);
      const values = [...tty.stdout.matchAll(/\r\[[#.]{30}\] (\d+)\/50000 (\d+)%/g)].map((m) => Number(m[1]));
      console.log(`progress values drawn under a pseudo-terminal (${values.length}): ${values.join(', ')}`);
      expect(new Set(values).size).toBeGreaterThanOrEqual(10);
      for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThan(values[i - 1]!);
      // pieces of 2%: no gap between two drawn values larger than a piece
      for (let i = 1; i < values.length; i++) expect(values[i]! - values[i - 1]!).toBeLessThanOrEqual(N / 50);
      expect(tty.stdout).toMatch(/\r\x1b\[2K[^]*50000 change\(s\) applied\r?\n$/);
      expect(routeCount(ns.name)).toBe(N);

      // the same size again, through a pipe, and as JSON: no progress bytes (a second table's worth)
      const half = file('half.json', N / 2);
      const piped = await run(process.execPath, [CLI, '--netns', ns.name, 'apply', '--allow-wipe', half]);
      expect(piped.status).toBe(0);
      expect(piped.stderr).toBe('');
      expect(piped.stdout).not.toMatch(/\r|\x1b/);
      expect(routeCount(ns.name)).toBe(N / 2);
      const json = await run('script', ['-qfec', `${process.execPath} ${CLI} --netns ${ns.name} apply --json ${all}`, '/dev/null']);
      expect(json.status).toBe(0);
      expect(json.stdout).not.toMatch(/\r\[|\x1b/);
      expect(JSON.parse(json.stdout.replace(/\r\n/g, '\n'))).toMatchObject({ ok: true, applied: N / 2 });
      expect(routeCount(ns.name)).toBe(N);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
