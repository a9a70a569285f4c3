// The planner: current state + desired state -> the ordered operations that turn one into the
// other, and nothing else. Pure (no I/O); apply.ts reads the kernel and executes the plan.
//
// Order of a plan (safe for live traffic):
//   0. addresses and routes (adds, replaces, then deletes), then the lvskit-owned nf_tables
//      tables (each replaced atomically, or deleted), so marks exist before an fwmark service
//      that needs them;
//   1. timeouts, then sync daemons (stop changed/removed, start new/changed);
//   2. new services, each with all its destinations;
//   3. changed services: service edit, then destination adds, then edits, then deletes, so a live
//      service keeps serving throughout and never has fewer destinations than at the start or the
//      end; a live service is never emptied unless `allowEmpty` says so;
//   4. removed services last.
// With `drain`, a destination (or service) being removed is first set to weight 0; the deletes
// move to `afterDrain`, which apply() runs once its connections are gone or the wait is over.
//
// Destination order: the kernel inserts a new destination at the HEAD of its service's list, and
// that list order is what the sh and mh schedulers build their tables from. The canonical order is
// ascending (IPv4 before IPv6, then address bytes, then port) as the kernel dumps the list; to get
// it, destinations are added in descending order. With order 'strict' (the default for sh and mh)
// the planner also re-adds the fewest existing destinations needed so that the final list IS the
// canonical order, whatever the history: directors given the same desired state then build
// identical sh/mh tables. With 'add', existing destinations keep their place.
import { maskAddress, parseIPv6, parsePrefix } from '../rtnl/ip.js';
import type { DestinationChanges, DestinationSpec, ServiceChanges, ServiceKey, ServiceSpec, SyncDaemon, Timeouts } from '../ipvs/types.js';
import {
  destinationId,
  destinationSpecOf,
  normalizeDestination,
  normalizeService,
  serviceId,
  serviceSpecOf,
  type LvsState,
  type NormalDestination,
  type NormalService,
  type StateAddress,
  type StateRoute,
  type StateService,
} from '../format/state.js';
import { LvskitError, ValidationError } from '../errors.js';
import { canonicalRule, canonicalTable } from '../nft/state.js';
import type { NftFamily, NftTableDefinition } from '../nft/types.js';

export type DestRef = { address: string; port: number };

export type PlanOp =
  | { op: 'setTimeouts'; timeouts: Partial<Timeouts> }
  | { op: 'stopDaemon'; state: 'master' | 'backup' }
  | { op: 'startDaemon'; daemon: SyncDaemon }
  | { op: 'addService'; spec: ServiceSpec }
  | { op: 'editService'; key: ServiceKey; changes: ServiceChanges }
  | { op: 'deleteService'; key: ServiceKey }
  | { op: 'addDestination'; service: ServiceKey; dest: DestinationSpec }
  | { op: 'editDestination'; service: ServiceKey; dest: DestRef; changes: DestinationChanges }
  | { op: 'deleteDestination'; service: ServiceKey; dest: DestRef }
  | { op: 'addAddress'; address: StateAddress }
  | { op: 'deleteAddress'; address: StateAddress }
  /** Puts back a wanted IPv4 address the kernel may have dropped with the primary of its subnet. */
  | { op: 'replaceAddress'; address: StateAddress }
  | { op: 'addRoute'; route: StateRoute }
  | { op: 'replaceRoute'; route: StateRoute }
  | { op: 'deleteRoute'; route: StateRoute }
  /** Installs the whole table atomically (Nft.replaceTable). */
  | { op: 'replaceTable'; table: NftTableDefinition }
  | { op: 'deleteTable'; table: { family: NftFamily; name: string } };

export interface DrainTarget {
  service: ServiceKey;
  dest: DestRef;
}

export interface Plan {
  /** Operations to send now, in order (one batch). */
  ops: PlanOp[];
  /** With drain: what to delete once the drained destinations have no connections (a second batch). */
  afterDrain: PlanOp[];
  /** With drain: destinations set to weight 0 whose connections apply() waits for. */
  drain: DrainTarget[];
}

