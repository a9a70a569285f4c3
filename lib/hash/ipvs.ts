// Predicts where IPVS's hashing schedulers send a new connection: sh, dh and mh, from the
// destination list in kernel order (as an IPVS dump returns it: newest first). Mirrors
// net/netfilter/ipvs/ip_vs_sh.c, ip_vs_dh.c and ip_vs_mh.c (native/src/hash/ipvs.h).
import { ValidationError } from '../errors.js';
import type { Destination, Service } from '../ipvs/types.js';
import { addressFamily, ipv4ToNumber, ipv6ToWords } from './addr.js';
import { nativeHash } from './native-types.js';
import { checkArray, checkInt, optArray } from './validate.js';

/** A destination as the scheduler sees it. */
export interface SchedulerDestination {
  address: string;
  /** The real server's port (mh hashes it). */
  port: number;
  /** Current weight (0 = drained: never chosen; with the fallback flag its flows move on). */
  weight: number;
  /**
   * mh only: the latest non-zero weight the kernel remembers (ip_vs_ctl.c keeps last_weight when
   * a weight is set to 0, and the mh table keeps the drained server's slots). A dump does not show
   * it: pass it if you set a weight to 0; defaults to `weight`.
   */
  lastWeight?: number;
  /** IP_VS_DEST_F_OVERLOAD (connections above the upper threshold). Default false. */
  overloaded?: boolean;
}

export type HashScheduler = 'sh' | 'dh' | 'mh';

export interface SchedulerOptions {
  /** sh/mh: IP_VS_SVC_F_SCHED1, try other buckets when the chosen server is unusable. */
  fallback?: boolean;
  /** sh/mh: IP_VS_SVC_F_SCHED2, hash the source port too (TCP, UDP, SCTP). */
  port?: boolean;
  /** mh: CONFIG_IP_VS_MH_TAB_INDEX (8..17, default 12: 4093 slots). */
  tabIndex?: number;
}

/** Value in lookup outputs meaning "no destination" (the kernel drops or bypasses the packet). */
export const NO_DESTINATION = 0xffff;

/**
 * The lookup table of one IPVS service, built once per destination set and reused for every
 * batch (the kernel rebuilds it on every destination change: so must you).
 */
export class SchedulerTable {
  readonly scheduler: HashScheduler;
  /** Bucket -> destination index (NO_DESTINATION when empty). 256 entries for sh/dh, M for mh. */
  readonly table: Uint16Array;
  /** Per destination: 1 if usable (weight > 0 and not overloaded). */
  readonly usable: Uint8Array;
  readonly flags: number;
  readonly destinations: readonly SchedulerDestination[];
  readonly #one = { addr: new Uint32Array(4), port: new Uint16Array(1), out: new Uint16Array(1) };

