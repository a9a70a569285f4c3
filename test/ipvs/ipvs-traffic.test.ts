// Real traffic through IPVS: client -> director -> three real servers, each in its own namespace.
// A NAT service (VIP:80 -> RS:8080) and a DR service (VIP on the real servers' lo) carry real TCP
// connections; destination counters and 64-bit stats move as expected and agree exactly with
// `ipvsadm -Ln --stats --exact`. DR replies go straight to the client (source routing on the real
// servers over a second client link on the servers' segment), so the director never sees them;
// NAT replies go back through the director, which must rewrite them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { Ipvs, type Destination, type ServiceKey, type Stats } from '../../lib/index.js';
import { ip, skipUnless, useNetns } from '../helpers/kernel.js';
import { ipvsadm, nsExec, startNodeIn } from './ipvs-helpers.js';

const skip = skipUnless('ipvs');

const NAT_VIP = '192.168.10.100';
const DR_VIP = '192.168.10.200';
const NAT: ServiceKey = { protocol: 'tcp', address: NAT_VIP, port: 80 };
const DR: ServiceKey = { protocol: 'tcp', address: DR_VIP, port: 80 };
const RS = ['10.10.0.11', '10.10.0.12', '10.10.0.13'];
const PAYLOAD = 20000; // bytes each server sends per connection

// Each real server answers every connection with its name and PAYLOAD bytes, on 80 and 8080.
const SERVER = `
const net = require('net');
const name = process.argv[1];
for (const port of [80, 8080]) {
  net.createServer((s) => { s.on('error', () => {}); s.end(name + ':' + 'x'.repeat(${PAYLOAD})); }).listen(port, '0.0.0.0');
}
setTimeout(() => console.log('ready'), 50);
`;

// Opens N connections one after another to host:80 and prints which server answered each.
const CLIENT = `
const net = require('net');
const [host, n] = [process.argv[1], Number(process.argv[2])];
(async () => {
  const seen = [];
  for (let i = 0; i < n; i++) {
    seen.push(await new Promise((res, rej) => {
      let buf = '';
      const s = net.connect(80, host);
      s.setTimeout(20000, () => rej(new Error('timeout')));
      s.on('data', (d) => (buf += d));
      s.on('end', () => res(buf.slice(0, buf.indexOf(':')) + '/' + buf.length));
      s.on('error', rej);
    }));
  }
  console.log(JSON.stringify(seen));
})().catch((e) => { console.error(e.message); process.exit(1); });
`;

// Holds one connection open until killed.
const HOLD = `
const s = require('net').connect(80, process.argv[1]);
s.on('data', () => {});
s.on('connect', () => console.log('connected'));
s.on('end', () => {});
setInterval(() => {}, 1000);
`;

function sysctl(ns: string, kv: string): void {
  nsExec(ns, 'sysctl', ['-q', '-w', kv]);
}

function sumStats(ds: Destination[], f: keyof Stats): bigint {
  return ds.reduce((a, d) => a + d.stats![f], 0n);
}

/** Parses `ipvsadm -Ln --stats --exact` into address:port -> [conns, inpkts, outpkts, inbytes, outbytes]. */
function ipvsadmStats(ns: string): Map<string, bigint[]> {
  const m = new Map<string, bigint[]>();
  let svc = '';
  for (const line of ipvsadm(ns, '-Ln', '--stats', '--exact').split('\n')) {
    const s = line.match(/^TCP\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/);
    if (s) {
      svc = s[1]!;
      m.set(svc, s.slice(2).map(BigInt));
      continue;
    }
    const d = line.match(/^\s+->\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/);
    if (d) m.set(`${svc} -> ${d[1]}`, d.slice(2).map(BigInt));
  }
  return m;
}

const statList = (s: Stats) => [s.connections, s.packetsIn, s.packetsOut, s.bytesIn, s.bytesOut];

/**
 * The kernel's stats counters are summed from per-CPU counters by its estimator every 2 s, and
 * closing packets may still arrive after the client finished: read until lvskit's counters are
 * the same before and after ipvsadm's read and cover `minConns` connections, then compare (it
 * retries until stable; no time is asserted).
 */
async function settledConnections(ipvs: Ipvs, key: ServiceKey, atLeast: bigint): Promise<Destination[]> {
  let last = '';
  for (let attempt = 0; ; attempt++) {
    const ds = await ipvs.listDestinations(key);
    const sum = ds.reduce((a, d) => a + d.stats!.connections, 0n);
    const sig = ds.map((d) => `${d.address}=${d.stats!.connections}`).join(',');
    if ((sum >= atLeast && sig === last) || attempt >= 40) return ds;
    last = sum >= atLeast ? sig : '';
    await new Promise((r) => setTimeout(r, 600));
  }
}

/**
 * Closing packets (the last ACKs) may still be arriving when the client has finished: read until
 * lvskit's counters are the same before and after ipvsadm's read, then compare (no timing
 * assumption: it retries until stable).
 */
