#!/usr/bin/env node
// Firewall-mark service worked example: HTTP and HTTPS of one VIP as ONE IPVS virtual service
// (`ipvsadm -A -f 0x50 -s rr -p 300`), so a client's two connections share one persistence
// template and land on the same real server. The mark comes from an lvskit nf_tables table (a
// named set of ports and one rule per hook), the service from lvskit's IPVS family: no `nft`, no
// `ipvsadm`, no `iptables` process.
//
// Everything happens inside a network namespace this script creates and deletes. The clients are
// this namespace's own sockets bound to addresses on lo; IPVS schedules their SYNs at LOCAL_OUT
// and NATs them towards real servers behind a dummy device (scheduling happens on the first
// packet, so nobody needs to answer). Needs IPVS: on a kernel without it the example runs itself
// in the lab VM (npm run lab:setup). The example runs `ip` for links and addresses.
//
//   node examples/fwmark-service/run.mjs
import { execFileSync } from 'node:child_process';
import { Ipvs, Nft, createNetns, deleteNetns } from 'lvskit';
import { kernelFor } from '../lib/in-lab.mjs';

await kernelFor('fwmark-service', { ipvs: true });

const NS = `lvskit-fwmark-${process.pid}`;
const VIP = '192.0.2.80';
const MARK = 0x50;
const REALS = ['10.9.0.1', '10.9.0.2', '10.9.0.3'];
const ip = (...args) => execFileSync('ip', ['-n', NS, ...args], { encoding: 'utf8' });

createNetns(NS);
const nft = Nft.open({ netns: NS });
const ipvs = Ipvs.open({ netns: NS });
try {
  ip('link', 'set', 'lo', 'up');
  ip('addr', 'add', '10.200.0.1/16', 'dev', 'lo');
  ip('addr', 'add', `${VIP}/32`, 'dev', 'lo');
  ip('link', 'add', 'rs0', 'type', 'dummy');
  ip('addr', 'add', '10.9.0.254/24', 'dev', 'rs0');
  ip('link', 'set', 'rs0', 'up');

  // 1. The marks, in one atomic transaction. Equivalent to:
  //   nft -f - <<< 'table ip lvs { set web { type inet_service; elements = { 80, 443 }; }
  //     chain pre { type filter hook prerouting priority mangle; ip daddr 192.0.2.80 tcp dport @web meta mark set 0x50; }
  //     chain out { type filter hook output priority mangle; ip daddr 192.0.2.80 tcp dport @web meta mark set 0x50; } }'
  // (pre marks clients arriving from outside, out the local ones this example uses.)
  const mark = { match: { destination: VIP, protocol: 'tcp', destinationPortSet: 'web' }, setMark: MARK };
  await nft.replaceTable({
    family: 'ip', name: 'lvs',
    sets: [{ name: 'web', type: 'inet_service', elements: [80, 443] }],
    chains: [{ name: 'pre', hook: 'prerouting', priority: 'mangle' }, { name: 'out', hook: 'output', priority: 'mangle' }],
    rules: [{ chain: 'pre', ...mark }, { chain: 'out', ...mark }],
  });
  for (const r of await nft.listRules({ family: 'ip', table: 'lvs' })) console.log(`nft rule #${r.handle} (${r.chain}):`, JSON.stringify(r.match), `-> mark 0x${r.setMark.toString(16)}`);

  // 2. The service on the mark, persistent across both ports. Equivalent to:
  //   ipvsadm -A -f 0x50 -s rr -p 300; ipvsadm -a -f 0x50 -r 10.9.0.N -m
  await ipvs.addService({ key: { fwmark: MARK }, scheduler: 'rr', persistence: { timeout: 300 } });
  for (const rs of REALS) await ipvs.addDestination({ fwmark: MARK }, { address: rs, port: 0, forward: 'masq' });

  // 3. Nine clients, each opening :80, :443 and (unmarked) :8080.
  const clients = Array.from({ length: 9 }, (_, i) => `10.200.1.${i + 1}`);
  const flows = clients.flatMap((c) => [[c, 80], [c, 443], [c, 8080]]);
  execFileSync('ip', ['netns', 'exec', NS, process.execPath, '-e', `
    const net = require('node:net');
    const socks = ${JSON.stringify(flows)}.map(([src, port]) => { const s = net.connect({ host: '${VIP}', port, localAddress: src }); s.on('error', () => {}); return s; });
    setTimeout(() => { for (const s of socks) s.destroy(); }, 500);`]);

  const conns = (await ipvs.listConnections()).filter((c) => c.protocol === 'tcp');
  console.log('\nclient       :80          :443         :8080');
  for (const c of clients) {
    const at = (port) => conns.find((x) => x.clientAddress === c && x.virtualPort === port)?.destinationAddress ?? '(not balanced)';
    console.log(`${c.padEnd(12)} ${at(80).padEnd(12)} ${at(443).padEnd(12)} ${at(8080)}`);
  }
  const templates = (await ipvs.listConnections()).filter((c) => c.protocol === 'ip').length;
  console.log(`\n${conns.length} connections through the service, ${templates} persistence templates (one per client)`);
} finally {
  nft.close();
  ipvs.close();
  deleteNetns(NS);
}
