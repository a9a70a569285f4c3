// Do several directors send the same client to the same real server? Active-active directors
// behind one ECMP route keep a moved connection alive only if the director it moves to picks the
// same real server (and accepts the mid-stream packet: net.ipv4.vs.sloppy_tcp). With IPVS that
// holds for the hashing schedulers (mh, sh; dh per destination address) when every director
// builds the same lookup table: same scheduler, same destinations in the same kernel list order,
// same weights, same sched flags (fallback, port) and the same table size. This module compares
// the tables slot by slot and names the first difference and its cause.
import { ValidationError } from '../errors.js';
import { destinationId, type NormalDestination } from '../format/state.js';
import { effectiveTable, HASH_SCHEDULERS, servicesOf, slotName, type EffectiveTable, type NormalEntry, type ServicesInput } from './slots.js';
import type { Ipvs } from '../ipvs/client.js';
import type { Sysctl } from '../rtnl/sysctl.js';

/** One director as the comparison sees it. */
export interface DirectorView {
  /** A name for the reports ('dir1', a host name). */
  name: string;
  /** Its IPVS services: an LvsState, a StateService[] or Ipvs.listAll()'s result. */
  services: ServicesInput;
  /** net.ipv4.vs.sloppy_tcp on that director, if known. */
  sloppyTcp?: boolean;
  /** mh table size index of that director's kernel (CONFIG_IP_VS_MH_TAB_INDEX, default 12). */
  tabIndex?: number;
}

export type DifferenceCause =
  | 'missing service'
  | 'scheduler'
  | 'flags'
  | 'missing destination'
  | 'weight'
  | 'destination order'
  | 'table size'
  | 'threshold'
  | 'forward method';

export interface DirectorDifference {
  /** serviceId: 'tcp 10.0.0.1:80'. */
  service: string;
  /** The reference director (the first given) and the one that differs. */
  directors: [string, string];
  /** 'slot': the lookup tables differ (slot and servers say where first); 'config': they do not, but the setting differs. */
  kind: 'service' | 'slot' | 'config';
  cause: DifferenceCause;
  /** First differing slot (mh) or bucket (sh, dh). */
  slot?: number;
  /** The real server each director picks at that slot ('ADDR:PORT', 'none', 'rehashed'). */
  servers?: [string, string];
  /** One sentence naming the values. */
  detail: string;
}

export interface ServiceConsistency {
  service: string;
  scheduler: string;
  /** Hashing scheduler (sh, dh, mh): a moved flow finds the same server iff the tables agree. */
  hashed: boolean;
  /** Table slots compared (0 when not hashed or missing somewhere). */
  slots: number;
  /** Slots whose server differs on at least one director. */
  differingSlots: number;
  consistent: boolean;
}

export interface DirectorComparison {
  /** Every service exists everywhere with identical lookups (and identical settings). */
  consistent: boolean;
  /** The first difference found (services in the reference director's order, then others). */
  first?: DirectorDifference;
  /** Per service and director, the first difference (a slot one when the tables differ). */
  differences: DirectorDifference[];
  services: ServiceConsistency[];
  /** What else must hold and does not (sloppy_tcp off, schedulers without consistent hashing). */
  warnings: string[];
}

function orderDiff(a: NormalDestination[], b: NormalDestination[]): string | undefined {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (destinationId(a[i]!) !== destinationId(b[i]!)) {
      return `position ${i} of the kernel list is ${destinationId(a[i]!)} on one and ${destinationId(b[i]!)} on the other`;
    }
  }
  return undefined;
}

/** The reason two destination lists can give different tables, most specific first. */
function causeOf(a: NormalEntry, b: NormalEntry, na: string, nb: string): { cause: DifferenceCause; detail: string } | undefined {
  const ia = new Map(a.dests.map((d) => [destinationId(d), d]));
  const ib = new Map(b.dests.map((d) => [destinationId(d), d]));
  const onlyA = [...ia.keys()].filter((x) => !ib.has(x));
  const onlyB = [...ib.keys()].filter((x) => !ia.has(x));
  if (onlyA.length || onlyB.length) {
    const parts = [];
    if (onlyA.length) parts.push(`${onlyA.join(', ')} only on ${na}`);
    if (onlyB.length) parts.push(`${onlyB.join(', ')} only on ${nb}`);
    return { cause: 'missing destination', detail: parts.join('; ') };
  }
  for (const [id, d] of ia) {
    const e = ib.get(id)!;
    if (d.weight !== e.weight) return { cause: 'weight', detail: `${id} has weight ${d.weight} on ${na} and ${e.weight} on ${nb}` };
  }
  const od = orderDiff(a.dests, b.dests);
  if (od) return { cause: 'destination order', detail: od };
  const fa = a.service, fb = b.service;
  if (fa.schedFallback !== fb.schedFallback || fa.schedPort !== fb.schedPort) {
    const f = (s: typeof fa) => `${s.schedFallback ? 'sh-fallback' : 'no fallback'}, ${s.schedPort ? 'sh-port' : 'no port'}`;
    return { cause: 'flags', detail: `sched flags are ${f(fa)} on ${na} and ${f(fb)} on ${nb}` };
  }
  return undefined;
}

