// Raw packets -> flows, in bulk: the typed API over native/src/packet/parse.cc (see its header
// for the kernel functions mirrored: net/core/flow_dissector.c, ip_multipath_l3_keys,
// ip6_multipath_l3_keys). Outputs are struct-of-arrays split by family, in the same layout the
// lib/hash calls take (FlowsV4 / FlowsV6), plus a status per packet.
import { ValidationError } from '../errors.js';
import type { FlowsV4, FlowsV6 } from '../hash/multipath.js';
import { nativePacket, type NativeV4Arrays, type NativeV6Arrays } from './native-types.js';

/** Link-layer header types (pcap LINKTYPE_* values). */
export const LinkType = {
  /** BSD loopback: a 4-byte address family (either byte order). */
  null: 0,
  ethernet: 1,
  /** Raw IP; IPv4 or IPv6 from the version nibble. */
  raw: 101,
  /** Linux cooked capture v1 (`tcpdump -i any` before libpcap 1.10). */
  linuxSll: 113,
  ipv4: 228,
  ipv6: 229,
  /** Linux cooked capture v2. */
  linuxSll2: 276,
} as const;
export type LinkTypeName = keyof typeof LinkType;

/**
 * Per-packet status. The first three come with a flow (in `v4` or `v6`); the others do not.
 *  - ok: the whole flow the kernel's flow dissector extracts.
 *  - fragment: an IP fragment (first or later): addresses and protocol, ports 0, which is
 *    exactly what the kernel hashes for every fragment (it does not ask for first-fragment ports).
 *  - truncatedL4: IP header complete, L4 header cut short; ports 0 when the 4 port bytes are
 *    missing (the kernel does the same), the flow is still what the kernel computes.
 *  - truncated: cut before the IP addresses (link, VLAN or IP header incomplete).
 *  - malformed: IP version not the one the link layer announced, IPv4 ihl < 5 or total length
 *    shorter than the header (the kernel drops these in ip_rcv_core / ip6_rcv_core).
 *  - notIp: the link-layer payload is not IPv4/IPv6 (ARP, LLDP, 802.3 LLC, PPPoE discovery...).
 *  - unsupportedLink: a link type this parser does not know.
 */
export const PacketStatus = { ok: 0, fragment: 1, truncatedL4: 2, truncated: 3, malformed: 4, notIp: 5, unsupportedLink: 6 } as const;
export type PacketStatusName = keyof typeof PacketStatus;
/** Status names by code. */
export const PACKET_STATUS_NAMES: readonly PacketStatusName[] = ['ok', 'fragment', 'truncatedL4', 'truncated', 'malformed', 'notIp', 'unsupportedLink'];

/** Bits of the per-flow `flags` array. */
export const FlowFlag = {
  /** The fragment at offset 0 (its L4 header is there, but the kernel does not hash its ports). */
  firstFragment: 1,
  /** ICMP error (types 3, 4, 5, 11, 12) or ICMPv6 error (types 1..4). */
  icmpError: 2,
  /** The error's quoted packet was parsed: `inner` holds its flow. */
  inner: 4,
  /** The policy-0 key (`l3`) took the quoted header's fields, as the kernel does for this packet. */
  l3Inner: 8,
  /** At least one 802.1Q / 802.1ad tag; `vlan` holds the outer VLAN id. */
  vlan: 16,
  /** IPv4 options or IPv6 extension headers were skipped. */
  ipOptions: 32,
  /** IPIP, IPv6-in-IP or GRE: like the kernel's multipath dissection, stopped at the outer header. */
  encap: 64,
  /** An ICMP error whose quoted header could not be parsed (too short or not IP). */
  innerBad: 128,
} as const;

/** IPv4 flows parsed from packets; every array is a view of `length` entries. */
export interface PacketFlowsV4 extends FlowsV4 {
  readonly length: number;
  saddr: Uint32Array;
  daddr: Uint32Array;
  sport: Uint16Array;
  dport: Uint16Array;
  proto: Uint8Array;
  /** The packet number each flow came from. */
  index: Uint32Array;
  /** FlowFlag bits. */
  flags: Uint8Array;
  /** Outer VLAN id (0 without a tag: see FlowFlag.vlan). */
  vlan: Uint16Array;
  /** The key of multipath policy 0 (ip_multipath_l3_keys): the quoted header's addresses for ICMP errors, else the outer ones. */
  l3: { saddr: Uint32Array; daddr: Uint32Array };
  /** ICMP errors: the quoted packet's flow (valid where FlowFlag.inner is set; zeros elsewhere). */
  inner: { saddr: Uint32Array; daddr: Uint32Array; sport: Uint16Array; dport: Uint16Array; proto: Uint8Array };
}

