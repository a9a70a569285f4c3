// Ipvs: the IPVS generic netlink family, typed, batched and fork-free.
//
// Every write is planned as a list of operations, each one netlink request: single calls are
// batches of one. A plan knows each operation's inverse, computed from the state read before the
// batch, so a failed batch can be rolled back. Edits read the current object and write it back
// whole with only the named fields changed (the kernel's SET_SERVICE / SET_DEST need every field
// and reset the ones left out; ipvsadm -E / -e inherit that, lvskit does not).
import { native } from '../native.js';
import { ItemStatusCode, type NativeBatch, type RawOutcome } from '../addon-types.js';
import { BatchError, reportOf, throwIfFailed, type BatchReport } from '../batch.js';
import { LvskitError, NetlinkError, ValidationError } from '../errors.js';
import { NetlinkSocket, type NetnsSpec } from '../socket.js';
import { AF_INET, AF_INET6, formatAddress } from '../rtnl/ip.js';
import { IpvsCmd, IpvsSeen, type RawIpvsDest, type RawIpvsService } from './native-types.js';
import { listConnections as readConnections, type IpvsConnection } from './connections.js';
import type { StateService } from '../format/state.js';
import {
  DEFAULT_PERSISTENCE_TIMEOUT,
  FORWARD,
  IPVS_ROW,
  MAX_PERSISTENCE_TIMEOUT,
  MAX_THRESHOLD,
  MAX_WEIGHT,
  SCHEDULER_NAMES,
  SVC_F,
  TUNNEL,
  fastDest,
  fastService,
  daemonOf,
  daemonOfRaw,
  daemonState,
  DEST_COLS,
  afName,
  formatIpv4Mask,
  destinationOfColumns,
  wireDestOfColumns,
  destKey,
  destKeyOfRaw,
  destSpec,
  destinationOf,
  keyOfRaw,
  schedulerName,
  serviceKey,
  serviceOf,
  serviceSpec,
  timeoutsOf,
  type WireDaemon,
  type WireDest,
  type WireDestKey,
  type WireService,
  type WireServiceKey,
} from './validate.js';
import {
  SCHEDULERS,
  type Destination,
  type DestinationChanges,
  type DestinationSpec,
  type IpvsFeatures,
  type IpvsInfo,
  type Service,
  type ServiceChanges,
  type ServiceKey,
  type ServiceSpec,
  type SyncDaemon,
  type Timeouts,
  type TunnelType,
} from './types.js';

export interface IpvsOpenOptions {
  /** Namespace to act in (IPVS state is per network namespace). Default: the caller's. */
  netns?: NetnsSpec | undefined;
  /** Receive buffer in bytes; see SocketOptions. */
  receiveBufferBytes?: number | undefined;
}

/** Raised when the running kernel lacks something a request needs (it would be silently dropped). */
export class IpvsFeatureError extends LvskitError {
  override name = 'IpvsFeatureError';
  readonly feature: string;
  constructor(feature: string, message: string) {
    super(message);
    this.feature = feature;
  }
}

export interface BatchRunOptions {
  /** On failure, undo the applied items in reverse order and throw a BatchError. */
  rollback?: boolean;
  /** Send nothing more after a send that had a failure (items in the same send still ran). */
  stopOnError?: boolean;
  /**
   * Called as the kernel acknowledges the batch, with (items answered, items in the batch): the
   * batch is then sent in pieces of at most 2% of it (at least 256 items), each acknowledged
   * before the next is sent, and this is called after each piece but the last (the report
   * follows it). Without it the batch goes in as few sends as the socket allows. The pieces
   * change nothing else: one report over every item, stopOnError stops after the piece that had
   * the failure, rollback undoes every applied item of every piece. A callback that throws is
   * ignored (the batch goes on, so its report stays whole).
   */
  onProgress?: ((done: number, total: number) => void) | undefined;
  /**
   * The services (with their destinations, in the kernel's order) as the caller knows the kernel
   * holds them right now: the batch then reads none of them to merge an edit into (or, with
   * rollback, to learn what a delete must restore), and takes these instead. For a caller that
   * has just read them (apply() passes its own read) or that keeps what it last applied (a
   * controller: see apply()'s assumeCurrent). A service an op looks up that is not in the list
   * does not exist as far as the batch knows (an edit of it is refused before anything is sent).
   * Wrong knowledge gives a wrong merge or undo: pass what the kernel has.
   */
  knownServices?: readonly StateService[] | undefined;
}

/** A service key as written (no validation): finds a known service cheaply, confirmed by serviceKey. */
function keyText(k: unknown): string {
  if (typeof k !== 'object' || k === null) return '';
  const o = k as Record<string, unknown>;
  return `${String(o.fwmark)}|${String(o.protocol)}|${String(o.address)}|${String(o.port)}|${String(o.family)}`;
}

/** Items per acknowledged piece of a batch with onProgress: every 2%, at least 256. */
export function progressPiece(total: number): number {
  return Math.max(256, Math.ceil(total / 50));
}

/**
 * The outcomes of consecutive pieces of one batch as one outcome over `n` items: piece p covers
 * items parts[p].first onward; items of no piece (never sent) are NotSent.
 */
function mergeOutcomes(parts: { raw: RawOutcome; first: number }[], n: number): RawOutcome {
  const status = new Int32Array(n).fill(ItemStatusCode.NotSent);
  const errors = new Int32Array(n);
  const replyBegin = new Int32Array(n);
  const replyCount = new Int32Array(n);
  const failures: RawOutcome['failures'] = [];
  const interrupted: number[] = [];
  const bufs: Buffer[] = [];
  const offsets: number[] = [];
  let bytes = 0;
  let replies = 0;
  let sendCalls = 0;
  let fatal: RawOutcome['fatal'] = null;
  for (const { raw, first } of parts) {
    status.set(raw.status, first);
    errors.set(raw.errors, first);
    for (let i = 0; i < raw.status.length; i++) {
      replyBegin[first + i] = raw.replyBegin[i]! + replies;
      replyCount[first + i] = raw.replyCount[i]!;
    }
    for (const f of raw.failures) failures.push({ ...f, index: f.index + first });
    for (const x of raw.interrupted) interrupted.push(x + first);
    for (let r = 0; r < raw.replyOffsets.length; r++) offsets.push(raw.replyOffsets[r]! + bytes);
    bufs.push(raw.replies);
    bytes += raw.replies.length;
    replies += raw.replyOffsets.length;
    sendCalls += raw.sendCalls;
    if (raw.fatal) fatal = raw.fatal;
  }
  return { status, errors, replyBegin, replyCount, failures, interrupted, replies: Buffer.concat(bufs), replyOffsets: Uint32Array.from(offsets), sendCalls, fatal };
}

/**
 * The report of a rollback (BatchError.rollback): one item per undo request, plus the indexes of
 * the batch's applied items that cannot be undone (`zero`: counters cannot be restored).
 */
export interface IpvsRollbackReport extends BatchReport {
  notUndone: number[];
}

export interface FeaturesOptions {
  /**
   * Create and delete a scratch firewall-mark service in the handle's namespace to learn what
   * the kernel supports when nothing configured shows it, and try every scheduler on it
   * (which makes the kernel load the scheduler modules). Default false: read-only.
   */
  probe?: boolean;
}

// ---- planned operations -------------------------------------------------------------------------

type Encoded =
  | { t: 'svc'; cmd: IpvsCmd; w: WireService }
  | { t: 'svckey'; cmd: IpvsCmd; k: WireServiceKey; dump: boolean }
  | { t: 'dest'; cmd: IpvsCmd; k: WireServiceKey; d: WireDest | WireDestKey; full: boolean }
  | { t: 'daemon'; cmd: IpvsCmd; d: WireDaemon | { state: number }; full: boolean }
  | { t: 'timeouts'; tcp: number; tcpFin: number; udp: number }
  | { t: 'bare'; cmd: IpvsCmd; dump: boolean };

interface Planned {
  label: string;
  req: Encoded;
  /** Requests that undo this one (run in order); null = cannot be undone (zero). */
  inverse: Encoded[] | null;
  /** Extra text for a failure's message. */
  hint?: (code: string) => string | undefined;
  /** Tunnel features this request relies on. */
  needs?: { gue?: boolean; gre?: boolean; flags?: boolean };
}

interface ModelService {
  w: WireService;
  /** Destinations in the kernel's list order (newest first). */
  dests: Map<string, WireDest>;
}

/** The IPVS state a plan is computed against; filled from the kernel, updated as ops are planned. */
interface Model {
  services: Map<string, ModelService> | undefined;
  timeouts: { tcp: number; tcpFin: number; udp: number } | undefined;
  daemons: Map<number, WireDaemon> | undefined;
  /** Kernel reads #loadModel made (0: the model came from knownServices, or was not needed). */
  reads?: number;
}

