// Routes: add, replace, append, delete, list, get, query, and batches of any size, over one
// NETLINK_ROUTE socket. Validation and defaults live here (messages name the field and the value);
// native/src/families/route.cc encodes and decodes the bytes.
import { native } from '../native.js';
import { NetlinkSocket, type SocketOptions } from '../socket.js';
import { BatchError, reportOf, repliesOf, throwIfFailed, type BatchReport } from '../batch.js';
import { NetlinkError, ValidationError } from '../errors.js';
import type { NativeBatch, RawOutcome } from '../addon-types.js';
import type { NativeHop, NativeRoute } from './native-types.js';
import { AF_INET, AF_INET6, addressBuffer, formatAddress, isNetworkAddress, maskAddress, parseAddress, parsePrefix, type ParsedAddress } from './ip.js';
import {
  ROUTE_PROTOCOLS, ROUTE_SCOPES, ROUTE_TABLES, ROUTE_TYPES,
  type Device, type Route, type RouteChoice, type RouteFamily, type RouteNextHop, type RouteProtocol, type RouteQuery,
  type RouteScope, type RouteSpec, type RouteType, type TableId,
} from './route-types.js';
import { ipv4RowWord, ipv4Value } from './ipv4-fast.js';

// include/uapi/linux/rtnetlink.h, netlink.h
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
const NLM_F_REPLACE = 0x100;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const NLM_F_APPEND = 0x800;
const RTNH_F_DEAD = 1;
const RTNH_F_ONLINK = 4;
const RTNH_F_LINKDOWN = 16;
const U32_MAX = 0xffffffff;

// ---- shared helpers (also used by nexthop.ts and rule.ts) -----------------------------------

export function checkInt(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ValidationError(field, v, `must be an integer in ${min}..${max}`);
  return v;
}

function nameOrNumber<T extends Record<string, number>>(field: string, v: unknown, names: T, min: number, max: number): number {
  if (typeof v === 'string') {
    const n = (names as Record<string, number>)[v];
    if (n === undefined) throw new ValidationError(field, v, `must be one of ${Object.keys(names).join(', ')} or a number ${min}..${max}`);
    return n;
  }
  return checkInt(field, v, min, max);
}

export function protocolNumber(field: string, v: RouteProtocol | undefined, def: number): number {
  return v === undefined ? def : nameOrNumber(field, v, ROUTE_PROTOCOLS, 0, 255);
}

export function tableNumber(field: string, v: TableId | undefined, def: number): number {
  return v === undefined ? def : nameOrNumber(field, v, ROUTE_TABLES, 1, U32_MAX);
}

export function scopeNumber(field: string, v: RouteScope | undefined, def: number): number {
  return v === undefined ? def : nameOrNumber(field, v, ROUTE_SCOPES, 0, 255);
}

const protocolNames = new Map<number, string>(Object.entries(ROUTE_PROTOCOLS).map(([k, v]) => [v, k]));
const scopeNames = new Map<number, string>(Object.entries(ROUTE_SCOPES).map(([k, v]) => [v, k]));

export function protocolName(n: number): RouteProtocol {
  return (protocolNames.get(n) as RouteProtocol | undefined) ?? n;
}
export function scopeName(n: number): RouteScope {
  return (scopeNames.get(n) as RouteScope | undefined) ?? n;
}

const IP_PROTOS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, sctp: 132 };
export function ipProtoNumber(field: string, v: string | number | undefined): number {
  if (v === undefined) return 0;
  return nameOrNumber(field, v, IP_PROTOS, 1, 255);
}

export function familyAf(f: RouteFamily): number {
  return f === 4 ? AF_INET : AF_INET6;
}

export function afFamily(af: number): RouteFamily | undefined {
  return af === AF_INET ? 4 : af === AF_INET6 ? 6 : undefined;
}

export function checkFamily(field: string, v: unknown): RouteFamily {
  if (v !== 4 && v !== 6) throw new ValidationError(field, v, 'must be 4 or 6');
  return v;
}

/** Parses an address of `family` (when known), naming the field in the error. */
export function addressOf(field: string, v: unknown, family?: RouteFamily): ParsedAddress {
  const p = typeof v === 'string' ? parseAddress(v) : undefined;
  if (!p) throw new ValidationError(field, v, family ? `must be an IPv${family} address` : 'must be an IPv4 or IPv6 address');
  if (family !== undefined && p.family !== family) throw new ValidationError(field, v, `must be an IPv${family} address (the route is IPv${family})`);
  return p;
}

