// pcap / pcapng captures -> packet index -> flows. The readers (native/src/packet/pcap.cc) index
// an in-memory buffer without copying packets; parsing then runs over the same buffer.
import { readFileSync } from 'node:fs';
import { ValidationError } from '../errors.js';
import { nativePacket } from './native-types.js';
import { PacketFlowBuffer, parsePackets, type ParsedPackets } from './parse.js';

/** Where each packet of a capture is, and what the capture said about it. */
export interface CapturePackets {
  count: number;
  /** Byte offset of each packet's captured bytes in the buffer. */
  offsets: Uint32Array;
  /** Captured length. */
  lengths: Uint32Array;
  /** Length on the wire (larger than lengths[i] when the snap length cut the packet). */
  origLengths: Uint32Array;
  /** Link type of each packet's interface. */
  linkTypes: Uint16Array;
  /** Nanoseconds since the epoch (pcapng: per if_tsresol and if_tsoffset; simple packet blocks: 0). */
  timestampsNs: BigInt64Array;
  /** pcapng interface number, counted over all sections (pcap: 0). */
  interfaces: Uint32Array;
}

/** A capture's packets, their flows, and what the reader found about the file. */
export interface Capture extends ParsedPackets {
  format: 'pcap' | 'pcapng';
  /** Byte order of the pcap header / first pcapng section. */
  bigEndian: boolean;
  /** pcap: the nanosecond-resolution magic. */
  nanoseconds: boolean;
  /** pcapng: interface description blocks (pcap: 1). */
  interfaceCount: number;
  sections: number;
  /** pcapng blocks of types not read (statistics, name resolution, custom...). */
  skippedBlocks: number;
  /** Why the reader stopped early (a malformed or truncated block), with its byte offset; null when it read everything. */
  error: { message: string; offset: number } | null;
  packets: CapturePackets;
}

/**
 * Reads a pcap (either byte order, micro- or nanosecond) or pcapng (any sections, interfaces and
 * byte orders; enhanced and simple packet blocks) capture held in memory, and parses every packet.
 * Throws ValidationError when the buffer is not a capture at all; a capture that breaks off later
 * returns the packets before the break, with `error` set.
 */
export function readPcap(buffer: Uint8Array, out?: PacketFlowBuffer): Capture {
  if (!(buffer instanceof Uint8Array)) throw new ValidationError('buffer', buffer, 'must be a Uint8Array or Buffer');
  const native = nativePacket();
  const first = native.scan(buffer, null, null, null, null, null, null);
  if (first.format === 0) throw new ValidationError('buffer', buffer, `must be a pcap or pcapng capture (${first.error ?? 'unknown format'})`);
  const n = first.packets;
  const packets: CapturePackets = {
    count: n, offsets: new Uint32Array(n), lengths: new Uint32Array(n), origLengths: new Uint32Array(n),
    linkTypes: new Uint16Array(n), timestampsNs: new BigInt64Array(n), interfaces: new Uint32Array(n),
  };
  const s = native.scan(buffer, packets.offsets, packets.lengths, packets.origLengths, packets.linkTypes, packets.timestampsNs, packets.interfaces);
  const parsed = parsePackets(buffer, packets.offsets, packets.lengths, packets.linkTypes, out);
  return {
    ...parsed,
    format: s.format === 1 ? 'pcap' : 'pcapng',
    bigEndian: s.bigEndian,
    nanoseconds: s.nanoseconds,
    interfaceCount: s.interfaces,
    sections: s.sections,
    skippedBlocks: s.skippedBlocks,
    error: s.error === null ? null : { message: s.error, offset: s.errorOffset },
    packets,
  };
}

/** readPcap over a file read whole into memory (synchronously). */
export function readPcapFile(path: string, out?: PacketFlowBuffer): Capture {
  if (typeof path !== 'string' || path === '') throw new ValidationError('path', path, 'must be a file path');
  return readPcap(readFileSync(path), out);
}
