// IPVS input validation and the conversions between the public data model (types.ts) and the
// positional "wire" values the native encoders take. Pure: no I/O. Every refusal is a
// ValidationError naming the field and the value ("weight must be an integer in 0..2147483647,
// got -1"). Limits mirror net/netfilter/ipvs/ip_vs_ctl.c.
import { ValidationError } from '../errors.js';
import { AF_INET, AF_INET6, formatAddress, parseAddress, canonicalAddress } from '../rtnl/ip.js';
import { IpvsSeen, type RawIpvsDaemon, type RawIpvsDest, type RawIpvsService, type RawIpvsStats } from './native-types.js';
import {
  SCHEDULERS,
  type AddressFamily,
  type Destination,
  type DestinationSpec,
  type ForwardMethod,
  type Protocol,
  type Service,
  type ServiceFlags,
  type ServiceKey,
  type ServiceSpec,
  type Stats,
  type SyncDaemon,
  type Timeouts,
  type TunnelOptions,
  type TunnelType,
} from './types.js';
import { ipv4RowWord, ipv4Value } from '../rtnl/ipv4-fast.js';

export const PROTOCOLS: Record<Protocol, number> = { tcp: 6, udp: 17, sctp: 132 };
const PROTOCOL_NAMES: Record<number, Protocol> = { 6: 'tcp', 17: 'udp', 132: 'sctp' };
export const FORWARD: Record<ForwardMethod, number> = { masq: 0, local: 1, tunnel: 2, route: 3, bypass: 4 };
const FORWARD_NAMES: ForwardMethod[] = ['masq', 'local', 'tunnel', 'route', 'bypass'];
export const TUNNEL: Record<TunnelType, number> = { ipip: 0, gue: 1, gre: 2 };
const TUNNEL_NAMES: TunnelType[] = ['ipip', 'gue', 'gre'];

/** IP_VS_SVC_F_* (include/uapi/linux/ip_vs.h). */
export const SVC_F = { persistent: 0x1, hashed: 0x2, onePacket: 0x4, sched1: 0x8, sched2: 0x10, sched3: 0x20 } as const;
/** IP_VS_TUNNEL_ENCAP_FLAG_*. */
export const TUN_F = { csum: 0x1, remcsum: 0x2 } as const;

export const MAX_WEIGHT = 2147483647; // dest->weight is an int; < 0 is ERANGE
export const MAX_U32 = 4294967295;
/**
 * Connection thresholds are u32 on the wire, but the kernel refuses values above INT_MAX with
 * EINVAL (measured on 6.1; ipvsadm refuses them too), so that is the range lvskit accepts.
 */
export const MAX_THRESHOLD = 2147483647;
/** svc->timeout = timeout * HZ in an unsigned int: with HZ up to 1000 this is the safe maximum. */
export const MAX_PERSISTENCE_TIMEOUT = 4294967;
/** Default persistence timeout when `persistence: {}` gives none: ipvsadm's 360 s (`-p` alone). */
export const DEFAULT_PERSISTENCE_TIMEOUT = 360;
/** Scheduler names the kernel accepts: the known ones plus 'none' (no scheduler bound). */
export const SCHEDULER_NAMES: readonly string[] = [...SCHEDULERS, 'none'];

/** A service identity ready for the encoders. `label` reads like ipvsadm: 'tcp 10.0.0.1:80', 'fwmark 7'. */
export interface WireServiceKey {
  af: number;
  protocol: number;
  address: Buffer;
  port: number;
  fwmark: number;
  label: string;
  /** Canonical identity string, equal for equal services. */
  id: string;
}

export interface WireService extends WireServiceKey {
  scheduler: string;
  pe: string;
  flags: number;
  flagsMask: number;
  timeout: number;
  netmask: number;
}

export interface WireDestKey {
  af: number;
  address: Buffer;
  port: number;
  label: string;
  id: string;
}

