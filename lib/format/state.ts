// The lossless desired/actual state of a director, as plain data (JSON): IPVS services with their
// destinations (thresholds and tunnels included), timeouts, sync daemons, and the director's
// addresses and routes. This is what `lvskit save --json` writes, what apply() reaches and what
// docs/state.schema.json (a copy of lib/format/schema.json) describes.
//
// Sections are independent: a section that is absent is not managed (apply() leaves it alone); a
// section that is present is the whole truth (`services: []` means "no services").
import { clip, EXCERPT_WIDTH } from './excerpt.js';
import { ValidationError, describeValue } from '../errors.js';
import { canonicalAddress, parseAddress, parsePrefix, formatAddress, maskAddress } from '../rtnl/ip.js';
import {
  SCHEDULERS,
  type AddressFamily,
  type DestinationSpec,
  type ForwardMethod,
  type Protocol,
  type Service,
  type ServiceKey,
  type ServiceSpec,
  type SyncDaemon,
  type Timeouts,
  type TunnelOptions,
} from '../ipvs/types.js';
import type { NftTableDefinition } from '../nft/types.js';

export const STATE_FORMAT = 'lvskit-state';
export const STATE_VERSION = 1;

/** A destination in a state file: DestinationSpec (defaults: route, weight 1, thresholds 0). */
export type StateDestination = DestinationSpec;

/** A service with the destinations it should have. */
export interface StateService extends ServiceSpec {
  /** Absent or [] = no destinations. Order does not matter (apply() adds in canonical order). */
  destinations?: StateDestination[];
}

/** An address on an interface ('ip addr add 10.0.0.1/32 dev lo'). */
export interface StateAddress {
  interface: string;
  /** ADDR/LEN ('10.0.0.1/32'); a bare address means /32 or /128. */
  address: string;
}

export interface StateNextHop {
  gateway?: string;
  interface?: string;
  /** 1..256, default 1. */
  weight?: number;
}

/** A route ('ip route add 10.1.0.0/24 via 192.0.2.1 dev eth0 table 100 metric 10'). */
export interface StateRoute {
  /** NET/LEN, or 'default'. */
  destination: string;
  gateway?: string;
  interface?: string;
  /** Default 254 (main). */
  table?: number;
  metric?: number;
  /** ECMP: several next hops (then gateway/interface are not used). */
  nexthops?: StateNextHop[];
}

export interface LvsState {
  format?: typeof STATE_FORMAT;
  version?: typeof STATE_VERSION;
  services?: StateService[];
  /** Seconds; a field left out is not managed. */
  timeouts?: Partial<Timeouts>;
  syncDaemons?: SyncDaemon[];
  addresses?: StateAddress[];
  routes?: StateRoute[];
  /**
   * nf_tables tables lvskit owns, each the whole truth of its table (apply() installs a table
   * that differs with Nft.replaceTable, atomically). Tables not listed are not touched.
   */
  nftables?: NftTableDefinition[];
}

// ---- identity --------------------------------------------------------------------------------

function familyOfAddress(address: string): AddressFamily {
  return address.includes(':') ? 'inet6' : 'inet';
}

/** The service's address family (a fwmark service says it, else its address does). */
export function serviceFamily(key: ServiceKey): AddressFamily {
  if ('fwmark' in key) return key.family ?? 'inet';
  return key.family ?? familyOfAddress(key.address);
}

/** A stable text id of a service key: 'tcp 10.0.0.1:80', 'udp [2001:db8::1]:53', 'fwmark 1', 'fwmark 1 inet6'. */
export function serviceId(key: ServiceKey): string {
  if ('fwmark' in key) return serviceFamily(key) === 'inet6' ? `fwmark ${key.fwmark} inet6` : `fwmark ${key.fwmark}`;
  const a = canonicalAddress(key.address) ?? key.address;
  return `${key.protocol} ${a.includes(':') ? `[${a}]` : a}:${key.port}`;
}

/** A stable text id of a destination within its service: '10.1.0.1:80', '[2001:db8::2]:80'. */
export function destinationId(d: { address: string; port: number }): string {
  const a = canonicalAddress(d.address) ?? d.address;
  return `${a.includes(':') ? `[${a}]` : a}:${d.port}`;
}

