// HealthMonitor against a real IPVS service: a director namespace with a NAT service over three
// real servers, each in its own namespace. The checks run from the director's namespace (the only
// place the real servers are reachable from). A killed server is drained (weight 0) and no new
// connection reaches it; it comes back on rise; a monitor started over a state an earlier run left
// repairs it; onFall 'delete' waits for the drained destination's connections. Behaviour is
// asserted; the times measured are printed (docs/health.md quotes them).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ipvs, type ServiceKey } from '../../lib/ipvs/index.js';
import { monitorHealth, type HealthEvent, type HealthMonitor, type HealthMonitorConfig, type EventSubscription } from '../../lib/health/index.js';
import { ip, skipUnless, useNetns } from '../helpers/kernel.js';
import { nsExec, startNodeIn } from './ipvs-helpers.js';
import { Rtnl } from '../../lib/rtnl/index.js';
import { VipAnnouncer, drainDirector } from '../../lib/cluster/announce.js';

const skip = skipUnless('ipvs');
const root = fileURLToPath(new URL('../..', import.meta.url));

const VIP = '192.168.20.100';
const WEB: ServiceKey = { protocol: 'tcp', address: VIP, port: 80 };
const HOLD: ServiceKey = { protocol: 'tcp', address: VIP, port: 9000 };
const RS = ['10.20.0.11', '10.20.0.12', '10.20.0.13'];
const WEIGHT = 100;
const INTERVAL = 500;
const TIMEOUT = 3000;
const FALL = 2;
const RISE = 2;

// HTTP on 8080 (GET /health: 200, or 503 after SIGUSR2 toggled it sick; any other path: the name);
// TCP on 9000 answers each line with NAME:line and keeps the connection open.
const SERVER = `
const net = require('net'), http = require('http');
const name = process.argv[1];
let sick = false;
process.on('SIGUSR2', () => { sick = !sick; });
http.createServer((req, res) => {
  if (req.url === '/health') { res.writeHead(sick ? 503 : 200); res.end(sick ? 'sick' : 'ok ' + name); return; }
  res.end(name);
}).listen(8080, '0.0.0.0');
net.createServer((s) => { s.on('error', () => {}); s.setEncoding('utf8'); s.on('data', (d) => s.write(name + ':' + d)); }).listen(9000, '0.0.0.0', () => console.log('ready'));
`;

// N sequential HTTP GETs to the VIP, each on a fresh connection; prints the answering names.
const CLIENT = `
const http = require('http');
const [host, n] = [process.argv[1], Number(process.argv[2])];
(async () => {
  const seen = [];
  for (let i = 0; i < n; i++) seen.push(await new Promise((res, rej) => {
    const req = http.get({ host, port: 80, path: '/', agent: false }, (r) => { let b = ''; r.on('data', (d) => (b += d)); r.on('end', () => res(b)); });
    req.setTimeout(20000, () => req.destroy(new Error('timeout')));
    req.on('error', rej);
  }));
  console.log(JSON.stringify(seen));
})().catch((e) => { console.error(e.message); process.exit(1); });
`;

// One connection to VIP:9000 held open; each stdin line is sent, each answer printed.
const HOLDER = `
const s = require('net').connect(9000, process.argv[1]);
s.setEncoding('utf8');
s.on('connect', () => console.log('connected'));
s.on('data', (d) => process.stdout.write(d));
s.on('close', () => process.exit(0));
process.stdin.on('data', (d) => s.write(d));
process.stdin.on('end', () => s.end());
`;

/** A client holding one connection to VIP:9000: send(line) resolves with the answer. */
function holdConnection(ns: string): { send(line: string): Promise<string>; end(): void; kill(): void; connected: Promise<void> } {
  const p = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', HOLDER, VIP], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const waiters: (() => void)[] = [];
  p.stdout!.setEncoding('utf8');
  p.stdout!.on('data', (d: string) => {
    out += d;
    for (const w of waiters.splice(0)) w();
  });
  const seen = async (text: string) => {
    while (!out.includes(text)) await new Promise<void>((res) => waiters.push(res));
  };
  return {
    connected: seen('connected'),
    send: async (line) => {
      p.stdin!.write(`${line}\n`);
      await seen(`:${line}`);
      return out.slice(out.lastIndexOf('\n', out.indexOf(`:${line}`)) + 1, out.indexOf(`:${line}`));
    },
    end: () => p.stdin!.end(),
    kill: () => p.kill(),
  };
}

