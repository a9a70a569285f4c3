// apply(): read the kernel's state, plan the changes to the desired state (plan.ts), and send them:
// addresses and routes over rtnetlink first, then the IPVS part in one batch; optionally drain
// removed destinations first, roll back on failure, or only print.
import { Ipvs, progressPiece } from '../ipvs/client.js';
import type { BatchReport, BatchTiming, ItemResult } from '../batch.js';
import { BatchError } from '../batch.js';
import { Rtnl } from '../rtnl/handle.js';
import type { RouteSpec } from '../rtnl/route-types.js';
import type { AddressBatchOp } from '../rtnl/address.js';
import { LvskitError, NetlinkError, ValidationError } from '../errors.js';
import { canonicalAddress, formatAddress, parsePrefix } from '../rtnl/ip.js';
import { destinationId, serviceId, stateServicesOf, validateState, type LvsState, type StateAddress, type StateRoute } from '../format/state.js';
import { describeOp, nftTableId, planChanges, routeFamily, routeId, type DestRef, type DrainTarget, type Plan, type PlanOp, type PlanOptions } from './plan.js';
import { Nft } from '../nft/nft.js';
import type { NftFamily, NftTableDefinition } from '../nft/types.js';
import { Conntrack } from '../conntrack/conntrack.js';
import type { NetnsSpec } from '../socket.js';
import type { ServiceKey } from '../ipvs/types.js';

/** An nf_tables table by family and name. */
export interface NftTableRef {
  family: NftFamily;
  name: string;
}

export interface ReadStateOptions {
  /** With an Rtnl handle (same namespace), also read the addresses on `interfaces` and the routes of `tables`. */
  rtnl?: Rtnl;
  /** Interfaces whose addresses are managed (default: none). Only scope-global addresses are read. */
  interfaces?: string[];
  /** Route tables that are managed (default: none). Only routes we could have added (protocol boot/static) are read. */
  tables?: number[];
  /** With an Nft handle (same namespace), also read the nf_tables tables `nftTables` names (as Nft.getTable gives them). */
  nft?: Nft;
  /** The lvskit-owned nf_tables tables to read (default: none); one that does not exist is left out. */
  nftTables?: NftTableRef[];
}

/**
 * Reads the state. With an Ipvs handle: the whole IPVS state (services with destinations in the
 * kernel's list order, timeouts, daemons), plus addresses and routes when `options.rtnl` is given.
 * With an Rtnl handle: only the addresses on `interfaces` and the routes of `tables`.
 */
export function readState(rtnl: Rtnl, options?: Omit<ReadStateOptions, 'rtnl'>): Promise<LvsState>;
export function readState(ipvs: Ipvs, options?: ReadStateOptions): Promise<LvsState>;
export async function readState(handle: Ipvs | Rtnl, options: ReadStateOptions = {}): Promise<LvsState> {
  const { ipvs, rtnl } = handlesOf(handle, options.rtnl, 'options.rtnl');
  const state: LvsState = {};
  if (ipvs) {
    const [services, timeouts, daemons] = await Promise.all([ipvs.listAll(), ipvs.getTimeouts(), ipvs.listDaemons()]);
    Object.assign(state, { services: stateServicesOf(services), timeouts, syncDaemons: daemons });
  }
  if (rtnl) Object.assign(state, await readNet(rtnl, options.interfaces ?? [], options.tables ?? [], await linkNames(rtnl)));
  if (options.nft !== undefined) {
    if (!(options.nft instanceof Nft)) throw new ValidationError('options.nft', options.nft, 'must be an Nft handle');
    checkTableRefs('options.nftTables', options.nftTables);
    state.nftables = (await readNft(options.nft, options.nftTables ?? [])).map(({ skippedRules: _s, ...d }) => d);
  }
  return state;
}

function checkTableRefs(field: string, v: unknown): void {
  if (v === undefined) return;
  if (!Array.isArray(v)) throw new ValidationError(field, v, 'must be an array of { family, name }');
  v.forEach((r, i) => {
    if (typeof r !== 'object' || r === null || !['ip', 'ip6', 'inet'].includes(r.family) || typeof r.name !== 'string' || r.name === '')
      throw new ValidationError(`${field}[${i}]`, r, "must be { family: 'ip' | 'ip6' | 'inet', name }");
  });
}

/**
 * The named tables as the kernel has them (Nft.getTable), in the order given, without those
 * that do not exist. `skippedRules` counts rules lvskit cannot read back (written by another
 * tool): the planner replaces such a table.
 */
async function readNft(nft: Nft, refs: NftTableRef[]): Promise<(NftTableDefinition & { skippedRules: number })[]> {
  const ids = new Map(refs.map((r) => [nftTableId(r), r]));
  if (ids.size === 0) return [];
  const exist = new Set((await nft.listTables()).map(nftTableId));
  const out: (NftTableDefinition & { skippedRules: number })[] = [];
  for (const [id, r] of ids) if (exist.has(id)) out.push(await nft.getTable(r));
  return out;
}

async function linkNames(rtnl: Rtnl): Promise<Map<number, string>> {
  return new Map((await rtnl.links.list()).map((l) => [l.index, l.name]));
}