// ---- normal forms: every default filled, so two specs that mean the same compare equal ---------

export interface NormalService {
  key: ServiceKey;
  family: AddressFamily;
  scheduler: string;
  onePacket: boolean;
  schedFallback: boolean;
  schedPort: boolean;
  sched3: boolean;
  /** 0 = not persistent. */
  persistenceTimeout: number;
  /** IPv4 dotted mask or IPv6 prefix length; the all-ones default when not persistent. */
  netmask: string | number;
  persistenceEngine: string;
}

export interface NormalDestination {
  address: string;
  port: number;
  family: AddressFamily;
  forward: ForwardMethod;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  /** 'ipip' | 'gue' | 'gre' for tunnels, '' otherwise. */
  tunnelType: string;
  tunnelPort: number;
  tunnelChecksum: boolean;
  tunnelRemoteChecksum: boolean;
}

function canonicalKey(key: ServiceKey): ServiceKey {
  if ('fwmark' in key) return { fwmark: key.fwmark, family: serviceFamily(key) };
  return { protocol: key.protocol, address: canonicalAddress(key.address) ?? key.address, port: key.port, family: serviceFamily(key) };
}

function canonicalNetmask(family: AddressFamily, netmask: string | number | undefined): string | number {
  if (family === 'inet6') return netmask === undefined ? 128 : Number(netmask);
  if (netmask === undefined) return '255.255.255.255';
  if (typeof netmask === 'number') {
    // a prefix length given for IPv4: the mask it means
    const b = maskAddress(new Uint8Array([255, 255, 255, 255]), netmask);
    return formatAddress(b);
  }
  return canonicalAddress(netmask) ?? netmask;
}

export function normalizeService(s: ServiceSpec): NormalService {
  const family = serviceFamily(s.key);
  const f = s.flags ?? {};
  return {
    key: canonicalKey(s.key),
    family,
    scheduler: s.scheduler ?? 'wlc',
    onePacket: f.onePacket === true,
    schedFallback: f.schedFallback === true,
    schedPort: f.schedPort === true,
    sched3: f.sched3 === true,
    persistenceTimeout: s.persistence ? s.persistence.timeout ?? 300 : 0,
    netmask: s.persistence ? canonicalNetmask(family, s.persistence.netmask) : canonicalNetmask(family, undefined),
    persistenceEngine: s.persistenceEngine ?? '',
  };
}

export function normalizeDestination(d: DestinationSpec): NormalDestination {
  const forward = d.forward ?? 'route';
  const t: TunnelOptions | undefined = forward === 'tunnel' ? d.tunnel ?? { type: 'ipip' } : undefined;
  const address = canonicalAddress(d.address) ?? d.address;
  return {
    address,
    port: d.port,
    family: d.family ?? familyOfAddress(address),
    forward,
    weight: d.weight ?? 1,
    upperThreshold: d.upperThreshold ?? 0,
    lowerThreshold: d.lowerThreshold ?? 0,
    tunnelType: t ? t.type : '',
    tunnelPort: t && t.type === 'gue' ? t.port ?? 0 : 0,
    tunnelChecksum: t ? t.type !== 'ipip' && t.checksum === true : false,
    tunnelRemoteChecksum: t ? t.type !== 'ipip' && t.remoteChecksum === true : false,
  };
}

/** Back from a normal form to the plain spec (only non-default fields, for compact JSON). */
export function serviceSpecOf(n: NormalService): ServiceSpec {
  const spec: ServiceSpec = { key: n.key, scheduler: n.scheduler as ServiceSpec['scheduler'] };
  const flags: NonNullable<ServiceSpec['flags']> = {};
  if (n.onePacket) flags.onePacket = true;
  if (n.schedFallback) flags.schedFallback = true;
  if (n.schedPort) flags.schedPort = true;
  if (n.sched3) flags.sched3 = true;
  if (Object.keys(flags).length) spec.flags = flags;
  if (n.persistenceTimeout > 0) {
    spec.persistence = { timeout: n.persistenceTimeout };
    const dflt = n.family === 'inet6' ? 128 : '255.255.255.255';
    if (n.netmask !== dflt) spec.persistence.netmask = n.netmask;
  }
  if (n.persistenceEngine) spec.persistenceEngine = n.persistenceEngine;
  return spec;
}

