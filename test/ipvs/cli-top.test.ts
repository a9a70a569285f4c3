// `lvskit top` in a real terminal: tmux runs the CLI (dist/cli/main.js) in a pane against a
// director namespace carrying live NAT traffic; the test sends keys (sort changes, q, Ctrl-C),
// captures the pane and asserts on what a person would see, then checks the terminal is given
// back: alternate screen left, cursor visible, canonical mode and echo on again.
// In the lab VM tmux runs inside the guest (its /tmp is a private tmpfs, TERM is 'dumb' there:
// the tmux server gets TERM=xterm-256color). --once and --json are run against the same traffic.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ipvs, type ServiceKey } from '../../lib/ipvs/index.js';
import { ip, skipUnless, useNetns } from '../helpers/kernel.js';
import { startNodeIn } from './ipvs-helpers.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../../dist/cli/top.js', import.meta.url)));
if (!built) console.warn('\n*** SKIPPING lvskit top tests: dist/cli/top.js is not built (npm run build:ts) ***\n');
let tmuxOk = true;
try {
  execFileSync('tmux', ['-V']);
} catch {
  tmuxOk = false;
  console.warn('\n*** SKIPPING lvskit top tests: tmux is not installed ***\n');
}
const skip = skipUnless('ipvs') || !built || !tmuxOk;

const VIP = '198.51.100.10';
const IDLE: ServiceKey = { protocol: 'tcp', address: VIP, port: 80 };
const BUSY: ServiceKey = { protocol: 'tcp', address: VIP, port: 81 };
const S1 = '10.30.1.2';
const S2 = '10.30.2.2';

