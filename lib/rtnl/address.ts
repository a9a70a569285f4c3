// Interface addresses over rtnetlink: add, replace, delete, list, IPv4 and IPv6, and the LVS-DR
// "VIP on lo" pattern. Equivalent to `ip addr ...`, without forking. Requests are built by
// native/src/families/addr.cc; semantics are net/ipv4/devinet.c and net/ipv6/addrconf.c.
import { native } from '../native.js';
import type { NativeBatch, RawOutcome } from '../addon-types.js';
import { NetlinkError, ValidationError } from '../errors.js';
import { reportOf, repliesOf, throwIfFailed, type BatchReport } from '../batch.js';
import type { NetlinkSocket } from '../socket.js';
import { afOf, familyOf, formatAddress, maskAddress, requireAddress, requirePrefix, type IpFamily } from './ip.js';
import type { NativeAddress } from './native-types.js';
import { describeLink, linkRefArgs, type Links } from './link.js';
import {
  ADDRESS_FLAGS,
  SCOPES,
  SETTABLE_ADDRESS_FLAGS,
  type Address,
  type AddressFlagName,
  type AddressKey,
  type AddressSpec,
  type Lifetime,
  type LinkRef,
  type ScopeName,
} from './link-types.js';

const NONE = -1;
const FOREVER = 0xffffffff;
const RTM_NEWADDR = 20;

const scopeNames = new Map<number, ScopeName>(Object.entries(SCOPES).map(([k, v]) => [v, k as ScopeName]));

function lifetime(v: number | undefined): Lifetime | undefined {
  if (v === undefined) return undefined;
  return v === FOREVER ? 'forever' : v;
}

/** Turns a decoded native address into the public Address shape. */
export function toAddress(n: NativeAddress): Address {
  const family = familyOf(n.family) ?? (n.family as IpFamily);
  const own = n.local ?? n.address;
  const peer = n.local && n.address && !n.local.equals(n.address) ? formatAddress(n.address) : undefined;
  const flags: AddressFlagName[] = [];
  for (const [name, bit] of Object.entries(ADDRESS_FLAGS) as [AddressFlagName, number][]) if (n.flags & bit) flags.push(name);
  return {
    family,
    address: own ? formatAddress(own) : '',
    prefixLength: n.prefixLength,
    peer,
    broadcast: n.broadcast ? formatAddress(n.broadcast) : undefined,
    label: n.label,
    index: n.index,
    scope: scopeNames.get(n.scope) ?? n.scope,
    flags,
    validLifetime: lifetime(n.validLifetime),
    preferredLifetime: lifetime(n.preferredLifetime),
    metric: n.metric,
    proto: n.proto,
  };
}

function addressesOf(raw: RawOutcome, index = 0): Address[] {
  const out: Address[] = [];
  for (const [off] of repliesOf(raw, index)) {
    if (raw.replies.readUInt16LE(off + 4) !== RTM_NEWADDR) continue;
    out.push(toAddress(native.addrDecode(raw.replies, off)));
  }
  return out;
}

function scopeArg(field: string, v: unknown): number {
  if (typeof v === 'string' && v in SCOPES) return SCOPES[v as ScopeName];
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255) return v;
  throw new ValidationError(field, v, `must be one of ${Object.keys(SCOPES).join(', ')} or an integer in 0..255`);
}

function lifetimeArg(field: string, v: unknown): number {
  if (v === 'forever') return FOREVER;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v < FOREVER) return v;
  throw new ValidationError(field, v, "must be 'forever' or whole seconds in 1..4294967294");
}

/** One operation of addresses.batch(). */
export type AddressBatchOp = ({ op: 'add' | 'replace' } & AddressSpec) | ({ op: 'delete' } & AddressKey);

export interface AddressBatchOptions {
  /** Ask the kernel to acknowledge every request (default: only the last of each send). */
  ackEach?: boolean;
  /** After a send with a failure, send nothing more. */
  stopOnError?: boolean;
}

