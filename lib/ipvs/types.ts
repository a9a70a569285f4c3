// Plain data types of IPVS (no I/O): what lib/ipvs/client.ts sends and returns, what the ipvsadm
// rules format (lib/format) parses and emits, and what apply() diffs.
// Field meanings mirror include/uapi/linux/ip_vs.h; byte orders are the codec's business.

export type Protocol = 'tcp' | 'udp' | 'sctp';
export type AddressFamily = 'inet' | 'inet6';

/** Schedulers the kernel ships (net/netfilter/ipvs/ip_vs_*.c). `twos` is 6.x+. */
export const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos'] as const;
export type SchedulerName = (typeof SCHEDULERS)[number];

/**
 * Identifies a service: either protocol + address + port, or a firewall mark.
 * Addresses are strings in canonical form ('10.0.0.1', '2001:db8::1').
 */
export type ServiceKey =
  | { protocol: Protocol; address: string; port: number; family?: AddressFamily }
  | { fwmark: number; family?: AddressFamily };

/** Scheduler flags (IP_VS_SVC_F_*). sh/mh read flag1 = fallback, flag2 = port. */
export interface ServiceFlags {
  /** IP_VS_SVC_F_ONEPACKET: schedule every UDP datagram on its own. */
  onePacket?: boolean;
  /** IP_VS_SVC_F_SCHED1: sh-fallback / mh-fallback. */
  schedFallback?: boolean;
  /** IP_VS_SVC_F_SCHED2: sh-port / mh-port. */
  schedPort?: boolean;
  /** IP_VS_SVC_F_SCHED3. */
  sched3?: boolean;
}

export interface Persistence {
  /** Seconds (IPVS_SVC_ATTR_TIMEOUT), > 0. */
  timeout: number;
  /** IPv4: a dotted mask ('255.255.255.0'); IPv6: a prefix length 1..128. Default all-ones. */
  netmask?: string | number;
}

export interface ServiceSpec {
  key: ServiceKey;
  /** Default 'wlc' (as ipvsadm). 'none' binds no scheduler (the kernel accepts it since 4.x). */
  scheduler?: SchedulerName | 'none';
  flags?: ServiceFlags;
  /** Absent = not persistent. */
  persistence?: Persistence;
  /** Persistence engine name, e.g. 'sip'. */
  persistenceEngine?: string;
}

export type ForwardMethod = 'masq' | 'local' | 'tunnel' | 'route' | 'bypass';
export type TunnelType = 'ipip' | 'gue' | 'gre';

export interface TunnelOptions {
  type: TunnelType;
  /** GUE destination port (required for gue). */
  port?: number;
  /** Outer checksum (IP_VS_TUNNEL_ENCAP_FLAG_CSUM). */
  checksum?: boolean;
  /** Remote checksum offload (IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM). */
  remoteChecksum?: boolean;
}

export interface DestinationSpec {
  address: string;
  /** For fwmark services 0 means "the packet's port". */
  port: number;
  /** Default 'route' (DR), as ipvsadm's default -g. */
  forward?: ForwardMethod;
  /** 0..2147483647, default 1. 0 = quiesced (no new connections). */
  weight?: number;
  /** Upper connection threshold, 0 = none. */
  upperThreshold?: number;
  /** Lower connection threshold, 0 = none. */
  lowerThreshold?: number;
  /** With forward 'tunnel'. */
  tunnel?: TunnelOptions;
  /** Address family of the destination (may differ from the service's only with tunnels). */
  family?: AddressFamily;
}

/** Counters and rates (IPVS_STATS_ATTR_*), 64-bit, as bigint so nothing wraps or rounds. */
export interface Stats {
  connections: bigint;
  packetsIn: bigint;
  packetsOut: bigint;
  bytesIn: bigint;
  bytesOut: bigint;
  /** Rates, per second (estimator). */
  cps: bigint;
  ppsIn: bigint;
  ppsOut: bigint;
  bpsIn: bigint;
  bpsOut: bigint;
}

export interface Service {
  key: ServiceKey;
  family: AddressFamily;
  scheduler: string;
  flags: ServiceFlags & { persistent: boolean; hashed: boolean };
  persistence?: Persistence;
  persistenceEngine?: string;
  stats?: Stats;
  /** Present when read with destinations (listAll / getService({ withDestinations: true })). */
  destinations?: Destination[];
}

export interface Destination {
  address: string;
  port: number;
  family: AddressFamily;
  forward: ForwardMethod;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  tunnel?: TunnelOptions;
  activeConnections: number;
  inactiveConnections: number;
  persistentConnections: number;
  stats?: Stats;
}

export interface Timeouts {
  /** Seconds; 0 in a set call means "leave unchanged". */
  tcp: number;
  tcpFin: number;
  udp: number;
}

export interface SyncDaemon {
  state: 'master' | 'backup';
  interface: string;
  syncId: number;
  /** Max sync message length (4.3+). */
  maxLength?: number;
  /** Multicast group, IPv4 or IPv6 (4.3+). */
  group?: string;
  /** Multicast port (4.3+). */
  port?: number;
  /** Multicast TTL (4.3+). */
  ttl?: number;
}

export interface IpvsInfo {
  /** e.g. '1.2.1' */
  version: string;
  versionCode: number;
  connectionTableSize: number;
}

/**
 * Changes for Ipvs.editService: only the fields given change; everything else (including the
 * persistence engine, netmask and flags not named) keeps its current value in the kernel.
 */
export interface ServiceChanges {
  scheduler?: SchedulerName | 'none';
  /** Only the flags named change. */
  flags?: ServiceFlags;
  /** An object makes the service persistent (timeout default: the current one, else 360); null makes it not persistent. */
  persistence?: Partial<Persistence> | null;
  /** A name sets the engine; null or '' removes it. */
  persistenceEngine?: string | null;
}

/** Changes for Ipvs.editDestination: only the fields given change. */
export interface DestinationChanges {
  forward?: ForwardMethod;
  weight?: number;
  upperThreshold?: number;
  lowerThreshold?: number;
  /** With forward 'tunnel'; null resets to a plain ipip tunnel. */
  tunnel?: TunnelOptions | null;
}

/** What the running kernel supports, detected rather than assumed. */
export interface IpvsFeatures {
  familyVersion: number;
  maxAttr: number;
  /** Destination tunnel types the kernel knows (gue 5.2+, gre 5.3+). Empty when unknown (see `evidence`). */
  tunnelTypes: TunnelType[];
  tunnelChecksumFlags: boolean;
  stats64: boolean;
  destinationAddressFamily: boolean;
  /** Schedulers that could be loaded (only filled when `schedulersProbed`). */
  schedulers: string[];
  /** Whether `schedulers` was filled by probing (features({ probe: true })). */
  schedulersProbed: boolean;
  /**
   * Where the attribute answers come from: 'observed' = a destination dump of the running kernel
   * (it sends every attribute it knows), 'probe' = a scratch fwmark service created and deleted
   * for the purpose, 'none' = nothing to look at (tunnel answers are then unknown: empty/false).
   */
  evidence: 'observed' | 'probe' | 'none';
}
