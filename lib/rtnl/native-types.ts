// Native surface of the rtnetlink families (native/src/binding/{route,link,addr,...}_binding.cc).
// Each family adds its own interface here and to RtnlNative.
import type { NativeBatch } from '../addon-types.js';

/** A link as native/src/binding/link_binding.cc linkDecode returns it (raw numbers and bytes). */
export interface NativeLink {
  deleted: boolean;
  index: number;
  name: string;
  type: number;
  flags: number;
  kind: string;
  slaveKind: string;
  mtu?: number;
  minMtu?: number;
  maxMtu?: number;
  txqlen?: number;
  operstate?: number;
  master?: number;
  link?: number;
  linkNetnsId?: number;
  group?: number;
  address?: Buffer;
  broadcast?: Buffer;
  permAddress?: Buffer;
  qdisc?: string;
  alias?: string;
  stats?: {
    rxPackets: number; txPackets: number; rxBytes: number; txBytes: number;
    rxErrors: number; txErrors: number; rxDropped: number; txDropped: number;
    multicast: number; collisions: number;
  };
}

/** An address as addrDecode returns it. */
export interface NativeAddress {
  deleted: boolean;
  family: number;
  prefixLength: number;
  flags: number;
  scope: number;
  index: number;
  local?: Buffer;
  address?: Buffer;
  broadcast?: Buffer;
  anycast?: Buffer;
  label?: string;
  preferredLifetime?: number;
  validLifetime?: number;
  createdCs?: number;
  updatedCs?: number;
  metric?: number;
  proto?: number;
}

/** Links, addresses and the namespace-fd helper (link_binding.cc). Optional numbers are -1,
 * optional strings and buffers null. */
export interface LinkNative {
  linkEncodeGet(batch: NativeBatch, index: number, name: string, skipStats: boolean): void;
  linkEncodeDump(batch: NativeBatch, skipStats: boolean): void;
  linkEncodeSet(
    batch: NativeBatch, index: number, name: string, flags: number, change: number, mtu: number,
    newName: string | null, address: Uint8Array | null, txqlen: number, master: number, netnsFd: number, netnsPid: number,
  ): void;
  linkEncodeCreate(
    batch: NativeBatch, name: string, kind: string, flags: number, mtu: number, address: Uint8Array | null,
    netnsFd: number, peerName: string | null, peerAddress: Uint8Array | null, peerNetnsFd: number,
  ): void;
  linkEncodeDelete(batch: NativeBatch, index: number, name: string): void;
  linkDecode(buffer: Buffer, offset: number): NativeLink;
  /** op: 0 add, 1 replace, 2 delete. */
  addrEncode(
    batch: NativeBatch, op: 0 | 1 | 2, family: number, prefixLength: number, flags: number, scope: number, index: number,
    local: Uint8Array, peer: Uint8Array | null, broadcast: Uint8Array | null, label: string | null,
    validLifetime: number, preferredLifetime: number, metric: number, proto: number,
  ): void;
  addrEncodeDump(batch: NativeBatch, family: number, index: number): void;
  addrDecode(buffer: Buffer, offset: number): NativeAddress;
  /** kind 1: a namespace file path; 2: a pid's namespace. Returns an fd to close with netnsCloseFd. */
  netnsOpenFd(kind: 1 | 2, path: string, pid: number): number;
  netnsCloseFd(fd: number): void;
}

/** A route as route_binding.cc routeDecode returns it (raw numbers; addresses as text). */
export interface NativeRoute {
  msgType: number;
  family: number;
  dstLen: number;
  srcLen: number;
  tos: number;
  table: number;
  protocol: number;
  scope: number;
  type: number;
  flags: number;
  dst?: string;
  src?: string;
  prefsrc?: string;
  gateway?: string;
  oif?: number;
  iif?: number;
  priority?: number;
  nhId?: number;
  mark?: number;
  uid?: number;
  pref?: number;
  expires?: number;
  mtu?: number;
  multipath?: { gateway?: string; oif: number; weight: number; flags: number }[];
}

/** A nexthop object or group as nexthopDecode returns it; timers in clock_t (1/100 s). */
export interface NativeNextHop {
  msgType: number;
  id: number;
  family: number;
  scope: number;
  protocol: number;
  flags: number;
  gateway?: string;
  oif?: number;
  blackhole?: boolean;
  fdb?: boolean;
  group?: { id: number; weight: number }[];
  groupType?: number;
  buckets?: number;
  idleTimer?: number;
  unbalancedTimer?: number;
  unbalancedTime?: number;
}

export interface NativeNextHopBucket {
  groupId: number;
  index: number;
  /** clock_t (1/100 s). */
  idleTime: number;
  nhId: number;
}

