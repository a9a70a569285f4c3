// The demo lab's topology as one list of steps, and two ways to carry it out: through lvskit
// (no forks) and through `ip` / `sysctl` / `ipvsadm` commands. Both get the very same steps, so
// the timings run.mjs prints compare like with like.
//
//   client ──(v-client)── router ══ br0 (10.20.0.0/24) ══ d1, d2 (directors, VIP on lo, IPVS DR mh)
//   10.10.0.0/24           │                          ══ s1, s2, s3 (real servers, VIP on lo)
//                          └ 192.0.2.10/32 via 10.20.0.11 weight 1, via 10.20.0.12 weight 2
//
// Every address lives inside namespaces this file creates: TEST-NET-1 for the VIP, private
// ranges for the rest. Nothing touches the caller's own namespace.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Ipvs, Rtnl, createNetns, deleteNetns } from 'lvskit';

export const VIP = '192.0.2.10';
export const PORT = 80;
export const SERVICE = { protocol: 'tcp', address: VIP, port: PORT };
/** Router hashing: policy 3 with the 5-tuple. Policy 1 would use the socket's random txhash,
 * which veth carries along with the packet (skb->l4_hash), so it could not be predicted. */
export const HASH_FIELDS = ['srcIp', 'dstIp', 'ipProto', 'srcPort', 'dstPort'];
export const HASH_FIELDS_MASK = 0x1 | 0x2 | 0x4 | 0x10 | 0x20;
export const HASH_SEED = 0x1a2b3c4d;

export function topology(prefix) {
  const ns = (n) => `${prefix}-${n}`;
  const clientAddrs = Array.from({ length: 16 }, (_, i) => `10.10.0.${100 + i}`);
  return {
    prefix,
    client: { ns: ns('client'), addr: '10.10.0.2', addrs: clientAddrs },
    router: { ns: ns('router'), clientSide: '10.10.0.1', lanSide: '10.20.0.1' },
    directors: [
      { name: 'd1', ns: ns('d1'), addr: '10.20.0.11', weight: 1 },
      { name: 'd2', ns: ns('d2'), addr: '10.20.0.12', weight: 2 },
    ],
    servers: [
      { name: 's1', ns: ns('s1'), addr: '10.20.0.21', weight: 1 },
      { name: 's2', ns: ns('s2'), addr: '10.20.0.22', weight: 1 },
      { name: 's3', ns: ns('s3'), addr: '10.20.0.23', weight: 2 },
    ],
  };
}

export function namespaces(t) {
  return [t.client.ns, t.router.ns, ...t.directors.map((d) => d.ns), ...t.servers.map((s) => s.ns)];
}

