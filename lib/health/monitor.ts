// HealthMonitor: health checks driving IPVS, as keepalived's checkers and ldirectord do. Each
// destination is checked on its own interval from the director's namespace (HealthChecker); after
// `fall` failures in a row it is drained (weight 0: IPVS schedules no new connection to it,
// net/netfilter/ipvs/ip_vs_*.c skip weight-0 destinations, while its connections go on) and,
// by option, deleted once its connections end; after `rise` successes in a row it gets its
// configured weight back (re-added if it is missing). A monitor started over a kernel state an
// earlier run left reads it first and takes it as its starting verdict: a destination at weight 0
// or missing starts unhealthy and is restored after `rise` successes. Optionally it withdraws a
// VIP while a service has no healthy destination and announces it again when one is healthy.
import { ValidationError } from '../errors.js';
import type { Ipvs } from '../ipvs/client.js';
import type { Destination, DestinationSpec, ServiceKey, TunnelOptions, ForwardMethod, AddressFamily } from '../ipvs/types.js';
import type { NetnsSpec } from '../socket.js';
import { formatAddress, parseAddress } from '../rtnl/ip.js';
import { VipAnnouncer, type AnnounceOptions } from '../cluster/announce.js';
import { HealthChecker, validateCheck, type HealthCheck, type HealthCheckResult } from './checker.js';
import { EventHub, type EventSubscription } from './events.js';
import { Conntrack } from '../conntrack/conntrack.js';

/** How often, how patiently and how many times in a row (HAProxy's inter/timeout/rise/fall). */
export interface HealthTiming {
  /** Between the end of one check and the start of the next, ms. Default 2000. */
  intervalMs?: number;
  /** A check that has not succeeded by then fails, ms. Default: intervalMs, at most 5000. */
  timeoutMs?: number;
  /** Successes in a row that make an unhealthy destination healthy. Default 2. */
  rise?: number;
  /** Failures in a row that make a healthy destination unhealthy. Default 3. */
  fall?: number;
}

export interface HealthDestinationConfig extends HealthTiming {
  address: string;
  port: number;
  /** The weight it has while healthy. Default 1. */
  weight?: number;
  /** Used when the monitor (re-)adds it. Default 'route'. */
  forward?: ForwardMethod;
  upperThreshold?: number;
  lowerThreshold?: number;
  tunnel?: TunnelOptions;
  family?: AddressFamily;
  /** Overrides the service's check. */
  check?: HealthCheck;
}

export interface HealthServiceConfig extends HealthTiming {
  service: ServiceKey;
  destinations: HealthDestinationConfig[];
  /** The check of its destinations (default: the monitor's, else a TCP connect to the destination). */
  check?: HealthCheck;
  /** Withdraw this VIP while the service has no healthy destination; announce it while it has one. */
  announce?: Omit<AnnounceOptions, 'vip'> & { vip?: string };
}

export interface HealthMonitorConfig extends HealthTiming {
  services: HealthServiceConfig[];
  /** The default check. Default { type: 'tcp' }. */
  check?: HealthCheck;
  /** Where the checks run. Default: the namespace of the Ipvs handle. */
  netns?: NetnsSpec;
  /**
   * On fall: 'drain' keeps the destination at weight 0 (default); 'delete' also deletes it once it
   * has no active connection, or after deleteAfterMs at the latest.
   */
  onFall?: 'drain' | 'delete';
  /** With onFall 'delete': the longest wait for its connections to end, ms. Default: no limit. */
  deleteAfterMs?: number;
  /** With onFall 'delete': how often to look at its connections, ms. Default 1000. */
  pollMs?: number;
  /** Events a subscriber may fall behind before the oldest are dropped. Default 1000. */
  eventBuffer?: number;
  /**
   * When a destination of a UDP service is drained or deleted, delete the conntrack entries whose
   * original destination is the VIP:port and whose reply source is that real server
   * (Conntrack.delete), so its UDP flows are not kept pinned to it (IPVS with
   * net.ipv4.vs.conntrack=1). The count is the event's `conntrackDeleted`; a failure (a kernel
   * without nf_conntrack_netlink) is an 'error' event during 'flush conntrack'. Default true.
   */
  flushConntrack?: boolean;
  /** The Conntrack handle for flushConntrack (default: one the monitor opens in `netns` and stop() closes). */
  conntrack?: Conntrack;
}