export interface PlanOptions {
  /** Set removed destinations to weight 0 first and delete them after (see apply's drain wait). */
  drain?: boolean;
  /** Allow a live service with destinations to end up with none (default false: the plan is refused). */
  allowEmpty?: boolean;
  /**
   * Destination order: 'strict' makes the final list the canonical order (re-adding the fewest
   * destinations needed), 'add' only adds new ones in canonical order, 'auto' (default) is strict
   * for sh and mh (whose tables depend on the order) and 'add' otherwise.
   */
  order?: 'auto' | 'strict' | 'add';
  /**
   * The largest share (0..1) of what exists that one plan may delete, counted separately for
   * IPVS services, IPVS destinations (removed from services that stay; a deleted service counts
   * once, as a service), addresses and routes (default 0.5). A plan may always delete one object of a kind, so a table of one or two can
   * still change. Deletions the planner makes only to re-add (destination order) do not count.
   * Guards against a truncated desired state (a download cut short) deleting most of a director.
   */
  maxDeleteShare?: number;
  /**
   * Lift both deletion guards: a desired state with no services may remove every existing service
   * (default false: refused, since an empty file is far more often an accident than a wish), and
   * maxDeleteShare does not apply.
   */
  allowWipe?: boolean;
}

/** Why a plan was refused: a service left empty, a wipe, or too large a share deleted. */
export type PlanRefusal = 'empty-service' | 'wipe' | 'mass-delete' | 'invalid';

export class PlanError extends LvskitError {
  override name = 'PlanError';
  /** Set when the plan was refused by a guard an option lifts (see PlanOptions). */
  readonly refusal: PlanRefusal | undefined;
  constructor(message: string, refusal?: PlanRefusal) {
    super(message);
    this.refusal = refusal;
  }
}

/** The default of PlanOptions.maxDeleteShare. */
export const DEFAULT_MAX_DELETE_SHARE = 0.5;

// ---- canonical destination order --------------------------------------------------------------

function addrBytes(a: string): number[] {
  const v6 = parseIPv6(a);
  return v6 ? Array.from(v6) : a.split('.').map(Number);
}

/** The canonical order (as the kernel would dump it): IPv4 first, then address bytes, then port. */
export function compareCanonical(a: DestRef, b: DestRef): number {
  const x = addrBytes(normalizeDestination({ ...a }).address);
  const y = addrBytes(normalizeDestination({ ...b }).address);
  if (x.length !== y.length) return x.length - y.length;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return a.port - b.port;
}

// ---- diffs ----------------------------------------------------------------------------------

function serviceChanges(cur: NormalService, want: NormalService): ServiceChanges | undefined {
  const c: ServiceChanges = {};
  if (cur.scheduler !== want.scheduler) c.scheduler = want.scheduler as ServiceChanges['scheduler'];
  const flags: NonNullable<ServiceChanges['flags']> = {};
  for (const f of ['onePacket', 'schedFallback', 'schedPort', 'sched3'] as const) if (cur[f] !== want[f]) flags[f] = want[f];
  if (Object.keys(flags).length) c.flags = flags;
  if (want.persistenceTimeout === 0) {
    if (cur.persistenceTimeout !== 0) c.persistence = null;
  } else if (cur.persistenceTimeout !== want.persistenceTimeout || cur.netmask !== want.netmask) {
    c.persistence = { timeout: want.persistenceTimeout, netmask: want.netmask };
  }
  if (cur.persistenceEngine !== want.persistenceEngine) c.persistenceEngine = want.persistenceEngine === '' ? null : want.persistenceEngine;
  return Object.keys(c).length ? c : undefined;
}

function destChanges(cur: NormalDestination, want: NormalDestination): DestinationChanges | undefined {
  const c: DestinationChanges = {};
  if (cur.forward !== want.forward) c.forward = want.forward;
  if (cur.weight !== want.weight) c.weight = want.weight;
  if (cur.upperThreshold !== want.upperThreshold) c.upperThreshold = want.upperThreshold;
  if (cur.lowerThreshold !== want.lowerThreshold) c.lowerThreshold = want.lowerThreshold;
  if (
    want.forward === 'tunnel' &&
    (cur.forward !== 'tunnel' ||
      cur.tunnelType !== want.tunnelType ||
      cur.tunnelPort !== want.tunnelPort ||
      cur.tunnelChecksum !== want.tunnelChecksum ||
      cur.tunnelRemoteChecksum !== want.tunnelRemoteChecksum)
  ) {
    c.tunnel = destinationSpecOf(want).tunnel!;
  }
  return Object.keys(c).length ? c : undefined;
}

