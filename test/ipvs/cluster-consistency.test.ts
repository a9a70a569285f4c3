// Two directors (two namespaces this file creates, each with its own IPVS) programmed the same and
// differently: compareDirectorHandles() says whether they build the same mh/sh table and names
// the first differing slot; real connections, scheduled by each kernel, confirm it. Then
// predictDisruption() is judged by the kernel: flows opened before and after an apply().
//
// Ground truth as in scheduler-agreement.test.ts: a Node client inside each namespace opens TCP
// connections from addresses of a /16 on lo to the VIP; IPVS schedules local clients too (NAT to
// real servers on a dummy subnet where the SYNs vanish); /proc/net/ip_vs_conn, read inside the
// namespace, gives client address:port -> real server. A client address:port with an entry is
// never scheduled again, so every flow uses a fresh source port; mh and sh without the port flag
// depend on the client address only, so "the same client after the change" is the same address
// with a new port.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ipvs, Rtnl, apply, readState, type LvsState, type StateService } from '../../lib/index.js';
import { compareDirectorHandles, formatDirectorComparison } from '../../lib/cluster/consistency.js';
import { formatDisruption, predictDisruption } from '../../lib/cluster/disruption.js';
import { SchedulerTable } from '../../lib/hash/index.js';
import { nativeHash } from '../../lib/hash/native-types.js';
import { createNetns, deleteNetns } from '../../lib/socket.js';
import { skipUnless } from '../helpers/kernel.js';

const run = promisify(execFile);
const skip = skipUnless('ipvs');
const NS = [`lvskit-dira-${process.pid}`, `lvskit-dirb-${process.pid}`] as const;
const VIP = '198.51.100.10';
const KEY = { protocol: 'tcp' as const, address: VIP, port: 80 };
const FLOWS = 240;

const inNs = async (ns: string, cmd: string, ...args: string[]): Promise<string> =>
  (await run('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', timeout: 60_000 })).stdout;

// Per job: opens one TCP connection per flow [src, sport] to the VIP, then answers with
// /proc/net/ip_vs_conn as this namespace shows it.
const CLIENT = `
const net = require('node:net');
const fs = require('node:fs');
let socks = [];
const reply = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const job = JSON.parse(line);
  if (job.read) return reply({ conn: fs.readFileSync('/proc/self/net/ip_vs_conn', 'utf8') });
  for (const s of socks) s.destroy();
  socks = [];
  for (const [src, sport] of job.flows) {
    const s = net.connect({ host: '${VIP}', port: 80, localAddress: src, localPort: sport });
    s.on('error', () => {});
    socks.push(s);
  }
  setTimeout(() => reply({ conn: fs.readFileSync('/proc/self/net/ip_vs_conn', 'utf8') }), job.waitMs);
});
process.stdin.on('end', () => process.exit(0));
`;

interface Client { proc: ChildProcessWithoutNullStreams; replies: AsyncIterator<string> }
const clients: Client[] = [];

async function ask(c: Client, job: object): Promise<string> {
  c.proc.stdin.write(`${JSON.stringify(job)}\n`);
  const timeout = new Promise<never>((_, rej) => setTimeout(() => rej(new Error('client: no answer in 60 s')), 60_000).unref());
  const r = await Promise.race([c.replies.next(), timeout]);
  if (r.done) throw new Error('client exited');
  return (JSON.parse(r.value) as { conn: string }).conn;
}

const hexIp = (h: string) => [0, 2, 4, 6].map((k) => parseInt(h.slice(k, k + 2), 16)).join('.');
function parseConn(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 7 || f[0] !== 'TCP') continue;
    m.set(`${hexIp(f[1]!)}:${parseInt(f[2]!, 16)}`, `${hexIp(f[5]!)}:${parseInt(f[6]!, 16)}`);
  }
  return m;
}

/** Opens `flows` in director `d`; the real server ('ADDR:PORT') each was scheduled to. */
async function land(d: 0 | 1, flows: Array<[string, number]>, expectScheduled = true): Promise<string[]> {
  let conns = parseConn(await ask(clients[d]!, { flows, waitMs: 300 }));
  for (let tries = 0; expectScheduled && tries < 10 && flows.some(([s, p]) => !conns.has(`${s}:${p}`)); tries++) {
    await new Promise((r) => setTimeout(r, 300));
    conns = parseConn(await ask(clients[d]!, { read: true }));
  }
  return flows.map(([s, p]) => conns.get(`${s}:${p}`) ?? 'none');
}

// Client addresses 10.200.x.y on lo; each flow a fresh source port.
let nextPort = 1024;
const port = () => nextPort++;
const clientAddr = (i: number) => `10.200.${1 + ((i / 250) | 0)}.${1 + (i % 250)}`;

const dests = (n: number) => Array.from({ length: n }, (_, i) => ({ address: `10.9.0.${i + 1}`, port: 8001 + i, forward: 'masq' as const, weight: 1 + (i % 3) }));
const state = (scheduler: StateService['scheduler'], ds: ReturnType<typeof dests>): LvsState => ({ services: [{ key: KEY, scheduler, destinations: ds }] });

