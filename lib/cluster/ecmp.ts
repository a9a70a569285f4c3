// Which flows does the router send to another director when its ECMP route changes? Exact over
// the 31-bit multipath hash space, before the change happens.
//
// Hash-threshold (net/ipv4/fib_semantics.c fib_rebalance + fib_select_multipath; nexthop groups:
// net/ipv4/nexthop.c nh_hthr_group_rebalance + nexthop_select_path_hthr): with w the running sum
// of weights in nexthop order, path i owns the hashes up to
// upper_bound_i = DIV_ROUND_CLOSEST(w_i << 31, total) - 1; a flow takes the first path whose bound
// is >= its hash. Removing one path re-divides the whole space, so besides the removed path's own
// flows, some flows move between the surviving paths: this module measures both exactly.
// Dead paths: a multipath route (RTA_MULTIPATH) gives a dead nexthop bound -1 and leaves it out
// of the total (fib_rebalance); a nexthop group keeps the bounds and skips a nexthop that is not
// good, so its hashes fall to the next good one (the last ones to the first good one).
//
// Resilient groups (nexthop_select_path_res): bucket = hash % buckets, bucket -> nexthop read
// from the kernel. Removing a nexthop re-assigns exactly its buckets (orphans migrate at once);
// other buckets move only when their nexthop is over its share and idle (timers): read the table
// after the change, or bound it.
import { ValidationError } from '../errors.js';
import { multipathHash, multipathUpperBounds, packetL4Hash, type Flow, type MultipathOptions, type PacketHash } from '../hash/multipath.js';
import type { NextHop, Route } from '../rtnl/route-types.js';

/** One path of an ECMP route: its identity (gateway, director name, nexthop id) and weight. */
export interface EcmpPath {
  id: string | number;
  /** 1..256 for route nexthops, 1..65535 in nexthop groups. Default 1. */
  weight?: number;
  /** false: the kernel considers it dead (link down, RTNH_F_DEAD). Default true. */
  alive?: boolean;
}

/** A flow for ECMP prediction; `packet` is the hash a forwarded packet already carries (policy 1). */
export type EcmpFlow = Flow & { packet?: PacketHash };

export interface EcmpOptions {
  /** The router's hashing (seed, policy, fields, path): needed for `flows`. */
  hash?: MultipathOptions;
  flows?: readonly EcmpFlow[];
  /** 'route' (default): an RTA_MULTIPATH route; 'group': a hash-threshold nexthop group (dead entries differ). */
  kind?: 'route' | 'group';
}

export const HASH_SPACE = 2 ** 31;

export interface EcmpTransition {
  from: string | null;
  to: string | null;
  /** Hash values (of 2^31) that move from `from` to `to`. */
  hashes: number;
  share: number;
}

export interface EcmpFlowMove {
  index: number;
  /** The 31-bit hash the kernel compares. */
  hash: number;
  before: string | null;
  after: string | null;
  moved: boolean;
}

export interface EcmpDisruption {
  kind: 'hash-threshold';
  /** Hash values whose path changes, of HASH_SPACE (2^31). */
  movedHashes: number;
  share: number;
  /** Of those: flows moved between two paths that carry traffic both before and after (the rehash a plain ECMP route imposes). */
  survivorHashes: number;
  survivorShare: number;
  transitions: EcmpTransition[];
  /** The hash range [from, to] of each path before and after. */
  before: Array<{ path: string; from: number; to: number }>;
  after: Array<{ path: string; from: number; to: number }>;
  flows?: EcmpFlowMove[];
}

interface Segment { from: number; to: number; path: string | null }