function sameDaemon(cur: SyncDaemon, want: SyncDaemon): boolean {
  // fields the desired state leaves out are whatever the kernel chose (defaults)
  return (
    cur.interface === want.interface &&
    cur.syncId === want.syncId &&
    (want.maxLength === undefined || cur.maxLength === want.maxLength) &&
    (want.group === undefined || cur.group === want.group) &&
    (want.port === undefined || cur.port === want.port) &&
    (want.ttl === undefined || cur.ttl === want.ttl)
  );
}

/** A table's key: 'inet lvs'. */
export const nftTableId = (t: { family: string; name: string }): string => `${t.family} ${t.name}`;

const addrId = (a: StateAddress) => `${a.interface} ${a.address.includes('/') ? a.address : `${a.address}/${a.address.includes(':') ? 128 : 32}`}`;

/**
 * Whether two IPv4 addresses on one interface are in one subnet (same prefix length and network):
 * the kernel makes the later one a secondary of the first, and deleting the primary deletes its
 * secondaries too unless net.ipv4.conf.IF.promote_secondaries is set.
 */
function sameSubnet4(a: StateAddress, b: StateAddress): boolean {
  if (a.interface !== b.interface) return false;
  const x = parsePrefix(a.address);
  const y = parsePrefix(b.address);
  if (!x || !y || x.family !== 4 || y.family !== 4 || x.prefixLength !== y.prefixLength || x.prefixLength === 32) return false;
  const m = maskAddress(x.bytes, x.prefixLength);
  const n = maskAddress(y.bytes, y.prefixLength);
  return m.every((v, i) => v === n[i]);
}

/** A route's address family: its destination's, or for 'default' its gateways' (IPv4 when none says). */
export function routeFamily(r: StateRoute): 4 | 6 {
  if (r.destination !== 'default') return r.destination.includes(':') ? 6 : 4;
  const g = r.gateway ?? r.nexthops?.find((h) => h.gateway !== undefined)?.gateway;
  return g !== undefined && g.includes(':') ? 6 : 4;
}

const isDefault = (d: string) => d === 'default' || d === '0.0.0.0/0' || d === '::/0';
/** The route's key in the kernel (table, family + prefix, metric): 'default' of each family is its own. */
export const routeId = (r: StateRoute): string => `${r.table ?? 254} ${isDefault(r.destination) ? (routeFamily(r) === 6 || r.destination === '::/0' ? '::/0' : '0.0.0.0/0') : r.destination} ${r.metric ?? 0}`;

/**
 * Whether the current route already is the wanted one. Fields the wanted route leaves out are
 * the kernel's choice and not compared (an interface the kernel found for a gateway); next hops
 * compare as a set (gateway, interface when given, weight).
 */
function sameRoute(cur: StateRoute, want: StateRoute): boolean {
  if ((cur.gateway ?? '') !== (want.gateway ?? '')) return false;
  if (want.interface !== undefined && cur.interface !== want.interface) return false;
  if (!want.nexthops || !cur.nexthops) return !want.nexthops && !cur.nexthops;
  if (want.nexthops.length !== cur.nexthops.length) return false;
  const left = cur.nexthops.slice();
  for (const w of want.nexthops) {
    const i = left.findIndex((c) => (c.gateway ?? '') === (w.gateway ?? '') && (w.interface === undefined || c.interface === w.interface) && (c.weight ?? 1) === (w.weight ?? 1));
    if (i < 0) return false;
    left.splice(i, 1);
  }
  return true;
}

/** `ip route`-like text of a route. */
function routeText(r: StateRoute): string {
  const parts = [isDefault(r.destination) && !(r.destination === '::/0' && r.gateway === undefined) ? 'default' : r.destination];
  if (r.gateway) parts.push(`via ${r.gateway}`);
  if (r.interface) parts.push(`dev ${r.interface}`);
  if (r.table !== undefined && r.table !== 254) parts.push(`table ${r.table}`);
  if (r.metric) parts.push(`metric ${r.metric}`);
  for (const h of r.nexthops ?? []) parts.push(`nexthop${h.gateway ? ` via ${h.gateway}` : ''}${h.interface ? ` dev ${h.interface}` : ''} weight ${h.weight ?? 1}`);
  return parts.join(' ');
}

interface Dst {
  n: NormalDestination;
  spec: DestinationSpec;
}

function destsOf(s: StateService): Dst[] {
  return (s.destinations ?? []).map((d) => ({ n: normalizeDestination(d), spec: d }));
}

