// Native surface of the IPVS family (native/src/binding/ipvs_binding.cc). Encoders append one
// request to a NativeBatch from positional, already validated values; decoders turn an item's
// replies (RawOutcome.replies / replyOffsets, [begin, begin + count)) into plain objects.
import type { NativeBatch } from '../addon-types.js';

/** IPVS_CMD_* (include/uapi/linux/ip_vs.h). */
export const enum IpvsCmd {
  NewService = 1,
  SetService = 2,
  DelService = 3,
  GetService = 4,
  NewDest = 5,
  SetDest = 6,
  DelDest = 7,
  GetDest = 8,
  NewDaemon = 9,
  DelDaemon = 10,
  GetDaemon = 11,
  SetConfig = 12,
  GetConfig = 13,
  SetInfo = 14,
  GetInfo = 15,
  Zero = 16,
  Flush = 17,
}

/** Bits of RawIpvsService.seen / RawIpvsDest.seen: optional attributes the kernel sent. */
export const enum IpvsSeen {
  Stats64 = 1 << 0,
  AddrFamily = 1 << 1,
  TunType = 1 << 2,
  TunPort = 1 << 3,
  TunFlags = 1 << 4,
  Stats = 1 << 5,
}

export interface RawIpvsStats {
  connections: bigint;
  packetsIn: bigint;
  packetsOut: bigint;
  bytesIn: bigint;
  bytesOut: bigint;
  cps: bigint;
  ppsIn: bigint;
  ppsOut: bigint;
  bpsIn: bigint;
  bpsOut: bigint;
}

export interface RawIpvsService {
  af: number;
  family: 'inet' | 'inet6' | 'unknown';
  fwmark: number;
  protocol: number;
  /** '' for fwmark services. */
  address: string;
  port: number;
  scheduler: string;
  /** '' = none. */
  pe: string;
  flags: number;
  timeout: number;
  /** IPv4: the mask as a host-order number (0xffffff00); IPv6: the prefix length. */
  netmask: number;
  stats?: RawIpvsStats;
  seen: number;
}

export interface RawIpvsDest {
  af: number;
  family: 'inet' | 'inet6' | 'unknown';
  address: string;
  port: number;
  forward: number;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  activeConnections: number;
  inactiveConnections: number;
  persistentConnections: number;
  tunnelType: number;
  tunnelPort: number;
  tunnelFlags: number;
  stats?: RawIpvsStats;
  seen: number;
}

export interface RawIpvsDaemon {
  state: number;
  interface: string;
  syncId: number;
  maxLength: number;
  /** '' when the kernel sent no group (before 4.3). */
  group: string;
  port: number;
  ttl: number;
}

export interface IpvsNative {
  ipvsEncodeService(
    batch: NativeBatch, familyId: number, cmd: number,
    af: number, protocol: number, address: Uint8Array, port: number, fwmark: number,
    scheduler: string, pe: string, flags: number, flagsMask: number, timeout: number, netmask: number,
  ): void;
  ipvsEncodeServiceKey(
    batch: NativeBatch, familyId: number, cmd: number,
    af: number, protocol: number, address: Uint8Array, port: number, fwmark: number, dump: boolean,
  ): void;
  ipvsEncodeDest(
    batch: NativeBatch, familyId: number, cmd: number,
    af: number, protocol: number, address: Uint8Array, port: number, fwmark: number,
    destAf: number, destAddress: Uint8Array, destPort: number, full: boolean,
    forward: number, weight: number, upperThreshold: number, lowerThreshold: number,
    tunnelType: number, tunnelPort: number, tunnelFlags: number,
  ): void;
  /** Rows [start, start + count) of IPVS_ROW u32 (validate.ts fastService / fastDest): NEW_SERVICE / NEW_DEST of the common shape. */
  ipvsEncodeMany(batch: NativeBatch, familyId: number, rows: Uint32Array, start: number, count: number, schedulers: readonly string[]): void;
  ipvsEncodeDaemon(
    batch: NativeBatch, familyId: number, cmd: number, state: number, full: boolean,
    iface: string, syncId: number, maxLength: number, groupAf: number, group: Uint8Array | null, port: number, ttl: number,
  ): void;
  ipvsEncodeTimeouts(batch: NativeBatch, familyId: number, tcp: number, tcpFin: number, udp: number): void;
  ipvsEncodeBare(batch: NativeBatch, familyId: number, cmd: number, dump: boolean): void;
  ipvsDecodeServices(replies: Buffer, replyOffsets: Uint32Array, begin: number, count: number): RawIpvsService[];
  ipvsDecodeDests(replies: Buffer, replyOffsets: Uint32Array, begin: number, count: number, serviceAf: number): RawIpvsDest[];
  /** Destinations of replies [begin, begin + count) as rows at.. of DEST_COLS numbers, 16 address bytes and 10 counters each. */
  ipvsDecodeDestColumns(
    replies: Buffer, replyOffsets: Uint32Array, begin: number, count: number, serviceAf: number,
    nums: Float64Array, addrs: Uint8Array, stats: BigUint64Array, at: number,
  ): void;
  /** Destinations of items 0..n-1 of an outcome (n = serviceAfs.length) as consecutive rows from 0, item by item; returns the row count. */
  ipvsDecodeDestColumnsMany(
    replies: Buffer, replyOffsets: Uint32Array, replyBegin: Int32Array, replyCount: Int32Array, serviceAfs: Uint8Array,
    nums: Float64Array, addrs: Uint8Array, stats: BigUint64Array,
  ): number;
  /** Services of replies [begin, begin + count) as rows 0.. of SVC_COLS numbers, 16 address bytes and 10 counters each; returns the scheduler / PE names the rows index (names[0] = ''). */
  ipvsDecodeServiceColumns(
    replies: Buffer, replyOffsets: Uint32Array, begin: number, count: number,
    nums: Float64Array, addrs: Uint8Array, stats: BigUint64Array,
  ): string[];
  /** A GET_DEST dump request for each of rows 0..count-1 of ipvsDecodeServiceColumns' columns. */
  ipvsEncodeDestDumps(batch: NativeBatch, familyId: number, nums: Float64Array, addrs: Uint8Array, count: number): void;
  ipvsDecodeDaemons(replies: Buffer, replyOffsets: Uint32Array, begin: number, count: number): RawIpvsDaemon[];
  ipvsDecodeConfig(replies: Buffer, replyOffsets: Uint32Array, begin: number, count: number): { tcp: number; tcpFin: number; udp: number };
  ipvsDecodeInfo(replies: Buffer, replyOffsets: Uint32Array, begin: number, count: number): { version: number; connTabSize: number };
}
