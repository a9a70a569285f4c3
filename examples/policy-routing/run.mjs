#!/usr/bin/env node
// Policy routing worked example (issue #10): an lvskit nf_tables rule marks one service's traffic
// (TCP to port 443) and lvskit's rule sends marked lookups to the service's own weighted
// multipath table.
//
// Everything happens inside a network namespace this script creates and deletes; the host's own
// namespace is never touched. The example runs `ip` (to build veth links and static neighbours);
// lvskit itself never forks, and sets the marks over nfnetlink. Needs root (CAP_NET_ADMIN,
// CAP_SYS_ADMIN), iproute2, a kernel with nf_tables, and a built lvskit (npm run build).
//
//   node examples/policy-routing/run.mjs
import { execFileSync } from 'node:child_process';
import { NetlinkSocket, Nft, Routes, Rules, createNetns, deleteNetns } from 'lvskit';
import { kernelFor } from '../lib/in-lab.mjs';

await kernelFor('policy-routing', { ipvs: false }); // root, or one line saying so (exit 2)

const NS = `lvskit-policy-${process.pid}`;
const SERVICE = '203.0.113.10';
const MARK = 0x42;
const TABLE = 1443;

const run = (cmd, ...args) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'inherit'] });
const ip = (...args) => run('ip', '-n', NS, ...args);
const inNs = (cmd, ...args) => run('ip', 'netns', 'exec', NS, cmd, ...args);
const txPackets = (dev) => JSON.parse(ip('-s', '-j', 'link', 'show', dev))[0].stats64.tx.packets;

createNetns(NS);
const socket = NetlinkSocket.open('route', { netns: NS });
try {
  // Three uplinks: up0 carries everything else, up1 and up2 carry the service, weighted 1:3.
  ip('link', 'set', 'lo', 'up');
  for (let i = 0; i < 3; i++) {
    ip('link', 'add', `up${i}`, 'type', 'veth', 'peer', 'name', `up${i}p`);
    ip('addr', 'add', `10.${i}.0.1/24`, 'dev', `up${i}`);
    ip('link', 'set', `up${i}p`, 'up');
    ip('link', 'set', `up${i}`, 'up');
    // Static neighbours: packets leave at once instead of waiting on ARP nobody answers.
    ip('neigh', 'add', `10.${i}.0.2`, 'lladdr', `02:00:00:00:00:0${i + 1}`, 'dev', `up${i}`, 'nud', 'permanent');
  }
  inNs('sysctl', '-qw', 'net.ipv4.fib_multipath_hash_policy=1'); // hash on ports too

  // lvskit: the default route, the service table, and the rule that points marked lookups at it.
  const routes = new Routes(socket);
  const rules = new Rules(socket);
  await routes.add({ dst: 'default', gateway: '10.0.0.2', dev: 'up0' });
  await routes.add({
    dst: 'default',
    table: TABLE,
    nexthops: [
      { gateway: '10.1.0.2', dev: 'up1', weight: 1 },
      { gateway: '10.2.0.2', dev: 'up2', weight: 3 },
    ],
  });
  // The rule also names the protocol and port. Besides being tighter, that matters for the
  // spread: when nftables re-routes a marked packet (ip_route_me_harder) the kernel builds the
  // lookup without ports unless some rule needs them (fib4_rules_early_flow_dissect), and the
  // L4 multipath hash would then see only the addresses: every connection on one path.
  await rules.add({ family: 4, priority: 1000, fwmark: MARK, fwmask: 0xff, ipProto: 'tcp', dport: 443, table: TABLE });

  // nf_tables, through lvskit: mark the service's packets. A "route" chain on output makes the
  // kernel look the route up again after the mark is set. Equivalent to:
  //   table inet lvskit_example { chain out { type route hook output priority mangle; policy accept;
  //     ip daddr SERVICE tcp dport 443 meta mark set MARK } }
  const nft = Nft.open({ netns: NS });
  await nft.replaceTable({
    family: 'inet',
    name: 'lvskit_example',
    chains: [{ name: 'out', hook: 'output', type: 'route', priority: 'mangle', policy: 'accept' }],
    rules: [{ chain: 'out', match: { destination: SERVICE, protocol: 'tcp', destinationPort: 443 }, setMark: MARK }],
  });
  console.log('marking rule:', (await nft.listRules({ family: 'inet', table: 'lvskit_example' }))[0]);
  nft.close();

  // What the kernel will do, asked through lvskit: marked flows go to the service table.
  console.log('route queries:');
  console.log('  unmarked          ', await routes.query({ dst: SERVICE, ipProto: 'tcp', sport: 40000, dport: 443 }));
  for (const sport of [40000, 40001, 40002, 40003]) {
    const c = await routes.query({ dst: SERVICE, mark: MARK, ipProto: 'tcp', sport, dport: 443 });
    console.log(`  mark ${MARK} sport ${sport}`, { gateway: c.gateway, table: c.table });
  }

  // Real traffic: 400 connection attempts to :443 and 100 to :80 from inside the namespace; each
  // sends one SYN, counted on the uplink it left by.
  const before = [0, 1, 2].map((i) => txPackets(`up${i}`));
  const client = `
    const net = require('node:net');
    const go = (port, n) => Promise.all(Array.from({ length: n }, () => new Promise((done) => {
      const s = net.connect({ host: '${SERVICE}', port });
      s.on('error', () => {});
      setTimeout(() => { s.destroy(); done(); }, 200);
    })));
    go(443, 400).then(() => go(80, 100));
  `;
  inNs(process.execPath, '-e', client);
  const sent = [0, 1, 2].map((i) => txPackets(`up${i}`) - before[i]);
  console.log(`\nSYNs sent: up0 (main table) ${sent[0]}, up1 (weight 1) ${sent[1]}, up2 (weight 3) ${sent[2]}`);
  console.log('rules:', (await rules.list({ family: 4 })).map((r) => `${r.priority}:${r.fwmark !== undefined ? ` fwmark 0x${r.fwmark.toString(16)}` : ''} ${r.action} ${r.table ?? ''}`).join(', '));
} finally {
  socket.close();
  deleteNetns(NS);
}