export function destinationSpecOf(n: NormalDestination, serviceFamilyName?: AddressFamily): DestinationSpec {
  const d: DestinationSpec = { address: n.address, port: n.port, forward: n.forward, weight: n.weight };
  if (n.upperThreshold) d.upperThreshold = n.upperThreshold;
  if (n.lowerThreshold) d.lowerThreshold = n.lowerThreshold;
  if (n.forward === 'tunnel') {
    const t: TunnelOptions = { type: n.tunnelType as TunnelOptions['type'] };
    if (n.tunnelType === 'gue') t.port = n.tunnelPort;
    if (n.tunnelChecksum) t.checksum = true;
    if (n.tunnelRemoteChecksum) t.remoteChecksum = true;
    d.tunnel = t;
  }
  if (serviceFamilyName && n.family !== serviceFamilyName) d.family = n.family;
  return d;
}

/** The state of services read from the kernel (Ipvs.listAll()), without counters and stats. */
export function stateServicesOf(services: readonly Service[]): StateService[] {
  return services.map((s) => {
    const spec = serviceSpecOf(
      normalizeService({
        key: s.key,
        scheduler: s.scheduler as ServiceSpec['scheduler'],
        flags: s.flags,
        ...(s.persistence ? { persistence: s.persistence } : {}),
        ...(s.persistenceEngine ? { persistenceEngine: s.persistenceEngine } : {}),
      }),
    );
    const fam = serviceFamily(s.key);
    return { ...spec, destinations: (s.destinations ?? []).map((d) => destinationSpecOf(normalizeDestination(d), fam)) };
  });
}

// ---- validation (the same rules as schema.json, with messages naming the path) ----------------

const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp', 'sctp'];
const FORWARDS: readonly ForwardMethod[] = ['masq', 'local', 'tunnel', 'route', 'bypass'];
const MAX_TIMEOUT = 86400 * 31;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function only(path: string, o: Record<string, unknown>, keys: readonly string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw new ValidationError(`${path}.${k}`, o[k], `is not a known field (known: ${keys.join(', ')})`);
}

function int(path: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new ValidationError(path, v, `must be an integer in ${lo}..${hi}`);
  return v;
}

function bool(path: string, v: unknown): void {
  if (v !== undefined && typeof v !== 'boolean') throw new ValidationError(path, v, 'must be a boolean');
}

function addr(path: string, v: unknown, family?: AddressFamily): string {
  const p = typeof v === 'string' ? parseAddress(v) : undefined;
  if (!p) throw new ValidationError(path, v, 'must be an IPv4 or IPv6 address');
  if (family && (p.family === 6) !== (family === 'inet6')) throw new ValidationError(path, v, `must be an ${family === 'inet6' ? 'IPv6' : 'IPv4'} address`);
  return v as string;
}

function validateKey(path: string, k: unknown): ServiceKey {
  if (!isObj(k)) throw new ValidationError(path, k, 'must be { protocol, address, port } or { fwmark }');
  if (k.family !== undefined && k.family !== 'inet' && k.family !== 'inet6') throw new ValidationError(`${path}.family`, k.family, "must be 'inet' or 'inet6'");
  if ('fwmark' in k) {
    only(path, k, ['fwmark', 'family']);
    int(`${path}.fwmark`, k.fwmark, 1, 0xffffffff);
    return k as ServiceKey;
  }
  only(path, k, ['protocol', 'address', 'port', 'family']);
  if (!PROTOCOLS.includes(k.protocol as Protocol)) throw new ValidationError(`${path}.protocol`, k.protocol, `must be one of ${PROTOCOLS.join(', ')}`);
  addr(`${path}.address`, k.address, k.family as AddressFamily | undefined);
  int(`${path}.port`, k.port, 0, 65535);
  return k as ServiceKey;
}