describe.skipIf(skip)('directors compared, disruption predicted, judged by real connections', () => {
  const ipvs: Ipvs[] = [];

  beforeAll(async () => {
    for (const ns of NS) {
      createNetns(ns);
      await inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
      await inNs(ns, 'ip', 'addr', 'add', '10.200.0.1/16', 'dev', 'lo');
      await inNs(ns, 'ip', 'addr', 'add', `${VIP}/32`, 'dev', 'lo');
      await inNs(ns, 'ip', 'link', 'add', 'rs0', 'type', 'dummy');
      await inNs(ns, 'ip', 'addr', 'add', '10.9.0.254/24', 'dev', 'rs0');
      await inNs(ns, 'ip', 'link', 'set', 'rs0', 'up');
      ipvs.push(Ipvs.open({ netns: ns }));
      const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', CLIENT], { stdio: ['pipe', 'pipe', 'pipe'] });
      proc.stderr.on('data', (d) => process.stderr.write(`client ${ns}: ${d}`));
      clients.push({ proc, replies: createInterface({ input: proc.stdout })[Symbol.asyncIterator]() });
    }
  });

  afterAll(async () => {
    for (const c of clients) c.proc.stdin.end();
    for (const h of ipvs) h.close();
    await new Promise((r) => setTimeout(r, 200));
    for (const c of clients) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
    for (const ns of NS) deleteNetns(ns);
  });

  for (const scheduler of ['mh', 'sh'] as const) {
    it(`${scheduler}: the same desired state on both directors: the tables agree and so does every connection`, async () => {
      for (const h of ipvs) {
        await h.flush();
        await apply(h, state(scheduler, dests(5)));
      }
      // sloppy_tcp read through each namespace's Rtnl sysctl: on in dirA, off in dirB
      const rtnl = NS.map((ns) => Rtnl.open({ netns: ns }));
      let c;
      try {
        await rtnl[0]!.sysctl.set('net.ipv4.vs.sloppy_tcp', 1);
        await rtnl[1]!.sysctl.set('net.ipv4.vs.sloppy_tcp', 0);
        c = await compareDirectorHandles([{ name: 'dirA', ipvs: ipvs[0]!, sysctl: rtnl[0]!.sysctl }, { name: 'dirB', ipvs: ipvs[1]!, sysctl: rtnl[1]!.sysctl }]);
      } finally {
        for (const r of rtnl) r.close();
      }
      expect(c.warnings).toEqual([expect.stringMatching(/^dirB: net\.ipv4\.vs\.sloppy_tcp is 0/)]);
      expect(c.consistent, formatDirectorComparison(c).join('\n')).toBe(true);
      expect(c.services[0]).toMatchObject({ scheduler, hashed: true, slots: scheduler === 'mh' ? 4093 : 256, differingSlots: 0 });
      const flows = Array.from({ length: FLOWS }, (_, i): [string, number] => [clientAddr(i), port()]);
      const [a, b] = [await land(0, flows), await land(1, flows)];
      expect(a.filter((x, i) => x !== b[i])).toEqual([]);
      expect(new Set(a).size).toBeGreaterThan(2);
      console.log(`cluster-consistency ${scheduler}: same state: ${FLOWS} of ${FLOWS} connections reached the same real server on both directors`);
    });

    it(`${scheduler}: directors built in another destination order: the first differing slot is named, and real connections land there as named`, async () => {
      // dirB with ipvsadm, destinations added in ascending order: the kernel list is descending
      await ipvs[1]!.flush();
      await inNs(NS[1], 'ipvsadm', '-A', '-t', `${VIP}:80`, '-s', scheduler);
      for (const d of dests(5)) await inNs(NS[1], 'ipvsadm', '-a', '-t', `${VIP}:80`, '-r', `${d.address}:${d.port}`, '-m', '-w', String(d.weight));
      const c = await compareDirectorHandles([{ name: 'dirA', ipvs: ipvs[0]! }, { name: 'dirB', ipvs: ipvs[1]! }]);
      expect(c.consistent).toBe(false);
      const f = c.first!;
      expect(f).toMatchObject({ kind: 'slot', cause: 'destination order', directors: ['dirA', 'dirB'] });
      console.log(`cluster-consistency ${scheduler}: ${formatDirectorComparison(c).join(' | ')}`);
      // clients whose address hashes to the named slot (mh: hs(key) % M; sh: hash_32(key, 8))
      const nh = nativeHash();
      const slotOf = (a: number) => (scheduler === 'mh' ? nh.mhHashKey(a, 0, 0, false) % 4093 : nh.hash32(a, 8));
      const inSlot: string[] = [];
      for (let i = 0; i < 62500 && inSlot.length < 4; i++) {
        const addr = clientAddr(i);
        const n = addr.split('.').reduce((x, o) => x * 256 + Number(o), 0) >>> 0;
        if (slotOf(n) === f.slot) inSlot.push(addr);
      }
      expect(inSlot.length).toBeGreaterThan(0);
      const flows = inSlot.map((a): [string, number] => [a, port()]);
      expect(await land(0, flows)).toEqual(flows.map(() => f.servers![0]));
      expect(await land(1, flows)).toEqual(flows.map(() => f.servers![1]));
      // and over many clients: the directors disagree exactly where their tables do
      const [sa, sb] = await Promise.all(ipvs.map(async (h) => (await h.getService(KEY, { withDestinations: true }))!));
      const ta = new SchedulerTable(scheduler, sa!.destinations!), tb = new SchedulerTable(scheduler, sb!.destinations!);
      const many = Array.from({ length: FLOWS }, (_, i): [string, number] => [clientAddr(1000 + i), port()]);
      const [a, b] = [await land(0, many), await land(1, many)];
      const predictedDiffer = many.map(([s]) => `${ta.pick(s)!.address}` !== `${tb.pick(s)!.address}`);
      expect(many.map((_, i) => a[i] !== b[i])).toEqual(predictedDiffer);
      console.log(`cluster-consistency ${scheduler}: reversed order: slot ${f.slot} named (${f.servers!.join(' vs ')}), ${flows.length} clients there landed as named; ${predictedDiffer.filter(Boolean).length} of ${FLOWS} other clients disagreed between the directors, exactly those predicted (${c.services[0]!.differingSlots} of ${c.services[0]!.slots} slots differ)`);
    });

    it(`${scheduler}: predictDisruption before apply() names every client that changes real server`, async () => {
      await ipvs[0]!.flush();
      await apply(ipvs[0]!, state(scheduler, dests(6)));
      const planned = state(scheduler, dests(6).filter((d) => d.address !== '10.9.0.3').map((d) => (d.address === '10.9.0.5' ? { ...d, weight: 4 } : d)));
      const addrs = Array.from({ length: FLOWS }, (_, i) => clientAddr(3000 + i));
      const p = predictDisruption(await readState(ipvs[0]!), planned, { flows: addrs.map((a) => ({ src: a, dst: VIP, dport: 80 })) });
      const s = p.services[0]!;
      expect(s.status).toBe('predicted');
      const before = await land(0, addrs.map((a): [string, number] => [a, port()]));
      expect(before).toEqual(p.flows!.map((f) => f.before));
      await apply(ipvs[0]!, planned);
      const after = await land(0, addrs.map((a): [string, number] => [a, port()]));
      expect(after).toEqual(p.flows!.map((f) => f.after));
      const moved = before.filter((x, i) => x !== after[i]).length;
      expect(p.flows!.filter((f) => f.moved).length).toBe(moved);
      expect(moved).toBeGreaterThan(0);
      console.log(`cluster-consistency ${scheduler}: ${formatDisruption(p)[0]}; ${moved} of ${FLOWS} clients changed real server, each as predicted`);
    });

    it(`${scheduler} with the fallback flag: a server drained to weight 0 (its slots kept, its clients re-hashed) moves exactly the predicted clients`, async () => {
      const withFallback = (st: LvsState): LvsState => ({ services: st.services!.map((x) => ({ ...x, flags: { schedFallback: true } })) });
      await ipvs[0]!.flush();
      await apply(ipvs[0]!, withFallback(state(scheduler, dests(5))));
      const planned = withFallback(state(scheduler, dests(5).map((d) => (d.address === '10.9.0.2' ? { ...d, weight: 0 } : d))));
      const addrs = Array.from({ length: FLOWS }, (_, i) => clientAddr(6000 + i));
      const p = predictDisruption(await readState(ipvs[0]!), planned, { flows: addrs.map((a) => ({ src: a, dst: VIP, dport: 80 })) });
      const s = p.services[0]!;
      const before = await land(0, addrs.map((a): [string, number] => [a, port()]));
      expect(before).toEqual(p.flows!.map((f) => f.before));
      await apply(ipvs[0]!, planned);
      const after = await land(0, addrs.map((a): [string, number] => [a, port()]));
      expect(after).toEqual(p.flows!.map((f) => f.after));
      expect(after).not.toContain('10.9.0.2:8002');
      const moved = before.filter((x, i) => x !== after[i]).length;
      const drained = before.filter((x) => x === '10.9.0.2:8002').length;
      // mh keeps the drained server's slots (last_weight): only its clients move; sh rebuilds its
      // buckets from the new weights (weight 0 still takes one bucket per pass): others move too
      if (scheduler === 'mh') expect(moved).toBe(drained);
      else expect(moved).toBeGreaterThan(drained);
      console.log(`cluster-consistency ${scheduler} fallback: ${formatDisruption(p)[0]}; ${moved} of ${FLOWS} clients moved (${drained} were on the drained server), each to the predicted server${s.rehashedSlots ? ` (${s.rehashedSlots} slots re-hash by client)` : ''}`);
    });
  }
});