/**
 * Computes the plan from `current` (as read from the kernel: destinations in the kernel's list
 * order) to `desired`. Sections absent from `desired` are left alone. Throws PlanError when the
 * plan would empty a live service and `allowEmpty` is not set.
 */
export function planChanges(current: LvsState, desired: LvsState, options: PlanOptions = {}): Plan {
  const ops: PlanOp[] = [];
  const afterDrain: PlanOp[] = [];
  const drain: DrainTarget[] = [];
  const orderMode = options.order ?? 'auto';

  // 0. addresses and routes first (a VIP is in place before its service; they do not depend on
  // IPVS), adds before deletes (a VIP moving between interfaces is never absent)
  if (desired.addresses) {
    const cur = new Map((current.addresses ?? []).map((a) => [addrId(a), a]));
    const want = new Map(desired.addresses.map((a) => [addrId(a), a]));
    for (const [id, a] of want) if (!cur.has(id)) ops.push({ op: 'addAddress', address: a });
    const deleted = [...cur].filter(([id]) => !want.has(id)).map(([, a]) => a);
    // in reverse of the kernel's list order: secondaries (listed after their primary) go first, so
    // none is already gone with its primary when its own delete comes
    for (const a of deleted.slice().reverse()) ops.push({ op: 'deleteAddress', address: a });
    // a wanted address in the subnet of a deleted one may have been its secondary: put it back
    for (const a of want.values()) if (deleted.some((d) => sameSubnet4(d, a))) ops.push({ op: 'replaceAddress', address: a });
  }
  if (desired.routes) {
    const cur = new Map((current.routes ?? []).map((r) => [routeId(r), r]));
    const want = new Map(desired.routes.map((r) => [routeId(r), r]));
    for (const [id, r] of want) {
      const c = cur.get(id);
      if (!c) ops.push({ op: 'addRoute', route: r });
      else if (!sameRoute(c, r)) ops.push({ op: 'replaceRoute', route: r });
    }
    for (const [id, r] of cur) if (!want.has(id)) ops.push({ op: 'deleteRoute', route: r });
  }
  // 0b. nf_tables tables: one that differs (canonicalTable) is replaced whole; one the current
  // state has (the caller named it as managed) and the desired state does not is deleted
  if (desired.nftables) {
    const rename = (e: ValidationError, field: string) => new ValidationError(field, e.value, e.message.slice(e.field.length + 1).replace(/, got .*$/, ''));
    const canon = (d: NftTableDefinition, field: string) => {
      try {
        return JSON.stringify(canonicalTable(d));
      } catch (e) {
        if (!(e instanceof ValidationError)) throw e;
        // name the rule: canonicalRule's fields start at 'rule.'
        (d.rules ?? []).forEach((r, j) => {
          try {
            canonicalRule(r, d.family);
          } catch (x) {
            if (x instanceof ValidationError) throw rename(x, `${field}.rules[${j}]${x.field.replace(/^rule/, '')}`);
            throw x;
          }
        });
        throw rename(e, `${field}.${e.field.replace(/^table\.?/, '')}`.replace(/\.$/, ''));
      }
    };
    const cur = new Map((current.nftables ?? []).map((x) => [nftTableId(x), x]));
    desired.nftables.forEach((w, i) => {
      // the desired table is canonicalised (its rules compiled) even when nothing is installed:
      // a rule lvskit cannot encode is refused here, naming its field, before anything is sent
      const wanted = canon(w, `nftables[${i}]`);
      const c = cur.get(nftTableId(w));
      if (!c || ((c as { skippedRules?: number }).skippedRules ?? 0) > 0 || canon(c, `current nftables ${nftTableId(w)}`) !== wanted) ops.push({ op: 'replaceTable', table: w });
    });
    const want = new Set(desired.nftables.map(nftTableId));
    for (const [id, c] of cur) if (!want.has(id)) ops.push({ op: 'deleteTable', table: { family: c.family, name: c.name } });
  }
  // 1. timeouts and daemons
  if (desired.timeouts) {
    const t: Partial<Timeouts> = {};
    for (const k of ['tcp', 'tcpFin', 'udp'] as const) {
      const w = desired.timeouts[k];
      if (w !== undefined && w !== current.timeouts?.[k]) t[k] = w;
    }
    if (Object.keys(t).length) ops.push({ op: 'setTimeouts', timeouts: t });
  }
  if (desired.syncDaemons) {
    const cur = new Map((current.syncDaemons ?? []).map((d) => [d.state, d]));
    const want = new Map(desired.syncDaemons.map((d) => [d.state, d]));
    for (const state of ['master', 'backup'] as const) {
      const c = cur.get(state);
      const w = want.get(state);
      if (c && (!w || !sameDaemon(c, w))) ops.push({ op: 'stopDaemon', state });
      if (w && (!c || !sameDaemon(c, w))) ops.push({ op: 'startDaemon', daemon: w });
    }
  }

  // 2-4. services
  if (desired.services) {
    const cur = new Map((current.services ?? []).map((s) => [serviceId(s.key), s]));
    const want = new Map(desired.services.map((s) => [serviceId(s.key), s]));
    const deletes: PlanOp[] = [];
    // new services, in desired order
    for (const [id, w] of want) {
      if (cur.has(id)) continue;
      const n = normalizeService(w);
      ops.push({ op: 'addService', spec: serviceSpecOf(n) });
      const ds = destsOf(w).sort((a, b) => compareCanonical(b.n, a.n));
      for (const d of ds) ops.push({ op: 'addDestination', service: n.key, dest: destinationSpecOf(d.n, n.family) });
    }
    // changed services
    for (const [id, w] of want) {
      const c = cur.get(id);
      if (!c) continue;
      const cn = normalizeService(c);
      const wn = normalizeService(w);
      const key = wn.key;
      const ch = serviceChanges(cn, wn);
      if (ch) ops.push({ op: 'editService', key, changes: ch });

      const curD = destsOf(c);
      const wantD = destsOf(w);
      const wantById = new Map(wantD.map((d) => [destinationId(d.n), d]));
      const curById = new Map(curD.map((d) => [destinationId(d.n), d]));
      if (curD.length > 0 && wantD.length === 0 && !options.allowEmpty)
        throw new PlanError(`service ${id} would lose all its ${curD.length} destination(s); pass allowEmpty (--allow-empty) to allow it, or delete the service`, 'empty-service');

      // which existing destinations must be re-added so the final list is canonical
      const strict = orderMode === 'strict' || (orderMode === 'auto' && (wn.scheduler === 'sh' || wn.scheduler === 'mh'));
      const canonical = wantD.slice().sort((a, b) => compareCanonical(a.n, b.n)).map((d) => destinationId(d.n));
      const kept = curD.map((d) => destinationId(d.n)).filter((x) => wantById.has(x));
      const untouched = new Set<string>();
      if (strict) {
        // the longest suffix of the canonical list that the kept destinations already hold, in order
        const pos = new Map(kept.map((x, i) => [x, i]));
        let j = canonical.length;
        let last = Infinity;
        while (j > 0) {
          const p = pos.get(canonical[j - 1]!);
          if (p === undefined || p >= last) break;
          last = p;
          j--;
        }
        // kept destinations outside that suffix are deleted and re-added at the head, in order
        for (const x of canonical.slice(j)) untouched.add(x);
      } else for (const x of kept) untouched.add(x);

      const reAdd = kept.filter((x) => !untouched.has(x));
      // adds (new ones and re-added ones), descending so the list reads ascending
      const adds = wantD.filter((d) => !curById.has(destinationId(d.n)) || reAdd.includes(destinationId(d.n)));
      // re-adds first need their old entry out: delete them right before re-adding
      for (const d of adds.sort((a, b) => compareCanonical(b.n, a.n))) {
        const did = destinationId(d.n);
        if (curById.has(did)) ops.push({ op: 'deleteDestination', service: key, dest: { address: d.n.address, port: d.n.port } });
        ops.push({ op: 'addDestination', service: key, dest: destinationSpecOf(d.n, wn.family) });
      }
      // edits of untouched destinations
      for (const x of untouched) {
        const ch2 = destChanges(curById.get(x)!.n, wantById.get(x)!.n);
        if (ch2) ops.push({ op: 'editDestination', service: key, dest: { address: wantById.get(x)!.n.address, port: wantById.get(x)!.n.port }, changes: ch2 });
      }
      // removals
      for (const d of curD) {
        if (wantById.has(destinationId(d.n))) continue;
        const ref = { address: d.n.address, port: d.n.port };
        if (options.drain) {
          if (d.n.weight !== 0) ops.push({ op: 'editDestination', service: key, dest: ref, changes: { weight: 0 } });
          drain.push({ service: key, dest: ref });
          afterDrain.push({ op: 'deleteDestination', service: key, dest: ref });
        } else ops.push({ op: 'deleteDestination', service: key, dest: ref });
      }
    }
    // removed services
    for (const [id, c] of cur) {
      if (want.has(id)) continue;
      const key = normalizeService(c).key;
      if (options.drain && (c.destinations ?? []).length) {
        for (const d of destsOf(c)) {
          const ref = { address: d.n.address, port: d.n.port };
          if (d.n.weight !== 0) ops.push({ op: 'editDestination', service: key, dest: ref, changes: { weight: 0 } });
          drain.push({ service: key, dest: ref });
        }
        afterDrain.push({ op: 'deleteService', key });
      } else deletes.push({ op: 'deleteService', key });
    }
    for (const d of deletes) ops.push(d);
  }

  const plan = { ops, afterDrain, drain };
  guardDeletes(current, desired, plan, options);
  return plan;
}