function validateDestination(path: string, d: unknown, svcFamily: AddressFamily): void {
  if (!isObj(d)) throw new ValidationError(path, d, 'must be an object');
  only(path, d, ['address', 'port', 'forward', 'weight', 'upperThreshold', 'lowerThreshold', 'tunnel', 'family']);
  if (d.family !== undefined && d.family !== 'inet' && d.family !== 'inet6') throw new ValidationError(`${path}.family`, d.family, "must be 'inet' or 'inet6'");
  addr(`${path}.address`, d.address, d.family as AddressFamily | undefined);
  int(`${path}.port`, d.port, 0, 65535);
  if (d.forward !== undefined && !FORWARDS.includes(d.forward as ForwardMethod)) throw new ValidationError(`${path}.forward`, d.forward, `must be one of ${FORWARDS.join(', ')}`);
  if (d.weight !== undefined) int(`${path}.weight`, d.weight, 0, 2147483647);
  if (d.upperThreshold !== undefined) int(`${path}.upperThreshold`, d.upperThreshold, 0, 0xffffffff);
  if (d.lowerThreshold !== undefined) int(`${path}.lowerThreshold`, d.lowerThreshold, 0, 0xffffffff);
  if (((d.lowerThreshold as number) ?? 0) > ((d.upperThreshold as number) ?? 0) && ((d.upperThreshold as number) ?? 0) !== 0)
    throw new ValidationError(`${path}.lowerThreshold`, d.lowerThreshold, `must not exceed upperThreshold (${String(d.upperThreshold)})`);
  const fam = familyOfAddress(d.address as string);
  if (fam !== svcFamily && (d.forward ?? 'route') !== 'tunnel')
    throw new ValidationError(`${path}.forward`, d.forward, "must be 'tunnel' for a destination of another address family than its service");
  if (d.tunnel !== undefined) {
    const t = d.tunnel;
    if ((d.forward ?? 'route') !== 'tunnel') throw new ValidationError(`${path}.tunnel`, t, "needs forward 'tunnel'");
    if (!isObj(t)) throw new ValidationError(`${path}.tunnel`, t, 'must be { type, port?, checksum?, remoteChecksum? }');
    only(`${path}.tunnel`, t, ['type', 'port', 'checksum', 'remoteChecksum']);
    if (t.type !== 'ipip' && t.type !== 'gue' && t.type !== 'gre') throw new ValidationError(`${path}.tunnel.type`, t.type, "must be 'ipip', 'gue' or 'gre'");
    if (t.type === 'gue') int(`${path}.tunnel.port`, t.port, 1, 65535);
    else if (t.port !== undefined && t.port !== 0) throw new ValidationError(`${path}.tunnel.port`, t.port, 'is only for gue tunnels');
    bool(`${path}.tunnel.checksum`, t.checksum);
    bool(`${path}.tunnel.remoteChecksum`, t.remoteChecksum);
    if (t.type === 'ipip' && (t.checksum || t.remoteChecksum)) throw new ValidationError(`${path}.tunnel`, t, 'checksum options need a gue or gre tunnel');
    if (t.type === 'gre' && t.remoteChecksum) throw new ValidationError(`${path}.tunnel.remoteChecksum`, t.remoteChecksum, 'is only for gue tunnels');
  }
}

