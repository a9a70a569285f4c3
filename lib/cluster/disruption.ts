// Which flows change real server when an IPVS configuration changes: predicted before the change,
// exactly, over the scheduler's lookup table (mh: CONFIG_IP_VS_MH_TAB_INDEX slots, 4093 by
// default; sh and dh: 256 buckets), and per flow for a given list of flows.
//
// What "moves" means here: IPVS schedules a connection on its first packet only; an established
// connection keeps its entry (and its real server) on the director that holds it, unless its
// server is deleted. The prediction is for every connection that is scheduled after the change:
// new connections, and connections that reach a director holding no entry for them (moved there
// by the router's ECMP, accepted mid-stream with sloppy_tcp). For rr, wrr, lc, wlc, ... the
// choice depends on live counters and cursors: not predictable.
import { ValidationError } from '../errors.js';
import { canonicalAddress } from '../rtnl/ip.js';
import { destinationId, serviceId, type LvsState } from '../format/state.js';
import { planChanges, simulatePlan, type PlanOptions } from '../apply/plan.js';
import { effectiveTable, HASH_SCHEDULERS, REHASH, servicesOf, slotName, slotOwner, type NormalEntry, type ServicesInput } from './slots.js';

/** A connection to predict: the client (src, sport) and the service it reaches (dst, dport, proto), or `service`. */
export interface IpvsFlow {
  /** Client address. */
  src: string;
  sport?: number;
  /** Virtual address (dh hashes it); with dport and proto it names the service. */
  dst?: string;
  dport?: number;
  /** Default 'tcp'. */
  proto?: number | 'tcp' | 'udp' | 'sctp';
  /** serviceId ('tcp 10.0.0.1:80', 'fwmark 1'): needed for fwmark services. */
  service?: string;
}

export interface ServiceDisruption {
  service: string;
  /** Scheduler before and after ('' when the service does not exist there). */
  scheduler: string;
  plannedScheduler: string;
  /**
   * 'predicted': same hashing scheduler before and after, slots compared; 'unchanged': identical
   * tables; 'added' / 'removed'; 'rescheduled': the hashing scheduler or table size changes (every
   * new connection follows the new table; per-flow moves are still exact); 'not-predictable':
   * rr, wrr, lc, ... (established connections stay, new ones redistribute).
   */
  status: 'predicted' | 'unchanged' | 'added' | 'removed' | 'rescheduled' | 'not-predictable';
  /** Share of the slots whose real server changes (movedSlots / totalSlots). */
  share?: number;
  movedSlots?: number;
  /**
   * mh with fallback: slots where the client's key, re-hashed past an unusable server, decides
   * whether it moves (between share and shareMax). A slot whose server becomes unusable (drained)
   * counts as moved: its clients certainly leave it, to a server that depends on the client
   * (transition 'X -> rehashed'); so does one whose unusable server becomes usable again.
   */
  rehashedSlots?: number;
  /** (movedSlots + rehashedSlots) / totalSlots. */
  shareMax?: number;
  totalSlots?: number;
  /** Moved slots by (from, to) real server ('none' = no server; most first). */
  transitions?: Array<{ from: string; to: string; slots: number }>;
  /** One sentence for the report. */
  note: string;
}

export interface FlowMove {
  /** Index in options.flows. */
  index: number;
  service?: string;
  /** Real server before and after ('ADDR:PORT', or null for none); undefined when not predictable. */
  before?: string | null;
  after?: string | null;
  moved?: boolean;
  predictable: boolean;
}

export interface DisruptionPrediction {
  services: ServiceDisruption[];
  flows?: FlowMove[];
  /** Assumptions the prediction rests on (unknown remembered weights, ...). */
  assumptions: string[];
}

