// A firewall-mark service end to end, with no fork of nft or ipvsadm: an lvskit nf_tables rule
// marks TCP to the VIP's ports 80 and 443 (a named inet_service set), an lvskit IPVS service on
// that mark balances them with persistence, and real connections from each client to :80 and
// :443 land on the same real server (the persistence template covers both ports), while :8080
// (unmarked) is not balanced. Runs where the kernel has IPVS (the lab VM via `npm test`).
//
// As in scheduler-agreement.test.ts: the clients are a Node process inside the namespace bound to
// addresses on lo; IPVS schedules their locally generated SYNs (ip_vs_local_request4 at
// LOCAL_OUT, after the mangle-priority chain that set the mark), NATed to real servers behind a
// dummy device that drops them: scheduling happens on the first packet.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ipvs, Nft, type IpvsConnection } from '../../lib/index.js';
import { createNetns, deleteNetns } from '../../lib/socket.js';
import { skipUnless } from '../helpers/kernel.js';

const run = promisify(execFile);
const skip = skipUnless('ipvs');
const NS = `lvskit-fwmark-${process.pid}`;
const VIP = '192.0.2.80';
const MARK = 0x50;
const CLIENTS = 12;
const REALS = ['10.9.0.1', '10.9.0.2', '10.9.0.3'];

const inNs = async (cmd: string, ...args: string[]): Promise<string> =>
  (await run('ip', ['netns', 'exec', NS, cmd, ...args], { encoding: 'utf8', timeout: 60_000 })).stdout;

// Opens one connection per [src, port] to the VIP, waits, and exits (the SYNs are what IPVS schedules).
const CLIENT = `
const net = require('node:net');
const flows = JSON.parse(process.argv[1]);
const socks = flows.map(([src, port]) => { const s = net.connect({ host: '${VIP}', port, localAddress: src }); s.on('error', () => {}); return s; });
setTimeout(() => { for (const s of socks) s.destroy(); process.exit(0); }, 500);
`;

describe.skipIf(skip)('fwmark service: HTTP + HTTPS with persistence, marks set by lvskit', () => {
  let ipvs: Ipvs;
  let nft: Nft;

  beforeAll(async () => {
    createNetns(NS);
    await inNs('ip', 'link', 'set', 'lo', 'up');
    await inNs('ip', 'addr', 'add', '10.200.0.1/16', 'dev', 'lo');
    await inNs('ip', 'addr', 'add', `${VIP}/32`, 'dev', 'lo');
    await inNs('ip', 'link', 'add', 'rs0', 'type', 'dummy');
    await inNs('ip', 'addr', 'add', '10.9.0.254/24', 'dev', 'rs0');
    await inNs('ip', 'link', 'set', 'rs0', 'up');
    nft = Nft.open({ netns: NS });
    ipvs = Ipvs.open({ netns: NS });
  });

  afterAll(() => {
    nft?.close();
    ipvs?.close();
    deleteNetns(NS);
  });

  it('marks come from an lvskit table: prerouting for clients outside, output for local ones', async () => {
    // nft: table ip lvs { set web { type inet_service; elements = { 80, 443 } }
    //   chain pre { type filter hook prerouting priority mangle; ip daddr VIP tcp dport @web meta mark set 0x50 }
    //   chain out { type filter hook output priority mangle; ip daddr VIP tcp dport @web meta mark set 0x50 } }
    const mark = { match: { destination: VIP, protocol: 'tcp' as const, destinationPortSet: 'web' }, setMark: MARK };
    await nft.replaceTable({
      family: 'ip', name: 'lvs',
      sets: [{ name: 'web', type: 'inet_service', elements: [80, 443] }],
      chains: [{ name: 'pre', hook: 'prerouting', priority: 'mangle' }, { name: 'out', hook: 'output', priority: 'mangle' }],
      rules: [{ chain: 'pre', ...mark }, { chain: 'out', ...mark }],
    });
    const rules = await nft.listRules({ family: 'ip', table: 'lvs' });
    expect(rules.map((r) => [r.chain, r.match, r.setMark])).toEqual([['pre', mark.match, MARK], ['out', mark.match, MARK]]);
  });

  it("each client's :80 and :443 land on one real server; clients spread; :8080 is not balanced", async () => {
    // ipvsadm -A -f 0x50 -s rr -p 300; ipvsadm -a -f 0x50 -r 10.9.0.N -m
    await ipvs.addService({ key: { fwmark: MARK }, scheduler: 'rr', persistence: { timeout: 300 } });
    for (const rs of REALS) await ipvs.addDestination({ fwmark: MARK }, { address: rs, port: 0, forward: 'masq' });
    const clients = Array.from({ length: CLIENTS }, (_, i) => `10.200.1.${i + 1}`);
    await inNs(process.execPath, '-e', CLIENT, JSON.stringify(clients.flatMap((c) => [[c, 80], [c, 443], [c, 8080]])));
    const conns = (await ipvs.listConnections()).filter((c: IpvsConnection) => c.protocol === 'tcp' && c.virtualAddress === VIP);
    const where = (client: string, port: number) => conns.filter((c) => c.clientAddress === client && c.virtualPort === port).map((c) => c.destinationAddress);
    const servers = clients.map((c) => {
      const [a] = where(c, 80);
      expect(where(c, 80), `${c}:80`).toHaveLength(1);
      expect(where(c, 443), `${c}:443 follows ${c}:80`).toEqual([a]);
      expect(where(c, 8080), `${c}:8080 is not marked`).toEqual([]);
      return a!;
    });
    // rr over persistence templates: each new client takes the next server.
    const spread = REALS.map((rs) => servers.filter((s) => s === rs).length);
    expect(spread).toEqual([CLIENTS / 3, CLIENTS / 3, CLIENTS / 3]);
    expect(conns.filter((c) => c.protocol === 'tcp').every((c) => c.destinationPort === c.virtualPort)).toBe(true);
  });
});