async function readNet(rtnl: Rtnl, interfaces: string[], tables: number[], names: Map<number, string>): Promise<LvsState> {
  const state: LvsState = {};
  const nameOf = (i: number) => names.get(i) ?? String(i);
  if (interfaces.length) {
    const addrs = await rtnl.addresses.list();
    state.addresses = addrs
      .filter((a) => a.scope === 'global' && interfaces.includes(nameOf(a.index)))
      .map((a) => ({ interface: nameOf(a.index), address: `${a.address}/${a.prefixLength}` }));
  }
  if (tables.length) {
    state.routes = [];
    for (const table of tables) {
      for (const r of await rtnl.routes.list({ table })) {
        if (r.protocol !== 'boot' && r.protocol !== 'static') continue;
        const viaKnown = r.gateway !== undefined || (r.nexthops ?? []).some((h) => h.gateway !== undefined);
        // 'default' of IPv6 only when a gateway says the family; '::/0' otherwise
        const dflt = r.dst === '0.0.0.0/0' || r.dst === '::/0';
        const route: StateRoute = { destination: dflt ? (r.family === 6 && !viaKnown ? '::/0' : 'default') : r.dst };
        if (r.table !== 254) route.table = r.table;
        if (r.priority) route.metric = r.priority;
        if (r.gateway) route.gateway = r.gateway;
        if (r.dev !== undefined && !r.nexthops) route.interface = nameOf(r.dev);
        if (r.nexthops) route.nexthops = r.nexthops.map((h) => ({ ...(h.gateway ? { gateway: h.gateway } : {}), interface: nameOf(h.dev), weight: h.weight }));
        state.routes.push(route);
      }
    }
  }
  return state;
}

export interface ApplyOptions extends PlanOptions {
  /** Compute and return the plan, send nothing. */
  dryRun?: boolean;
  /** On a failure, undo what was applied (the state before apply() is restored) and throw (cause: BatchError). */
  rollback?: boolean;
  /** With drain: the longest wait for drained destinations to have no connections (default 30000 ms). */
  drainTimeoutMs?: number;
  /** With drain: how often to look (default 1000 ms). */
  drainPollMs?: number;
  /**
   * For addresses and routes in the desired state when the first argument is an Ipvs handle: an
   * Rtnl handle on the same namespace. (With apply(rtnl, ...) the handle is the first argument.)
   */
  rtnl?: Rtnl;
  /**
   * Interfaces whose addresses are managed besides those the desired addresses name (with
   * `addresses` in the desired state): name an interface here to remove its last address.
   */
  interfaces?: string[];
  /**
   * Route tables that are managed besides those the desired routes name (with `routes` in the
   * desired state): name a table here to remove its last route.
   */
  tables?: number[];
  /**
   * The state this caller last applied (e.g. the previous `desired` given to apply()), taken as
   * the kernel's current state for the sections it has (services, timeouts, syncDaemons,
   * addresses, routes): apply() reads none of them, and the IPVS batch reads no service to merge
   * an edit into, so a small change costs only its own requests. What changed behind the
   * caller's back (another tool, a restart) is not seen: the plan is computed against the
   * assumption. Pass `detectDrift` from time to time to find out.
   */
  assumeCurrent?: LvsState;
  /**
   * With assumeCurrent: read the kernel anyway, report how it differs from assumeCurrent in
   * `result.drift`, and plan against what the kernel really has.
   */
  detectDrift?: boolean;
  /**
   * For `nftables` in the desired state: an Nft handle on the same namespace (apply() does not
   * close it).
   */
  nft?: Nft;
  /**
   * nf_tables tables that are managed besides those the desired state lists (with `nftables` in
   * the desired state): name a table here to delete it when the desired state drops it. A table
   * not named in either is never read nor touched.
   */
  nftTables?: NftTableRef[];
  /**
   * When a UDP destination is deleted (directly, after a drain, or with its service), delete the
   * conntrack entries whose original destination is the VIP:port and whose reply source is that
   * real server (Conntrack.delete), so no UDP flow stays pinned to it (IPVS with
   * net.ipv4.vs.conntrack=1). Default true. The outcome is in `result.conntrack`; a kernel
   * without nf_conntrack_netlink is reported there, not thrown. Only UDP: a TCP flow ends on its
   * own once the server is gone (RST or timeout of an established entry is not the problem).
   */
  flushConntrack?: boolean;
  /** A Conntrack handle on the same namespace for flushConntrack (default: apply() opens one on the Ipvs handle's namespace and closes it). */
  conntrack?: Conntrack;
  /** Called with (done, total): 0 before sending, after each acknowledged piece (the plan is then sent in pieces of 2%, at least 256 operations), and with the number applied at the end. */
  onProgress?: (done: number, total: number) => void;
}

/** The conntrack entries of one deleted UDP destination that apply() deleted (see ApplyOptions.flushConntrack). */
export interface ConntrackFlushResult {
  service: ServiceKey;
  dest: DestRef;
  /** Entries deleted (0 when there were none). */
  deleted: number;
  /** Why the entries could not be listed or deleted (ctnetlink not in the kernel: NetlinkError EINVAL with a hint); apply() did not fail. */
  error?: Error;
}

export interface DrainResult extends DrainTarget {
  /** Connections left when the wait ended (0 = drained). */
  connections: number;
}

export interface ApplyResult {
  plan: Plan;
  dryRun: boolean;
  /** What each operation did, one line each (ipvsadm-like), in the order of plan.ops then plan.afterDrain. */
  changes: string[];
  /**
   * The report of the main phase, one item per operation of plan.ops (item i is changes[i]):
   * addresses and routes, then the IPVS batch. Absent on a dry run or an empty plan.
   */
  report?: BatchReport;
  /** The report of the deletes after the drain (item i is plan.afterDrain[i]). */
  afterDrainReport?: BatchReport;
  /** Drained destinations and the connections they still had when deleted. */
  drained: DrainResult[];
  /** How long each phase took (see ApplyTiming); on an ApplyError, up to the failure. */
  timing: ApplyTiming;
  /**
   * With assumeCurrent and detectDrift: how the kernel differed from assumeCurrent, as the
   * operations that would turn the assumed state into the kernel's ([] when they agree).
   */
  drift?: string[];
  /** With flushConntrack (the default): one entry per deleted UDP destination. Absent when none was deleted. */
  conntrack?: ConntrackFlushResult[];
}

