// sh, dh and mh predictions against where real connections land inside IPVS. Runs where the
// kernel has IPVS (the lab VM via `npm test`).
//
// Set-up with the real ipvsadm (an independent reference), inside a namespace this file creates.
// Prediction: lvskit's schedulerForService() fed the service and destinations dumped over netlink
// (kernel list order, newest first; real ports as the kernel stores them) plus the last non-zero
// weights this file tracks (mh keeps a drained server's slots; a dump does not show last_weight).
// Ground truth: /proc/net/ip_vs_conn read inside the namespace, client address:port -> real
// server; a flow with no entry was not scheduled (no usable destination).
//
// Pitfalls this file is built around (docs/hashing.md, KERNEL-FACTS "IPVS schedulers"):
//  - a SYN from a client address:port that still has a connection entry reuses it and is not
//    scheduled again: every flow of the whole file uses its own fresh source address:port, and
//    only the flows opened after the latest change are checked;
//  - `ipvsadm -L` sorts destinations by address unless --nosort: the order the schedulers use is
//    the kernel's list order, which the netlink dump returns (asserted below: newest first);
//  - ipvsadm forces a DR/tunnel destination's port to the service's port: the destinations here
//    are NAT (-m) with their own ports, so mh's hash of the real server's port is exercised;
//  - dh hashes the packet's destination address: through one VIP every flow lands on one server,
//    so dh runs as a firewall-mark service over a /24 of VIPs (an lvskit nf_tables rule sets the mark).
// IPVS schedules locally generated connections too: the clients are a Node process inside the
// namespace, bound to addresses of a /16 on lo; their SYNs leave through a dummy device and get
// no answer (scheduling happens on the first packet). All children are asynchronous: long
// synchronous spawns starve vitest's worker RPC under emulation.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ipvs, Nft, type ServiceKey } from '../../lib/index.js';
import { schedulerForService, type HashScheduler } from '../../lib/hash/index.js';
import { createNetns, deleteNetns } from '../../lib/socket.js';
import { skipUnless } from '../helpers/kernel.js';

const run = promisify(execFile);
const skip = skipUnless('ipvs');
const NS = `lvskit-sched-${process.pid}`;
const VIP = '198.51.100.10';
const DH_VIPS = '203.0.113.0/24';
const FWMARK = 7;
const FLOWS = 300;

const inNs = async (cmd: string, ...args: string[]): Promise<string> =>
  (await run('ip', ['netns', 'exec', NS, cmd, ...args], { encoding: 'utf8', timeout: 60_000 })).stdout;

// One client process for the whole file, inside the namespace. Per job (a JSON line): drops the
// previous job's sockets, opens one TCP connection per flow [src, sport, dst] (connect() sends the
// SYN synchronously, and IPVS schedules it on the way out), then after `waitMs` answers with the
// per-flow errors and /proc/net/ip_vs_conn as this namespace shows it. `{ read: true }` only
// re-reads the table.
const CLIENT = `
const net = require('node:net');
const fs = require('node:fs');
let socks = [];
const reply = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const job = JSON.parse(line);
  if (job.read) return reply({ errors: {}, conn: fs.readFileSync('/proc/self/net/ip_vs_conn', 'utf8') });
  for (const s of socks) s.destroy();
  socks = [];
  const errors = {};
  job.flows.forEach(([src, sport, dst], i) => {
    const s = net.connect({ host: dst, port: job.port, localAddress: src, localPort: sport });
    s.on('error', (e) => { errors[i] = e.code || e.message; });
    socks.push(s);
  });
  setTimeout(() => reply({ errors, conn: fs.readFileSync('/proc/self/net/ip_vs_conn', 'utf8') }), job.waitMs);
});
process.stdin.on('end', () => process.exit(0));
`;

let client: ChildProcessWithoutNullStreams | undefined;
let replies: AsyncIterator<string>;

async function ask(job: object): Promise<{ errors: Record<string, string>; conn: string }> {
  client!.stdin.write(`${JSON.stringify(job)}\n`);
  const timeout = new Promise<never>((_, rej) => setTimeout(() => rej(new Error('client: no answer in 60 s')), 60_000).unref());
  const r = await Promise.race([replies.next(), timeout]);
  if (r.done) throw new Error('client exited');
  return JSON.parse(r.value);
}

const hexIp = (h: string) => [0, 2, 4, 6].map((k) => parseInt(h.slice(k, k + 2), 16)).join('.');

