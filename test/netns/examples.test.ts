// The examples that need no IPVS run for real on the host, each in namespaces it creates and
// removes; an IPVS example on a machine where it cannot run says so in one line (exit 2) instead
// of dying with a stack trace (examples/lib/in-lab.mjs, issue 18 item 6).
// The examples import the built package (dist/): `npm run build:ts` first.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caps, skipUnless } from '../helpers/kernel.js';

const REPO = join(import.meta.dirname, '..', '..');
const built = existsSync(join(REPO, 'dist', 'index.js'));
if (!built) console.warn('\n*** SKIPPING example runs: dist/ is not built (npm run build:ts) ***\n');
const skip = skipUnless('netns') || !built;
if (caps().ipvs.ok) console.warn('\n*** SKIPPING the no-IPVS message test: this kernel has IPVS ***\n');

function runExample(name: string, env: Record<string, string> = {}, args: string[] = []) {
  const r = spawnSync(process.execPath, [join(REPO, 'examples', name, 'run.mjs'), ...args], {
    cwd: REPO, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env },
  });
  // every example names its namespaces with its pid: none may be left
  const left = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.endsWith(`-${r.pid}`) || n.includes(`-${r.pid}-`)) : [];
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, left };
}

describe.skipIf(skip)('examples on the host kernel', () => {
  it('route-events sees the other process add and delete the multipath route, and leaves no namespace', () => {
    const r = runExample('route-events');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('new route 198.51.100.0/24 table 254 via 10.0.0.2 weight 1, 10.0.1.2 weight 3');
    expect(r.stdout).toContain('del route 198.51.100.0/24');
    expect(r.left).toEqual([]);
  });

  it('policy-routing sends marked lookups to the service table, and leaves no namespace', () => {
    const r = runExample('policy-routing');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/mark 66 sport 40000 \{ gateway: '10\.[12]\.0\.2', table: 1443 \}/);
    expect(r.stdout).toContain('1000: fwmark 0x42 lookup 1443');
    expect(r.left).toEqual([]);
  });

  it('an IPVS example with no lab set up says in one line what it needs (exit 2, no stack trace)', () => {
    const empty = mkdtempSync(join(tmpdir(), 'lvskit-nolab-'));
    try {
      for (const name of ['ecmp-pair', 'dr-director', 'nat-director', 'bulk-load']) {
        // forced to the VM path, with a lab work directory holding nothing
        const r = runExample(name, { LVSKIT_EXAMPLE_WHERE: 'vm', LAB_WORK: empty, LVSKIT_IN_LAB_VM: '' });
        expect(r.status, `${name}: ${r.stderr}`).toBe(2);
        expect(r.stdout).toBe('');
        const lines = r.stderr.trimEnd().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(new RegExp(`^${name}: needs a kernel with IPVS; .*\`npm run lab:setup\``));
        expect(r.left).toEqual([]);
      }
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it.skipIf(caps().ipvs.ok)('an IPVS example forced onto a host kernel without IPVS says so in one line (exit 2)', () => {
    const r = runExample('dr-director', { LVSKIT_EXAMPLE_WHERE: 'host' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^dr-director: needs a kernel with IPVS \(CONFIG_IP_VS\); this one has none \(.*\)\n$/);
    expect(r.left).toEqual([]);
  });
});