/**
 * Where an apply()'s time went, in milliseconds of the monotonic clock (performance.now()): the
 * phases run one after another, so their sum is at most totalMs. What a controller exports as
 * its programming latency (kube-proxy's sync_proxy_rules_duration_seconds); never a pass/fail
 * figure.
 */
export interface ApplyTiming {
  /** Reading the current state of the sections the desired state manages. */
  readMs: number;
  /** Validating the desired state and planning the changes. */
  planMs: number;
  /**
   * Sending the plan and waiting for every acknowledgement: addresses and routes, then the IPVS
   * batch (which reads the services its edits merge into first), and the deletes after a drain.
   * Rollback included. 0 on a dry run.
   */
  sendMs: number;
  /** Waiting for drained destinations to lose their connections (0 without a drain). */
  drainMs: number;
  /** The whole call. */
  totalMs: number;
  /** The main phase's IPVS batch, phase by phase (absent when the plan had no IPVS operation). */
  ipvs?: BatchTiming;
}

export class ApplyError extends LvskitError {
  override name = 'ApplyError';
  readonly result: ApplyResult;
  constructor(message: string, result: ApplyResult, cause?: unknown) {
    super(message, cause !== undefined ? { cause } : undefined);
    this.result = result;
  }
}

type NftOp = Extract<PlanOp, { op: 'replaceTable' | 'deleteTable' }>;
const isNft = (o: PlanOp): o is NftOp => o.op === 'replaceTable' || o.op === 'deleteTable';

type NetOp = Extract<PlanOp, { op: 'addAddress' | 'deleteAddress' | 'replaceAddress' | 'addRoute' | 'replaceRoute' | 'deleteRoute' }>;
const NET_OPS = new Set<PlanOp['op']>(['addAddress', 'deleteAddress', 'replaceAddress', 'addRoute', 'replaceRoute', 'deleteRoute']);
const isNet = (o: PlanOp): o is NetOp => NET_OPS.has(o.op);

function handlesOf(handle: unknown, extra: Rtnl | undefined, extraField: string): { ipvs?: Ipvs; rtnl?: Rtnl } {
  if (extra !== undefined && !(extra instanceof Rtnl)) throw new ValidationError(extraField, extra, 'must be an Rtnl handle');
  if (handle instanceof Rtnl) {
    if (extra !== undefined && extra !== handle) throw new ValidationError(extraField, extra, 'must be left out (or be the same handle) when the first argument is an Rtnl handle');
    return { rtnl: handle };
  }
  if (handle instanceof Ipvs) return extra ? { ipvs: handle, rtnl: extra } : { ipvs: handle };
  throw new ValidationError('handle', handle, 'must be an Ipvs handle or an Rtnl handle');
}

// ---- the report over all of plan.ops -----------------------------------------------------------

function emptyReport(): BatchReport {
  return { ok: true, items: [], applied: [], failed: [], notSent: [], unknown: [], sendCalls: 0 };
}

/** Puts `item` (of a sub-report) at `index` of `into`. */
function place(into: BatchReport, index: number, item: ItemResult): void {
  const it: ItemResult = { ...item, index };
  into.items[index] = it;
  const list = it.state === 'applied' ? into.applied : it.state === 'failed' ? into.failed : it.state === 'not-sent' ? into.notSent : into.unknown;
  list.push(index);
}

function finish(r: BatchReport, n: number): BatchReport {
  for (let i = 0; i < n; i++) if (!r.items[i]) place(r, i, { index: i, state: 'not-sent' });
  for (const l of [r.applied, r.failed, r.notSent, r.unknown]) l.sort((a, b) => a - b);
  r.ok = r.failed.length === 0 && r.notSent.length === 0 && r.unknown.length === 0;
  return r;
}

// ---- addresses and routes ----------------------------------------------------------------------

interface NetOutcome {
  /** One per op, in order. */
  items: ItemResult[];
  sendCalls: number;
  transportError?: NetlinkError;
  /** An error thrown before a group was sent (its items are 'not-sent'). */
  thrown?: unknown;
}

function devIndex(links: Map<string, number>, name: string, field: string): number {
  const i = links.get(name) ?? (/^[1-9][0-9]*$/.test(name) ? Number(name) : undefined);
  if (i === undefined) throw new ValidationError(field, name, 'must name an existing interface in the namespace');
  return i;
}

function routeSpecOf(r: StateRoute, links: Map<string, number>, field: string): RouteSpec {
  const spec: RouteSpec = { dst: r.destination, family: routeFamily(r) };
  if (r.table !== undefined && r.table !== 254) spec.table = r.table;
  if (r.metric) spec.priority = r.metric;
  if (r.gateway !== undefined) spec.gateway = r.gateway;
  if (r.interface !== undefined) spec.dev = devIndex(links, r.interface, `${field}.interface`);
  if (r.nexthops)
    spec.nexthops = r.nexthops.map((h, j) => ({
      ...(h.gateway !== undefined ? { gateway: h.gateway } : {}),
      ...(h.interface !== undefined ? { dev: devIndex(links, h.interface, `${field}.nexthops[${j}].interface`) } : {}),
      ...(h.weight !== undefined ? { weight: h.weight } : {}),
    }));
  return spec;
}

const groupOf = (o: NetOp) => (o.op === 'addAddress' || o.op === 'deleteAddress' || o.op === 'replaceAddress' ? 'address' : o.op);

/**
 * Sends address and route operations in order, each run of one kind as one rtnetlink batch
 * (addresses.batch, routes.addMany/replaceMany/deleteMany). With stopOnError, nothing more is
 * sent after a run with a failure. With `progress`, a run is sent in acknowledged pieces of
 * `progress.piece` operations, and `progress.done(n)` hears how many operations have their
 * answers after each piece.
 */
