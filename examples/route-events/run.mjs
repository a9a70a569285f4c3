#!/usr/bin/env node
// Watching route, address and link changes: `ip monitor` as an async iterator.
//
// Shows: rtnl.events() in a namespace this script creates; another process (`ip`, started here
// on purpose so the changes come from elsewhere) adds a link, an address, a weighted multipath
// route, then deletes the route; the stream yields each change decoded (Link, Address, Route).
// An 'overrun' event means the kernel dropped events because the consumer fell behind: re-read
// the state then. Bounded: stops after the last expected change or 10 seconds.
// No IPVS needed: any Linux kernel with network namespaces. Needs root and iproute2.
//   node examples/route-events/run.mjs
import { execFileSync } from 'node:child_process';
import { Rtnl, createNetns, deleteNetns } from 'lvskit';
import { kernelFor } from '../lib/in-lab.mjs';

await kernelFor('route-events', { ipvs: false }); // root, or one line saying so (exit 2)

const NS = `lvskit-events-${process.pid}`;
createNetns(NS);
const net = Rtnl.open({ netns: NS });
const events = net.events({ types: ['link', 'address', 'route'] });
const timer = setTimeout(() => events.close(), 10_000);
try {
  const ip = (...a) => execFileSync('ip', ['-n', NS, ...a]);
  let failure;
  setTimeout(() => {
    try {
      changes(ip);
    } catch (e) {
      failure = e;
      events.close();
    }
  }, 100);
  for await (const e of events) {
    if (e.type === 'overrun') {
      console.log(`kernel dropped ${e.count} events: re-read the state`);
      continue;
    }
    const v = e.value;
    if (e.type === 'link') console.log(`${e.action} link ${v.name} (index ${v.index}, ${v.up ? 'up' : 'down'})`);
    else if (e.type === 'address') console.log(`${e.action} address ${v.address}/${v.prefixLength} on index ${v.index}`);
    else {
      const via = v.nexthops ? v.nexthops.map((n) => `${n.gateway} weight ${n.weight}`).join(', ') : (v.gateway ?? `dev ${v.dev}`);
      console.log(`${e.action} route ${v.dst} table ${v.table} via ${via}`);
      if (e.action === 'del' && v.dst === '198.51.100.0/24') break;
    }
  }
  if (failure) throw failure;
} finally {
  clearTimeout(timer);
  events.close();
  net.close();
  deleteNetns(NS);
}

/** The changes another process makes (`ip`): two veth pairs, addresses, a multipath route. */
function changes(ip) {
  for (const l of ['up0', 'up1']) {
    ip('link', 'add', l, 'up', 'type', 'veth', 'peer', 'name', `${l}p`);
    ip('link', 'set', `${l}p`, 'up');
  }
  ip('addr', 'add', '10.0.0.1/24', 'dev', 'up0');
  ip('addr', 'add', '10.0.1.1/24', 'dev', 'up1');
  ip('route', 'add', '198.51.100.0/24', 'nexthop', 'via', '10.0.0.2', 'weight', '1', 'nexthop', 'via', '10.0.1.2', 'weight', '3');
  ip('route', 'del', '198.51.100.0/24');
}