/** /proc/net/ip_vs_conn: client "address:port" -> real server address (the file's fields are hex). */
function parseConn(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 7 || f[0] !== 'TCP') continue;
    m.set(`${hexIp(f[1]!)}:${parseInt(f[2]!, 16)}`, hexIp(f[5]!));
  }
  return m;
}

// Fresh flows for the whole file, deterministic: each client address is used by two flows with
// different ports (so the port flag matters), addresses 10.200.1.1 .. 10.200.250.250, ports
// spread over 1024..65023.
let nextFlow = 0;
function freshFlows(n: number, dst: (i: number) => string): Array<[string, number, string]> {
  const out: Array<[string, number, string]> = [];
  for (let k = 0; k < n; k++, nextFlow++) {
    const a = nextFlow >> 1;
    const src = `10.200.${1 + ((a / 250) | 0)}.${1 + (a % 250)}`;
    const sport = 1024 + ((nextFlow * 40503 + 12345) % 64000);
    out.push([src, sport, dst(k)]);
  }
  return out;
}

describe.skipIf(skip)('IPVS scheduler predictions agree with the kernel', () => {
  let ipvs: Ipvs;

  beforeAll(async () => {
    createNetns(NS);
    await inNs('ip', 'link', 'set', 'lo', 'up');
    await inNs('ip', 'addr', 'add', '10.200.0.1/16', 'dev', 'lo'); // the whole /16 is local (lo)
    await inNs('ip', 'addr', 'add', `${VIP}/32`, 'dev', 'lo');
    await inNs('ip', 'addr', 'add', DH_VIPS, 'dev', 'lo');
    // the real servers' subnet: NAT'ed SYNs leave here and vanish
    await inNs('ip', 'link', 'add', 'rs0', 'type', 'dummy');
    await inNs('ip', 'addr', 'add', '10.9.0.254/24', 'dev', 'rs0');
    await inNs('ip', 'link', 'set', 'rs0', 'up');
    // nft add table ip lvskit; add chain ip lvskit out { type filter hook output priority mangle; };
    // add rule ip lvskit out ip daddr DH_VIPS meta mark set FWMARK
    const nft = Nft.open({ netns: NS });
    try {
      await nft.replaceTable({
        family: 'ip', name: 'lvskit',
        chains: [{ name: 'out', hook: 'output', type: 'filter', priority: 'mangle' }],
        rules: [{ chain: 'out', match: { destination: DH_VIPS }, setMark: FWMARK }],
      });
    } finally {
      nft.close();
    }
    ipvs = Ipvs.open({ netns: NS });
    client = spawn('ip', ['netns', 'exec', NS, process.execPath, '-e', CLIENT], { stdio: ['pipe', 'pipe', 'pipe'] });
    client.stderr.on('data', (d) => process.stderr.write(`client: ${d}`));
    replies = createInterface({ input: client.stdout })[Symbol.asyncIterator]();
  });

  afterAll(async () => {
    client?.stdin.end();
    ipvs?.close();
    await new Promise((r) => setTimeout(r, 200));
    if (client && client.exitCode === null) client.kill('SIGKILL');
    deleteNetns(NS);
  });

  const cases: Array<{ sched: HashScheduler; flags: string[] }> = [
    { sched: 'sh', flags: [] },
    { sched: 'sh', flags: ['-b', 'sh-fallback,sh-port'] },
    { sched: 'mh', flags: [] },
    { sched: 'mh', flags: ['-b', 'mh-fallback,mh-port'] },
    { sched: 'dh', flags: [] },
  ];
  for (const c of cases) {
    it(`${c.sched} ${c.flags.join(' ')}: add, remove + re-add, reweight + drain + zero-weight add`, async () => {
      const fw = c.sched === 'dh';
      const svcArgs = fw ? ['-f', String(FWMARK)] : ['-t', `${VIP}:80`];
      const key: ServiceKey = fw ? { fwmark: FWMARK } : { protocol: 'tcp', address: VIP, port: 80 };
      // dh: each flow to one of the /24's addresses (the mark sends them all to the service)
      const dst = fw ? (i: number) => `203.0.113.${1 + ((i * 97) % 254)}` : () => VIP;
      await inNs('ipvsadm', '-C');
      await inNs('ipvsadm', '-A', ...svcArgs, '-s', c.sched, ...c.flags);

      const real = (i: number) => `10.9.0.${i + 1}`;
      const port = (i: number) => 8001 + i;
      // this file's model of the kernel: list order (newest first) and last non-zero weights
      let order: string[] = [];
      const lastWeights: Record<string, number> = {};
      const addDest = async (i: number, w: number) => {
        await inNs('ipvsadm', '-a', ...svcArgs, '-r', `${real(i)}:${port(i)}`, '-m', '-w', String(w));
        order.unshift(real(i));
        lastWeights[real(i)] = w; // an add sets last_weight, 0 included
      };
      const editDest = async (i: number, w: number) => {
        await inNs('ipvsadm', '-e', ...svcArgs, '-r', `${real(i)}:${port(i)}`, '-m', '-w', String(w));
        if (w !== 0) lastWeights[real(i)] = w;
      };
      const delDest = async (i: number) => {
        await inNs('ipvsadm', '-d', ...svcArgs, '-r', `${real(i)}:${port(i)}`);
        order = order.filter((a) => a !== real(i));
        delete lastWeights[real(i)];
      };

      const counts: number[] = [];
      const unscheduled: number[] = []; // flows with no usable server (drained, no fallback)
      const check = async (step: string) => {
        const svc = (await ipvs.getService(key, { withDestinations: true }))!;
        const dests = svc.destinations!;
        expect(dests.map((d) => d.address), `${step}: dump order = newest first`).toEqual(order);
        expect(dests.map((d) => d.port)).toEqual(order.map((a) => port(Number(a.split('.')[3]) - 1)));
        expect(svc.flags.schedFallback ?? false).toBe(c.flags.length > 0);
        expect(svc.flags.schedPort ?? false).toBe(c.flags.length > 0);
        const table = schedulerForService(svc, dests, { lastWeights });

        const flows = freshFlows(FLOWS, dst);
        const predicted = flows.map(([src, sport, d]) => (fw ? table.pick(d) : table.pick(src, sport, 6))?.address ?? 'none');
        let r = await ask({ flows, port: 80, waitMs: 300 });
        const sendErrors = Object.entries(r.errors).filter(([, e]) => e !== 'ECONNREFUSED');
        expect(sendErrors, `${step}: connections that could not be opened`).toEqual([]);
        let conns = parseConn(r.conn);
        // the table is read right after the SYNs went out; re-read (bounded) if a flow predicted
        // to be scheduled is not there yet
        for (let tries = 0; tries < 10 && flows.some(([s, p], i) => predicted[i] !== 'none' && !conns.has(`${s}:${p}`)); tries++) {
          await new Promise((res) => setTimeout(res, 300));
          r = await ask({ read: true });
          conns = parseConn(r.conn);
        }
        const actual = flows.map(([s, p]) => conns.get(`${s}:${p}`) ?? 'none');
        const agreed = actual.filter((a, i) => a === predicted[i]).length;
        const spread = (xs: string[]) => Object.entries(xs.reduce<Record<string, number>>((m, x) => ((m[x] = (m[x] ?? 0) + 1), m), {})).sort().map(([k, v]) => `${k}=${v}`).join(' ');
        const bad = flows.map((f, i) => [f, predicted[i], actual[i]] as const).filter(([, p, a]) => p !== a).slice(0, 5);
        expect(agreed, `${step}: predicted ${spread(predicted)}; kernel ${spread(actual)}; first disagreements ${JSON.stringify(bad)}`).toBe(FLOWS);
        // the check must not be trivial: flows really reached several servers (dh and sh too)
        expect(new Set(actual.filter((a) => a !== 'none')).size, `${step}: servers reached`).toBeGreaterThan(1);
        counts.push(agreed);
        unscheduled.push(actual.filter((a) => a === 'none').length);
        return new Set(actual);
      };

      for (let i = 0; i < 5; i++) await addDest(i, 1 + i);
      await check('5 destinations, weights 1..5');
      await delDest(2);
      await check('10.9.0.3 removed');
      await addDest(2, 3);
      await check('10.9.0.3 re-added (now first in the list)');
      await editDest(0, 7);
      await editDest(4, 0); // drained: keeps its last weight 5 (mh keeps its slots)
      await addDest(5, 0); // added with weight 0: last weight 0, no mh slots
      const seen = await check('reweighted 10.9.0.1 to 7, drained 10.9.0.5, added 10.9.0.6 with weight 0');
      expect(seen.has(real(4)) || seen.has(real(5)), 'a weight-0 server got a new connection').toBe(false);
      await inNs('ipvsadm', '-D', ...svcArgs);
      console.log(`scheduler-agreement ${c.sched} ${c.flags.join(' ')}: ${counts.join(' + ')} = ${counts.reduce((a, b) => a + b, 0)}/${counts.length * FLOWS} connections agreed (unscheduled per step, as predicted: ${unscheduled.join(' ')})`);
    });
  }
});