/** Reads events until one matches; fails (naming what it waited for and what came) after a generous bound. */
async function waitFor(sub: EventSubscription<HealthEvent>, pred: (e: HealthEvent) => boolean, what: string, boundMs = 60_000): Promise<HealthEvent> {
  const seen: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, rej) => {
    timer = setTimeout(() => rej(new Error(`no ${what} within ${boundMs} ms; saw: ${seen.join(', ')}`)), boundMs);
  });
  try {
    for (;;) {
      const n = await Promise.race([sub.next(), timeout]);
      if (n.done) throw new Error(`events ended before ${what}; saw: ${seen.join(', ')}`);
      const e = n.value;
      seen.push('address' in e && e.address ? `${e.type} ${e.address}` : e.type);
      if (e.type === 'error') seen.push(`(${e.during}: ${e.error.message})`);
      if (e.type === 'check-failed') seen.push(`(${e.result.error})`);
      if (e.type === 'restored') seen.push(`(${e.reason}${e.added ? ' added' : ''})`);
      if (pred(e)) return e;
    }
  } finally {
    clearTimeout(timer);
  }
}

const at = (addr: string, type: HealthEvent['type']) => (e: HealthEvent) => e.type === type && 'address' in e && e.address === addr;

describe.skipIf(skip)('health monitor drives IPVS (real servers in namespaces)', () => {
  const dir = useNetns('lvs-hm-dir');
  const cli = useNetns('lvs-hm-cli');
  const rs = [useNetns('lvs-hm-rs1'), useNetns('lvs-hm-rs2'), useNetns('lvs-hm-rs3')];
  const servers: (ChildProcess | undefined)[] = [];
  const extra: ChildProcess[] = [];
  let ipvs: Ipvs;
  let monitor: HealthMonitor | undefined;

  const startServer = async (i: number) => {
    servers[i] = await startNodeIn(rs[i]!.name, SERVER, [`rs${i + 1}`], `server rs${i + 1}`);
  };

  const runClient = (n: number): Promise<string[]> =>
    new Promise((resolve, reject) => {
      const p = spawn('ip', ['netns', 'exec', cli.name, process.execPath, '-e', CLIENT, VIP, String(n)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout!.on('data', (d) => (out += d));
      p.stderr!.on('data', (d) => (err += d));
      p.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as string[]) : reject(new Error(`client exited ${code}: ${err}`))));
    });

  const weights = async (key: ServiceKey = WEB) => new Map((await ipvs.listDestinations(key)).map((d) => [d.address, d.weight]));

  const config = (over: Partial<HealthMonitorConfig> = {}): HealthMonitorConfig => ({
    intervalMs: INTERVAL,
    timeoutMs: TIMEOUT,
    rise: RISE,
    fall: FALL,
    check: { type: 'http', path: '/health', port: 8080 },
    services: [{ service: WEB, destinations: RS.map((address) => ({ address, port: 8080, weight: WEIGHT, forward: 'masq' as const })) }],
    ...over,
  });

  beforeAll(async () => {
    const D = dir.name;
    ip(D, 'link', 'add', 'dc', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', cli.name);
    ip(D, 'addr', 'add', '192.168.20.1/24', 'dev', 'dc');
    ip(D, 'addr', 'add', `${VIP}/24`, 'dev', 'dc');
    ip(D, 'link', 'set', 'dc', 'up');
    ip(cli.name, 'addr', 'add', '192.168.20.2/24', 'dev', 'eth0');
    ip(cli.name, 'link', 'set', 'eth0', 'up');
    ip(cli.name, 'route', 'add', 'default', 'via', '192.168.20.1');
    ip(D, 'link', 'add', 'br0', 'type', 'bridge');
    ip(D, 'addr', 'add', '10.20.0.1/24', 'dev', 'br0');
    ip(D, 'link', 'set', 'br0', 'up');
    nsExec(D, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
    rs.forEach((r, i) => {
      ip(D, 'link', 'add', `r${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', r.name);
      ip(D, 'link', 'set', `r${i}`, 'master', 'br0', 'up');
      ip(r.name, 'addr', 'add', `${RS[i]}/24`, 'dev', 'eth0');
      ip(r.name, 'link', 'set', 'eth0', 'up');
      ip(r.name, 'route', 'add', 'default', 'via', '10.20.0.1');
    });
    await Promise.all(RS.map((_a, i) => startServer(i)));
    ipvs = Ipvs.open({ netns: D });
    // What an earlier run might have left: rs1 at a stale weight, rs2 drained, rs3 deleted.
    await ipvs
      .batch()
      .addService({ key: WEB, scheduler: 'wrr' })
      .addService({ key: HOLD, scheduler: 'rr' })
      .addDestination(WEB, { address: RS[0]!, port: 8080, forward: 'masq', weight: 5 })
      .addDestination(WEB, { address: RS[1]!, port: 8080, forward: 'masq', weight: 0 })
      .addDestination(HOLD, { address: RS[0]!, port: 9000, forward: 'masq', weight: 1 })
      .run({ rollback: true });
  });

  afterAll(async () => {
    await monitor?.stop();
    for (const p of [...servers, ...extra]) p?.kill();
    ipvs?.close();
  });

  it('starts over a stale kernel state and repairs it: stale weight at once, drained and missing destinations on rise', async () => {
    monitor = monitorHealth(ipvs, config());
    const sub = monitor.events();
    await monitor.ready;
    const restored = new Map<string, HealthEvent>();
    while (restored.size < 3) {
      const e = await waitFor(sub, (x) => x.type === 'restored', 'restored events for rs1..rs3');
      restored.set((e as { address: string }).address, e);
    }
    expect(restored.get(RS[0]!)).toMatchObject({ reason: 'start', added: false, weight: WEIGHT });
    expect(restored.get(RS[1]!)).toMatchObject({ reason: 'rise', added: false, weight: WEIGHT });
    expect(restored.get(RS[2]!)).toMatchObject({ reason: 'rise', added: true, weight: WEIGHT });
    expect(await weights()).toEqual(new Map(RS.map((a) => [a, WEIGHT])));
    const st = monitor.state();
    expect(st.map((s) => [s.address, s.healthy, s.kernelWeight])).toEqual(RS.map((a) => [a, true, WEIGHT]));
    sub.close();
  });

  it('a killed real server is drained (weight 0) and no new connection reaches it; it comes back on rise', async () => {
    const sub = monitor!.events();
    const t0 = performance.now();
    servers[0]!.kill('SIGKILL');
    const fall = await waitFor(sub, at(RS[0]!, 'fall'), 'fall of rs1');
    const tFall = performance.now() - t0;
    expect(fall.type === 'fall' && fall.result.ok).toBe(false);
    await waitFor(sub, at(RS[0]!, 'drained'), 'drain of rs1');
    const tDrained = performance.now() - t0;
    expect((await weights()).get(RS[0]!)).toBe(0);
    const s1 = monitor!.state().find((s) => s.address === RS[0]!)!;
    expect(s1).toMatchObject({ healthy: false, kernelWeight: 0 });
    expect(s1.failStreak).toBeGreaterThanOrEqual(FALL);
    expect(s1.lastError).toMatch(/ECONNREFUSED|timeout/);
    const seen = await runClient(12);
    expect(seen).toHaveLength(12);
    expect(seen.filter((n) => n === 'rs1')).toEqual([]);
    expect(new Set(seen)).toEqual(new Set(['rs2', 'rs3']));
    // The monitor owns an unhealthy destination's weight: one set by hand is drained again.
    await ipvs.editDestination(WEB, { address: RS[0]!, port: 8080 }, { weight: 50 });
    await waitFor(sub, at(RS[0]!, 'drained'), 'a new drain of rs1 after a weight set by hand');
    expect((await weights()).get(RS[0]!)).toBe(0);
    console.log(`[health] server killed -> fall event ${tFall.toFixed(0)} ms, -> weight 0 in the kernel ${tDrained.toFixed(0)} ms (fall ${FALL} x interval ${INTERVAL} ms + 1 s = ${FALL * INTERVAL + 1000} ms; in this kernel: ${process.env.LVSKIT_IN_LAB_VM ? 'lab VM, emulated' : 'native'})`);

    const t1 = performance.now();
    await startServer(0);
    const tStarted = performance.now() - t1;
    await waitFor(sub, at(RS[0]!, 'rise'), 'rise of rs1');
    await waitFor(sub, at(RS[0]!, 'restored'), 'restore of rs1');
    const tRestored = performance.now() - t1;
    expect((await weights()).get(RS[0]!)).toBe(WEIGHT);
    const again = await runClient(12);
    expect(again.filter((n) => n === 'rs1').length).toBeGreaterThan(0);
    console.log(`[health] server restarted (node start ${tStarted.toFixed(0)} ms) -> weight ${WEIGHT} again ${tRestored.toFixed(0)} ms after the restart began (rise ${RISE} x interval ${INTERVAL} ms)`);
    sub.close();
  });

  it('a monitor restarted after a crash brings back a destination an earlier run left at weight 0', async () => {
    // The earlier run drains rs2 (sick), then "crashes" (stops without touching the kernel).
    const sub = monitor!.events();
    servers[1]!.kill('SIGUSR2');
    await waitFor(sub, at(RS[1]!, 'drained'), 'drain of rs2');
    await monitor!.stop();
    expect((await weights()).get(RS[1]!)).toBe(0);
    servers[1]!.kill('SIGUSR2'); // healthy again while no monitor runs
    monitor = monitorHealth(ipvs, config());
    const sub2 = monitor.events();
    await monitor.ready;
    expect(monitor.state().find((s) => s.address === RS[1]!)).toMatchObject({ healthy: false, kernelWeight: 0 });
    const e = await waitFor(sub2, at(RS[1]!, 'restored'), 'restore of rs2 by the new monitor');
    expect(e).toMatchObject({ reason: 'rise', added: false, weight: WEIGHT });
    expect(await weights()).toEqual(new Map(RS.map((a) => [a, WEIGHT])));
    await monitor.stop();
    monitor = undefined;
  });

  it("onFall 'delete': a drained destination keeps serving its connection and is deleted once it ends; deleteAfterMs deletes it anyway", async () => {
    const holdCfg = (over: Partial<HealthMonitorConfig>) =>
      config({ services: [{ service: HOLD, destinations: [{ address: RS[0]!, port: 9000, weight: 1, forward: 'masq' }] }], onFall: 'delete', pollMs: 200, ...over });
    const holder = spawn('ip', ['netns', 'exec', cli.name, process.execPath, '-e', HOLDER, VIP], { stdio: ['pipe', 'pipe', 'pipe'] });
    extra.push(holder);
    let out = '';
    const waiters: (() => void)[] = [];
    holder.stdout!.setEncoding('utf8');
    holder.stdout!.on('data', (d: string) => {
      out += d;
      for (const w of waiters.splice(0)) w();
    });
    const answered = async (text: string) => {
      while (!out.includes(text)) await new Promise<void>((res) => waiters.push(res));
    };
    await answered('connected');
    holder.stdin!.write('one\n');
    await answered('rs1:one');

    monitor = monitorHealth(ipvs, holdCfg({}));
    const sub = monitor.events();
    await monitor.ready;
    servers[0]!.kill('SIGUSR2'); // rs1 sick: its HTTP check fails, its TCP service goes on
    const drained = await waitFor(sub, at(RS[0]!, 'drained'), 'drain of rs1:9000');
    expect(drained).toMatchObject({ connections: 1 });
    // Drained, not deleted: the held connection still gets answers through IPVS.
    holder.stdin!.write('two\n');
    await answered('rs1:two');
    expect((await ipvs.listDestinations(HOLD)).map((d) => [d.address, d.weight, d.activeConnections])).toEqual([[RS[0]!, 0, 1]]);
    holder.stdin!.end();
    const deleted = await waitFor(sub, at(RS[0]!, 'deleted'), 'delete of rs1:9000 once idle');
    expect(deleted).toMatchObject({ reason: 'idle' });
    expect(await ipvs.listDestinations(HOLD)).toEqual([]);
    await monitor.stop();

    // Healthy again: a new monitor re-adds it; with deleteAfterMs a held connection does not stop the delete.
    servers[0]!.kill('SIGUSR2');
    monitor = monitorHealth(ipvs, holdCfg({ deleteAfterMs: 1000 }));
    const sub2 = monitor.events();
    await monitor.ready;
    expect(await waitFor(sub2, at(RS[0]!, 'restored'), 're-add of rs1:9000')).toMatchObject({ added: true });
    const holder2 = spawn('ip', ['netns', 'exec', cli.name, process.execPath, '-e', HOLDER, VIP], { stdio: ['pipe', 'pipe', 'pipe'] });
    extra.push(holder2);
    await new Promise<void>((res) => holder2.stdout!.once('data', () => res()));
    servers[0]!.kill('SIGUSR2');
    const forced = await waitFor(sub2, at(RS[0]!, 'deleted'), 'delete of rs1:9000 at deleteAfterMs');
    expect(forced).toMatchObject({ reason: 'timeout' });
    expect((forced as { connections: number }).connections).toBeGreaterThan(0);
    holder2.kill();
    await monitor.stop();
    monitor = undefined;
    servers[0]!.kill('SIGUSR2');
  });

  it('withdraws the VIP while the service has no healthy destination and announces it again when one is healthy', async () => {
    const rtnl = Rtnl.open({ netns: dir.name });
    try {
      const announcer = new VipAnnouncer({ vip: VIP, rtnl, method: 'route' });
      monitor = monitorHealth(ipvs, config({ services: [{ service: WEB, announce: { rtnl, method: 'route' }, destinations: RS.map((address) => ({ address, port: 8080, weight: WEIGHT, forward: 'masq' as const })) }] }));
      const sub = monitor.events();
      await monitor.ready;
      await waitFor(sub, (e) => e.type === 'announced', 'the first announcement');
      expect(await announcer.isAnnounced()).toBe(true);
      for (const p of servers) p!.kill('SIGUSR2'); // all sick
      await waitFor(sub, (e) => e.type === 'withdrawn', 'the withdraw once no destination is healthy');
      expect(await announcer.isAnnounced()).toBe(false);
      expect(monitor.state().every((d) => !d.healthy)).toBe(true);
      expect(monitor.announcements()).toEqual([{ vip: VIP, announced: false }]);
      servers[2]!.kill('SIGUSR2'); // rs3 healthy again
      await waitFor(sub, (e) => e.type === 'announced', 'the announcement once rs3 is healthy');
      expect(await announcer.isAnnounced()).toBe(true);
      expect(monitor.state().filter((d) => d.healthy).map((d) => d.address)).toEqual([RS[2]!]);
      servers[0]!.kill('SIGUSR2');
      servers[1]!.kill('SIGUSR2');
      await monitor.stop();
      monitor = undefined;
      await announcer.withdraw({ keepLocal: false });
    } finally {
      rtnl.close();
    }
  });

  it('drainDirector withdraws the VIP, waits for the connections and reports what was left', async () => {
    const rtnl = Rtnl.open({ netns: dir.name });
    try {
      await ipvs.addDestination(HOLD, { address: RS[1]!, port: 9000, forward: 'masq', weight: 1 });
      const announcer = new VipAnnouncer({ vip: VIP, rtnl, method: 'route' });
      await announcer.announce();
      const h = holdConnection(cli.name);
      extra.push({ kill: () => h.kill() } as ChildProcess);
      await h.connected;
      expect(await h.send('a')).toBe('rs2');
      const progress: number[] = [];
      const draining = drainDirector({ announcer, ipvs, deadlineMs: 120_000, pollMs: 200, onProgress: (left) => progress.push(left) });
      while (progress.length === 0) await new Promise((r) => setTimeout(r, 50));
      expect(await announcer.isAnnounced()).toBe(false);
      expect(await announcer.isLocal()).toBe(true);
      expect(await h.send('b')).toBe('rs2'); // the drained director still serves it
      h.end();
      const report = await draining;
      expect(report).toMatchObject({ vip: VIP, withdrew: true, connectionsAtStart: 1, connectionsLeft: 0, drained: true });
      expect(report.services.map((x) => ('port' in x.service ? x.service.port : 0)).sort()).toEqual([80, 9000]);
      console.log(`[drain] director drain: 1 held connection, ended by the client -> drained after ${report.waitedMs.toFixed(0)} ms`);

      // A deadline: the connection outlives it and is reported.
      await announcer.announce();
      const h2 = holdConnection(cli.name);
      extra.push({ kill: () => h2.kill() } as ChildProcess);
      await h2.connected;
      const cut = await drainDirector({ announcer, ipvs, services: [HOLD], deadlineMs: 1000, pollMs: 200 });
      expect(cut).toMatchObject({ connectionsAtStart: 1, connectionsLeft: 1, drained: false });
      expect(cut.services.map((x) => [x.service, x.connectionsLeft])).toEqual([[expect.objectContaining(HOLD), 1]]);
      expect(await h2.send('c')).toBe('rs2'); // nothing was cut
      h2.kill();
      await announcer.withdraw({ keepLocal: false });
    } finally {
      rtnl.close();
    }
  });

  it('a program that stops its monitor exits by itself (no timer, socket or worker left), and the kernel keeps its weights', async () => {
    const dirTmp = mkdtempSync(join(tmpdir(), 'lvskit-hm-'));
    try {
      const script = join(dirTmp, 'monitor-exit.mts');
      writeFileSync(script, `
import { Ipvs } from ${JSON.stringify(join(root, 'lib/ipvs/index.ts'))};
import { monitorHealth } from ${JSON.stringify(join(root, 'lib/health/index.ts'))};
const ipvs = Ipvs.open({ netns: process.argv[2] });
const m = monitorHealth(ipvs, ${JSON.stringify(config({ intervalMs: 200 }))});
const sub = m.events();
await m.ready;
while (m.state().some((d) => d.checks < 2)) await new Promise((r) => setTimeout(r, 50));
await m.stop();
ipvs.close();
for await (const _e of sub); // the subscription ends (after what it had queued)
console.log('stopped ' + JSON.stringify(m.state().map((d) => [d.healthy, d.kernelWeight])) + ' ended');
`);
      const out = await new Promise<{ code: number | null; out: string; killed: boolean }>((resolve) => {
        const p = spawn(join(root, 'node_modules/.bin/vite-node'), [script, dir.name], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
        let text = '';
        let killed = false;
        p.stdout!.on('data', (d) => (text += d));
        p.stderr!.on('data', (d) => (text += d));
        const t = setTimeout(() => { killed = true; p.kill('SIGKILL'); }, 240_000);
        p.on('close', (code) => { clearTimeout(t); resolve({ code, out: text, killed }); });
      });
      expect(out).toMatchObject({ code: 0, killed: false });
      expect(out.out).toContain(`stopped ${JSON.stringify(RS.map(() => [true, WEIGHT]))} ended`);
      expect(await weights()).toEqual(new Map(RS.map((a) => [a, WEIGHT])));
    } finally {
      rmSync(dirTmp, { recursive: true, force: true });
    }
  });
});