// ---- deletion guards ----------------------------------------------------------------------------

function checkShareOption(v: unknown): number {
  if (v === undefined) return DEFAULT_MAX_DELETE_SHARE;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new PlanError(`maxDeleteShare must be a number in 0..1, got ${String(v)}`, 'invalid');
  return v;
}

/**
 * Refuses a plan that empties the IPVS table from a desired state with no services, or that
 * deletes more than maxDeleteShare of any kind of object (see PlanOptions). Counts what the plan
 * really removes: deleted services, destinations deleted and not re-added from services that stay
 * (in ops or afterDrain), addresses and routes deleted.
 */
function guardDeletes(current: LvsState, desired: LvsState, plan: Plan, options: PlanOptions): void {
  const share = checkShareOption(options.maxDeleteShare);
  if (options.allowWipe === true) return;
  const curServices = current.services ?? [];
  if (desired.services && desired.services.length === 0 && curServices.length > 0)
    throw new PlanError(
      `refusing to delete all ${curServices.length} IPVS service(s): the desired state has no services (an empty or cut-short file?); pass allowWipe (--allow-wipe) if this is what you want`,
      'wipe',
    );
  const all = [...plan.ops, ...plan.afterDrain];
  const deletedServices = new Set<string>();
  const removedDests = new Set<string>();
  const readded = new Set<string>();
  let addresses = 0;
  let routes = 0;
  let tables = 0;
  for (const o of all) {
    if (o.op === 'deleteService') deletedServices.add(serviceId(o.key));
    else if (o.op === 'deleteDestination') removedDests.add(`${serviceId(o.service)} ${destinationId(o.dest)}`);
    else if (o.op === 'addDestination') readded.add(`${serviceId(o.service)} ${destinationId(o.dest)}`);
    else if (o.op === 'deleteAddress') addresses++;
    else if (o.op === 'deleteRoute') routes++;
    else if (o.op === 'deleteTable') tables++;
  }
  let curDests = 0;
  let dests = 0;
  for (const s of curServices) {
    const sid = serviceId(s.key);
    for (const d of s.destinations ?? []) {
      curDests++;
      const id = `${sid} ${destinationId(normalizeDestination({ ...d }))}`;
      if (!deletedServices.has(sid) && removedDests.has(id) && !readded.has(id)) dests++;
    }
  }
  const kinds: [string, number, number][] = [
    ['IPVS service(s)', deletedServices.size, curServices.length],
    ['IPVS destination(s)', dests, curDests],
    ['address(es)', addresses, current.addresses?.length ?? 0],
    ['route(s)', routes, current.routes?.length ?? 0],
    ['nftables table(s)', tables, current.nftables?.length ?? 0],
  ];
  for (const [what, n, of] of kinds) {
    if (n <= Math.max(1, Math.floor(share * of))) continue;
    const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
    throw new PlanError(
      `refusing to delete ${n} of ${of} ${what} (${pct(n / of)}, more than maxDeleteShare ${pct(share)} of what exists); pass maxDeleteShare (--max-delete-share ${Math.ceil((n / of) * 100) / 100}) or allowWipe (--allow-wipe) if this is what you want`,
      'mass-delete',
    );
  }
}

