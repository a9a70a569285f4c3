// The effective lookup table of an IPVS hashing service: for every slot (mh) or bucket (sh, dh),
// the real server a new connection hashed there is sent to. Shared by the director comparison
// (consistency.ts) and the disruption prediction (disruption.ts).
//
// What decides the server (net/netfilter/ipvs/ip_vs_sh.c, ip_vs_dh.c, ip_vs_mh.c):
//  - the table built from the destination list in kernel order (dump order, newest first), the
//    weights (mh: the remembered last non-zero weight) and the table size;
//  - at lookup, whether the slot's destination is usable (weight > 0, not overloaded); if not,
//    without IP_VS_SVC_F_SCHED_SH_FALLBACK/MH_FALLBACK the connection gets no server, with it:
//      sh probes buckets from the same bucket (ip_vs_sh_get_fallback): a function of the bucket,
//      mh re-hashes the client key with growing offsets (ip_vs_mh_get_fallback): a function of
//      the key, not of the slot. Such mh slots are "rehashed": the server depends on the client.
import { ValidationError } from '../errors.js';
import { SchedulerTable, NO_DESTINATION, type HashScheduler } from '../hash/ipvs.js';
import {
  destinationId, normalizeDestination, normalizeService, serviceId,
  type LvsState, type NormalDestination, type NormalService, type StateService,
} from '../format/state.js';
import type { Service, ServiceSpec } from '../ipvs/types.js';

/** A director's services: an LvsState, StateService[] or what Ipvs.listAll() returns. */
export type ServicesInput = LvsState | readonly (StateService | Service)[];

export interface NormalEntry {
  id: string;
  service: NormalService;
  /** Destinations in the order given (kernel order when read from the kernel). */
  dests: NormalDestination[];
}

/** Slot value meaning "no real server" (the kernel drops or bypasses the connection). */
export const NONE = -1;
/** Slot value meaning "re-hashed: the server depends on the client key" (mh fallback). */
export const REHASH = -2;

export interface EffectiveTable {
  scheduler: HashScheduler;
  /** Per slot: index into `dests`, NONE or REHASH. */
  slots: Int32Array;
  dests: NormalDestination[];
  table: SchedulerTable;
}

export const HASH_SCHEDULERS: readonly string[] = ['sh', 'dh', 'mh'];

/** Services keyed by serviceId, normalized, destinations kept in input order. */
export function servicesOf(input: ServicesInput, field: string): Map<string, NormalEntry> {
  const list = Array.isArray(input) ? input : (input as LvsState)?.services;
  if (!Array.isArray(list)) throw new ValidationError(field, input, 'must be an LvsState with services, or a list of services (Ipvs.listAll())');
  const out = new Map<string, NormalEntry>();
  list.forEach((s, i) => {
    if (s === null || typeof s !== 'object' || s.key === undefined) throw new ValidationError(`${field}[${i}]`, s, 'must be a service with a key');
    const service = normalizeService(s as ServiceSpec);
    const dests = ((s.destinations ?? []) as Parameters<typeof normalizeDestination>[0][]).map((d) => normalizeDestination(d));
    const id = serviceId(service.key);
    out.set(id, { id, service, dests });
  });
  return out;
}

// The multiplicative inverse of hash_32's GOLDEN_RATIO_32 (0x61C88647) modulo 2^32 (Newton).
const GOLDEN = 0x61c88647;
const GOLDEN_INV = (() => {
  let x = GOLDEN;
  for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(GOLDEN, x));
  return x >>> 0;
})();

/** A key k with hash_32(k, 8) === bucket (include/linux/hash.h): keys that land in each bucket. */
export function keyForBucket(bucket: number): number {
  return Math.imul((bucket << 24) >>> 0, GOLDEN_INV) >>> 0;
}

export interface TableOptions {
  /** mh: CONFIG_IP_VS_MH_TAB_INDEX (default 12: 4093 slots). */
  tabIndex?: number;
  /** mh: remembered weight per destination id ('10.1.0.1:80') of destinations at weight 0. */
  lastWeights?: Record<string, number>;
}

/** Builds the effective per-slot table of an sh, dh or mh service. */
export function effectiveTable(e: NormalEntry, options: TableOptions = {}): EffectiveTable {
  const scheduler = e.service.scheduler as HashScheduler;
  if (!HASH_SCHEDULERS.includes(scheduler)) throw new ValidationError('service.scheduler', scheduler, "must be 'sh', 'dh' or 'mh'");
  const table = new SchedulerTable(
    scheduler,
    e.dests.map((d) => {
      const lw = options.lastWeights?.[destinationId(d)];
      return { address: d.address, port: d.port, weight: d.weight, lastWeight: d.weight > 0 ? d.weight : lw ?? 0 };
    }),
    { fallback: e.service.schedFallback, port: e.service.schedPort, tabIndex: options.tabIndex },
  );
  const n = table.table.length;
  const slots = new Int32Array(n);
  if (scheduler === 'mh') {
    for (let s = 0; s < n; s++) {
      const d = table.table[s]!;
      if (d === NO_DESTINATION) slots[s] = NONE;
      else if (table.usable[d]) slots[s] = d;
      else slots[s] = e.service.schedFallback ? REHASH : NONE;
    }
  } else {
    // sh/dh: bucket = hash_32(key, 8); one key per bucket through the kernel-exact lookup gives
    // the bucket's server, fallback included (sh's probe sequence depends on the bucket only).
    const keys = new Uint32Array(n);
    for (let b = 0; b < n; b++) keys[b] = keyForBucket(b);
    const out = table.lookup(keys, 1, new Uint16Array(n), new Uint16Array(n), null);
    for (let b = 0; b < n; b++) slots[b] = out[b] === NO_DESTINATION ? NONE : out[b]!;
  }
  return { scheduler, slots, dests: e.dests, table };
}

/** The destination that owns a slot in the table, usable or not ('ADDR:PORT'), or 'none'. */
export function slotOwner(t: EffectiveTable, slot: number): string {
  const d = t.table.table[slot]!;
  return d === NO_DESTINATION ? 'none' : destinationId(t.dests[d]!);
}

/** The server at a slot as text: 'ADDR:PORT', 'none' or 'rehashed'. */
export function slotName(t: EffectiveTable, slot: number): string {
  const v = t.slots[slot]!;
  return v === NONE ? 'none' : v === REHASH ? 'rehashed' : destinationId(t.dests[v]!);
}