export interface DestinationRef {
  service: ServiceKey;
  address: string;
  port: number;
}

export type HealthEvent =
  | ({ type: 'rise' | 'fall'; result: HealthCheckResult } & DestinationRef)
  /** A check failed (every failure, also before `fall` is reached). */
  | ({ type: 'check-failed'; result: HealthCheckResult } & DestinationRef)
  /** Weight 0 is in the kernel now; `connections` it still had (active + inactive). */
  | ({ type: 'drained'; connections: number; conntrackDeleted?: number } & DestinationRef)
  /**
   * Removed from the service: `reason` 'idle' (no active connection) or 'timeout' (deleteAfterMs).
   * `conntrackDeleted` (drained and deleted, UDP services with flushConntrack): the conntrack
   * entries of the destination deleted then.
   */
  | ({ type: 'deleted'; connections: number; reason: 'idle' | 'timeout'; conntrackDeleted?: number } & DestinationRef)
  /** The configured weight is in the kernel again (`added`: it had to be re-added); reason 'rise', or 'start' when a restart repaired it. */
  | ({ type: 'restored'; weight: number; added: boolean; reason: 'rise' | 'start' } & DestinationRef)
  | { type: 'announced' | 'withdrawn'; vip: string }
  /** Something the monitor tried failed (a kernel edit, reading the kernel, the checker). */
  | ({ type: 'error'; during: string; error: Error } & Partial<DestinationRef>);

export interface DestinationHealth extends DestinationRef {
  /** The verdict: true after `rise` successes in a row, false after `fall` failures in a row. */
  healthy: boolean;
  /** Successes / failures in a row now. */
  okStreak: number;
  failStreak: number;
  checks: number;
  lastResult?: HealthCheckResult;
  /** The last failed check's error. */
  lastError?: string;
  /** When the verdict last changed (Date.now()). */
  since: number;
  configuredWeight: number;
  /** The weight in the kernel as last read or written; null when it is not in the service. */
  kernelWeight: number | null;
  /** Active connections as last read. */
  activeConnections: number;
}

interface Resolved {
  check: HealthCheck;
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
}

interface DestState {
  ref: DestinationRef;
  cfg: HealthDestinationConfig;
  spec: DestinationSpec;
  timing: Resolved;
  svc: SvcState;
  h: DestinationHealth;
  timer?: NodeJS.Timeout | undefined;
  deleting?: { cancelled: boolean };
}

interface SvcState {
  key: ServiceKey;
  id: string;
  dests: DestState[];
  announcer?: VipAnnouncer | undefined;
}

function int(field: string, v: unknown, min: number, max: number, unit = ''): number {
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) throw new ValidationError(field, v, `must be an integer in ${min}..${max}${unit}`);
  return v as number;
}

function canon(a: string): string {
  const p = parseAddress(a);
  return p ? formatAddress(p.bytes) : a;
}

function serviceId(k: ServiceKey): string {
  return 'fwmark' in k ? `fwmark ${k.fwmark}/${k.family ?? 4}` : `${k.protocol} ${canon(k.address)}:${k.port}`;
}

/** The NetnsSpec behind an Ipvs handle's `netns` label ('current', a name, a path or 'pid N'). */
function netnsOfLabel(label: string): NetnsSpec | undefined {
  if (label === 'current') return undefined;
  if (label.startsWith('/')) return { path: label };
  const m = /^pid (\d+)$/.exec(label);
  return m ? { pid: Number(m[1]) } : { name: label };
}

/**
 * Health checks driving one director's IPVS destinations. Create with monitorHealth(); await
 * `ready`; read events() and state(); stop() releases everything (timers, the checker's worker)
 * and leaves the kernel as it is.
 */
