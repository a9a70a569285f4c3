#!/usr/bin/env node
// An LVS-DR director and one real server, programmed with lvskit.
//
// Shows: a director namespace with the VIP on lo and an IPVS service (mh, port-hashed) whose real
// servers are reached by direct routing; a real-server namespace with the VIP on lo and the ARP
// sysctls DR needs; then a drain (weight 0), a batch with a per-item report, and the listing.
// Everything happens in two namespaces this script creates and deletes; nothing touches the
// host's own namespace.
//
// Needs: Linux with IPVS (CONFIG_IP_VS), root (CAP_NET_ADMIN, CAP_SYS_ADMIN), a built lvskit
// (npm run build). On a kernel without IPVS it runs itself in the lab VM (examples/lib/in-lab.mjs),
// or says in one line how to set that up (npm run lab:setup) and exits 2.
//   node examples/dr-director/run.mjs
import { Ipvs, Rtnl, createNetns, deleteNetns } from 'lvskit';
import { kernelFor } from '../lib/in-lab.mjs';

await kernelFor('dr-director'); // no IPVS here: re-runs itself in the lab VM, or says what it needs (exit 2)

const DIRECTOR = `lvskit-dr-${process.pid}`;
const REAL = `lvskit-dr-rs-${process.pid}`;
const VIP = '192.0.2.10';
const svc = { protocol: 'tcp', address: VIP, port: 80 };

createNetns(DIRECTOR);
createNetns(REAL);
const dir = Rtnl.open({ netns: DIRECTOR });
const rs = Rtnl.open({ netns: REAL });
let ipvs;
try {
  // The LAN: a veth pair between the two namespaces (DR needs director and real servers on one link).
  await dir.links.setUp('lo'); // IPVS refuses real servers with EINVAL while lo is down
  await rs.links.setUp('lo');
  await dir.links.createVeth('lan0', 'lan0', { peerNetns: REAL, up: true });
  await rs.links.setUp('lan0');
  await dir.addresses.add({ link: 'lan0', address: '10.20.0.1/24' });
  await rs.addresses.add({ link: 'lan0', address: '10.20.0.21/24' });

  // Real server: the VIP on lo, and never answer ARP for it nor use it as an ARP source.
  await rs.addresses.addVipOnLoopback(VIP);          // ip addr replace 192.0.2.10/32 dev lo
  await rs.sysctl.setArpForDrRealServer();           // arp_ignore=1, arp_announce=2 (all, lo)

  // Director: the VIP on lo and the IPVS service.
  await dir.addresses.addVipOnLoopback(VIP);
  ipvs = Ipvs.open({ netns: DIRECTOR });
  await ipvs.addService({ key: svc, scheduler: 'mh', flags: { schedPort: true } }); // ipvsadm -A -t VIP:80 -s mh -b mh-port
  for (const addr of ['10.20.0.21', '10.20.0.22', '10.20.0.23'])
    await ipvs.addDestination(svc, { address: addr, port: 80, forward: 'route', weight: 100 }); // ipvsadm -a ... -r ADDR:80 -g -w 100

  // Drain one real server: only the weight changes (ipvsadm -e would reset every field not repeated).
  await ipvs.editDestination(svc, { address: '10.20.0.22', port: 80 }, { weight: 0 });

  // A batch: one sendmsg, one result per item. The second item fails (no such real server).
  const report = await ipvs.batch()
    .editDestination(svc, { address: '10.20.0.23', port: 80 }, { weight: 50 })
    .deleteDestination(svc, { address: '10.20.0.99', port: 80 })
    .run();
  for (const item of report.items) console.log(`batch item ${item.index}: ${item.state}${item.error ? ` (${item.error.message})` : ''}`);

  for (const s of await ipvs.listAll()) {
    console.log(`${s.key.protocol} ${s.key.address}:${s.key.port} ${s.scheduler} ${s.flags.schedPort ? 'mh-port' : ''}`);
    for (const d of s.destinations ?? []) console.log(`  -> ${d.address}:${d.port} ${d.forward} weight ${d.weight}`);
  }
} finally {
  ipvs?.close();
  dir.close();
  rs.close();
  deleteNetns(DIRECTOR);
  deleteNetns(REAL);
}
