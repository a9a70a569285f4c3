// Nexthop objects and groups (Linux 5.3+): single nexthops, weighted hash-threshold groups,
// resilient groups with their bucket table, over one NETLINK_ROUTE socket. Equivalent to
// `ip nexthop ...`. native/src/families/nexthop.cc encodes and decodes the bytes.
import { native } from '../native.js';
import { NetlinkSocket } from '../socket.js';
import { BatchError, reportOf, repliesOf, throwIfFailed, type BatchReport } from '../batch.js';
import { ValidationError } from '../errors.js';
import type { NativeBatch } from '../addon-types.js';
import type { NativeNextHop } from './native-types.js';
import { addressBuffer } from './ip.js';
import {
  addressOf, afFamily, checkDevice, checkFamily, checkInt, deviceIndex, familyAf, protocolName, protocolNumber,
  resolveDevices, scopeName, type BatchOptions,
} from './route.js';
import type { Device, NextHop, NextHopBucket, NextHopGroupSpec, NextHopObjectSpec, RouteFamily } from './route-types.js';

export const RTM_NEWNEXTHOP = 104;
export const RTM_DELNEXTHOP = 105;
const RTM_GETNEXTHOP = 106;
const NLM_F_REPLACE = 0x100;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const RTNH_F_DEAD = 1;
const RTNH_F_ONLINK = 4;
const RTNH_F_LINKDOWN = 16;
const NEXTHOP_GRP_TYPE_RES = 1;
/** clock_t ticks per second (USER_HZ) in NHA_RES_GROUP timers and bucket idle times. */
const USER_HZ = 100;
const U32_MAX = 0xffffffff;

type Spec = NextHopObjectSpec | NextHopGroupSpec;

interface Prepared {
  id: number;
  family: number;
  protocol: number;
  flags: number;
  gateway: Uint8Array | null;
  dev: Device | undefined;
  blackhole: boolean;
  fdb: boolean;
  groupIds: Uint32Array | null;
  groupWeights: Uint32Array | null;
  groupType: number;
  buckets: number;
  idleTimer: number;
  unbalancedTimer: number;
}

function seconds(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || Math.round(v * USER_HZ) > U32_MAX)
    throw new ValidationError(field, v, `must be a number of seconds in 0..${Math.floor(U32_MAX / USER_HZ)}`);
  return Math.round(v * USER_HZ);
}

function prepare(spec: Spec, field: string): Prepared {
  if (typeof spec !== 'object' || spec === null) throw new ValidationError(field, spec, 'must be a nexthop or group object');
  const id = checkInt(`${field}.id`, spec.id, 1, U32_MAX);
  const protocol = protocolNumber(`${field}.protocol`, spec.protocol, 3 /* boot, as ip nexthop add */);
  const base: Prepared = {
    id, family: 0, protocol, flags: 0, gateway: null, dev: undefined, blackhole: false, fdb: spec.fdb === true,
    groupIds: null, groupWeights: null, groupType: 0, buckets: 0, idleTimer: -1, unbalancedTimer: -1,
  };
  if ('group' in spec && spec.group !== undefined) {
    const g = spec.group;
    if (!Array.isArray(g) || g.length === 0) throw new ValidationError(`${field}.group`, g, 'must be a non-empty array of { id, weight }');
    base.groupIds = new Uint32Array(g.length);
    base.groupWeights = new Uint32Array(g.length);
    const seen = new Set<number>();
    g.forEach((m, i) => {
      const mf = `${field}.group[${i}]`;
      if (typeof m !== 'object' || m === null) throw new ValidationError(mf, m, 'must be { id, weight }');
      base.groupIds![i] = checkInt(`${mf}.id`, m.id, 1, U32_MAX);
      if (seen.has(m.id)) throw new ValidationError(`${mf}.id`, m.id, 'appears twice in the group');
      seen.add(m.id);
      base.groupWeights![i] = m.weight === undefined ? 1 : checkInt(`${mf}.weight`, m.weight, 1, 65535);
    });
    const type = spec.type ?? 'mpath';
    if (type !== 'mpath' && type !== 'resilient') throw new ValidationError(`${field}.type`, type, "must be 'mpath' or 'resilient'");
    if (type === 'resilient') {
      base.groupType = NEXTHOP_GRP_TYPE_RES;
      if (spec.buckets !== undefined) base.buckets = checkInt(`${field}.buckets`, spec.buckets, 1, 65535);
      if (spec.idleTimer !== undefined) base.idleTimer = seconds(`${field}.idleTimer`, spec.idleTimer);
      if (spec.unbalancedTimer !== undefined) base.unbalancedTimer = seconds(`${field}.unbalancedTimer`, spec.unbalancedTimer);
    } else if (spec.buckets !== undefined || spec.idleTimer !== undefined || spec.unbalancedTimer !== undefined) {
      throw new ValidationError(`${field}.type`, spec.type, "must be 'resilient' for buckets, idleTimer and unbalancedTimer");
    }
    return base;
  }
  const s = spec as NextHopObjectSpec;
  let family: RouteFamily | undefined = s.family === undefined ? undefined : checkFamily(`${field}.family`, s.family);
  if (s.blackhole) {
    if (s.gateway !== undefined || s.dev !== undefined) throw new ValidationError(`${field}.blackhole`, true, 'cannot be combined with gateway or dev');
    base.blackhole = true;
    base.family = familyAf(family ?? 4); // the kernel wants a family even here (rtm_to_nh_config)
    return base;
  }
  if (s.gateway !== undefined) {
    const g = addressOf(`${field}.gateway`, s.gateway, family);
    family = g.family;
    base.gateway = addressBuffer(g);
  }
  if (s.dev !== undefined) base.dev = checkDevice(`${field}.dev`, s.dev);
  if (base.dev === undefined) throw new ValidationError(`${field}.dev`, s.dev, 'is required for a nexthop that is not a blackhole or a group');
  if (family === undefined) throw new ValidationError(`${field}.family`, s.family, 'must be 4 or 6 for a device-only nexthop');
  base.family = familyAf(family);
  if (s.onlink) base.flags |= RTNH_F_ONLINK;
  return base;
}

