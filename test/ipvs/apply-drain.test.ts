// apply({ drain: true }) with live TCP connections through a NAT service, between namespaces:
// client -> director (IPVS) -> real servers r1, r2. A connection held open to r1 keeps it in the
// table at weight 0 while new connections go to r2; when the held connection closes, apply()
// deletes r1 and reports 0 connections left; with a short drainTimeoutMs it deletes r1 anyway
// and reports the connection still there.
//
// How the wait is kept short: the held connection is closed with a TCP RST (socket.resetAndDestroy),
// which IPVS moves to its CLOSE state (10 s, the kernel's fixed tcp CLOSE timeout) instead of the
// 2-minute TIME_WAIT a FIN close ends in (ipvsadm --set/setTimeouts cannot shorten TIME_WAIT). Every
// wait below is bounded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { Ipvs, apply, type LvsState, type ServiceKey, type StateDestination } from '../../lib/index.js';
import { ip, skipUnless, useNetns } from '../helpers/kernel.js';
import { ipvsadm, nsExec, startNodeIn } from './ipvs-helpers.js';

const skip = skipUnless('ipvs');

const VIP = '192.168.20.100';
const NAT: ServiceKey = { protocol: 'tcp', address: VIP, port: 80 };
const RS = ['10.20.1.2', '10.20.2.2'];
const dest = (i: number, weight = 1): StateDestination => ({ address: RS[i]!, port: 8080, forward: 'masq', weight });
const want = (...ds: StateDestination[]): LvsState => ({ services: [{ key: NAT, scheduler: 'rr', destinations: ds }] });

// Each real server greets every connection with its name and keeps it open (never ends it).
const SERVER = `
const name = process.argv[1];
require('net').createServer((s) => { s.on('error', () => {}); s.write(name + '\\n'); }).listen(8080, '0.0.0.0', () => console.log('ready'));
`;

// Holds one connection: prints the server's name, and on 'rst' on stdin closes it with a RST.
const HOLD = `
const s = require('net').connect(80, process.argv[1]);
s.on('error', (e) => { console.error(e.message); process.exit(1); });
s.once('data', (d) => console.log('server ' + String(d).trim()));
process.stdin.on('data', () => { s.resetAndDestroy(); console.log('closed'); setTimeout(() => process.exit(0), 100); });
setTimeout(() => process.exit(2), 170000);
`;

// Opens N short connections one after another; prints the servers that answered (JSON).
const CLIENT = `
const net = require('net');
const [host, n] = [process.argv[1], Number(process.argv[2])];
(async () => {
  const seen = [];
  for (let i = 0; i < n; i++) {
    seen.push(await new Promise((res, rej) => {
      const s = net.connect(80, host);
      s.setTimeout(20000, () => rej(new Error('timeout')));
      s.once('data', (d) => { res(String(d).trim()); s.resetAndDestroy(); });
      s.on('error', rej);
    }));
  }
  console.log(JSON.stringify(seen));
})().catch((e) => { console.error(e.message); process.exit(1); });
`;

/** `ipvsadm -Ln` lines of the destinations: address:port -> [weight, active, inactive]. */
function ipvsadmDests(ns: string): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const line of ipvsadm(ns, '-Ln').split('\n')) {
    const d = line.match(/^\s+->\s+(\S+)\s+\S+\s+(\d+)\s+(\d+)\s+(\d+)/);
    if (d) m.set(d[1]!, [Number(d[2]), Number(d[3]), Number(d[4])]);
  }
  return m;
}