type Op =
  | { kind: 'addService'; spec: ServiceSpec }
  | { kind: 'editService'; key: ServiceKey; changes: ServiceChanges }
  | { kind: 'deleteService'; key: ServiceKey }
  | { kind: 'addDestination'; service: ServiceKey; dest: DestinationSpec }
  | { kind: 'editDestination'; service: ServiceKey; dest: { address: string; port: number }; changes: DestinationChanges }
  | { kind: 'deleteDestination'; service: ServiceKey; dest: { address: string; port: number } }
  | { kind: 'setTimeouts'; timeouts: Partial<Timeouts> }
  | { kind: 'zero'; service?: ServiceKey | undefined }
  | { kind: 'flush' }
  | { kind: 'startDaemon'; daemon: SyncDaemon }
  | { kind: 'stopDaemon'; state: 'master' | 'backup' };

/** A builder of mixed IPVS operations executed in one run (see Ipvs.batch()). */
export class IpvsBatch {
  readonly #ipvs: Ipvs;
  readonly #ops: Op[] = [];
  /** @internal use Ipvs.batch() */
  constructor(ipvs: Ipvs) {
    this.#ipvs = ipvs;
  }
  get length(): number {
    return this.#ops.length;
  }
  addService(spec: ServiceSpec): this {
    this.#ops.push({ kind: 'addService', spec });
    return this;
  }
  editService(key: ServiceKey, changes: ServiceChanges): this {
    this.#ops.push({ kind: 'editService', key, changes });
    return this;
  }
  deleteService(key: ServiceKey): this {
    this.#ops.push({ kind: 'deleteService', key });
    return this;
  }
  addDestination(service: ServiceKey, dest: DestinationSpec): this {
    this.#ops.push({ kind: 'addDestination', service, dest });
    return this;
  }
  editDestination(service: ServiceKey, dest: { address: string; port: number }, changes: DestinationChanges): this {
    this.#ops.push({ kind: 'editDestination', service, dest, changes });
    return this;
  }
  deleteDestination(service: ServiceKey, dest: { address: string; port: number }): this {
    this.#ops.push({ kind: 'deleteDestination', service, dest });
    return this;
  }
  setTimeouts(timeouts: Partial<Timeouts>): this {
    this.#ops.push({ kind: 'setTimeouts', timeouts });
    return this;
  }
  zero(service?: ServiceKey): this {
    this.#ops.push({ kind: 'zero', service });
    return this;
  }
  flush(): this {
    this.#ops.push({ kind: 'flush' });
    return this;
  }
  startDaemon(daemon: SyncDaemon): this {
    this.#ops.push({ kind: 'startDaemon', daemon });
    return this;
  }
  stopDaemon(state: 'master' | 'backup'): this {
    this.#ops.push({ kind: 'stopDaemon', state });
    return this;
  }
  /**
   * Sends every operation in as few sendmsg calls as the socket allows and returns a report with
   * one result per item, in order. With `rollback`, a failure undoes the applied items (in
   * reverse, with inverses computed from the state read before the batch) and throws BatchError.
   */
  run(options: BatchRunOptions = {}): Promise<BatchReport> {
    return this.#ipvs._runOps(this.#ops.slice(), options);
  }
}

function seenToFeatures(destSeen: number | undefined): Pick<IpvsFeatures, 'tunnelTypes' | 'tunnelChecksumFlags' | 'destinationAddressFamily'> {
  if (destSeen === undefined) return { tunnelTypes: [], tunnelChecksumFlags: false, destinationAddressFamily: false };
  const tunnelTypes: TunnelType[] = ['ipip'];
  // The kernel sends TUN_TYPE/TUN_PORT from 5.2 (GUE) and TUN_FLAGS from 5.3 (GRE + checksums).
  if (destSeen & IpvsSeen.TunType) tunnelTypes.push('gue');
  if (destSeen & IpvsSeen.TunFlags) tunnelTypes.push('gre');
  return { tunnelTypes, tunnelChecksumFlags: (destSeen & IpvsSeen.TunFlags) !== 0, destinationAddressFamily: (destSeen & IpvsSeen.AddrFamily) !== 0 };
}

/** Pure: what a destination reply's `seen` bits say the kernel supports (exported for tests). */
export function featuresFromSeen(destSeen: number | undefined, serviceSeen: number | undefined) {
  return { ...seenToFeatures(destSeen), stats64: serviceSeen !== undefined && (serviceSeen & IpvsSeen.Stats64) !== 0 };
}

/**
 * Pure: refuses a tunnel request the kernel would silently downgrade, given the `seen` bits of
 * the destination replies this kernel sent (undefined: none seen). Exported for tests.
 */
export function checkTunnelSupport(needs: { gue?: boolean; gre?: boolean; flags?: boolean }, destSeen: number | undefined, label: string): void {
  if (destSeen === undefined) throw new IpvsFeatureError('tunnel', `${label}: cannot tell whether this kernel supports this tunnel (no destination to look at, and the probe failed)`);
  const f = seenToFeatures(destSeen);
  const missing = (what: string, since: string, downgrade: string) => {
    throw new IpvsFeatureError(what, `${label}: this kernel does not support ${what} (IPVS in Linux ${since}+); it would silently ignore it${downgrade}`);
  };
  if (needs.gue && !f.tunnelTypes.includes('gue')) missing('gue tunnels', '5.2', ' and make the tunnel plain IPIP');
  if (needs.gre && !f.tunnelTypes.includes('gre')) missing('gre tunnels', '5.3', ' and make the tunnel plain IPIP');
  if (needs.flags && !f.tunnelChecksumFlags) missing('tunnel checksum flags', '5.3', '');
}

function wireOfRawService(r: RawIpvsService): WireService {
  const k = keyOfRaw(r);
  return {
    ...k,
    scheduler: r.scheduler || 'none',
    pe: r.pe,
    flags: r.flags & ~SVC_F.hashed,
    flagsMask: ~SVC_F.hashed >>> 0,
    timeout: r.timeout,
    netmask: r.netmask,
  };
}

function requireInt(field: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new ValidationError(field, v, `must be an integer in ${lo}..${hi}`);
  return v;
}

function mergeService(base: WireService, changes: ServiceChanges, field: string): WireService {
  if (typeof changes !== 'object' || changes === null) throw new ValidationError(field, changes, 'must be an object of the fields to change');
  const known = ['scheduler', 'flags', 'persistence', 'persistenceEngine'];
  for (const k of Object.keys(changes)) if (!known.includes(k)) throw new ValidationError(`${field}.${k}`, (changes as Record<string, unknown>)[k], `cannot be changed (changeable: ${known.join(', ')}; the key identifies the service)`);
  const w: WireService = { ...base };
  if (changes.scheduler !== undefined) w.scheduler = schedulerName(`${field}.scheduler`, changes.scheduler);
  if (changes.flags !== undefined) {
    const f = changes.flags as Record<string, unknown>;
    if (typeof f !== 'object' || f === null) throw new ValidationError(`${field}.flags`, f, 'must be an object of booleans');
    const bits: Record<string, number> = { onePacket: SVC_F.onePacket, schedFallback: SVC_F.sched1, schedPort: SVC_F.sched2, sched3: SVC_F.sched3 };
    for (const [k, v] of Object.entries(f)) {
      if (!(k in bits)) throw new ValidationError(`${field}.flags.${k}`, v, `is not a service flag (known: ${Object.keys(bits).join(', ')})`);
      if (v === undefined) continue;
      if (typeof v !== 'boolean') throw new ValidationError(`${field}.flags.${k}`, v, 'must be a boolean');
      w.flags = v ? w.flags | bits[k]! : w.flags & ~bits[k]!;
    }
  }
  if (changes.persistence === null) {
    w.flags &= ~SVC_F.persistent;
  } else if (changes.persistence !== undefined) {
    const p = changes.persistence as Record<string, unknown>;
    if (typeof p !== 'object') throw new ValidationError(`${field}.persistence`, p, 'must be { timeout?, netmask? } or null');
    w.flags |= SVC_F.persistent;
    if (p.timeout !== undefined) w.timeout = requireInt(`${field}.persistence.timeout`, p.timeout, 1, MAX_PERSISTENCE_TIMEOUT);
    else if (w.timeout === 0) w.timeout = DEFAULT_PERSISTENCE_TIMEOUT;
    if (p.netmask !== undefined) {
      const tmp = serviceSpec({ key: { fwmark: 1, family: w.af === AF_INET6 ? 'inet6' : 'inet' }, persistence: { timeout: 1, netmask: p.netmask } }, field);
      w.netmask = tmp.netmask;
    }
  }
  if (changes.persistenceEngine === null || changes.persistenceEngine === '') w.pe = '';
  else if (changes.persistenceEngine !== undefined) {
    if (typeof changes.persistenceEngine !== 'string' || !/^[a-z0-9_]{1,15}$/.test(changes.persistenceEngine))
      throw new ValidationError(`${field}.persistenceEngine`, changes.persistenceEngine, "must be a persistence engine name such as 'sip', or null");
    w.pe = changes.persistenceEngine;
  }
  return w;
}