/** The owner of every hash as sorted, contiguous segments covering [0, 2^31 - 1]. */
function segmentsOf(paths: readonly EcmpPath[], kind: 'route' | 'group', field: string): Segment[] {
  if (!Array.isArray(paths)) throw new ValidationError(field, paths, 'must be a list of { id, weight?, alive? }');
  const ids = paths.map((p, i) => {
    if (p === null || typeof p !== 'object' || (typeof p.id !== 'string' && typeof p.id !== 'number')) throw new ValidationError(`${field}[${i}].id`, p?.id, 'must be a string or a number');
    return String(p.id);
  });
  if (new Set(ids).size !== ids.length) throw new ValidationError(field, ids, 'must not list a path twice');
  const alive = paths.map((p) => p.alive !== false);
  if (paths.length === 0 || !alive.some(Boolean)) return [{ from: 0, to: HASH_SPACE - 1, path: null }];
  const weights = paths.map((p) => p.weight ?? 1);
  const bounds = multipathUpperBounds(weights, kind === 'route' ? alive : undefined);
  const segs: Segment[] = [];
  let lo = 0;
  const firstGood = ids[alive.indexOf(true)]!;
  for (let i = 0; i < paths.length; i++) {
    const ub = bounds[i]!;
    if (ub < lo) continue;
    let owner: string | null = ids[i]!;
    if (!alive[i]) {
      // group: a hash stopping at a dead entry goes on to the next good one, else the first good
      const j = alive.indexOf(true, i + 1);
      owner = j >= 0 ? ids[j]! : firstGood;
    }
    segs.push({ from: lo, to: ub, path: owner });
    lo = ub + 1;
  }
  if (lo <= HASH_SPACE - 1) segs.push({ from: lo, to: HASH_SPACE - 1, path: firstGood });
  return segs;
}

function ownerOf(segs: Segment[], h: number): string | null {
  let lo = 0, hi = segs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (segs[mid]!.to < h) lo = mid + 1;
    else hi = mid;
  }
  return segs[lo]!.path;
}

function merge(segs: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segs) {
    const last = out[out.length - 1];
    if (last && last.path === s.path && last.to + 1 === s.from) last.to = s.to;
    else out.push({ ...s });
  }
  return out;
}

/**
 * The paths of a multipath route as read from the kernel (routes.list(), routes.get()), in the
 * kernel's nexthop order: id 'GATEWAY' (or 'dev N' without one), its weight, dead ones not alive.
 * A route over a nexthop group (`nhid`) has none here: read the group (nexthops.get) and use
 * ecmpPathsOfGroup.
 */
export function ecmpPathsOfRoute(route: Pick<Route, 'nexthops' | 'gateway' | 'dev' | 'nhid' | 'dead'>): EcmpPath[] {
  if (route === null || typeof route !== 'object') throw new ValidationError('route', route, 'must be a route read from the kernel');
  if (route.nexthops?.length) return route.nexthops.map((n) => ({ id: n.gateway ?? `dev ${n.dev}`, weight: n.weight, alive: !n.dead }));
  if (route.nhid !== undefined) throw new ValidationError('route.nhid', route.nhid, 'names a nexthop group: read it with nexthops.get() and use ecmpPathsOfGroup()');
  return [{ id: route.gateway ?? `dev ${route.dev}`, weight: 1, alive: !route.dead }];
}

/**
 * The members of a hash-threshold nexthop group (nexthops.get(id)) as paths, for kind 'group'.
 * id = the member's nexthop id, or, with `nexthops` (nexthops.list()), its gateway: a routing
 * daemon may rebuild the group from new nexthop objects, and the gateway is what stays.
 */
export function ecmpPathsOfGroup(group: Pick<NextHop, 'group' | 'id'>, nexthops?: readonly Pick<NextHop, 'id' | 'gateway' | 'dev'>[]): EcmpPath[] {
  if (!group || !Array.isArray(group.group)) throw new ValidationError('group', group, 'must be a nexthop group read from the kernel');
  const byId = new Map((nexthops ?? []).map((n) => [n.id, n]));
  return group.group.map((m) => {
    const n = byId.get(m.id);
    if (nexthops && !n) throw new ValidationError('nexthops', m.id, 'must hold every member of the group (read it with nexthops.list())');
    return { id: n ? n.gateway ?? `dev ${n.dev}` : m.id, weight: m.weight };
  });
}

