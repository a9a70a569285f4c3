// sh, dh and mh predictions against where real connections land inside IPVS. Runs where the
// kernel has IPVS (the lab VM via `npm test`). Setup with the real ipvsadm; ground truth from
// /proc/net/ip_vs_conn read inside the namespace this file creates. Clients are local: IPVS
// schedules locally generated connections too. Every flow uses a fresh source address:port
// (a SYN matching a live connection entry is not scheduled again).
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_DESTINATION, SchedulerTable, numberToIpv4, type SchedulerDestination } from '../../lib/hash/index.js';

const NS = `lvskit-ipvs-sched-${process.pid}`;
const VIP = '198.51.100.10';

function probe(): { ok: boolean; why: string } {
  if (spawnSync('ipvsadm', ['--version']).status !== 0) return { ok: false, why: 'ipvsadm is not installed' };
  const add = spawnSync('ip', ['netns', 'add', NS]);
  if (add.status !== 0) return { ok: false, why: `cannot create a namespace: ${add.stderr}` };
  const r = spawnSync('ip', ['netns', 'exec', NS, 'ipvsadm', '-Ln']);
  if (r.status !== 0) {
    spawnSync('ip', ['netns', 'del', NS]);
    return { ok: false, why: `this kernel has no IPVS: ${String(r.stderr).trim()}` };
  }
  return { ok: true, why: '' };
}
const caps = probe();
if (!caps.ok) console.warn(`SKIPPED scheduler-agreement: ${caps.why}`);

const inNs = (cmd: string, ...args: string[]) => execFileSync('ip', ['netns', 'exec', NS, cmd, ...args], { encoding: 'utf8', stdio: 'pipe' });

// Connects from many (address, port) pairs with a short-lived Node script inside the namespace:
// the SYN is enough for IPVS to schedule; nothing needs to answer.
function connectAll(flows: Array<[string, number]>): void {
  const script = `
    const net = require('node:net');
    const flows = ${JSON.stringify(flows)};
    let left = flows.length;
    for (const [a, p] of flows) {
      const s = net.connect({ host: '${VIP}', port: 80, localAddress: a, localPort: p });
      s.on('error', () => {});
      setTimeout(() => { s.destroy(); if (--left === 0) process.exit(0); }, 300);
    }`;
  execFileSync('ip', ['netns', 'exec', NS, process.execPath, '-e', script], { stdio: 'pipe', timeout: 60_000 });
}

// client address:port -> real server address, from /proc/net/ip_vs_conn (hex fields).
function connTable(): Map<string, string> {
  const m = new Map<string, string>();
  const hex = (h: string) => numberToIpv4(parseInt(h, 16) >>> 0);
  for (const line of inNs('cat', '/proc/net/ip_vs_conn').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 7) continue;
    m.set(`${hex(f[1]!)}:${parseInt(f[2]!, 16)}`, hex(f[5]!));
  }
  return m;
}

let nextClient = 0;
function clients(n: number): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (let i = 0; i < n; i++, nextClient++) out.push([`10.200.${(nextClient >> 8) & 255}.${(nextClient & 255) || 1}`, 20000 + (nextClient % 40000)]);
  return out;
}

describe.skipIf(!caps.ok)('IPVS scheduler predictions agree with the kernel', () => {
  beforeAll(() => {
    inNs('ip', 'link', 'set', 'lo', 'up');
    inNs('ip', 'addr', 'add', '10.200.0.0/16', 'dev', 'lo');
    inNs('ip', 'addr', 'add', `${VIP}/32`, 'dev', 'lo');
  });
  afterAll(() => { spawnSync('ip', ['netns', 'del', NS]); });

  const cases: Array<{ sched: 'sh' | 'dh' | 'mh'; flags: string[]; fallback: boolean; port: boolean }> = [
    { sched: 'sh', flags: [], fallback: false, port: false },
    { sched: 'sh', flags: ['-b', 'sh-fallback,sh-port'], fallback: true, port: true },
    { sched: 'mh', flags: [], fallback: false, port: false },
    { sched: 'mh', flags: ['-b', 'mh-fallback,mh-port'], fallback: true, port: true },
    { sched: 'dh', flags: [], fallback: false, port: false },
  ];
  for (const c of cases) {
    it(`${c.sched} ${c.flags.join(' ')}: add, remove + re-add, reweight, drain`, () => {
      inNs('ipvsadm', '-C');
      inNs('ipvsadm', '-A', '-t', `${VIP}:80`, '-s', c.sched, ...c.flags);
      const real = (i: number) => `10.9.0.${i + 1}`;
      const weights = new Map<string, { w: number; last: number }>();
      const setDest = (i: number, w: number, add: boolean) => {
        inNs('ipvsadm', add ? '-a' : '-e', '-t', `${VIP}:80`, '-r', `${real(i)}:8080`, '-g', '-w', String(w));
        const prev = weights.get(real(i));
        weights.set(real(i), { w, last: w !== 0 || !prev ? w : prev.last });
      };
      for (let i = 0; i < 5; i++) setDest(i, 1 + i, true);
      const check = () => {
        // Kernel order = the dump order (newest first).
        const order = inNs('ipvsadm', '-Ln', '-t', `${VIP}:80`).split('\n').filter((l) => l.includes('->') && /\d+\.\d+\.\d+\.\d+:\d+/.test(l) && !l.includes('RemoteAddress'))
          .map((l) => /(\d+\.\d+\.\d+\.\d+):/.exec(l)![1]!);
        const dests: SchedulerDestination[] = order.map((a) => ({ address: a, port: 8080, weight: weights.get(a)!.w, lastWeight: weights.get(a)!.last }));
        const table = new SchedulerTable(c.sched, dests, { fallback: c.fallback, port: c.port });
        const flows = clients(300);
        connectAll(flows);
        const conns = connTable();
        let agreed = 0;
        for (const [a, p] of flows) {
          const d = c.sched === 'dh' ? table.pick(VIP) : table.pick(a, p, 6);
          const got = conns.get(`${a}:${p}`);
          if ((d?.address ?? 'none') === (got ?? 'none')) agreed++;
        }
        expect(agreed).toBe(flows.length);
        return agreed;
      };
      let total = check();
      inNs('ipvsadm', '-d', '-t', `${VIP}:80`, '-r', `${real(2)}:8080`);
      weights.delete(real(2));
      total += check();
      setDest(2, 3, true);
      total += check();
      setDest(0, 7, false);
      setDest(4, 0, false);
      total += check();
      console.log(`scheduler-agreement ${c.sched} ${c.flags.join(' ')}: ${total} connections agreed`);
      expect(NO_DESTINATION).toBe(0xffff);
    });
  }
});
