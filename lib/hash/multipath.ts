// Multipath (ECMP) prediction: which nexthop the kernel picks for a flow.
// Mirrors net/ipv4/route.c fib_multipath_hash, net/ipv6/route.c rt6_multipath_hash,
// net/ipv4/fib_semantics.c fib_rebalance/fib_select_multipath and net/ipv4/nexthop.c (see
// native/src/hash/multipath.h for the details and kernel-version notes).
import { ValidationError } from '../errors.js';
import { addressFamily, ipv4ToNumber, ipv6ToWords } from './addr.js';
import { nativeHash } from './native-types.js';
import { checkArray, checkInt, optArray } from './validate.js';
import { ToeplitzHasher } from './toeplitz.js';

/** IPv4 flows as struct-of-arrays: addresses and ports as host-order numbers. */
export interface FlowsV4 {
  saddr: Uint32Array;
  daddr: Uint32Array;
  sport?: Uint16Array | null;
  dport?: Uint16Array | null;
  proto?: Uint8Array | null;
}

/** IPv6 flows as struct-of-arrays: 4 words per address (most significant first). */
export interface FlowsV6 {
  saddr: Uint32Array;
  daddr: Uint32Array;
  sport?: Uint16Array | null;
  dport?: Uint16Array | null;
  proto?: Uint8Array | null;
  /** Low 20 bits used. */
  flowLabel?: Uint32Array | null;
}

/** One flow as a plain object. */
export interface Flow {
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  /** IP protocol number or name. */
  proto?: number | 'tcp' | 'udp' | 'sctp' | 'icmp' | 'icmpv6';
  flowLabel?: number;
}

/** Names of the fib_multipath_hash_fields bits (policy 3). */
export type MultipathField = 'srcIp' | 'dstIp' | 'ipProto' | 'flowLabel' | 'srcPort' | 'dstPort';
const FIELD_BITS: Record<MultipathField, number> = { srcIp: 1, dstIp: 2, ipProto: 4, flowLabel: 8, srcPort: 16, dstPort: 32 };

export interface MultipathOptions {
  /** net.ipv4.fib_multipath_hash_policy (or net.ipv6's): 0 L3, 1 L4, 2 L3/inner L3, 3 custom. Default 0. */
  policy?: 0 | 1 | 2 | 3;
  /** net.ipv4.fib_multipath_hash_seed (6.11+; shared by IPv4 and IPv6). Required: 0 means random in the kernel. */
  seed: number;
  /** fib_multipath_hash_fields for policy 3: a bitmask or field names. Default srcIp|dstIp|ipProto. */
  fields?: number | MultipathField[];
  /**
   * 'packet' (default): the kernel hashes a packet: forwarded traffic, and IPv4 route queries
   * (`ip route get`), which build a dummy packet. 'flow': only the flow key is hashed: locally
   * generated traffic and IPv6 route queries. It matters for policy 3 only.
   */
  path?: 'packet' | 'flow';
}

interface Resolved { policy: number; seed: number; fields: number; packetPath: boolean }

function resolve(o: MultipathOptions): Resolved {
  if (o === null || typeof o !== 'object') throw new ValidationError('options', o, 'must be an object');
  const policy = checkInt('options.policy', o.policy ?? 0, 0, 3);
  const seed = checkInt('options.seed', o.seed, 0, 0xffffffff);
  let fields = 7;
  if (Array.isArray(o.fields)) {
    fields = 0;
    for (const f of o.fields) {
      const bit = FIELD_BITS[f as MultipathField];
      if (bit === undefined) throw new ValidationError('options.fields', f, `must be one of ${Object.keys(FIELD_BITS).join(', ')}`);
      fields |= bit;
    }
  } else if (o.fields !== undefined) {
    fields = checkInt('options.fields', o.fields, 0, 0xfff);
  }
  if (o.path !== undefined && o.path !== 'packet' && o.path !== 'flow') {
    throw new ValidationError('options.path', o.path, "must be 'packet' or 'flow'");
  }
  return { policy, seed, fields, packetPath: o.path !== 'flow' };
}

const PROTOS: Record<string, number> = { tcp: 6, udp: 17, sctp: 132, icmp: 1, icmpv6: 58 };
function protoNumber(p: Flow['proto'], field: string): number {
  if (p === undefined) return 0;
  if (typeof p === 'string') {
    const n = PROTOS[p];
    if (n === undefined) throw new ValidationError(field, p, `must be a protocol number or one of ${Object.keys(PROTOS).join(', ')}`);
    return n;
  }
  return checkInt(field, p, 0, 255);
}

