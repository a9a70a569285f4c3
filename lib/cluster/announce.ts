// VIP announcement without forks: a director announces a VIP to its routing daemon (FRR ospfd or
// bgpd, BIRD) through the kernel alone, and the daemon follows; lvskit never talks to the daemon.
//
//  - method 'address' (default): the VIP as a /32 (/128) address on `lo`. zebra learns it as a
//    connected route; ospfd announces it through `network VIP/32 area 0` (or `redistribute
//    connected`), bgpd through `network VIP/32` or `redistribute connected route-map ...`.
//    Withdrawing removes the address, so the director also stops accepting the VIP locally.
//  - method 'route': the announcement is a route to the VIP the daemon redistributes
//    (`VIP/32 dev lo proto static` in main by default; zebra learns it as a kernel route, announced
//    through `redistribute kernel route-map ...`), and the VIP is made local without an interface
//    address, by a `local VIP/32 dev lo table local` route (AnyIP): an address would give zebra a
//    connected route for the same prefix, which it prefers to the kernel route, and nothing would
//    be redistributed. Withdrawing removes only the main-table route: the director keeps accepting
//    the VIP (net/ipv4/fib_frontend.c: the local table decides RTN_LOCAL delivery, where IPVS
//    hooks in), which is what a graceful drain needs (packets of existing connections that still
//    arrive are served).
// docs/cluster.md gives FRR configurations for both.
import { NetlinkError, ValidationError } from '../errors.js';
import type { Rtnl } from '../rtnl/handle.js';
import type { Ipvs } from '../ipvs/client.js';
import type { ServiceKey } from '../ipvs/types.js';
import type { RouteProtocol, RouteSpec, TableId } from '../rtnl/route-types.js';
import { formatAddress, parseAddress } from '../rtnl/ip.js';

export interface AnnounceOptions {
  /** The VIP, an IPv4 or IPv6 address. */
  vip: string;
  /** A handle in the director's namespace (where the routing daemon's zebra runs). */
  rtnl: Rtnl;
  /** 'address' (VIP/32 on lo, default) or 'route' (a route the daemon redistributes). */
  method?: 'address' | 'route';
  /** The link: of the address (method 'address'), of the route (method 'route'). Default 'lo'. */
  link?: string;
  /** method 'route': the table. Default 'main'. */
  table?: TableId;
  /** method 'route': the route's protocol, which a route-map can match. Default 'static' (4). */
  protocol?: RouteProtocol;
  /** method 'route': its metric. Default none (0). */
  priority?: number;
}

/** Announces and withdraws one VIP in one namespace. */
export class VipAnnouncer {
  readonly vip: string;
  readonly method: 'address' | 'route';
  readonly #rtnl: Rtnl;
  readonly #link: string;
  readonly #family: 4 | 6;
  readonly #route: RouteSpec | undefined;
  readonly #local: RouteSpec | undefined;

  constructor(options: AnnounceOptions) {
    if (typeof options !== 'object' || options === null) throw new ValidationError('options', options, 'must be { vip, rtnl, method? }');
    const p = typeof options.vip === 'string' ? parseAddress(options.vip) : undefined;
    if (!p) throw new ValidationError('vip', options.vip, 'must be an IPv4 or IPv6 address');
    if (typeof options.rtnl !== 'object' || options.rtnl === null || typeof (options.rtnl as Rtnl).addresses !== 'object')
      throw new ValidationError('rtnl', options.rtnl, 'must be an Rtnl handle (Rtnl.open({ netns }))');
    const method = options.method ?? 'address';
    if (method !== 'address' && method !== 'route') throw new ValidationError('method', method, "must be 'address' or 'route'");
    const link = options.link ?? 'lo';
    if (typeof link !== 'string' || link.length === 0) throw new ValidationError('link', link, 'must be an interface name');
    this.vip = formatAddress(p.bytes);
    this.#family = p.family;
    this.method = method;
    this.#rtnl = options.rtnl;
    this.#link = link;
    if (method === 'route') {
      this.#route = { dst: this.prefix, dev: link, table: options.table ?? 'main', protocol: options.protocol ?? 'static', scope: this.#family === 4 ? 'link' : 'universe' };
      if (options.priority !== undefined) this.#route.priority = options.priority;
      this.#local = { dst: this.prefix, dev: link, table: 'local', type: 'local', protocol: options.protocol ?? 'static', scope: 'host' };
    } else if (options.table !== undefined || options.protocol !== undefined || options.priority !== undefined) {
      throw new ValidationError('method', method, "must be 'route' to use table, protocol or priority");
    }
  }