export class HealthMonitor {
  readonly #ipvs: Ipvs;
  readonly #svcs: SvcState[];
  readonly #hub: EventHub<HealthEvent>;
  readonly #onFall: 'drain' | 'delete';
  readonly #deleteAfterMs: number;
  readonly #pollMs: number;
  readonly #netns: NetnsSpec | undefined;
  readonly #flushConntrack: boolean;
  /** The caller's handle, or the one opened on first use (closed by stop()). */
  #conntrack: Conntrack | undefined;
  readonly #ownConntrack: boolean;
  #checker: HealthChecker | undefined;
  #stopped = false;
  readonly #inflight = new Set<Promise<unknown>>();
  readonly #announced = new Map<VipAnnouncer, boolean | undefined>();
  /** Waits of delete-after-drain loops, woken by stop(). */
  readonly #sleepers = new Set<{ t: NodeJS.Timeout; res: () => void }>();
  /** Announcement changes run one at a time. */
  #announceTail: Promise<void> = Promise.resolve();
  /** Resolves once the kernel was read, repaired and the first checks are scheduled; rejects when the monitor could not start. */
  readonly ready: Promise<void>;

  /** Use monitorHealth(). */
  constructor(ipvs: Ipvs, config: HealthMonitorConfig) {
    if (typeof ipvs !== 'object' || ipvs === null || typeof (ipvs as Ipvs).listAll !== 'function') throw new ValidationError('ipvs', ipvs, 'must be an Ipvs handle');
    if (typeof config !== 'object' || config === null) throw new ValidationError('config', config, 'must be { services: [...] }');
    if (!Array.isArray(config.services) || config.services.length === 0) throw new ValidationError('config.services', config.services, 'must be a non-empty array');
    this.#ipvs = ipvs;
    this.#onFall = config.onFall ?? 'drain';
    if (this.#onFall !== 'drain' && this.#onFall !== 'delete') throw new ValidationError('config.onFall', config.onFall, "must be 'drain' or 'delete'");
    this.#deleteAfterMs = config.deleteAfterMs === undefined ? Infinity : int('config.deleteAfterMs', config.deleteAfterMs, 0, 2 ** 31 - 1, ' (milliseconds)');
    this.#pollMs = config.pollMs === undefined ? 1000 : int('config.pollMs', config.pollMs, 1, 3_600_000, ' (milliseconds)');
    this.#hub = new EventHub(config.eventBuffer === undefined ? 1000 : int('config.eventBuffer', config.eventBuffer, 1, 1_000_000));
    this.#netns = config.netns ?? netnsOfLabel(ipvs.netns);
    if (config.flushConntrack !== undefined && typeof config.flushConntrack !== 'boolean') throw new ValidationError('config.flushConntrack', config.flushConntrack, 'must be a boolean');
    if (config.conntrack !== undefined && !(config.conntrack instanceof Conntrack)) throw new ValidationError('config.conntrack', config.conntrack, 'must be a Conntrack handle');
    this.#flushConntrack = config.flushConntrack ?? true;
    this.#conntrack = config.conntrack;
    this.#ownConntrack = config.conntrack === undefined;
    const announcers = new Map<string, VipAnnouncer>();
    const rtnlIds = new Map<object, number>();
    const seen = new Set<string>();
    this.#svcs = config.services.map((s, i) => {
      const f = `config.services[${i}]`;
      if (typeof s !== 'object' || s === null) throw new ValidationError(f, s, 'must be { service, destinations }');
      if (typeof s.service !== 'object' || s.service === null) throw new ValidationError(`${f}.service`, s.service, 'must be a service key');
      const id = serviceId(s.service);
      if (seen.has(id)) throw new ValidationError(`${f}.service`, id, 'is listed twice');
      seen.add(id);
      if (!Array.isArray(s.destinations)) throw new ValidationError(`${f}.destinations`, s.destinations, 'must be an array');
      const svc: SvcState = { key: s.service, id, dests: [] };
      if (s.announce !== undefined) {
        const vip = s.announce.vip ?? ('address' in s.service ? s.service.address : undefined);
        if (vip === undefined) throw new ValidationError(`${f}.announce.vip`, vip, 'must be given for a fwmark service');
        const a = new VipAnnouncer({ ...s.announce, vip });
        if (!rtnlIds.has(s.announce.rtnl)) rtnlIds.set(s.announce.rtnl, rtnlIds.size);
        const k = `${rtnlIds.get(s.announce.rtnl)} ${a.method} ${a.vip}`;
        svc.announcer = announcers.get(k) ?? a;
        announcers.set(k, svc.announcer);
        this.#announced.set(svc.announcer, undefined);
      }
      const destSeen = new Set<string>();
      s.destinations.forEach((d, j) => {
        const df = `${f}.destinations[${j}]`;
        if (typeof d !== 'object' || d === null) throw new ValidationError(df, d, 'must be { address, port, weight?, check? }');
        const addr = parseAddress(d.address);
        if (!addr) throw new ValidationError(`${df}.address`, d.address, 'must be an IPv4 or IPv6 address');
        const port = int(`${df}.port`, d.port, 0, 65535);
        const weight = d.weight === undefined ? 1 : int(`${df}.weight`, d.weight, 1, 2147483647, ' (a healthy destination needs a weight above 0)');
        const address = formatAddress(addr.bytes);
        if (destSeen.has(`${address}:${port}`)) throw new ValidationError(`${df}.address`, `${address}:${port}`, 'is listed twice in this service');
        destSeen.add(`${address}:${port}`);
        const timing = resolveTiming(df, d, s, config);
        if (port === 0 && timing.check.port === undefined && timing.check.type !== 'function')
          throw new ValidationError(`${df}.check.port`, undefined, 'must be given for a destination of port 0 (a fwmark service): the check needs a port');
        const spec: DestinationSpec = { address, port, weight };
        for (const k of ['forward', 'upperThreshold', 'lowerThreshold', 'tunnel', 'family'] as const) if (d[k] !== undefined) (spec as unknown as Record<string, unknown>)[k] = d[k];
        const ref = { service: s.service, address, port };
        svc.dests.push({
          ref,
          cfg: d,
          spec,
          timing,
          svc,
          h: { ...ref, healthy: false, okStreak: 0, failStreak: 0, checks: 0, since: Date.now(), configuredWeight: weight, kernelWeight: null, activeConnections: 0 },
        });
      });
      return svc;
    });
    this.ready = this.#start();
    this.ready.catch((e: Error) => this.#emit({ type: 'error', during: 'start', error: e }));
  }

