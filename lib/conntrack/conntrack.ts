// Conntrack: the connection tracking table of one network namespace over NETLINK_NETFILTER
// (NFNL_SUBSYS_CTNETLINK): list entries and delete the ones a filter selects, e.g. the UDP flows
// a removed real server still owns. `Conntrack.open({ netns: 'lb' })` is the programmatic
// `conntrack` tool. native/src/families/conntrack.cc encodes and decodes the bytes.
import { native } from '../native.js';
import { NetlinkSocket, type NetnsSpec } from '../socket.js';
import { reportOf, repliesOf, throwIfFailed, type BatchReport } from '../batch.js';
import { NetlinkError, ValidationError } from '../errors.js';
import { ItemStatusCode } from '../addon-types.js';
import { parseAddress, type IpFamily } from '../rtnl/ip.js';
import type { NativeCtEntry, NativeCtTuple } from './native-types.js';

export type ConntrackProtocol = 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'sctp' | 'udplite' | 'dccp' | 'gre' | number;
/** enum tcp_conntrack (include/uapi/linux/netfilter/nf_conntrack_tcp.h), as `conntrack -L` prints it. */
export type ConntrackTcpState = 'NONE' | 'SYN_SENT' | 'SYN_RECV' | 'ESTABLISHED' | 'FIN_WAIT' | 'CLOSE_WAIT' | 'LAST_ACK' | 'TIME_WAIT' | 'CLOSE' | 'SYN_SENT2';

export interface ConntrackTuple {
  source: string;
  destination: string;
  sourcePort?: number;
  destinationPort?: number;
  icmpId?: number;
  icmpType?: number;
  icmpCode?: number;
}

export interface ConntrackEntry {
  family: IpFamily;
  protocol: ConntrackProtocol;
  /** The direction that opened the connection: client -> VIP. */
  original: ConntrackTuple;
  /** The answer's direction: real server -> client (after NAT: what the server sends). */
  reply: ConntrackTuple;
  /** TCP only. */
  state?: ConntrackTcpState;
  /** IPS_* status bits by name (include/uapi/linux/netfilter/nf_conntrack_common.h). */
  status: string[];
  /** Seconds until the entry expires. */
  timeout: number;
  mark: number;
  /** The kernel's id of the entry (CTA_ID). */
  id: number;
  zone: number;
  /** Packets and bytes per direction, when accounting is on (net.netfilter.nf_conntrack_acct). */
  counters?: { original: { packets: number; bytes: number }; reply: { packets: number; bytes: number } };
}

/** Selects entries; every field given must match. */
export interface ConntrackFilter {
  family?: IpFamily;
  protocol?: ConntrackProtocol;
  /** Original direction: the client. */
  originalSource?: string;
  originalSourcePort?: number;
  /** Original direction: the VIP (conntrack --orig-dst). */
  originalDestination?: string;
  /** Original direction: the VIP's port (conntrack --orig-port-dst). */
  originalDestinationPort?: number;
  /** Reply direction: the real server that answers (conntrack --reply-src). */
  replySource?: string;
  replySourcePort?: number;
  mark?: number;
}

export interface ConntrackOptions {
  netns?: NetnsSpec;
  receiveBufferBytes?: number;
}

export interface ConntrackDeleteResult {
  /** Entries deleted. */
  deleted: number;
  /** Entries that matched but were gone when the delete arrived (expired or deleted meanwhile). */
  vanished: number;
  /** One item per matching entry, in the order listed. */
  report: BatchReport;
}