describe.skipIf(skip)('apply() drain with live connections (NAT, in namespaces)', () => {
  const dir = useNetns('lvs-drd');
  const cli = useNetns('lvs-drc');
  const rs = [useNetns('lvs-dr1'), useNetns('lvs-dr2')];
  const procs: ChildProcess[] = [];
  let ipvs: Ipvs;

  beforeAll(async () => {
    const D = dir.name;
    ip(D, 'link', 'add', 'dc', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', cli.name);
    ip(D, 'addr', 'add', '192.168.20.1/24', 'dev', 'dc');
    ip(D, 'addr', 'add', `${VIP}/24`, 'dev', 'dc');
    ip(D, 'link', 'set', 'dc', 'up');
    ip(cli.name, 'addr', 'add', '192.168.20.2/24', 'dev', 'eth0');
    ip(cli.name, 'link', 'set', 'eth0', 'up');
    ip(cli.name, 'route', 'add', 'default', 'via', '192.168.20.1');
    nsExec(D, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
    rs.forEach((r, i) => {
      ip(D, 'link', 'add', `r${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', r.name);
      ip(D, 'addr', 'add', `10.20.${i + 1}.1/24`, 'dev', `r${i}`);
      ip(D, 'link', 'set', `r${i}`, 'up');
      ip(r.name, 'addr', 'add', `${RS[i]}/24`, 'dev', 'eth0');
      ip(r.name, 'link', 'set', 'eth0', 'up');
      ip(r.name, 'route', 'add', 'default', 'via', `10.20.${i + 1}.1`);
    });
    await Promise.all(rs.map((r, i) => startNodeIn(r.name, SERVER, [`r${i + 1}`], `server r${i + 1}`, (p) => procs.push(p))));
    ipvs = Ipvs.open({ netns: D });
  });

  afterAll(() => {
    for (const p of procs) p.kill();
    ipvs?.close();
  });

  function runClient(n: number): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const p = spawn('ip', ['netns', 'exec', cli.name, process.execPath, '-e', CLIENT, VIP, String(n)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout!.on('data', (d) => (out += d));
      p.stderr!.on('data', (d) => (err += d));
      p.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as string[]) : reject(new Error(`client exited ${code}: ${err}`))));
    });
  }

  /** Opens the held connection; resolves with the server that took it, and a function that closes it with a RST. */
  function hold(): Promise<{ server: string; close: () => Promise<void> }> {
    const p = spawn('ip', ['netns', 'exec', cli.name, process.execPath, '-e', HOLD, VIP], { stdio: ['pipe', 'pipe', 'inherit'] });
    procs.push(p);
    let out = '';
    const waitFor = (text: string) =>
      new Promise<void>((res, rej) => {
        const check = () => out.includes(text) && res();
        p.stdout!.on('data', (d) => {
          out += d;
          check();
        });
        p.once('exit', (c) => (out.includes(text) ? res() : rej(new Error(`holder exited ${c} before '${text}'`))));
        check();
      });
    return waitFor('server ').then(() => ({
      server: out.match(/server (\S+)/)![1]!,
      close: async () => {
        p.stdin!.write('rst\n');
        await waitFor('closed');
      },
    }));
  }

  /** Polls (at most `tries` times, 100 ms apart) until `ok` holds. */
  async function until(ok: () => Promise<boolean>, tries = 300): Promise<void> {
    for (let i = 0; i < tries; i++) {
      if (await ok()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('condition not reached within the bound');
  }

  const r1Of = async () => (await ipvs.listDestinations(NAT)).find((d) => d.address === RS[0]);

  it('while a connection is open r1 stays at weight 0 and gets no new ones; when it closes, apply() deletes r1 with 0 left', async () => {
    await ipvs.flush();
    await apply(ipvs, want(dest(0)));
    const held = await hold();
    expect(held.server).toBe('r1');
    await until(async () => (await r1Of())?.activeConnections === 1);

    let settled = false;
    const running = apply(ipvs, want(dest(1)), { drain: true, drainPollMs: 200, drainTimeoutMs: 120_000 }).finally(() => (settled = true));
    try {
      // (a) r1 at weight 0 with its connection, in the library and in ipvsadm -Ln
      await until(async () => (await r1Of())?.weight === 0);
      const r1 = (await r1Of())!;
      expect([r1.weight, r1.activeConnections]).toEqual([0, 1]);
      expect(ipvsadmDests(dir.name).get(`${RS[0]}:8080`)).toEqual([0, 1, 0]);
      expect(ipvsadmDests(dir.name).get(`${RS[1]}:8080`)?.[0]).toBe(1);
      // new connections all go to r2
      const seen = await runClient(4);
      expect(seen).toEqual(['r2', 'r2', 'r2', 'r2']);
      expect(settled).toBe(false); // still waiting for r1's connection
      expect((await r1Of())?.weight).toBe(0);
    } finally {
      // (b) the held connection ends (RST: IPVS keeps it 10 s in CLOSE, counted as inactive)
      await held.close();
    }
    const r = await running;
    expect(r.drained).toHaveLength(1);
    expect(r.drained[0]).toMatchObject({ dest: { address: RS[0], port: 8080 }, connections: 0 });
    expect(r.afterDrainReport?.ok).toBe(true);
    expect(r.changes).toContain(`delete destination ${RS[0]}:8080 from tcp ${VIP}:80`);
    expect(await r1Of()).toBeUndefined();
    expect([...ipvsadmDests(dir.name).keys()]).toEqual([`${RS[1]}:8080`]);
  }, 180_000);

  it('with a short drainTimeoutMs and the connection still open, apply() deletes r1 after the timeout and reports the connection left', async () => {
    // r2 at weight 0 so that the held connection goes to r1
    await apply(ipvs, want(dest(0), dest(1, 0)));
    const held = await hold();
    try {
      expect(held.server).toBe('r1');
      await until(async () => (await r1Of())?.activeConnections === 1);
      const r = await apply(ipvs, want(dest(1)), { drain: true, drainPollMs: 100, drainTimeoutMs: 1500 });
      expect(r.drained).toEqual([{ service: expect.objectContaining({ address: VIP, port: 80 }), dest: { address: RS[0], port: 8080 }, connections: 1 }]);
      expect(r.afterDrainReport?.ok).toBe(true);
      expect(await r1Of()).toBeUndefined();
      expect(ipvsadmDests(dir.name).has(`${RS[0]}:8080`)).toBe(false);
      // r2 went back to weight 1 in the same apply; new connections reach it
      expect(await runClient(2)).toEqual(['r2', 'r2']);
    } finally {
      await held.close();
    }
  }, 180_000);
});