export interface WireDest extends WireDestKey {
  forward: number;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  tunnelType: number; // -1 = not sent
  tunnelPort: number;
  tunnelFlags: number; // -1 = not sent
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function requireInt(field: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
    throw new ValidationError(field, v, `must be an integer in ${lo}..${hi}`);
  return v;
}

function optionalBool(field: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new ValidationError(field, v, 'must be a boolean');
  return v;
}

function requireFamily(field: string, v: unknown): AddressFamily | undefined {
  if (v === undefined) return undefined;
  if (v !== 'inet' && v !== 'inet6') throw new ValidationError(field, v, "must be 'inet' or 'inet6'");
  return v;
}

function bytes16(b: Uint8Array): Buffer {
  const out = Buffer.alloc(16);
  out.set(b);
  return out;
}

export function afName(af: number): AddressFamily {
  return af === AF_INET6 ? 'inet6' : 'inet';
}

function hostPort(address: string, af: number, port: number): string {
  return af === AF_INET6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Validates a ServiceKey. */
export function serviceKey(key: unknown, field = 'key'): WireServiceKey {
  if (!isObject(key)) throw new ValidationError(field, key, 'must be { protocol, address, port } or { fwmark }');
  const fam = requireFamily(`${field}.family`, key.family);
  if (key.fwmark !== undefined) {
    const fwmark = requireInt(`${field}.fwmark`, key.fwmark, 1, MAX_U32);
    for (const extra of ['port', 'address', 'protocol'] as const)
      if (key[extra] !== undefined) throw new ValidationError(`${field}.${extra}`, key[extra], `must be absent: a fwmark service (fwmark ${fwmark}) has no ${extra}`);
    const af = fam === 'inet6' ? AF_INET6 : AF_INET;
    const label = `fwmark ${fwmark}${af === AF_INET6 ? ' inet6' : ''}`;
    return { af, protocol: 0, address: Buffer.alloc(16), port: 0, fwmark, label, id: `f/${af}/${fwmark}` };
  }
  if (typeof key.protocol !== 'string' || !(key.protocol in PROTOCOLS))
    throw new ValidationError(`${field}.protocol`, key.protocol, "must be 'tcp', 'udp' or 'sctp' (or give a fwmark instead)");
  const protocol = PROTOCOLS[key.protocol as Protocol];
  const parsed = typeof key.address === 'string' ? parseAddress(key.address) : undefined;
  if (!parsed) throw new ValidationError(`${field}.address`, key.address, 'must be an IPv4 or IPv6 address');
  const af = parsed.family === 6 ? AF_INET6 : AF_INET;
  if (fam !== undefined && fam !== afName(af)) throw new ValidationError(`${field}.family`, fam, `must match the address ${key.address as string} (${afName(af)})`);
  const port = requireInt(`${field}.port`, key.port, 0, 65535);
  const text = formatAddress(parsed.bytes);
  return { af, protocol, address: bytes16(parsed.bytes), port, fwmark: 0, label: `${key.protocol} ${hostPort(text, af, port)}`, id: `s/${af}/${protocol}/${text}/${port}` };
}

/** The identity of a service as read from the kernel, in the same shape. */
export function keyOfRaw(r: RawIpvsService): WireServiceKey {
  if (r.fwmark) {
    const label = `fwmark ${r.fwmark}${r.af === AF_INET6 ? ' inet6' : ''}`;
    return { af: r.af, protocol: 0, address: Buffer.alloc(16), port: 0, fwmark: r.fwmark, label, id: `f/${r.af}/${r.fwmark}` };
  }
  const p = parseAddress(r.address)!;
  const text = formatAddress(p.bytes);
  const proto = PROTOCOL_NAMES[r.protocol] ?? `proto${r.protocol}`;
  return { af: r.af, protocol: r.protocol, address: bytes16(p.bytes), port: r.port, fwmark: 0, label: `${proto} ${hostPort(text, r.af, r.port)}`, id: `s/${r.af}/${r.protocol}/${text}/${r.port}` };
}

/** IPv4 dotted mask (contiguous) or a prefix length -> the mask as a host-order number. */
function ipv4Netmask(field: string, v: unknown): number {
  if (typeof v === 'number') {
    const len = requireInt(field, v, 1, 32);
    return len === 32 ? 0xffffffff : (~(0xffffffff >>> len)) >>> 0;
  }
  const p = typeof v === 'string' ? parseAddress(v) : undefined;
  if (!p || p.family !== 4) throw new ValidationError(field, v, "must be a dotted IPv4 mask such as '255.255.255.0' (or a prefix length 1..32)");
  const n = ((p.bytes[0]! << 24) | (p.bytes[1]! << 16) | (p.bytes[2]! << 8) | p.bytes[3]!) >>> 0;
  const inv = (~n) >>> 0;
  if (n === 0 || (inv & (inv + 1)) !== 0) throw new ValidationError(field, v, 'must be a contiguous, non-zero IPv4 mask');
  return n;
}

export function formatIpv4Mask(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function flagsOf(field: string, f: unknown): number {
  if (f === undefined) return 0;
  if (!isObject(f)) throw new ValidationError(field, f, 'must be an object of booleans');
  const known = ['onePacket', 'schedFallback', 'schedPort', 'sched3'];
  for (const k of Object.keys(f)) if (!known.includes(k)) throw new ValidationError(`${field}.${k}`, f[k], `is not a service flag (known: ${known.join(', ')})`);
  let n = 0;
  if (optionalBool(`${field}.onePacket`, f.onePacket)) n |= SVC_F.onePacket;
  if (optionalBool(`${field}.schedFallback`, f.schedFallback)) n |= SVC_F.sched1;
  if (optionalBool(`${field}.schedPort`, f.schedPort)) n |= SVC_F.sched2;
  if (optionalBool(`${field}.sched3`, f.sched3)) n |= SVC_F.sched3;
  return n;
}

export function schedulerName(field: string, v: unknown): string {
  if (typeof v !== 'string' || !SCHEDULER_NAMES.includes(v))
    throw new ValidationError(field, v, `must be one of ${SCHEDULER_NAMES.join(', ')}`);
  return v;
}

/** Validates a full ServiceSpec (addService, and the result of an edit's merge). */
export function serviceSpec(spec: unknown, field = 'service'): WireService {
  if (!isObject(spec)) throw new ValidationError(field, spec, 'must be an object with a key');
  const key = serviceKey(spec.key, `${field}.key`);
  const scheduler = spec.scheduler === undefined ? 'wlc' : schedulerName(`${field}.scheduler`, spec.scheduler);
  let flags = flagsOf(`${field}.flags`, spec.flags);
  let timeout = 0;
  // Not persistent: the kernel still wants a netmask; ipvsadm sends all-ones / 128.
  let netmask = key.af === AF_INET6 ? 128 : 0xffffffff;
  if (spec.persistence !== undefined) {
    const p = spec.persistence;
    if (!isObject(p)) throw new ValidationError(`${field}.persistence`, p, 'must be { timeout, netmask? }');
    timeout = p.timeout === undefined ? DEFAULT_PERSISTENCE_TIMEOUT : requireInt(`${field}.persistence.timeout`, p.timeout, 1, MAX_PERSISTENCE_TIMEOUT);
    flags |= SVC_F.persistent;
    if (p.netmask !== undefined) {
      netmask = key.af === AF_INET6 ? requireInt(`${field}.persistence.netmask`, p.netmask, 1, 128) : ipv4Netmask(`${field}.persistence.netmask`, p.netmask);
    }
  }
  let pe = '';
  if (spec.persistenceEngine !== undefined && spec.persistenceEngine !== '') {
    if (typeof spec.persistenceEngine !== 'string' || !/^[a-z0-9_]{1,15}$/.test(spec.persistenceEngine))
      throw new ValidationError(`${field}.persistenceEngine`, spec.persistenceEngine, "must be a persistence engine name such as 'sip'");
    pe = spec.persistenceEngine;
  }
  // Every flag the user model controls is written; HASHED (0x2) is the kernel's own.
  const flagsMask = SVC_F.persistent | SVC_F.onePacket | SVC_F.sched1 | SVC_F.sched2 | SVC_F.sched3;
  return { ...key, scheduler, pe, flags, flagsMask, timeout, netmask };
}

/** Validates a destination identity { address, port } against its service. */
export function destKey(d: unknown, service: WireServiceKey, field = 'destination'): WireDestKey {
  if (!isObject(d)) throw new ValidationError(field, d, 'must be an object with address and port');
  const parsed = typeof d.address === 'string' ? parseAddress(d.address) : undefined;
  if (!parsed) throw new ValidationError(`${field}.address`, d.address, 'must be an IPv4 or IPv6 address');
  const af = parsed.family === 6 ? AF_INET6 : AF_INET;
  const fam = requireFamily(`${field}.family`, d.family);
  if (fam !== undefined && fam !== afName(af)) throw new ValidationError(`${field}.family`, fam, `must match the address ${d.address as string} (${afName(af)})`);
  const port = requireInt(`${field}.port`, d.port, 0, 65535);
  const text = formatAddress(parsed.bytes);
  return { af, address: bytes16(parsed.bytes), port, label: hostPort(text, af, port), id: `${af}/${text}/${port}` };
}

export function destKeyOfRaw(r: RawIpvsDest): WireDestKey {
  const p = parseAddress(r.address)!;
  const text = formatAddress(p.bytes);
  return { af: r.af, address: bytes16(p.bytes), port: r.port, label: hostPort(text, r.af, r.port), id: `${r.af}/${text}/${r.port}` };
}

/** Validates a full DestinationSpec for `service`. */
export function destSpec(d: unknown, service: WireServiceKey, field = 'destination'): WireDest {
  const key = destKey(d, service, field);
  const o = d as Record<string, unknown>;
  const fwdName = o.forward === undefined ? 'route' : o.forward;
  if (typeof fwdName !== 'string' || !(fwdName in FORWARD))
    throw new ValidationError(`${field}.forward`, o.forward, `must be one of ${FORWARD_NAMES.join(', ')}`);
  const forward = FORWARD[fwdName as ForwardMethod];
  const weight = o.weight === undefined ? 1 : requireInt(`${field}.weight`, o.weight, 0, MAX_WEIGHT);
  const upperThreshold = o.upperThreshold === undefined ? 0 : requireInt(`${field}.upperThreshold`, o.upperThreshold, 0, MAX_THRESHOLD);
  const lowerThreshold = o.lowerThreshold === undefined ? 0 : requireInt(`${field}.lowerThreshold`, o.lowerThreshold, 0, MAX_THRESHOLD);
  if (lowerThreshold > upperThreshold)
    throw new ValidationError(`${field}.lowerThreshold`, lowerThreshold, `must not exceed upperThreshold (${upperThreshold}); the kernel refuses it with ERANGE`);
  if (key.af !== service.af && fwdName !== 'tunnel')
    throw new ValidationError(`${field}.forward`, fwdName, `must be 'tunnel' for an ${afName(key.af) === 'inet6' ? 'IPv6' : 'IPv4'} destination of an ${afName(service.af) === 'inet6' ? 'IPv6' : 'IPv4'} service`);
  let tunnelType = -1;
  let tunnelPort = 0;
  let tunnelFlags = -1;
  if (o.tunnel !== undefined) {
    if (fwdName !== 'tunnel') throw new ValidationError(`${field}.tunnel`, o.tunnel, `needs forward 'tunnel' (forward is '${fwdName}')`);
    const t = o.tunnel;
    if (!isObject(t)) throw new ValidationError(`${field}.tunnel`, t, 'must be { type, port?, checksum?, remoteChecksum? }');
    if (typeof t.type !== 'string' || !(t.type in TUNNEL)) throw new ValidationError(`${field}.tunnel.type`, t.type, `must be one of ${TUNNEL_NAMES.join(', ')}`);
    tunnelType = TUNNEL[t.type as TunnelType];
    if (t.type === 'gue') {
      tunnelPort = requireInt(`${field}.tunnel.port`, t.port, 1, 65535);
    } else if (t.port !== undefined && t.port !== 0) {
      throw new ValidationError(`${field}.tunnel.port`, t.port, `must be absent: only a gue tunnel has a port (type is '${t.type}')`);
    }
    const csum = optionalBool(`${field}.tunnel.checksum`, t.checksum);
    const remcsum = optionalBool(`${field}.tunnel.remoteChecksum`, t.remoteChecksum);
    if (t.type === 'ipip' && (csum || remcsum)) throw new ValidationError(`${field}.tunnel.checksum`, true, "is not available for an ipip tunnel (gue or gre only)");
    if (t.type === 'gre' && remcsum) throw new ValidationError(`${field}.tunnel.remoteChecksum`, true, 'is available for gue tunnels only');
    if (csum && remcsum) throw new ValidationError(`${field}.tunnel.remoteChecksum`, true, 'excludes checksum: pick one');
    const flags = (csum ? TUN_F.csum : 0) | (remcsum ? TUN_F.remcsum : 0);
    tunnelFlags = t.type === 'ipip' ? -1 : flags;
  } else if (fwdName === 'tunnel') {
    tunnelType = TUNNEL.ipip;
  }
  return { ...key, forward, weight, upperThreshold, lowerThreshold, tunnelType, tunnelPort, tunnelFlags };
}

export function timeoutsOf(t: unknown, field = 'timeouts'): { tcp: number; tcpFin: number; udp: number } {
  if (!isObject(t)) throw new ValidationError(field, t, 'must be { tcp?, tcpFin?, udp? } in seconds');
  const known = ['tcp', 'tcpFin', 'udp'];
  for (const k of Object.keys(t)) if (!known.includes(k)) throw new ValidationError(`${field}.${k}`, t[k], `is not a timeout (known: ${known.join(', ')})`);
  const get = (k: string) => (t[k] === undefined ? 0 : requireInt(`${field}.${k}`, t[k], 0, 2147483));
  return { tcp: get('tcp'), tcpFin: get('tcpFin'), udp: get('udp') };
}

export interface WireDaemon {
  state: number;
  iface: string;
  syncId: number;
  maxLength: number;
  groupAf: number;
  group: Buffer | null;
  port: number;
  ttl: number;
}

export function daemonState(field: string, v: unknown): number {
  if (v === 'master') return 1;
  if (v === 'backup') return 2;
  throw new ValidationError(field, v, "must be 'master' or 'backup'");
}

export function daemonOf(d: unknown, field = 'daemon'): WireDaemon {
  if (!isObject(d)) throw new ValidationError(field, d, 'must be { state, interface, syncId, ... }');
  const state = daemonState(`${field}.state`, d.state);
  if (typeof d.interface !== 'string' || !/^[^\0/\s]{1,15}$/.test(d.interface))
    throw new ValidationError(`${field}.interface`, d.interface, 'must be an interface name of 1..15 bytes');
  const syncId = d.syncId === undefined ? 0 : requireInt(`${field}.syncId`, d.syncId, 0, 255);
  // ip_vs_sync.c clamps maxlen to the interface MTU; 0 = the kernel's default.
  const maxLength = d.maxLength === undefined ? 0 : requireInt(`${field}.maxLength`, d.maxLength, 1, 65535);
  let groupAf = 0;
  let group: Buffer | null = null;
  if (d.group !== undefined) {
    const p = typeof d.group === 'string' ? parseAddress(d.group) : undefined;
    const multicast = p && (p.family === 4 ? (p.bytes[0]! & 0xf0) === 0xe0 : p.bytes[0] === 0xff);
    if (!p || !multicast) throw new ValidationError(`${field}.group`, d.group, 'must be an IPv4 (224.0.0.0/4) or IPv6 (ff00::/8) multicast address');
    groupAf = p.family === 6 ? AF_INET6 : AF_INET;
    group = Buffer.from(p.bytes);
  }
  const port = d.port === undefined ? 0 : requireInt(`${field}.port`, d.port, 1, 65535);
  const ttl = d.ttl === undefined ? 0 : requireInt(`${field}.ttl`, d.ttl, 1, 255);
  return { state, iface: d.interface, syncId, maxLength, groupAf, group, port, ttl };
}

// ---- bulk fast path ---------------------------------------------------------------------------
//
// Ipvs.batch() of 10k services x 4 destinations spent most of its time in serviceKey / destSpec
// (a Uint8Array, a Buffer, an address string, a label and an id per item, then an object spread)
// and in one ~19-argument native call per item. Items of the common shape (IPv4 service with
// protocol, address and port, no persistence, no flags, no persistence engine; IPv4 destination
// without tunnel) are instead checked here without allocating and written as rows of a
// Uint32Array that one native call (ipvsEncodeMany) encodes. The fast path only accepts what
// serviceSpec / destSpec accept and produces the same requests; anything else (or anything
// invalid) goes through them, so every ValidationError comes from the same code, same text.

/** u32 per row: ipvs_binding.cc kIpvsRowStride. */
export const IPVS_ROW = 10;
/** IP_VS_SVC_F_* a service spec controls (serviceSpec's flagsMask). */
const SPEC_FLAGS_MASK = SVC_F.persistent | SVC_F.onePacket | SVC_F.sched1 | SVC_F.sched2 | SVC_F.sched3;
const hasOwn = Object.prototype.hasOwnProperty;

function fastPort(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535;
}

/** An IPv4 { protocol, address, port } key: row words 1..3. False: leave it to serviceKey. */
function fastKey(key: unknown, rows: Uint32Array, o: number): boolean {
  if (typeof key !== 'object' || key === null || Array.isArray(key)) return false;
  const k = key as Record<string, unknown>;
  if (k.fwmark !== undefined || (k.family !== undefined && k.family !== 'inet')) return false;
  const p = k.protocol;
  const protocol = p === 'tcp' ? 6 : p === 'udp' ? 17 : p === 'sctp' ? 132 : -1;
  if (protocol < 0) return false;
  const a = k.address;
  if (typeof a !== 'string') return false;
  const be = ipv4Value(a);
  if (be < 0 || !fastPort(k.port)) return false;
  rows[o + 1] = protocol;
  rows[o + 2] = ipv4RowWord(be);
  rows[o + 3] = k.port as number;
  return true;
}

/** Checks an addService spec for the fast path and writes its row at i. False: use serviceSpec. */
export function fastService(spec: unknown, rows: Uint32Array, i: number): boolean {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) return false;
  const s = spec as Record<string, unknown>;
  if (s.flags !== undefined || s.persistence !== undefined || (s.persistenceEngine !== undefined && s.persistenceEngine !== '')) return false;
  let sched = 0;
  if (s.scheduler === undefined) sched = SCHEDULER_NAMES.indexOf('wlc');
  else if (typeof s.scheduler !== 'string' || (sched = SCHEDULER_NAMES.indexOf(s.scheduler)) < 0) return false;
  const o = i * IPVS_ROW;
  if (!fastKey(s.key, rows, o)) return false;
  rows[o] = 0;
  rows[o + 4] = sched;
  rows[o + 5] = 0;
  rows[o + 6] = SPEC_FLAGS_MASK;
  rows[o + 7] = 0;
  rows[o + 8] = 0xffffffff;
  rows[o + 9] = 0;
  return true;
}

function fastCount(v: unknown, dflt: number, max: number): number {
  if (v === undefined) return dflt;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max ? v : -1;
}

/** Checks an addDestination (service, spec) for the fast path and writes its row at i. False: use destSpec. */
export function fastDest(service: unknown, d: unknown, rows: Uint32Array, i: number): boolean {
  if (typeof d !== 'object' || d === null || Array.isArray(d)) return false;
  const x = d as Record<string, unknown>;
  if (x.tunnel !== undefined || (x.family !== undefined && x.family !== 'inet')) return false;
  const a = x.address;
  if (typeof a !== 'string') return false;
  const be = ipv4Value(a);
  if (be < 0 || !fastPort(x.port)) return false;
  let forward = FORWARD.route;
  if (x.forward !== undefined) {
    if (typeof x.forward !== 'string' || x.forward === 'tunnel' || !hasOwn.call(FORWARD, x.forward)) return false;
    forward = FORWARD[x.forward as ForwardMethod];
  }
  const weight = fastCount(x.weight, 1, MAX_WEIGHT);
  const upper = fastCount(x.upperThreshold, 0, MAX_THRESHOLD);
  const lower = fastCount(x.lowerThreshold, 0, MAX_THRESHOLD);
  if (weight < 0 || upper < 0 || lower < 0 || lower > upper) return false;
  const o = i * IPVS_ROW;
  if (!fastKey(service, rows, o)) return false;
  rows[o] = 1;
  rows[o + 4] = ipv4RowWord(be);
  rows[o + 5] = x.port as number;
  rows[o + 6] = forward;
  rows[o + 7] = weight;
  rows[o + 8] = upper;
  rows[o + 9] = lower;
  return true;
}

// ---- kernel -> public model -------------------------------------------------------------------

function statsOf(s: RawIpvsStats | undefined): Stats | undefined {
  return s; // the decoder already builds a fresh object of exactly this shape
}

/** inet_ntop's IPv4 text is already canonical; IPv6 goes through the shared RFC 5952 formatter. */
function canonical(address: string): string {
  return address.includes(':') ? (canonicalAddress(address) ?? address) : address;
}

export function serviceOf(r: RawIpvsService): Service {
  const family = afName(r.af);
  const key: ServiceKey = r.fwmark
    ? { fwmark: r.fwmark, family }
    : { protocol: PROTOCOL_NAMES[r.protocol] ?? ('tcp' as Protocol), address: canonical(r.address), port: r.port, family };
  const flags: Service['flags'] = {
    persistent: (r.flags & SVC_F.persistent) !== 0,
    hashed: (r.flags & SVC_F.hashed) !== 0,
    onePacket: (r.flags & SVC_F.onePacket) !== 0,
    schedFallback: (r.flags & SVC_F.sched1) !== 0,
    schedPort: (r.flags & SVC_F.sched2) !== 0,
    sched3: (r.flags & SVC_F.sched3) !== 0,
  };
  const s: Service = { key, family, scheduler: r.scheduler, flags };
  if (flags.persistent) s.persistence = { timeout: r.timeout, netmask: r.af === AF_INET6 ? r.netmask : formatIpv4Mask(r.netmask) };
  if (r.pe) s.persistenceEngine = r.pe;
  const st = statsOf(r.stats);
  if (st) s.stats = st;
  return s;
}

export function destinationOf(r: RawIpvsDest): Destination {
  const forward = FORWARD_NAMES[r.forward] ?? 'route';
  const d: Destination = {
    address: canonical(r.address),
    port: r.port,
    family: afName(r.af),
    forward,
    weight: r.weight,
    upperThreshold: r.upperThreshold,
    lowerThreshold: r.lowerThreshold,
    activeConnections: r.activeConnections,
    inactiveConnections: r.inactiveConnections,
    persistentConnections: r.persistentConnections,
  };
  if (forward === 'tunnel') {
    const type = TUNNEL_NAMES[r.tunnelType] ?? 'ipip';
    const t: TunnelOptions = { type };
    if (type === 'gue') t.port = r.tunnelPort;
    if (type !== 'ipip') {
      t.checksum = (r.tunnelFlags & TUN_F.csum) !== 0;
      t.remoteChecksum = (r.tunnelFlags & TUN_F.remcsum) !== 0;
    }
    d.tunnel = t;
  }
  const st = statsOf(r.stats);
  if (st) d.stats = st;
  return d;
}

/** Numbers per destination row of ipvsDecodeDestColumns (ipvs_binding.cc kDestCols). */
export const DEST_COLS = 14;

/** inet_ntop's text of row r's address, canonical as destinationOf writes it. */
function addressOfColumns(af: number, addrs: Uint8Array, r: number): string {
  const o = r * 16;
  if (af !== AF_INET6) return `${addrs[o]}.${addrs[o + 1]}.${addrs[o + 2]}.${addrs[o + 3]}`;
  return formatAddress(addrs.subarray(o, o + 16));
}

/** destinationOf of row r of ipvsDecodeDestColumns' columns: the same object, same property order. */
export function destinationOfColumns(nums: Float64Array, addrs: Uint8Array, stats: BigUint64Array, r: number): Destination {
  const n = r * DEST_COLS;
  const af = nums[n]!;
  const forward = FORWARD_NAMES[nums[n + 2]!] ?? 'route';
  const d: Destination = {
    address: addressOfColumns(af, addrs, r),
    port: nums[n + 1]!,
    family: afName(af),
    forward,
    weight: nums[n + 3]!,
    upperThreshold: nums[n + 4]!,
    lowerThreshold: nums[n + 5]!,
    activeConnections: nums[n + 6]!,
    inactiveConnections: nums[n + 7]!,
    persistentConnections: nums[n + 8]!,
  };
  if (forward === 'tunnel') {
    const type = TUNNEL_NAMES[nums[n + 9]!] ?? 'ipip';
    const t: TunnelOptions = { type };
    if (type === 'gue') t.port = nums[n + 10]!;
    if (type !== 'ipip') {
      const flags = nums[n + 11]!;
      t.checksum = (flags & TUN_F.csum) !== 0;
      t.remoteChecksum = (flags & TUN_F.remcsum) !== 0;
    }
    d.tunnel = t;
  }
  if (nums[n + 13]) {
    const s = r * 10;
    d.stats = {
      connections: stats[s]!,
      packetsIn: stats[s + 1]!,
      packetsOut: stats[s + 2]!,
      bytesIn: stats[s + 3]!,
      bytesOut: stats[s + 4]!,
      cps: stats[s + 5]!,
      ppsIn: stats[s + 6]!,
      ppsOut: stats[s + 7]!,
      bpsIn: stats[s + 8]!,
      bpsOut: stats[s + 9]!,
    };
  }
  return d;
}

/** The WireDest (what a SET_DEST/NEW_DEST re-sends) of a destination decoded per message. */
export function wireOfRawDest(r: RawIpvsDest): WireDest {
  const k = destKeyOfRaw(r);
  const hasTun = (r.seen & IpvsSeen.TunType) !== 0;
  return {
    ...k,
    forward: r.forward,
    weight: r.weight,
    upperThreshold: r.upperThreshold,
    lowerThreshold: r.lowerThreshold,
    tunnelType: hasTun ? r.tunnelType : -1,
    tunnelPort: hasTun ? r.tunnelPort : 0,
    tunnelFlags: (r.seen & IpvsSeen.TunFlags) !== 0 ? r.tunnelFlags : -1,
  };
}

/**
 * The WireDest (what a SET_DEST/NEW_DEST re-sends) of row r of ipvsDecodeDestColumns' columns:
 * wireOfRawDest's result without building the public object first (batch edits merge against it).
 * Column 12 holds the attributes' IpvsSeen bits.
 */
export function wireDestOfColumns(nums: Float64Array, addrs: Uint8Array, r: number): WireDest {
  const n = r * DEST_COLS;
  const af = nums[n]!;
  const port = nums[n + 1]!;
  const text = addressOfColumns(af, addrs, r);
  const seen = nums[n + 12]!;
  const hasTun = (seen & IpvsSeen.TunType) !== 0;
  return {
    af,
    address: bytes16(addrs.subarray(r * 16, r * 16 + (af === AF_INET6 ? 16 : 4))), // v4: the rest zero, as destKey makes it
    port,
    label: hostPort(text, af, port),
    id: `${af}/${text}/${port}`,
    forward: nums[n + 2]!,
    weight: nums[n + 3]!,
    upperThreshold: nums[n + 4]!,
    lowerThreshold: nums[n + 5]!,
    tunnelType: hasTun ? nums[n + 9]! : -1,
    tunnelPort: hasTun ? nums[n + 10]! : 0,
    tunnelFlags: (seen & IpvsSeen.TunFlags) !== 0 ? nums[n + 11]! : -1,
  };
}

export function daemonOfRaw(r: RawIpvsDaemon): SyncDaemon {
  const d: SyncDaemon = { state: r.state === 2 ? 'backup' : 'master', interface: r.interface, syncId: r.syncId };
  if (r.maxLength) d.maxLength = r.maxLength;
  if (r.group) d.group = canonicalAddress(r.group) ?? r.group;
  if (r.port) d.port = r.port;
  if (r.ttl) d.ttl = r.ttl;
  return d;
}

/** The public ServiceSpec that recreates a service read from the kernel (for merges and undo). */
export function specOfService(s: Service): ServiceSpec {
  const flags: ServiceFlags = {};
  if (s.flags.onePacket) flags.onePacket = true;
  if (s.flags.schedFallback) flags.schedFallback = true;
  if (s.flags.schedPort) flags.schedPort = true;
  if (s.flags.sched3) flags.sched3 = true;
  const spec: ServiceSpec = { key: s.key, scheduler: s.scheduler as ServiceSpec['scheduler'], flags };
  if (s.persistence) spec.persistence = { ...s.persistence };
  if (s.persistenceEngine) spec.persistenceEngine = s.persistenceEngine;
  return spec;
}

/** The public DestinationSpec that recreates a destination read from the kernel. */
export function specOfDestination(d: Destination): DestinationSpec {
  const spec: DestinationSpec = {
    address: d.address,
    port: d.port,
    family: d.family,
    forward: d.forward,
    weight: d.weight,
    upperThreshold: d.upperThreshold,
    lowerThreshold: d.lowerThreshold,
  };
  if (d.tunnel) spec.tunnel = { ...d.tunnel };
  return spec;
}

export type { Timeouts };