/** The 31-bit hash the kernel compares for one flow (the packet's L4 hash >> 1 when it carries one under policy 1). */
export function ecmpFlowHash(flow: EcmpFlow, hash: MultipathOptions): number {
  if ((hash.policy ?? 0) === 1 && hash.path !== 'flow') {
    const l4 = packetL4Hash(flow, flow.packet);
    if (l4 !== undefined) return l4 >>> 1;
  }
  return multipathHash(flow, hash);
}

/**
 * Predicts, exactly over the 31-bit hash space, which share of the router's flows changes path
 * when a hash-threshold ECMP route goes from `before` to `after` (a path removed, added,
 * re-weighted, dead), which part of it moves between surviving paths, and where each of
 * `options.flows` goes.
 */
export function predictEcmpDisruption(before: readonly EcmpPath[], after: readonly EcmpPath[], options: EcmpOptions = {}): EcmpDisruption {
  const kind = options.kind ?? 'route';
  if (kind !== 'route' && kind !== 'group') throw new ValidationError('options.kind', kind, "must be 'route' or 'group'");
  const a = segmentsOf(before, kind, 'before');
  const b = segmentsOf(after, kind, 'after');
  const liveA = new Set(a.map((s) => s.path)), liveB = new Set(b.map((s) => s.path));
  const trans = new Map<string, EcmpTransition>();
  let moved = 0, survivors = 0;
  let i = 0, j = 0, lo = 0;
  while (i < a.length && j < b.length) {
    const hi = Math.min(a[i]!.to, b[j]!.to);
    const n = hi - lo + 1;
    const x = a[i]!.path, y = b[j]!.path;
    if (x !== y) {
      moved += n;
      if (x !== null && y !== null && liveB.has(x) && liveA.has(y)) survivors += n;
      const k = `${x}\u0000${y}`;
      const t = trans.get(k) ?? { from: x, to: y, hashes: 0, share: 0 };
      t.hashes += n;
      trans.set(k, t);
    }
    lo = hi + 1;
    if (a[i]!.to === hi) i++;
    if (b[j]!.to === hi) j++;
  }
  const transitions = [...trans.values()].map((t) => ({ ...t, share: t.hashes / HASH_SPACE })).sort((p, q) => q.hashes - p.hashes);
  const regions = (s: Segment[]) => merge(s).filter((x) => x.path !== null).map((x) => ({ path: x.path!, from: x.from, to: x.to }));
  const out: EcmpDisruption = {
    kind: 'hash-threshold', movedHashes: moved, share: moved / HASH_SPACE, survivorHashes: survivors, survivorShare: survivors / HASH_SPACE,
    transitions, before: regions(a), after: regions(b),
  };
  if (options.flows !== undefined) {
    if (!Array.isArray(options.flows)) throw new ValidationError('options.flows', options.flows, 'must be a list of flows');
    if (!options.hash) throw new ValidationError('options.hash', options.hash, 'must give the router hashing ({ seed, policy, ... }) to place flows');
    out.flows = options.flows.map((f, index) => {
      const h = ecmpFlowHash(f, options.hash!);
      const x = ownerOf(a, h), y = ownerOf(b, h);
      return { index, hash: h, before: x, after: y, moved: x !== y };
    });
  }
  return out;
}

export interface ResilientDisruption {
  kind: 'resilient';
  totalBuckets: number;
  /** Buckets whose nexthop changes (exact when `after` is given or only removals are planned). */
  movedBuckets: number;
  share: number;
  /** Per (from, to) nexthop id; `to` null when the kernel chooses (a survivor). */
  transitions: Array<{ from: number; to: number | null; buckets: number }>;
  flows?: Array<{ index: number; hash: number; bucket: number; before: number; after: number | null; moved: boolean }>;
}