/** IPv6 flows parsed from packets: addresses 4 words per flow; every array a view. */
export interface PacketFlowsV6 extends FlowsV6 {
  readonly length: number;
  saddr: Uint32Array;
  daddr: Uint32Array;
  sport: Uint16Array;
  dport: Uint16Array;
  proto: Uint8Array;
  flowLabel: Uint32Array;
  index: Uint32Array;
  flags: Uint8Array;
  vlan: Uint16Array;
  /**
   * The key of multipath policy 0 (ip6_multipath_l3_keys): addresses, flow label and next header
   * of the quoted header for ICMPv6 errors; else of the outer header, where `proto` is the first
   * next-header value (0 for a hop-by-hop header), not the L4 protocol.
   */
  l3: { saddr: Uint32Array; daddr: Uint32Array; proto: Uint8Array; flowLabel: Uint32Array };
  inner: { saddr: Uint32Array; daddr: Uint32Array; sport: Uint16Array; dport: Uint16Array; proto: Uint8Array; flowLabel: Uint32Array };
}

/** Packets per status, and flows per family. */
export type PacketCounts = Record<PacketStatusName, number> & { v4: number; v6: number };

/** The result of parsePackets: views into the PacketFlowBuffer used (valid until it is reused). */
export interface ParsedPackets {
  /** Packets parsed. */
  count: number;
  /** PacketStatus per packet. */
  status: Uint8Array;
  counts: PacketCounts;
  v4: PacketFlowsV4;
  v6: PacketFlowsV6;
}

/**
 * Caller-owned output for parsePackets: all arrays allocated once for `capacity` packets, reused
 * by every call (results are views into it, overwritten by the next call).
 */
