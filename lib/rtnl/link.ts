// Links over rtnetlink: list, get, set (up/down, mtu, name, address, master...), create veth
// pairs and dummy links, delete, move to another namespace. Equivalent to `ip link ...`, without
// forking. Requests are built by native/src/families/link.cc and run on the handle's socket.
import { native } from '../native.js';
import type { NativeBatch, RawOutcome } from '../addon-types.js';
import { NetlinkError, ValidationError } from '../errors.js';
import { reportOf, repliesOf, throwIfFailed, type BatchReport } from '../batch.js';
import { resolveNetns, type NetlinkSocket, type NetnsSpec } from '../socket.js';
import { formatMac, parseMac } from './ip.js';
import type { NativeLink } from './native-types.js';
import {
  LINK_FLAGS,
  OPER_STATES,
  type CreateLinkOptions,
  type Link,
  type LinkChanges,
  type LinkFlagName,
  type LinkRef,
  type VethOptions,
} from './link-types.js';

const NONE = -1;
const IFNAMSIZ = 16;

/** Checks a link name the way the kernel's dev_valid_name does: 1..15 bytes, no '/', ':' or whitespace. */
export function validateLinkName(field: string, name: unknown): string {
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    Buffer.byteLength(name) >= IFNAMSIZ ||
    name === '.' ||
    name === '..' ||
    /[/:\s\0]/.test(name)
  )
    throw new ValidationError(field, name, "must be a link name of 1..15 bytes without '/', ':' or whitespace");
  return name;
}

/** A LinkRef as (index, name) for the native encoders: by index when a number, else by name. */
export function linkRefArgs(field: string, ref: unknown): [number, string] {
  if (typeof ref === 'number') {
    if (!Number.isInteger(ref) || ref < 1 || ref > 0x7fffffff) throw new ValidationError(field, ref, 'must be a link index (a positive integer) or a link name');
    return [ref, ''];
  }
  if (typeof ref === 'string') return [0, validateLinkName(field, ref)];
  throw new ValidationError(field, ref, 'must be a link name or index');
}

export function describeLink(ref: LinkRef): string {
  return typeof ref === 'number' ? `link #${ref}` : `link ${ref}`;
}

function u32(field: string, v: unknown, min = 0, max = 0xffffffff): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ValidationError(field, v, `must be an integer in ${min}..${max}`);
  return v;
}

function macArg(field: string, v: unknown): Uint8Array {
  const m = typeof v === 'string' ? parseMac(v) : undefined;
  if (!m || m.length === 0 || m.length > 32) throw new ValidationError(field, v, "must be a link-layer address like '02:00:00:00:00:01'");
  return m;
}

function kindArg(field: string, kind: unknown): string {
  if (typeof kind !== 'string' || !/^[a-z0-9_-]{1,32}$/.test(kind)) throw new ValidationError(field, kind, "must be a link kind like 'dummy'");
  if (kind === 'veth') throw new ValidationError(field, kind, 'needs a peer: use createVeth()');
  return kind;
}

function bool(field: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ValidationError(field, v, 'must be a boolean');
  return v;
}

/** Turns a decoded native link into the public Link shape. */
export function toLink(n: NativeLink, withStats = true): Link {
  const flags: LinkFlagName[] = [];
  for (const [name, bit] of Object.entries(LINK_FLAGS) as [LinkFlagName, number][]) if (n.flags & bit) flags.push(name);
  const link: Link = {
    index: n.index,
    name: n.name,
    kind: n.kind || undefined,
    flags,
    up: (n.flags & LINK_FLAGS.up) !== 0,
    running: (n.flags & LINK_FLAGS.running) !== 0,
    lowerUp: (n.flags & LINK_FLAGS.lower_up) !== 0,
    mtu: n.mtu,
    operstate: n.operstate === undefined ? undefined : (OPER_STATES[n.operstate] ?? n.operstate),
    address: n.address ? formatMac(n.address) : undefined,
    broadcast: n.broadcast ? formatMac(n.broadcast) : undefined,
    type: n.type,
    txqlen: n.txqlen,
    master: n.master || undefined,
    parentIndex: n.link !== undefined && n.link !== n.index && n.link !== 0 ? n.link : undefined,
    linkNetnsId: n.linkNetnsId,
    slaveKind: n.slaveKind || undefined,
    group: n.group,
    qdisc: n.qdisc,
    alias: n.alias,
  };
  if (withStats && n.stats) link.stats = n.stats;
  return link;
}