function configDiff(a: NormalEntry, b: NormalEntry, na: string, nb: string): { cause: DifferenceCause; detail: string } | undefined {
  const ib = new Map(b.dests.map((d) => [destinationId(d), d]));
  for (const d of a.dests) {
    const e = ib.get(destinationId(d));
    if (!e) continue;
    if (d.upperThreshold !== e.upperThreshold || d.lowerThreshold !== e.lowerThreshold) {
      return { cause: 'threshold', detail: `${destinationId(d)} has thresholds ${d.upperThreshold}/${d.lowerThreshold} on ${na} and ${e.upperThreshold}/${e.lowerThreshold} on ${nb}: an overloaded server is skipped on one director only` };
    }
    if (d.forward !== e.forward) return { cause: 'forward method', detail: `${destinationId(d)} is forwarded by ${d.forward} on ${na} and ${e.forward} on ${nb}` };
  }
  return undefined;
}

/**
 * Compares the IPVS lookup tables of several directors (services, destinations in kernel order,
 * weights, flags) and names the first difference: service, slot, which director picks which real
 * server there, and why (missing destination, weight, destination order, flags, scheduler). Pure:
 * give each director's state as read from its kernel (readState, Ipvs.listAll()) — the kernel
 * order of the destinations matters, so do not pass a hand-written desired state.
 */
export function compareDirectors(directors: readonly DirectorView[]): DirectorComparison {
  if (!Array.isArray(directors) || directors.length < 2) throw new ValidationError('directors', directors, 'must list at least two directors');
  const views = directors.map((d, i) => {
    if (d === null || typeof d !== 'object' || typeof d.name !== 'string' || d.name === '') throw new ValidationError(`directors[${i}].name`, d?.name, 'must be a non-empty string');
    return { name: d.name, services: servicesOf(d.services, `directors[${i}].services`), sloppyTcp: d.sloppyTcp, tabIndex: d.tabIndex };
  });
  const ref = views[0]!;
  const ids: string[] = [...ref.services.keys()];
  for (const v of views.slice(1)) for (const id of v.services.keys()) if (!ids.includes(id)) ids.push(id);

  const differences: DirectorDifference[] = [];
  const services: ServiceConsistency[] = [];
  const warnings: string[] = [];
  for (const id of ids) {
    const holder = views.find((v) => v.services.has(id))!;
    const base = holder.services.get(id)!;
    const scheduler = base.service.scheduler;
    const hashed = HASH_SCHEDULERS.includes(scheduler);
    const summary: ServiceConsistency = { service: id, scheduler, hashed, slots: 0, differingSlots: 0, consistent: true };
    services.push(summary);
    const missing = views.filter((v) => !v.services.has(id));
    for (const v of missing) {
      differences.push({ service: id, directors: [holder.name, v.name], kind: 'service', cause: 'missing service', detail: `${id} exists on ${holder.name} but not on ${v.name}` });
    }
    if (missing.length) summary.consistent = false;
    const present = views.filter((v) => v.services.has(id));
    const schedDiff = present.find((v) => v.services.get(id)!.service.scheduler !== scheduler);
    if (schedDiff) {
      differences.push({ service: id, directors: [holder.name, schedDiff.name], kind: 'service', cause: 'scheduler', detail: `${id} is scheduled by ${scheduler} on ${holder.name} and by ${schedDiff.services.get(id)!.service.scheduler} on ${schedDiff.name}` });
      summary.consistent = false;
      continue;
    }
    if (!hashed) {
      warnings.push(`${id}: scheduler ${scheduler} does not hash the client: a connection that moves to another director is scheduled there afresh (another real server, most of the time); use mh, or run the IPVS sync daemon so the connection entries follow`);
      for (const v of present.slice(1)) {
        const c = causeOf(base, v.services.get(id)!, holder.name, v.name) ?? configDiff(base, v.services.get(id)!, holder.name, v.name);
        if (c) { differences.push({ service: id, directors: [holder.name, v.name], kind: 'config', ...c }); summary.consistent = false; }
      }
      continue;
    }
    const tables: EffectiveTable[] = present.map((v) => effectiveTable(v.services.get(id)!, { tabIndex: v.tabIndex }));
    const t0 = tables[0]!;
    summary.slots = t0.slots.length;
    const differs = new Uint8Array(t0.slots.length);
    for (let k = 1; k < present.length; k++) {
      const v = present[k]!;
      const t = tables[k]!;
      const e = v.services.get(id)!;
      if (t.slots.length !== t0.slots.length) {
        differences.push({ service: id, directors: [holder.name, v.name], kind: 'slot', cause: 'table size', detail: `the mh table has ${t0.slots.length} slots on ${holder.name} and ${t.slots.length} on ${v.name} (CONFIG_IP_VS_MH_TAB_INDEX differs)` });
        differs.fill(1);
        continue;
      }
      let first = -1;
      for (let s = 0; s < t0.slots.length; s++) {
        // A slot rehashed on both (mh fallback) agrees when the rest of the table and the usable
        // servers do: the probes walk the same table; any other difference is caught elsewhere.
        if (slotName(t0, s) !== slotName(t, s)) {
          differs[s] = 1;
          if (first < 0) first = s;
        }
      }
      const c = causeOf(base, e, holder.name, v.name);
      if (first >= 0) {
        const why = c ?? { cause: 'flags' as const, detail: 'the tables differ although destinations, weights, order and flags agree' };
        differences.push({ service: id, directors: [holder.name, v.name], kind: 'slot', slot: first, servers: [slotName(t0, first), slotName(t, first)], ...why,
          detail: `slot ${first}: ${holder.name} picks ${slotName(t0, first)}, ${v.name} picks ${slotName(t, first)} (${why.detail})` });
      } else if (c) {
        // same table, different settings: flags change the lookup itself (port, fallback)
        differences.push({ service: id, directors: [holder.name, v.name], kind: c.cause === 'flags' ? 'slot' : 'config', ...c,
          detail: c.cause !== 'flags' ? `${c.detail} (the tables happen to agree)`
            : base.service.schedPort !== e.service.schedPort ? `${c.detail}: the same table, but clients are hashed differently (with and without their port)`
              : `${c.detail}: the same table; the directors differ once a server is unusable (drained, overloaded)` });
      } else {
        const cd = configDiff(base, e, holder.name, v.name);
        if (cd) differences.push({ service: id, directors: [holder.name, v.name], kind: 'config', ...cd });
      }
    }
    summary.differingSlots = differs.reduce((a, x) => a + x, 0);
    summary.consistent = summary.consistent && !differences.some((d) => d.service === id);
  }
  for (const v of views) {
    if (v.sloppyTcp === false) warnings.push(`${v.name}: net.ipv4.vs.sloppy_tcp is 0: a TCP connection that moves to ${v.name} mid-stream is not accepted there (set it to 1)`);
  }
  const result: DirectorComparison = { consistent: differences.length === 0, differences, services, warnings };
  if (differences[0]) result.first = differences[0];
  return result;
}