function validateService(path: string, s: unknown): void {
  if (!isObj(s)) throw new ValidationError(path, s, 'must be an object');
  only(path, s, ['key', 'scheduler', 'flags', 'persistence', 'persistenceEngine', 'destinations']);
  const key = validateKey(`${path}.key`, s.key);
  const fam = serviceFamily(key);
  if (s.scheduler !== undefined && !(SCHEDULERS as readonly string[]).includes(s.scheduler as string) && s.scheduler !== 'none')
    throw new ValidationError(`${path}.scheduler`, s.scheduler, `must be one of ${SCHEDULERS.join(', ')}, none`);
  if (s.flags !== undefined) {
    if (!isObj(s.flags)) throw new ValidationError(`${path}.flags`, s.flags, 'must be an object of booleans');
    only(`${path}.flags`, s.flags, ['onePacket', 'schedFallback', 'schedPort', 'sched3']);
    for (const [k, v] of Object.entries(s.flags)) bool(`${path}.flags.${k}`, v);
  }
  if (s.persistence !== undefined) {
    const p = s.persistence;
    if (!isObj(p)) throw new ValidationError(`${path}.persistence`, p, 'must be { timeout, netmask? }');
    only(`${path}.persistence`, p, ['timeout', 'netmask']);
    int(`${path}.persistence.timeout`, p.timeout, 1, MAX_TIMEOUT);
    if (p.netmask !== undefined) {
      if (fam === 'inet6') int(`${path}.persistence.netmask`, p.netmask, 1, 128);
      else if (typeof p.netmask !== 'string' || !parseAddress(p.netmask) || parseAddress(p.netmask)!.family !== 4)
        throw new ValidationError(`${path}.persistence.netmask`, p.netmask, "must be a dotted IPv4 mask such as '255.255.255.0'");
    }
  }
  if (s.persistenceEngine !== undefined && (typeof s.persistenceEngine !== 'string' || !/^[a-z0-9_]{0,15}$/.test(s.persistenceEngine)))
    throw new ValidationError(`${path}.persistenceEngine`, s.persistenceEngine, "must be a persistence engine name such as 'sip'");
  if (s.destinations !== undefined) {
    if (!Array.isArray(s.destinations)) throw new ValidationError(`${path}.destinations`, s.destinations, 'must be an array');
    const seen = new Set<string>();
    s.destinations.forEach((d, i) => {
      validateDestination(`${path}.destinations[${i}]`, d, fam);
      const id = destinationId(d as DestinationSpec);
      if (seen.has(id)) throw new ValidationError(`${path}.destinations[${i}]`, id, 'is listed twice');
      seen.add(id);
    });
  }
}

/**
 * Checks that `value` is an LvsState (as parsed from JSON) and returns it typed. Throws a
 * ValidationError naming the path of the first problem ('services[2].destinations[0].weight').
 */