/** Decodes every link message of `raw` (a dump or a get) into Links. */
function linksOf(raw: RawOutcome, withStats: boolean, index = 0): Link[] {
  const out: Link[] = [];
  for (const [off] of repliesOf(raw, index)) {
    if (raw.replies.readUInt16LE(off + 4) !== 16 /* RTM_NEWLINK */) continue;
    out.push(toLink(native.linkDecode(raw.replies, off), withStats));
  }
  return out;
}

/** Opens a namespace fd for IFLA_NET_NS_FD; close it with native.netnsCloseFd after the request. */
export function openNetnsFd(spec: NetnsSpec): number {
  const ns = resolveNetns(spec);
  try {
    return ns.kind === 0 ? native.netnsOpenFd(1, '/proc/self/ns/net', 0) : native.netnsOpenFd(ns.kind, ns.path, ns.pid);
  } catch (e) {
    throw NetlinkError.fromNative(`open namespace ${ns.label}`, e);
  }
}

/** One operation of links.batch(). */
export type LinkBatchOp =
  | { op: 'set'; link: LinkRef; changes: LinkChanges }
  | { op: 'delete'; link: LinkRef }
  | { op: 'createDummy'; name: string; options?: CreateLinkOptions }
  | { op: 'create'; name: string; kind: string; options?: CreateLinkOptions }
  | { op: 'createVeth'; name: string; peer: string; options?: Omit<VethOptions, 'peerNetns'> };

export interface LinkBatchOptions {
  /** Ask the kernel to acknowledge every request (default: only the last of each send). */
  ackEach?: boolean;
  /** After a send with a failure, send nothing more. */
  stopOnError?: boolean;
}

export class Links {
  readonly #socket: NetlinkSocket;

  constructor(socket: NetlinkSocket) {
    this.#socket = socket;
  }

  /**
   * Every link of the namespace. Equivalent to `ip -d link show` (`ip -s link` with
   * `{ stats: true }`). An empty namespace still has `lo`.
   */
  async list(options: { stats?: boolean } = {}): Promise<Link[]> {
    const b = this.#socket.newBatch();
    // RTEXT_FILTER_SKIP_STATS only drops per-VF stats; IFLA_STATS64 always comes and is dropped here.
    native.linkEncodeDump(b, options.stats !== true);
    const raw = await this.#socket.run(b, 'listLinks', { large: true });
    throwIfFailed(raw, 'listLinks');
    return linksOf(raw, options.stats === true);
  }

  /**
   * One link by name or index. Equivalent to `ip -d link show dev X`. Throws NetlinkError ENODEV
   * when there is no such link (use find() to get undefined instead).
   */
  async get(link: LinkRef, options: { stats?: boolean } = {}): Promise<Link> {
    const [index, name] = linkRefArgs('link', link);
    const b = this.#socket.newBatch();
    native.linkEncodeGet(b, index, name, options.stats !== true);
    const op = `getLink ${describeLink(link)}`;
    const raw = await this.#socket.run(b, op);
    throwIfFailed(raw, op);
    const l = linksOf(raw, options.stats === true)[0];
    if (!l) throw new NetlinkError({ op, errno: 19, code: 'ENODEV' }, `${op}: the kernel answered without a link`);
    return l;
  }

  /** Like get(), but undefined when the link does not exist. */
  async find(link: LinkRef): Promise<Link | undefined> {
    try {
      return await this.get(link);
    } catch (e) {
      if (e instanceof NetlinkError && e.code === 'ENODEV') return undefined;
      throw e;
    }
  }

  /** The index of a link named `name` (or `link` itself when it is already an index). */
  async indexOf(link: LinkRef): Promise<number> {
    if (typeof link === 'number') {
      linkRefArgs('link', link);
      return link;
    }
    return (await this.get(link)).index;
  }

  /** `ip link set dev X up`. */
  setUp(link: LinkRef): Promise<void> {
    return this.set(link, { up: true });
  }

  /** `ip link set dev X down`. */
  setDown(link: LinkRef): Promise<void> {
    return this.set(link, { up: false });
  }

  /** `ip link set dev X mtu N`. The kernel refuses values outside the device's min/max MTU (EINVAL). */
  setMtu(link: LinkRef, mtu: number): Promise<void> {
    return this.set(link, { mtu });
  }