/** The set-up, step by step. `seed` is written only on kernels that have the sysctl (6.11+). */
export function steps(t, { seed = false } = {}) {
  const s = [];
  const R = t.router.ns;
  for (const n of namespaces(t)) s.push({ op: 'netns', ns: n });
  for (const n of namespaces(t)) s.push({ op: 'up', ns: n, link: 'lo' });
  s.push({ op: 'bridge', ns: R, link: 'br0' });
  s.push({ op: 'veth', ns: R, link: 'v-client', peerNs: t.client.ns, peer: 'eth0' });
  for (const m of [...t.directors, ...t.servers]) {
    s.push({ op: 'veth', ns: R, link: `v-${m.name}`, peerNs: m.ns, peer: 'eth0' });
    s.push({ op: 'master', ns: R, link: `v-${m.name}`, master: 'br0' });
  }
  for (const n of namespaces(t)) if (n !== R) s.push({ op: 'up', ns: n, link: 'eth0' });
  // router
  s.push({ op: 'addr', ns: R, link: 'v-client', cidr: `${t.router.clientSide}/24` });
  s.push({ op: 'addr', ns: R, link: 'br0', cidr: `${t.router.lanSide}/24` });
  s.push({ op: 'sysctl', ns: R, key: 'net.ipv4.ip_forward', value: 1 });
  s.push({ op: 'sysctl', ns: R, key: 'net.ipv4.conf.all.rp_filter', value: 0 });
  s.push({ op: 'sysctl', ns: R, key: 'net.ipv4.fib_multipath_hash_fields', value: HASH_FIELDS_MASK });
  s.push({ op: 'sysctl', ns: R, key: 'net.ipv4.fib_multipath_hash_policy', value: 3 });
  if (seed) s.push({ op: 'sysctl', ns: R, key: 'net.ipv4.fib_multipath_hash_seed', value: HASH_SEED });
  s.push({ op: 'route', ns: R, dst: `${VIP}/32`, nexthops: t.directors.map((d) => ({ gateway: d.addr, dev: 'br0', weight: d.weight })) });
  // client: one base address and 16 more to connect from
  s.push({ op: 'addr', ns: t.client.ns, link: 'eth0', cidr: `${t.client.addr}/24` });
  for (const a of t.client.addrs) s.push({ op: 'addr', ns: t.client.ns, link: 'eth0', cidr: `${a}/24` });
  s.push({ op: 'route', ns: t.client.ns, dst: 'default', gateway: t.router.clientSide });
  // directors and real servers: address, default route back through the router, VIP on lo,
  // and the DR ARP pair (never answer ARP for the VIP on lo, never use it as an ARP source)
  for (const m of [...t.directors, ...t.servers]) {
    s.push({ op: 'addr', ns: m.ns, link: 'eth0', cidr: `${m.addr}/24` });
    s.push({ op: 'route', ns: m.ns, dst: 'default', gateway: t.router.lanSide });
    s.push({ op: 'vip', ns: m.ns, vip: VIP });
    s.push({ op: 'sysctl', ns: m.ns, key: 'net.ipv4.conf.all.arp_ignore', value: 1 });
    s.push({ op: 'sysctl', ns: m.ns, key: 'net.ipv4.conf.all.arp_announce', value: 2 });
  }
  // IPVS on each director: the same mh service and the same destinations in the same order, so
  // both directors build the same Maglev table and agree on every flow
  for (const d of t.directors) {
    s.push({ op: 'ipvsService', ns: d.ns, service: SERVICE, scheduler: 'mh', schedPort: true });
    for (const rs of t.servers) s.push({ op: 'ipvsDest', ns: d.ns, service: SERVICE, address: rs.addr, port: PORT, weight: rs.weight });
  }
  return s;
}

// ---- lvskit ---------------------------------------------------------------------------------

/** Carries out `list` with lvskit; returns the open handles (close them with closeHandles). */
export async function buildWithLvskit(list) {
  const rtnl = new Map();
  const ipvs = new Map();
  const R = (n) => {
    let h = rtnl.get(n);
    if (!h) rtnl.set(n, (h = Rtnl.open({ netns: n })));
    return h;
  };
  const I = (n) => {
    let h = ipvs.get(n);
    if (!h) ipvs.set(n, (h = Ipvs.open({ netns: n })));
    return h;
  };
  // IPVS steps of one namespace go in one batch (one sendmsg), sent when the next step is not one.
  let pending = null;
  let pendingNs = null;
  const flush = async () => {
    if (pending) await pending.run({ rollback: true });
    pending = null;
  };
  try {
    for (const st of list) {
      if ((st.op !== 'ipvsService' && st.op !== 'ipvsDest') || st.ns !== pendingNs) await flush();
      pendingNs = st.ns;
      switch (st.op) {
        case 'netns': createNetns(st.ns); break;
        case 'up': await R(st.ns).links.setUp(st.link); break;
        case 'bridge': await R(st.ns).links.create(st.link, 'bridge', { up: true }); break;
        case 'veth': await R(st.ns).links.createVeth(st.link, st.peer, { peerNetns: st.peerNs, up: true }); break;
        case 'master': await R(st.ns).links.set(st.link, { master: st.master }); break;
        case 'addr': await R(st.ns).addresses.add({ link: st.link, address: st.cidr }); break;
        case 'sysctl': await R(st.ns).sysctl.set(st.key, st.value); break;
        case 'route':
          await R(st.ns).routes.add(st.nexthops ? { dst: st.dst, nexthops: st.nexthops } : { dst: st.dst, gateway: st.gateway });
          break;
        case 'vip': await R(st.ns).addresses.addVipOnLoopback(st.vip); break;
        case 'ipvsService':
          pending ??= I(st.ns).batch();
          pending.addService({ key: st.service, scheduler: st.scheduler, flags: { schedPort: st.schedPort } });
          break;
        case 'ipvsDest':
          pending ??= I(st.ns).batch();
          pending.addDestination(st.service, { address: st.address, port: st.port, forward: 'route', weight: st.weight });
          break;
        default: throw new Error(`unknown step ${st.op}`);
      }
    }
    await flush();
  } catch (e) {
    closeHandles({ rtnl, ipvs });
    throw e;
  }
  return { rtnl, ipvs };
}