  constructor(scheduler: HashScheduler, destinations: readonly SchedulerDestination[], options: SchedulerOptions = {}) {
    if (scheduler !== 'sh' && scheduler !== 'dh' && scheduler !== 'mh') throw new ValidationError('scheduler', scheduler, "must be 'sh', 'dh' or 'mh'");
    if (!Array.isArray(destinations) || destinations.length > 65534) throw new ValidationError('destinations', destinations, 'must be an array of at most 65534 destinations');
    const n = destinations.length;
    const weights = new Int32Array(n);
    const last = new Int32Array(n);
    const ports = new Uint16Array(n);
    const keys = new Uint32Array(n);
    this.usable = new Uint8Array(n);
    destinations.forEach((d, i) => {
      const at = `destinations[${i}]`;
      if (d === null || typeof d !== 'object') throw new ValidationError(at, d, 'must be a destination object');
      weights[i] = checkInt(`${at}.weight`, d.weight, 0, 0x7fffffff);
      last[i] = checkInt(`${at}.lastWeight`, d.lastWeight ?? d.weight, 0, 0x7fffffff);
      ports[i] = checkInt(`${at}.port`, d.port, 0, 65535);
      keys[i] = addrKey(d.address, `${at}.address`);
      this.usable[i] = weights[i]! > 0 && !d.overloaded ? 1 : 0;
    });
    this.scheduler = scheduler;
    this.destinations = destinations.slice();
    this.flags = (options.fallback ? 0x08 : 0) | (options.port ? 0x10 : 0);
    const nh = nativeHash();
    if (scheduler === 'mh') {
      const idx = checkInt('options.tabIndex', options.tabIndex ?? 12, 8, 17);
      const sizes = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071];
      this.table = new Uint16Array(sizes[idx - 8]!);
      if (!nh.mhBuild(keys, ports, last, idx, this.table)) throw new ValidationError('destinations', n, 'must not outnumber the mh table slots');
    } else {
      this.table = new Uint16Array(256);
      if (scheduler === 'sh') nh.shBuild(weights, this.table);
      else nh.dhBuild(n, this.table);
    }
  }

  /**
   * Destination index per flow (NO_DESTINATION if none). For sh/mh `addrs` are client (source)
   * addresses, for dh the packets' destination addresses. addrWords: 1 for IPv4, 4 for IPv6.
   * sport is used with the port flag; with `proto` given, only for TCP, UDP and SCTP.
   */
  lookup(addrs: Uint32Array, addrWords: 1 | 4, out: Uint16Array, sport?: Uint16Array | null, proto?: Uint8Array | null): Uint16Array {
    const o = checkArray('out', out, Uint16Array, 0);
    if (addrWords !== 1 && addrWords !== 4) throw new ValidationError('addrWords', addrWords, 'must be 1 (IPv4) or 4 (IPv6)');
    const a = checkArray('addrs', addrs, Uint32Array, o.length * addrWords);
    const nh = nativeHash();
    if (this.scheduler === 'dh') {
      nh.dhLookup(this.table, this.usable, a, addrWords, o);
    } else {
      const sp = optArray('sport', sport, Uint16Array, o.length);
      const pr = optArray('proto', proto, Uint8Array, o.length);
      (this.scheduler === 'sh' ? nh.shLookup : nh.mhLookup)(this.table, this.usable, a, addrWords, sp, pr, o, this.flags);
    }
    return o;
  }

  /** One flow: the chosen destination, or undefined. `address` is the client (sh/mh) or target (dh). */
  pick(address: string, sport = 0, proto: number = 6): SchedulerDestination | undefined {
    const one = this.#one;
    const v6 = addressFamily(address) === 6;
    if (v6) one.addr.set(ipv6ToWords(address, 'address'));
    else one.addr[0] = ipv4ToNumber(address, 'address');
    one.port[0] = checkInt('sport', sport, 0, 65535);
    this.lookup(one.addr, v6 ? 4 : 1, one.out, one.port, Uint8Array.of(checkInt('proto', proto, 0, 255)));
    const i = one.out[0]!;
    return i === NO_DESTINATION ? undefined : this.destinations[i];
  }
}

/** ntohl(fold(address)): the key sh/dh/mh hash (IPv6 words xor-folded). */
export function addrKey(address: string, field = 'address'): number {
  if (addressFamily(address) === 6) {
    const w = ipv6ToWords(address, field);
    return (w[0] ^ w[1] ^ w[2] ^ w[3]) >>> 0;
  }
  return ipv4ToNumber(address, field);
}

/**
 * Builds the scheduler table straight from a dumped service and its destinations (dump order).
 * Only sh, dh and mh are predictable; other schedulers depend on live counters.
 * lastWeights: per destination address, mh's remembered weight for drained (weight 0) servers.
 */
export function schedulerForService(service: Pick<Service, 'scheduler' | 'flags'>, destinations: readonly Pick<Destination, 'address' | 'port' | 'weight'>[], options: { lastWeights?: Record<string, number>; tabIndex?: number } = {}): SchedulerTable {
  const s = service?.scheduler;
  if (s !== 'sh' && s !== 'dh' && s !== 'mh') throw new ValidationError('service.scheduler', s, "must be 'sh', 'dh' or 'mh' to be predictable");
  const dests = destinations.map((d) => ({ address: d.address, port: d.port, weight: d.weight, lastWeight: options.lastWeights?.[d.address] ?? d.weight }));
  return new SchedulerTable(s, dests, { fallback: !!service.flags?.schedFallback, port: !!service.flags?.schedPort, tabIndex: options.tabIndex });
}
