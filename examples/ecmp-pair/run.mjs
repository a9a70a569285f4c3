#!/usr/bin/env node
// Two LVS-DR directors, both active, behind one weighted ECMP route, and where each flow goes.
//
// Shows: a router namespace with a weighted multipath route to the VIP via two directors; both
// directors with the same IPVS mh service and the same real servers added in the same order, so
// they build the same Maglev table and either director sends a flow to the same real server
// (a router change that moves the flow to the other director does not break it). For a few
// flows it predicts the director (the kernel's multipath hash: lvskit computes it on 6.11+,
// where net.ipv4.fib_multipath_hash_seed makes it reproducible; older kernels are asked with a
// route query) and the real server (lvskit's mh table from each director's dump).
// No traffic: examples/demo-lab sends real connections through the same architecture.
//
// Needs: Linux with IPVS, root (CAP_NET_ADMIN, CAP_SYS_ADMIN), a built lvskit. Three namespaces,
// created and deleted here. Without IPVS it runs itself in the lab VM (examples/lib/in-lab.mjs).
//   node examples/ecmp-pair/run.mjs
import { Ipvs, MultipathRoute, Rtnl, createNetns, deleteNetns, schedulerForService } from 'lvskit';
import { kernelFor } from '../lib/in-lab.mjs';

await kernelFor('ecmp-pair'); // no IPVS here: re-runs itself in the lab VM, or says what it needs (exit 2)

const tag = `lvskit-ecmp-${process.pid}`;
const NS = { router: `${tag}-r`, d1: `${tag}-d1`, d2: `${tag}-d2` };
const VIP = '192.0.2.10';
const svc = { protocol: 'tcp', address: VIP, port: 443 };
const directors = [{ name: 'd1', addr: '10.20.0.11', weight: 1 }, { name: 'd2', addr: '10.20.0.12', weight: 3 }];
const realServers = ['10.20.0.21', '10.20.0.22', '10.20.0.23', '10.20.0.24'];
const SEED = 0x5eed;
const handles = [];

for (const n of Object.values(NS)) createNetns(n);
try {
  const r = Rtnl.open({ netns: NS.router });
  handles.push(r);
  await r.links.setUp('lo');
  await r.links.create('br0', 'bridge', { up: true });
  await r.addresses.add({ link: 'br0', address: '10.20.0.1/24' });
  await r.sysctl.setForwarding(true);
  const seeded = await r.sysctl.has('net.ipv4.fib_multipath_hash_seed');
  // policy 3 on the 5-tuple (policy 1 would reuse a local socket's random hash carried by veth)
  await r.sysctl.setMultipathHash({ policy: 3, fields: ['srcIp', 'dstIp', 'ipProto', 'srcPort', 'dstPort'], ...(seeded ? { seed: SEED } : {}) });

  const tables = [];
  for (const d of directors) {
    await r.links.createVeth(`v-${d.name}`, 'eth0', { peerNetns: NS[d.name], up: true });
    await r.links.set(`v-${d.name}`, { master: 'br0' });
    const h = Rtnl.open({ netns: NS[d.name] });
    handles.push(h);
    await h.links.setUp('lo');
    await h.links.setUp('eth0');
    await h.addresses.add({ link: 'eth0', address: `${d.addr}/24` });
    await h.addresses.addVipOnLoopback(VIP);
    const ipvs = Ipvs.open({ netns: NS[d.name] });
    handles.push(ipvs);
    const b = ipvs.batch().addService({ key: svc, scheduler: 'mh', flags: { schedPort: true } });
    for (const rs of realServers) b.addDestination(svc, { address: rs, port: 443, forward: 'route', weight: 1 });
    await b.run({ rollback: true });
    const dumped = await ipvs.getService(svc, { withDestinations: true });
    tables.push(schedulerForService(dumped, dumped.destinations));
  }
  // ip route add 192.0.2.10/32 nexthop via 10.20.0.11 dev br0 weight 1 nexthop via 10.20.0.12 dev br0 weight 3
  await r.routes.add({ dst: `${VIP}/32`, nexthops: directors.map((d) => ({ gateway: d.addr, dev: 'br0', weight: d.weight })) });
  const route = (await r.routes.list({ family: 4 })).find((x) => x.dst === `${VIP}/32`);
  const mp = seeded ? new MultipathRoute(route.nexthops.map((n) => n.weight), { policy: 3, fields: ['srcIp', 'dstIp', 'ipProto', 'srcPort', 'dstPort'], seed: SEED }) : undefined;
  const name = (gw) => directors.find((d) => d.addr === gw)?.name;

  console.log(`director by ${mp ? 'lvskit multipath hash (seed set)' : 'route query (this kernel has no fib_multipath_hash_seed)'}; real server by lvskit mh`);
  for (let i = 0; i < 8; i++) {
    const flow = { src: `203.0.113.${10 + i}`, sport: 40000 + 7 * i };
    const query = await r.routes.query({ dst: VIP, src: flow.src, iif: 'br0', ipProto: 'tcp', sport: flow.sport, dport: 443 });
    const director = mp ? name(route.nexthops[mp.predict({ ...flow, dst: VIP, dport: 443, proto: 'tcp' })].gateway) : name(query.gateway);
    const picks = tables.map((t) => t.pick(flow.src, flow.sport, 6)?.address);
    console.log(`${flow.src}:${flow.sport} -> ${director}${mp ? ` (kernel says ${name(query.gateway)})` : ''} -> ${picks[0]} (d1 table ${picks[0]}, d2 table ${picks[1]})`);
  }
} finally {
  for (const h of handles) h.close();
  for (const n of Object.values(NS)) deleteNetns(n);
}