export function closeHandles(h) {
  for (const x of h?.rtnl?.values() ?? []) x.close();
  for (const x of h?.ipvs?.values() ?? []) x.close();
}

/** Deletes every namespace of `t` that exists; returns the names it could not delete. */
export function teardownWithLvskit(t) {
  const failed = [];
  for (const n of namespaces(t)) {
    try {
      deleteNetns(n);
    } catch (e) {
      if (e?.code !== 'ENOENT') failed.push(`${n}: ${e.message}`);
    }
  }
  return failed;
}

/**
 * What a build left in the kernel, read back with lvskit, as text with the namespace prefix
 * taken out: links (up, master), IPv4 addresses, IPv4 routes of every table, the sysctls the steps
 * set, and each director's IPVS services and destinations in kernel order. Two builds of the
 * same steps must give the same text, whoever made them.
 */
export async function fingerprint(t) {
  const out = [];
  for (const n of namespaces(t)) {
    const r = Rtnl.open({ netns: n });
    try {
      const links = await r.links.list();
      const name = new Map(links.map((l) => [l.index, l.name]));
      out.push(`${n}: links ${links.map((l) => `${l.name}${l.up ? '+' : '-'}${l.master ? `@${name.get(l.master)}` : ''}`).sort().join(' ')}`);
      out.push(`${n}: addrs ${(await r.addresses.list({ family: 4 })).map((a) => `${name.get(a.index)} ${a.address}/${a.prefixLength}`).sort().join(', ')}`);
      const routes = await r.routes.list({ family: 4, table: 'all' });
      out.push(`${n}: routes ${routes.map((x) => `${x.table} ${x.type} ${x.dst} ${x.gateway ?? ''}${(x.nexthops ?? []).map((h) => ` ${h.gateway}*${h.weight}`).join('')}`).sort().join(', ')}`);
      const keys = steps(t, { seed: true }).filter((st) => st.op === 'sysctl' && st.ns === n).map((st) => st.key);
      out.push(`${n}: sysctl ${(await Promise.all(keys.map(async (k) => `${k}=${(await r.sysctl.has(k)) ? await r.sysctl.get(k) : '-'}`))).join(' ')}`);
    } finally {
      r.close();
    }
  }
  for (const d of t.directors) {
    const ipvs = Ipvs.open({ netns: d.ns });
    try {
      for (const s of await ipvs.listAll())
        out.push(`${d.ns}: ipvs ${s.key.protocol} ${s.key.address}:${s.key.port} ${s.scheduler} port=${!!s.flags.schedPort} -> ${(s.destinations ?? []).map((x) => `${x.address}:${x.port} ${x.forward} w${x.weight}`).join(', ')}`);
    } finally {
      ipvs.close();
    }
  }
  return out.join('\n').replaceAll(t.prefix, 'NS');
}

// ---- ip / sysctl / ipvsadm commands -----------------------------------------------------------