const PROTOCOLS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, dccp: 33, gre: 47, icmpv6: 58, sctp: 132, udplite: 136 };
const PROTOCOL_NAMES = new Map<number, ConntrackProtocol>(Object.entries(PROTOCOLS).map(([k, v]) => [v, k as ConntrackProtocol]));
const TCP_STATES: ConntrackTcpState[] = ['NONE', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE', 'SYN_SENT2'];
const STATUS_BITS = ['EXPECTED', 'SEEN_REPLY', 'ASSURED', 'CONFIRMED', 'SRC_NAT', 'DST_NAT', 'SEQ_ADJUST', 'SRC_NAT_DONE', 'DST_NAT_DONE', 'DYING', 'FIXED_TIMEOUT', 'TEMPLATE', 'UNTRACKED', 'HELPER', 'OFFLOAD', 'HW_OFFLOAD'];
const AF_INET = 2;
const AF_INET6 = 10;
const EINVAL = 22;

function protocolNumber(field: string, v: unknown): number {
  if (typeof v === 'string') {
    const n = PROTOCOLS[v];
    if (n === undefined) throw new ValidationError(field, v, `must be one of ${Object.keys(PROTOCOLS).join(', ')} or a number 0..255`);
    return n;
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) throw new ValidationError(field, v, `must be one of ${Object.keys(PROTOCOLS).join(', ')} or a number 0..255`);
  return v;
}

function tupleOf(t: NativeCtTuple): ConntrackTuple {
  const out: ConntrackTuple = { source: t.source ?? '', destination: t.destination ?? '' };
  if (t.sourcePort !== undefined) out.sourcePort = t.sourcePort;
  if (t.destinationPort !== undefined) out.destinationPort = t.destinationPort;
  if (t.icmpId !== undefined) Object.assign(out, { icmpId: t.icmpId, icmpType: t.icmpType, icmpCode: t.icmpCode });
  return out;
}

/** Converts a decoded entry into the public shape. */
export function entryFromNative(n: NativeCtEntry): ConntrackEntry {
  const e: ConntrackEntry = {
    family: n.family === AF_INET6 ? 6 : 4,
    protocol: PROTOCOL_NAMES.get(n.original.protocol) ?? n.original.protocol,
    original: tupleOf(n.original),
    reply: tupleOf(n.reply),
    status: STATUS_BITS.filter((_, i) => n.status & (1 << i)),
    timeout: n.timeout,
    mark: n.mark,
    id: n.id,
    zone: n.zone,
  };
  if (n.tcpState !== undefined) e.state = TCP_STATES[n.tcpState] ?? (String(n.tcpState) as ConntrackTcpState);
  if (n.counters) e.counters = { original: { packets: n.counters[0], bytes: n.counters[1] }, reply: { packets: n.counters[2], bytes: n.counters[3] } };
  return e;
}

interface PreparedFilter {
  family?: IpFamily;
  protocol?: number;
  checks: ((e: ConntrackEntry) => boolean)[];
  size: number;
}

function prepareFilter(filter: ConntrackFilter, field = 'filter'): PreparedFilter {
  if (typeof filter !== 'object' || filter === null) throw new ValidationError(field, filter, 'must be an object');
  const f = (k: string) => `${field}.${k}`;
  const known = ['family', 'protocol', 'originalSource', 'originalSourcePort', 'originalDestination', 'originalDestinationPort', 'replySource', 'replySourcePort', 'mark'];
  for (const k of Object.keys(filter)) if (!known.includes(k)) throw new ValidationError(f(k), (filter as Record<string, unknown>)[k], `is not a filter field (known: ${known.join(', ')})`);
  const out: PreparedFilter = { checks: [], size: 0 };
  if (filter.family !== undefined) {
    if (filter.family !== 4 && filter.family !== 6) throw new ValidationError(f('family'), filter.family, 'must be 4 or 6');
    out.family = filter.family;
    out.checks.push((e) => e.family === filter.family);
  }
  if (filter.protocol !== undefined) {
    const p = protocolNumber(f('protocol'), filter.protocol);
    out.protocol = p;
    out.checks.push((e) => (typeof e.protocol === 'number' ? e.protocol : PROTOCOLS[e.protocol]) === p);
  }
  const addr = (k: 'originalSource' | 'originalDestination' | 'replySource', get: (e: ConntrackEntry) => string) => {
    const v = filter[k];
    if (v === undefined) return;
    const a = typeof v === 'string' ? parseAddress(v) : undefined;
    if (!a) throw new ValidationError(f(k), v, 'must be an IPv4 or IPv6 address');
    if (out.family !== undefined && a.family !== out.family) throw new ValidationError(f(k), v, `must be an IPv${out.family} address like family`);
    const text = parseAddress(v)!;
    out.checks.push((e) => {
      const b = parseAddress(get(e));
      return !!b && b.family === text.family && b.bytes.every((x, i) => x === text.bytes[i]);
    });
  };
  addr('originalSource', (e) => e.original.source);
  addr('originalDestination', (e) => e.original.destination);
  addr('replySource', (e) => e.reply.source);
  const port = (k: 'originalSourcePort' | 'originalDestinationPort' | 'replySourcePort', get: (e: ConntrackEntry) => number | undefined) => {
    const v = filter[k];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) throw new ValidationError(f(k), v, 'must be a port in 0..65535');
    out.checks.push((e) => get(e) === v);
  };
  port('originalSourcePort', (e) => e.original.sourcePort);
  port('originalDestinationPort', (e) => e.original.destinationPort);
  port('replySourcePort', (e) => e.reply.sourcePort);
  if (filter.mark !== undefined) {
    if (typeof filter.mark !== 'number' || !Number.isInteger(filter.mark) || filter.mark < 0 || filter.mark > 0xffffffff) throw new ValidationError(f('mark'), filter.mark, 'must be an integer in 0..4294967295');
    out.checks.push((e) => e.mark === filter.mark);
  }
  out.size = out.checks.length;
  return out;
}

/** The connection tracking table of one network namespace. */
export class Conntrack {
  readonly #socket: NetlinkSocket;