export interface DisruptionOptions {
  flows?: readonly IpvsFlow[];
  /**
   * How `planned` is read: 'desired' (default) is a desired state as apply() takes it: the kernel
   * order it will produce is computed with planChanges + simulatePlan (apply's own planner);
   * 'kernel': `planned` already lists destinations in kernel order (another director's dump).
   */
  planned?: 'desired' | 'kernel';
  /** Passed to planChanges (order, drain, ...) when planned is 'desired'. */
  plan?: PlanOptions;
  /** mh table size index (CONFIG_IP_VS_MH_TAB_INDEX), default 12 (4093 slots). */
  tabIndex?: number;
  /**
   * mh: remembered weights of destinations at weight 0 in the current kernel, per serviceId then
   * destination id ('10.1.0.1:80'). A dump shows weight 0 only; without this, 0 is assumed.
   */
  lastWeights?: Record<string, Record<string, number>>;
}

const PROTO_NAMES: Record<number, string> = { 6: 'tcp', 17: 'udp', 132: 'sctp' };
const PROTO_NUMS: Record<string, number> = { tcp: 6, udp: 17, sctp: 132 };

function flowService(f: IpvsFlow, at: string): { id: string | undefined; proto: number } {
  let proto: number;
  if (f.proto === undefined) proto = 6;
  else if (typeof f.proto === 'string') {
    const p = PROTO_NUMS[f.proto];
    if (p === undefined) throw new ValidationError(`${at}.proto`, f.proto, "must be 'tcp', 'udp', 'sctp' or a protocol number");
    proto = p;
  } else if (Number.isInteger(f.proto) && f.proto >= 0 && f.proto <= 255) proto = f.proto;
  else throw new ValidationError(`${at}.proto`, f.proto, 'must be a protocol number 0..255 or a name');
  if (f.service !== undefined) {
    if (typeof f.service !== 'string') throw new ValidationError(`${at}.service`, f.service, "must be a service id like 'tcp 10.0.0.1:80'");
    return { id: f.service, proto };
  }
  if (f.dst === undefined || f.dport === undefined || !PROTO_NAMES[proto]) return { id: undefined, proto };
  const address = canonicalAddress(f.dst);
  if (!address) throw new ValidationError(`${at}.dst`, f.dst, 'must be an IP address');
  return { id: serviceId({ protocol: PROTO_NAMES[proto] as 'tcp', address, port: f.dport }), proto };
}

/** The planned kernel state: the desired state run through apply's planner and kernel model. */
function plannedKernelState(current: ServicesInput, planned: ServicesInput, options: DisruptionOptions): ServicesInput {
  if ((options.planned ?? 'desired') === 'kernel') return planned;
  const cur: LvsState = Array.isArray(current) ? { services: [...current] as LvsState['services'] } : (current as LvsState);
  const want: LvsState = Array.isArray(planned) ? { services: [...planned] as LvsState['services'] } : (planned as LvsState);
  if (!want?.services) return cur;
  // apply()'s guards (wipe, mass delete, emptied service) are not the prediction's business
  const plan = planChanges({ services: cur.services ?? [] }, { services: want.services }, { allowEmpty: true, allowWipe: true, ...options.plan });
  return simulatePlan({ services: cur.services ?? [] }, [...plan.ops, ...plan.afterDrain]);
}

function remembered(cur: NormalEntry | undefined, next: NormalEntry, given: Record<string, number> | undefined): Record<string, number> {
  // The kernel keeps last_weight when a weight is set to 0 (ip_vs_ctl.c), and mh builds from it.
  const lw: Record<string, number> = { ...given };
  const before = new Map((cur?.dests ?? []).map((d) => [destinationId(d), d.weight]));
  for (const d of next.dests) {
    const id = destinationId(d);
    const w = before.get(id);
    if (d.weight === 0 && lw[id] === undefined && w !== undefined && w > 0) lw[id] = w;
  }
  return lw;
}

function pct(x: number): string {
  return `${(Math.round(x * 10000) / 100).toFixed(2)}%`;
}

/**
 * Predicts, before a change, which share of an IPVS director's flows changes real server:
 * per service, the lookup table slots (mh) or buckets (sh, dh) whose server differs between
 * `current` (as read from the kernel: readState, Ipvs.listAll()) and `planned` (a desired state
 * as apply() takes it, or a kernel-ordered state with { planned: 'kernel' }); and, for
 * `options.flows`, which flows move and where to. Pure: no kernel access.
 */
