// Native surface of the conntrack family (native/src/binding/conntrack_binding.cc).
import type { NativeBatch } from '../addon-types.js';

export interface NativeCtTuple {
  source?: string;
  destination?: string;
  protocol: number;
  sourcePort?: number;
  destinationPort?: number;
  icmpId?: number;
  icmpType?: number;
  icmpCode?: number;
}

/** What ctDecode returns for one IPCTNL_MSG_CT_NEW message. id is -1 when absent. */
export interface NativeCtEntry {
  family: number;
  original: NativeCtTuple;
  reply: NativeCtTuple;
  status: number;
  timeout: number;
  mark: number;
  id: number;
  use: number;
  zone: number;
  tcpState?: number;
  /** [origPackets, origBytes, replyPackets, replyBytes] when accounting is on (nf_conntrack_acct). */
  counters?: [number, number, number, number];
}

/** ctnetlink (conntrack_binding.cc). */
export interface ConntrackNative {
  ctEncodeDump(batch: NativeBatch, family: number): void;
  ctEncodeDelete(batch: NativeBatch, src: Uint8Array, dst: Uint8Array, proto: number, sport: number, dport: number, icmpId: number, icmpType: number, icmpCode: number, zone: number, id: number): void;
  ctDecode(buffer: Buffer, offset: number): NativeCtEntry;
}