/**
 * Reads each director's services over its Ipvs handle (listAll) and, with a Sysctl of the same
 * namespace (Rtnl.sysctl), net.ipv4.vs.sloppy_tcp; then compareDirectors().
 */
export async function compareDirectorHandles(directors: readonly { name: string; ipvs: Ipvs; sysctl?: Sysctl; tabIndex?: number }[]): Promise<DirectorComparison> {
  if (!Array.isArray(directors)) throw new ValidationError('directors', directors, 'must be a list of { name, ipvs, sysctl? }');
  const views: DirectorView[] = [];
  for (const [i, d] of directors.entries()) {
    if (!d || typeof d.ipvs?.listAll !== 'function') throw new ValidationError(`directors[${i}].ipvs`, d?.ipvs, 'must be an open Ipvs handle');
    const v: DirectorView = { name: d.name, services: await d.ipvs.listAll() };
    if (d.sysctl) v.sloppyTcp = (await d.sysctl.getNumber('net.ipv4.vs.sloppy_tcp')) !== 0;
    if (d.tabIndex !== undefined) v.tabIndex = d.tabIndex;
    views.push(v);
  }
  return compareDirectors(views);
}

/** The comparison as report lines: a verdict, each difference, each warning. */
export function formatDirectorComparison(c: DirectorComparison): string[] {
  const lines: string[] = [];
  const hashed = c.services.filter((s) => s.hashed);
  lines.push(c.consistent
    ? `directors agree: ${c.services.length} service(s), ${hashed.length} hashed (${hashed.map((s) => `${s.service} ${s.scheduler} ${s.slots} slots`).join(', ') || 'none'})`
    : `directors differ: ${c.differences.length} difference(s)`);
  for (const d of c.differences) {
    const where = d.kind === 'slot' && d.slot !== undefined ? ` (${c.services.find((s) => s.service === d.service)?.differingSlots ?? '?'} slots differ)` : '';
    lines.push(`${d.service}: ${d.directors[0]} vs ${d.directors[1]}: ${d.cause}: ${d.detail}${where}`);
  }
  for (const w of c.warnings) lines.push(`warning: ${w}`);
  return lines;
}