/** sysctl(8) (procps) may be missing on a minimal system: then the commands write /proc/sys with sh. */
const HAVE_SYSCTL = (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').some((d) => d && existsSync(`${d}/sysctl`));
const procSys = (kv) => kv.map(([k, v]) => `echo ${v} > /proc/sys/${k.replaceAll('.', '/')}`).join(' && ');

/** The command line (argv) for each step, as an operator's shell script would run them. */
export function commandsFor(list) {
  return list.map((st) => {
    const ipn = (...a) => ['ip', '-n', st.ns, ...a];
    switch (st.op) {
      case 'netns': return ['ip', 'netns', 'add', st.ns];
      case 'up': return ipn('link', 'set', st.link, 'up');
      case 'bridge': return ipn('link', 'add', st.link, 'up', 'type', 'bridge');
      case 'veth': return ipn('link', 'add', st.link, 'up', 'type', 'veth', 'peer', 'name', st.peer, 'netns', st.peerNs);
      case 'master': return ipn('link', 'set', st.link, 'master', st.master);
      case 'addr': return ipn('addr', 'add', st.cidr, 'dev', st.link);
      case 'sysctl':
        return HAVE_SYSCTL ? ['ip', 'netns', 'exec', st.ns, 'sysctl', '-qw', `${st.key}=${st.value}`] : ['ip', 'netns', 'exec', st.ns, 'sh', '-c', procSys([[st.key, st.value]])];
      case 'route':
        return st.nexthops
          ? ipn('route', 'add', st.dst, ...st.nexthops.flatMap((h) => ['nexthop', 'via', h.gateway, 'dev', h.dev, 'weight', String(h.weight)]))
          : ipn('route', 'add', st.dst, 'via', st.gateway);
      case 'vip': return ipn('addr', 'add', `${st.vip}/32`, 'dev', 'lo');
      case 'ipvsService':
        return ['ip', 'netns', 'exec', st.ns, 'ipvsadm', '-A', '-t', `${st.service.address}:${st.service.port}`, '-s', st.scheduler, ...(st.schedPort ? ['-b', 'mh-port'] : [])];
      case 'ipvsDest':
        return ['ip', 'netns', 'exec', st.ns, 'ipvsadm', '-a', '-t', `${st.service.address}:${st.service.port}`, '-r', `${st.address}:${st.port}`, '-g', '-w', String(st.weight)];
      default: throw new Error(`unknown step ${st.op}`);
    }
  });
}

function run(argv, input, timeoutMs = 60_000) {
  return new Promise((resolve, reject) => {
    const c = execFile(argv[0], argv.slice(1), { timeout: timeoutMs }, (err, _out, stderr) => {
      if (err) reject(new Error(`${argv.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve();
    });
    c.stdin.on('error', () => {}); // a command that reads no input may exit before we close it
    c.stdin.end(input ?? '');
  });
}

/**
 * The same steps with the tools' own batch modes, as few processes as they allow: one
 * `ip -batch` for the namespaces, one `ip -n NS -batch` per namespace, one `sysctl` per
 * namespace, one `ipvsadm -R` per director. Each process's lines keep the steps' order; the
 * processes run namespace by namespace (the router first: it makes every veth).
 */
export function batchedCommandsFor(list) {
  const nsAdd = [];
  const ipLines = new Map();
  const sysctls = new Map();
  const rules = new Map();
  const add = (m, k, v) => (m.get(k) ?? m.set(k, []).get(k)).push(v);
  for (const [i, argv] of commandsFor(list).entries()) {
    const st = list[i];
    if (st.op === 'netns') nsAdd.push(argv.slice(1).join(' '));
    else if (st.op === 'sysctl') add(sysctls, st.ns, [st.key, st.value]);
    else if (st.op === 'ipvsService' || st.op === 'ipvsDest') add(rules, st.ns, argv.slice(5).join(' '));
    else add(ipLines, st.ns, argv.slice(3).join(' '));
  }
  const out = [];
  if (nsAdd.length) out.push({ argv: ['ip', '-batch', '-'], input: `${nsAdd.join('\n')}\n` });
  const makers = new Set(list.filter((st) => st.op === 'veth').map((st) => st.ns));
  const order = [...ipLines.keys()].sort((a, b) => Number(makers.has(b)) - Number(makers.has(a)));
  for (const ns of order) out.push({ argv: ['ip', '-n', ns, '-batch', '-'], input: `${ipLines.get(ns).join('\n')}\n` });
  for (const [ns, kv] of sysctls)
    out.push({ argv: HAVE_SYSCTL ? ['ip', 'netns', 'exec', ns, 'sysctl', '-qw', ...kv.map(([k, v]) => `${k}=${v}`)] : ['ip', 'netns', 'exec', ns, 'sh', '-c', procSys(kv)] });
  for (const [ns, lines] of rules) out.push({ argv: ['ip', 'netns', 'exec', ns, 'ipvsadm', '-R'], input: `${lines.join('\n')}\n` });
  return out;
}

export async function buildWithBatchedCommands(list) {
  const cmds = batchedCommandsFor(list);
  for (const c of cmds) await run(c.argv, c.input);
  return cmds.length;
}

export async function buildWithCommands(list) {
  for (const argv of commandsFor(list)) await run(argv);
}

export async function teardownWithBatchedCommands(t) {
  await run(['ip', '-batch', '-'], `${namespaces(t).map((n) => `netns del ${n}`).join('\n')}\n`);
}

export async function teardownWithCommands(t) {
  for (const n of namespaces(t)) await run(['ip', 'netns', 'del', n]);
}