async function sendNet(rtnl: Rtnl, ops: NetOp[], links: Map<string, number>, stopOnError: boolean, progress?: { piece: number; done: (n: number) => void }): Promise<NetOutcome> {
  const out: NetOutcome = { items: [], sendCalls: 0 };
  const piece = progress?.piece ?? Infinity;
  let i = 0;
  while (i < ops.length) {
    const kind = groupOf(ops[i]!);
    let j = i;
    while (j < ops.length && j - i < piece && groupOf(ops[j]!) === kind) j++;
    const run = ops.slice(i, j);
    let report: BatchReport;
    try {
      if (kind === 'address') {
        const aops = run.map((o): AddressBatchOp => {
          const a = (o as Extract<NetOp, { address: StateAddress }>).address;
          const link = devIndex(links, a.interface, `address ${a.address} interface`);
          return o.op === 'addAddress' ? { op: 'add', link, address: a.address } : o.op === 'replaceAddress' ? { op: 'replace', link, address: a.address } : { op: 'delete', link, address: a.address };
        });
        report = await rtnl.addresses.batch(aops, { stopOnError });
      } else {
        const specs = run.map((o) => routeSpecOf((o as Extract<NetOp, { route: StateRoute }>).route, links, `route ${describeOp(o).replace(/^\S+ route /, '')}`));
        const opts = { stopOnError };
        report = kind === 'addRoute' ? await rtnl.routes.addMany(specs, opts) : kind === 'replaceRoute' ? await rtnl.routes.replaceMany(specs, opts) : await rtnl.routes.deleteMany(specs, opts);
      }
    } catch (e) {
      out.thrown = e;
      break;
    }
    for (const it of report.items) out.items.push(it); // not push(...items): 125k+ items overflow the stack
    out.sendCalls += report.sendCalls;
    if (report.transportError) out.transportError = report.transportError;
    if (!report.ok && stopOnError) break;
    i = j;
    if (progress && i < ops.length) progress.done(out.items.length);
  }
  return out;
}

/** The inverse of an applied address/route operation, from the state read before (undefined: nothing to undo). */
function inverseNet(o: NetOp, before: LvsState): NetOp | undefined {
  switch (o.op) {
    case 'addAddress':
      return { op: 'deleteAddress', address: o.address };
    case 'deleteAddress':
      return { op: 'addAddress', address: o.address };
    case 'replaceAddress':
      return undefined; // it re-made an address that existed before or that an undone add removes
    case 'addRoute':
      return { op: 'deleteRoute', route: o.route };
    case 'deleteRoute':
      return { op: 'addRoute', route: o.route };
    case 'replaceRoute': {
      // the route it replaced: the one with the same key in the state read before
      const prev = (before.routes ?? []).find((r) => routeId(r) === routeId(o.route));
      return prev ? { op: 'replaceRoute', route: prev } : { op: 'deleteRoute', route: o.route };
    }
  }
}

// ---- nf_tables ------------------------------------------------------------------------------------

/**
 * Sends table operations in order, each in its own atomic transaction (Nft.replaceTable /
 * deleteTable): item k is ops[k], 'applied' or 'failed' with the kernel's first refusal. With
 * stopOnError, nothing more is sent after a failure.
 */
async function sendNft(nft: Nft, ops: NftOp[], stopOnError: boolean): Promise<{ items: ItemResult[]; thrown?: unknown }> {
  const items: ItemResult[] = [];
  for (const [k, o] of ops.entries()) {
    try {
      if (o.op === 'replaceTable') await nft.replaceTable(o.table);
      else await nft.deleteTable(o.table);
      items.push({ index: k, state: 'applied' });
    } catch (e) {
      const err = e instanceof BatchError ? (e.report.items[e.report.failed[0] ?? -1]?.error ?? e.report.transportError) : e instanceof NetlinkError ? e : undefined;
      if (err === undefined) return { items, thrown: e };
      items.push({ index: k, state: e instanceof BatchError && e.report.failed.length === 0 ? 'unknown' : 'failed', error: err });
      if (stopOnError) break;
    }
  }
  return { items };
}

/** The inverse of an applied table operation: the table as read before, or its deletion when there was none. */
function inverseNft(o: NftOp, before: LvsState): NftOp {
  const prev = (before.nftables ?? []).find((x) => nftTableId(x) === nftTableId(o.table));
  if (prev) {
    const { skippedRules: _s, ...def } = prev as NftTableDefinition & { skippedRules?: number };
    return { op: 'replaceTable', table: def };
  }
  return { op: 'deleteTable', table: { family: o.table.family, name: o.table.name } };
}

// ---- conntrack ---------------------------------------------------------------------------------

/** The UDP destinations the applied operations of `ops` deleted for good (not re-added by `plan`). */
function deletedUdp(ops: PlanOp[], report: BatchReport | undefined, plan: Plan, before: LvsState): DrainTarget[] {
  if (!report) return [];
  const readded = new Set(plan.ops.filter((o) => o.op === 'addDestination').map((o) => `${serviceId((o as { service: ServiceKey }).service)} ${destinationId((o as { dest: DestRef }).dest)}`));
  const out: DrainTarget[] = [];
  const udp = (k: ServiceKey) => 'protocol' in k && k.protocol === 'udp';
  ops.forEach((o, i) => {
    if (report.items[i]?.state !== 'applied') return;
    if (o.op === 'deleteDestination' && udp(o.service) && !readded.has(`${serviceId(o.service)} ${destinationId(o.dest)}`)) out.push({ service: o.service, dest: o.dest });
    if (o.op === 'deleteService' && udp(o.key)) {
      const s = (before.services ?? []).find((x) => serviceId(x.key) === serviceId(o.key));
      for (const d of s?.destinations ?? []) out.push({ service: o.key, dest: { address: d.address, port: d.port } });
    }
  });
  return out;
}