/**
 * Resilient nexthop group: which buckets (and flows) change nexthop between the bucket table read
 * now (`buckets[i]` = nexthop id, RTM_GETNEXTHOPBUCKET) and either the table read after the
 * change (`{ after }`) or a planned removal of nexthops (`{ remove: [ids] }`: exactly their
 * buckets move, to survivors the kernel picks).
 */
export function predictResilientDisruption(buckets: ArrayLike<number>, change: { after: ArrayLike<number> } | { remove: readonly number[] },
  options: { hash?: MultipathOptions; flows?: readonly EcmpFlow[] } = {}): ResilientDisruption {
  if (!buckets || typeof buckets.length !== 'number' || buckets.length < 1) throw new ValidationError('buckets', buckets, 'must be the bucket -> nexthop id table');
  const n = buckets.length;
  let after: (number | null)[];
  if (change && 'after' in change) {
    if (!change.after || change.after.length !== n) throw new ValidationError('change.after', change.after, `must be a bucket table of ${n} entries`);
    after = Array.from(change.after);
  } else if (change && 'remove' in change && Array.isArray(change.remove)) {
    const rm = new Set(change.remove);
    after = Array.from(buckets, (id) => (rm.has(id) ? null : id));
    if (after.every((x) => x === null)) throw new ValidationError('change.remove', change.remove, 'must leave at least one nexthop');
  } else throw new ValidationError('change', change, 'must be { after: buckets } or { remove: [nexthop ids] }');
  const trans = new Map<string, { from: number; to: number | null; buckets: number }>();
  let moved = 0;
  for (let i = 0; i < n; i++) {
    if (after[i] === buckets[i]) continue;
    moved++;
    const k = `${buckets[i]} ${after[i]}`;
    const t = trans.get(k) ?? { from: buckets[i]!, to: after[i]!, buckets: 0 };
    t.buckets++;
    trans.set(k, t);
  }
  const res: ResilientDisruption = { kind: 'resilient', totalBuckets: n, movedBuckets: moved, share: moved / n,
    transitions: [...trans.values()].sort((p, q) => q.buckets - p.buckets) };
  if (options.flows !== undefined) {
    if (!options.hash) throw new ValidationError('options.hash', options.hash, 'must give the router hashing ({ seed, policy, ... }) to place flows');
    res.flows = options.flows.map((f, index) => {
      const hash = ecmpFlowHash(f, options.hash!);
      const bucket = hash % n;
      const x = buckets[bucket]!, y = after[bucket]!;
      return { index, hash, bucket, before: x, after: y, moved: x !== y };
    });
  }
  return res;
}

/** Report lines for predictEcmpDisruption / predictResilientDisruption. */
export function formatEcmpDisruption(d: EcmpDisruption | ResilientDisruption, options: { maxTransitions?: number } = {}): string[] {
  const pct = (x: number) => `${(Math.round(x * 10000) / 100).toFixed(2)}%`;
  const max = options.maxTransitions ?? 6;
  const lines: string[] = [];
  if (d.kind === 'hash-threshold') {
    lines.push(`ECMP (hash-threshold): ${pct(d.share)} of flows change path; ${pct(d.survivorShare)} move between paths that stay`);
    for (const t of d.transitions.slice(0, max)) lines.push(`  ${t.from ?? 'none'} -> ${t.to ?? 'none'}: ${pct(t.share)}`);
  } else {
    lines.push(`ECMP (resilient): ${d.movedBuckets} of ${d.totalBuckets} buckets change nexthop (${pct(d.share)})`);
    for (const t of d.transitions.slice(0, max)) lines.push(`  nexthop ${t.from} -> ${t.to ?? 'a survivor'}: ${t.buckets} buckets`);
  }
  if (d.transitions.length > max) lines.push(`  ${d.transitions.length - max} more`);
  if (d.flows) lines.push(`flows: ${d.flows.filter((f) => f.moved).length} of ${d.flows.length} move`);
  return lines;
}