export function predictDisruption(current: ServicesInput, planned: ServicesInput, options: DisruptionOptions = {}): DisruptionPrediction {
  if (options === null || typeof options !== 'object') throw new ValidationError('options', options, 'must be an object');
  const cur = servicesOf(current, 'current');
  const next = servicesOf(plannedKernelState(current, planned, options), 'planned');
  const assumptions: string[] = [];
  const services: ServiceDisruption[] = [];
  const tables = new Map<string, { before?: ReturnType<typeof effectiveTable>; after?: ReturnType<typeof effectiveTable> }>();
  const ids = [...cur.keys(), ...[...next.keys()].filter((k) => !cur.has(k))];
  for (const id of ids) {
    const a = cur.get(id);
    const b = next.get(id);
    const sa = a?.service.scheduler ?? '';
    const sb = b?.service.scheduler ?? '';
    const ha = HASH_SCHEDULERS.includes(sa), hb = HASH_SCHEDULERS.includes(sb);
    const given = options.lastWeights?.[id];
    if (a && sa === 'mh') {
      for (const d of a.dests) if (d.weight === 0 && given?.[destinationId(d)] === undefined) assumptions.push(`${id}: ${destinationId(d)} is at weight 0 now; its remembered weight (mh keeps its slots) is unknown and taken as 0: pass lastWeights`);
    }
    const tOpts = { tabIndex: options.tabIndex };
    const tBefore = a && ha ? effectiveTable(a, { ...tOpts, lastWeights: given }) : undefined;
    const tAfter = b && hb ? effectiveTable(b, { ...tOpts, lastWeights: remembered(a, b, given) }) : undefined;
    tables.set(id, { before: tBefore, after: tAfter });
    if (!a) { services.push({ service: id, scheduler: '', plannedScheduler: sb, status: 'added', note: `${id}: new service (${sb}): no flow moves` }); continue; }
    if (!b) { services.push({ service: id, scheduler: sa, plannedScheduler: '', status: 'removed', share: 1, note: `${id}: service removed: every connection to it ends` }); continue; }
    if (!ha || !hb) {
      services.push({ service: id, scheduler: sa, plannedScheduler: sb, status: 'not-predictable',
        note: `${id} ${sa === sb ? sa : `${sa} -> ${sb}`}: not predictable: connections already established stay; new ones redistribute` });
      continue;
    }
    if (sa !== sb || tBefore!.slots.length !== tAfter!.slots.length) {
      services.push({ service: id, scheduler: sa, plannedScheduler: sb, status: 'rescheduled',
        note: `${id}: scheduler ${sa} -> ${sb}: a new table (${tAfter!.slots.length} slots); established connections stay, every new one follows the new table` });
      continue;
    }
    const n = tBefore!.slots.length;
    let moved = 0, rehashed = 0, allSame = true;
    const trans = new Map<string, number>();
    for (let s = 0; s < n; s++) if (slotName(tBefore!, s) !== slotName(tAfter!, s)) { allSame = false; break; }
    for (let s = 0; s < n; s++) {
      const x = slotName(tBefore!, s), y = slotName(tAfter!, s);
      const rb = tBefore!.slots[s] === REHASH, ra = tAfter!.slots[s] === REHASH;
      if (rb || ra) {
        // A fallback never picks the unusable owner: a client whose server is the slot's owner on
        // one side and that owner is unusable on the other side certainly moves.
        const certain = (rb !== ra) && (ra ? x === slotOwner(tAfter!, s) : y === slotOwner(tBefore!, s));
        if (!certain) {
          if (!(x === y && allSame)) rehashed++;
          continue;
        }
      }
      if (x === y) continue;
      moved++;
      const k = `${x} -> ${y}`;
      trans.set(k, (trans.get(k) ?? 0) + 1);
    }
    const flagsChanged = a.service.schedPort !== b.service.schedPort;
    const transitions = [...trans].sort((p, q) => q[1] - p[1]).map(([k, slots]) => {
      const [from, to] = k.split(' -> ') as [string, string];
      return { from, to, slots };
    });
    const d: ServiceDisruption = { service: id, scheduler: sa, plannedScheduler: sb, status: moved || rehashed || flagsChanged ? 'predicted' : 'unchanged',
      share: moved / n, movedSlots: moved, rehashedSlots: rehashed, shareMax: (moved + rehashed) / n, totalSlots: n, transitions, note: '' };
    const unit = sa === 'mh' ? 'slots' : 'buckets';
    if (flagsChanged) {
      d.status = 'rescheduled';
      d.note = `${id} ${sa}: the port flag changes: clients are hashed differently, every new connection may move`;
    } else if (d.status === 'unchanged') d.note = `${id} ${sa}: unchanged (${n} ${unit} keep their real server)`;
    else {
      d.note = `${id} ${sa}: ${moved} of ${n} ${unit} change real server (${pct(moved / n)})` +
        (rehashed ? `; ${rehashed} more re-hash by client (fallback): up to ${pct((moved + rehashed) / n)}` : '');
    }
    services.push(d);
  }

  const result: DisruptionPrediction = { services, assumptions };
  if (options.flows !== undefined) {
    if (!Array.isArray(options.flows)) throw new ValidationError('options.flows', options.flows, 'must be a list of flows');
    result.flows = options.flows.map((f, index) => {
      const at = `options.flows[${index}]`;
      if (f === null || typeof f !== 'object' || typeof f.src !== 'string') throw new ValidationError(`${at}.src`, f?.src, 'must be the client address');
      const { id, proto } = flowService(f, at);
      const mv: FlowMove = { index, predictable: false };
      if (id === undefined) return mv;
      mv.service = id;
      const t = tables.get(id);
      if (!t) return mv;
      const a = cur.get(id), b = next.get(id);
      if ((a && !t.before) || (b && !t.after)) return mv;
      const pick = (tab: ReturnType<typeof effectiveTable> | undefined): string | null => {
        if (!tab) return null;
        const who = tab.scheduler === 'dh' ? f.dst : f.src;
        if (who === undefined) throw new ValidationError(`${at}.dst`, f.dst, 'is needed for a dh service (it hashes the destination address)');
        const dest = tab.table.pick(who, f.sport ?? 0, proto);
        return dest ? `${destinationId(dest)}` : null;
      };
      mv.before = pick(t.before);
      mv.after = pick(t.after);
      mv.moved = mv.before !== mv.after;
      mv.predictable = true;
      return mv;
    });
  }
  return result;
}