/** The NetnsSpec behind a handle's `netns` label ('current', a name, a path or 'pid N'). */
function netnsOfLabel(label: string): NetnsSpec | undefined {
  if (label === 'current') return undefined;
  if (label.startsWith('/')) return { path: label };
  const m = /^pid (\d+)$/.exec(label);
  return m ? { pid: Number(m[1]) } : { name: label };
}

/**
 * Deletes the conntrack entries of each target: protocol udp, original destination VIP:port,
 * reply source the real server. Errors are recorded per target, never thrown; once the kernel
 * says it has no ctnetlink (EINVAL), the remaining targets get the same error unsent.
 */
export async function flushConntrackOf(ct: Conntrack, targets: DrainTarget[]): Promise<ConntrackFlushResult[]> {
  const out: ConntrackFlushResult[] = [];
  let fatal: Error | undefined;
  for (const t of targets) {
    const r: ConntrackFlushResult = { service: t.service, dest: t.dest, deleted: 0 };
    if (fatal) r.error = fatal;
    else if ('address' in t.service) {
      try {
        const d = await ct.delete({ protocol: 'udp', originalDestination: t.service.address, originalDestinationPort: t.service.port, replySource: t.dest.address });
        r.deleted = d.deleted;
        if (!d.report.ok) r.error = d.report.items[d.report.failed[0] ?? d.report.unknown[0] ?? -1]?.error ?? new LvskitError('conntrack delete incomplete');
      } catch (e) {
        r.error = e as Error;
        if ((e as { code?: string }).code === 'EINVAL' || (e as { code?: string }).code === 'EBADF') fatal = e as Error;
      }
    }
    out.push(r);
  }
  return out;
}

// ---- IPVS ----------------------------------------------------------------------------------------

function ipvsBatchOf(ipvs: Ipvs, ops: PlanOp[]) {
  const b = ipvs.batch();
  for (const o of ops) {
    switch (o.op) {
      case 'setTimeouts':
        b.setTimeouts(o.timeouts);
        break;
      case 'stopDaemon':
        b.stopDaemon(o.state);
        break;
      case 'startDaemon':
        b.startDaemon(o.daemon);
        break;
      case 'addService':
        b.addService(o.spec);
        break;
      case 'editService':
        b.editService(o.key, o.changes);
        break;
      case 'deleteService':
        b.deleteService(o.key);
        break;
      case 'addDestination':
        b.addDestination(o.service, o.dest);
        break;
      case 'editDestination':
        b.editDestination(o.service, o.dest, o.changes);
        break;
      case 'deleteDestination':
        b.deleteDestination(o.service, o.dest);
        break;
      default:
        break;
    }
  }
  return b;
}

interface PhaseOutcome {
  report: BatchReport;
  /** The IPVS batch's own timing, when it ran. */
  ipvsTiming?: BatchTiming;
  /** With rollback, after a failure: what undoing did (ok = the state before is back). */
  rollback?: BatchReport;
  /** The error that stopped the phase, when not a kernel refusal in the report. */
  error?: unknown;
}

/**
 * Runs `ops` (plan order): addresses and routes over rtnetlink, then the IPVS ones in one batch.
 * Returns the report over all of `ops` (index i = ops[i]); with rollback and a failure, undoes
 * what was applied (IPVS by the batch's own rollback, then addresses and routes in reverse).
 */
