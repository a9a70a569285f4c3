#!/usr/bin/env node
// An LVS-NAT director with two real servers, and a real connection through it.
//
// Shows: a director between a client network and a server network, forwarding on, an IPVS
// service (wrr) with masquerading real servers whose default route points back at the director;
// then one TCP connection per real server from the client namespace, answered by a tiny server
// (node) in each real-server namespace. The script starts those helper processes with
// `ip netns exec`; lvskit itself never forks. Four namespaces, created and deleted here.
//
// Needs: Linux with IPVS, root (CAP_NET_ADMIN, CAP_SYS_ADMIN), iproute2 (for `ip netns exec`), a
// built lvskit (npm run build). Without IPVS it runs itself in the lab VM (examples/lib/in-lab.mjs).
//   node examples/nat-director/run.mjs
import { spawn, execFileSync } from 'node:child_process';
import { Ipvs, Rtnl, createNetns, deleteNetns } from 'lvskit';
import { kernelFor } from '../lib/in-lab.mjs';

await kernelFor('nat-director'); // no IPVS here: re-runs itself in the lab VM, or says what it needs (exit 2)

const tag = `lvskit-nat-${process.pid}`;
const NS = { director: `${tag}-dir`, client: `${tag}-cli`, s1: `${tag}-s1`, s2: `${tag}-s2` };
const VIP = '198.51.100.10';
const svc = { protocol: 'tcp', address: VIP, port: 80 };
const servers = [];
const handles = [];

for (const n of Object.values(NS)) createNetns(n);
try {
  const R = Object.fromEntries(Object.entries(NS).map(([k, n]) => [k, Rtnl.open({ netns: n })]));
  handles.push(...Object.values(R));
  for (const h of Object.values(R)) await h.links.setUp('lo');
  const d = R.director;
  // client side: 198.51.100.0/24 (the VIP lives on the director's client-facing link)
  await d.links.createVeth('cli0', 'eth0', { peerNetns: NS.client, up: true });
  await d.addresses.add({ link: 'cli0', address: '198.51.100.1/24' });
  await d.addresses.add({ link: 'cli0', address: `${VIP}/32` });
  await R.client.links.setUp('eth0');
  await R.client.addresses.add({ link: 'eth0', address: '198.51.100.50/24' });
  // server side: one veth per real server, 10.30.N.0/24, each server's default route via the director
  for (const [i, name] of [[1, 's1'], [2, 's2']]) {
    await d.links.createVeth(`srv${i}`, 'eth0', { peerNetns: NS[name], up: true });
    await d.addresses.add({ link: `srv${i}`, address: `10.30.${i}.1/24` });
    await R[name].links.setUp('eth0');
    await R[name].addresses.add({ link: 'eth0', address: `10.30.${i}.2/24` });
    await R[name].routes.add({ dst: 'default', gateway: `10.30.${i}.1` });
  }
  await d.sysctl.setForwarding(true);               // NAT replies pass back through the director

  const ipvs = Ipvs.open({ netns: NS.director });
  handles.push(ipvs);
  const report = await ipvs.batch()
    .addService({ key: svc, scheduler: 'wrr' })      // ipvsadm -A -t VIP:80 -s wrr
    .addDestination(svc, { address: '10.30.1.2', port: 8080, forward: 'masq', weight: 1 }) // -r 10.30.1.2:8080 -m -w 1
    .addDestination(svc, { address: '10.30.2.2', port: 8080, forward: 'masq', weight: 1 })
    .run({ rollback: true });
  console.log(`IPVS: ${report.items.length} changes applied in one batch`);

  // traffic: a server per real server namespace, then two connections from the client
  for (const name of ['s1', 's2']) {
    const c = spawn('ip', ['netns', 'exec', NS[name], process.execPath, '-e',
      `require('net').createServer((s)=>s.end('${name}\\n')).listen(8080,()=>console.log('ready'));setTimeout(()=>process.exit(),60000)`], { stdio: ['ignore', 'pipe', 'inherit'] });
    servers.push(c);
    await new Promise((ok, ko) => { c.stdout.once('data', ok); c.once('exit', ko); });
  }
  const ask = `const net=require('net');(async()=>{for(let i=0;i<2;i++)await new Promise(r=>{const s=net.connect(80,'${VIP}');let d='';s.setTimeout(10000,()=>s.destroy());s.on('data',x=>d+=x);s.on('close',()=>{console.log('connection '+i+' answered by '+(d.trim()||'nobody'));r();});s.on('error',()=>{})});})()`;
  process.stdout.write(execFileSync('ip', ['netns', 'exec', NS.client, process.execPath, '-e', ask], { encoding: 'utf8', timeout: 60_000 }));
  // active/inactive counts are live; the stats counters are summed by the kernel's estimator
  // every 2 seconds, so right after a connection they may not show it yet
  for (const dst of await ipvs.listDestinations(svc))
    console.log(`  ${dst.address}:${dst.port} masq weight ${dst.weight}: ${dst.activeConnections} active, ${dst.inactiveConnections} inactive connections`);
} finally {
  for (const c of servers) c.kill();
  for (const h of handles) h.close();
  for (const n of Object.values(NS)) deleteNetns(n);
}