/** Parses 'default', 'all', 'ADDR/LEN' or an address; refuses host bits beyond the length. */
export function prefixOf(field: string, v: unknown, family?: RouteFamily): { family: RouteFamily | undefined; bytes: Uint8Array | null; len: number } {
  if (v === 'default' || v === 'all') return { family, bytes: null, len: 0 };
  const p = typeof v === 'string' ? parsePrefix(v) : undefined;
  if (!p) throw new ValidationError(field, v, "must be 'default', an address, or ADDR/LEN (IPv4 /0..32, IPv6 /0..128)");
  if (family !== undefined && p.family !== family) throw new ValidationError(field, v, `must be an IPv${family} prefix`);
  if (!isNetworkAddress(p.bytes, p.prefixLength))
    throw new ValidationError(field, v, `has host bits set beyond /${p.prefixLength} (did you mean ${formatAddress(maskAddress(p.bytes, p.prefixLength))}/${p.prefixLength}?)`);
  return { family: p.family, bytes: p.prefixLength === 0 ? null : p.bytes, len: p.prefixLength };
}

export function prefixText(family: RouteFamily, addr: string | undefined, len: number): string {
  return `${addr ?? (family === 4 ? '0.0.0.0' : '::')}/${len}`;
}

const RTM_NEWLINK = 16;

/**
 * ifi_index of the RTM_NEWLINK message at `off` (nlmsghdr, then struct ifinfomsg: family u8,
 * pad u8, type u16, index s32), read in place: decoding the whole link into an object cost more
 * than the lookup itself on every single-route call. Anything unexpected goes to linkDecode.
 */
function linkIndexAt(buf: Buffer, off: number): number {
  if (off + 24 <= buf.length && buf.readUInt32LE(off) >= 32 && buf.readUInt16LE(off + 4) === RTM_NEWLINK) return buf.readInt32LE(off + 20);
  return native.linkDecode(buf, off).index;
}

/** Resolves interface names to ifindexes with one RTM_GETLINK per distinct name. */
export async function resolveDevices(socket: NetlinkSocket, names: Iterable<string>): Promise<Map<string, number>> {
  const unique = [...new Set(names)];
  const out = new Map<string, number>();
  if (unique.length === 0) return out;
  const batch = socket.newBatch();
  for (const n of unique) native.linkEncodeGet(batch, 0, n, true);
  const raw = await socket.run(batch, 'resolve devices', { large: unique.length > 64 });
  unique.forEach((name, i) => {
    if (raw.status[i] !== 0) {
      const code = raw.failures.find((f) => f.index === i)?.code ?? 'EUNKNOWN';
      throw new ValidationError('dev', name, `is not an interface in namespace ${socket.netns} (${code})`);
    }
    for (const [off] of repliesOf(raw, i)) out.set(name, linkIndexAt(raw.replies, off));
  });
  return out;
}

export function checkDevice(field: string, v: unknown): Device {
  if (typeof v === 'string') {
    if (v.length === 0 || v.length > 15 || v.includes('/') || /\s/.test(v)) throw new ValidationError(field, v, 'must be an interface name (1..15 characters) or an ifindex');
    return v;
  }
  return checkInt(field, v, 1, 0x7fffffff);
}

export function deviceIndex(d: Device | undefined, devs: Map<string, number>): number {
  if (d === undefined) return 0;
  return typeof d === 'number' ? d : devs.get(d)!;
}

// ---- validation -------------------------------------------------------------------------------

interface PreparedHop {
  gateway: Uint8Array | null;
  dev: Device | undefined;
  weight: number;
  flags: number;
}

/** A RouteSpec checked and reduced to wire values (devices still by name until resolved). */
interface PreparedRoute {
  family: RouteFamily;
  dst: Uint8Array | null;
  dstLen: number;
  src: Uint8Array | null;
  srcLen: number;
  tos: number;
  table: number;
  protocol: number;
  scope: number | undefined;
  type: number | undefined;
  flags: number;
  prefsrc: Uint8Array | null;
  gateway: Uint8Array | null;
  dev: Device | undefined;
  priority: number;
  nhid: number;
  hops: PreparedHop[] | null;
  label: string;
}

const TYPE_NUMBERS = new Map<string, number>(ROUTE_TYPES.map((t, i) => [t, i]));

