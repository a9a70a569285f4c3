// The IPVS connection table (`ipvsadm -Lnc`) with live connections: listConnections() reads the
// table of the handle's namespace, not the caller's (two directors, each with its own entries, and
// the VM's root namespace with none of theirs), typed (TCP established through NAT, persistence
// templates, UDP, IPv6, the sip persistence engine's Call-ID); `lvskit -Lnc` prints what
// `ipvsadm -Lnc` prints, byte for byte except the expiry column, which ticks: ipvsadm's value must
// lie between two lvskit reads taken just before and just after it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { Ipvs, NetlinkSocket, Rtnl, listConnections, parseConnections, readConnectionTable, type IpvsConnection } from '../../lib/index.js';
import { runCli, type CliIO } from '../../lib/cli/run.js';
import { ip, skipUnless, useNetns } from '../helpers/kernel.js';
import { startNodeIn } from './ipvs-helpers.js';
import { inputOf } from '../helpers/cli.js';

const skip = skipUnless('ipvs');
const run = promisify(execFile);
const ipvsadm = async (ns: string, ...args: string[]) => (await run('ip', ['netns', 'exec', ns, 'ipvsadm', ...args])).stdout;
const nsRun = (ns: string, cmd: string, ...args: string[]) => run('ip', ['netns', 'exec', ns, cmd, ...args]);

const VIP_A = '192.168.20.1';
const VIP_B = '192.168.30.1';
const VIP6 = 'fd00::1';
const RS_A = '10.20.0.12';
const CALL_ID = 'a84b4c76e66710@pc33.example.com';

// Accepts connections and keeps them open.
const SERVER = `
require('net').createServer((s) => { s.on('error', () => {}); }).listen(8080, '0.0.0.0', () => console.log('ready'));
`;

// UDP to A (three flows) and B (one), a SIP OPTIONS over IPv6 (the sip engine keys on its
// Call-ID), and two TCP connections to A held open; prints 'ready' and stays until killed.
const CLIENT = `
const dgram = require('dgram'), net = require('net');
const [vipA, vipB, vip6, callId] = process.argv.slice(1);
const keep = [];
const send = (s, m, port, host) => new Promise((r, j) => s.send(m, port, host, (e) => (e ? j(e) : r())));
(async () => {
  for (let i = 0; i < 3; i++) { const s = dgram.createSocket('udp4'); keep.push(s); await send(s, 'x', 53, vipA); }
  { const s = dgram.createSocket('udp4'); keep.push(s); await send(s, 'y', 53, vipB); }
  { const s = dgram.createSocket('udp6'); keep.push(s);
    await send(s, 'OPTIONS sip:a@example.com SIP/2.0\\r\\nCall-ID: ' + callId + '\\r\\nCSeq: 1 OPTIONS\\r\\nContent-Length: 0\\r\\n\\r\\n', 5060, vip6); }
  for (let i = 0; i < 2; i++) await new Promise((res, rej) => { const c = net.connect(80, vipA, res); c.setTimeout(60000, () => rej(new Error('timeout'))); c.on('error', rej); c.on('data', () => {}); keep.push(c); });
  console.log('ready');
  setInterval(() => {}, 1000);
})().catch((e) => { console.error(e.message); process.exit(1); });
`;