async function runPhase(ipvs: Ipvs | undefined, rtnl: Rtnl | undefined, nft: Nft | undefined, ops: PlanOp[], before: LvsState, links: Map<string, number>, options: ApplyOptions): Promise<PhaseOutcome | undefined> {
  if (ops.length === 0) return undefined;
  const rollback = options.rollback === true;
  const report = emptyReport();
  const netIdx: number[] = [];
  const nftIdx: number[] = [];
  const ipvsIdx: number[] = [];
  ops.forEach((o, i) => (isNet(o) ? netIdx : isNft(o) ? nftIdx : ipvsIdx).push(i));
  // built before anything is sent: a request the IPVS batch refuses to encode throws here, not
  // after the addresses and routes went in
  const b = ipvsIdx.length ? ipvsBatchOf(ipvs!, ipvsIdx.map((i) => ops[i]!)) : undefined;
  options.onProgress?.(0, ops.length);
  let error: unknown;
  let ipvsRollback: BatchReport | undefined;
  let ipvsTiming: BatchTiming | undefined;

  // progress as pieces are acknowledged: addresses and routes first, then the IPVS batch
  const onProgress = options.onProgress;
  const tell = (done: number) => {
    try {
      onProgress!(done, ops.length);
    } catch {
      // a progress display must not cut a phase short: its report would lose what was sent
    }
  };
  const netProgress = onProgress ? { piece: progressPiece(ops.length), done: tell } : undefined;

  // 1. addresses and routes (a VIP is in place before its service)
  const net = netIdx.length ? await sendNet(rtnl!, netIdx.map((i) => ops[i] as NetOp), links, true, netProgress) : { items: [], sendCalls: 0 };
  net.items.forEach((it, k) => place(report, netIdx[k]!, it));
  report.sendCalls += net.sendCalls;
  if (net.transportError) report.transportError = net.transportError;
  if (net.thrown !== undefined) error = net.thrown;
  const netOk = net.thrown === undefined && net.items.length === netIdx.length && net.items.every((it) => it.state === 'applied');

  // 1b. nf_tables tables, each in its own atomic transaction (marks in place before the fwmark
  // services that use them)
  let nftOk = netOk;
  if (netOk && nftIdx.length) {
    const out = await sendNft(nft!, nftIdx.map((i) => ops[i] as NftOp), true);
    out.items.forEach((it, k) => place(report, nftIdx[k]!, it));
    report.sendCalls += out.items.length;
    if (out.thrown !== undefined) error = out.thrown;
    nftOk = out.thrown === undefined && out.items.length === nftIdx.length && out.items.every((it) => it.state === 'applied');
    if (onProgress) tell(netIdx.length + out.items.length);
  }

  // 2. the IPVS part, in one batch (only when everything before it went through)
  if (nftOk && b) {
    let sub: BatchReport | undefined;
    try {
      if (onProgress && netIdx.length + nftIdx.length) tell(netIdx.length + nftIdx.length);
      // the services apply() read (or was told to assume): the batch need not read them again
      const known = before.services ? { knownServices: before.services } : {};
      sub = await b.run({ rollback, ...known, ...(onProgress ? { onProgress: (d: number) => tell(netIdx.length + nftIdx.length + d) } : {}) });
    } catch (e) {
      // a BatchError carries the report (rollback); anything else (a closed handle) stopped the
      // batch before it was sent: its items stay 'not-sent' and what went before is undone
      if (e instanceof BatchError) {
        sub = e.report as BatchReport;
        ipvsRollback = e.rollback;
      } else error = e;
    }
    if (sub) {
      if (sub.timing) ipvsTiming = sub.timing;
      sub.items.forEach((it, k) => place(report, ipvsIdx[k]!, it));
      report.sendCalls += sub.sendCalls;
      if (sub.transportError) report.transportError = sub.transportError;
    }
  }
  finish(report, ops.length);
  options.onProgress?.(report.applied.length, ops.length);
  const timed = ipvsTiming ? { ipvsTiming } : {};
  if (report.ok || !rollback) return { report, ...timed, ...(error !== undefined ? { error } : {}) };

  // 3. rollback: the IPVS batch undid itself; undo the applied tables, then the applied addresses
  // and routes, in reverse
  const nftUndo = nftIdx.filter((i) => report.items[i]!.state === 'applied').reverse().map((i) => inverseNft(ops[i] as NftOp, before));
  const nftUndone = nftUndo.length ? await sendNft(nft!, nftUndo, false) : { items: [] as ItemResult[] };
  const undo = netIdx.filter((i) => report.items[i]!.state === 'applied').reverse().flatMap((i) => inverseNet(ops[i] as NetOp, before) ?? []);
  const undone = undo.length ? await sendNet(rtnl!, undo, links, false) : { items: [], sendCalls: 0 };
  const rb = emptyReport();
  const ipvsItems = ipvsRollback?.items ?? [];
  ipvsItems.forEach((it, k) => place(rb, k, it));
  nftUndone.items.forEach((it, k) => place(rb, ipvsItems.length + k, it));
  undone.items.forEach((it, k) => place(rb, ipvsItems.length + nftUndo.length + k, it));
  rb.sendCalls = (ipvsRollback?.sendCalls ?? 0) + nftUndone.items.length + undone.sendCalls;
  finish(rb, ipvsItems.length + nftUndo.length + undo.length);
  if (ipvsRollback && !ipvsRollback.ok) rb.ok = false;
  if (undone.thrown !== undefined || ('thrown' in nftUndone && nftUndone.thrown !== undefined)) rb.ok = false;
  return { report, rollback: rb, ...timed, ...(error !== undefined ? { error } : {}) };
}

