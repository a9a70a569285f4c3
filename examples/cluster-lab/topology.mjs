// The cluster lab's topology and its moving parts, shared by `npm run demo:cluster` (lab.mjs) and
// the IPVS-tier test (test/ipvs/cluster-lab.test.ts). The library is passed in (`lvs`): the demo
// gives the built package ('lvskit'), the test the TypeScript sources, so both drive the same code.
//
//   client ── v-client ── router ── r-d1 ─┐ sw (a switch namespace: one bridge per link, so a dead
//   10.10.0.0/24          (FRR ospfd)     ├── up0 d1 ─┐   director's link never takes the router's
//   N source addresses    policy 3 ECMP   ... d2, d3  │   port down: the router must notice by OSPF
//                          └── lan ──── bridge lan ───┴── eth1 of d1..d3, eth0 of s1..sN  10.20.0.0/24
//
// - router: learns VIP/32 from the directors' ospfd (point-to-point, hello 1, dead 4, maximum-paths
//   8); zebra installs it as a hash-threshold nexthop group. Hash policy 3 on the 5-tuple, so the
//   kernel hashes the headers (policy 1 would take a veth packet's socket hash, see docs/cluster.md).
// - directors d1..d3: VIP local (announced by their ospfd), IPVS DR service VIP:80 to every real
//   server in one order; the recipe is mh (+port, +fallback) with net.ipv4.vs.sloppy_tcp = 1. The
//   VIP is local through a table-local route of its own and announced by the address VIP/32 on
//   lo (announcer()), so a graceful drain withdraws it while the director still serves the VIP.
// - real servers s1..sN: VIP on lo, arp_ignore=1 / arp_announce=2, a small TCP server (server.mjs).
//
// Every address lives in namespaces this module creates (TEST-NET-1 VIP, private ranges), and
// close() removes them, the FRR daemons and every process it started.
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const VIP = '192.0.2.10';
export const PORT = 80;
export const SERVICE = { protocol: 'tcp', address: VIP, port: PORT };
/** Router hashing: policy 3 over src/dst address, protocol and ports (fib_multipath_hash_fields). */
export const HASH_FIELDS = ['srcIp', 'dstIp', 'ipProto', 'srcPort', 'dstPort'];
export const HASH_SEED = 0x5eed1ab5;
/** The recipe the issue asks for, and the baseline it is compared with. */
export const RECIPE = { name: 'mh + sloppy_tcp', scheduler: 'mh', flags: { schedPort: true, schedFallback: true }, sloppyTcp: 1 };
export const BASELINE = { name: 'wrr, no sloppy_tcp', scheduler: 'wrr', flags: {}, sloppyTcp: 0 };
/** The "what if" table: the router answers route queries carrying this mark from PROBE_TABLE. */
export const PROBE_MARK = 0x64;
export const PROBE_TABLE = 100;
export const FRR_DIR = process.env.LVSKIT_FRR_DIR ?? '/usr/lib/frr';
/** What killDirector() kills and reviveDirector() restarts: the daemons that speak to the router. */
const ROUTING_DAEMONS = ['ospfd', 'bfdd'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function clusterTopology(prefix, { directors = 3, servers = 3, clientAddrs = 64 } = {}) {
  const ns = (n) => `${prefix}-${n}`;
  return {
    prefix,
    sw: { ns: ns('sw') },
    client: { ns: ns('client'), addr: '10.10.0.2', addrs: Array.from({ length: clientAddrs }, (_, i) => `10.10.0.${100 + i}`) },
    router: { name: 'router', ns: ns('router'), clientSide: '10.10.0.1', lan: '10.20.0.1', routerId: '10.255.0.1' },
    directors: Array.from({ length: directors }, (_, k) => {
      const i = k + 1;
      return { name: `d${i}`, ns: ns(`d${i}`), link: `r-d${i}`, routerSide: `10.30.${i}.1`, addr: `10.30.${i}.2`, lan: `10.20.0.${10 + i}`, routerId: `10.255.0.${10 + i}` };
    }),
    servers: Array.from({ length: servers }, (_, k) => ({ name: `s${k + 1}`, ns: ns(`s${k + 1}`), addr: `10.20.0.${21 + k}`, weight: 1 })),
  };
}

export function namespaces(t) {
  return [t.sw.ns, t.router.ns, t.client.ns, ...t.directors.map((d) => d.ns), ...t.servers.map((s) => s.ns)];
}

/** A flow of the client: its own source address and port (a fresh pair per connection). */
export function flows(t, count, basePort) {
  return Array.from({ length: count }, (_, i) => {
    const src = t.client.addrs[i % t.client.addrs.length];
    const sport = basePort + Math.floor(i / t.client.addrs.length);
    return { key: `${src}:${sport}`, src, sport };
  });
}

export class ClusterLab {
  /**
   * @param lvs the lvskit module (the package or lib/index.ts)
   * @param t   clusterTopology()
   * @param o   { log?: (line) => void, bfd?: boolean, maxSeconds?: number }
   */
  constructor(lvs, t, o = {}) {
    this.lvs = lvs;
    this.t = t;
    this.log = o.log ?? (() => {});
    this.bfd = !!o.bfd;
    /** false: a routing-only lab (no IPVS calls), for kernels without IPVS (failover.mjs). */
    this.withIpvs = o.ipvs ?? true;
    /** BFD transmit/receive interval (ms) and detect multiplier: a dead peer is declared after interval x multiplier. */
    this.bfdIntervalMs = o.bfdIntervalMs ?? 100;
    this.bfdMultiplier = o.bfdMultiplier ?? 3;
    /** Every change of the router's paths while watchPaths() runs: { at: performance.now(), paths }. */
    this.pathLog = [];
    this.watching = undefined;
    this.maxSeconds = o.maxSeconds ?? 900;
    this.children = new Set();
    this.frr = new Map(); // node name -> [ChildProcess]
    this.servers = new Map(); // server name -> ChildProcess
    this.standbys = new Map(); // server name -> ChildProcess waiting to listen
    this.handles = new Map(); // 'rtnl:ns' / 'ipvs:ns' -> handle
    this.runDir = undefined;
    this.recipe = RECIPE;
    this.byGateway = new Map(t.directors.map((d) => [d.addr, d]));
    this.byServerAddr = new Map(t.servers.map((s) => [s.addr, s]));
  }

  rtnl(ns) {
    const k = `rtnl:${ns}`;
    let h = this.handles.get(k);
    if (!h) this.handles.set(k, (h = this.lvs.Rtnl.open({ netns: ns })));
    return h;
  }

  ipvs(ns) {
    const k = `ipvs:${ns}`;
    let h = this.handles.get(k);
    if (!h) this.handles.set(k, (h = this.lvs.Ipvs.open({ netns: ns })));
    return h;
  }

  #dropHandles(ns) {
    for (const k of [`rtnl:${ns}`, `ipvs:${ns}`]) {
      this.handles.get(k)?.close();
      this.handles.delete(k);
    }
  }

  /** Whether the router's kernel has net.ipv4.fib_multipath_hash_seed (6.11+): then lvskit computes the ECMP choice itself. */
  get hasSeed() {
    return existsSync('/proc/sys/net/ipv4/fib_multipath_hash_seed');
  }

  // ---- building -------------------------------------------------------------------------------

  async #netns(ns) {
    this.lvs.createNetns(ns);
    const r = this.rtnl(ns);
    await r.links.setUp('lo');
    // IPv4 devconf of a new namespace is copied from the host's: make reverse-path filtering
    // off for the links created next (the router sees replies from the VIP on its LAN port)
    await r.sysctl.setRpFilter('all', 0);
    await r.sysctl.setRpFilter('default', 0);
  }

  /** A veth from `ns` (name `name`) to the switch namespace, enslaved to bridge `bridge` there. */
  async #toSwitch(ns, name, bridge, swPort) {
    const sw = this.rtnl(this.t.sw.ns);
    await sw.links.createVeth(swPort, name, { peerNetns: ns, up: true });
    await sw.links.set(swPort, { master: bridge });
    await this.rtnl(ns).links.setUp(name);
  }

  /** Namespaces, links, addresses, routes, sysctls and VIPs; IPVS with configureIpvs(), FRR with startFrr(). */
  async build() {
    const t = this.t;
    for (const ns of [t.sw.ns, t.router.ns, t.client.ns, ...t.servers.map((s) => s.ns)]) await this.#netns(ns);
    const sw = this.rtnl(t.sw.ns);
    await sw.links.create('lan', 'bridge', { up: true });
    for (const d of t.directors) await sw.links.create(`p-${d.name}`, 'bridge', { up: true });
    // router
    const R = this.rtnl(t.router.ns);
    await R.links.createVeth('v-client', 'eth0', { peerNetns: t.client.ns, up: true });
    await this.rtnl(t.client.ns).links.setUp('eth0');
    await R.addresses.add({ link: 'v-client', address: `${t.router.clientSide}/24` });
    await this.#toSwitch(t.router.ns, 'lan', 'lan', 'lan-router');
    await R.addresses.add({ link: 'lan', address: `${t.router.lan}/24` });
    for (const d of t.directors) {
      await this.#toSwitch(t.router.ns, d.link, `p-${d.name}`, `p-${d.name}-r`);
      await R.addresses.add({ link: d.link, address: `${d.routerSide}/24` });
    }
    await R.sysctl.setForwarding(true);
    await R.sysctl.setMultipathHash({ policy: 3, fields: HASH_FIELDS, ...(this.hasSeed ? { seed: HASH_SEED } : {}) });
    await R.rules.add({ family: 4, priority: 100, fwmark: PROBE_MARK, table: PROBE_TABLE });
    // client: a base address and the many it connects from
    const C = this.rtnl(t.client.ns);
    await C.addresses.batch([t.client.addr, ...t.client.addrs].map((a) => ({ op: 'add', link: 'eth0', address: `${a}/24` })));
    await C.routes.add({ dst: 'default', gateway: t.router.clientSide });
    // real servers
    for (const s of t.servers) {
      await this.#toSwitch(s.ns, 'eth0', 'lan', `lan-${s.name}`);
      const S = this.rtnl(s.ns);
      await S.addresses.add({ link: 'eth0', address: `${s.addr}/24` });
      await S.routes.add({ dst: 'default', gateway: t.router.lan });
      await S.addresses.addVipOnLoopback(VIP);
      await S.sysctl.setArpForDrRealServer('lo');
    }
    for (const d of t.directors) await this.buildDirector(d);
  }

  /** One director's namespace, links, addresses and VIP (also used to bring a killed one back). */
  async buildDirector(d) {
    await this.#netns(d.ns);
    await this.#directorLinks(d);
  }

  async #directorLinks(d) {
    await this.#toSwitch(d.ns, 'up0', `p-${d.name}`, `p-${d.name}-d`);
    await this.#toSwitch(d.ns, 'eth1', 'lan', `lan-${d.name}`);
    const D = this.rtnl(d.ns);
    await D.addresses.add({ link: 'up0', address: `${d.addr}/24` });
    await D.addresses.add({ link: 'eth1', address: `${d.lan}/24` });
    await D.routes.add({ dst: 'default', gateway: d.routerSide });
    // The VIP is accepted locally through a route of its own in table local, and announced
    // separately by the address VIP/32 on lo, which ospfd advertises (`network VIP/32 area 0`, as
    // in the write-ups). Withdrawing the address takes the kernel's own local route (proto kernel)
    // with it but not this one, so the director still serves the packets that arrive: a graceful
    // drain.
    await D.routes.replace({ dst: `${VIP}/32`, table: 'local', type: 'local', dev: 'lo', scope: 'host', protocol: 'static' });
    // a director is on the real servers' LAN with the VIP: it must not answer ARP for it
    await D.sysctl.setArpForDrRealServer('lo');
    await this.announce(d);
  }

  /** The director's announcement of the VIP (lvskit's VipAnnouncer when the library has it). */
  announcer(d) {
    if (typeof this.lvs.VipAnnouncer === 'function') return new this.lvs.VipAnnouncer({ vip: VIP, rtnl: this.rtnl(d.ns), method: 'address', link: 'lo' });
    const D = this.rtnl(d.ns);
    return { announce: () => D.addresses.addVipOnLoopback(VIP), withdraw: () => D.addresses.deleteVipOnLoopback(VIP) };
  }

  async announce(d) {
    await this.announcer(d).announce();
  }

  /**
   * The IPVS side of one recipe on the given directors: the service with the recipe's scheduler and
   * flags, every real server in the same order and weight, and net.ipv4.vs.sloppy_tcp. Replaces
   * what was there (one batch per director).
   */
  async configureIpvs(recipe = RECIPE, directors = this.t.directors) {
    this.recipe = recipe;
    for (const d of directors) {
      const ipvs = this.ipvs(d.ns);
      const b = ipvs.batch().flush();
      b.addService({ key: SERVICE, scheduler: recipe.scheduler, flags: recipe.flags });
      for (const s of this.t.servers) b.addDestination(SERVICE, { address: s.addr, port: PORT, forward: 'route', weight: s.weight });
      await b.run({ rollback: true });
      await this.rtnl(d.ns).sysctl.setIpvs({ sloppyTcp: recipe.sloppyTcp });
    }
  }

  // ---- FRR ------------------------------------------------------------------------------------

  #frrRunDir() {
    if (this.runDir) return this.runDir;
    const uid = frrIds();
    // FRR's unix sockets do not work on a 9p share (the lab VM's checkout): keep them on tmpfs
    this.runDir = mkdtempSync(join(tmpdir(), 'lvskit-cluster-frr-'));
    chownSync(this.runDir, uid.uid, uid.gid);
    // -N/pathspace aside, FRR still wants its state directory to exist and belong to frr
    if (!existsSync('/run/frr')) {
      mkdirSync('/run/frr', { recursive: true });
      chownSync('/run/frr', uid.uid, uid.gid);
    }
    return this.runDir;
  }

  /** zebra.conf, ospfd.conf and bfdd.conf of one node (the router or a director). */
  frrConfig(node) {
    const t = this.t;
    const isRouter = node === t.router;
    const ifaces = isRouter ? t.directors.map((d) => d.link) : ['up0'];
    const nets = isRouter ? t.directors.map((d) => `${d.routerSide.replace(/\.1$/, '.0')}/24`) : [`${node.addr.replace(/\.2$/, '.0')}/24`];
    const dir = join(this.runDir, node.name);
    const ospf = [
      `hostname ${node.name}`,
      `log file ${dir}/ospfd.log`,
      ...ifaces.flatMap((i) => [
        `interface ${i}`,
        ' ip ospf network point-to-point',
        ' ip ospf hello-interval 1',
        ' ip ospf dead-interval 4',
        ...(this.bfd ? [' ip ospf bfd', ' ip ospf bfd profile lab'] : []),
      ]),
      'router ospf',
      ` ospf router-id ${node.routerId}`,
      ' maximum-paths 8',
      // react within tens of milliseconds, not FRR's default hold-downs of up to 5 s
      ' timers throttle spf 0 50 1000',
      ' timers throttle lsa all 50',
      ' timers lsa min-arrival 0',
      ...nets.map((n) => ` network ${n} area 0.0.0.0`),
      // a director announces the VIP while lo has it (see announcer())
      ...(isRouter ? [] : [` network ${VIP}/32 area 0.0.0.0`, ' passive-interface lo']),
      '',
    ].join('\n');
    const zebra = [`hostname ${node.name}`, `log file ${dir}/zebra.log`, ''].join('\n');
    const bfdd = [`hostname ${node.name}`, `log file ${dir}/bfdd.log`, 'bfd', ' profile lab', `  detect-multiplier ${this.bfdMultiplier}`, `  receive-interval ${this.bfdIntervalMs}`, `  transmit-interval ${this.bfdIntervalMs}`, '', ''].join('\n');
    return { zebra, ospfd: ospf, bfdd };
  }

  /**
   * Starts zebra, ospfd (and bfdd) inside the node's namespace, each a child of this process;
   * `only` restarts just those daemons next to a running zebra (after killFrr(node, only)).
   */
  async startFrr(node, { only } = {}) {
    const root = this.#frrRunDir();
    const ids = frrIds();
    const dir = join(root, node.name);
    if (!only) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
      chownSync(dir, ids.uid, ids.gid);
      const conf = this.frrConfig(node);
      for (const [d, text] of Object.entries(conf)) writeFileSync(join(dir, `${d}.conf`), text);
    }
    const procs = this.frr.get(node.name) ?? [];
    this.frr.set(node.name, procs);
    const want = (name) => !only || only.includes(name);
    const daemon = (name, extra = []) => {
      const args = ['netns', 'exec', node.ns, join(FRR_DIR, name), '-N', `${this.t.prefix}-${node.name}`, '-f', join(dir, `${name}.conf`),
        '-i', join(dir, `${name}.pid`), '-z', join(dir, 'zserv.api'), '--vty_socket', dir, '-P', '0', '-u', 'frr', '-g', 'frr', ...extra];
      const p = this.#spawn('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      p.stderr.on('data', (b) => {
        try {
          writeFileSync(join(dir, `${name}.stderr`), b, { flag: 'a' });
        } catch {
          /* the run directory is gone: shutting down */
        }
      });
      p.daemon = name;
      procs.push(p);
      return p;
    };
    if (want('zebra')) daemon('zebra');
    // ospfd and bfdd connect to zebra's socket; they retry, but starting them once it exists saves a retry period
    for (let i = 0; i < 600 && !existsSync(join(dir, 'zserv.api')); i++) await sleep(50);
    if (this.bfd && want('bfdd')) daemon('bfdd', ['--bfdctl', join(dir, 'bfdd.sock')]);
    if (want('ospfd')) daemon('ospfd');
  }

  /**
   * SIGKILLs a node's FRR daemons (a crash: nothing is withdrawn, the router must notice); with
   * `only`, just those (e.g. ['ospfd', 'bfdd']: zebra stays, startFrr(node, { only }) restarts them).
   */
  killFrr(node, only) {
    const procs = this.frr.get(node.name) ?? [];
    for (const p of procs) if ((!only || only.includes(p.daemon)) && p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    const left = only ? procs.filter((p) => !only.includes(p.daemon)) : [];
    if (left.length) this.frr.set(node.name, left);
    else this.frr.delete(node.name);
  }

  /**
   * With BFD: waits until the router's session with every director is up at the lab's fast
   * interval (a session starts at 1 s and is sped up by a poll sequence once up). Asks bfdd with
   * `vtysh --vty_socket DIR -c 'show bfd peers json'` (the lab forks; the library never does).
   */
  async waitForBfd(timeoutMs = 60_000) {
    if (!this.bfd) return;
    const t0 = performance.now();
    let last = '';
    while (performance.now() - t0 < timeoutMs) {
      try {
        const peers = JSON.parse(execFileSync('vtysh', ['--vty_socket', join(this.runDir, this.t.router.name), '-c', 'show bfd peers json'], { encoding: 'utf8', timeout: 20_000 }));
        const fast = this.t.directors.filter((d) => peers.some((p) => p.peer === d.addr && p.status === 'up' && p['remote-receive-interval'] === this.bfdIntervalMs));
        if (fast.length === this.t.directors.length) return;
        last = peers.map((p) => `${p.peer} ${p.status} ${p['remote-receive-interval']}`).join(', ');
      } catch (e) {
        last = e.message;
      }
      await sleep(200);
    }
    throw new Error(`BFD sessions not all up at ${this.bfdIntervalMs} ms after ${timeoutMs / 1000} s: ${last}`);
  }

  /** Tail of a node's FRR logs, for failures. */
  frrLogs(node, lines = 20) {
    const dir = this.runDir && join(this.runDir, node.name);
    if (!dir) return '';
    return ['zebra.log', 'ospfd.log', 'bfdd.log', 'zebra.stderr', 'ospfd.stderr', 'bfdd.stderr']
      .filter((f) => existsSync(join(dir, f)))
      .map((f) => `${node.name}/${f}:\n${readFileSync(join(dir, f), 'utf8').split('\n').slice(-lines).join('\n')}`)
      .join('\n');
  }

  // ---- the router's view ----------------------------------------------------------------------

  /** The directors the router's route to the VIP uses now, in the kernel's nexthop order ([] without a route). */
  async routerPaths() {
    const R = this.rtnl(this.t.router.ns);
    const route = (await R.routes.list({ family: 4 })).find((r) => r.dst === `${VIP}/32`);
    if (!route) return [];
    let gateways;
    if (route.nhid !== undefined) {
      const all = new Map((await R.nexthops.list()).map((n) => [n.id, n]));
      const top = all.get(route.nhid);
      gateways = top?.group ? top.group.map((m) => all.get(m.id)?.gateway) : [top?.gateway];
    } else if (route.nexthops) gateways = route.nexthops.map((n) => n.gateway);
    else gateways = [route.gateway];
    return gateways.map((g) => this.byGateway.get(g)?.name ?? `?${g}`);
  }

  /**
   * Records every change of the router's paths (polled every `pollMs` on a handle of its own)
   * in pathLog until close(): flaps show up there, and pathChanges(since) reads them.
   */
  watchPaths(pollMs = 100) {
    if (this.watching) return;
    const R = this.lvs.Rtnl.open({ netns: this.t.router.ns });
    const state = { stop: false, R };
    this.watching = state;
    const read = async () => {
      const route = (await R.routes.list({ family: 4 })).find((r) => r.dst === `${VIP}/32`);
      if (!route) return '';
      if (route.nhid === undefined) return (route.nexthops ?? [route]).map((n) => this.byGateway.get(n.gateway)?.name).sort().join(' ');
      const all = new Map((await R.nexthops.list()).map((n) => [n.id, n]));
      const top = all.get(route.nhid);
      return (top?.group ? top.group.map((m) => all.get(m.id)?.gateway) : [top?.gateway]).map((g) => this.byGateway.get(g)?.name ?? g).sort().join(' ');
    };
    (async () => {
      let last;
      while (!state.stop) {
        try {
          const now = await read();
          if (now !== last) this.pathLog.push({ at: performance.now(), paths: now });
          last = now;
        } catch {
          /* the namespace is going away */
        }
        await sleep(pollMs);
      }
      R.close();
    })();
  }

  /** The router's path changes recorded after `since` (performance.now()), as [ms after since, 'd1 d2'] pairs. */
  pathChanges(since) {
    return this.pathLog.filter((e) => e.at >= since).map((e) => [Math.round(e.at - since), e.paths]);
  }

  /**
   * Polls routerPaths() every `pollMs` until it holds exactly the directors `want` (names, any
   * order: zebra orders a group's members by its own nexthop ids); returns { ms, paths }: the
   * milliseconds since `since` (performance.now() of the event) and the order the kernel has.
   * Throws after timeoutMs.
   */
  async waitForPaths(want, { since = performance.now(), timeoutMs = 60_000, pollMs = 20 } = {}) {
    const target = [...want].sort().join(',');
    let last = [];
    while (performance.now() - since < timeoutMs) {
      last = await this.routerPaths();
      if ([...last].sort().join(',') === target) return { ms: performance.now() - since, paths: last };
      await sleep(pollMs);
    }
    throw new Error(`the router's route to ${VIP} goes to [${last}], not [${target}], after ${timeoutMs / 1000} s\n${this.frrLogs(this.t.router)}`);
  }

  /**
   * Which director the router sends each flow to, given as the kernel's own answer (route queries
   * with iif, which hash a dummy packet as forwarding does). With `planned` (director names, in
   * the order the router's group will have them), the answer for that set of paths, asked before
   * it exists: the paths go into PROBE_TABLE and the queries carry PROBE_MARK. Works on every
   * kernel; on 6.11+ (hash seed) lvskit can also compute it (predictDirectorsByHash).
   */
  async queryDirectors(fl, planned) {
    const R = this.rtnl(this.t.router.ns);
    const names = new Map(this.t.directors.map((d) => [d.name, d]));
    if (planned) {
      const ds = planned.map((n) => names.get(n));
      const route = ds.length === 1 ? { gateway: ds[0].addr, dev: ds[0].link } : { nexthops: ds.map((d) => ({ gateway: d.addr, dev: d.link })) };
      await R.routes.replace({ dst: `${VIP}/32`, table: PROBE_TABLE, ...route });
    }
    const out = [];
    for (const f of fl) {
      const c = await R.routes.query({ dst: VIP, src: f.src, iif: 'v-client', ipProto: 'tcp', sport: f.sport, dport: PORT, ...(planned ? { mark: PROBE_MARK } : {}) });
      out.push(this.byGateway.get(c.gateway)?.name ?? `?${c.gateway}`);
    }
    return out;
  }

  /** lvskit's own ECMP prediction (needs the router's hash seed: kernel 6.11+). */
  predictDirectorsByHash(fl, paths) {
    const mp = new this.lvs.MultipathRoute(paths.map(() => 1), { policy: 3, fields: HASH_FIELDS, seed: HASH_SEED, path: 'packet' });
    return fl.map((f) => paths[mp.predict({ src: f.src, dst: VIP, sport: f.sport, dport: PORT, proto: 'tcp' })]);
  }

  // ---- directors ------------------------------------------------------------------------------

  /**
   * The IPVS connection entries of a director: client "addr:port" -> { server, expires }. Every
   * packet through an entry re-arms its timer to the state's full timeout (ip_vs_conn_put,
   * net/netfilter/ipvs/ip_vs_conn.c), so of two entries of one flow the one with more seconds
   * left carried its latest packet.
   */
  async connectionEntries(d) {
    const m = new Map();
    for (const c of await this.ipvs(d.ns).listConnections()) {
      if (c.virtualAddress === VIP && c.virtualPort === PORT) m.set(`${c.clientAddress}:${c.clientPort}`, { server: this.byServerAddr.get(c.destinationAddress)?.name ?? c.destinationAddress, expires: c.expires });
    }
    return m;
  }

  /** The IPVS connection entries of a director: client "addr:port" -> real server name. */
  async connections(d) {
    const m = new Map();
    for (const c of await this.ipvs(d.ns).listConnections()) {
      if (c.virtualAddress === VIP && c.virtualPort === PORT) m.set(`${c.clientAddress}:${c.clientPort}`, this.byServerAddr.get(c.destinationAddress)?.name ?? c.destinationAddress);
    }
    return m;
  }

  /**
   * Kills a director as a crash would: its routing daemons (ospfd, bfdd) get SIGKILL (no
   * withdrawal is sent; zebra stays, so that bringing it back does not pay zebra's start-up, which
   * is long under emulation), its
   * links go (the router's ports stay up: they end on the switch, so only OSPF or BFD can tell
   * the router) and its IPVS configuration is flushed. The namespace stays: deleting one makes
   * the kernel's cleanup stall everything else for seconds under emulation. Returns
   * performance.now() of the moment its uplink went.
   */
  async killDirector(d) {
    this.killFrr(d, ROUTING_DAEMONS);
    const D = this.rtnl(d.ns);
    await D.links.delete('up0');
    const at = performance.now();
    await D.links.delete('eth1');
    if (this.withIpvs) await this.ipvs(d.ns).flush();
    return at;
  }

  /** Brings a killed director back: links, addresses, announcement, IPVS with the current recipe, ospfd (and bfdd). */
  async reviveDirector(d) {
    await this.#directorLinks(d);
    if (this.withIpvs) await this.configureIpvs(this.recipe, [d]);
    await this.startFrr(d, { only: ROUTING_DAEMONS });
  }

  // ---- real servers and the client ------------------------------------------------------------

  #spawn(cmd, args, opts) {
    const p = spawn(cmd, args, opts);
    this.children.add(p);
    p.on('exit', () => this.children.delete(p));
    return p;
  }

  /**
   * Starts (or restarts) the TCP server of real server `s`; resolves once it listens. A standby
   * started with startStandby(s) takes over at once instead of a new process.
   */
  async startServer(s) {
    let p = this.standbys.get(s.name);
    this.standbys.delete(s.name);
    if (p) p.stdin.write('listen\n');
    else p = this.#spawn('ip', ['netns', 'exec', s.ns, process.execPath, join(HERE, 'server.mjs'), s.name, String(PORT), String(this.maxSeconds)], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.servers.set(s.name, p);
    await waitForLine(p, (l) => l === 'ready', 120_000, `server ${s.name}`);
  }

  /** A second server process for `s`, started now, listening only when startServer(s) asks it. */
  async startStandby(s) {
    const p = this.#spawn('ip', ['netns', 'exec', s.ns, process.execPath, join(HERE, 'server.mjs'), s.name, String(PORT), String(this.maxSeconds), '--standby'], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.standbys.set(s.name, p);
    await waitForLine(p, (l) => l === 'standby', 120_000, `standby server ${s.name}`);
  }

  async startServers() {
    await Promise.all(this.t.servers.map((s) => this.startServer(s)));
  }

  /** Kills a real server's process (SIGKILL: its connections get reset by its kernel). */
  killServer(s) {
    const p = this.servers.get(s.name);
    p?.kill('SIGKILL');
    this.servers.delete(s.name);
  }

  /** Starts the client process in the client namespace; returns { send(cmd): Promise<reply> }. */
  async startClient() {
    const p = this.#spawn('ip', ['netns', 'exec', this.t.client.ns, process.execPath, join(HERE, 'client.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
    const waiting = new Map();
    let seq = 0;
    let buf = '';
    let ready;
    const readyP = new Promise((r) => (ready = r));
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (msg.ready) ready();
        const w = waiting.get(msg.id);
        if (!w) continue;
        waiting.delete(msg.id);
        if (msg.error) w.reject(new Error(`client: ${msg.error}`));
        else w.resolve(msg);
      }
    });
    p.on('exit', (code) => {
      for (const w of waiting.values()) w.reject(new Error(`client exited with ${code}`));
      waiting.clear();
    });
    await Promise.race([readyP, new Promise((_, rej) => p.once('exit', (c) => rej(new Error(`client exited with ${c} before it was ready`))))]);
    const job = { host: VIP, port: PORT };
    return {
      process: p,
      send: (cmd) =>
        new Promise((resolve, reject) => {
          const id = ++seq;
          waiting.set(id, { resolve, reject });
          p.stdin.write(`${JSON.stringify({ ...job, ...cmd, id })}\n`);
        }),
    };
  }

  // ---- teardown -------------------------------------------------------------------------------

  /** Stops every process this lab started and deletes its namespaces; returns what it could not delete. */
  close() {
    if (this.watching) this.watching.stop = true;
    for (const node of [this.t.router, ...this.t.directors]) this.killFrr(node);
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const h of this.handles.values()) h.close();
    this.handles.clear();
    const failed = [];
    for (const n of namespaces(this.t)) {
      try {
        this.lvs.deleteNetns(n);
      } catch (e) {
        if (e?.code !== 'ENOENT') failed.push(`${n}: ${e.message}`);
      }
    }
    if (this.runDir) rmSync(this.runDir, { recursive: true, force: true });
    this.runDir = undefined;
    // what -N (pathspace) made FRR create under /run/frr
    for (const node of [this.t.router, ...this.t.directors]) rmSync(`/run/frr/${this.t.prefix}-${node.name}`, { recursive: true, force: true });
    return failed;
  }
}

function frrIds() {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('frr:'));
  if (!line) throw new Error('no user frr: install FRR (apt-get install --no-install-recommends frr)');
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

/** Resolves when the child prints a line matching `ok`; rejects when it exits first or after timeoutMs. */
export function waitForLine(child, ok, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${what}: not ready after ${timeoutMs / 1000} s`)), timeoutMs);
    child.stdout.on('data', (d) => {
      buf += d;
      if (buf.split('\n').some(ok)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what}: exited with ${code} before it was ready`));
    });
  });
}

/** Whether FRR's daemons are installed where the lab looks for them. */
export function haveFrr() {
  return ['zebra', 'ospfd'].every((d) => existsSync(join(FRR_DIR, d)));
}