export function validateState(value: unknown): LvsState {
  if (!isObj(value)) throw new ValidationError('state', value, 'must be an object');
  only('state', value, ['$schema', 'format', 'version', 'services', 'timeouts', 'syncDaemons', 'addresses', 'routes', 'nftables']);
  if (value.format !== undefined && value.format !== STATE_FORMAT) throw new ValidationError('format', value.format, `must be '${STATE_FORMAT}'`);
  if (value.version !== undefined && value.version !== STATE_VERSION) throw new ValidationError('version', value.version, `must be ${STATE_VERSION} (this lvskit reads version ${STATE_VERSION})`);
  if (value.services !== undefined) {
    if (!Array.isArray(value.services)) throw new ValidationError('services', value.services, 'must be an array');
    const seen = new Set<string>();
    value.services.forEach((s, i) => {
      validateService(`services[${i}]`, s);
      const id = serviceId((s as StateService).key);
      if (seen.has(id)) throw new ValidationError(`services[${i}].key`, id, 'is listed twice');
      seen.add(id);
    });
  }
  if (value.timeouts !== undefined) {
    const t = value.timeouts;
    if (!isObj(t)) throw new ValidationError('timeouts', t, 'must be { tcp?, tcpFin?, udp? }');
    only('timeouts', t, ['tcp', 'tcpFin', 'udp']);
    for (const k of ['tcp', 'tcpFin', 'udp']) if (t[k] !== undefined) int(`timeouts.${k}`, t[k], 1, MAX_TIMEOUT);
  }
  if (value.syncDaemons !== undefined) {
    if (!Array.isArray(value.syncDaemons)) throw new ValidationError('syncDaemons', value.syncDaemons, 'must be an array');
    const states = new Set<string>();
    value.syncDaemons.forEach((d, i) => {
      const p = `syncDaemons[${i}]`;
      if (!isObj(d)) throw new ValidationError(p, d, 'must be an object');
      only(p, d, ['state', 'interface', 'syncId', 'maxLength', 'group', 'port', 'ttl']);
      if (d.state !== 'master' && d.state !== 'backup') throw new ValidationError(`${p}.state`, d.state, "must be 'master' or 'backup'");
      if (states.has(d.state)) throw new ValidationError(`${p}.state`, d.state, 'has a second daemon of this state (the kernel runs at most one master and one backup)');
      states.add(d.state);
      if (typeof d.interface !== 'string' || !/^[^\s/]{1,15}$/.test(d.interface)) throw new ValidationError(`${p}.interface`, d.interface, 'must be an interface name (1..15 characters)');
      int(`${p}.syncId`, d.syncId, 0, 255);
      if (d.maxLength !== undefined) int(`${p}.maxLength`, d.maxLength, 1, 65535 - 28);
      if (d.group !== undefined) addr(`${p}.group`, d.group);
      if (d.port !== undefined) int(`${p}.port`, d.port, 1, 65535);
      if (d.ttl !== undefined) int(`${p}.ttl`, d.ttl, 1, 255);
    });
  }
  if (value.addresses !== undefined) {
    if (!Array.isArray(value.addresses)) throw new ValidationError('addresses', value.addresses, 'must be an array');
    value.addresses.forEach((a, i) => {
      const p = `addresses[${i}]`;
      if (!isObj(a)) throw new ValidationError(p, a, 'must be { interface, address }');
      only(p, a, ['interface', 'address']);
      if (typeof a.interface !== 'string' || !/^[^\s/]{1,15}$/.test(a.interface)) throw new ValidationError(`${p}.interface`, a.interface, 'must be an interface name (1..15 characters)');
      if (typeof a.address !== 'string' || !parsePrefix(a.address)) throw new ValidationError(`${p}.address`, a.address, "must be ADDR/LEN ('10.0.0.1/32')");
    });
  }
  if (value.routes !== undefined) {
    if (!Array.isArray(value.routes)) throw new ValidationError('routes', value.routes, 'must be an array');
    value.routes.forEach((r, i) => {
      const p = `routes[${i}]`;
      if (!isObj(r)) throw new ValidationError(p, r, 'must be an object');
      only(p, r, ['destination', 'gateway', 'interface', 'table', 'metric', 'nexthops']);
      if (r.destination !== 'default' && (typeof r.destination !== 'string' || !parsePrefix(r.destination)))
        throw new ValidationError(`${p}.destination`, r.destination, "must be NET/LEN or 'default'");
      if (r.gateway !== undefined) addr(`${p}.gateway`, r.gateway);
      if (r.interface !== undefined && (typeof r.interface !== 'string' || !/^[^\s/]{1,15}$/.test(r.interface)))
        throw new ValidationError(`${p}.interface`, r.interface, 'must be an interface name');
      if (r.table !== undefined) int(`${p}.table`, r.table, 1, 0xffffffff);
      if (r.metric !== undefined) int(`${p}.metric`, r.metric, 0, 0xffffffff);
      if (r.nexthops !== undefined) {
        if (!Array.isArray(r.nexthops) || r.nexthops.length === 0) throw new ValidationError(`${p}.nexthops`, r.nexthops, 'must be a non-empty array');
        r.nexthops.forEach((h, j) => {
          if (!isObj(h)) throw new ValidationError(`${p}.nexthops[${j}]`, h, 'must be { gateway?, interface?, weight? }');
          only(`${p}.nexthops[${j}]`, h, ['gateway', 'interface', 'weight']);
          if (h.gateway !== undefined) addr(`${p}.nexthops[${j}].gateway`, h.gateway);
          if (h.weight !== undefined) int(`${p}.nexthops[${j}].weight`, h.weight, 1, 256);
        });
      }
      if (r.gateway === undefined && r.interface === undefined && r.nexthops === undefined)
        throw new ValidationError(p, r, 'needs a gateway, an interface or nexthops');
    });
  }
  if (value.nftables !== undefined) validateNftTables(value.nftables);
  return value as LvsState;
}

const NFT_NAME = /^[^\0]{1,255}$/;