  /** Every event from now on, as an async iterator (each call is its own subscription). */
  events(): EventSubscription<HealthEvent> {
    return this.#hub.subscribe();
  }

  /** A snapshot of every destination's health, in configuration order. */
  state(): DestinationHealth[] {
    return this.#svcs.flatMap((s) => s.dests.map((d) => ({ ...d.h, ...(d.h.lastResult ? { lastResult: { ...d.h.lastResult } } : {}) })));
  }

  /** Whether each VIP is announced, as last set (undefined before the monitor decided). */
  announcements(): { vip: string; announced: boolean | undefined }[] {
    return [...this.#announced].map(([a, v]) => ({ vip: a.vip, announced: v }));
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  #emit(e: HealthEvent): void {
    this.#hub.publish(e);
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#inflight.add(p);
    const done = () => this.#inflight.delete(p);
    p.then(done, done);
    return p;
  }

  async #start(): Promise<void> {
    this.#checker = await HealthChecker.open({ netns: this.#netns });
    if (this.#stopped) {
      await this.#checker.close();
      return;
    }
    const kernel = await this.#readKernel();
    for (const s of this.#svcs) {
      const dests = kernel.get(s.id);
      if (!dests) this.#emit({ type: 'error', during: 'start', error: new ValidationError('service', s.id, 'is not in the kernel (the monitor edits destinations of existing services only)') });
      for (const d of s.dests) {
        const k = dests?.get(`${d.ref.address}:${d.ref.port}`);
        d.h.kernelWeight = k ? k.weight : null;
        d.h.activeConnections = k ? k.activeConnections : 0;
        // The kernel's state is the starting verdict: serving destinations are healthy until
        // `fall` failures, drained or missing ones unhealthy until `rise` successes.
        d.h.healthy = k !== undefined && k.weight > 0;
        if (d.h.healthy && k!.weight !== d.h.configuredWeight) await this.#restore(d, 'start');
      }
    }
    await this.#syncAnnouncements();
    if (this.#stopped) return;
    for (const s of this.#svcs) for (const d of s.dests) this.#schedule(d, 0);
  }

  async #readKernel(): Promise<Map<string, Map<string, Destination>>> {
    const all = await this.#ipvs.listAll();
    return new Map(all.map((s) => [serviceId(s.key), new Map((s.destinations ?? []).map((d) => [`${canon(d.address)}:${d.port}`, d]))]));
  }

  #schedule(d: DestState, delayMs: number): void {
    if (this.#stopped) return;
    d.timer = setTimeout(() => {
      d.timer = undefined;
      void this.#track(this.#round(d));
    }, delayMs);
  }

  async #round(d: DestState): Promise<void> {
    if (this.#stopped || !this.#checker) return;
    let r: HealthCheckResult;
    try {
      r = await this.#checker.check({ address: d.ref.address, port: d.ref.port }, d.timing.check, { timeoutMs: d.timing.timeoutMs });
    } catch (e) {
      if (this.#stopped) return;
      r = { ok: false, at: Date.now(), ms: 0, error: (e as Error).message };
    }
    if (this.#stopped) return;
    try {
      await this.#verdict(d, r);
    } catch (e) {
      this.#emit({ type: 'error', ...d.ref, during: 'act on a check result', error: e as Error });
    }
    this.#schedule(d, d.timing.intervalMs);
  }

  async #verdict(d: DestState, r: HealthCheckResult): Promise<void> {
    const h = d.h;
    h.checks++;
    h.lastResult = r;
    if (r.ok) {
      h.okStreak++;
      h.failStreak = 0;
      if (!h.healthy && h.okStreak >= d.timing.rise) {
        h.healthy = true;
        h.since = Date.now();
        this.#emit({ type: 'rise', ...d.ref, result: r });
        if (d.deleting) d.deleting.cancelled = true;
        await this.#restore(d, 'rise');
        await this.#syncAnnouncements();
      } else if (h.healthy && h.kernelWeight === null && h.okStreak >= d.timing.rise) {
        // Healthy but deleted by its own delete-after-drain, which raced the rise: add it back.
        await this.#restore(d, 'rise');
      }
      return;
    }
    h.failStreak++;
    h.okStreak = 0;
    if (r.error !== undefined) h.lastError = r.error;
    this.#emit({ type: 'check-failed', ...d.ref, result: r });
    if (h.healthy && h.failStreak >= d.timing.fall) {
      h.healthy = false;
      h.since = Date.now();
      this.#emit({ type: 'fall', ...d.ref, result: r });
      await this.#drain(d);
      await this.#syncAnnouncements();
    } else if (!h.healthy) {
      // Unhealthy: the kernel must not serve it; a weight someone set meanwhile is drained again.
      await this.#refresh(d);
      if (h.kernelWeight !== null && h.kernelWeight > 0) await this.#drain(d);
    }
    if (!h.healthy && this.#onFall === 'delete' && h.kernelWeight !== null && !d.deleting) void this.#track(this.#deleteWhenIdle(d));
  }

  /** Reads one destination's weight and connections from the kernel into its state. */
  async #refresh(d: DestState): Promise<void> {
    try {
      const k = (await this.#ipvs.listDestinations(d.svc.key)).find((x) => canon(x.address) === d.ref.address && x.port === d.ref.port);
      d.h.kernelWeight = k ? k.weight : null;
      d.h.activeConnections = k ? k.activeConnections : 0;
    } catch (e) {
      this.#emit({ type: 'error', ...d.ref, during: 'read the destination', error: e as Error });
    }
  }

  async #restore(d: DestState, reason: 'rise' | 'start'): Promise<void> {
    const w = d.h.configuredWeight;
    try {
      let added = false;
      if (d.h.kernelWeight === null) {
        await this.#ipvs.addDestination(d.svc.key, d.spec);
        added = true;
      } else {
        try {
          await this.#ipvs.editDestination(d.svc.key, d.ref, { weight: w });
        } catch (e) {
          // Deleted behind our back: add it again.
          if ((e as { code?: string }).code !== 'ENOENT') throw e;
          await this.#ipvs.addDestination(d.svc.key, d.spec);
          added = true;
        }
      }
      d.h.kernelWeight = w;
      this.#emit({ type: 'restored', ...d.ref, weight: w, added, reason });
    } catch (e) {
      this.#emit({ type: 'error', ...d.ref, during: `restore weight ${w}`, error: e as Error });
    }
  }

  async #drain(d: DestState): Promise<void> {
    if (d.h.kernelWeight === null) return;
    try {
      await this.#ipvs.editDestination(d.svc.key, d.ref, { weight: 0 });
      d.h.kernelWeight = 0;
      const k = (await this.#ipvs.listDestinations(d.svc.key)).find((x) => canon(x.address) === d.ref.address && x.port === d.ref.port);
      d.h.activeConnections = k?.activeConnections ?? 0;
      const flushed = await this.#flush(d);
      this.#emit({ type: 'drained', ...d.ref, connections: k ? k.activeConnections + k.inactiveConnections : 0, ...(flushed !== undefined ? { conntrackDeleted: flushed } : {}) });
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') d.h.kernelWeight = null;
      this.#emit({ type: 'error', ...d.ref, during: 'drain (weight 0)', error: e as Error });
    }
  }

  /**
   * Deletes the conntrack entries of a drained or deleted destination of a UDP service (original
   * destination VIP:port, reply source the real server). Returns how many, or undefined when
   * not done (not UDP, flushConntrack off, or a failure, which is an 'error' event).
   */
  async #flush(d: DestState): Promise<number | undefined> {
    const key = d.svc.key;
    if (!this.#flushConntrack || !('protocol' in key) || key.protocol !== 'udp') return undefined;
    try {
      this.#conntrack ??= Conntrack.open(this.#netns ? { netns: this.#netns } : {});
      const r = await this.#conntrack.delete({ protocol: 'udp', originalDestination: key.address, originalDestinationPort: key.port, replySource: d.ref.address });
      return r.deleted;
    } catch (e) {
      this.#emit({ type: 'error', ...d.ref, during: 'flush conntrack', error: e as Error });
      return undefined;
    }
  }

  async #deleteWhenIdle(d: DestState): Promise<void> {
    const token = { cancelled: false };
    d.deleting = token;
    const t0 = performance.now();
    try {
      for (;;) {
        if (this.#stopped || token.cancelled) return;
        const k = (await this.#readKernel()).get(d.svc.id)?.get(`${d.ref.address}:${d.ref.port}`);
        if (this.#stopped || token.cancelled) return;
        if (!k) {
          d.h.kernelWeight = null;
          return;
        }
        d.h.activeConnections = k.activeConnections;
        const timedOut = performance.now() - t0 >= this.#deleteAfterMs;
        if (k.activeConnections === 0 || timedOut) {
          await this.#ipvs.deleteDestination(d.svc.key, d.ref);
          d.h.kernelWeight = null;
          const flushed = await this.#flush(d);
          this.#emit({ type: 'deleted', ...d.ref, connections: k.activeConnections + k.inactiveConnections, reason: k.activeConnections === 0 ? 'idle' : 'timeout', ...(flushed !== undefined ? { conntrackDeleted: flushed } : {}) });
          return;
        }
        await new Promise<void>((res) => {
          const sleeper = {
            t: setTimeout(() => {
              this.#sleepers.delete(sleeper);
              res();
            }, Math.min(this.#pollMs, Math.max(1, this.#deleteAfterMs - (performance.now() - t0)))),
            res,
          };
          this.#sleepers.add(sleeper);
        });
      }
    } catch (e) {
      this.#emit({ type: 'error', ...d.ref, during: 'delete after drain', error: e as Error });
    } finally {
      if (d.deleting === token) d.deleting = undefined;
    }
  }

  /** Announces each VIP whose services have a healthy destination, withdraws the others. */
  #syncAnnouncements(): Promise<void> {
    const p = this.#announceTail.then(() => this.#syncAnnouncementsNow());
    this.#announceTail = p;
    return p;
  }

  async #syncAnnouncementsNow(): Promise<void> {
    for (const a of this.#announced.keys()) {
      const want = this.#svcs.some((s) => s.announcer === a && s.dests.some((d) => d.h.healthy));
      if (this.#announced.get(a) === want) continue;
      try {
        if (want) await a.announce();
        else await a.withdraw();
        const before = this.#announced.get(a);
        this.#announced.set(a, want);
        if (before !== want) this.#emit({ type: want ? 'announced' : 'withdrawn', vip: a.vip });
      } catch (e) {
        this.#emit({ type: 'error', during: `${want ? 'announce' : 'withdraw'} VIP ${a.vip}`, error: e as Error });
      }
    }
  }

  /**
   * Stops checking: clears every timer, waits for checks and kernel edits in flight, stops the
   * checker's worker and ends every event subscription. The kernel keeps its state (weights,
   * announcements). Idempotent.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const s of this.#svcs)
      for (const d of s.dests) {
        if (d.timer) clearTimeout(d.timer);
        d.timer = undefined;
        if (d.deleting) d.deleting.cancelled = true;
      }
    for (const s of this.#sleepers) {
      clearTimeout(s.t);
      s.res();
    }
    this.#sleepers.clear();
    await this.#checker?.close();
    await this.ready.catch(() => undefined);
    await Promise.allSettled([...this.#inflight]);
    if (this.#ownConntrack) this.#conntrack?.close();
    this.#hub.end();
  }

  /** stop(). */
  close(): Promise<void> {
    return this.stop();
  }
}

function resolveTiming(f: string, d: HealthDestinationConfig, s: HealthServiceConfig, m: HealthMonitorConfig): Resolved {
  const pick = <K extends keyof HealthTiming>(k: K): [HealthTiming[K], string] =>
    d[k] !== undefined ? [d[k], `${f}.${k}`] : s[k] !== undefined ? [s[k], `${f.replace(/\.destinations\[\d+\]$/, '')}.${k}`] : [m[k], `config.${k}`];
  const [iv, ivf] = pick('intervalMs');
  const intervalMs = iv === undefined ? 2000 : int(ivf, iv, 10, 86_400_000, ' (milliseconds)');
  const [to, tof] = pick('timeoutMs');
  const timeoutMs = to === undefined ? Math.min(intervalMs, 5000) : int(tof, to, 1, 3_600_000, ' (milliseconds)');
  const [ri, rif] = pick('rise');
  const rise = ri === undefined ? 2 : int(rif, ri, 1, 1000);
  const [fa, faf] = pick('fall');
  const fall = fa === undefined ? 3 : int(faf, fa, 1, 1000);
  const check = d.check ?? s.check ?? m.check ?? { type: 'tcp' };
  validateCheck(check, d.check ? `${f}.check` : s.check ? `${f.replace(/\.destinations\[\d+\]$/, '')}.check` : 'config.check');
  return { check, intervalMs, timeoutMs, rise, fall };
}

/**
 * Starts health checks that drive `ipvs`'s destinations (see HealthMonitor). Throws
 * ValidationError for a bad config at once; `await monitor.ready` for the start itself.
 */
export function monitorHealth(ipvs: Ipvs, config: HealthMonitorConfig): HealthMonitor {
  return new HealthMonitor(ipvs, config);
}