function failureMessage(what: string, p: PhaseOutcome, changes: string[], offset = 0): string {
  const r = p.report;
  const i = r.failed[0] ?? r.unknown[0];
  const first = i !== undefined ? `${changes[offset + i]}: ${r.items[i]!.error?.message ?? 'transport failure'}` : p.error instanceof Error ? p.error.message : String(p.error ?? 'not sent');
  const rb = p.rollback ? `; rollback ${p.rollback.ok ? 'restored the previous state' : 'was incomplete'}` : '';
  return `apply: ${what}: ${r.failed.length} of ${r.items.length} operation(s) failed, ${r.applied.length} applied; first: ${first}${rb}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Brings the kernel to `desired`: reads the current state, plans (see planChanges) and sends the
 * plan: addresses and routes first, then the IPVS part in one batch. Returns what was (or, with
 * dryRun, would be) done. A failure throws ApplyError carrying the result (with the report over
 * every operation); with `rollback`, its cause is a BatchError saying whether the previous state
 * was restored.
 *
 * `apply(ipvs, desired, { rtnl })` manages IPVS and, with `rtnl`, addresses and routes.
 * `apply(rtnl, desired)` manages only addresses and routes (no IPVS needed: a desired state with
 * services, timeouts or syncDaemons is refused with a ValidationError).
 */
export function apply(rtnl: Rtnl, desired: LvsState, options?: Omit<ApplyOptions, 'rtnl' | 'drain' | 'drainTimeoutMs' | 'drainPollMs' | 'allowEmpty' | 'order'>): Promise<ApplyResult>;
export function apply(ipvs: Ipvs, desired: LvsState, options?: ApplyOptions): Promise<ApplyResult>;
export async function apply(handle: Ipvs | Rtnl, desired: LvsState, options: ApplyOptions = {}): Promise<ApplyResult> {
  const t0 = performance.now();
  const timing: ApplyTiming = { readMs: 0, planMs: 0, sendMs: 0, drainMs: 0, totalMs: 0 };
  validateState(desired);
  const { ipvs, rtnl } = handlesOf(handle, options.rtnl, 'options.rtnl');
  if (!ipvs) {
    for (const k of ['services', 'timeouts', 'syncDaemons'] as const)
      if (desired[k] !== undefined) throw new ValidationError(k, desired[k], 'needs an Ipvs handle: call apply(ipvs, desired, { rtnl }) (apply(rtnl, ...) manages only addresses and routes)');
  }
  if (!rtnl && (desired.addresses !== undefined || desired.routes !== undefined))
    throw new ValidationError('options.rtnl', options.rtnl, 'must be an Rtnl handle on the same namespace when the desired state has addresses or routes');
  if (options.interfaces !== undefined && (!Array.isArray(options.interfaces) || options.interfaces.some((x) => typeof x !== 'string' || x === '')))
    throw new ValidationError('options.interfaces', options.interfaces, 'must be an array of interface names');
  if (options.nft !== undefined && !(options.nft instanceof Nft)) throw new ValidationError('options.nft', options.nft, 'must be an Nft handle');
  if (desired.nftables !== undefined && options.nft === undefined)
    throw new ValidationError('options.nft', options.nft, 'must be an Nft handle on the same namespace when the desired state has nftables');
  checkTableRefs('options.nftTables', options.nftTables);
  if (options.conntrack !== undefined && !(options.conntrack instanceof Conntrack)) throw new ValidationError('options.conntrack', options.conntrack, 'must be a Conntrack handle');
  if (options.flushConntrack !== undefined && typeof options.flushConntrack !== 'boolean') throw new ValidationError('options.flushConntrack', options.flushConntrack, 'must be a boolean');
  if (options.tables !== undefined && (!Array.isArray(options.tables) || options.tables.some((x) => !Number.isInteger(x) || x < 1 || x > 0xffffffff)))
    throw new ValidationError('options.tables', options.tables, 'must be an array of route table ids (integers in 1..4294967295)');
  const want = normalizeNet(desired);
  let assumed: LvsState | undefined;
  if (options.assumeCurrent !== undefined) {
    try {
      validateState(options.assumeCurrent);
    } catch (e) {
      if (e instanceof ValidationError) throw new ValidationError(`options.assumeCurrent.${e.field}`, e.value, e.message.slice(e.field.length + 1).replace(/, got .*$/, ''));
      throw e;
    }
    assumed = normalizeNet(options.assumeCurrent);
  }
  // a section is read unless assumeCurrent has it (and no drift check was asked for)
  const trust = <K extends keyof LvsState>(k: K): LvsState[K] | undefined => (assumed && !options.detectDrift ? assumed[k] : undefined);
  let mark = performance.now();
  timing.planMs = mark - t0; // validating the desired state counts as planning

  // the current state: only the sections the desired state manages
  const current: LvsState = {};
  let links = new Map<string, number>();
  if (ipvs) {
    const [services, timeouts, daemons] = await Promise.all([
      want.services && !trust('services') ? ipvs.listAll() : undefined,
      want.timeouts && !trust('timeouts') ? ipvs.getTimeouts() : undefined,
      want.syncDaemons && !trust('syncDaemons') ? ipvs.listDaemons() : undefined,
    ]);
    if (services) current.services = stateServicesOf(services);
    else if (want.services) current.services = trust('services');
    if (timeouts) current.timeouts = timeouts;
    else if (want.timeouts) current.timeouts = trust('timeouts');
    if (daemons) current.syncDaemons = daemons;
    else if (want.syncDaemons) current.syncDaemons = trust('syncDaemons');
  }
  if (rtnl && (want.addresses || want.routes)) {
    const names = await linkNames(rtnl);
    links = new Map([...names].map(([i, n]) => [n, i]));
    checkInterfaces(want, links);
    const interfaces = want.addresses && !trust('addresses') ? [...new Set([...want.addresses.map((a) => a.interface), ...(options.interfaces ?? [])])] : [];
    const tables = want.routes && !trust('routes') ? [...new Set([...want.routes.map((r) => r.table ?? 254), ...(options.tables ?? [])])] : [];
    Object.assign(current, await readNet(rtnl, interfaces, tables, names));
    if (want.addresses) current.addresses ??= trust('addresses') ?? [];
    if (want.routes) current.routes ??= trust('routes') ?? [];
  }
  if (want.nftables) {
    if (trust('nftables')) current.nftables = trust('nftables');
    else current.nftables = await readNft(options.nft!, [...want.nftables, ...(options.nftTables ?? [])]);
  }
  let drift: string[] | undefined;
  if (assumed && options.detectDrift) {
    // what would turn the assumed state into the kernel's, over the sections both have
    const a: LvsState = {};
    const k: LvsState = {};
    for (const s of ['services', 'timeouts', 'syncDaemons', 'addresses', 'routes', 'nftables'] as const) {
      if (assumed[s] === undefined || current[s] === undefined) continue;
      (a as Record<string, unknown>)[s] = assumed[s];
      (k as Record<string, unknown>)[s] = current[s];
    }
    drift = planChanges(a, k, { allowEmpty: true, allowWipe: true }).ops.map(describeOp);
  }

  timing.readMs = performance.now() - mark;
  mark = performance.now();
  const plan = planChanges(current, want, options);
  const result: ApplyResult = { plan, dryRun: options.dryRun === true, changes: [...plan.ops, ...plan.afterDrain].map(describeOp), drained: [], timing, ...(drift ? { drift } : {}) };
  // every exit from here on (return or ApplyError) leaves result.timing up to date
  const lap = (phase: 'planMs' | 'sendMs' | 'drainMs') => {
    const now = performance.now();
    timing[phase] += now - mark;
    mark = now;
    timing.totalMs = now - t0;
  };
  lap('planMs');
  if (options.dryRun) return result;

  const nft = options.nft;
  const main = await runPhase(ipvs, rtnl, nft, plan.ops, current, links, options).catch((e: unknown) => {
    lap('sendMs');
    throw new ApplyError(`apply failed: ${(e as Error).message}`, result, e);
  });
  lap('sendMs');
  if (main) {
    if (main.ipvsTiming) timing.ipvs = main.ipvsTiming;
    result.report = main.report;
    // a rolled-back phase re-added what it deleted: nothing to flush then
    if (main.report.ok || !main.rollback) await flushPhase(ipvs, plan.ops, main.report, plan, current, options, result);
    lap('sendMs');
    if (!main.report.ok) {
      const cause = main.rollback ? new BatchError(main.report, main.rollback) : main.error;
      throw new ApplyError(failureMessage('the main phase', main, result.changes), result, cause);
    }
  }
  if (plan.drain.length && ipvs) {
    try {
      const deadline = Date.now() + (options.drainTimeoutMs ?? 30_000);
      let left = await connectionsOf(ipvs, plan.drain);
      while (left.some((d) => d.connections > 0) && Date.now() < deadline) {
        await sleep(Math.min(options.drainPollMs ?? 1000, Math.max(0, deadline - Date.now())));
        left = await connectionsOf(ipvs, plan.drain);
      }
      result.drained = left;
    } catch (e) {
      lap('drainMs');
      throw new ApplyError(`apply failed while waiting for the drain: ${(e as Error).message}`, result, e);
    }
    lap('drainMs');
    // the drained destinations have weight 0 now: a failure here is not rolled back (the main
    // phase succeeded and is the state to keep)
    const after = await runPhase(ipvs, rtnl, nft, plan.afterDrain, current, links, { ...options, rollback: false }).catch((e: unknown) => {
      lap('sendMs');
      throw new ApplyError(`apply failed: ${(e as Error).message}`, result, e);
    });
    lap('sendMs');
    if (after) {
      result.afterDrainReport = after.report;
      await flushPhase(ipvs, plan.afterDrain, after.report, plan, current, options, result);
      lap('sendMs');
      if (!after.report.ok) throw new ApplyError(failureMessage('the deletes after the drain', after, result.changes, plan.ops.length), result, after.error);
    }
  }
  return result;
}

/**
 * With flushConntrack (default on): deletes the conntrack entries of the UDP destinations the
 * applied `ops` removed, adding to result.conntrack. Never throws (errors are in the entries).
 */
async function flushPhase(ipvs: Ipvs | undefined, ops: PlanOp[], report: BatchReport, plan: Plan, before: LvsState, options: ApplyOptions, result: ApplyResult): Promise<void> {
  if (options.flushConntrack === false || !ipvs) return;
  const targets = deletedUdp(ops, report, plan, before);
  if (!targets.length) return;
  let ct = options.conntrack;
  let flushed: ConntrackFlushResult[];
  try {
    ct ??= Conntrack.open({ netns: netnsOfLabel(ipvs.netns) });
    flushed = await flushConntrackOf(ct, targets);
  } catch (e) {
    flushed = targets.map((t) => ({ ...t, deleted: 0, error: e as Error }));
  } finally {
    if (ct && ct !== options.conntrack) ct.close();
  }
  for (const f of flushed) (result.conntrack ??= []).push(f); // no push(...): one item per removed destination
}

/** Every interface the desired addresses and routes name must exist (checked before anything is sent). */
function checkInterfaces(s: LvsState, links: Map<string, number>): void {
  (s.addresses ?? []).forEach((a, i) => devIndex(links, a.interface, `addresses[${i}].interface`));
  (s.routes ?? []).forEach((r, i) => {
    if (r.interface !== undefined) devIndex(links, r.interface, `routes[${i}].interface`);
    (r.nexthops ?? []).forEach((h, j) => h.interface !== undefined && devIndex(links, h.interface, `routes[${i}].nexthops[${j}].interface`));
  });
}

async function connectionsOf(ipvs: Ipvs, targets: DrainTarget[]): Promise<DrainResult[]> {
  const all = await ipvs.listAll();
  const conns = new Map<string, number>();
  for (const s of all) for (const d of s.destinations ?? []) conns.set(`${serviceId(s.key)} ${destinationId(d)}`, d.activeConnections + d.inactiveConnections);
  return targets.map((t) => ({ ...t, connections: conns.get(`${serviceId(t.service)} ${destinationId(t.dest)}`) ?? 0 }));
}

/**
 * Canonical address and route text so the planner compares like with like with what the kernel
 * reports: canonical addresses and prefixes, 'default' per family, a one-hop `nexthops` as a plain
 * gateway/interface (the kernel stores it so), and an IPv6 route without a metric at 1024 (the
 * kernel's IP6_RT_PRIO_USER).
 */
function normalizeNet(s: LvsState): LvsState {
  const out = { ...s };
  const pfx = (a: string) => {
    const p = parsePrefix(a);
    return p ? `${formatAddress(p.bytes)}/${p.prefixLength}` : a;
  };
  const addr = (a: string) => canonicalAddress(a) ?? a;
  if (s.addresses) out.addresses = s.addresses.map((a): StateAddress => ({ interface: a.interface, address: pfx(a.address) }));
  if (s.routes)
    out.routes = s.routes.map((r0) => {
      const r: StateRoute = { ...r0 };
      if (r.gateway !== undefined) r.gateway = addr(r.gateway);
      if (r.nexthops) r.nexthops = r.nexthops.map((h) => ({ ...h, ...(h.gateway !== undefined ? { gateway: addr(h.gateway) } : {}) }));
      if (r.nexthops?.length === 1) {
        const [h] = r.nexthops;
        delete r.nexthops;
        if (h!.gateway !== undefined) r.gateway = h!.gateway;
        if (h!.interface !== undefined) r.interface = h!.interface;
      }
      if (r.destination === 'default' || r.destination === '0.0.0.0/0' || r.destination === '::/0') {
        const fam = r.destination === '::/0' ? 6 : r.destination === '0.0.0.0/0' ? 4 : routeFamily(r);
        const viaKnown = r.gateway !== undefined || (r.nexthops ?? []).some((h) => h.gateway !== undefined);
        r.destination = fam === 6 && !viaKnown ? '::/0' : 'default';
      } else r.destination = pfx(r.destination);
      if (r.table === 254) delete r.table;
      if (!r.metric) {
        if (routeFamily(r) === 6 || r.destination === '::/0') r.metric = 1024;
        else delete r.metric;
      }
      return r;
    });
  return out;
}
