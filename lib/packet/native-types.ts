// The native surface of native/src/binding/packet_binding.cc (exports.packet). To be merged into
// lib/addon-types.ts by its owner; until then lib/packet reads it through nativePacket() below.
import { native } from '../native.js';

/**
 * The arrays of one IPv4 output block, in the order packet_binding.cc GetV4 reads them:
 * saddr, daddr, sport, dport, proto, index, flags, vlan, l3Saddr, l3Daddr, innerSaddr,
 * innerDaddr, innerSport, innerDport, innerProto.
 */
export type NativeV4Arrays = [
  Uint32Array, Uint32Array, Uint16Array, Uint16Array, Uint8Array, Uint32Array, Uint8Array, Uint16Array,
  Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint16Array, Uint16Array, Uint8Array,
];

/**
 * IPv6 (GetV6): saddr, daddr (4 words per flow), sport, dport, proto, flowLabel, index, flags,
 * vlan, l3Saddr, l3Daddr, l3Proto, l3FlowLabel, innerSaddr, innerDaddr, innerSport, innerDport,
 * innerProto, innerFlowLabel.
 */
export type NativeV6Arrays = [
  Uint32Array, Uint32Array, Uint16Array, Uint16Array, Uint8Array, Uint32Array, Uint32Array, Uint8Array,
  Uint16Array, Uint32Array, Uint32Array, Uint8Array, Uint32Array, Uint32Array, Uint32Array, Uint16Array,
  Uint16Array, Uint8Array, Uint32Array,
];

/** What scan() returns (format: 0 unknown, 1 pcap, 2 pcapng). */
export interface NativeScan {
  format: 0 | 1 | 2;
  bigEndian: boolean;
  nanoseconds: boolean;
  packets: number;
  interfaces: number;
  sections: number;
  skippedBlocks: number;
  error: string | null;
  errorOffset: number;
}

export interface NativePacket {
  /** counts: 7 per-status counts, then the IPv4 and IPv6 flow counts. */
  parse(buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, linkTypes: Uint16Array | null, linkType: number,
    count: number, status: Uint8Array, v4: NativeV4Arrays, v6: NativeV6Arrays, counts: Uint32Array): void;
  /** Capacity is the shortest non-null output array (0 when all are null: count only). */
  scan(buffer: Uint8Array, offsets: Uint32Array | null, lengths: Uint32Array | null, origLengths: Uint32Array | null,
    linkTypes: Uint16Array | null, timestampsNs: BigInt64Array | null, interfaces: Uint32Array | null): NativeScan;
}

/** The packet part of the addon. */
export function nativePacket(): NativePacket {
  return (native as unknown as { packet: NativePacket }).packet;
}