// ---- a model of the kernel, for dry runs and tests --------------------------------------------

/**
 * Runs operations against a plain model of the kernel (destinations added at the head of the
 * list, as the kernel does) and returns the resulting state. Throws on an operation the kernel
 * would refuse (EEXIST, ENOENT, ESRCH).
 */
export function simulatePlan(state: LvsState, ops: readonly PlanOp[]): LvsState {
  const services = new Map<string, { n: NormalService; dests: NormalDestination[] }>();
  for (const s of state.services ?? []) services.set(serviceId(s.key), { n: normalizeService(s), dests: destsOf(s).map((d) => d.n) });
  let timeouts = state.timeouts ? { ...state.timeouts } : undefined;
  const daemons = new Map((state.syncDaemons ?? []).map((d) => [d.state, d]));
  const addresses = new Map((state.addresses ?? []).map((a) => [addrId(a), a]));
  const routes = new Map((state.routes ?? []).map((r) => [routeId(r), r]));
  const nft = new Map((state.nftables ?? []).map((x) => [nftTableId(x), x]));
  const svc = (k: ServiceKey) => {
    const s = services.get(serviceId(k));
    if (!s) throw new PlanError(`ESRCH: no service ${serviceId(k)}`);
    return s;
  };
  const idx = (s: { dests: NormalDestination[] }, d: DestRef) => s.dests.findIndex((x) => destinationId(x) === destinationId(d));
  for (const o of ops) {
    switch (o.op) {
      case 'setTimeouts':
        timeouts = { ...timeouts, ...o.timeouts };
        break;
      case 'stopDaemon':
        if (!daemons.delete(o.state)) throw new PlanError(`ESRCH: no ${o.state} daemon`);
        break;
      case 'startDaemon':
        if (daemons.has(o.daemon.state)) throw new PlanError(`EEXIST: ${o.daemon.state} daemon`);
        daemons.set(o.daemon.state, o.daemon);
        break;
      case 'addService': {
        const id = serviceId(o.spec.key);
        if (services.has(id)) throw new PlanError(`EEXIST: service ${id}`);
        services.set(id, { n: normalizeService(o.spec), dests: [] });
        break;
      }
      case 'editService': {
        const s = svc(o.key);
        const spec = serviceSpecOf(s.n);
        const c = o.changes;
        if (c.scheduler !== undefined) spec.scheduler = c.scheduler as ServiceSpec['scheduler'];
        if (c.flags) spec.flags = { ...spec.flags, ...c.flags };
        if (c.persistence === null) delete spec.persistence;
        else if (c.persistence) spec.persistence = { timeout: c.persistence.timeout ?? spec.persistence?.timeout ?? 300, ...(c.persistence.netmask !== undefined ? { netmask: c.persistence.netmask } : spec.persistence?.netmask !== undefined ? { netmask: spec.persistence.netmask } : {}) };
        if (c.persistenceEngine === null) delete spec.persistenceEngine;
        else if (c.persistenceEngine !== undefined) spec.persistenceEngine = c.persistenceEngine;
        s.n = normalizeService(spec);
        break;
      }
      case 'deleteService':
        svc(o.key);
        services.delete(serviceId(o.key));
        break;
      case 'addDestination': {
        const s = svc(o.service);
        if (idx(s, o.dest) >= 0) throw new PlanError(`EEXIST: destination ${destinationId(o.dest)}`);
        s.dests.unshift(normalizeDestination(o.dest));
        break;
      }
      case 'editDestination': {
        const s = svc(o.service);
        const i = idx(s, o.dest);
        if (i < 0) throw new PlanError(`ENOENT: destination ${destinationId(o.dest)}`);
        const spec = destinationSpecOf(s.dests[i]!);
        const c = o.changes;
        if (c.forward !== undefined) spec.forward = c.forward;
        if (spec.forward !== 'tunnel') delete spec.tunnel;
        if (c.weight !== undefined) spec.weight = c.weight;
        if (c.upperThreshold !== undefined) spec.upperThreshold = c.upperThreshold;
        if (c.lowerThreshold !== undefined) spec.lowerThreshold = c.lowerThreshold;
        if (c.tunnel !== undefined) {
          if (c.tunnel === null) delete spec.tunnel;
          else spec.tunnel = c.tunnel;
        }
        s.dests[i] = normalizeDestination(spec);
        break;
      }
      case 'deleteDestination': {
        const s = svc(o.service);
        const i = idx(s, o.dest);
        if (i < 0) throw new PlanError(`ENOENT: destination ${destinationId(o.dest)}`);
        s.dests.splice(i, 1);
        break;
      }
      case 'addAddress':
        if (addresses.has(addrId(o.address))) throw new PlanError(`EEXIST: address ${addrId(o.address)}`);
        addresses.set(addrId(o.address), o.address);
        break;
      case 'deleteAddress': {
        if (!addresses.has(addrId(o.address))) throw new PlanError(`EADDRNOTAVAIL: address ${addrId(o.address)}`);
        // the first of a subnet is its primary: its secondaries go with it (promote_secondaries off)
        const group = [...addresses.values()].filter((a) => a === o.address || addrId(a) === addrId(o.address) || sameSubnet4(a, o.address));
        if (addrId(group[0]!) === addrId(o.address)) for (const a of group) addresses.delete(addrId(a));
        else addresses.delete(addrId(o.address));
        break;
      }
      case 'replaceAddress':
        addresses.set(addrId(o.address), o.address);
        break;
      case 'addRoute':
        if (routes.has(routeId(o.route))) throw new PlanError(`EEXIST: route ${routeId(o.route)}`);
        routes.set(routeId(o.route), o.route);
        break;
      case 'replaceRoute':
        routes.set(routeId(o.route), o.route);
        break;
      case 'deleteRoute':
        if (!routes.delete(routeId(o.route))) throw new PlanError(`ESRCH: route ${routeId(o.route)}`);
        break;
      case 'replaceTable':
        nft.set(nftTableId(o.table), o.table);
        break;
      case 'deleteTable':
        if (!nft.delete(nftTableId(o.table))) throw new PlanError(`ENOENT: nftables table ${nftTableId(o.table)}`);
        break;
    }
  }
  const out: LvsState = {
    services: [...services.values()].map((s) => ({ ...serviceSpecOf(s.n), destinations: s.dests.map((d) => destinationSpecOf(d, s.n.family)) })),
  };
  if (timeouts) out.timeouts = timeouts;
  if (state.syncDaemons || daemons.size) out.syncDaemons = [...daemons.values()];
  if (state.addresses || addresses.size) out.addresses = [...addresses.values()];
  if (state.routes || routes.size) out.routes = [...routes.values()];
  if (state.nftables || nft.size) out.nftables = [...nft.values()];
  return out;
}