function prepareRoute(spec: RouteSpec, field: string): PreparedRoute {
  if (typeof spec !== 'object' || spec === null) throw new ValidationError(field, spec, 'must be a route object');
  const f = (k: string) => `${field}.${k}`;
  let family: RouteFamily | undefined = spec.family === undefined ? undefined : checkFamily(f('family'), spec.family);
  const dst = prefixOf(f('dst'), spec.dst, family);
  family ??= dst.family;
  // 'default' says nothing about the family: take it from the first address that does.
  if (family === undefined) {
    const hint = spec.gateway ?? spec.prefsrc ?? spec.nexthops?.find((h) => h?.gateway !== undefined)?.gateway;
    const p = typeof hint === 'string' ? parseAddress(hint) : undefined;
    family = p?.family ?? 4;
  }
  const src = spec.from === undefined ? { bytes: null, len: 0 } : prefixOf(f('from'), spec.from, family);
  let type: number | undefined;
  if (spec.type !== undefined) {
    type = TYPE_NUMBERS.get(spec.type);
    if (type === undefined || type === 0) throw new ValidationError(f('type'), spec.type, `must be one of ${ROUTE_TYPES.slice(1).join(', ')}`);
  }
  const table = tableNumber(f('table'), spec.table, ROUTE_TABLES.main);
  const tos = spec.tos === undefined ? 0 : checkInt(f('tos'), spec.tos, 0, 255);
  const priority = spec.priority === undefined ? -1 : checkInt(f('priority'), spec.priority, 0, U32_MAX);
  const prefsrc = spec.prefsrc === undefined ? null : addressBuffer(addressOf(f('prefsrc'), spec.prefsrc, family));
  // An IPv4 route may have an IPv6 gateway (RTA_VIA); an IPv6 route may not have an IPv4 one.
  const gatewayOf = (name: string, v: unknown): Uint8Array => {
    const p = addressOf(name, v);
    if (family === 6 && p.family === 4) throw new ValidationError(name, v, 'must be an IPv6 address (the route is IPv6; only IPv4 routes may use a gateway of the other family)');
    return addressBuffer(p);
  };
  const gateway = spec.gateway === undefined ? null : gatewayOf(f('gateway'), spec.gateway);
  const dev = spec.dev === undefined ? undefined : checkDevice(f('dev'), spec.dev);
  const nhid = spec.nhid === undefined ? 0 : checkInt(f('nhid'), spec.nhid, 1, U32_MAX);
  let hops: PreparedHop[] | null = null;
  if (spec.nexthops !== undefined) {
    if (!Array.isArray(spec.nexthops) || spec.nexthops.length === 0) throw new ValidationError(f('nexthops'), spec.nexthops, 'must be a non-empty array');
    if (gateway || dev !== undefined || nhid) throw new ValidationError(f('nexthops'), spec.nexthops, 'cannot be combined with gateway, dev or nhid');
    hops = spec.nexthops.map((h, i) => {
      const hf = `${f('nexthops')}[${i}]`;
      if (typeof h !== 'object' || h === null) throw new ValidationError(hf, h, 'must be an object');
      if (h.gateway === undefined && h.dev === undefined) throw new ValidationError(hf, h, 'needs a gateway or a dev');
      return {
        gateway: h.gateway === undefined ? null : gatewayOf(`${hf}.gateway`, h.gateway),
        dev: h.dev === undefined ? undefined : checkDevice(`${hf}.dev`, h.dev),
        weight: h.weight === undefined ? 1 : checkInt(`${hf}.weight`, h.weight, 1, 256),
        flags: h.onlink ? RTNH_F_ONLINK : 0,
      };
    });
  }
  if (nhid && (gateway || dev !== undefined)) throw new ValidationError(f('nhid'), spec.nhid, 'cannot be combined with gateway or dev (the nexthop object says where)');
  const label = `${spec.dst}${table !== ROUTE_TABLES.main ? ` table ${table}` : ''}`;
  return {
    family, dst: dst.bytes, dstLen: dst.len, src: src.bytes, srcLen: src.len, tos, table,
    protocol: spec.protocol === undefined ? -1 : protocolNumber(f('protocol'), spec.protocol, 0),
    scope: spec.scope === undefined ? undefined : scopeNumber(f('scope'), spec.scope, 0),
    type, flags: spec.onlink ? RTNH_F_ONLINK : 0, prefsrc, gateway, dev, priority, nhid, hops, label,
  };
}

function devicesOf(routes: PreparedRoute[]): string[] {
  const names: string[] = [];
  for (const r of routes) {
    if (typeof r.dev === 'string') names.push(r.dev);
    if (r.hops) for (const h of r.hops) if (typeof h.dev === 'string') names.push(h.dev);
  }
  return names;
}

// ---- bulk fast path ---------------------------------------------------------------------------
//
// addMany/replaceMany/deleteMany of 100k routes spent most of their JS time in prepareRoute (a
// regex and a Uint8Array per address, an object per route) and in one ~19-argument native call
// per route. Routes of the common shape (IPv4 dst prefix, optional IPv4 gateway, dev, table,
// protocol, tos, priority, onlink) are instead checked here without allocating and written as
// rows of a Uint32Array that one native call (routeEncodeMany) encodes. The fast path only
// accepts what prepareRoute accepts and produces the same requests; anything else (or anything
// invalid) goes through prepareRoute, so every ValidationError is thrown by the same code with
// the same field, value and text, in the same order.

const ROW = 12; // route_binding.cc kRouteRowStride
const ROW_GATEWAY = 1;
const ROW_PRIORITY = 2;
const ROW_ONLINK = 4;

const DEV_NAME_BAD = /[/\s]/;
const hasOwn = Object.prototype.hasOwnProperty;

function fastName(v: unknown, names: Record<string, number>, min: number, max: number): number {
  if (typeof v === 'number') return Number.isInteger(v) && v >= min && v <= max ? v : -1;
  if (typeof v === 'string' && hasOwn.call(names, v)) return names[v]!;
  return -1;
}

/**
 * Checks `spec` for the fast path and writes its row at `i` (oif left for after device
 * resolution; the device goes to devs[i]). False: leave it to prepareRoute.
 */