function flowsV4(f: FlowsV4, n: number) {
  return {
    saddr: checkArray('flows.saddr', f.saddr, Uint32Array, n),
    daddr: checkArray('flows.daddr', f.daddr, Uint32Array, n),
    sport: optArray('flows.sport', f.sport, Uint16Array, n),
    dport: optArray('flows.dport', f.dport, Uint16Array, n),
    proto: optArray('flows.proto', f.proto, Uint8Array, n),
  };
}
function flowsV6(f: FlowsV6, n: number) {
  return {
    saddr: checkArray('flows.saddr', f.saddr, Uint32Array, 4 * n),
    daddr: checkArray('flows.daddr', f.daddr, Uint32Array, 4 * n),
    sport: optArray('flows.sport', f.sport, Uint16Array, n),
    dport: optArray('flows.dport', f.dport, Uint16Array, n),
    proto: optArray('flows.proto', f.proto, Uint8Array, n),
    flowLabel: optArray('flows.flowLabel', f.flowLabel, Uint32Array, n),
  };
}

/**
 * Hashes out.length IPv4 flows as the kernel's multipath routing does; out[i] is the 31-bit value
 * fib_select_multipath compares with the nexthop upper bounds. Returns out.
 */
export function multipathHashV4(flows: FlowsV4, out: Uint32Array, options: MultipathOptions): Uint32Array {
  const o = checkArray('out', out, Uint32Array, 0);
  const f = flowsV4(flows, o.length);
  const r = resolve(options);
  nativeHash().mpHashV4(f.saddr, f.daddr, f.sport, f.dport, f.proto, o, r.policy, r.seed, r.fields, r.packetPath);
  return o;
}

/** As multipathHashV4, for IPv6 flows (rt6_multipath_hash). */
export function multipathHashV6(flows: FlowsV6, out: Uint32Array, options: MultipathOptions): Uint32Array {
  const o = checkArray('out', out, Uint32Array, 0);
  const f = flowsV6(flows, o.length);
  const r = resolve(options);
  nativeHash().mpHashV6(f.saddr, f.daddr, f.sport, f.dport, f.proto, f.flowLabel, o, r.policy, r.seed, r.fields, r.packetPath);
  return o;
}

/** The multipath hash of one flow given as text addresses. */
export function multipathHash(flow: Flow, options: MultipathOptions): number {
  const out = new Uint32Array(1);
  const v6 = addressFamily(flow.src) === 6;
  if (v6 !== (addressFamily(flow.dst) === 6)) throw new ValidationError('flow.dst', flow.dst, 'must be of the same family as flow.src');
  const sport = Uint16Array.of(checkInt('flow.sport', flow.sport ?? 0, 0, 65535));
  const dport = Uint16Array.of(checkInt('flow.dport', flow.dport ?? 0, 0, 65535));
  const proto = Uint8Array.of(protoNumber(flow.proto, 'flow.proto'));
  if (v6) {
    const flowLabel = Uint32Array.of(checkInt('flow.flowLabel', flow.flowLabel ?? 0, 0, 0xfffff));
    return multipathHashV6({ saddr: Uint32Array.from(ipv6ToWords(flow.src, 'flow.src')), daddr: Uint32Array.from(ipv6ToWords(flow.dst, 'flow.dst')), sport, dport, proto, flowLabel }, out, options)[0] ?? 0;
  }
  const r = resolve(options);
  return nativeHash().mpHashV4One(ipv4ToNumber(flow.src, 'flow.src'), ipv4ToNumber(flow.dst, 'flow.dst'), sport[0] ?? 0, dport[0] ?? 0, proto[0] ?? 0, r.policy, r.seed, r.fields, r.packetPath);
}

/**
 * fib_rebalance(): the hash upper bound of each nexthop from its weight (routes 1..256, nexthop
 * groups 1..65535), in the route's nexthop order; alive[i] === false marks a dead nexthop (-1).
 */
export function multipathUpperBounds(weights: ArrayLike<number>, alive?: ArrayLike<boolean>): Int32Array {
  if (!weights || typeof weights.length !== 'number' || weights.length < 1 || weights.length > 65535) {
    throw new ValidationError('weights', weights, 'must be a list of 1..65535 weights');
  }
  const w = new Uint32Array(weights.length);
  for (let i = 0; i < w.length; i++) w[i] = checkInt(`weights[${i}]`, weights[i], 1, 65535);
  let a: Uint8Array | null = null;
  if (alive !== undefined) {
    if (alive.length !== w.length) throw new ValidationError('alive', alive, `must have ${w.length} entries`);
    a = Uint8Array.from(Array.from(alive, (x) => (x ? 1 : 0)));
  }
  const out = new Int32Array(w.length);
  nativeHash().mpUpperBounds(w, a, out);
  return out;
}