export class PacketFlowBuffer {
  readonly capacity: number;
  readonly #status: Uint8Array;
  readonly #counts = new Uint32Array(PACKET_STATUS_NAMES.length + 2);
  readonly #v4: NativeV4Arrays;
  readonly #v6: NativeV6Arrays;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0 || capacity > 0x7fffffff / 16) {
      throw new ValidationError('capacity', capacity, `must be an integer in 0..${Math.floor(0x7fffffff / 16)}`);
    }
    this.capacity = capacity;
    const n = capacity;
    this.#status = new Uint8Array(n);
    this.#v4 = [new Uint32Array(n), new Uint32Array(n), new Uint16Array(n), new Uint16Array(n), new Uint8Array(n),
      new Uint32Array(n), new Uint8Array(n), new Uint16Array(n), new Uint32Array(n), new Uint32Array(n),
      new Uint32Array(n), new Uint32Array(n), new Uint16Array(n), new Uint16Array(n), new Uint8Array(n)];
    this.#v6 = [new Uint32Array(4 * n), new Uint32Array(4 * n), new Uint16Array(n), new Uint16Array(n), new Uint8Array(n),
      new Uint32Array(n), new Uint32Array(n), new Uint8Array(n), new Uint16Array(n), new Uint32Array(4 * n),
      new Uint32Array(4 * n), new Uint8Array(n), new Uint32Array(n), new Uint32Array(4 * n), new Uint32Array(4 * n),
      new Uint16Array(n), new Uint16Array(n), new Uint8Array(n), new Uint32Array(n)];
  }

  /** @internal Runs the native parser into this buffer and returns views of the result. */
  run(buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, linkTypes: Uint16Array | null, linkType: number, count: number): ParsedPackets {
    const c = this.#counts;
    nativePacket().parse(buffer, offsets, lengths, linkTypes, linkType, count, this.#status, this.#v4, this.#v6, c);
    const counts = Object.fromEntries(PACKET_STATUS_NAMES.map((name, i) => [name, c[i] ?? 0])) as PacketCounts;
    const n4 = c[PACKET_STATUS_NAMES.length] ?? 0;
    const n6 = c[PACKET_STATUS_NAMES.length + 1] ?? 0;
    counts.v4 = n4;
    counts.v6 = n6;
    const a = this.#v4, b = this.#v6;
    const w = <T extends Uint8Array | Uint16Array | Uint32Array>(x: T, k: number): T => x.subarray(0, k) as T;
    const v4: PacketFlowsV4 = {
      length: n4, saddr: w(a[0], n4), daddr: w(a[1], n4), sport: w(a[2], n4), dport: w(a[3], n4), proto: w(a[4], n4),
      index: w(a[5], n4), flags: w(a[6], n4), vlan: w(a[7], n4),
      l3: { saddr: w(a[8], n4), daddr: w(a[9], n4) },
      inner: { saddr: w(a[10], n4), daddr: w(a[11], n4), sport: w(a[12], n4), dport: w(a[13], n4), proto: w(a[14], n4) },
    };
    const v6: PacketFlowsV6 = {
      length: n6, saddr: w(b[0], 4 * n6), daddr: w(b[1], 4 * n6), sport: w(b[2], n6), dport: w(b[3], n6), proto: w(b[4], n6),
      flowLabel: w(b[5], n6), index: w(b[6], n6), flags: w(b[7], n6), vlan: w(b[8], n6),
      l3: { saddr: w(b[9], 4 * n6), daddr: w(b[10], 4 * n6), proto: w(b[11], n6), flowLabel: w(b[12], n6) },
      inner: { saddr: w(b[13], 4 * n6), daddr: w(b[14], 4 * n6), sport: w(b[15], n6), dport: w(b[16], n6), proto: w(b[17], n6), flowLabel: w(b[18], n6) },
    };
    return { count, status: this.#status.subarray(0, count), counts, v4, v6 };
  }
}

function linkTypeNumber(lt: unknown): number {
  if (typeof lt === 'string') {
    const n = (LinkType as Record<string, number>)[lt];
    if (n === undefined) throw new ValidationError('linkType', lt, `must be a link type number or one of ${Object.keys(LinkType).join(', ')}`);
    return n;
  }
  if (typeof lt !== 'number' || !Number.isInteger(lt) || lt < 0 || lt > 0xffff) {
    throw new ValidationError('linkType', lt, 'must be a link type number in 0..65535, a name, or a Uint16Array with one per packet');
  }
  return lt;
}

/**
 * Parses packets in bulk: packet i is `buffer[offsets[i] .. offsets[i] + lengths[i])`, with link
 * type `linkType` (a number, a name, or a Uint16Array with one per packet). Flows land in `out`
 * (a PacketFlowBuffer of at least offsets.length; one is allocated when omitted).
 */
export function parsePackets(buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array,
  linkType: number | LinkTypeName | Uint16Array, out?: PacketFlowBuffer): ParsedPackets {
  if (!(buffer instanceof Uint8Array)) throw new ValidationError('buffer', buffer, 'must be a Uint8Array or Buffer');
  if (!(offsets instanceof Uint32Array)) throw new ValidationError('offsets', offsets, 'must be a Uint32Array');
  const n = offsets.length;
  if (!(lengths instanceof Uint32Array) || lengths.length < n) {
    throw new ValidationError('lengths', lengths, `must be a Uint32Array of at least ${n} entries (one per offset)`);
  }
  let perPacket: Uint16Array | null = null;
  let single = 0;
  if (linkType instanceof Uint16Array) {
    if (linkType.length < n) throw new ValidationError('linkType', linkType, `must have at least ${n} entries (one per offset)`);
    perPacket = linkType;
  } else {
    single = linkTypeNumber(linkType);
  }
  const buf = out ?? new PacketFlowBuffer(n);
  if (!(buf instanceof PacketFlowBuffer)) throw new ValidationError('out', out, 'must be a PacketFlowBuffer');
  if (buf.capacity < n) throw new ValidationError('out', out, `must have capacity for ${n} packets (has ${buf.capacity})`);
  try {
    return buf.run(buffer, offsets, lengths, perPacket, single, n);
  } catch (e) {
    // The native side checks every packet range before parsing and names the first bad one.
    if (e instanceof RangeError && /^packet \d+/.test(e.message)) throw new ValidationError('offsets/lengths', Number(/\d+/.exec(e.message)?.[0]), `must describe ranges inside the buffer (${e.message})`);
    throw e;
  }
}

/** One packet's bytes (a Buffer or Uint8Array each) -> one buffer with offsets and lengths. */
export function packPackets(packets: readonly Uint8Array[]): { buffer: Uint8Array; offsets: Uint32Array; lengths: Uint32Array } {
  if (!Array.isArray(packets)) throw new ValidationError('packets', packets, 'must be an array of Uint8Array');
  let total = 0;
  packets.forEach((p, i) => {
    if (!(p instanceof Uint8Array)) throw new ValidationError(`packets[${i}]`, p, 'must be a Uint8Array');
    total += p.length;
  });
  if (total > 0xffffffff) throw new ValidationError('packets', packets, 'must total at most 4 GiB');
  const buffer = new Uint8Array(total);
  const offsets = new Uint32Array(packets.length);
  const lengths = new Uint32Array(packets.length);
  let at = 0;
  packets.forEach((p, i) => {
    buffer.set(p, at);
    offsets[i] = at;
    lengths[i] = p.length;
    at += p.length;
  });
  return { buffer, offsets, lengths };
}

/**
 * The flows multipath routing hashes, for a multipath policy: 0 and 2 hash the `l3` key
 * (ip_multipath_l3_keys: ICMP errors follow their flow), 1 and 3 the dissector's outer flow.
 * No copy: the returned object shares the arrays. Pass it to MultipathRoute.predictV4 /
 * multipathHashV4.
 */
export function multipathFlowsV4(flows: PacketFlowsV4, policy: 0 | 1 | 2 | 3): FlowsV4 {
  checkPolicy(policy);
  if (policy === 1 || policy === 3) return flows;
  return { saddr: flows.l3.saddr, daddr: flows.l3.daddr, sport: flows.sport, dport: flows.dport, proto: flows.proto };
}

/** As multipathFlowsV4, for IPv6 (ip6_multipath_l3_keys: addresses, flow label, next header). */
export function multipathFlowsV6(flows: PacketFlowsV6, policy: 0 | 1 | 2 | 3): FlowsV6 {
  checkPolicy(policy);
  if (policy === 1 || policy === 3) return flows;
  return { saddr: flows.l3.saddr, daddr: flows.l3.daddr, sport: flows.sport, dport: flows.dport, proto: flows.l3.proto, flowLabel: flows.l3.flowLabel };
}

function checkPolicy(policy: unknown): void {
  if (policy !== 0 && policy !== 1 && policy !== 2 && policy !== 3) throw new ValidationError('policy', policy, 'must be 0, 1, 2 or 3');
}