function fastRow(spec: RouteSpec, del: boolean, rows: Uint32Array, i: number, devs: Device[], devNames: Set<string>): boolean {
  if (typeof spec !== 'object' || spec === null) return false;
  if (spec.family !== undefined && spec.family !== 4) return false;
  if (spec.from !== undefined || spec.prefsrc !== undefined || spec.nexthops !== undefined || spec.nhid !== undefined || spec.type !== undefined || spec.scope !== undefined)
    return false;
  const dst = spec.dst;
  if (typeof dst !== 'string') return false;
  const slash = dst.indexOf('/');
  const end = slash === -1 ? dst.length : slash;
  const be = ipv4Value(dst, 0, end);
  if (be < 0) return false;
  let len = 32;
  if (slash !== -1) {
    const digits = dst.length - slash - 1;
    if (digits < 1 || digits > 2) return false;
    const c0 = dst.charCodeAt(slash + 1) - 48;
    const c1 = digits === 2 ? dst.charCodeAt(slash + 2) - 48 : 0;
    if (c0 < 0 || c0 > 9 || c1 < 0 || c1 > 9 || (digits === 2 && c0 === 0)) return false;
    len = digits === 2 ? c0 * 10 + c1 : c0;
    if (len > 32) return false;
  }
  if (len < 32 && (be & (0xffffffff >>> len)) !== 0) return false; // host bits: prepareRoute says so
  const table = spec.table === undefined ? ROUTE_TABLES.main : fastName(spec.table, ROUTE_TABLES, 1, U32_MAX);
  if (table < 0) return false;
  let tos = 0;
  if (spec.tos !== undefined) {
    if (typeof spec.tos !== 'number' || !Number.isInteger(spec.tos) || spec.tos < 0 || spec.tos > 255) return false;
    tos = spec.tos;
  }
  let bits = 0;
  let priority = 0;
  if (spec.priority !== undefined) {
    if (typeof spec.priority !== 'number' || !Number.isInteger(spec.priority) || spec.priority < 0 || spec.priority > U32_MAX) return false;
    priority = spec.priority;
    bits |= ROW_PRIORITY;
  }
  let gw = 0;
  if (spec.gateway !== undefined) {
    const g = spec.gateway;
    if (typeof g !== 'string') return false;
    const v = ipv4Value(g, 0, g.length);
    if (v < 0) return false;
    gw = ipv4RowWord(v);
    bits |= ROW_GATEWAY;
  }
  const dev = spec.dev;
  if (dev !== undefined) {
    if (typeof dev === 'string') {
      if (!devNames.has(dev)) {
        if (dev.length === 0 || dev.length > 15 || DEV_NAME_BAD.test(dev)) return false;
        devNames.add(dev);
      }
    } else if (typeof dev !== 'number' || !Number.isInteger(dev) || dev < 1 || dev > 0x7fffffff) {
      return false;
    }
  }
  let protocol = del ? 0 : ROUTE_PROTOCOLS.boot;
  if (spec.protocol !== undefined) {
    protocol = fastName(spec.protocol, ROUTE_PROTOCOLS, 0, 255);
    if (protocol < 0) return false;
  }
  if (spec.onlink) bits |= ROW_ONLINK;
  // encode(): unicast; link scope for an IPv4 route straight out of a device; deletes match any.
  const scope = del ? ROUTE_SCOPES.nowhere : bits & ROW_GATEWAY ? ROUTE_SCOPES.universe : ROUTE_SCOPES.link;
  const o = i * ROW;
  rows[o] = len === 0 ? 0 : ipv4RowWord(be);
  rows[o + 1] = len;
  rows[o + 2] = tos;
  rows[o + 3] = table;
  rows[o + 4] = protocol;
  rows[o + 5] = scope;
  rows[o + 6] = del ? 0 : 1;
  rows[o + 8] = priority;
  rows[o + 9] = gw;
  rows[o + 10] = bits;
  if (dev !== undefined) devs[i] = dev;
  return true;
}

type Op = 'add' | 'replace' | 'append' | 'delete';
const opFlags: Record<Op, number> = {
  add: NLM_F_CREATE | NLM_F_EXCL,
  replace: NLM_F_CREATE | NLM_F_REPLACE,
  append: NLM_F_CREATE | NLM_F_APPEND,
  delete: 0,
};
const opNames: Record<Op, string> = { add: 'addRoute', replace: 'replaceRoute', append: 'appendRoute', delete: 'deleteRoute' };

