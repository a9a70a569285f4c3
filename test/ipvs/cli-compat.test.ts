// The lvskit program in a real kernel: the ipvsadm command lines of full.commands (every option)
// give the same kernel state through `lvskit` as through `ipvsadm`; lvskit -Sn / -Ln match
// ipvsadm's; lvskit -R refuses a file with a bad line and applies nothing; apply/diff work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { createNetns, deleteNetns, Ipvs, Rtnl } from '../../lib/index.js';
import { runCli, type CliIO } from '../../lib/cli/run.js';
import { skipUnless, useNetns } from '../helpers/kernel.js';
import { commandLines } from '../helpers/ipvsadm-fixtures.js';
import { inputOf } from '../helpers/cli.js';

const skip = skipUnless('ipvs');
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const ipvsadm = (ns: string, args: string[]) => execFileSync('ip', ['netns', 'exec', ns, 'ipvsadm', ...args], { encoding: 'utf8' });
// async, so the test worker keeps answering vitest while a slow (emulated) child runs
const ipvsadmAsync = (ns: string, args: string[]) => promisify(execFile)('ip', ['netns', 'exec', ns, 'ipvsadm', ...args]);
function lvskit(ns: string, args: string[], input?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [CLI, '--netns', ns, ...args]);
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('error', reject);
    c.on('close', (status) => resolve({ status, stdout, stderr }));
    c.stdin.end(input ?? '');
  });
}

describe.skipIf(skip)('lvskit CLI against ipvsadm', () => {
  const ref = useNetns('lvs-cli-ref');
  const ours = useNetns('lvs-cli');
  beforeAll(async () => {
    for (const args of commandLines('full.commands')) await ipvsadmAsync(ref.name, args);
  });

  // in-process (a node start per line costs seconds under emulation); the program itself is
  // spawned by the other tests
  async function inProcess(args: string[]): Promise<{ status: number; stderr: string }> {
    let stderr = '';
    const io: CliIO = {
      stdout: () => {},
      stderr: (t) => {
        stderr += t;
      },
      input: inputOf(''),
      isTTY: false,
      openIpvs: (n) => Ipvs.open(n ? { netns: n } : {}),
      openRtnl: (n) => Rtnl.open(n ? { netns: n } : {}),
    };
    return { status: await runCli(['--netns', ours.name, ...args], io), stderr };
  }

  it('the same command lines build the same state (lvskit -Sn = ipvsadm -Sn in each, and across)', async () => {
    for (const args of commandLines('full.commands')) {
      const r = await inProcess(args);
      expect(r.status, `lvskit ${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    const mine = ipvsadm(ours.name, ['-Sn']);
    expect((await lvskit(ours.name, ['-Sn'])).stdout).toBe(mine);
    // -S output depends on the kernel's dump order (per namespace), so compare the sets of lines across
    expect(mine.split('\n').sort()).toEqual(ipvsadm(ref.name, ['-Sn']).split('\n').sort());
    expect((await lvskit(ours.name, ['-Ln', '--thresholds'])).stdout).toBe(ipvsadm(ours.name, ['-Ln', '--thresholds']));
    expect((await lvskit(ours.name, ['-L', '-n', '--tun-info'])).stdout).toBe(ipvsadm(ours.name, ['-L', '-n', '--tun-info']));
    // the connection table (empty here: test/ipvs/ipvs-connections.test.ts has live entries)
    const conns = await lvskit(ours.name, ['-Lnc']);
    expect(conns.stderr).toBe('');
    expect(conns.stdout).toBe(ipvsadm(ours.name, ['-Lnc']));
  });

  it('-R: a file with a bad line applies nothing and names the line; a good one applies all', async () => {
    const before = ipvsadm(ours.name, ['-Sn']);
    const bad = await lvskit(ours.name, ['-R'], '-A -t 10.9.9.9:80 -s rr\n-a -t 10.9.9.9:80 -r 10.1.1.1 -w x\n');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('stdin:2:');
    expect(ipvsadm(ours.name, ['-Sn'])).toBe(before);
    const good = await lvskit(ours.name, ['-R'], '-A -t 10.9.9.9:80 -s rr\n-a -t 10.9.9.9:80 -r 10.1.1.1 -w 4\n');
    expect(good.status, good.stderr).toBe(0);
    expect(ipvsadm(ours.name, ['-Sn'])).toContain('-a -t 10.9.9.9:80 -r 10.1.1.1:80 -g -w 4');
    // A line the kernel refuses (no such service): the others apply, as with ipvsadm -R, and the
    // error names file, line, the column of the real server and the line itself.
    const refused = await lvskit(ours.name, ['-R'], '-A -t 10.9.9.7:80 -s rr\n-a -t 10.9.9.8:80 -r 10.1.1.2 -w 1\n');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('stdin:2:22: ');
    expect(refused.stderr).toContain('(line: -a -t 10.9.9.8:80 -r 10.1.1.2 -w 1)');
    expect(refused.stderr).toContain('1 of 2 line(s) failed');
    expect(ipvsadm(ours.name, ['-Sn'])).toContain('-A -t 10.9.9.7:80 -s rr');
  });

  it('save --json | apply in a fresh namespace rebuilds the state; diff then reports nothing', async () => {
    const json = await lvskit(ours.name, ['save', '--json']);
    expect(json.status, json.stderr).toBe(0);
    const fresh = `lvs-cli-fresh-${process.pid}`;
    createNetns(fresh);
    try {
      execFileSync('ip', ['-n', fresh, 'link', 'set', 'lo', 'up']);
      const a = await lvskit(fresh, ['apply', '-'], json.stdout);
      expect(a.status, a.stderr).toBe(0);
      expect(ipvsadm(fresh, ['-Sn']).split('\n').sort()).toEqual(ipvsadm(ours.name, ['-Sn']).split('\n').sort());
      const d = await lvskit(fresh, ['diff', '-'], json.stdout);
      expect(d.stdout).toBe('no differences\n');
      expect(d.status).toBe(0);
    } finally {
      deleteNetns(fresh);
    }
  });
});
