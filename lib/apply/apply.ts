// apply(): read the kernel's state, plan the changes to the desired state (plan.ts), and send them
// in one batch; optionally drain removed destinations first, roll back on failure, or only print.
import type { Ipvs } from '../ipvs/client.js';
import type { BatchReport } from '../batch.js';
import type { Rtnl } from '../rtnl/handle.js';
import { LvskitError } from '../errors.js';
import { formatAddress, parsePrefix } from '../rtnl/ip.js';
import { destinationId, serviceId, stateServicesOf, validateState, type LvsState, type StateAddress, type StateRoute } from '../format/state.js';
import { describeOp, planChanges, type DrainTarget, type Plan, type PlanOp, type PlanOptions } from './plan.js';

export interface ReadStateOptions {
  /** With an Rtnl handle (same namespace), also read the addresses on `interfaces` and the routes of `tables`. */
  rtnl?: Rtnl;
  /** Interfaces whose addresses are managed (default: none). */
  interfaces?: string[];
  /** Route tables that are managed (default: none). Only routes we could have added (protocol boot/static) are read. */
  tables?: number[];
}

/** Reads the whole IPVS state (services with destinations in the kernel's list order, timeouts, daemons). */
export async function readState(ipvs: Ipvs, options: ReadStateOptions = {}): Promise<LvsState> {
  const [services, timeouts, daemons] = await Promise.all([ipvs.listAll(), ipvs.getTimeouts(), ipvs.listDaemons()]);
  const state: LvsState = { services: stateServicesOf(services), timeouts, syncDaemons: daemons };
  if (options.rtnl && options.interfaces?.length) {
    const links = await options.rtnl.links.list();
    const names = new Map(links.map((l) => [l.index, l.name]));
    const addrs = await options.rtnl.addresses.list();
    state.addresses = addrs
      .filter((a) => a.scope === 'global' && options.interfaces!.includes(names.get(a.index) ?? ''))
      .map((a) => ({ interface: names.get(a.index)!, address: `${a.address}/${a.prefixLength}` }));
  }
  if (options.rtnl && options.tables?.length) {
    const links = await options.rtnl.links.list();
    const names = new Map(links.map((l) => [l.index, l.name]));
    state.routes = [];
    for (const table of options.tables) {
      for (const r of await options.rtnl.routes.list({ table })) {
        if (r.protocol !== 'boot' && r.protocol !== 'static') continue;
        const route: StateRoute = { destination: r.dst === '0.0.0.0/0' || r.dst === '::/0' ? 'default' : r.dst };
        if (r.table !== 254) route.table = r.table;
        if (r.priority) route.metric = r.priority;
        if (r.gateway) route.gateway = r.gateway;
        if (r.dev !== undefined && !r.nexthops) route.interface = names.get(r.dev) ?? String(r.dev);
        if (r.nexthops) route.nexthops = r.nexthops.map((h) => ({ ...(h.gateway ? { gateway: h.gateway } : {}), ...(h.dev !== undefined ? { interface: names.get(h.dev) ?? String(h.dev) } : {}), weight: h.weight }));
        state.routes.push(route);
      }
    }
  }
  return state;
}

export interface ApplyOptions extends PlanOptions {
  /** Compute and return the plan, send nothing. */
  dryRun?: boolean;
  /** On a failure, undo what the batch applied (the state before apply() is restored) and throw BatchError. */
  rollback?: boolean;
  /** With drain: the longest wait for drained destinations to have no connections (default 30000 ms). */
  drainTimeoutMs?: number;
  /** With drain: how often to look (default 1000 ms). */
  drainPollMs?: number;
  /** For addresses and routes in the desired state: an Rtnl handle on the same namespace. */
  rtnl?: Rtnl;
  /** Called as operations are sent (done, total). */
  onProgress?: (done: number, total: number) => void;
}

export interface DrainResult extends DrainTarget {
  /** Connections left when the wait ended (0 = drained). */
  connections: number;
}

export interface ApplyResult {
  plan: Plan;
  dryRun: boolean;
  /** What each operation did, one line each (ipvsadm-like). */
  changes: string[];
  /** The batch report of the main phase (absent on a dry run or an empty plan). */
  report?: BatchReport;
  /** The report of the deletes after the drain. */
  afterDrainReport?: BatchReport;
  /** Drained destinations and the connections they still had when deleted. */
  drained: DrainResult[];
}

export class ApplyError extends LvskitError {
  override name = 'ApplyError';
  readonly result: ApplyResult;
  constructor(message: string, result: ApplyResult, cause?: unknown) {
    super(message, cause !== undefined ? { cause } : undefined);
    this.result = result;
  }
}

const IPVS_OPS = new Set(['setTimeouts', 'stopDaemon', 'startDaemon', 'addService', 'editService', 'deleteService', 'addDestination', 'editDestination', 'deleteDestination']);