function encode(batch: NativeBatch, op: Op, r: PreparedRoute, devs: Map<string, number>): void {
  const del = op === 'delete';
  const type = r.type ?? (del ? 0 : 1);
  // As `ip route`: host scope for local routes, link scope for IPv4 routes straight out of a
  // device, universe otherwise; deletes match any scope unless one is given.
  const scope = r.scope ?? (del ? ROUTE_SCOPES.nowhere
    : type === 2 || type === 10 ? ROUTE_SCOPES.host
    : (type === 3 || type === 4 || type === 5) ? ROUTE_SCOPES.link
    : type === 1 && r.family === 4 && !r.gateway && !r.hops && !r.nhid ? ROUTE_SCOPES.link
    : ROUTE_SCOPES.universe);
  const protocol = r.protocol >= 0 ? r.protocol : del ? 0 : ROUTE_PROTOCOLS.boot;
  const hops: NativeHop[] | null = r.hops ? r.hops.map((h) => [h.gateway, deviceIndex(h.dev, devs), h.weight, h.flags]) : null;
  native.routeEncode(batch, del ? RTM_DELROUTE : RTM_NEWROUTE, opFlags[op], familyAf(r.family), r.dstLen, r.srcLen, r.tos, r.table,
    protocol, scope, type, r.flags, r.dst, r.src, r.prefsrc, r.gateway, deviceIndex(r.dev, devs), r.priority, r.nhid, hops);
}

// ---- decoding -----------------------------------------------------------------------------

function flagBits<T extends object>(o: T, flags: number): T {
  const x = o as { onlink?: true; dead?: true; linkdown?: true };
  if (flags & RTNH_F_ONLINK) x.onlink = true;
  if (flags & RTNH_F_DEAD) x.dead = true;
  if (flags & RTNH_F_LINKDOWN) x.linkdown = true;
  return o;
}

/** Converts a decoded RTM_NEWROUTE/DELROUTE into the public Route shape. */
export function routeFromNative(n: NativeRoute): Route {
  const family = afFamily(n.family) ?? 4;
  const r: Route = {
    family,
    dst: prefixText(family, n.dst, n.dstLen),
    table: n.table,
    protocol: protocolName(n.protocol),
    scope: scopeName(n.scope),
    type: ROUTE_TYPES[n.type] ?? 'unspec',
    tos: n.tos,
  };
  if (n.srcLen || n.src) r.from = prefixText(family, n.src, n.srcLen);
  if (n.priority !== undefined) r.priority = n.priority;
  if (n.prefsrc) r.prefsrc = n.prefsrc;
  if (n.gateway) r.gateway = n.gateway;
  if (n.oif) r.dev = n.oif;
  flagBits(r, n.flags);
  if (n.multipath) {
    r.nexthops = n.multipath.map((h) => {
      const o: RouteNextHop = { dev: h.oif, weight: h.weight };
      if (h.gateway) o.gateway = h.gateway;
      return flagBits(o, h.flags);
    });
  }
  if (n.nhId) r.nhid = n.nhId;
  if (n.expires) r.expires = n.expires;
  if (n.mtu) r.mtu = n.mtu;
  return r;
}

const COL = 16; // route_binding.cc kRouteColStride

function ipv4Text(w: number): string {
  return `${w & 255}.${(w >>> 8) & 255}.${(w >>> 16) & 255}.${w >>> 24}`;
}

/**
 * routeFromNative for a row of routeDecodeColumns (a single-path IPv4 route): the same object,
 * with the same properties in the same order, without an intermediate N-API object per route.
 */
function routeFromColumns(c: Uint32Array, k: number): Route {
  const w2 = c[k + 2]!;
  const w4 = c[k + 4]!;
  const bits = w4 >>> 16;
  const srcLen = (w2 >>> 8) & 255;
  const r: Route = {
    family: 4,
    dst: `${bits & 1 ? ipv4Text(c[k + 11]!) : '0.0.0.0'}/${w2 & 255}`,
    table: c[k + 3]!,
    protocol: protocolName(w4 & 255),
    scope: scopeName((w4 >>> 8) & 255),
    type: ROUTE_TYPES[w2 >>> 24] ?? 'unspec',
    tos: (w2 >>> 16) & 255,
  };
  if (srcLen || bits & 2) r.from = `${bits & 2 ? ipv4Text(c[k + 12]!) : '0.0.0.0'}/${srcLen}`;
  if (bits & 16) r.priority = c[k + 7]!;
  if (bits & 4) r.prefsrc = ipv4Text(c[k + 13]!);
  if (bits & 8) r.gateway = ipv4Text(c[k + 14]!);
  if (c[k + 6]) r.dev = c[k + 6]!;
  flagBits(r, c[k + 5]!);
  if (c[k + 8]) r.nhid = c[k + 8]!;
  if (c[k + 9]) r.expires = c[k + 9]!;
  if (c[k + 10]) r.mtu = c[k + 10]!;
  return r;
}

/**
 * Decodes one raw RTM_NEWROUTE / RTM_DELROUTE message (for the events stream): `offset` is where
 * the message's nlmsghdr starts in `buffer`.
 */
export function decodeRouteMessage(buffer: Buffer, offset: number): { kind: 'new' | 'del'; route: Route } {
  const n = native.routeDecode(buffer, offset);
  return { kind: n.msgType === RTM_DELROUTE ? 'del' : 'new', route: routeFromNative(n) };
}