function encode(batch: NativeBatch, nlFlags: number, p: Prepared, devs: Map<string, number>): void {
  native.nexthopEncode(batch, nlFlags, p.family, p.protocol, p.flags, p.id, p.gateway, deviceIndex(p.dev, devs), p.blackhole, p.fdb,
    p.groupIds, p.groupWeights, p.groupType, p.buckets, p.idleTimer, p.unbalancedTimer);
}

/** Converts a decoded RTM_NEWNEXTHOP/DELNEXTHOP into the public NextHop shape. */
export function nextHopFromNative(n: NativeNextHop): NextHop {
  const h: NextHop = { id: n.id, protocol: protocolName(n.protocol), scope: scopeName(n.scope) };
  const fam = afFamily(n.family);
  if (fam !== undefined) h.family = fam;
  if (n.gateway) h.gateway = n.gateway;
  if (n.oif) h.dev = n.oif;
  if (n.flags & RTNH_F_ONLINK) h.onlink = true;
  if (n.flags & RTNH_F_DEAD) h.dead = true;
  if (n.flags & RTNH_F_LINKDOWN) h.linkdown = true;
  if (n.blackhole) h.blackhole = true;
  if (n.fdb) h.fdb = true;
  if (n.group) {
    h.group = n.group.map((g) => ({ id: g.id, weight: g.weight }));
    h.type = n.groupType === NEXTHOP_GRP_TYPE_RES ? 'resilient' : 'mpath';
  }
  if (n.buckets !== undefined) {
    h.buckets = n.buckets;
    h.idleTimer = n.idleTimer! / USER_HZ;
    h.unbalancedTimer = n.unbalancedTimer! / USER_HZ;
    h.unbalancedTime = n.unbalancedTime! / USER_HZ;
  }
  return h;
}

/** Decodes one raw RTM_NEWNEXTHOP / RTM_DELNEXTHOP message (for the events stream). */
export function decodeNextHopMessage(buffer: Buffer, offset: number): { kind: 'new' | 'del'; nexthop: NextHop } {
  const n = native.nexthopDecode(buffer, offset);
  return { kind: n.msgType === RTM_DELNEXTHOP ? 'del' : 'new', nexthop: nextHopFromNative(n) };
}

/** Nexthop objects and groups of one network namespace. */
export class NextHops {
  readonly #socket: NetlinkSocket;

  constructor(socket: NetlinkSocket) {
    if (!(socket instanceof NetlinkSocket)) throw new ValidationError('socket', socket, 'must be a NetlinkSocket opened with protocol "route"');
    this.#socket = socket;
  }

  /**
   * Creates a nexthop object or group; EEXIST if the id is taken. Equivalent to
   * `ip nexthop add id 1 via 10.0.0.2 dev eth0`, `ip nexthop add id 10 group 1,3/2,1`, or
   * `ip nexthop add id 20 group 1/2 type resilient buckets 64 idle_timer 10`.
   */
  async add(nh: NextHopObjectSpec | NextHopGroupSpec): Promise<void> {
    await this.#single(NLM_F_CREATE | NLM_F_EXCL, 'addNextHop', nh);
  }

  /**
   * Replaces the object with this id in place (routes using it follow); creates it if absent.
   * Equivalent to `ip nexthop replace ...`. A resilient group's bucket count cannot change.
   */
  async replace(nh: NextHopObjectSpec | NextHopGroupSpec): Promise<void> {
    await this.#single(NLM_F_CREATE | NLM_F_REPLACE, 'replaceNextHop', nh);
  }