/** fib_select_multipath / nexthop_select_path_hthr: nexthop index per hash. */
export function multipathSelect(hashes: Uint32Array, upperBounds: Int32Array, out: Uint16Array): Uint16Array {
  const o = checkArray('out', out, Uint16Array, 0);
  nativeHash().mpSelect(checkArray('hashes', hashes, Uint32Array, o.length), checkArray('upperBounds', upperBounds, Int32Array, 1), o);
  return o;
}

/**
 * Resilient nexthop groups (nexthop_select_path_res): out[i] = buckets[hash % buckets.length],
 * with `buckets` the bucket -> nexthop id table read from the kernel (`ip -j nexthop bucket show`
 * or RTM_GETNEXTHOPBUCKET). It changes over time (idle timer, rebalancing): read it fresh.
 */
export function resilientSelect(hashes: Uint32Array, buckets: Uint32Array, out: Uint32Array): Uint32Array {
  const o = checkArray('out', out, Uint32Array, 0);
  nativeHash().mpResilient(checkArray('hashes', hashes, Uint32Array, o.length), checkArray('buckets', buckets, Uint32Array, 1), o);
  return o;
}

/**
 * What a forwarded packet already carries when the router sees it. Under policy 1 the kernel does
 * not hash the headers of a packet whose skb has an L4 hash: it takes `skb_get_hash_raw(skb) >> 1`
 * (fib_multipath_hash, net/ipv4/route.c; rt6_multipath_hash, net/ipv6/route.c). Policies 0, 2
 * and 3 always hash the headers, and so does a route query (no skb).
 */
export interface PacketHash {
  /** skb->hash of a packet whose l4_hash bit is set (a local socket's txhash, a NIC's L4 RSS hash). */
  l4Hash?: number;
  /**
   * The receiving NIC's RSS: Toeplitz over the packet's addresses and ports with `key` (default
   * MICROSOFT_RSS_KEY). 'l4' hash types (TCP/UDP 4-tuple) set l4_hash; an 'l3' (2-tuple) hash
   * type does not, and the kernel hashes the headers.
   */
  rss?: { key?: Uint8Array; hashType: 'l4' | 'l3' };
}

const rssHashers = new WeakMap<Uint8Array, ToeplitzHasher>();
let defaultRss: ToeplitzHasher | undefined;

/**
 * The 32-bit L4 hash a packet of `flow` carries, or undefined when it carries none (no `packet`,
 * or an RSS hash of an L3 type). Toeplitz input: source address, destination address, source
 * port, destination port, as the packet arrives.
 */
export function packetL4Hash(flow: Flow, packet: PacketHash | undefined): number | undefined {
  if (packet === undefined) return undefined;
  if (packet === null || typeof packet !== 'object') throw new ValidationError('packet', packet, 'must be { l4Hash } or { rss: { key?, hashType } }');
  if (packet.l4Hash !== undefined) return checkInt('packet.l4Hash', packet.l4Hash, 0, 0xffffffff);
  const rss = packet.rss;
  if (rss === undefined) return undefined;
  if (rss === null || typeof rss !== 'object' || (rss.hashType !== 'l4' && rss.hashType !== 'l3')) {
    throw new ValidationError('packet.rss', rss, "must be { key?, hashType: 'l4' | 'l3' }");
  }
  if (rss.hashType === 'l3') return undefined;
  let t: ToeplitzHasher | undefined;
  if (rss.key === undefined) t = defaultRss ??= new ToeplitzHasher();
  else {
    t = rssHashers.get(rss.key);
    if (!t) { t = new ToeplitzHasher(rss.key); rssHashers.set(rss.key, t); }
  }
  const sport = Uint16Array.of(checkInt('flow.sport', flow.sport ?? 0, 0, 65535));
  const dport = Uint16Array.of(checkInt('flow.dport', flow.dport ?? 0, 0, 65535));
  const out = new Uint32Array(1);
  if (addressFamily(flow.src) === 6) t.hashV6(Uint32Array.from(ipv6ToWords(flow.src, 'flow.src')), Uint32Array.from(ipv6ToWords(flow.dst, 'flow.dst')), out, sport, dport);
  else t.hashV4(Uint32Array.of(ipv4ToNumber(flow.src, 'flow.src')), Uint32Array.of(ipv4ToNumber(flow.dst, 'flow.dst')), out, sport, dport);
  return out[0]!;
}

/**
 * A weighted multipath route (or hash-threshold nexthop group) with its hashing settings, for
 * repeated predictions. Weights are in the kernel's nexthop order (`ip route show` order;
 * group entries in the order they were given).
 */
export class MultipathRoute {
  readonly upperBounds: Int32Array;
  readonly #opts: Resolved;

  constructor(weights: ArrayLike<number>, options: MultipathOptions & { alive?: ArrayLike<boolean> }) {
    this.upperBounds = multipathUpperBounds(weights, options?.alive);
    this.#opts = resolve(options);
  }