/** One line per operation, ipvsadm-like where ipvsadm has the command (for dry runs and reports). */
export function describeOp(o: PlanOp): string {
  const svc = (k: ServiceKey) => serviceId(k);
  switch (o.op) {
    case 'setTimeouts':
      return `set timeouts ${Object.entries(o.timeouts).map(([k, v]) => `${k}=${v}`).join(' ')}`;
    case 'stopDaemon':
      return `stop ${o.state} sync daemon`;
    case 'startDaemon':
      return `start ${o.daemon.state} sync daemon on ${o.daemon.interface} syncid ${o.daemon.syncId}`;
    case 'addService':
      return `add service ${svc(o.spec.key)} ${JSON.stringify(serviceSpecOf(normalizeService(o.spec)), (k, v) => (k === 'key' ? undefined : v))}`;
    case 'editService':
      return `edit service ${svc(o.key)} ${JSON.stringify(o.changes)}`;
    case 'deleteService':
      return `delete service ${svc(o.key)}`;
    case 'addDestination': {
      const { address: _a, port: _p, ...rest } = o.dest;
      return `add destination ${destinationId(o.dest)} to ${svc(o.service)} ${JSON.stringify(rest)}`;
    }
    case 'editDestination':
      return `edit destination ${destinationId(o.dest)} of ${svc(o.service)} ${JSON.stringify(o.changes)}`;
    case 'deleteDestination':
      return `delete destination ${destinationId(o.dest)} from ${svc(o.service)}`;
    case 'addAddress':
      return `add address ${o.address.address} dev ${o.address.interface}`;
    case 'deleteAddress':
      return `delete address ${o.address.address} dev ${o.address.interface}`;
    case 'replaceAddress':
      return `replace address ${o.address.address} dev ${o.address.interface} (it may have gone with the primary of its subnet)`;
    case 'addRoute':
    case 'replaceRoute':
    case 'deleteRoute':
      return `${o.op === 'addRoute' ? 'add' : o.op === 'replaceRoute' ? 'replace' : 'delete'} route ${routeText(o.route)}`;
    case 'replaceTable':
      return `replace nftables table ${nftTableId(o.table)} (${o.table.chains?.length ?? 0} chain(s), ${o.table.sets?.length ?? 0} set(s), ${o.table.rules?.length ?? 0} rule(s))`;
    case 'deleteTable':
      return `delete nftables table ${nftTableId(o.table)}`;
  }
}