function choiceFromNative(n: NativeRoute): RouteChoice {
  const family = afFamily(n.family) ?? 4;
  const c: RouteChoice = { family, dst: prefixText(family, n.dst, n.dstLen), type: ROUTE_TYPES[n.type] ?? 'unspec', table: n.table };
  if (n.gateway) c.gateway = n.gateway;
  if (n.oif) c.dev = n.oif;
  if (n.iif) c.iif = n.iif;
  if (n.prefsrc) c.prefsrc = n.prefsrc;
  if (n.mark !== undefined) c.mark = n.mark;
  if (n.uid !== undefined) c.uid = n.uid;
  return c;
}

// ---- the class ------------------------------------------------------------------------------

export interface BatchOptions {
  /** Undo what was applied if any item fails (adds only), then throw BatchError. */
  rollback?: boolean;
  /** Send nothing more after a send that had a failure (later items are 'not-sent'). */
  stopOnError?: boolean;
}

export interface ListOptions {
  /** 4, 6, or both (default). */
  family?: RouteFamily;
  /** A table, or 'all'. Default 'main' (as `ip route show`). */
  table?: TableId | 'all';
}

/** Routes of one network namespace. Construct over a NETLINK_ROUTE socket, or use openRoutes(). */
export class Routes {
  readonly #socket: NetlinkSocket;
  readonly #owned: boolean;

  constructor(socket: NetlinkSocket, options: { ownsSocket?: boolean } = {}) {
    if (!(socket instanceof NetlinkSocket)) throw new ValidationError('socket', socket, 'must be a NetlinkSocket opened with protocol "route"');
    this.#socket = socket;
    this.#owned = options.ownsSocket === true;
  }

  get socket(): NetlinkSocket {
    return this.#socket;
  }