/** A policy routing rule as ruleDecode returns it. */
export interface NativeRule {
  msgType: number;
  family: number;
  dstLen: number;
  srcLen: number;
  tos: number;
  action: number;
  flags: number;
  table: number;
  dst?: string;
  src?: string;
  iifname?: string;
  oifname?: string;
  priority?: number;
  goto?: number;
  mark?: number;
  mask?: number;
  suppressPrefixlen?: number;
  suppressIfgroup?: number;
  l3mdev?: boolean;
  uidStart?: number;
  uidEnd?: number;
  protocol?: number;
  ipProto?: number;
  sportStart?: number;
  sportEnd?: number;
  dportStart?: number;
  dportEnd?: number;
  dscp?: number;
  flow?: number;
}

/** One multipath hop for routeEncode: [gateway bytes | null, oif, weight 1..256, RTNH_F_* flags]. */
export type NativeHop = [Uint8Array | null, number, number, number];

/** Routes, nexthops and rules (route_binding.cc). Optional numbers are -1, optional addresses null. */
export interface RouteNative {
  routeEncode(
    batch: NativeBatch, msgType: number, nlFlags: number, family: number, dstLen: number, srcLen: number, tos: number,
    table: number, protocol: number, scope: number, type: number, rtmFlags: number, dst: Uint8Array | null,
    src: Uint8Array | null, prefsrc: Uint8Array | null, gateway: Uint8Array | null, oif: number, priority: number,
    nhId: number, multipath: NativeHop[] | null,
  ): void;
  /**
   * `count` simple IPv4 routes as rows of 12 u32 (route_binding.cc kRouteRowStride): [dst, dstLen,
   * tos, table, protocol, scope, type, oif, priority, gateway, bits (1 gateway, 2 priority,
   * 4 onlink), 0]; addresses as network-order bytes b0 | b1 << 8 | b2 << 16 | b3 << 24.
   */
  routeEncodeMany(batch: NativeBatch, msgType: number, nlFlags: number, rows: Uint32Array, count: number): void;
  routeEncodeDump(batch: NativeBatch, family: number): void;
  routeEncodeQuery(
    batch: NativeBatch, family: number, dst: Uint8Array | null, src: Uint8Array | null, iif: number, oif: number,
    mark: number, uid: number, ipProto: number, sport: number, dport: number, tos: number, fibMatch: boolean, table: number,
  ): void;
  routeDecode(buffer: Buffer, offset: number): NativeRoute;
  /** RTM_NEWROUTE messages of AF_INET/AF_INET6 at offsets[begin..begin+count), of `table` when non-zero. */
  routeDecodeMany(buffer: Buffer, offsets: Uint32Array, begin: number, count: number, table: number): NativeRoute[];
  /**
   * The messages routeDecodeMany keeps, as rows of 16 u32 (route_binding.cc kRouteColStride):
   * [message index, fallback, dstLen | srcLen << 8 | tos << 16 | type << 24, table,
   * protocol | scope << 8 | bits << 16 (1 dst, 2 src, 4 prefsrc, 8 gateway, 16 priority),
   * rtm flags, oif, priority, nhId, expires, mtu, dst, src, prefsrc, gateway, 0]. fallback = 1:
   * not a single-path all-IPv4 route; decode offsets[message index] with routeDecode.
   */
  routeDecodeColumns(buffer: Buffer, offsets: Uint32Array, begin: number, count: number, table: number): Uint32Array;
  nexthopEncode(
    batch: NativeBatch, nlFlags: number, family: number, protocol: number, flags: number, id: number,
    gateway: Uint8Array | null, oif: number, blackhole: boolean, fdb: boolean, groupIds: Uint32Array | null,
    groupWeights: Uint32Array | null, groupType: number, buckets: number, idleTimer: number, unbalancedTimer: number,
  ): void;
  nexthopEncodeById(batch: NativeBatch, msgType: number, id: number): void;
  nexthopEncodeDump(batch: NativeBatch, family: number, groupsOnly: boolean, oif: number): void;
  nexthopEncodeBucketDump(batch: NativeBatch, groupId: number): void;
  nexthopDecode(buffer: Buffer, offset: number): NativeNextHop;
  nexthopBucketDecode(buffer: Buffer, offset: number): NativeNextHopBucket;
  ruleEncode(
    batch: NativeBatch, msgType: number, nlFlags: number, family: number, dstLen: number, srcLen: number, tos: number,
    action: number, flags: number, table: number, dst: Uint8Array | null, src: Uint8Array | null, iifname: string,
    oifname: string, priority: number, gotoTarget: number, mark: number, mask: number, suppressPrefixlen: number,
    suppressIfgroup: number, l3mdev: boolean, uidStart: number, uidEnd: number, protocol: number, ipProto: number,
    sportStart: number, sportEnd: number, dportStart: number, dportEnd: number, dscp: number,
  ): void;
  ruleEncodeDump(batch: NativeBatch, family: number): void;
  ruleDecode(buffer: Buffer, offset: number): NativeRule;
}

export interface RtnlNative extends RouteNative, LinkNative {}