  /** 'VIP/32' or 'VIP/128'. */
  get prefix(): string {
    return `${this.vip}/${this.#family === 4 ? 32 : 128}`;
  }

  /**
   * Announces the VIP; resolves true when it changed the kernel, false when it was announced.
   * Equivalent to `ip addr add VIP/32 dev lo` (method 'address'), or `ip route add local VIP/32
   * dev lo table local proto static` (once) and `ip route add VIP/32 dev lo proto static` (method 'route').
   */
  async announce(): Promise<boolean> {
    if (this.#local) await this.#ensureLocal();
    if (await this.isAnnounced()) return false;
    try {
      if (this.#route) await this.#rtnl.routes.add(this.#route);
      else await this.#rtnl.addresses.add(this.#family === 6 ? { link: this.#link, address: this.prefix, flags: ['nodad'] } : { link: this.#link, address: this.prefix });
    } catch (e) {
      if (e instanceof NetlinkError && e.code === 'EEXIST') return false;
      throw e;
    }
    return true;
  }

  /**
   * Withdraws the VIP; resolves true when it changed the kernel, false when it was not announced.
   * Equivalent to `ip addr del VIP/32 dev lo` or `ip route del VIP/32 dev lo proto static`. With
   * method 'route' the VIP stays local unless `keepLocal: false` (then also `ip route del local
   * VIP/32 dev lo table local`).
   */
  async withdraw(options: { keepLocal?: boolean } = {}): Promise<boolean> {
    let changed = true;
    try {
      if (this.#route) await this.#rtnl.routes.delete(this.#route);
      else await this.#rtnl.addresses.delete({ link: this.#link, address: this.prefix });
    } catch (e) {
      if (!gone(e)) throw e;
      changed = false;
    }
    if (this.#local && options.keepLocal === false) {
      try {
        await this.#rtnl.routes.delete(this.#local);
        changed = true;
      } catch (e) {
        if (!gone(e)) throw e;
      }
    }
    return changed;
  }

  /** Whether the VIP is local in the namespace (the kernel delivers it to this host, where IPVS schedules it). */
  async isLocal(): Promise<boolean> {
    try {
      return (await this.#rtnl.routes.query({ dst: this.vip })).type === 'local';
    } catch (e) {
      if (e instanceof NetlinkError && (e.code === 'ENETUNREACH' || e.code === 'EHOSTUNREACH' || e.code === 'EACCES' || e.code === 'EINVAL')) return false;
      throw e;
    }
  }

  async #ensureLocal(): Promise<void> {
    try {
      await this.#rtnl.routes.add(this.#local!);
    } catch (e) {
      if (!(e instanceof NetlinkError && e.code === 'EEXIST')) throw e;
    }
  }

  /** Whether the kernel holds the announcement now (the address on the link, or the route). */
  async isAnnounced(): Promise<boolean> {
    if (this.#route) {
      const routes = await this.#rtnl.routes.list({ family: this.#family, table: this.#route.table ?? 'main' });
      const index = await this.#rtnl.links.indexOf(this.#link);
      return routes.some((r) => r.dst === this.prefix && r.dev === index && r.type === 'unicast');
    }
    const addrs = await this.#rtnl.addresses.list({ link: this.#link, family: this.#family });
    return addrs.some((a) => a.address === this.vip && a.prefixLength === (this.#family === 4 ? 32 : 128));
  }
}

function gone(e: unknown): boolean {
  return e instanceof NetlinkError && (e.code === 'EADDRNOTAVAIL' || e.code === 'ESRCH' || e.code === 'ENOENT');
}

/** Announces `vip` from `rtnl`'s namespace (see VipAnnouncer). Resolves true when it changed the kernel. */
export function announceVip(rtnl: Rtnl, vip: string, options: Omit<AnnounceOptions, 'rtnl' | 'vip'> = {}): Promise<boolean> {
  return new VipAnnouncer({ ...options, rtnl, vip }).announce();
}

/** Withdraws `vip` from `rtnl`'s namespace (see VipAnnouncer). Resolves true when it changed the kernel. */
export function withdrawVip(rtnl: Rtnl, vip: string, options: Omit<AnnounceOptions, 'rtnl' | 'vip'> = {}): Promise<boolean> {
  return new VipAnnouncer({ ...options, rtnl, vip }).withdraw();
}

export interface DrainDirectorOptions {
  /** What to withdraw. */
  announcer: VipAnnouncer;
  /** The director's IPVS handle, whose connections are waited for. */
  ipvs: Ipvs;
  /** The services to wait for. Default: every service on the VIP's address (and fwmark services when none is). */
  services?: ServiceKey[];
  /** The longest wait for the connections to end, in ms. Default 30000. */
  deadlineMs?: number;
  /** How often to look, in ms. Default 500. */
  pollMs?: number;
  /** Also wait for inactive connection entries (FIN_WAIT, TIME_WAIT, ...: they linger up to the IPVS tcp timeouts). Default false. */
  includeInactive?: boolean;
  /** Called after every look with the connections left. */
  onProgress?: (left: number, elapsedMs: number) => void;
}

export interface DirectorDrainReport {
  vip: string;
  /** Whether the withdraw changed the kernel (false: it was not announced). */
  withdrew: boolean;
  /** Connections when the VIP was withdrawn, and when the wait ended. */
  connectionsAtStart: number;
  connectionsLeft: number;
  /** connectionsLeft === 0. */
  drained: boolean;
  /** Wall time of the wait, in ms. */
  waitedMs: number;
  /** Per service: the connections left. */
  services: { service: ServiceKey; connectionsLeft: number }[];
}

/**
 * A graceful director drain: withdraws the VIP (the router stops sending new flows here once its
 * routing daemon converges), then waits until the director's IPVS services have no connections or
 * the deadline passes, and reports what was left. It changes nothing else: IPVS keeps forwarding
 * the connections it has. Use method 'route' to keep the VIP local while draining.
 */
export async function drainDirector(options: DrainDirectorOptions): Promise<DirectorDrainReport> {
  if (typeof options !== 'object' || options === null) throw new ValidationError('options', options, 'must be { announcer, ipvs, ... }');
  if (!(options.announcer instanceof VipAnnouncer)) throw new ValidationError('announcer', options.announcer, 'must be a VipAnnouncer');
  const deadlineMs = options.deadlineMs ?? 30_000;
  const pollMs = options.pollMs ?? 500;
  if (!Number.isInteger(deadlineMs) || deadlineMs < 0) throw new ValidationError('deadlineMs', deadlineMs, 'must be an integer >= 0 (milliseconds)');
  if (!Number.isInteger(pollMs) || pollMs < 1) throw new ValidationError('pollMs', pollMs, 'must be an integer >= 1 (milliseconds)');
  const vip = options.announcer.vip;
  const count = async () => {
    const all = await options.ipvs.listAll();
    const keyOf = (k: ServiceKey) => JSON.stringify('fwmark' in k ? { fwmark: k.fwmark } : { protocol: k.protocol, address: parseAddress(k.address) ? formatAddress(parseAddress(k.address)!.bytes) : k.address, port: k.port });
    let chosen = options.services
      ? all.filter((s) => options.services!.some((k) => keyOf(k) === keyOf(s.key)))
      : all.filter((s) => !('fwmark' in s.key) && s.key.address === vip);
    if (!options.services && chosen.length === 0) chosen = all.filter((s) => 'fwmark' in s.key);
    const per = chosen.map((s) => ({
      service: s.key,
      connectionsLeft: (s.destinations ?? []).reduce((n, d) => n + d.activeConnections + (options.includeInactive ? d.inactiveConnections : 0), 0),
    }));
    return { per, total: per.reduce((n, p) => n + p.connectionsLeft, 0) };
  };
  const t0 = performance.now();
  const withdrew = await options.announcer.withdraw();
  let now = await count();
  const connectionsAtStart = now.total;
  options.onProgress?.(now.total, 0);
  while (now.total > 0 && performance.now() - t0 < deadlineMs) {
    await new Promise((r) => setTimeout(r, Math.max(1, Math.min(pollMs, deadlineMs - (performance.now() - t0)))));
    now = await count();
    options.onProgress?.(now.total, performance.now() - t0);
  }
  return { vip, withdrew, connectionsAtStart, connectionsLeft: now.total, drained: now.total === 0, waitedMs: performance.now() - t0, services: now.per };
}