  /** Closes the socket if this object opened it (openRoutes). */
  close(): void {
    if (this.#owned) this.#socket.close();
  }

  /** Adds a route; EEXIST if one with the same key exists. Equivalent to `ip route add ...`. */
  async add(route: RouteSpec): Promise<void> {
    await this.#single('add', route);
  }

  /** Adds or replaces the route with the same key (dst, tos, priority, table). Equivalent to `ip route replace ...`. */
  async replace(route: RouteSpec): Promise<void> {
    await this.#single('replace', route);
  }

  /**
   * Appends a route with the same key as an existing one (NLM_F_APPEND). For IPv6 this adds a
   * sibling path to a multipath route. Equivalent to `ip route append ...`.
   */
  async append(route: RouteSpec): Promise<void> {
    await this.#single('append', route);
  }

  /**
   * Deletes a route. Fields given must match (dst and table always; gateway, dev, protocol,
   * type, scope, priority, tos only when given). ESRCH/ENOENT if none matches. Equivalent to
   * `ip route del ...`.
   */
  async delete(route: RouteSpec): Promise<void> {
    await this.#single('delete', route);
  }

  /** Adds many routes in as few sendmsg calls as possible: one result per item. */
  addMany(routes: RouteSpec[], options: BatchOptions = {}): Promise<BatchReport> {
    return this.#many('add', routes, options);
  }

  /** Replaces many routes (one result per item). */
  replaceMany(routes: RouteSpec[], options: Omit<BatchOptions, 'rollback'> = {}): Promise<BatchReport> {
    return this.#many('replace', routes, options);
  }

  /** Deletes many routes (one result per item). */
  deleteMany(routes: RouteSpec[], options: Omit<BatchOptions, 'rollback'> = {}): Promise<BatchReport> {
    return this.#many('delete', routes, options);
  }

  /**
   * Lists routes (RTM_GETROUTE dump). Default: both families, table main, as `ip route show` and
   * `ip -6 route show`. IPv6 multipath routes come with their siblings merged into `nexthops`.
   */
  async list(options: ListOptions = {}): Promise<Route[]> {
    const families = options.family === undefined ? [4, 6] as const : [checkFamily('family', options.family)];
    const table = options.table === 'all' ? 0 : tableNumber('table', options.table, ROUTE_TABLES.main);
    const batch = this.#socket.newBatch();
    for (const f of families) native.routeEncodeDump(batch, familyAf(f));
    const raw = await this.#socket.run(batch, 'listRoutes', { large: true });
    const out: Route[] = [];
    families.forEach((_, i) => {
      throwIfFailed(raw, 'listRoutes', i);
      const c = native.routeDecodeColumns(raw.replies, raw.replyOffsets, raw.replyBegin[i]!, raw.replyCount[i]!, table);
      for (let k = 0; k < c.length; k += COL) {
        out.push(c[k + 1] ? routeFromNative(native.routeDecode(raw.replies, raw.replyOffsets[c[k]!]!)) : routeFromColumns(c, k));
      }
    });
    return out;
  }

  /**
   * The route with exactly this destination prefix in `table` (default main), or undefined. Asks
   * the kernel for the matching FIB entry (RTM_GETROUTE with RTM_F_FIB_MATCH, `ip route get
   * fibmatch`); when a more specific route covers the prefix's first address, falls back to
   * listing the table.
   */
  async get(dst: string, options: { family?: RouteFamily; table?: TableId; tos?: number; priority?: number } = {}): Promise<Route | undefined> {
    const family = options.family === undefined ? undefined : checkFamily('family', options.family);
    const p = prefixOf('dst', dst, family);
    const fam: RouteFamily = p.family ?? family ?? 4;
    const table = tableNumber('table', options.table, ROUTE_TABLES.main);
    const want = prefixText(fam, p.bytes ? formatAddress(p.bytes) : undefined, p.len);
    const matches = (r: Route) => r.dst === want && r.table === table && (options.tos === undefined || r.tos === options.tos) &&
      (options.priority === undefined || (r.priority ?? 0) === options.priority);
    const addr = p.bytes ?? new Uint8Array(fam === 4 ? 4 : 16);
    const batch = this.#socket.newBatch();
    native.routeEncodeQuery(batch, familyAf(fam), addr, null, 0, 0, -1, -1, 0, -1, -1, 0, true, table);
    const raw = await this.#socket.run(batch, `getRoute ${dst}`);
    if (raw.status[0] === 0) {
      for (const [off] of repliesOf(raw, 0)) {
        const r = routeFromNative(native.routeDecode(raw.replies, off));
        if (matches(r)) return r;
      }
    } else {
      const code = raw.failures[0]?.code;
      if (code !== 'ENETUNREACH' && code !== 'EHOSTUNREACH' && code !== 'ESRCH' && code !== 'ENOENT') throwIfFailed(raw, `getRoute ${dst}`);
    }
    const all = await this.list({ family: fam, table });
    return all.find(matches);
  }

  /**
   * Asks the kernel which path a flow takes (RTM_GETROUTE, `ip route get DST from SRC iif DEV
   * mark M ipproto P sport S dport D`): the answer is the kernel's own choice among multipath
   * nexthops, after policy rules. Errors as the kernel reports them: ENETUNREACH, EHOSTUNREACH,
   * EACCES (prohibit), EINVAL (blackhole), ...
   */
  async query(q: RouteQuery): Promise<RouteChoice> {
    const { args, devs } = this.#prepareQuery(q);
    const d = await resolveDevices(this.#socket, devs);
    const batch = this.#socket.newBatch();
    args(batch, d, false);
    const op = `queryRoute ${q.dst}`;
    const raw = await this.#socket.run(batch, op);
    throwIfFailed(raw, op);
    for (const [off] of repliesOf(raw, 0)) return choiceFromNative(native.routeDecode(raw.replies, off));
    throw new NetlinkError({ op, errno: 0, code: 'EUNKNOWN' }, `${op}: the kernel answered without a route`);
  }

  /**
   * The FIB entry (whole route, every multipath nexthop) a flow matches: RTM_GETROUTE with
   * RTM_F_FIB_MATCH, `ip route get fibmatch ...`.
   */
  async queryFibMatch(q: RouteQuery): Promise<Route> {
    const { args, devs } = this.#prepareQuery(q);
    const d = await resolveDevices(this.#socket, devs);
    const batch = this.#socket.newBatch();
    args(batch, d, true);
    const op = `queryRoute fibmatch ${q.dst}`;
    const raw = await this.#socket.run(batch, op);
    throwIfFailed(raw, op);
    for (const [off] of repliesOf(raw, 0)) return routeFromNative(native.routeDecode(raw.replies, off));
    throw new NetlinkError({ op, errno: 0, code: 'EUNKNOWN' }, `${op}: the kernel answered without a route`);
  }

  #prepareQuery(q: RouteQuery): { args: (b: NativeBatch, d: Map<string, number>, fib: boolean) => void; devs: string[] } {
    if (typeof q !== 'object' || q === null) throw new ValidationError('query', q, 'must be an object');
    const dst = addressOf('dst', q.dst);
    const family = dst.family;
    const src = q.src === undefined ? null : addressBuffer(addressOf('src', q.src, family));
    const iif = q.iif === undefined ? undefined : checkDevice('iif', q.iif);
    const oif = q.oif === undefined ? undefined : checkDevice('oif', q.oif);
    const mark = q.mark === undefined ? -1 : checkInt('mark', q.mark, 0, U32_MAX);
    const uid = q.uid === undefined ? -1 : checkInt('uid', q.uid, 0, U32_MAX - 1);
    const proto = ipProtoNumber('ipProto', q.ipProto);
    const sport = q.sport === undefined ? -1 : checkInt('sport', q.sport, 0, 65535);
    const dport = q.dport === undefined ? -1 : checkInt('dport', q.dport, 0, 65535);
    if ((sport >= 0 || dport >= 0) && proto === 0) throw new ValidationError('ipProto', q.ipProto, 'is required with sport/dport (the kernel hashes ports only for a known L4 protocol)');
    const tos = q.tos === undefined ? 0 : checkInt('tos', q.tos, 0, 255);
    const table = q.table === undefined ? 0 : tableNumber('table', q.table, 0);
    const devs = [iif, oif].filter((x): x is string => typeof x === 'string');
    return {
      devs,
      args: (b, d, fib) => native.routeEncodeQuery(b, familyAf(family), addressBuffer(dst), src, deviceIndex(iif, d), deviceIndex(oif, d),
        mark, uid, proto, sport, dport, tos, fib, table),
    };
  }

  async #single(op: Op, spec: RouteSpec): Promise<void> {
    const row = new Uint32Array(ROW);
    const dev: Device[] = [];
    if (fastRow(spec, op === 'delete', row, 0, dev, new Set())) {
      const d = dev[0];
      const devs = await resolveDevices(this.#socket, typeof d === 'string' ? [d] : []);
      row[7] = deviceIndex(d, devs);
      const batch = this.#socket.newBatch();
      native.routeEncodeMany(batch, op === 'delete' ? RTM_DELROUTE : RTM_NEWROUTE, opFlags[op], row, 1);
      const label = `${opNames[op]} ${spec.dst}${row[3] !== ROUTE_TABLES.main ? ` table ${row[3]}` : ''}`;
      const raw = await this.#socket.run(batch, label);
      throwIfFailed(raw, label);
      return;
    }
    const r = prepareRoute(spec, 'route');
    const devs = await resolveDevices(this.#socket, devicesOf([r]));
    const batch = this.#socket.newBatch();
    encode(batch, op, r, devs);
    const raw = await this.#socket.run(batch, `${opNames[op]} ${r.label}`);
    throwIfFailed(raw, `${opNames[op]} ${r.label}`);
  }

  async #many(op: Op, specs: RouteSpec[], options: BatchOptions): Promise<BatchReport> {
    if (!Array.isArray(specs)) throw new ValidationError('routes', specs, 'must be an array of routes');
    if (options.rollback && op !== 'add') throw new ValidationError('rollback', options.rollback, 'is supported for addMany only (a replaced or deleted route cannot be restored from the request)');
    const n = specs.length;
    const del = op === 'delete';
    // Fast rows where the route has the common shape, prepareRoute for the rest (see fastRow).
    const rows = new Uint32Array(n * ROW);
    const slow: (PreparedRoute | undefined)[] = new Array<PreparedRoute | undefined>(n);
    const fastDevs: Device[] = new Array<Device>(n);
    const devNames = new Set<string>();
    const names = new Set<string>(); // device names in first-use order, as devicesOf gives them
    for (let i = 0; i < n; i++) {
      const spec = specs[i]!;
      if (fastRow(spec, del, rows, i, fastDevs, devNames)) {
        const d = fastDevs[i];
        if (typeof d === 'string') names.add(d);
        continue;
      }
      const r = prepareRoute(spec, `routes[${i}]`);
      slow[i] = r;
      for (const d of devicesOf([r])) names.add(d);
    }
    const devs = await resolveDevices(this.#socket, names);
    const batch = this.#socket.newBatch();
    const msgType = del ? RTM_DELROUTE : RTM_NEWROUTE;
    let runStart = 0;
    const flush = (end: number) => {
      if (end > runStart) native.routeEncodeMany(batch, msgType, opFlags[op], rows.subarray(runStart * ROW, end * ROW), end - runStart);
    };
    for (let i = 0; i < n; i++) {
      const r = slow[i];
      if (r === undefined) {
        rows[i * ROW + 7] = deviceIndex(fastDevs[i], devs);
        continue;
      }
      flush(i);
      runStart = i + 1;
      encode(batch, op, r, devs);
    }
    flush(n);
    const label = (i: number): string => {
      const r = slow[i];
      if (r) return r.label;
      const table = rows[i * ROW + 3]!;
      return `${specs[i]!.dst}${table !== ROUTE_TABLES.main ? ` table ${table}` : ''}`;
    };
    const raw: RawOutcome = await this.#socket.run(batch, `${opNames[op]} x${n}`, {
      large: n > 64,
      stopOnError: options.stopOnError === true || options.rollback === true,
    });
    const report = reportOf(raw, (i) => `${opNames[op]} ${label(i)}`);
    if (!report.ok && options.rollback) {
      const undo = this.#socket.newBatch();
      const applied = [...report.applied].reverse();
      for (const i of applied) encode(undo, 'delete', slow[i] ?? prepareRoute(specs[i]!, `routes[${i}]`), devs);
      const rraw = await this.#socket.run(undo, 'rollback addRoute', { large: applied.length > 64 });
      const rb = reportOf(rraw, (k) => `rollback deleteRoute ${label(applied[k]!)}`);
      throw new BatchError(report, rb);
    }
    return report;
  }
}

/** Opens a NETLINK_ROUTE socket (in `netns` when given) and returns Routes that own it: call close(). */
export function openRoutes(options: SocketOptions = {}): Routes {
  return new Routes(NetlinkSocket.open('route', options), { ownsSocket: true });
}
