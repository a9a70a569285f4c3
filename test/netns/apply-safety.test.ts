// Issue 14, on the host kernel in namespaces this file creates: `lvskit apply` stays true at any
// size (200,000 routes, with and without --rollback: the report, the exit code and the kernel
// agree) and never shows an unsent change as applied (an IPv6 address refused because IPv6 is
// disabled stops the batch; the route after it is NOT SENT, in text and JSON). The whole program
// runs (dist/cli/main.js: `npm run build:ts` after changing lib/), as an operator would run it.
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { ip, skipUnless, useNetns } from '../helpers/kernel.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const skip = skipUnless('netns');
const N = 200_000;

interface JsonResult {
  ok: boolean;
  changes: string[];
  applied: number;
  failed: { change: string; error: string }[];
  notSent: string[];
  unknown: unknown[];
  rolledBack?: boolean;
}

describe.skipIf(skip)('apply at any size and with a stopped batch: report, exit code and kernel agree', () => {
  const ns = useNetns('lvskit-safety');
  const dir = mkdtempSync(join(tmpdir(), 'lvskit-safety-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, '--netns', ns.name, ...args], { encoding: 'utf8', timeout: 240_000, maxBuffer: 1 << 30 });
  const file = (name: string, state: unknown) => {
    const p = join(dir, name);
    writeFileSync(p, JSON.stringify(state));
    return p;
  };
  /** Routes in `table` as `ip` counts them (the reference, not lvskit). */
  const countRoutes = (table: number) => execFileSync('ip', ['-n', ns.name, 'route', 'show', 'table', String(table)], { encoding: 'utf8', maxBuffer: 1 << 30 }).split('\n').filter((l) => l.trim()).length;
  const routes = (table: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({ destination: `10.${100 + ((i >> 16) & 255)}.${(i >> 8) & 255}.${i & 255}/32`, table, gateway: '10.9.0.2', interface: 'va' }));
  // the gateway has no route: the kernel refuses this one (ENETUNREACH)
  const unreachable = (table: number) => ({ destination: '198.51.100.0/24', table, gateway: '203.0.113.1' });

  it('sets up a veth with a subnet the routes go through', () => {
    ip(ns.name, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb');
    ip(ns.name, 'link', 'set', 'va', 'up');
    ip(ns.name, 'link', 'set', 'vb', 'up');
    ip(ns.name, 'addr', 'add', '10.9.0.1/24', 'dev', 'va');
  });

  it(`${N} routes, all good: "N change(s) applied", exit 0, the kernel holds them all`, () => {
    const r = cli('apply', file('good.json', { routes: routes(100, N) }));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.endsWith(`${N} change(s) applied\n`)).toBe(true);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('add route ')).length).toBe(N);
    expect(countRoutes(100)).toBe(N);
  });

  it(`${N} routes and a refused last one, no rollback: exit 1, ${N} applied and 1 failed, as the kernel says`, () => {
    const r = cli('apply', file('bad.json', { routes: [...routes(101, N), unreachable(101)] }), '--json');
    expect(r.status).toBe(1);
    const j = JSON.parse(r.stdout) as JsonResult;
    expect(j.ok).toBe(false);
    expect(j.changes).toHaveLength(N + 1);
    expect(j.applied).toBe(N);
    expect(j.failed).toHaveLength(1);
    expect(j.failed[0]!.change).toMatch(/198\.51\.100\.0\/24 via 203\.0\.113\.1/);
    expect(j.notSent).toEqual([]);
    expect(j.unknown).toEqual([]);
    expect(r.stderr).toMatch(/1 of 200001 operation\(s\) failed, 200000 applied/);
    expect(countRoutes(101)).toBe(N);
  });

  it(`the same with --rollback: exit 1, reported rolled back, the table is empty again`, () => {
    const r = cli('apply', file('bad-rb.json', { routes: [...routes(102, N), unreachable(102)] }), '--json', '--rollback');
    expect(r.status).toBe(1);
    const j = JSON.parse(r.stdout) as JsonResult;
    expect(j.applied).toBe(N);
    expect(j.failed).toHaveLength(1);
    expect(j.rolledBack).toBe(true);
    expect(r.stderr).toMatch(/rolled back: the previous state is restored/);
    expect(countRoutes(102)).toBe(0);
  });

  it('deleting them all is refused as a wipe-by-share unless asked for, also in --dry-run', () => {
    const empty = file('empty.json', { routes: [] });
    for (const extra of [[], ['--dry-run']]) {
      const r = cli('apply', empty, '--tables', '100', ...extra);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/refusing to delete 200000 of 200000 route\(s\)/);
    }
    expect(countRoutes(100)).toBe(N);
    const r = cli('apply', empty, '--tables', '100', '--allow-wipe', '--quiet');
    expect(r.status).toBe(0);
    expect(countRoutes(100)).toBe(0);
  });
});

describe.skipIf(skip)('a batch stopped by a refusal: the change after it is NOT SENT, never shown as applied', () => {
  const ns = useNetns('lvskit-nov6');
  const dir = mkdtempSync(join(tmpdir(), 'lvskit-nov6-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, '--netns', ns.name, ...args], { encoding: 'utf8', timeout: 60_000 });
  const desired = {
    addresses: [{ interface: 'lo', address: '2001:db8::10/128' }],
    routes: [{ destination: '198.51.100.0/24', interface: 'lo', table: 100 }],
  };

  it('IPv6 disabled in the namespace: text and JSON list the route as not sent, exit 1, no CAP_NET_ADMIN hint', () => {
    for (const k of ['all', 'default', 'lo']) execFileSync('ip', ['netns', 'exec', ns.name, 'sysctl', '-qw', `net.ipv6.conf.${k}.disable_ipv6=1`]);
    const f = join(dir, 'v6.json');
    writeFileSync(f, JSON.stringify(desired));

    const t = cli('apply', f);
    expect(t.status).toBe(1);
    const lines = t.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^FAILED add address 2001:db8::10\/128 dev lo: .*EACCES.*IPv6 is disabled/);
    expect(lines[1]).toMatch(/^NOT SENT add route 198\.51\.100\.0\/24 dev lo table 100/);
    expect(lines[2]).toBe('0 applied, 1 failed, 1 not sent, of 2 change(s)');
    expect(t.stdout).not.toMatch(/^add route/m);
    expect(t.stdout + t.stderr).not.toMatch(/CAP_NET_ADMIN/);

    const j = cli('apply', f, '--json');
    expect(j.status).toBe(1);
    const r = JSON.parse(j.stdout) as JsonResult;
    expect(r.applied).toBe(0);
    expect(r.failed.map((x) => x.change)).toEqual([expect.stringMatching(/^add address 2001:db8::10/)]);
    expect(r.notSent).toEqual([expect.stringMatching(/^add route 198\.51\.100\.0\/24/)]);
    expect(r.failed.length + r.notSent.length + r.applied + r.unknown.length).toBe(r.changes.length);
    // and the kernel agrees: no route went in
    const shown = spawnSync('ip', ['-n', ns.name, 'route', 'show', 'table', '100'], { encoding: 'utf8' });
    expect(shown.stdout.trim()).toBe('');
    expect(shown.stderr).toMatch(/^$|FIB table does not exist/); // an empty table is no table
  });
});