function mergeDest(base: WireDest, svc: WireServiceKey, changes: DestinationChanges, field: string): WireDest {
  if (typeof changes !== 'object' || changes === null) throw new ValidationError(field, changes, 'must be an object of the fields to change');
  const known = ['forward', 'weight', 'upperThreshold', 'lowerThreshold', 'tunnel'];
  for (const k of Object.keys(changes)) if (!known.includes(k)) throw new ValidationError(`${field}.${k}`, (changes as Record<string, unknown>)[k], `cannot be changed (changeable: ${known.join(', ')}; address and port identify the destination)`);
  const w: WireDest = { ...base };
  if (changes.forward !== undefined) {
    if (typeof changes.forward !== 'string' || !(changes.forward in FORWARD)) throw new ValidationError(`${field}.forward`, changes.forward, `must be one of ${Object.keys(FORWARD).join(', ')}`);
    w.forward = FORWARD[changes.forward];
    if (w.forward !== FORWARD.tunnel && base.forward === FORWARD.tunnel && w.tunnelType >= 0) {
      w.tunnelType = 0;
      w.tunnelPort = 0;
      if (w.tunnelFlags >= 0) w.tunnelFlags = 0;
    }
  }
  if (changes.weight !== undefined) w.weight = requireInt(`${field}.weight`, changes.weight, 0, MAX_WEIGHT);
  if (changes.upperThreshold !== undefined) w.upperThreshold = requireInt(`${field}.upperThreshold`, changes.upperThreshold, 0, MAX_THRESHOLD);
  if (changes.lowerThreshold !== undefined) w.lowerThreshold = requireInt(`${field}.lowerThreshold`, changes.lowerThreshold, 0, MAX_THRESHOLD);
  if (w.lowerThreshold > w.upperThreshold)
    throw new ValidationError(`${field}.lowerThreshold`, w.lowerThreshold, `must not exceed upperThreshold (${w.upperThreshold}); the kernel refuses it with ERANGE`);
  if (w.af !== svc.af && w.forward !== FORWARD.tunnel)
    throw new ValidationError(`${field}.forward`, changes.forward, 'must stay \'tunnel\' for a destination of another address family than its service');
  if (changes.tunnel !== undefined) {
    if (w.forward !== FORWARD.tunnel) throw new ValidationError(`${field}.tunnel`, changes.tunnel, "needs forward 'tunnel'");
    const probe = destSpec(
      { address: '0.0.0.0', port: 0, forward: 'tunnel', ...(changes.tunnel === null ? {} : { tunnel: changes.tunnel }) },
      { ...svc, af: AF_INET },
      field,
    );
    w.tunnelType = probe.tunnelType;
    w.tunnelPort = probe.tunnelPort;
    w.tunnelFlags = probe.tunnelFlags < 0 ? (base.tunnelFlags >= 0 ? 0 : -1) : probe.tunnelFlags;
  }
  return w;
}

function needsOf(d: WireDest): Planned['needs'] {
  if (d.forward !== FORWARD.tunnel) return undefined;
  const n: NonNullable<Planned['needs']> = {};
  if (d.tunnelType === TUNNEL.gue) n.gue = true;
  if (d.tunnelType === TUNNEL.gre) n.gre = true;
  if (d.tunnelFlags > 0) n.flags = true;
  return n.gue || n.gre || n.flags ? n : undefined;
}

const FWD_LABEL = ['masq', 'local', 'tunnel', 'route', 'bypass'];

/** One handle on the IPVS state of one network namespace. */
/** Numbers per service row of ipvsDecodeServiceColumns (ipvs_binding.cc kSvcCols):
 * [af, protocol, port, fwmark, flags, timeout, netmask, seen, hasStats, scheduler, pe]. */
export const SVC_COLS = 11;

/** A service dump's replies as columns (ipvsDecodeServiceColumns), for serviceOfColumns. */
export interface ServiceColumns {
  nums: Float64Array;
  addrs: Uint8Array;
  stats: BigUint64Array;
  /** Scheduler and persistence engine names the rows index; names[0] = ''. */
  names: string[];
}

/** The services of item `index` of an outcome, decoded natively into columns. */
export function decodeServiceColumns(raw: RawOutcome, index: number): ServiceColumns {
  const n = raw.replyCount[index]!;
  const nums = new Float64Array(n * SVC_COLS);
  const addrs = new Uint8Array(n * 16);
  const stats = new BigUint64Array(n * 10);
  const names = native.ipvsDecodeServiceColumns(raw.replies, raw.replyOffsets, raw.replyBegin[index]!, n, nums, addrs, stats);
  return { nums, addrs, stats, names };
}

const PROTOCOL_NAME: Record<number, 'tcp' | 'udp' | 'sctp'> = { 6: 'tcp', 17: 'udp', 132: 'sctp' };

/** inet_ntop's text of row r's address (canonical, as serviceOf writes it). */
function addressOfRow(af: number, addrs: Uint8Array, r: number): string {
  const o = r * 16;
  if (af !== AF_INET6) return `${addrs[o]}.${addrs[o + 1]}.${addrs[o + 2]}.${addrs[o + 3]}`;
  return formatAddress(addrs.subarray(o, o + 16));
}

/** serviceOf of row r of the columns: the same object, same property order. */
export function serviceOfColumns(c: ServiceColumns, r: number): Service {
  const n = r * SVC_COLS;
  const nums = c.nums;
  const af = nums[n]!;
  const fwmark = nums[n + 3]!;
  const f = nums[n + 4]!;
  const family = afName(af);
  const key: ServiceKey = fwmark
    ? { fwmark, family }
    : { protocol: PROTOCOL_NAME[nums[n + 1]!] ?? 'tcp', address: addressOfRow(af, c.addrs, r), port: nums[n + 2]!, family };
  const flags: Service['flags'] = {
    persistent: (f & SVC_F.persistent) !== 0,
    hashed: (f & SVC_F.hashed) !== 0,
    onePacket: (f & SVC_F.onePacket) !== 0,
    schedFallback: (f & SVC_F.sched1) !== 0,
    schedPort: (f & SVC_F.sched2) !== 0,
    sched3: (f & SVC_F.sched3) !== 0,
  };
  const s: Service = { key, family, scheduler: c.names[nums[n + 9]!]!, flags };
  if (flags.persistent) s.persistence = { timeout: nums[n + 5]!, netmask: af === AF_INET6 ? nums[n + 6]! : formatIpv4Mask(nums[n + 6]!) };
  const pe = nums[n + 10]!;
  if (pe) s.persistenceEngine = c.names[pe]!;
  if (nums[n + 8]) {
    const st = c.stats;
    const o = r * 10;
    s.stats = {
      connections: st[o]!,
      packetsIn: st[o + 1]!,
      packetsOut: st[o + 2]!,
      bytesIn: st[o + 3]!,
      bytesOut: st[o + 4]!,
      cps: st[o + 5]!,
      ppsIn: st[o + 6]!,
      ppsOut: st[o + 7]!,
      bpsIn: st[o + 8]!,
      bpsOut: st[o + 9]!,
    };
  }
  return s;
}

/** Row r as the RawIpvsService ipvsDecodeServices gives (without stats): for keyOfRaw's label on an error path. */
export function rawServiceOfColumns(c: ServiceColumns, r: number): RawIpvsService {
  const n = r * SVC_COLS;
  const af = c.nums[n]!;
  const fwmark = c.nums[n + 3]!;
  return {
    af,
    family: af === AF_INET6 ? 'inet6' : af === AF_INET ? 'inet' : 'unknown',
    fwmark,
    protocol: c.nums[n + 1]!,
    address: fwmark ? '' : addressOfRow(af, c.addrs, r),
    port: c.nums[n + 2]!,
    scheduler: c.names[c.nums[n + 9]!]!,
    pe: c.names[c.nums[n + 10]!]!,
    flags: c.nums[n + 4]!,
    timeout: c.nums[n + 5]!,
    netmask: c.nums[n + 6]!,
    seen: c.nums[n + 7]!,
  };
}

export class Ipvs {
  readonly #sock: NetlinkSocket;
  readonly #familyId: number;
  readonly #familyVersion: number;
  readonly #maxAttr: number;
  /** Union of `seen` bits of every destination / service reply decoded on this handle. */
  #destSeen: number | undefined;
  #svcSeen: number | undefined;
  #probed: IpvsFeatures | undefined;
  /** Calls run one after another in call order (an edit's read and write are not interleaved with other calls on this handle). */
  #tail: Promise<unknown> = Promise.resolve();

  private constructor(sock: NetlinkSocket, familyId: number, version: number, maxAttr: number) {
    this.#sock = sock;
    this.#familyId = familyId;
    this.#familyVersion = version;
    this.#maxAttr = maxAttr;
  }

  /**
   * Opens a generic netlink socket in `netns` and resolves the IPVS family (on 5.16+ resolving
   * it autoloads the ip_vs module). Throws NetlinkError ENOENT when the kernel has no IPVS.
   *
   * Equivalent to: nothing in ipvsadm (it opens its socket implicitly on every run).
   */
  static open(options: IpvsOpenOptions = {}): Ipvs {
    const sock = NetlinkSocket.open('generic', options);
    try {
      const f = sock.resolveFamily('IPVS');
      return new Ipvs(sock, f.id, f.version, f.maxAttr);
    } catch (e) {
      sock.close();
      throw e;
    }
  }