/**
 * The shape of the `nftables` section (family, names, field names, duplicates). The rules'
 * matches and actions are checked in full when apply() canonicalises them (lib/nft/state.ts),
 * with the same field paths.
 */
function validateNftTables(v: unknown): void {
  if (!Array.isArray(v)) throw new ValidationError('nftables', v, 'must be an array');
  const seen = new Set<string>();
  v.forEach((t, i) => {
    const p = `nftables[${i}]`;
    if (!isObj(t)) throw new ValidationError(p, t, 'must be { family, name, chains?, sets?, rules?, dormant? }');
    only(p, t, ['family', 'name', 'dormant', 'chains', 'sets', 'rules']);
    if (t.family !== 'ip' && t.family !== 'ip6' && t.family !== 'inet') throw new ValidationError(`${p}.family`, t.family, "must be 'ip', 'ip6' or 'inet'");
    if (typeof t.name !== 'string' || !NFT_NAME.test(t.name)) throw new ValidationError(`${p}.name`, t.name, 'must be a table name (1..255 characters)');
    const id = `${t.family} ${t.name}`;
    if (seen.has(id)) throw new ValidationError(p, id, 'is listed twice');
    seen.add(id);
    bool(`${p}.dormant`, t.dormant);
    const list = (k: 'chains' | 'sets' | 'rules', fields: string[], check: (q: string, o: Record<string, unknown>) => void) => {
      const a = t[k];
      if (a === undefined) return;
      if (!Array.isArray(a)) throw new ValidationError(`${p}.${k}`, a, 'must be an array');
      a.forEach((o, j) => {
        const q = `${p}.${k}[${j}]`;
        if (!isObj(o)) throw new ValidationError(q, o, 'must be an object');
        only(q, o, fields);
        check(q, o);
      });
    };
    const chains = new Set<string>();
    list('chains', ['name', 'hook', 'type', 'priority', 'policy'], (q, c) => {
      if (typeof c.name !== 'string' || !NFT_NAME.test(c.name)) throw new ValidationError(`${q}.name`, c.name, 'must be a chain name (1..255 characters)');
      if (chains.has(c.name)) throw new ValidationError(`${q}.name`, c.name, 'is listed twice');
      chains.add(c.name);
    });
    list('sets', ['name', 'type', 'elements'], (q, s) => {
      if (typeof s.name !== 'string' || !NFT_NAME.test(s.name)) throw new ValidationError(`${q}.name`, s.name, 'must be a set name (1..255 characters)');
      if (!['ipv4_addr', 'ipv6_addr', 'inet_service', 'mark'].includes(s.type as string)) throw new ValidationError(`${q}.type`, s.type, 'must be one of ipv4_addr, ipv6_addr, inet_service, mark');
      if (s.elements !== undefined && !Array.isArray(s.elements)) throw new ValidationError(`${q}.elements`, s.elements, 'must be an array');
    });
    list('rules', ['chain', 'match', 'counter', 'setMark', 'nat', 'verdict'], (q, r) => {
      if (typeof r.chain !== 'string' || !chains.has(r.chain)) throw new ValidationError(`${q}.chain`, r.chain, `must name a chain of this table (${[...chains].join(', ') || 'none'})`);
    });
  });
}

/** Parses JSON text of a state; a syntax error names line and column. */
export function parseStateJson(text: string, source = 'state'): LvsState {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec((e as Error).message);
    let where = '';
    if (m) {
      const pos = Number(m[1]);
      const before = text.slice(0, pos);
      const line = before.split('\n').length;
      const col = pos - before.lastIndexOf('\n');
      where = ` at line ${line}, column ${col}`;
    }
    throw new ValidationError(source, describeValue(text.slice(0, 40)), `must be JSON${where}: ${clip((e as Error).message, 4 * EXCERPT_WIDTH)}`);
  }
  return validateState(v);
}

/** JSON text of a state (stable key order, two-space indent, trailing newline). */
export function stringifyState(state: LvsState): string {
  return JSON.stringify({ format: STATE_FORMAT, version: STATE_VERSION, ...state }, null, 2) + '\n';
}
