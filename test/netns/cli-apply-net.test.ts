// `lvskit apply` / `lvskit diff` with a file that has only addresses and routes, on the host
// kernel (which has no IPVS), in a namespace this file creates: the CLI must go over rtnetlink
// alone, reach the state (checked with `ip -j`), report nothing left to do on a second run, and
// honour --dry-run, --interfaces/--tables and diff's exit codes. Runs the built program
// (dist/cli/main.js: `npm run build:ts` after changing lib/).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ip, ipJson, skipUnless, useNetns } from '../helpers/kernel.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const skip = skipUnless('netns');

interface IpAddr {
  ifname: string;
  addr_info: { local: string; prefixlen: number }[];
}
interface IpRoute {
  dst: string;
  gateway?: string;
  nexthops?: { gateway: string; weight: number }[];
}

describe.skipIf(skip)('lvskit apply with addresses and routes only (no IPVS on this kernel)', () => {
  const ns = useNetns('lvskit-cliapply');
  const dir = mkdtempSync(join(tmpdir(), 'lvskit-cliapply-'));
  const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, '--netns', ns.name, ...args], { encoding: 'utf8', timeout: 30_000 });
  const file = (name: string, state: unknown) => {
    const p = join(dir, name);
    writeFileSync(p, JSON.stringify(state));
    return p;
  };
  const loAddresses = () => ipJson<IpAddr[]>(ns.name, 'addr', 'show', 'dev', 'lo').flatMap((l) => l.addr_info.map((a) => `${a.local}/${a.prefixlen}`));
  const routes100 = () => ipJson<IpRoute[]>(ns.name, 'route', 'show', 'table', '100');

  it('applies, plans nothing the second time, and diff agrees', () => {
    ip(ns.name, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb');
    ip(ns.name, 'link', 'set', 'va', 'up');
    ip(ns.name, 'link', 'set', 'vb', 'up');
    ip(ns.name, 'addr', 'add', '10.9.0.1/24', 'dev', 'va');
    const desired = {
      addresses: [
        { interface: 'lo', address: '192.0.2.10/32' },
        { interface: 'lo', address: '2001:db8::10/128' },
      ],
      routes: [
        { destination: '198.51.100.0/24', table: 100, nexthops: [{ gateway: '10.9.0.2', interface: 'va', weight: 1 }, { gateway: '10.9.0.3', interface: 'va', weight: 3 }] },
        { destination: 'default', table: 100, gateway: '10.9.0.2', interface: 'va' },
      ],
    };
    const f = file('net.json', desired);

    // The kernel has no IPVS: with an IPVS handle this would fail; it must not be needed.
    const dry = cli('apply', f, '--dry-run');
    expect(dry.stderr).toBe('');
    expect(dry.status).toBe(0);
    expect(dry.stdout).toMatch(/would .*192\.0\.2\.10/);
    expect(loAddresses()).not.toContain('192.0.2.10/32'); // a dry run sends nothing
    expect(cli('diff', f).status).toBe(1);

    const r = cli('apply', f);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/4 change\(s\) applied/);
    expect(loAddresses()).toEqual(expect.arrayContaining(['192.0.2.10/32', '2001:db8::10/128']));
    const rt = routes100();
    const multi = rt.find((x) => x.dst === '198.51.100.0/24');
    expect(multi?.nexthops?.map((h) => [h.gateway, h.weight])).toEqual([['10.9.0.2', 1], ['10.9.0.3', 3]]);
    expect(rt.find((x) => x.dst === 'default')?.gateway).toBe('10.9.0.2');

    const again = cli('apply', f);
    expect(again.status).toBe(0);
    expect(again.stdout).toBe('nothing to do\n');
    const d = cli('diff', f);
    expect(d.status).toBe(0);
    expect(d.stdout).toBe('no differences\n');
  });

  it('--interfaces and --tables let a file empty an interface or a table', () => {
    const f = file('empty.json', { addresses: [], routes: [] });
    // Without them the file names no interface and no table: nothing is managed.
    expect(cli('apply', f).stdout).toBe('nothing to do\n');
    expect(loAddresses()).toContain('192.0.2.10/32');
    // emptying both needs the opt-in: deleting every managed address or route is a wipe (issue 14)
    const refused = cli('apply', f, '--interfaces', 'lo', '--tables', '100');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/refusing to delete 2 of 2 address\(es\)/);
    const r = cli('apply', f, '--interfaces', 'lo', '--tables', '100', '--allow-wipe');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(loAddresses()).not.toContain('192.0.2.10/32');
    expect(loAddresses()).not.toContain('2001:db8::10/128');
    expect(loAddresses()).toContain('127.0.0.1/8'); // host-scope lo addresses are not ours
    expect(routes100()).toEqual([]);
  });

  it('refuses bad --tables and --drain without services, before touching anything', () => {
    const f = file('one.json', { addresses: [{ interface: 'lo', address: '192.0.2.77/32' }] });
    const bad = cli('apply', f, '--tables', '0');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--tables .*'0'/);
    const drain = cli('apply', f, '--drain=5');
    expect(drain.status).toBe(2);
    expect(drain.stderr).toMatch(/--drain .*no services/);
    expect(loAddresses()).not.toContain('192.0.2.77/32');
    rmSync(dir, { recursive: true, force: true });
  });
});