  /**
   * Changes a link in one request. Equivalent to `ip link set dev X [up|down] [mtu N] [name M]
   * [address A] [txqueuelen N] [master M|nomaster] [promisc on|off] [arp on|off]`.
   * Renaming needs the link down (the kernel says EBUSY otherwise).
   */
  async set(link: LinkRef, changes: LinkChanges): Promise<void> {
    const op = `setLink ${describeLink(link)}`;
    let ref = link;
    if (changes && changes.name !== undefined && typeof link === 'string') ref = await this.indexOf(link);
    let masterIndex: number | undefined;
    if (changes && changes.master !== undefined && changes.master !== null) masterIndex = await this.indexOf(changes.master);
    const b = this.#socket.newBatch();
    this.#encodeSet(b, ref, changes, masterIndex);
    const raw = await this.#socket.run(b, op);
    throwIfFailed(raw, op);
  }

  #encodeSet(b: NativeBatch, link: LinkRef, changes: LinkChanges, masterIndex?: number, netnsFd = NONE): void {
    const [index, name] = linkRefArgs('link', link);
    if (typeof changes !== 'object' || changes === null) throw new ValidationError('changes', changes, 'must be an object');
    let flags = 0;
    let change = 0;
    const flag = (field: string, v: boolean | undefined, bit: number, invert = false) => {
      if (v === undefined) return;
      change |= bit;
      if (bool(field, v) !== invert) flags |= bit;
    };
    flag('changes.up', changes.up, LINK_FLAGS.up);
    flag('changes.promisc', changes.promisc, LINK_FLAGS.promisc);
    flag('changes.arp', changes.arp, LINK_FLAGS.noarp, true);
    flag('changes.multicast', changes.multicast, LINK_FLAGS.multicast);
    const mtu = changes.mtu === undefined ? NONE : u32('changes.mtu', changes.mtu, 0, 0x7fffffff);
    const newName = changes.name === undefined ? null : validateLinkName('changes.name', changes.name);
    if (newName !== null && index === 0) throw new ValidationError('link', link, 'must be an index to rename (resolve it first)');
    const address = changes.address === undefined ? null : macArg('changes.address', changes.address);
    const txqlen = changes.txqlen === undefined ? NONE : u32('changes.txqlen', changes.txqlen);
    let master = NONE;
    if (changes.master === null) master = 0;
    else if (changes.master !== undefined) {
      if (masterIndex === undefined) throw new ValidationError('changes.master', changes.master, 'must be a link index in a batch (names are resolved by set())');
      master = masterIndex;
    }
    native.linkEncodeSet(b, index, name, flags, change, mtu, newName, address, txqlen, master, netnsFd, NONE);
  }

  /**
   * Creates a veth pair `name` <-> `peer`. Equivalent to
   * `ip link add NAME [mtu N] [address A] type veth peer name PEER [address B] [netns NS]`,
   * plus `up` when `options.up`. With `peerNetns` the peer is born in that namespace, so a
   * topology between namespaces takes one request. Deleting either end deletes both.
   */
  async createVeth(name: string, peer: string, options: VethOptions = {}): Promise<void> {
    const op = `createVeth ${name} peer ${peer}`;
    const fd = options.peerNetns !== undefined ? openNetnsFd(options.peerNetns) : NONE;
    try {
      const b = this.#socket.newBatch();
      this.#encodeCreate(b, 'veth', name, options, peer, fd);
      const raw = await this.#socket.run(b, op);
      throwIfFailed(raw, op);
    } finally {
      if (fd !== NONE) native.netnsCloseFd(fd);
    }
  }

  /**
   * Creates a dummy link. Equivalent to `ip link add NAME type dummy`. Throws NetlinkError
   * EOPNOTSUPP when this kernel has no dummy driver (CONFIG_DUMMY off, module missing).
   */
  async createDummy(name: string, options: CreateLinkOptions = {}): Promise<void> {
    return this.create(name, 'dummy', options);
  }

  /**
   * Creates a link of a kind that needs no type-specific options ('dummy', 'bridge', 'ifb',
   * 'nlmon'...). Equivalent to `ip link add NAME type KIND`. The kernel answers EOPNOTSUPP when
   * it has no such kind (the module may be missing).
   */
  async create(name: string, kind: string, options: CreateLinkOptions = {}): Promise<void> {
    kindArg('kind', kind);
    const op = `createLink ${name} type ${kind}`;
    const b = this.#socket.newBatch();
    this.#encodeCreate(b, kind, name, options, null, NONE);
    const raw = await this.#socket.run(b, op);
    throwIfFailed(raw, op, 0);
  }

  #encodeCreate(b: NativeBatch, kind: string, name: string, options: VethOptions, peer: string | null, peerFd: number): void {
    validateLinkName('name', name);
    if (peer !== null) validateLinkName('peer', peer);
    if (typeof options !== 'object' || options === null) throw new ValidationError('options', options, 'must be an object');
    const mtu = options.mtu === undefined ? NONE : u32('options.mtu', options.mtu, 0, 0x7fffffff);
    const address = options.address === undefined ? null : macArg('options.address', options.address);
    const peerAddress = options.peerAddress === undefined ? null : macArg('options.peerAddress', options.peerAddress);
    const up = options.up === undefined ? false : bool('options.up', options.up);
    native.linkEncodeCreate(b, name, kind, up ? LINK_FLAGS.up : 0, mtu, address, NONE, peer, peerAddress, peerFd);
  }

  /** `ip link del dev X`. Deleting one end of a veth pair deletes both. ENODEV when missing. */
  async delete(link: LinkRef): Promise<void> {
    const [index, name] = linkRefArgs('link', link);
    const op = `deleteLink ${describeLink(link)}`;
    const b = this.#socket.newBatch();
    native.linkEncodeDelete(b, index, name);
    const raw = await this.#socket.run(b, op);
    throwIfFailed(raw, op);
  }

  /**
   * Moves a link into another namespace: `ip link set dev X netns NS`. The namespace is a name
   * (/run/netns/NAME), { path } or { pid }. The link disappears from this handle's namespace;
   * its addresses are flushed by the kernel and it arrives down.
   */
  async moveToNetns(link: LinkRef, netns: NetnsSpec): Promise<void> {
    const op = `moveLink ${describeLink(link)} to netns ${resolveNetns(netns).label}`;
    const fd = openNetnsFd(netns);
    try {
      const b = this.#socket.newBatch();
      this.#encodeSet(b, link, {}, undefined, fd);
      const raw = await this.#socket.run(b, op);
      throwIfFailed(raw, op);
    } finally {
      native.netnsCloseFd(fd);
    }
  }

  /**
   * Many link operations in one go (one netlink send per socket buffer), one result per item, in
   * order. A failed item does not stop the others unless `stopOnError`. Names in `master` are not
   * resolved here: give indexes. Renames need an index as `link`.
   */
  async batch(ops: LinkBatchOp[], options: LinkBatchOptions = {}): Promise<BatchReport> {
    if (!Array.isArray(ops)) throw new ValidationError('ops', ops, 'must be an array');
    const b = this.#socket.newBatch();
    const names: string[] = [];
    ops.forEach((o, i) => {
      if (typeof o !== 'object' || o === null) throw new ValidationError(`ops[${i}]`, o, 'must be an object');
      switch (o.op) {
        case 'set': {
          const m = o.changes?.master;
          this.#encodeSet(b, o.link, o.changes, typeof m === 'number' ? m : undefined);
          names.push(`setLink ${describeLink(o.link)}`);
          break;
        }
        case 'delete': {
          const [index, name] = linkRefArgs(`ops[${i}].link`, o.link);
          native.linkEncodeDelete(b, index, name);
          names.push(`deleteLink ${describeLink(o.link)}`);
          break;
        }
        case 'createDummy':
          this.#encodeCreate(b, 'dummy', o.name, o.options ?? {}, null, NONE);
          names.push(`createLink ${o.name} type dummy`);
          break;
        case 'create':
          this.#encodeCreate(b, kindArg(`ops[${i}].kind`, o.kind), o.name, o.options ?? {}, null, NONE);
          names.push(`createLink ${o.name} type ${o.kind}`);
          break;
        case 'createVeth':
          this.#encodeCreate(b, 'veth', o.name, o.options ?? {}, o.peer, NONE);
          names.push(`createVeth ${o.name} peer ${o.peer}`);
          break;
        default:
          throw new ValidationError(`ops[${i}].op`, (o as { op: unknown }).op, "must be 'set', 'delete', 'create', 'createDummy' or 'createVeth'");
      }
    });
    const raw = await this.#socket.run(b, 'linkBatch', { ackEach: options.ackEach, stopOnError: options.stopOnError, large: ops.length > 64 });
    return reportOf(raw, (i) => names[i] ?? 'link');
  }
}