describe.skipIf(skip)('IPVS connection table (ipvsadm -Lnc) with live connections', () => {
  const dA = useNetns('lvs-conn-a');
  const dB = useNetns('lvs-conn-b');
  const rs = useNetns('lvs-conn-rs');
  const cl = useNetns('lvs-conn-cl');
  const procs: ChildProcess[] = [];

  beforeAll(async () => {
    // client <-> director A (IPv4 and IPv6), client <-> director B
    ip(dA.name, 'link', 'add', 'ca', 'type', 'veth', 'peer', 'name', 'ea', 'netns', cl.name);
    ip(dB.name, 'link', 'add', 'cb', 'type', 'veth', 'peer', 'name', 'eb', 'netns', cl.name);
    ip(dA.name, 'addr', 'add', `${VIP_A}/24`, 'dev', 'ca');
    ip(dA.name, 'addr', 'add', `${VIP6}/64`, 'dev', 'ca', 'nodad');
    ip(dB.name, 'addr', 'add', `${VIP_B}/24`, 'dev', 'cb');
    ip(cl.name, 'addr', 'add', '192.168.20.2/24', 'dev', 'ea');
    ip(cl.name, 'addr', 'add', 'fd00::2/64', 'dev', 'ea', 'nodad');
    ip(cl.name, 'addr', 'add', '192.168.30.2/24', 'dev', 'eb');
    for (const [ns, dev] of [[dA.name, 'ca'], [dB.name, 'cb'], [cl.name, 'ea'], [cl.name, 'eb']] as const) ip(ns, 'link', 'set', dev, 'up');
    // director A <-> a real server (NAT: its replies come back through A); B's destination is a dummy
    ip(dA.name, 'link', 'add', 'ra', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', rs.name);
    ip(dA.name, 'addr', 'add', '10.20.0.1/24', 'dev', 'ra');
    ip(dA.name, 'addr', 'add', 'fd01::1/64', 'dev', 'ra', 'nodad');
    ip(dA.name, 'link', 'set', 'ra', 'up');
    ip(rs.name, 'addr', 'add', `${RS_A}/24`, 'dev', 'eth0');
    ip(rs.name, 'link', 'set', 'eth0', 'up');
    ip(rs.name, 'route', 'add', 'default', 'via', '10.20.0.1');
    ip(dB.name, 'link', 'add', 'rb', 'type', 'dummy');
    ip(dB.name, 'addr', 'add', '10.30.0.1/24', 'dev', 'rb');
    ip(dB.name, 'link', 'set', 'rb', 'up');
    await nsRun(dA.name, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');

    const a = Ipvs.open({ netns: dA.name });
    const b = Ipvs.open({ netns: dB.name });
    try {
      const tcp = { protocol: 'tcp' as const, address: VIP_A, port: 80 };
      const udp = { protocol: 'udp' as const, address: VIP_A, port: 53 };
      const sip = { protocol: 'udp' as const, address: VIP6, port: 5060 };
      await a
        .batch()
        .addService({ key: tcp, scheduler: 'rr', persistence: { timeout: 600 } })
        .addDestination(tcp, { address: RS_A, port: 8080, forward: 'masq' })
        .addService({ key: udp, scheduler: 'rr' })
        .addDestination(udp, { address: '10.20.0.11', port: 53, forward: 'masq' })
        .addService({ key: sip, scheduler: 'rr', persistence: { timeout: 120 }, persistenceEngine: 'sip' })
        .addDestination(sip, { address: 'fd01::13', port: 5060, forward: 'masq' })
        .run({ rollback: true });
      const ub = { protocol: 'udp' as const, address: VIP_B, port: 53 };
      await b.batch().addService({ key: ub, scheduler: 'rr' }).addDestination(ub, { address: '10.30.0.11', port: 53, forward: 'masq' }).run({ rollback: true });
    } finally {
      a.close();
      b.close();
    }
    await startNodeIn(rs.name, SERVER, [], 'server', (p) => procs.push(p));
    await startNodeIn(cl.name, CLIENT, [VIP_A, VIP_B, VIP6, CALL_ID], 'client', (p) => procs.push(p));
  });

  afterAll(() => {
    for (const p of procs) p.kill();
  });

  /** The table of `ns` once it has at least `n` entries (packets may still be on their way; bounded). */
  async function settled(ns: string, n: number): Promise<IpvsConnection[]> {
    for (let i = 0; ; i++) {
      const cs = await listConnections({ netns: ns });
      if (cs.length >= n || i >= 50) return cs;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it("lists each namespace's own table, typed", async () => {
    // A: 2 TCP + their persistence template, 3 UDP, the sip entry and its template; B: 1 UDP
    const a = await settled(dA.name, 8);
    const b = await settled(dB.name, 1);
    const brief = (c: IpvsConnection) => `${c.protocol} ${c.clientAddress}:${c.clientPort} ${c.virtualAddress}:${c.virtualPort} ${c.destinationAddress}:${c.destinationPort} ${c.state}`;
    expect(a.every((c) => c.virtualAddress === VIP_A || c.virtualAddress === VIP6), a.map(brief).join('\n')).toBe(true);
    expect(b.map(brief)).toEqual([expect.stringMatching(/^udp 192\.168\.30\.2:\d+ 192\.168\.30\.1:53 10\.30\.0\.11:53 UDP$/)]);

    const est = a.filter((c) => c.protocol === 'tcp' && c.state === 'ESTABLISHED');
    expect(est).toHaveLength(2);
    for (const c of est) {
      expect(c).toMatchObject({ protocolNumber: 6, family: 'inet', clientAddress: '192.168.20.2', virtualAddress: VIP_A, virtualPort: 80, destinationFamily: 'inet', destinationAddress: RS_A, destinationPort: 8080 });
      expect(c.clientPort).toBeGreaterThan(0);
      expect(c.expires).toBeGreaterThan(0);
      expect(c.expires).toBeLessThanOrEqual(900);
      expect(c.persistenceEngine).toBeUndefined();
    }
    // the TCP persistence template: client port 0; a template's state is NONE, or ASSURED once
    // its connections were answered (6.1: ip_vs_ctpl_state_name_table)
    const tpl = a.filter((c) => c.protocol === 'tcp' && c.clientPort === 0);
    expect(tpl, a.map(brief).join('\n')).toEqual([
      expect.objectContaining({ clientAddress: '192.168.20.2', virtualPort: 80, destinationAddress: RS_A, destinationPort: 8080 }),
    ]);
    expect(['NONE', 'ASSURED']).toContain(tpl[0]!.state);
    expect(tpl[0]!.expires).toBeLessThanOrEqual(600);
    expect(a.filter((c) => c.protocol === 'udp' && c.family === 'inet')).toHaveLength(3);
    // IPv6 through the sip engine: the template carries the engine's name and the Call-ID
    const v6 = a.filter((c) => c.family === 'inet6');
    expect(v6.length).toBeGreaterThanOrEqual(2);
    for (const c of v6) expect(c).toMatchObject({ protocol: 'udp', clientAddress: 'fd00::2', virtualAddress: VIP6, virtualPort: 5060, destinationFamily: 'inet6', destinationAddress: 'fd01::13', destinationPort: 5060 });
    expect(v6.filter((c) => c.persistenceEngine === 'sip').map((c) => c.persistenceData)).toContain(CALL_ID);

    // none of A's or B's entries in the caller's namespace (the VM's root)
    const root = await listConnections();
    expect(root.filter((c) => [VIP_A, VIP_B, VIP6].includes(c.virtualAddress))).toEqual([]);
    // a handle's socket works as the source too, and the raw text is what ipvsadm reads
    const rtnl = Rtnl.open({ netns: dB.name });
    try {
      expect([...parseConnections(readConnectionTable(rtnl))].map(brief)).toEqual(b.map(brief));
    } finally {
      rtnl.close();
    }
    // and the Ipvs handle's own method reads its namespace's table (B's, not the caller's)
    const ipvsB = Ipvs.open({ netns: dB.name });
    try {
      expect((await ipvsB.listConnections()).map(brief)).toEqual(b.map(brief));
    } finally {
      ipvsB.close();
    }
    expect(readConnectionTable({ netns: dA.name })).toMatch(/^Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n/);
  });

  it('/proc/net from the helper thread is the process\'s namespace, which is why /proc/thread-self/net is read', async () => {
    await settled(dA.name, 8);
    const sock = NetlinkSocket.open('route', { netns: dA.name });
    try {
      const viaProcNet = sock.readNamespaceFile('/proc/net/ip_vs_conn');
      const viaThread = readConnectionTable(sock);
      // C0A81401 = 192.168.20.1 (A's VIP) as the kernel writes it
      expect(viaThread).toContain(' C0A81401 0050 ');
      expect(viaProcNet).not.toContain(' C0A81401 ');
    } finally {
      sock.close();
    }
  });

  /** lvskit in process (a node start costs seconds under emulation). */
  async function lvskit(args: string[]): Promise<string> {
    let stdout = '';
    let stderr = '';
    const io: CliIO = {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      input: inputOf(''),
      isTTY: false,
      openIpvs: (n) => Ipvs.open(n ? { netns: n } : {}),
      openRtnl: (n) => Rtnl.open(n ? { netns: n } : {}),
    };
    const status = await runCli(['--netns', dA.name, ...args], io);
    expect(status, stderr).toBe(0);
    return stdout;
  }

  const EXPIRE = /^(\S+ +)(\d\d):(\d\d)( *)/;
  const seconds = (line: string) => {
    const m = EXPIRE.exec(line)!;
    return Number(m[2]) * 60 + Number(m[3]);
  };
  /** The line with ipvsadm's expiry put in place of ours (same width: MM:SS). */
  const withExpiryOf = (ours: string, theirs: string) => ours.replace(EXPIRE, (_m, a: string, _mm, _ss, b: string) => `${a}${EXPIRE.exec(theirs)![2]}:${EXPIRE.exec(theirs)![3]}${b}`);

  for (const args of [['-Lnc'], ['-L', '-n', '-c', '--persistent-conn']]) {
    it(`lvskit ${args.join(' ')} = ipvsadm ${args.join(' ')} (expiry between two lvskit reads around ipvsadm's)`, async () => {
      await settled(dA.name, 8);
      let last = '';
      for (let attempt = 0; attempt < 5; attempt++) {
        const before = (await lvskit(args)).split('\n');
        const ref = (await ipvsadm(dA.name, ...args)).split('\n');
        const after = (await lvskit(args)).split('\n');
        // an entry that came or went between the reads: read again (bounded)
        const shape = (ls: string[]) => ls.map((l) => l.replace(EXPIRE, '$1')).join('\n');
        if (shape(before) !== shape(ref) || shape(after) !== shape(ref)) {
          last = `${before.join('\n')}\n--- ipvsadm\n${ref.join('\n')}`;
          continue;
        }
        expect(ref.length).toBeGreaterThan(10);
        expect(before.slice(0, 2)).toEqual(ref.slice(0, 2));
        for (let i = 2; i < ref.length; i++) {
          if (ref[i] === '') {
            expect(before[i]).toBe('');
            continue;
          }
          // every byte but the expiry is the same, and ipvsadm's expiry was read between ours
          expect(withExpiryOf(before[i]!, ref[i]!)).toBe(ref[i]);
          expect(seconds(ref[i]!), ref[i]).toBeLessThanOrEqual(seconds(before[i]!));
          expect(seconds(ref[i]!), ref[i]).toBeGreaterThanOrEqual(seconds(after[i]!));
        }
        if (args.includes('--persistent-conn')) expect(ref.join('\n')).toContain(` ${'sip'.padEnd(18)} ${CALL_ID}`);
        return;
      }
      throw new Error(`the table kept changing between reads:\n${last}`);
    });
  }

  it('-L -c, --list --connection --numeric and -Lcn are the same command', async () => {
    await settled(dA.name, 8);
    const shape = (t: string) => t.replace(/^(\S+ +)\d\d:\d\d/gm, '$1');
    const one = shape(await lvskit(['-Lnc']));
    expect(shape(await lvskit(['--list', '--connection', '--numeric']))).toBe(one);
    expect(shape(await lvskit(['-Lcn']))).toBe(one);
  });
});