async function stableComparison(ipvs: Ipvs, ns: string, key: ServiceKey, minConns: bigint) {
  await settledConnections(ipvs, key, minConns);
  for (let attempt = 0; ; attempt++) {
    const a = (await ipvs.getService(key, { withDestinations: true }))!;
    const ref = ipvsadmStats(ns);
    const b = (await ipvs.getService(key, { withDestinations: true }))!;
    const same = JSON.stringify([a.stats, a.destinations!.map((d) => d.stats)], (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) ===
      JSON.stringify([b.stats, b.destinations!.map((d) => d.stats)], (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    if (same || attempt >= 50) return { svc: b, ref };
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.skipIf(skip)('IPVS with real traffic', () => {
  const dir = useNetns('lvs-dir');
  const cli = useNetns('lvs-cli');
  const rs = [useNetns('lvs-rs1'), useNetns('lvs-rs2'), useNetns('lvs-rs3')];
  const servers: ChildProcess[] = [];
  let ipvs: Ipvs;

  beforeAll(async () => {
    const D = dir.name;
    // client <-> director
    ip(D, 'link', 'add', 'dc', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', cli.name);
    ip(D, 'addr', 'add', '192.168.10.1/24', 'dev', 'dc');
    ip(D, 'addr', 'add', `${NAT_VIP}/24`, 'dev', 'dc');
    ip(D, 'addr', 'add', `${DR_VIP}/24`, 'dev', 'dc');
    ip(D, 'link', 'set', 'dc', 'up');
    ip(cli.name, 'addr', 'add', '192.168.10.2/24', 'dev', 'eth0');
    ip(cli.name, 'link', 'set', 'eth0', 'up');
    ip(cli.name, 'route', 'add', 'default', 'via', '192.168.10.1');
    // director bridge <-> real servers (one L2 segment, as DR needs)
    ip(D, 'link', 'add', 'br0', 'type', 'bridge');
    ip(D, 'addr', 'add', '10.10.0.1/24', 'dev', 'br0');
    ip(D, 'link', 'set', 'br0', 'up');
    sysctl(D, 'net.ipv4.ip_forward=1');
    // The client's second link, on the servers' segment: the DR return path.
    ip(D, 'link', 'add', 'cb', 'type', 'veth', 'peer', 'name', 'eth1', 'netns', cli.name);
    ip(D, 'link', 'set', 'cb', 'master', 'br0', 'up');
    ip(cli.name, 'addr', 'add', '10.10.0.50/24', 'dev', 'eth1');
    ip(cli.name, 'link', 'set', 'eth1', 'up');
    sysctl(cli.name, 'net.ipv4.conf.all.rp_filter=0');
    sysctl(cli.name, 'net.ipv4.conf.eth1.rp_filter=0');
    rs.forEach((r, i) => {
      ip(D, 'link', 'add', `r${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', r.name);
      ip(D, 'link', 'set', `r${i}`, 'master', 'br0', 'up');
      ip(r.name, 'addr', 'add', `${RS[i]}/24`, 'dev', 'eth0');
      ip(r.name, 'link', 'set', 'eth0', 'up');
      ip(r.name, 'route', 'add', 'default', 'via', '10.10.0.1');
      // Replies from the VIP (DR) go straight to the client; NAT replies via the director.
      ip(r.name, 'rule', 'add', 'from', DR_VIP, 'table', '100');
      ip(r.name, 'route', 'add', 'default', 'via', '10.10.0.50', 'table', '100');
      // DR: the VIP on lo, never answered for in ARP.
      ip(r.name, 'addr', 'add', `${DR_VIP}/32`, 'dev', 'lo');
      sysctl(r.name, 'net.ipv4.conf.all.arp_ignore=1');
      sysctl(r.name, 'net.ipv4.conf.all.arp_announce=2');
      sysctl(r.name, 'net.ipv4.conf.all.rp_filter=0');
      sysctl(r.name, 'net.ipv4.conf.eth0.rp_filter=0');
    });
    await Promise.all(rs.map((r, i) => startNodeIn(r.name, SERVER, [`rs${i + 1}`], `server rs${i + 1}`, (p) => servers.push(p))));
    ipvs = Ipvs.open({ netns: D });
    await ipvs
      .batch()
      .addService({ key: NAT, scheduler: 'rr' })
      .addService({ key: DR, scheduler: 'rr' })
      .addDestination(NAT, { address: RS[0]!, port: 8080, forward: 'masq' })
      .addDestination(NAT, { address: RS[1]!, port: 8080, forward: 'masq' })
      .addDestination(NAT, { address: RS[2]!, port: 8080, forward: 'masq' })
      .addDestination(DR, { address: RS[0]!, port: 80, forward: 'route' })
      .addDestination(DR, { address: RS[1]!, port: 80, forward: 'route' })
      .addDestination(DR, { address: RS[2]!, port: 80, forward: 'route' })
      .run({ rollback: true });
  });

  afterAll(() => {
    for (const p of servers) p.kill();
    ipvs?.close();
  });

  // Asynchronous on purpose: a child blocking the worker's event loop for minutes under
  // emulation makes vitest's own worker RPC time out.
  function runClient(vip: string, n: number): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const p = spawn('ip', ['netns', 'exec', cli.name, process.execPath, '-e', CLIENT, vip, String(n)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout!.on('data', (d) => (out += d));
      p.stderr!.on('data', (d) => (err += d));
      p.once('error', reject);
      p.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as string[]) : reject(new Error(`client exited ${code}: ${err}`))));
    });
  }

  it('NAT: connections spread over the three real servers; counters and stats move and match ipvsadm exactly', async () => {
    const n = 9;
    const seen = await runClient(NAT_VIP, n);
    expect(seen).toHaveLength(n);
    for (const s of seen) expect(s).toMatch(new RegExp(`^rs[123]/${PAYLOAD + 4}$`));
    // rr over three: each exactly three times.
    for (const name of ['rs1', 'rs2', 'rs3']) expect(seen.filter((s) => s.startsWith(name + '/'))).toHaveLength(3);
    const { svc, ref } = await stableComparison(ipvs, dir.name, NAT, 9n);
    const ds = svc.destinations!;
    for (const d of ds) {
      expect(d.stats!.connections).toBe(3n);
      expect(d.inactiveConnections + d.activeConnections).toBeGreaterThan(0); // closed ones linger in TIME_WAIT/FIN
      expect(d.stats!.packetsOut).toBeGreaterThan(0n); // NAT: replies come back through the director
      expect(d.stats!.bytesOut).toBeGreaterThan(BigInt(3 * PAYLOAD));
    }
    expect(svc.stats!.connections).toBe(BigInt(n));
    expect(svc.stats!.bytesOut).toBe(sumStats(ds, 'bytesOut'));
    expect(svc.stats!.packetsIn).toBe(sumStats(ds, 'packetsIn'));
    expect(statList(svc.stats!)).toEqual(ref.get(`${NAT_VIP}:80`));
    for (const d of ds) expect(statList(d.stats!)).toEqual(ref.get(`${NAT_VIP}:80 -> ${d.address}:8080`));
  });

  it('DR: replies bypass the director (no outgoing packets counted), counters match ipvsadm exactly', async () => {
    const n = 6;
    const seen = await runClient(DR_VIP, n);
    for (const name of ['rs1', 'rs2', 'rs3']) expect(seen.filter((s) => s.startsWith(name + '/'))).toHaveLength(2);
    const { svc, ref } = await stableComparison(ipvs, dir.name, DR, 6n);
    for (const d of svc.destinations!) {
      expect(d.stats!.connections).toBe(2n);
      expect(d.stats!.packetsIn).toBeGreaterThan(0n);
      expect(d.stats!.packetsOut).toBe(0n);
      expect(d.stats!.bytesOut).toBe(0n);
    }
    expect(statList(svc.stats!)).toEqual(ref.get(`${DR_VIP}:80`));
    for (const d of svc.destinations!) expect(statList(d.stats!)).toEqual(ref.get(`${DR_VIP}:80 -> ${d.address}:80`));
  });

  it('an open connection shows as active on exactly one destination; a weight-0 server gets no new ones', async () => {
    await ipvs.editDestination(NAT, { address: RS[0]!, port: 8080 }, { weight: 0 });
    const base = (await settledConnections(ipvs, NAT, 9n)).reduce((a, d) => a + d.stats!.connections, 0n);
    const hold = spawn('ip', ['netns', 'exec', cli.name, process.execPath, '-e', HOLD, NAT_VIP], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((res, rej) => {
        hold.stdout!.once('data', () => res());
        hold.once('exit', (c) => rej(new Error(`holder exited ${c}`)));
      });
      // The server ends its side at once; the connection stays ESTABLISHED from IPVS's view
      // until the client closes too, or moves to an inactive state: either way it is counted.
      const ds = await settledConnections(ipvs, NAT, base + 1n);
      const before = new Map(ds.map((d) => [d.address, d.stats!.connections]));
      const seen = await runClient(NAT_VIP, 4);
      expect(seen.some((s) => s.startsWith('rs1/'))).toBe(false);
      const after = await settledConnections(ipvs, NAT, base + 5n);
      const rs1 = after.find((d) => d.address === RS[0])!;
      expect(rs1.weight).toBe(0);
      expect(rs1.stats!.connections).toBe(before.get(RS[0]!));
      const grown = after.reduce((a, d) => a + (d.stats!.connections - before.get(d.address)!), 0n);
      expect(grown).toBe(4n);
      const total = after.reduce((a, d) => a + d.activeConnections + d.inactiveConnections, 0);
      expect(total).toBeGreaterThan(0);
    } finally {
      hold.kill();
    }
  });

  it('zero resets one service\'s counters and leaves the other\'s', async () => {
    const drBefore = (await ipvs.getService(DR))!.stats!;
    await ipvs.zero(NAT);
    const nat = (await ipvs.getService(NAT, { withDestinations: true }))!;
    expect(nat.stats!.connections).toBe(0n);
    for (const d of nat.destinations!) expect(d.stats!.connections).toBe(0n);
    expect((await ipvs.getService(DR))!.stats!.connections).toBe(drBefore.connections);
  });
});
