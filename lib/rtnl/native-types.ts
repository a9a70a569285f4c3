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

export interface RtnlNative extends LinkNative {}