const SERVER = `require('net').createServer((s) => { s.on('error', () => {}); s.end('x'.repeat(2000)); }).listen(8080, () => console.log('ready'));`;
// Live traffic until killed (bounded: 30000 connections or 20 minutes), one at a time.
const CLIENT = `
const net = require('net');
const end = Date.now() + 20 * 60 * 1000;
let n = 0;
const one = () => {
  if (n++ >= 30000 || Date.now() > end) return;
  const s = net.connect(81, process.argv[1]);
  s.on('data', () => {});
  s.on('error', () => setTimeout(one, 50));
  s.on('close', () => setTimeout(one, 20));
};
console.log('ready');
one();
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skip)('lvskit top against live traffic (tmux)', () => {
  const dir = useNetns('lvs-top-d');
  const cli = useNetns('lvs-top-c');
  const s1 = useNetns('lvs-top-s1');
  const s2 = useNetns('lvs-top-s2');
  const procs: ChildProcess[] = [];
  let ipvs: Ipvs;
  let tmp = '';
  let sock = '';
  const tmuxEnv = { ...process.env, TERM: 'xterm-256color' };
  const tmux = (...args: string[]) => execFileSync('tmux', ['-S', sock, ...args], { encoding: 'utf8', env: tmuxEnv });
  const capture = (session: string) => tmux('capture-pane', '-p', '-t', session);
  const paneFlags = (session: string) => tmux('display-message', '-p', '-t', session, '#{alternate_on} #{cursor_flag}').trim();

  /** Captures the pane until `pred` holds (bounded; no time is asserted). */
  async function waitPane(session: string, what: string, pred: (text: string) => boolean): Promise<string> {
    let text = '';
    for (let i = 0; i < 400; i++) {
      text = capture(session);
      if (pred(text)) return text;
      await sleep(250);
    }
    throw new Error(`the pane never showed ${what}; last capture:\n${text}`);
  }

  /** A pane running `lvskit top ARGS`, then printing its exit status and the tty's modes in one line. */
  function startTop(session: string, args: string): void {
    const cmd = `${process.execPath} ${CLI} --netns ${dir.name} top ${args}; rc=$?; echo "EXIT=$rc TTY=$(stty -a | tr ';' '\\n' | grep -Eo -- '(^| )-?(icanon|echo)( |$)' | tr -d ' ' | tr '\\n' ' ')."; sleep 600`;
    tmux('new-session', '-d', '-s', session, '-x', '132', '-y', '40', 'sh', '-c', cmd);
  }

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'lvskit-top-'));
    sock = join(tmp, 'tmux.sock');
    const D = dir.name;
    ip(D, 'link', 'add', 'cli0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', cli.name);
    ip(D, 'addr', 'add', '198.51.100.1/24', 'dev', 'cli0');
    ip(D, 'addr', 'add', `${VIP}/32`, 'dev', 'cli0');
    ip(D, 'link', 'set', 'cli0', 'up');
    ip(cli.name, 'addr', 'add', '198.51.100.50/24', 'dev', 'eth0');
    ip(cli.name, 'link', 'set', 'eth0', 'up');
    for (const [i, r, addr] of [[1, s1, S1], [2, s2, S2]] as const) {
      ip(D, 'link', 'add', `srv${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', r.name);
      ip(D, 'addr', 'add', `10.30.${i}.1/24`, 'dev', `srv${i}`);
      ip(D, 'link', 'set', `srv${i}`, 'up');
      ip(r.name, 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
      ip(r.name, 'link', 'set', 'eth0', 'up');
      ip(r.name, 'route', 'add', 'default', 'via', `10.30.${i}.1`);
    }
    execFileSync('ip', ['netns', 'exec', D, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    ipvs = Ipvs.open({ netns: D });
    // IDLE: the larger weights (first by weight), no traffic; BUSY: all the traffic, S2 weighted 3
    await ipvs.batch()
      .addService({ key: IDLE, scheduler: 'wrr' })
      .addDestination(IDLE, { address: S1, port: 8080, forward: 'masq', weight: 5 })
      .addDestination(IDLE, { address: S2, port: 8080, forward: 'masq', weight: 4 })
      .addService({ key: BUSY, scheduler: 'wrr' })
      .addDestination(BUSY, { address: S1, port: 8080, forward: 'masq', weight: 1 })
      .addDestination(BUSY, { address: S2, port: 8080, forward: 'masq', weight: 3 })
      .run({ rollback: true });
    await Promise.all([s1, s2].map((r) => startNodeIn(r.name, SERVER, [], `server in ${r.name}`, (p) => procs.push(p))));
    await startNodeIn(cli.name, CLIENT, [VIP], 'client', (p) => procs.push(p));
    // the health column: a state as HealthMonitor.state() gives it, S2 of BUSY failing
    writeFileSync(join(tmp, 'health.json'), JSON.stringify([
      { service: BUSY, address: S1, port: 8080, healthy: true, failStreak: 0 },
      { service: BUSY, address: S2, port: 8080, healthy: false, failStreak: 3 },
    ]));
  });

  afterAll(async () => {
    try {
      if (sock) execFileSync('tmux', ['-S', sock, 'kill-server'], { stdio: 'ignore', env: tmuxEnv });
    } catch {
      /* no server left */
    }
    // the servers and the client are gone before the namespaces are deleted (and the worker exits)
    await Promise.all(procs.map((p) => new Promise<void>((done) => {
      if (p.exitCode !== null || p.signalCode !== null) return done();
      const t = setTimeout(() => {
        p.kill('SIGKILL');
        done();
      }, 10_000);
      p.once('exit', () => {
        clearTimeout(t);
        done();
      });
      p.kill();
    })));
    ipvs?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const rowsOf = (text: string) => text.split('\n').filter((l) => /^(TCP|  ->)/.test(l));
  const index = (rows: string[], prefix: string) => rows.findIndex((l) => l.startsWith(prefix));

  it('shows the live rates, re-sorts on c/n/w, and gives the terminal back on q', async () => {
    startTop('top', `-d 1 --health ${join(tmp, 'health.json')}`);
    // the estimator needs a couple of its 2 s ticks before the busy service's conn/s is non-zero
    const busyRow = (t: string) => t.split('\n').find((l) => l.startsWith(`TCP ${VIP}:81`));
    const live = await waitPane('top', 'a non-zero conn/s for the busy service', (t) => {
      const cells = busyRow(t)?.trim().split(/\s+/);
      return cells !== undefined && parseFloat(cells[5]!) > 0;
    });
    console.log(`a live frame (tmux capture-pane):\n${live.trimEnd()}`);
    expect(paneFlags('top')).toBe('1 0'); // alternate screen on, cursor hidden
    expect(live).toMatch(new RegExp(`^lvskit top - netns ${dir.name} - \\d\\d:\\d\\d:\\d\\d - 2 services, 4 destinations - every 1s - sort: conn/s \\(desc\\)`));
    expect(live).toContain('keys: c conn/s');
    let rows = rowsOf(live);
    // by conn/s: the busy service first
    expect(index(rows, `TCP ${VIP}:81`)).toBe(0);
    expect(index(rows, `TCP ${VIP}:80`)).toBe(3);
    const busy = busyRow(live)!.trim().split(/\s+/);
    // TCP VIP:81 wrr ACTIVE INACT CONN/S INPKT/S OUTPKT/S IN OUT: packets and bytes both ways (NAT)
    expect(busy.slice(5).map((c) => c !== '0')).toEqual([true, true, true, true, true]);
    // the health column from the state file; the idle service's destinations are not in it
    expect(rows.find((l) => l.startsWith(`  -> ${S1}:8080`) && / up$/.test(l))).toBeDefined();
    expect(rows.find((l) => l.startsWith(`  -> ${S2}:8080`) && / down$/.test(l))).toBeDefined();
    expect(rows.filter((l) => / -$/.test(l))).toHaveLength(2);

    tmux('send-keys', '-t', 'top', 'n');
    const byName = await waitPane('top', 'the name sort', (t) => t.includes('sort: name (asc)'));
    rows = rowsOf(byName);
    expect(index(rows, `TCP ${VIP}:80`)).toBe(0);
    expect(index(rows, `TCP ${VIP}:81`)).toBe(3);
    expect(rows[4]).toMatch(new RegExp(`^  -> ${S1}:8080`)); // 10.30.1.2 before 10.30.2.2
    expect(rows[5]).toMatch(new RegExp(`^  -> ${S2}:8080`));

    tmux('send-keys', '-t', 'top', 'w');
    const byWeight = await waitPane('top', 'the weight sort', (t) => t.includes('sort: weight (desc)'));
    rows = rowsOf(byWeight);
    expect(index(rows, `TCP ${VIP}:80`)).toBe(0); // weights 5+4 before 1+3
    expect(rows[4]).toMatch(new RegExp(`^  -> ${S2}:8080\\s+Masq\\s+3 `)); // weight 3 before weight 1
    expect(rows[5]).toMatch(new RegExp(`^  -> ${S1}:8080\\s+Masq\\s+1 `));

    tmux('send-keys', '-t', 'top', 'r');
    await waitPane('top', 'the reversed weight sort', (t) => t.includes('sort: weight (asc)'));

    // a smaller window (SIGWINCH): the frame is redrawn to fit, the rows left out counted
    tmux('resize-window', '-t', 'top', '-x', '60', '-y', '9');
    const small = await waitPane('top', 'the frame fitted to 60x9', (t) => t.includes('more rows'));
    const lines = small.split('\n').filter((l) => l.length > 0);
    expect(lines.every((l) => l.length <= 60), small).toBe(true);
    expect(small, small).toMatch(/^\.\.\. [1-6] more rows/m);

    tmux('send-keys', '-t', 'top', 'q');
    const after = await waitPane('top', 'the exit status', (t) => /EXIT=\d+ TTY=.*\./.test(t));
    expect(after, after).toContain('EXIT=0');
    expect(after).not.toContain('lvskit top'); // the frames were on the alternate screen
    expect(after, after).toMatch(/TTY=icanon echo \./); // cooked mode and echo again (not -icanon, -echo)
    expect(paneFlags('top')).toBe('0 1');
  });

  it('Ctrl-C quits (exit 0) and SIGTERM quits (exit 143), both giving the terminal back', async () => {
    startTop('ctrlc', '-d 1');
    await waitPane('ctrlc', 'the first frame', (t) => t.includes('lvskit top - netns'));
    tmux('send-keys', '-t', 'ctrlc', 'C-c');
    const a = await waitPane('ctrlc', 'the exit status', (t) => /EXIT=\d+ TTY=.*\./.test(t));
    expect(a, a).toContain('EXIT=0');
    expect(a, a).toMatch(/TTY=icanon echo \./);
    expect(paneFlags('ctrlc')).toBe('0 1');

    startTop('term', '-d 1');
    await waitPane('term', 'the first frame', (t) => t.includes('lvskit top - netns'));
    const pid = execFileSync('pgrep', ['-f', `${CLI} --netns ${dir.name} top -d 1$`], { encoding: 'utf8' }).trim().split('\n');
    expect(pid).toHaveLength(1);
    process.kill(Number(pid[0]), 'SIGTERM');
    const b = await waitPane('term', 'the exit status', (t) => /EXIT=\d+ TTY=.*\./.test(t));
    expect(b, b).toContain('EXIT=143');
    expect(b, b).toMatch(/TTY=icanon echo \./);
    expect(paneFlags('term')).toBe('0 1');
  });

  it('--once prints one plain frame; --json --count 2 two JSON snapshots with the live counters', () => {
    const once = execFileSync(process.execPath, [CLI, '--netns', dir.name, 'top', '--once', '--sort', 'n'], { encoding: 'utf8' });
    expect(once).not.toContain('\x1b');
    expect(once.split('\n')[0]).toContain('2 services, 4 destinations');
    expect(rowsOf(once).map((l) => l.trim().split(/\s{2,}/)[0]!)).toEqual([`TCP ${VIP}:80 wrr`, `-> ${S1}:8080`, `-> ${S2}:8080`, `TCP ${VIP}:81 wrr`, `-> ${S1}:8080`, `-> ${S2}:8080`]);

    const out = execFileSync(process.execPath, [CLI, '--netns', dir.name, 'top', '--json', '--count', '2', '-d', '0.5'], { encoding: 'utf8' });
    const snaps = out.trimEnd().split('\n').map((l) => JSON.parse(l) as { netns: string; services: { service: string; stats: { connections: number; cps: number }; destinations: { weight: number; stats: { connections: number } }[] }[] });
    expect(snaps).toHaveLength(2);
    for (const s of snaps) {
      expect(s.netns).toBe(dir.name);
      const busy = s.services.find((x) => x.service === `TCP ${VIP}:81`)!;
      expect(busy.stats.connections).toBeGreaterThan(0);
      expect(busy.destinations.map((d) => d.weight)).toEqual([3, 1]); // the default sort (conn/s), ties by address
      for (const d of busy.destinations) expect(d.stats.connections).toBeGreaterThan(0);
    }
    // live: the counter moved between the two snapshots (the client never stops)
    const conns = snaps.map((s) => s.services.find((x) => x.service === `TCP ${VIP}:81`)!.stats.connections);
    expect(conns[1]).toBeGreaterThanOrEqual(conns[0]!);
  });
});