  /** The namespace this handle acts in ('current', a name, a path or 'pid N'). */
  get netns(): string {
    return this.#sock.netns;
  }

  get closed(): boolean {
    return this.#sock.closed;
  }

  /** Closes the socket; calls queued behind one in flight fail with EBADF. */
  close(): void {
    this.#sock.close();
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#tail.then(fn);
    this.#tail = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  // ---- services -----------------------------------------------------------------------------

  /**
   * Adds a virtual service. Defaults: scheduler 'wlc', not persistent, no flags.
   *
   * Equivalent to: `ipvsadm -A -t 10.0.0.1:80 -s rr [-p 300 -M 255.255.255.0] [-o] [-b sh-port]`.
   */
  addService(spec: ServiceSpec): Promise<void> {
    return this.#serial(() => this.#single({ kind: 'addService', spec }));
  }

  /**
   * Changes only the given fields of a service; every other field (scheduler, flags, persistence
   * timeout and netmask, persistence engine) keeps its current value.
   *
   * Equivalent to: `ipvsadm -E -t 10.0.0.1:80 -s wrr`, except that ipvsadm resets what is not repeated.
   */
  editService(key: ServiceKey, changes: ServiceChanges): Promise<void> {
    return this.#serial(() => this.#single({ kind: 'editService', key, changes }));
  }

  /** Deletes a service and its destinations. Equivalent to: `ipvsadm -D -t 10.0.0.1:80`. */
  deleteService(key: ServiceKey): Promise<void> {
    return this.#serial(() => this.#single({ kind: 'deleteService', key }));
  }

  /**
   * Reads one service (with stats), or undefined when there is none;
   * `withDestinations` adds its destinations.
   *
   * Equivalent to: `ipvsadm -Ln -t 10.0.0.1:80 --stats --exact`.
   */
  getService(key: ServiceKey, options: { withDestinations?: boolean } = {}): Promise<Service | undefined> {
    return this.#serial(() => this.#getService(key, options));
  }

  async #getService(key: ServiceKey, options: { withDestinations?: boolean }): Promise<Service | undefined> {
    const k = serviceKey(key);
    const b = this.#sock.newBatch();
    this.#encode(b, { t: 'svckey', cmd: IpvsCmd.GetService, k, dump: false });
    if (options.withDestinations) this.#encode(b, { t: 'svckey', cmd: IpvsCmd.GetDest, k, dump: true });
    const raw = await this.#sock.run(b, `getService ${k.label}`, { large: options.withDestinations === true });
    if (raw.status[0] !== 0 && raw.failures.find((f) => f.index === 0)?.code === 'ESRCH') return undefined;
    throwIfFailed(raw, `getService ${k.label}`, 0);
    const rs = this.#decodeServices(raw, 0);
    if (rs.length === 0) return undefined;
    const s = serviceOf(rs[0]!);
    if (options.withDestinations) {
      throwIfFailed(raw, `listDestinations ${k.label}`, 1);
      s.destinations = this.#decodeDests(raw, 1, k.af).map(destinationOf);
    }
    return s;
  }

  /** Lists every service of the namespace, with stats. Empty when none. Equivalent to: `ipvsadm -Ln --stats --exact` (services only). */
  listServices(): Promise<Service[]> {
    return this.#serial(async () => (await this.#dumpServices()).map(serviceOf));
  }

  // ---- destinations ---------------------------------------------------------------------------

  /**
   * Adds a real server. Defaults: forward 'route' (DR), weight 1, no thresholds.
   *
   * Equivalent to: `ipvsadm -a -t 10.0.0.1:80 -r 10.0.1.2:80 -m -w 5 -x 100 -y 10`
   * (tunnels: `-i --tun-type gue --tun-port 6080 --tun-csum`).
   */
  addDestination(service: ServiceKey, dest: DestinationSpec): Promise<void> {
    return this.#serial(() => this.#single({ kind: 'addDestination', service, dest }));
  }

  /**
   * Changes only the given fields of a real server (weight, thresholds, forwarding method,
   * tunnel); the others keep their current values.
   *
   * Equivalent to: `ipvsadm -e -t 10.0.0.1:80 -r 10.0.1.2:80 -w 0`, except that ipvsadm resets what is not repeated.
   */
  editDestination(service: ServiceKey, dest: { address: string; port: number }, changes: DestinationChanges): Promise<void> {
    return this.#serial(() => this.#single({ kind: 'editDestination', service, dest, changes }));
  }

  /** Removes a real server. Equivalent to: `ipvsadm -d -t 10.0.0.1:80 -r 10.0.1.2:80`. */
  deleteDestination(service: ServiceKey, dest: { address: string; port: number }): Promise<void> {
    return this.#serial(() => this.#single({ kind: 'deleteDestination', service, dest }));
  }

  /**
   * Lists a service's real servers in the kernel's order (newest first), with counters and stats.
   * Throws NetlinkError ESRCH when the service does not exist (the kernel's own dump would
   * answer an empty list).
   *
   * Equivalent to: `ipvsadm -Ln -t 10.0.0.1:80 --stats --exact` (the real-server lines).
   */
  listDestinations(service: ServiceKey): Promise<Destination[]> {
    return this.#serial(() => this.#listDestinations(service));
  }