export class Addresses {
  readonly #socket: NetlinkSocket;
  readonly #links: Links;

  constructor(socket: NetlinkSocket, links: Links) {
    this.#socket = socket;
    this.#links = links;
  }

  /**
   * Addresses of the namespace, optionally of one link and/or one family. Equivalent to
   * `ip addr show [dev X]` / `ip -4 addr` / `ip -6 addr`. A link without addresses gives [].
   */
  async list(filter: { link?: LinkRef; family?: IpFamily } = {}): Promise<Address[]> {
    if (filter.family !== undefined && filter.family !== 4 && filter.family !== 6) throw new ValidationError('family', filter.family, 'must be 4 or 6');
    const index = filter.link === undefined ? 0 : await this.#links.indexOf(filter.link);
    const b = this.#socket.newBatch();
    native.addrEncodeDump(b, filter.family ? afOf(filter.family) : 0, index);
    const raw = await this.#socket.run(b, 'listAddresses', { large: true });
    throwIfFailed(raw, 'listAddresses');
    // Without strict checking the kernel ignores ifa_index in a dump request: filter here.
    return addressesOf(raw).filter((a) => index === 0 || a.index === index);
  }

  /**
   * Adds an address. Equivalent to `ip addr add ADDR/LEN dev X [peer P] [brd B] [label L]
   * [scope S] [noprefixroute] [nodad] [valid_lft V preferred_lft P] [metric M]`.
   * NetlinkError EEXIST when the address is already there (see replace()).
   */
  async add(spec: AddressSpec): Promise<void> {
    await this.#one(0, spec);
  }

  /**
   * Adds the address, or updates it in place when it exists (lifetimes, flags, metric). Equivalent
   * to `ip addr replace ...`. Idempotent.
   */
  async replace(spec: AddressSpec): Promise<void> {
    await this.#one(1, spec);
  }

  /**
   * Deletes an address. Equivalent to `ip addr del ADDR[/LEN] dev X`. IPv4 matches the local
   * address alone (devinet.c inet_rtm_deladdr); IPv6 also needs the prefix length, which is looked
   * up when not given. NetlinkError EADDRNOTAVAIL when there is no such address.
   */
  async delete(key: AddressKey): Promise<void> {
    if (typeof key !== 'object' || key === null) throw new ValidationError('key', key, 'must be { link, address }');
    const index = await this.#links.indexOf(key.link);
    const p = requirePrefix('address', key.address);
    let plen = p.prefixLength;
    if (p.family === 6 && !key.address.includes('/')) {
      const want = formatAddress(p.bytes);
      const found = (await this.list({ link: index, family: 6 })).find((a) => a.address === want);
      if (!found) throw new NetlinkError({ op: `deleteAddress ${key.address} ${describeLink(key.link)}`, errno: 99, code: 'EADDRNOTAVAIL' }, `deleteAddress ${key.address} ${describeLink(key.link)} failed: EADDRNOTAVAIL (no such address on that link)`);
      plen = found.prefixLength;
    }
    const op = `deleteAddress ${key.address} ${describeLink(key.link)}`;
    const b = this.#socket.newBatch();
    this.#encodeDelete(b, index, key, plen);
    const raw = await this.#socket.run(b, op);
    throwIfFailed(raw, op);
  }

  /**
   * The LVS-DR real-server pattern: the VIP on `lo` as a host route, so the real server accepts
   * packets the director forwards to it with the VIP as destination. Equivalent to
   * `ip addr replace VIP/32 dev lo` (or /128 for IPv6), scope global as iproute2 gives it; it is
   * idempotent. Pair it with sysctl.setArpForDrRealServer() (arp_ignore=1, arp_announce=2) so the
   * real server neither answers ARP for the VIP nor uses it as an ARP source.
   */
  async addVipOnLoopback(vip: string, options: { label?: string; link?: LinkRef } = {}): Promise<void> {
    const a = requireAddress('vip', vip);
    const spec: AddressSpec = { link: options.link ?? 'lo', address: `${formatAddress(a.bytes)}/${a.family === 4 ? 32 : 128}` };
    if (options.label !== undefined) spec.label = options.label;
    await this.replace(spec);
  }