  /** Deletes by id (routes using it go too; groups drop it). Equivalent to `ip nexthop del id N`. */
  async delete(id: number): Promise<void> {
    checkInt('id', id, 1, U32_MAX);
    const batch = this.#socket.newBatch();
    native.nexthopEncodeById(batch, RTM_DELNEXTHOP, id);
    throwIfFailed(await this.#socket.run(batch, `deleteNextHop ${id}`), `deleteNextHop ${id}`);
  }

  /** One object by id, or undefined. Equivalent to `ip nexthop get id N`. */
  async get(id: number): Promise<NextHop | undefined> {
    checkInt('id', id, 1, U32_MAX);
    const batch = this.#socket.newBatch();
    native.nexthopEncodeById(batch, RTM_GETNEXTHOP, id);
    const raw = await this.#socket.run(batch, `getNextHop ${id}`);
    if (raw.failures[0]?.code === 'ENOENT') return undefined;
    throwIfFailed(raw, `getNextHop ${id}`);
    for (const [off] of repliesOf(raw, 0)) return nextHopFromNative(native.nexthopDecode(raw.replies, off));
    return undefined;
  }

  /** Every object and group (`ip nexthop show`); groupsOnly = `ip nexthop show groups`. */
  async list(options: { family?: RouteFamily; groupsOnly?: boolean; dev?: Device } = {}): Promise<NextHop[]> {
    const family = options.family === undefined ? 0 : familyAf(checkFamily('family', options.family));
    const dev = options.dev === undefined ? undefined : checkDevice('dev', options.dev);
    const devs = await resolveDevices(this.#socket, typeof dev === 'string' ? [dev] : []);
    const batch = this.#socket.newBatch();
    native.nexthopEncodeDump(batch, family, options.groupsOnly === true, deviceIndex(dev, devs));
    const raw = await this.#socket.run(batch, 'listNextHops', { large: true });
    throwIfFailed(raw, 'listNextHops');
    const out: NextHop[] = [];
    for (const [off] of repliesOf(raw, 0)) {
      if (raw.replies.readUInt16LE(off + 4) !== RTM_NEWNEXTHOP) continue;
      out.push(nextHopFromNative(native.nexthopDecode(raw.replies, off)));
    }
    return out;
  }

  /**
   * The bucket table of a resilient group: which nexthop each bucket sends to and how long it has
   * been idle. Equivalent to `ip nexthop bucket show id N`.
   */
  async buckets(groupId: number): Promise<NextHopBucket[]> {
    checkInt('groupId', groupId, 1, U32_MAX);
    const batch = this.#socket.newBatch();
    native.nexthopEncodeBucketDump(batch, groupId);
    const op = `listNextHopBuckets ${groupId}`;
    const raw = await this.#socket.run(batch, op, { large: true });
    throwIfFailed(raw, op);
    const out: NextHopBucket[] = [];
    for (const [off] of repliesOf(raw, 0)) {
      const b = native.nexthopBucketDecode(raw.replies, off);
      out.push({ group: b.groupId, index: b.index, nhid: b.nhId, idleTime: b.idleTime / USER_HZ });
    }
    return out.sort((a, b) => a.index - b.index);
  }

  /** Adds many objects and groups in order (members before their groups): one result per item. */
  async addMany(list: (NextHopObjectSpec | NextHopGroupSpec)[], options: BatchOptions = {}): Promise<BatchReport> {
    if (!Array.isArray(list)) throw new ValidationError('nexthops', list, 'must be an array');
    const prepared = list.map((s, i) => prepare(s, `nexthops[${i}]`));
    const devs = await resolveDevices(this.#socket, prepared.flatMap((p) => (typeof p.dev === 'string' ? [p.dev] : [])));
    const batch = this.#socket.newBatch();
    for (const p of prepared) encode(batch, NLM_F_CREATE | NLM_F_EXCL, p, devs);
    const raw = await this.#socket.run(batch, `addNextHop x${prepared.length}`, { stopOnError: options.stopOnError === true || options.rollback === true });
    const report = reportOf(raw, (i) => `addNextHop ${prepared[i]!.id}`);
    if (!report.ok && options.rollback) {
      const undo = this.#socket.newBatch();
      const applied = [...report.applied].reverse(); // groups before their members
      for (const i of applied) native.nexthopEncodeById(undo, RTM_DELNEXTHOP, prepared[i]!.id);
      const rb = reportOf(await this.#socket.run(undo, 'rollback addNextHop'), (k) => `rollback deleteNextHop ${prepared[applied[k]!]!.id}`);
      throw new BatchError(report, rb);
    }
    return report;
  }

  async #single(nlFlags: number, op: string, spec: Spec): Promise<void> {
    const p = prepare(spec, 'nexthop');
    const devs = await resolveDevices(this.#socket, typeof p.dev === 'string' ? [p.dev] : []);
    const batch = this.#socket.newBatch();
    encode(batch, nlFlags, p, devs);
    throwIfFailed(await this.#socket.run(batch, `${op} ${p.id}`), `${op} ${p.id}`);
  }
}