  async #listDestinations(service: ServiceKey): Promise<Destination[]> {
    const s = await this.#getService(service, { withDestinations: true });
    if (!s) {
      const k = serviceKey(service);
      throw new NetlinkError({ op: `listDestinations ${k.label}`, errno: 3, code: 'ESRCH', hint: 'no such service' });
    }
    return s.destinations ?? [];
  }

  /**
   * Reads everything: every service with its stats and its destinations (with counters and
   * stats), on one socket: one service dump, then every destination dump in a single run.
   * Nothing configured gives an empty list.
   *
   * Equivalent to: `ipvsadm -Ln --stats --exact`.
   */
  listAll(): Promise<Service[]> {
    return this.#serial(() => this.#listAll());
  }

  /**
   * The namespace's IPVS connection table (what `ipvsadm -Lnc` shows), read from
   * /proc/thread-self/net/ip_vs_conn inside this handle's namespace; see listConnections().
   * Queued behind this handle's other calls.
   */
  listConnections(): Promise<IpvsConnection[]> {
    return this.#serial(() => readConnections(this.#sock));
  }

  async #listAll(): Promise<Service[]> {
    const b = this.#sock.newBatch();
    this.#encode(b, { t: 'bare', cmd: IpvsCmd.GetService, dump: true });
    const raw = await this.#sock.run(b, 'listServices', { large: true });
    throwIfFailed(raw, 'listServices');
    const n = raw.replyCount[0]!;
    if (n === 0) return [];
    // Services decoded into columns and every destination dump encoded from them: two native
    // calls, whatever the number of services.
    const cols = decodeServiceColumns(raw, 0);
    const db = this.#sock.newBatch();
    native.ipvsEncodeDestDumps(db, this.#familyId, cols.nums, cols.addrs, n);
    const pending = this.#sock.run(db, 'listDestinations', { large: true });
    pending.catch(() => undefined); // awaited below; this only keeps an early rejection from counting as unhandled
    // The dumps run on the thread pool once run() has started them (at the next microtask): the
    // Service objects are built meanwhile, while the kernel answers.
    await undefined;
    const services: Service[] = new Array(n);
    const afs = new Uint8Array(n);
    let seen = 0;
    for (let i = 0; i < n; i++) {
      services[i] = serviceOfColumns(cols, i);
      afs[i] = cols.nums[i * SVC_COLS]!;
      seen |= cols.nums[i * SVC_COLS + 7]!;
    }
    this.#svcSeen = (this.#svcSeen ?? 0) | seen;
    const draw = await pending;
    let total = 0;
    for (let i = 0; i < n; i++) {
      if (draw.status[i] !== 0) throwIfFailed(draw, `listDestinations ${keyOfRaw(rawServiceOfColumns(cols, i)).label}`, i);
      total += draw.replyCount[i]!;
    }
    const nums = new Float64Array(total * DEST_COLS);
    const addrs = new Uint8Array(total * 16);
    const stats = new BigUint64Array(total * 10);
    native.ipvsDecodeDestColumnsMany(draw.replies, draw.replyOffsets, draw.replyBegin, draw.replyCount, afs, nums, addrs, stats);
    let at = 0;
    let destSeen = 0;
    for (let i = 0; i < n; i++) {
      const count = draw.replyCount[i]!;
      const list: Destination[] = new Array(count);
      for (let j = 0; j < count; j++, at++) {
        destSeen |= nums[at * DEST_COLS + 12]!;
        list[j] = destinationOfColumns(nums, addrs, stats, at);
      }
      services[i]!.destinations = list;
    }
    if (total > 0) this.#destSeen = (this.#destSeen ?? 0) | destSeen;
    return services;
  }

  // ---- timeouts, daemons, info, zero, flush ---------------------------------------------------

  /** Reads the TCP, TCP FIN and UDP timeouts (seconds). Equivalent to: `ipvsadm -L --timeout`. */
  getTimeouts(): Promise<Timeouts> {
    return this.#serial(() => this.#getTimeouts());
  }

  async #getTimeouts(): Promise<Timeouts> {
    const b = this.#sock.newBatch();
    this.#encode(b, { t: 'bare', cmd: IpvsCmd.GetConfig, dump: false });
    const raw = await this.#sock.run(b, 'getTimeouts');
    throwIfFailed(raw, 'getTimeouts');
    return native.ipvsDecodeConfig(raw.replies, raw.replyOffsets, raw.replyBegin[0]!, raw.replyCount[0]!);
  }

  /** Sets the timeouts given (seconds); 0 or absent leaves one unchanged. Equivalent to: `ipvsadm --set 900 120 300`. */
  setTimeouts(timeouts: Partial<Timeouts>): Promise<void> {
    return this.#serial(() => this.#single({ kind: 'setTimeouts', timeouts }));
  }

  /**
   * Starts a connection sync daemon (master or backup).
   *
   * Equivalent to: `ipvsadm --start-daemon master --mcast-interface eth0 --syncid 7 --sync-maxlen 1472 --mcast-group 239.1.1.1 --mcast-port 8848 --mcast-ttl 2`.
   */
  startDaemon(daemon: SyncDaemon): Promise<void> {
    return this.#serial(() => this.#single({ kind: 'startDaemon', daemon }));
  }

  /** Stops the master or backup sync daemon. Equivalent to: `ipvsadm --stop-daemon master`. */
  stopDaemon(state: 'master' | 'backup'): Promise<void> {
    return this.#serial(() => this.#single({ kind: 'stopDaemon', state }));
  }

  /** Lists the running sync daemons (none: empty). Equivalent to: `ipvsadm -L --daemon`. */
  listDaemons(): Promise<SyncDaemon[]> {
    return this.#serial(() => this.#listDaemons());
  }

  async #listDaemons(): Promise<SyncDaemon[]> {
    const b = this.#sock.newBatch();
    this.#encode(b, { t: 'bare', cmd: IpvsCmd.GetDaemon, dump: true });
    const raw = await this.#sock.run(b, 'listDaemons', { large: true });
    throwIfFailed(raw, 'listDaemons');
    return native.ipvsDecodeDaemons(raw.replies, raw.replyOffsets, raw.replyBegin[0]!, raw.replyCount[0]!).map(daemonOfRaw);
  }

  /** IPVS version and connection table size. Equivalent to: `ipvsadm --version` / the header of `ipvsadm -L`. */
  info(): Promise<IpvsInfo> {
    return this.#serial(async () => {
      const b = this.#sock.newBatch();
      this.#encode(b, { t: 'bare', cmd: IpvsCmd.GetInfo, dump: false });
      const raw = await this.#sock.run(b, 'info');
      throwIfFailed(raw, 'info');
      const i = native.ipvsDecodeInfo(raw.replies, raw.replyOffsets, raw.replyBegin[0]!, raw.replyCount[0]!);
      const v = i.version;
      return { version: `${(v >> 16) & 0xff}.${(v >> 8) & 0xff}.${v & 0xff}`, versionCode: v, connectionTableSize: i.connTabSize };
    });
  }

  /**
   * Zeroes the counters of one service (and its destinations), or of everything.
   * Equivalent to: `ipvsadm -Z [-t 10.0.0.1:80]`.
   */
  zero(service?: ServiceKey): Promise<void> {
    return this.#serial(() => this.#single({ kind: 'zero', service }));
  }

  /** Deletes every service and destination of the namespace. Equivalent to: `ipvsadm -C`. */
  flush(): Promise<void> {
    return this.#serial(() => this.#single({ kind: 'flush' }));
  }

  /** A builder of mixed operations run in one go: `await ipvs.batch().addService(a).addDestination(k, d).run()`. */
  batch(): IpvsBatch {
    return new IpvsBatch(this);
  }

  // ---- features ------------------------------------------------------------------------------

  /**
   * What the running kernel supports. Attribute support (tunnel types, checksum flags, the
   * destination address family, 64-bit stats) is read from what the kernel sends: it includes
   * every attribute it knows in each dump, so one existing destination answers it. The
   * controller's policy dump cannot: IPVS declares its nested attributes without policies.
   * With `{ probe: true }`, when nothing is configured, a scratch firewall-mark service is
   * created and deleted to look at, and every scheduler is tried on it (the answer then lists
   * the schedulers present, and the kernel keeps the modules it loaded).
   *
   * Equivalent to: nothing in ipvsadm.
   */
  features(options: FeaturesOptions = {}): Promise<IpvsFeatures> {
    return this.#serial(() => this.#features(options));
  }

  async #features(options: FeaturesOptions): Promise<IpvsFeatures> {
    if (options.probe && this.#probed) return { ...this.#probed };
    if (this.#destSeen === undefined) await this.#observe();
    let evidence: IpvsFeatures['evidence'] = this.#destSeen === undefined ? 'none' : 'observed';
    let schedulers: string[] = [];
    let schedulersProbed = false;
    if (options.probe) {
      const p = await this.#probe(true);
      schedulers = p.schedulers;
      schedulersProbed = true;
      if (evidence === 'none' && this.#destSeen !== undefined) evidence = 'probe';
    }
    const f: IpvsFeatures = {
      familyVersion: this.#familyVersion,
      maxAttr: this.#maxAttr,
      ...featuresFromSeen(this.#destSeen, this.#svcSeen),
      schedulers,
      schedulersProbed,
      evidence,
    };
    if (this.#svcSeen === undefined && this.#destSeen !== undefined) f.stats64 = (this.#destSeen & IpvsSeen.Stats64) !== 0;
    if (options.probe) this.#probed = f;
    return { ...f };
  }

  /** Reads existing state until a destination shows what the kernel sends. */
  async #observe(): Promise<void> {
    const raws = await this.#dumpServices();
    for (let i = 0; i < raws.length && this.#destSeen === undefined; i += 16) {
      await this.#dumpWireDests(raws.slice(i, i + 16).map(keyOfRaw));
    }
  }

  /** Scratch firewall-mark service: create, add one destination, dump it, try schedulers, delete. */
  async #probe(schedulers: boolean): Promise<{ schedulers: string[] }> {
    let fwmark = 0x4c56534b; // 'LVSK'
    const existing = new Set((await this.#dumpServices()).filter((r) => r.fwmark).map((r) => r.fwmark));
    while (existing.has(fwmark)) fwmark++;
    const k = serviceKey({ fwmark });
    const svc: WireService = { ...k, scheduler: 'rr', pe: '', flags: 0, flagsMask: ~SVC_F.hashed >>> 0, timeout: 0, netmask: 0xffffffff };
    const dk = destKey({ address: '192.0.2.1', port: 0 }, k);
    const dest: WireDest = { ...dk, forward: FORWARD.route, weight: 0, upperThreshold: 0, lowerThreshold: 0, tunnelType: -1, tunnelPort: 0, tunnelFlags: -1 };
    const b = this.#sock.newBatch();
    this.#encode(b, { t: 'svc', cmd: IpvsCmd.NewService, w: svc });
    this.#encode(b, { t: 'dest', cmd: IpvsCmd.NewDest, k, d: dest, full: true });
    this.#encode(b, { t: 'svckey', cmd: IpvsCmd.GetDest, k, dump: true });
    const names = schedulers ? SCHEDULERS.slice() : [];
    for (const s of names) this.#encode(b, { t: 'svc', cmd: IpvsCmd.SetService, w: { ...svc, scheduler: s } });
    this.#encode(b, { t: 'svckey', cmd: IpvsCmd.DelService, k, dump: false });
    const raw = await this.#sock.run(b, `features probe (scratch ${k.label})`, { large: true });
    throwIfFailed(raw, `features probe: create scratch ${k.label}`, 0);
    const del = 3 + names.length;
    if (raw.status[del] !== 0) throwIfFailed(raw, `features probe: delete scratch ${k.label}`, del);
    if (raw.status[2] === 0) this.#decodeDests(raw, 2, k.af);
    const present = names.filter((_, i) => raw.status[3 + i] === 0);
    return { schedulers: present };
  }

  async #ensureTunnelSupport(needs: NonNullable<Planned['needs']>, label: string): Promise<void> {
    if (this.#destSeen === undefined) await this.#observe();
    if (this.#destSeen === undefined) await this.#probe(false);
    checkTunnelSupport(needs, this.#destSeen, label);
  }

  // ---- execution -------------------------------------------------------------------------------

  async #single(op: Op): Promise<void> {
    const model = await this.#loadModel([op], false);
    const plan = this.#plan([op], model);
    await this.#checkNeeds(plan);
    const p = plan[0]!;
    const b = this.#sock.newBatch();
    this.#encode(b, p.req);
    const raw = await this.#sock.run(b, p.label);
    if (raw.status[0] === 0) return;
    const f = raw.failures.find((x) => x.index === 0);
    if (f) throw NetlinkError.fromFailure(p.label, f, { hint: p.hint?.(f.code) });
    throwIfFailed(raw, p.label);
  }

  /** @internal IpvsBatch.run */
  _runOps(ops: Op[], options: BatchRunOptions): Promise<BatchReport> {
    return this.#serial(() => this.#runOps(ops, options));
  }

  async #runOps(ops: Op[], options: BatchRunOptions): Promise<BatchReport> {
    const t0 = performance.now();
    if (ops.length === 0) return { ok: true, items: [], applied: [], failed: [], notSent: [], unknown: [], sendCalls: 0, timing: { readMs: 0, planMs: 0, encodeMs: 0, sendMs: 0, reportMs: 0, totalMs: performance.now() - t0 } };
    const model = await this.#loadModel(ops, options.rollback === true, options.knownServices);
    const t1 = performance.now();
    // Without a model of the services (no edits, nothing to restore), adds of the common shape
    // are validated into rows (fast path); their Planned (label, hint, undo) is built only when
    // a report or a rollback asks for it, from the op: planning an add then has no side effect.
    const rows = model.services === undefined ? new Uint32Array(ops.length * IPVS_ROW) : undefined;
    const fast = { count: 0 };
    const plan = this.#plan(ops, model, rows, fast);
    const planned = (i: number): Planned => (plan[i] ??= this.#planOne(ops[i]!, { services: undefined, timeouts: undefined, daemons: undefined }));
    const allFast = fast.count === plan.length; // rows only: nothing needs a tunnel feature, one encoder call
    if (!allFast) await this.#checkNeeds(plan);
    const t2 = performance.now();
    const n = plan.length;
    const f = this.#familyId;
    /** Encodes items s..e-1 into b: runs of fast-path rows in one native call each. */
    const encodeRange = (b: NativeBatch, s: number, e: number): void => {
      if (allFast) {
        native.ipvsEncodeMany(b, f, rows!, s, e - s, SCHEDULER_NAMES);
        return;
      }
      let run = -1; // first item of the current run of rows
      for (let i = s; i < e; i++) {
        const p = plan[i];
        if (p === undefined) {
          if (run < 0) run = i;
          continue;
        }
        if (run >= 0) {
          native.ipvsEncodeMany(b, f, rows!, run, i - run, SCHEDULER_NAMES);
          run = -1;
        }
        this.#encode(b, p.req);
      }
      if (run >= 0) native.ipvsEncodeMany(b, f, rows!, run, e - run, SCHEDULER_NAMES);
    };
    const exec = { large: true, stopOnError: options.stopOnError === true };
    const onProgress = options.onProgress;
    const piece = onProgress ? progressPiece(n) : n;
    let encodeMs = 0;
    let sendMs = 0;
    let raw: RawOutcome;
    if (piece >= n) {
      const b = this.#sock.newBatch();
      encodeRange(b, 0, n);
      const t3 = performance.now();
      encodeMs = t3 - t2;
      raw = await this.#sock.run(b, 'ipvs batch', exec);
      sendMs = performance.now() - t3;
    } else {
      // Acknowledged pieces, for a progress display: each piece is its own run, so every item
      // of a piece has its answer when onProgress hears of it.
      const parts: { raw: RawOutcome; first: number }[] = [];
      for (let s = 0; s < n; s += piece) {
        const e = Math.min(n, s + piece);
        const te = performance.now();
        const b = this.#sock.newBatch();
        encodeRange(b, s, e);
        const ts = performance.now();
        encodeMs += ts - te;
        let r: RawOutcome;
        try {
          r = await this.#sock.run(b, 'ipvs batch', exec);
        } catch (err) {
          sendMs += performance.now() - ts;
          if (s === 0) throw err; // nothing was sent: the call's error, as without pieces
          // Earlier pieces went in: report them, and this piece and the rest as not sent.
          const ne = err as NetlinkError;
          const fatal = { errno: ne.errno ?? 0, code: ne.code ?? 'EUNKNOWN', message: ne.message };
          parts.push({ raw: { ...mergeOutcomes([], e - s), fatal }, first: s });
          break;
        }
        sendMs += performance.now() - ts;
        parts.push({ raw: r, first: s });
        if (r.fatal || (options.stopOnError && r.status.some((x) => x === ItemStatusCode.Failed))) break;
        if (e < n) {
          try {
            onProgress!(e, n);
          } catch {
            // a progress display must not cut a batch short: its report would lose the items sent
          }
        }
      }
      raw = mergeOutcomes(parts, n);
    }
    const t4 = performance.now();
    const report = this.#report(raw, planned);
    const t5 = performance.now();
    // the model built from knownServices (no kernel read) is planning work
    const readMs = model.reads ? t1 - t0 : 0;
    report.timing = { readMs, planMs: t2 - t0 - readMs, encodeMs, sendMs, reportMs: t5 - t4, totalMs: t5 - t0 };
    if (report.ok || !options.rollback) return report;
    // Undo what was applied, newest first. Items the kernel refused changed nothing.
    const undo: Encoded[] = [];
    const undoOf: number[] = [];
    const notUndone: number[] = [];
    for (let i = report.applied.length - 1; i >= 0; i--) {
      const p = planned(report.applied[i]!);
      if (p.inverse === null) {
        notUndone.push(report.applied[i]!); // zeroed counters cannot be restored
        continue;
      }
      for (const e of p.inverse) {
        undo.push(e);
        undoOf.push(report.applied[i]!);
      }
    }
    let rollback: IpvsRollbackReport;
    if (undo.length === 0) {
      rollback = { ok: true, items: [], applied: [], failed: [], notSent: [], unknown: [], sendCalls: 0, notUndone };
    } else {
      const rb = this.#sock.newBatch();
      for (const e of undo) this.#encode(rb, e);
      const rraw = await this.#sock.run(rb, 'ipvs batch rollback', { large: true });
      rollback = { ...reportOf(rraw, (i) => `undo ${planned(undoOf[i]!).label}`), notUndone };
    }
    const t6 = performance.now();
    report.timing.rollbackMs = t6 - t5;
    report.timing.totalMs = t6 - t0;
    throw new BatchError(report, rollback);
  }

  #report(raw: RawOutcome, planned: (i: number) => Planned): BatchReport {
    const report = reportOf(raw, (i) => planned(i).label);
    for (const i of report.failed) {
      const item = report.items[i]!;
      const f = raw.failures.find((x) => x.index === i);
      const hint = f ? planned(i).hint?.(f.code) : undefined;
      if (f && hint) item.error = NetlinkError.fromFailure(planned(i).label, f, { batch: true, hint });
    }
    return report;
  }

  async #checkNeeds(plan: (Planned | undefined)[]): Promise<void> {
    for (const p of plan) if (p?.needs) await this.#ensureTunnelSupport(p.needs, p.label);
  }

  /** Reads the state the plan needs: services for edits (and, for rollback, deletions and flush). */
  async #loadModel(ops: Op[], rollback: boolean, known?: readonly StateService[]): Promise<Model> {
    const model: Model = { services: undefined, timeouts: undefined, daemons: undefined, reads: 0 };
    const needServices = ops.some((o) => o.kind === 'editService' || o.kind === 'editDestination' || (rollback && (o.kind === 'deleteService' || o.kind === 'deleteDestination' || o.kind === 'flush')));
    if (needServices && known) {
      // The caller's knowledge instead of a read: the services ops look up (all, for a flush with
      // rollback), validated as specs; destinations keep the given (kernel) order.
      const everything = rollback && ops.some((o) => o.kind === 'flush');
      const wanted = new Set<string>();
      const wantedText = new Set<string>();
      if (!everything)
        for (const o of ops) {
          let k: ServiceKey | undefined;
          if (o.kind === 'editService' || (rollback && o.kind === 'deleteService')) wanted.add(serviceKey((k = o.key), 'key').id);
          else if (o.kind === 'editDestination' || (rollback && o.kind === 'deleteDestination')) wanted.add(serviceKey((k = o.service), 'service').id);
          if (k) wantedText.add(keyText(k));
        }
      model.services = new Map();
      const take = (s: StateService, i: number, k: WireServiceKey): void => {
        const w = serviceSpec(s, `knownServices[${i}]`);
        const dests = new Map<string, WireDest>();
        (s.destinations ?? []).forEach((d, j) => {
          const wd = destSpec(d, w, `knownServices[${i}].destinations[${j}]`);
          dests.set(wd.id, wd);
        });
        model.services!.set(k.id, { w, dests });
      };
      // First the known services whose key is written as an op writes it (a controller's own
      // state: all of them), checked in full; then, for what that missed (an address written
      // two ways, or a service that does not exist), every known service.
      for (let pass = everything ? 1 : 0; pass < 2 && (everything || model.services.size < wanted.size); pass++) {
        for (let i = 0; i < known.length && (everything || model.services.size < wanted.size); i++) {
          const s = known[i]!;
          if (pass === 0 && !wantedText.has(keyText(s.key))) continue;
          const k = serviceKey(s.key, `knownServices[${i}].key`);
          if ((everything || wanted.has(k.id)) && !model.services.has(k.id)) take(s, i, k);
        }
      }
    } else if (needServices) {
      model.reads!++;
      // Only the services the ops look up are read (one GetService each, in one run, then their
      // destination dumps): what #plan consults is the entry of an edited service (to merge) or,
      // with rollback, of a deleted one (to restore). A service no op looks up is never consulted
      // (addDestination only keeps an entry it finds up to date). A flush with rollback restores
      // everything, so it reads everything.
      const everything = rollback && ops.some((o) => o.kind === 'flush');
      let raws: RawIpvsService[];
      if (everything) {
        raws = await this.#dumpServices();
      } else {
        const wanted = new Map<string, { k: WireServiceKey; kind: string }>();
        for (const o of ops) {
          let key: ServiceKey | undefined;
          let field = 'service';
          if (o.kind === 'editService' || (rollback && o.kind === 'deleteService')) (key = o.key), (field = 'key');
          else if (o.kind === 'editDestination' || (rollback && o.kind === 'deleteDestination')) key = o.service;
          if (key === undefined) continue;
          const k = serviceKey(key, field);
          if (!wanted.has(k.id)) wanted.set(k.id, { k, kind: o.kind });
        }
        const list = [...wanted.values()];
        const b = this.#sock.newBatch();
        for (const { k } of list) this.#encode(b, { t: 'svckey', cmd: IpvsCmd.GetService, k, dump: false });
        const raw = await this.#sock.run(b, list.length === 1 ? `read ${list[0]!.k.label}` : `read ${list.length} services`, { large: list.length > 64 });
        raws = [];
        const failed = new Map(raw.failures.map((x) => [x.index, x]));
        list.forEach(({ k, kind }, i) => {
          const f = failed.get(i);
          // No such service: it is simply not in the model, and #plan reports the op that needs it
          // (a lone edit throws here, as before, with the kernel's own failure).
          if (f && f.code === 'ESRCH') {
            if (ops.length === 1) throw NetlinkError.fromFailure(`${kind} ${k.label}`, f, { hint: 'no such service' });
            return;
          }
          throwIfFailed(raw, `read ${k.label}`, i);
          for (const r of this.#decodeServices(raw, i)) raws.push(r); // no push(...): a dump may be any size
        });
      }
      const keys = raws.map(keyOfRaw);
      const dests = raws.length ? await this.#dumpWireDests(keys) : [];
      model.services = new Map();
      raws.forEach((r, i) => model.services!.set(keys[i]!.id, { w: wireOfRawService(r), dests: dests[i]! }));
    }
    if (rollback && ops.some((o) => o.kind === 'setTimeouts')) {
      model.reads!++;
      model.timeouts = await this.#getTimeouts();
    }
    if (rollback && ops.some((o) => o.kind === 'stopDaemon')) {
      model.daemons = new Map();
      model.reads!++;
      for (const d of await this.#listDaemons()) model.daemons.set(daemonState('state', d.state), daemonOf(d));
    }
    return model;
  }

  /** Validates every op and turns it into one request plus its inverse, updating the model. */
  #plan(ops: Op[], model: Model): Planned[];
  #plan(ops: Op[], model: Model, rows: Uint32Array | undefined, fast?: { count: number }): (Planned | undefined)[];
  #plan(ops: Op[], model: Model, rows?: Uint32Array, fast?: { count: number }): (Planned | undefined)[] {
    const n = ops.length;
    const out: (Planned | undefined)[] = new Array(n);
    const batch = n > 1;
    let fastCount = 0;
    for (let i = 0; i < n; i++) {
      const op = ops[i]!;
      if (rows !== undefined) {
        // Fast path (see validate.ts): undefined = the item is row i, planned on demand.
        if (op.kind === 'addDestination' ? fastDest(op.service, op.dest, rows, i) : op.kind === 'addService' && fastService(op.spec, rows, i)) {
          out[i] = undefined;
          fastCount++;
          continue;
        }
      }
      try {
        out[i] = this.#planOne(op, model);
      } catch (e) {
        if (batch && e instanceof ValidationError) throw new ValidationError(`batch[${i}].${e.field}`, e.value, e.message.slice(e.field.length + 1).replace(/, got .*$/, ''));
        if (batch && e instanceof NetlinkError) throw new NetlinkError({ op: e.op, errno: e.errno, code: e.code, batchIndex: i }, `${e.message} [batch item ${i}; nothing was sent]`);
        throw e;
      }
    }
    if (fast) fast.count = fastCount;
    return out;
  }

  #planOne(op: Op, model: Model): Planned {
    const svcs = model.services;
    const restoreService = (m: ModelService): Encoded[] => {
      const enc: Encoded[] = [{ t: 'svc', cmd: IpvsCmd.NewService, w: m.w }];
      // Destinations are listed newest first; re-adding oldest first rebuilds the same order.
      for (const d of [...m.dests.values()].reverse()) enc.push({ t: 'dest', cmd: IpvsCmd.NewDest, k: m.w, d, full: true });
      return enc;
    };
    const noSuchService = (op: string, k: WireServiceKey) =>
      new NetlinkError({ op: `${op} ${k.label}`, errno: 3, code: 'ESRCH', hint: 'no such service' });
    switch (op.kind) {
      case 'addService': {
        const w = serviceSpec(op.spec);
        svcs?.set(w.id, { w, dests: new Map() });
        return {
          label: `addService ${w.label}`,
          req: { t: 'svc', cmd: IpvsCmd.NewService, w },
          inverse: [{ t: 'svckey', cmd: IpvsCmd.DelService, k: w, dump: false }],
          hint: (code) => this.#serviceHint(code, w),
        };
      }
      case 'editService': {
        const k = serviceKey(op.key);
        const m = svcs?.get(k.id);
        if (!m) throw noSuchService('editService', k);
        const w = mergeService(m.w, op.changes, 'changes');
        const before = m.w;
        m.w = w;
        return {
          label: `editService ${k.label}`,
          req: { t: 'svc', cmd: IpvsCmd.SetService, w },
          inverse: [{ t: 'svc', cmd: IpvsCmd.SetService, w: before }],
          hint: (code) => this.#serviceHint(code, w),
        };
      }
      case 'deleteService': {
        const k = serviceKey(op.key);
        const m = svcs?.get(k.id);
        svcs?.delete(k.id);
        return {
          label: `deleteService ${k.label}`,
          req: { t: 'svckey', cmd: IpvsCmd.DelService, k, dump: false },
          inverse: m ? restoreService(m) : [],
          hint: (code) => (code === 'ESRCH' ? 'no such service' : undefined),
        };
      }
      case 'addDestination': {
        const k = serviceKey(op.service, 'service');
        const d = destSpec(op.dest, k);
        const m = svcs?.get(k.id);
        if (m && !m.dests.has(d.id)) m.dests = new Map([[d.id, d], ...m.dests]); // new ones go to the head
        const p: Planned = {
          label: `addDestination ${k.label} -> ${d.label} (${FWD_LABEL[d.forward]})`,
          req: { t: 'dest', cmd: IpvsCmd.NewDest, k, d, full: true },
          inverse: [{ t: 'dest', cmd: IpvsCmd.DelDest, k, d, full: false }],
          hint: (code) => this.#destHint(code),
        };
        const needs = needsOf(d);
        if (needs) p.needs = needs;
        return p;
      }
      case 'editDestination': {
        const k = serviceKey(op.service, 'service');
        const dk = destKey(op.dest, k);
        const m = svcs?.get(k.id);
        if (!m) throw noSuchService('editDestination', k);
        const base = m.dests.get(dk.id);
        if (!base) throw new NetlinkError({ op: `editDestination ${k.label} -> ${dk.label}`, errno: 2, code: 'ENOENT', hint: 'no such destination in this service' });
        const d = mergeDest(base, k, op.changes, 'changes');
        m.dests.set(d.id, d);
        const p: Planned = {
          label: `editDestination ${k.label} -> ${d.label}`,
          req: { t: 'dest', cmd: IpvsCmd.SetDest, k, d, full: true },
          inverse: [{ t: 'dest', cmd: IpvsCmd.SetDest, k, d: base, full: true }],
          hint: (code) => this.#destHint(code),
        };
        const needs = needsOf(d);
        if (needs) p.needs = needs;
        return p;
      }
      case 'deleteDestination': {
        const k = serviceKey(op.service, 'service');
        const dk = destKey(op.dest, k);
        const m = svcs?.get(k.id);
        const base = m?.dests.get(dk.id);
        const inverse: Encoded[] = [];
        if (m && base) {
          // Re-adding puts it at the head of the list, but the list order is what sh and mh
          // schedule by: move every destination that was newer than it back in front of it,
          // oldest first. Deleted destinations wait in the kernel's trash, so a quick re-add
          // gets the same object back, counters included.
          inverse.push({ t: 'dest', cmd: IpvsCmd.NewDest, k, d: base, full: true });
          const order = [...m.dests.values()];
          const newer = order.slice(0, order.indexOf(base)).reverse();
          for (const n of newer) inverse.push({ t: 'dest', cmd: IpvsCmd.DelDest, k, d: n, full: false }, { t: 'dest', cmd: IpvsCmd.NewDest, k, d: n, full: true });
          m.dests.delete(dk.id);
        }
        return {
          label: `deleteDestination ${k.label} -> ${dk.label}`,
          req: { t: 'dest', cmd: IpvsCmd.DelDest, k, d: dk, full: false },
          inverse,
          hint: (code) => this.#destHint(code),
        };
      }
      case 'setTimeouts': {
        const t = timeoutsOf(op.timeouts);
        const prev = model.timeouts;
        if (prev) model.timeouts = { tcp: t.tcp || prev.tcp, tcpFin: t.tcpFin || prev.tcpFin, udp: t.udp || prev.udp };
        return {
          label: `setTimeouts tcp ${t.tcp} tcpfin ${t.tcpFin} udp ${t.udp}`,
          req: { t: 'timeouts', ...t },
          inverse: prev ? [{ t: 'timeouts', ...prev }] : [],
        };
      }
      case 'zero': {
        if (op.service === undefined) return { label: 'zero (all)', req: { t: 'bare', cmd: IpvsCmd.Zero, dump: false }, inverse: null };
        const k = serviceKey(op.service, 'service');
        return {
          label: `zero ${k.label}`,
          req: { t: 'svckey', cmd: IpvsCmd.Zero, k, dump: false },
          inverse: null,
          hint: (code) => (code === 'ESRCH' ? 'no such service' : undefined),
        };
      }
      case 'flush': {
        const inverse: Encoded[] = [];
        if (svcs) for (const m of svcs.values()) for (const e of restoreService(m)) inverse.push(e); // no push(...): a service may hold any number of destinations
        svcs?.clear();
        return { label: 'flush', req: { t: 'bare', cmd: IpvsCmd.Flush, dump: false }, inverse };
      }
      case 'startDaemon': {
        const d = daemonOf(op.daemon);
        model.daemons?.set(d.state, d);
        return {
          label: `startDaemon ${op.daemon.state} ${d.iface} syncid ${d.syncId}`,
          req: { t: 'daemon', cmd: IpvsCmd.NewDaemon, d, full: true },
          inverse: [{ t: 'daemon', cmd: IpvsCmd.DelDaemon, d: { state: d.state }, full: false }],
          hint: (code) =>
            code === 'EEXIST'
              ? `a ${op.daemon.state} sync daemon is already running`
              : code === 'ENODEV'
                ? `no interface ${d.iface} in this namespace`
                : code === 'EINVAL'
                  ? 'the sync protocol cannot carry services with destinations of another address family (the kernel refuses the daemon while any exists)'
                  : undefined,
        };
      }
      case 'stopDaemon': {
        const state = daemonState('state', op.state);
        const prev = model.daemons?.get(state);
        model.daemons?.delete(state);
        return {
          label: `stopDaemon ${op.state}`,
          req: { t: 'daemon', cmd: IpvsCmd.DelDaemon, d: { state }, full: false },
          inverse: prev ? [{ t: 'daemon', cmd: IpvsCmd.NewDaemon, d: prev, full: true }] : [],
          hint: (code) => (code === 'ESRCH' ? `no ${op.state} sync daemon is running` : undefined),
        };
      }
    }
  }

  #serviceHint(code: string, w: WireService): string | undefined {
    if (code === 'ENOENT')
      return w.pe
        ? `scheduler '${w.scheduler}' or persistence engine '${w.pe}' is not available in this kernel (modules ip_vs_${w.scheduler} / ip_vs_pe_${w.pe} not found)`
        : `scheduler '${w.scheduler}' is not available in this kernel (module ip_vs_${w.scheduler} not found)`;
    if (code === 'EEXIST') return 'the service already exists';
    if (code === 'ESRCH') return 'no such service';
    return undefined;
  }

  #destHint(code: string): string | undefined {
    if (code === 'ESRCH') return 'no such service';
    if (code === 'EEXIST') return 'the destination already exists in this service';
    if (code === 'ENOENT') return 'no such destination in this service';
    if (code === 'EINVAL')
      return 'the kernel refused the destination: its address must be unicast (in a fresh namespace, bring lo up first), and one of another address family than the service needs the tunnel method and no running sync daemon';
    return undefined;
  }

  // ---- encoding and decoding -------------------------------------------------------------------

  #encode(b: NativeBatch, e: Encoded): void {
    const f = this.#familyId;
    switch (e.t) {
      case 'svc': {
        const w = e.w;
        native.ipvsEncodeService(b, f, e.cmd, w.af, w.protocol, w.address, w.port, w.fwmark, w.scheduler, w.pe, w.flags >>> 0, w.flagsMask >>> 0, w.timeout, w.netmask >>> 0);
        return;
      }
      case 'svckey':
        native.ipvsEncodeServiceKey(b, f, e.cmd, e.k.af, e.k.protocol, e.k.address, e.k.port, e.k.fwmark, e.dump);
        return;
      case 'dest': {
        const d = e.d as WireDest;
        // An explicit ADDR_FAMILY only when it differs from the service's: kernels before 3.18
        // do not know the attribute, and the kernel fills in the service's family itself.
        const destAf = d.af === e.k.af ? 0 : d.af;
        if (e.full)
          native.ipvsEncodeDest(b, f, e.cmd, e.k.af, e.k.protocol, e.k.address, e.k.port, e.k.fwmark, destAf, d.address, d.port, true, d.forward, d.weight, d.upperThreshold, d.lowerThreshold, d.tunnelType, d.tunnelPort, d.tunnelFlags);
        else native.ipvsEncodeDest(b, f, e.cmd, e.k.af, e.k.protocol, e.k.address, e.k.port, e.k.fwmark, destAf, d.address, d.port, false, 0, 0, 0, 0, -1, 0, -1);
        return;
      }
      case 'daemon': {
        const d = e.d as WireDaemon;
        if (e.full) native.ipvsEncodeDaemon(b, f, e.cmd, d.state, true, d.iface, d.syncId, d.maxLength, d.groupAf, d.group, d.port, d.ttl);
        else native.ipvsEncodeDaemon(b, f, e.cmd, d.state, false, '', 0, 0, 0, null, 0, 0);
        return;
      }
      case 'timeouts':
        native.ipvsEncodeTimeouts(b, f, e.tcp, e.tcpFin, e.udp);
        return;
      case 'bare':
        native.ipvsEncodeBare(b, f, e.cmd, e.dump);
        return;
    }
  }

  #decodeServices(raw: RawOutcome, index: number): RawIpvsService[] {
    const rs = native.ipvsDecodeServices(raw.replies, raw.replyOffsets, raw.replyBegin[index]!, raw.replyCount[index]!);
    for (const r of rs) this.#svcSeen = (this.#svcSeen ?? 0) | r.seen;
    return rs;
  }

  #decodeDests(raw: RawOutcome, index: number, serviceAf: number): RawIpvsDest[] {
    const ds = native.ipvsDecodeDests(raw.replies, raw.replyOffsets, raw.replyBegin[index]!, raw.replyCount[index]!, serviceAf);
    for (const d of ds) this.#destSeen = (this.#destSeen ?? 0) | d.seen;
    return ds;
  }

  async #dumpServices(): Promise<RawIpvsService[]> {
    const b = this.#sock.newBatch();
    this.#encode(b, { t: 'bare', cmd: IpvsCmd.GetService, dump: true });
    const raw = await this.#sock.run(b, 'listServices', { large: true });
    throwIfFailed(raw, 'listServices');
    return this.#decodeServices(raw, 0);
  }

  /**
   * The destinations of `keys` as the WireDests a merge re-sends, by id, in the kernel's order:
   * one run with a destination dump per service (sent back to back), decoded into columns in one
   * native call (no public objects built). Records what attributes the kernel sends (#destSeen).
   */
  async #dumpWireDests(keys: WireServiceKey[]): Promise<Map<string, WireDest>[]> {
    const b = this.#sock.newBatch();
    for (const k of keys) this.#encode(b, { t: 'svckey', cmd: IpvsCmd.GetDest, k, dump: true });
    const raw = await this.#sock.run(b, 'listDestinations', { large: true });
    let total = 0;
    const afs = new Uint8Array(keys.length);
    keys.forEach((k, i) => {
      throwIfFailed(raw, `listDestinations ${k.label}`, i);
      total += raw.replyCount[i]!;
      afs[i] = k.af;
    });
    const nums = new Float64Array(total * DEST_COLS);
    const addrs = new Uint8Array(total * 16);
    const stats = new BigUint64Array(total * 10);
    native.ipvsDecodeDestColumnsMany(raw.replies, raw.replyOffsets, raw.replyBegin, raw.replyCount, afs, nums, addrs, stats);
    const out: Map<string, WireDest>[] = new Array(keys.length);
    let at = 0;
    for (let i = 0; i < keys.length; i++) {
      const m = new Map<string, WireDest>();
      for (let j = 0, c = raw.replyCount[i]!; j < c; j++, at++) {
        const w = wireDestOfColumns(nums, addrs, at);
        m.set(w.id, w);
        this.#destSeen = (this.#destSeen ?? 0) | nums[at * DEST_COLS + 12]!;
      }
      out[i] = m;
    }
    return out;
  }
}