async function runOps(ipvs: Ipvs, rtnl: Rtnl | undefined, ops: PlanOp[], options: ApplyOptions): Promise<BatchReport | undefined> {
  if (ops.length === 0) return undefined;
  const net = ops.filter((o) => !IPVS_OPS.has(o.op));
  if (net.length && !rtnl) throw new LvskitError('the desired state has addresses or routes: pass an Rtnl handle (options.rtnl) on the same namespace');
  // addresses and routes first (a VIP is in place before its service; they do not depend on IPVS)
  for (const o of net) {
    if (o.op === 'addAddress') await rtnl!.addresses.add({ link: o.address.interface, address: o.address.address });
    else if (o.op === 'deleteAddress') await rtnl!.addresses.delete({ link: o.address.interface, address: o.address.address });
    else if (o.op === 'addRoute' || o.op === 'replaceRoute' || o.op === 'deleteRoute') {
      const r = o.route;
      const spec = {
        dst: r.destination,
        ...(r.table ? { table: r.table } : {}),
        ...(r.metric ? { priority: r.metric } : {}),
        ...(r.gateway ? { gateway: r.gateway } : {}),
        ...(r.interface ? { dev: r.interface } : {}),
        ...(r.nexthops ? { nexthops: r.nexthops.map((h) => ({ ...(h.gateway ? { gateway: h.gateway } : {}), ...(h.interface ? { dev: h.interface } : {}), ...(h.weight ? { weight: h.weight } : {}) })) } : {}),
      };
      if (o.op === 'addRoute') await rtnl!.routes.add(spec as Parameters<Rtnl['routes']['add']>[0]);
      else if (o.op === 'replaceRoute') await rtnl!.routes.replace(spec as Parameters<Rtnl['routes']['add']>[0]);
      else await rtnl!.routes.delete(spec as Parameters<Rtnl['routes']['add']>[0]);
    }
  }
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
  if (b.length === 0) return undefined;
  options.onProgress?.(0, b.length);
  const report = await b.run({ rollback: options.rollback === true });
  options.onProgress?.(report.applied.length, b.length);
  return report;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Brings the kernel to `desired`: reads the current state, plans (see planChanges), and sends the
 * plan in one batch. Returns what was (or, with dryRun, would be) done. A failure throws
 * ApplyError carrying the result (with the batch report); with `rollback`, the BatchError
 * (cause) says whether the previous state was restored.
 */
export async function apply(ipvs: Ipvs, desired: LvsState, options: ApplyOptions = {}): Promise<ApplyResult> {
  validateState(desired);
  const interfaces = desired.addresses ? [...new Set(desired.addresses.map((a) => a.interface))] : [];
  const tables = desired.routes ? [...new Set(desired.routes.map((r) => r.table ?? 254))] : [];
  const current = await readState(ipvs, { ...(options.rtnl ? { rtnl: options.rtnl } : {}), interfaces, tables });
  if (desired.addresses) current.addresses ??= [];
  if (desired.routes) current.routes ??= [];
  const plan = planChanges(current, normalizeNet(desired), options);
  const result: ApplyResult = { plan, dryRun: options.dryRun === true, changes: [...plan.ops, ...plan.afterDrain].map(describeOp), drained: [] };
  if (options.dryRun) return result;
  try {
    const report = await runOps(ipvs, options.rtnl, plan.ops, options);
    if (report) result.report = report;
    if (report && !report.ok) throw new ApplyError(`apply: ${report.failed.length} of ${report.items.length} operation(s) failed; first: ${report.items[report.failed[0] ?? 0]?.error?.message ?? 'transport failure'}`, result);
    if (plan.drain.length) {
      const deadline = Date.now() + (options.drainTimeoutMs ?? 30_000);
      let left = await connectionsOf(ipvs, plan.drain);
      while (left.some((d) => d.connections > 0) && Date.now() < deadline) {
        await sleep(Math.min(options.drainPollMs ?? 1000, Math.max(0, deadline - Date.now())));
        left = await connectionsOf(ipvs, plan.drain);
      }
      result.drained = left;
      const r2 = await runOps(ipvs, options.rtnl, plan.afterDrain, options);
      if (r2) result.afterDrainReport = r2;
      if (r2 && !r2.ok) throw new ApplyError(`apply: ${r2.failed.length} delete(s) after the drain failed`, result);
    }
  } catch (e) {
    if (e instanceof ApplyError) throw e;
    throw new ApplyError(`apply failed: ${(e as Error).message}`, result, e);
  }
  return result;
}

async function connectionsOf(ipvs: Ipvs, targets: DrainTarget[]): Promise<DrainResult[]> {
  const all = await ipvs.listAll();
  const conns = new Map<string, number>();
  for (const s of all) for (const d of s.destinations ?? []) conns.set(`${serviceId(s.key)} ${destinationId(d)}`, d.activeConnections + d.inactiveConnections);
  return targets.map((t) => ({ ...t, connections: conns.get(`${serviceId(t.service)} ${destinationId(t.dest)}`) ?? 0 }));
}

/** Canonical address and route text so the planner compares like with like. */
function normalizeNet(s: LvsState): LvsState {
  const out = { ...s };
  const pfx = (a: string) => {
    const p = parsePrefix(a);
    return p ? `${formatAddress(p.bytes)}/${p.prefixLength}` : a;
  };
  if (s.addresses) out.addresses = s.addresses.map((a): StateAddress => ({ interface: a.interface, address: pfx(a.address) }));
  if (s.routes) out.routes = s.routes.map((r) => ({ ...r, destination: r.destination === 'default' ? 'default' : pfx(r.destination) }));
  return out;
}
