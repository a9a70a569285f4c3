// Struct-of-arrays flows <-> plain objects, for display, tests and small inputs. Plain objects
// to struct-of-arrays is lib/hash flowsFromObjects (the same Flow shape).
import type { Flow } from '../hash/multipath.js';
import { numberToIpv4, wordsToIpv6 } from '../hash/addr.js';
import { PACKET_STATUS_NAMES, FlowFlag, type PacketStatusName, type ParsedPackets } from './parse.js';

/** One parsed packet as a plain object. */
export interface PacketFlowObject extends Flow {
  /** The packet number. */
  index: number;
  status: PacketStatusName;
  flags: number;
  vlan?: number;
  /** ICMP errors: the quoted packet's flow. */
  inner?: Flow;
  /** The multipath policy-0 key when it differs from src/dst (ICMP errors, IPv6 first next header). */
  l3?: { src: string; dst: string; proto?: number; flowLabel?: number };
}

/**
 * Every packet of a parse result as an object (packets without a flow give only index and
 * status). Allocates per packet: for inspection, not for bulk work.
 */
export function packetFlowObjects(parsed: ParsedPackets): PacketFlowObject[] {
  const out: PacketFlowObject[] = Array.from({ length: parsed.count }, (_, i) => ({
    index: i, status: PACKET_STATUS_NAMES[parsed.status[i] ?? 0] ?? 'ok', flags: 0, src: '', dst: '',
  }));
  const { v4, v6 } = parsed;
  for (let k = 0; k < v4.length; k++) {
    const o = out[v4.index[k] ?? 0]!;
    Object.assign(o, { src: numberToIpv4(v4.saddr[k]!), dst: numberToIpv4(v4.daddr[k]!), sport: v4.sport[k], dport: v4.dport[k], proto: v4.proto[k], flags: v4.flags[k] });
    if (o.flags & FlowFlag.vlan) o.vlan = v4.vlan[k]!;
    if (o.flags & FlowFlag.inner) {
      o.inner = { src: numberToIpv4(v4.inner.saddr[k]!), dst: numberToIpv4(v4.inner.daddr[k]!), sport: v4.inner.sport[k]!, dport: v4.inner.dport[k]!, proto: v4.inner.proto[k]! };
    }
    if (o.flags & FlowFlag.l3Inner) o.l3 = { src: numberToIpv4(v4.l3.saddr[k]!), dst: numberToIpv4(v4.l3.daddr[k]!) };
  }
  for (let k = 0; k < v6.length; k++) {
    const o = out[v6.index[k] ?? 0]!;
    const a = (arr: Uint32Array) => wordsToIpv6(arr.subarray(4 * k, 4 * k + 4));
    Object.assign(o, { src: a(v6.saddr), dst: a(v6.daddr), sport: v6.sport[k], dport: v6.dport[k], proto: v6.proto[k], flowLabel: v6.flowLabel[k], flags: v6.flags[k] });
    if (o.flags & FlowFlag.vlan) o.vlan = v6.vlan[k]!;
    if (o.flags & FlowFlag.inner) {
      o.inner = { src: a(v6.inner.saddr), dst: a(v6.inner.daddr), sport: v6.inner.sport[k]!, dport: v6.inner.dport[k]!, proto: v6.inner.proto[k]!, flowLabel: v6.inner.flowLabel[k]! };
    }
    if ((o.flags & FlowFlag.l3Inner) || v6.l3.proto[k] !== v6.proto[k]) {
      o.l3 = { src: a(v6.l3.saddr), dst: a(v6.l3.daddr), proto: v6.l3.proto[k]!, flowLabel: v6.l3.flowLabel[k]! };
    }
  }
  return out;
}