/** The prediction as report lines (what `lvskit apply --dry-run` prints for the IPVS side). */
export function formatDisruption(p: DisruptionPrediction, options: { flows?: readonly IpvsFlow[]; maxTransitions?: number } = {}): string[] {
  const lines: string[] = [];
  const max = options.maxTransitions ?? 4;
  for (const s of p.services) {
    lines.push(s.note);
    if (s.transitions?.length) {
      const shown = s.transitions.slice(0, max).map((t) => `${t.from} -> ${t.to} ${t.slots}`);
      if (s.transitions.length > max) shown.push(`${s.transitions.length - max} more`);
      lines.push(`  moves: ${shown.join(', ')}`);
    }
  }
  for (const a of p.assumptions) lines.push(`assumed: ${a}`);
  if (p.flows) {
    const moved = p.flows.filter((f) => f.moved).length;
    const unknown = p.flows.filter((f) => !f.predictable).length;
    lines.push(`flows: ${moved} of ${p.flows.length} move${unknown ? ` (${unknown} not predictable)` : ''}`);
    for (const f of p.flows) {
      if (!f.moved) continue;
      const fl = options.flows?.[f.index];
      const who = fl ? `${fl.src}${fl.sport !== undefined ? `:${fl.sport}` : ''}` : `#${f.index}`;
      lines.push(`  ${who} ${f.service}: ${f.before ?? 'none'} -> ${f.after ?? 'none'}`);
    }
  }
  return lines;
}