  /** Removes a VIP added by addVipOnLoopback (`ip addr del VIP/32 dev lo`). */
  async deleteVipOnLoopback(vip: string, options: { link?: LinkRef } = {}): Promise<void> {
    const a = requireAddress('vip', vip);
    await this.delete({ link: options.link ?? 'lo', address: `${formatAddress(a.bytes)}/${a.family === 4 ? 32 : 128}` });
  }

  /**
   * Many address operations in one go, one result per item, in order. Link names are resolved
   * with one link dump first. IPv6 deletes must give the prefix length ('2001:db8::1/64').
   */
  async batch(ops: AddressBatchOp[], options: AddressBatchOptions = {}): Promise<BatchReport> {
    if (!Array.isArray(ops)) throw new ValidationError('ops', ops, 'must be an array');
    let byName: Map<string, number> | undefined;
    if (ops.some((o) => o && typeof o.link === 'string')) byName = new Map((await this.#links.list()).map((l) => [l.name, l.index]));
    const b = this.#socket.newBatch();
    const names: string[] = [];
    ops.forEach((o, i) => {
      if (typeof o !== 'object' || o === null) throw new ValidationError(`ops[${i}]`, o, 'must be an object');
      let index: number;
      if (typeof o.link === 'string') {
        linkRefArgs(`ops[${i}].link`, o.link);
        const found = byName!.get(o.link);
        if (found === undefined) throw new ValidationError(`ops[${i}].link`, o.link, 'must name an existing link');
        index = found;
      } else index = linkRefArgs(`ops[${i}].link`, o.link)[0];
      if (o.op === 'add' || o.op === 'replace') {
        this.#encode(b, o.op === 'add' ? 0 : 1, o, index, `ops[${i}].`);
        names.push(`${o.op}Address ${o.address} ${describeLink(o.link)}`);
      } else if (o.op === 'delete') {
        const p = requirePrefix(`ops[${i}].address`, o.address);
        if (p.family === 6 && !o.address.includes('/')) throw new ValidationError(`ops[${i}].address`, o.address, 'must have a prefix length for an IPv6 delete in a batch');
        this.#encodeDelete(b, index, o, p.prefixLength);
        names.push(`deleteAddress ${o.address} ${describeLink(o.link)}`);
      } else {
        throw new ValidationError(`ops[${i}].op`, (o as { op: unknown }).op, "must be 'add', 'replace' or 'delete'");
      }
    });
    const raw = await this.#socket.run(b, 'addressBatch', { ackEach: options.ackEach, stopOnError: options.stopOnError, large: ops.length > 64 });
    return reportOf(raw, (i) => names[i] ?? 'address');
  }

  async #one(op: 0 | 1, spec: AddressSpec): Promise<void> {
    if (typeof spec !== 'object' || spec === null) throw new ValidationError('spec', spec, 'must be { link, address, ... }');
    requirePrefix('address', spec.address);
    const index = await this.#links.indexOf(spec.link);
    const name = `${op === 0 ? 'add' : 'replace'}Address ${spec.address} ${describeLink(spec.link)}`;
    const b = this.#socket.newBatch();
    this.#encode(b, op, spec, index, '');
    const raw = await this.#socket.run(b, name);
    throwIfFailed(raw, name);
  }

  #encode(b: NativeBatch, op: 0 | 1, spec: AddressSpec, index: number, prefix: string): void {
    const p = requirePrefix(`${prefix}address`, spec.address);
    const peer = spec.peer === undefined ? null : requireAddress(`${prefix}peer`, spec.peer, p.family);
    let brd: Uint8Array | null = null;
    if (spec.broadcast !== undefined) {
      if (p.family !== 4) throw new ValidationError(`${prefix}broadcast`, spec.broadcast, 'is IPv4 only');
      if (spec.broadcast === '+' || spec.broadcast === '-') {
        // `brd +` sets the host bits, `brd -` clears them (iproute2 ipaddr.c).
        const net = maskAddress(p.bytes, p.prefixLength);
        const mask = maskAddress(Uint8Array.from([255, 255, 255, 255]), p.prefixLength);
        brd = spec.broadcast === '-' ? net : net.map((v, i) => v | (~mask[i]! & 0xff));
      } else brd = requireAddress(`${prefix}broadcast`, spec.broadcast, 4).bytes;
    }
    let label: string | null = null;
    if (spec.label !== undefined) {
      if (p.family !== 4) throw new ValidationError(`${prefix}label`, spec.label, 'is IPv4 only');
      if (typeof spec.label !== 'string' || spec.label.length === 0 || Buffer.byteLength(spec.label) > 15)
        throw new ValidationError(`${prefix}label`, spec.label, 'must be a string of 1..15 bytes');
      if (typeof spec.link === 'string' && !spec.label.startsWith(spec.link))
        throw new ValidationError(`${prefix}label`, spec.label, `must start with the link name "${spec.link}" (as iproute2 requires)`);
      label = spec.label;
    }
    const scope = spec.scope === undefined ? 0 : scopeArg(`${prefix}scope`, spec.scope);
    let flags = 0;
    if (spec.flags !== undefined) {
      if (!Array.isArray(spec.flags)) throw new ValidationError(`${prefix}flags`, spec.flags, `must be an array of ${SETTABLE_ADDRESS_FLAGS.join(', ')}`);
      for (const f of spec.flags) {
        if (!(SETTABLE_ADDRESS_FLAGS as readonly string[]).includes(f)) throw new ValidationError(`${prefix}flags`, f, `must be one of ${SETTABLE_ADDRESS_FLAGS.join(', ')}`);
        flags |= ADDRESS_FLAGS[f];
      }
    }
    const valid = spec.validLifetime === undefined ? NONE : lifetimeArg(`${prefix}validLifetime`, spec.validLifetime);
    const preferred = spec.preferredLifetime === undefined ? NONE : lifetimeArg(`${prefix}preferredLifetime`, spec.preferredLifetime);
    if (preferred !== NONE && preferred > (valid === NONE ? FOREVER : valid))
      throw new ValidationError(`${prefix}preferredLifetime`, spec.preferredLifetime, 'must not exceed validLifetime');
    if (preferred !== NONE && valid === NONE && preferred !== FOREVER)
      throw new ValidationError(`${prefix}validLifetime`, spec.validLifetime, 'must be given with a finite preferredLifetime');
    const metric = spec.metric === undefined ? NONE : (() => {
      const m = spec.metric;
      if (!Number.isInteger(m) || m < 0 || m > 0xffffffff) throw new ValidationError(`${prefix}metric`, m, 'must be an integer in 0..4294967295');
      return m;
    })();
    native.addrEncode(b, op, afOf(p.family), p.prefixLength, flags, scope, index, p.bytes, peer ? peer.bytes : null, brd, label, valid, preferred, metric, NONE);
  }

  #encodeDelete(b: NativeBatch, index: number, key: AddressKey, prefixLength: number): void {
    const p = requirePrefix('address', key.address);
    const peer = key.peer === undefined ? null : requireAddress('peer', key.peer, p.family).bytes;
    const label = key.label === undefined ? null : key.label;
    native.addrEncode(b, 2, afOf(p.family), prefixLength, 0, 0, index, p.bytes, peer, null, label, NONE, NONE, NONE, NONE);
  }
}
