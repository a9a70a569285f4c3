// Every IPVS example runs for real on a kernel with IPVS (the lab VM here) and leaves no
// namespace behind (each names its namespaces with its pid). In the VM, examples/lib/in-lab.mjs
// finds IPVS and lets the example run in place. The examples import the built package (dist/).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { skipUnless } from '../helpers/kernel.js';

const REPO = join(import.meta.dirname, '..', '..');
const built = existsSync(join(REPO, 'dist', 'index.js'));
if (!built) console.warn('\n*** SKIPPING IPVS example runs: dist/ is not built (npm run build:ts) ***\n');
const skip = skipUnless('ipvs') || !built;

function runExample(name: string, args: string[] = []) {
  const r = spawnSync(process.execPath, [join(REPO, 'examples', name, 'run.mjs'), ...args], { cwd: REPO, encoding: 'utf8', timeout: 240_000 });
  const left = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.endsWith(`-${r.pid}`) || n.includes(`-${r.pid}-`)) : [];
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, left };
}

describe.skipIf(skip)('IPVS examples, run for real', () => {
  it('ecmp-pair: both directors build the same mh table', () => {
    const r = runExample('ecmp-pair');
    expect(r.status, r.stderr).toBe(0);
    const flows = r.stdout.split('\n').filter((l) => l.includes(' -> '));
    expect(flows).toHaveLength(8);
    for (const f of flows) {
      const m = /-> (\S+) \(d1 table (\S+), d2 table (\S+)\)/.exec(f);
      expect(m, f).not.toBeNull();
      expect(m![2]).toBe(m![1]);
      expect(m![3]).toBe(m![1]);
    }
    expect(r.left).toEqual([]);
  });

  it('dr-director: drain, batch report and listing', () => {
    const r = runExample('dr-director');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('batch item 0: applied');
    expect(r.stdout).toMatch(/batch item 1: failed \(.*ENOENT/);
    expect(r.stdout).toContain('-> 10.20.0.22:80 route weight 0');
    expect(r.left).toEqual([]);
  });

  it('nat-director: both connections answered through the director', () => {
    const r = runExample('nat-director');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/connection 0 answered by s[12]/);
    expect(r.stdout).toMatch(/connection 1 answered by s[12]/);
    expect(r.stdout).not.toContain('nobody');
    expect(r.left).toEqual([]);
  });

  it('bulk-load: the rules file applied in one batch, then a no-op, written back', () => {
    const r = runExample('bulk-load');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^applied 12 changes \(4 services\)/);
    expect(r.stdout).toContain('second apply would change: 0 things');
    expect(r.stdout).toContain('-A -f 7 -s rr');
    expect(r.left).toEqual([]);
  });
});