  private constructor(socket: NetlinkSocket) {
    this.#socket = socket;
  }

  /** Opens a NETLINK_NETFILTER socket in `netns` (entered on a short-lived thread). */
  static open(options: ConntrackOptions = {}): Conntrack {
    if (typeof options !== 'object' || options === null) throw new ValidationError('options', options, 'must be an object');
    return new Conntrack(NetlinkSocket.open('netfilter', { netns: options.netns, receiveBufferBytes: options.receiveBufferBytes }));
  }

  get netns(): string {
    return this.#socket.netns;
  }

  get closed(): boolean {
    return this.#socket.closed;
  }

  /**
   * Entries matching `filter` (all without one). Equivalent to `conntrack -L [-f ipv6] [-p udp]
   * [--orig-dst VIP] [--dport PORT] [--reply-src RS]`. An empty table is an empty list.
   */
  async list(filter: ConntrackFilter = {}): Promise<ConntrackEntry[]> {
    const p = prepareFilter(filter);
    return this.#list(p);
  }

  async #list(p: PreparedFilter): Promise<ConntrackEntry[]> {
    const batch = this.#socket.newBatch();
    native.ctEncodeDump(batch, p.family === undefined ? 0 : p.family === 4 ? AF_INET : AF_INET6);
    const raw = await this.#socket.run(batch, 'listConntrack', { large: true });
    if (raw.status[0] === ItemStatusCode.Failed && raw.errors[0] === EINVAL) {
      // nfnetlink answers a message for a subsystem it does not have with EINVAL
      // (net/netfilter/nfnetlink.c nfnetlink_rcv_msg): nf_conntrack_netlink is not loaded.
      const f = raw.failures[0]!;
      throw new NetlinkError({ op: 'listConntrack', errno: f.errno, code: f.code, kernelMessage: f.kernelMessage,
        hint: 'The kernel has no ctnetlink here: load nf_conntrack_netlink (lvskit never runs modprobe)' });
    }
    throwIfFailed(raw, 'listConntrack');
    const out: ConntrackEntry[] = [];
    for (const [off] of repliesOf(raw, 0)) {
      const e = entryFromNative(native.ctDecode(raw.replies, off));
      if (p.checks.every((c) => c(e))) out.push(e);
    }
    return out;
  }

  /**
   * Deletes the entries matching `filter` (at least one field: to clear the whole table name
   * each family), each by its original tuple and id so that a new connection reusing the tuple
   * meanwhile survives. Equivalent to `conntrack -D -p udp --orig-dst VIP --dport 53 --reply-src RS`.
   */
  async delete(filter: ConntrackFilter): Promise<ConntrackDeleteResult> {
    const p = prepareFilter(filter);
    if (p.size === 0) throw new ValidationError('filter', filter, 'must name at least one field (family: 4 selects every IPv4 entry)');
    const entries = await this.#list(p);
    if (entries.length === 0) return { deleted: 0, vanished: 0, report: { ok: true, items: [], applied: [], failed: [], notSent: [], unknown: [], sendCalls: 0 } };
    const batch = this.#socket.newBatch();
    for (const e of entries) {
      const src = parseAddress(e.original.source)!;
      const dst = parseAddress(e.original.destination)!;
      const icmp = e.original.icmpId !== undefined;
      native.ctEncodeDelete(batch, src.bytes, dst.bytes, typeof e.protocol === 'number' ? e.protocol : PROTOCOLS[e.protocol]!,
        e.original.sourcePort ?? 0, e.original.destinationPort ?? 0, icmp ? e.original.icmpId! : -1, e.original.icmpType ?? 0, e.original.icmpCode ?? 0, e.zone, e.id);
    }
    const label = (i: number) => {
      const o = entries[i]!.original;
      return `deleteConntrack ${entries[i]!.protocol} ${o.source}:${o.sourcePort ?? ''} -> ${o.destination}:${o.destinationPort ?? ''}`;
    };
    const raw = await this.#socket.run(batch, `deleteConntrack x${entries.length}`, { ackEach: true });
    const report = reportOf(raw, label);
    const vanished = report.failed.filter((i) => report.items[i]!.error?.code === 'ENOENT');
    // An entry that expired between the dump and the delete is what the caller wanted: gone.
    // Such items count as applied (their error stays on the item, ENOENT).
    for (const i of vanished) report.items[i]!.state = 'applied';
    report.applied = [...report.applied, ...vanished].sort((x, y) => x - y);
    report.failed = report.failed.filter((i) => !vanished.includes(i));
    report.ok = report.failed.length === 0 && report.notSent.length === 0 && report.unknown.length === 0;
    return { deleted: report.applied.length - vanished.length, vanished: vanished.length, report };
  }

  close(): void {
    this.#socket.close();
  }
}