  /** Nexthop index for each IPv4 flow: hash and choice in one native pass. */
  predictV4(flows: FlowsV4, out: Uint16Array): Uint16Array {
    const o = checkArray('out', out, Uint16Array, 0);
    const f = flowsV4(flows, o.length);
    const r = this.#opts;
    nativeHash().mpPredictV4(f.saddr, f.daddr, f.sport, f.dport, f.proto, this.upperBounds, o, r.policy, r.seed, r.fields, r.packetPath);
    return o;
  }

  /** Nexthop index for each IPv6 flow. */
  predictV6(flows: FlowsV6, out: Uint16Array): Uint16Array {
    const o = checkArray('out', out, Uint16Array, 0);
    const f = flowsV6(flows, o.length);
    const r = this.#opts;
    nativeHash().mpPredictV6(f.saddr, f.daddr, f.sport, f.dport, f.proto, f.flowLabel, this.upperBounds, o, r.policy, r.seed, r.fields, r.packetPath);
    return o;
  }

  /**
   * Nexthop index for one flow. `packet`: the hash a forwarded packet already carries (policy 1
   * on the packet path uses it, >> 1, instead of hashing the headers; other policies ignore it).
   */
  predict(flow: Flow, packet?: PacketHash): number {
    const l4 = this.#opts.policy === 1 && this.#opts.packetPath ? packetL4Hash(flow, packet) : undefined;
    if (l4 !== undefined) return this.selectHash(l4 >>> 1);
    const h = multipathHash(flow, { policy: this.#opts.policy as 0, seed: this.#opts.seed, fields: this.#opts.fields, path: this.#opts.packetPath ? 'packet' : 'flow' });
    const out = new Uint16Array(1);
    nativeHash().mpSelect(Uint32Array.of(h), this.upperBounds, out);
    return out[0] ?? 0;
  }

  /** Nexthop index for a 31-bit multipath hash (fib_select_multipath's comparison alone). */
  selectHash(hash: number): number {
    const h = checkInt('hash', hash, 0, 0x7fffffff);
    const out = new Uint16Array(1);
    nativeHash().mpSelect(Uint32Array.of(h), this.upperBounds, out);
    return out[0] ?? 0;
  }
}

/** Plain flow objects -> struct-of-arrays, split by family; index[] maps back to the input. */
export function flowsFromObjects(flows: readonly Flow[]): { v4: FlowsV4 & { index: Uint32Array }; v6: FlowsV6 & { index: Uint32Array } } {
  if (!Array.isArray(flows)) throw new ValidationError('flows', flows, 'must be an array of flows');
  const n4 = flows.filter((f) => addressFamily(f?.src) === 4).length;
  const n6 = flows.length - n4;
  const v4 = { saddr: new Uint32Array(n4), daddr: new Uint32Array(n4), sport: new Uint16Array(n4), dport: new Uint16Array(n4), proto: new Uint8Array(n4), index: new Uint32Array(n4) };
  const v6 = { saddr: new Uint32Array(4 * n6), daddr: new Uint32Array(4 * n6), sport: new Uint16Array(n6), dport: new Uint16Array(n6), proto: new Uint8Array(n6), flowLabel: new Uint32Array(n6), index: new Uint32Array(n6) };
  let i4 = 0, i6 = 0;
  flows.forEach((f, i) => {
    const at = `flows[${i}]`;
    if (f === null || typeof f !== 'object') throw new ValidationError(at, f, 'must be a flow object');
    const sp = checkInt(`${at}.sport`, f.sport ?? 0, 0, 65535);
    const dp = checkInt(`${at}.dport`, f.dport ?? 0, 0, 65535);
    const pr = protoNumber(f.proto, `${at}.proto`);
    if (addressFamily(f.src) === 4) {
      v4.saddr[i4] = ipv4ToNumber(f.src, `${at}.src`);
      v4.daddr[i4] = ipv4ToNumber(f.dst, `${at}.dst`);
      v4.sport[i4] = sp; v4.dport[i4] = dp; v4.proto[i4] = pr; v4.index[i4] = i;
      i4++;
    } else {
      v6.saddr.set(ipv6ToWords(f.src, `${at}.src`), 4 * i6);
      v6.daddr.set(ipv6ToWords(f.dst, `${at}.dst`), 4 * i6);
      v6.sport[i6] = sp; v6.dport[i6] = dp; v6.proto[i6] = pr;
      v6.flowLabel[i6] = checkInt(`${at}.flowLabel`, f.flowLabel ?? 0, 0, 0xfffff);
      v6.index[i6] = i;
      i6++;
    }
  });
  return { v4, v6 };
}
