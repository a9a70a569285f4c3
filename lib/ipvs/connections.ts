// IPVS connection entries (what `ipvsadm -Lc` lists). The kernel has no netlink dump of its
// connection table: it shows it only as text, /proc/net/ip_vs_conn, filtered to the namespace of
// whoever reads it. The file is read inside the handle's namespace on a helper thread
// (NetlinkSocket.readNamespaceFile: no fork, the process never moves) through
// /proc/thread-self/net: /proc/net is a link to /proc/self/net, which follows the thread-group
// leader (the process's main thread, in the caller's namespace), not the helper thread.
//
// The format (net/netfilter/ipvs/ip_vs_conn.c, ip_vs_conn_seq_show; the same since 2.6.37):
//   Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
//   TCP 0A000002 D431 0A000001 0050 0A010001 0050 ESTABLISHED     899
//   UDP 2001:0db8:0000:...:0002 8A3C 2001:0db8:...:0001 0035 ... 0035 UDP             299 sip abc@h
// IPv4 addresses in 8 hex digits (host order), IPv6 as 8 groups of 4 hex digits, ports in 4 hex
// digits, the protocol as ip_vs_proto_name() writes it (TCP, UDP, SCTP, ICMP, ICMPv6, IP for a
// firewall-mark template, IP_<n> otherwise), the state name padded to 11, seconds to expiry, and
// the persistence engine's name and data when the entry has some (sip: the Call-ID). The
// destination has its own family (a tunnel may cross families).
import { LvskitError, NetlinkError, ValidationError } from '../errors.js';
import { NetlinkSocket, type NetnsSpec } from '../socket.js';
import { formatAddress } from '../rtnl/ip.js';
import type { AddressFamily } from './types.js';

/** Protocols ip_vs_proto_name() names; 'other' for IP_<n> (see protocolNumber). */
export type ConnectionProtocol = 'tcp' | 'udp' | 'sctp' | 'icmp' | 'icmpv6' | 'ip' | 'other';

/** One entry of the IPVS connection table (a line of /proc/net/ip_vs_conn). */
export interface IpvsConnection {
  protocol: ConnectionProtocol;
  /** IP protocol number (6 tcp, 17 udp, 132 sctp, 1 icmp, 58 icmpv6, 0 for 'ip': a fwmark template). */
  protocolNumber: number;
  /** Family of the client and virtual addresses. */
  family: AddressFamily;
  clientAddress: string;
  clientPort: number;
  virtualAddress: string;
  virtualPort: number;
  /** Family of the destination (differs from `family` only for a tunnel crossing families). */
  destinationFamily: AddressFamily;
  destinationAddress: string;
  destinationPort: number;
  /** The kernel's state name: 'ESTABLISHED', 'SYN_RECV', 'FIN_WAIT', 'TIME_WAIT', 'CLOSE', 'UDP'...; a persistence template's is 'NONE' or 'ASSURED'. */
  state: string;
  /** Seconds until the entry expires (the kernel rounds down). */
  expires: number;
  /** Name of the persistence engine that owns data in this entry ('sip'), when there is one. */
  persistenceEngine?: string;
  /** The engine's data as the kernel shows it (sip: the Call-ID). */
  persistenceData?: string;
}

const PROTOCOLS: Record<string, [ConnectionProtocol, number]> = {
  TCP: ['tcp', 6],
  UDP: ['udp', 17],
  SCTP: ['sctp', 132],
  ICMP: ['icmp', 1],
  ICMPv6: ['icmpv6', 58],
  IP: ['ip', 0],
};

/** The kernel's name of a protocol number (ip_vs_proto_name). */
export function connectionProtocolName(protocolNumber: number): string {
  for (const [name, [, n]] of Object.entries(PROTOCOLS)) if (n === protocolNumber) return name;
  return `IP_${protocolNumber}`;
}

const HEX8 = /^[0-9A-Fa-f]{8}$/;
const V6 = /^[0-9A-Fa-f]{4}(?::[0-9A-Fa-f]{4}){7}$/;
const V6_BYTES = new Uint8Array(16);

/** An address as the kernel writes it ('0A000001' or '2001:0db8:...:0001') -> [family, canonical text]. */
function address(text: string): [AddressFamily, string] | undefined {
  if (HEX8.test(text)) {
    const v = parseInt(text, 16);
    return ['inet', `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`];
  }
  if (V6.test(text)) {
    for (let g = 0; g < 8; g++) {
      const w = parseInt(text.slice(g * 5, g * 5 + 4), 16);
      V6_BYTES[2 * g] = w >>> 8;
      V6_BYTES[2 * g + 1] = w & 255;
    }
    return ['inet6', formatAddress(V6_BYTES)];
  }
  return undefined;
}

// "%-3s %s %04X %s %04X %s %04X %-11s %7u%s": the state is padded, the expiry right-aligned, and
// the engine part is " NAME DATA" (sip's data is a Call-ID, which has no blanks)
const LINE = /^(\S+) +(\S+) ([0-9A-Fa-f]{4}) (\S+) ([0-9A-Fa-f]{4}) (\S+) ([0-9A-Fa-f]{4}) (\S+) +([0-9]+)(?: (\S+) ?(.*))?$/;

/** One line of the table, or undefined when it is not an entry. */
function parseLine(line: string): IpvsConnection | undefined {
  const m = LINE.exec(line.endsWith('\r') ? line.slice(0, -1) : line);
  if (!m) return undefined;
  const name = m[1]!;
  const proto = PROTOCOLS[name] ?? (/^IP_[0-9]+$/.test(name) ? (['other', Number(name.slice(3))] as [ConnectionProtocol, number]) : undefined);
  const c = address(m[2]!);
  const v = address(m[4]!);
  const d = address(m[6]!);
  if (!proto || !c || !v || !d || c[0] !== v[0]) return undefined;
  const conn: IpvsConnection = {
    protocol: proto[0],
    protocolNumber: proto[1],
    family: c[0],
    clientAddress: c[1],
    clientPort: parseInt(m[3]!, 16),
    virtualAddress: v[1],
    virtualPort: parseInt(m[5]!, 16),
    destinationFamily: d[0],
    destinationAddress: d[1],
    destinationPort: parseInt(m[7]!, 16),
    state: m[8]!,
    expires: Number(m[9]),
  };
  if (m[10] !== undefined) {
    conn.persistenceEngine = m[10];
    conn.persistenceData = m[11] ?? '';
  }
  return conn;
}

/**
 * Parses the text of /proc/net/ip_vs_conn (header line first) lazily: one entry per step, so a
 * large table is never held twice (the text once, and only the entries the caller keeps). Throws
 * ValidationError naming the line when a line is not an entry.
 */
export function* parseConnections(text: string): Generator<IpvsConnection, void, undefined> {
  if (typeof text !== 'string') throw new ValidationError('text', text, 'must be the text of /proc/net/ip_vs_conn');
  let at = 0;
  let n = 0;
  while (at < text.length) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    const line = text.slice(at, end);
    at = end + 1;
    n++;
    if (n === 1) {
      if (!line.startsWith('Pro FromIP')) throw new ValidationError('ip_vs_conn line 1', line, "must be the header ('Pro FromIP   FPrt ToIP ...')");
      continue;
    }
    if (line.trim() === '') continue;
    const c = parseLine(line);
    if (!c) throw new ValidationError(`ip_vs_conn line ${n}`, line, 'is not a connection entry (PROTO ADDR PORT ADDR PORT ADDR PORT STATE EXPIRES [PE DATA])');
    yield c;
  }
}

/** Where the connection table is read: a socket's namespace, a handle with one (Rtnl), or a namespace to open. */
export type ConnectionSource = NetlinkSocket | { socket: NetlinkSocket } | { netns?: NetnsSpec | undefined };

/** /proc/net/ip_vs_conn of the reading thread's namespace (see the top of this file). */
export const IP_VS_CONN_PATH = '/proc/thread-self/net/ip_vs_conn';

/**
 * Reads the raw text of the namespace's connection table (what parseConnections takes). Throws
 * NetlinkError ENOENT saying why when the table does not exist (IPVS not loaded in this kernel).
 */
export function readConnectionTable(source: ConnectionSource = {}): string {
  let own: NetlinkSocket | undefined;
  let sock: NetlinkSocket;
  if (source instanceof NetlinkSocket) sock = source;
  else if (typeof source === 'object' && source !== null && 'socket' in source && source.socket instanceof NetlinkSocket) sock = source.socket;
  else if (typeof source === 'object' && source !== null && !('socket' in source)) sock = own = NetlinkSocket.open('route', { netns: (source as { netns?: NetnsSpec }).netns });
  else throw new ValidationError('source', source, 'must be a NetlinkSocket, a handle with one (Rtnl), or { netns }');
  try {
    return sock.readNamespaceFile(IP_VS_CONN_PATH);
  } catch (e) {
    if (e instanceof NetlinkError && e.code === 'ENOENT' && !/deleted or replaced/.test(e.message)) {
      const op = `read the IPVS connection table of namespace ${sock.netns}`;
      throw new NetlinkError(
        { op, errno: e.errno, code: 'ENOENT', cause: e },
        `${op} failed: ENOENT (no ${IP_VS_CONN_PATH}: IPVS is not loaded in this kernel; opening an Ipvs handle loads it)`,
      );
    }
    throw e;
  } finally {
    own?.close();
  }
}

/**
 * The IPVS connection table of a namespace (`ipvsadm -Lnc`), as typed entries in the kernel's
 * order. `source`: a NetlinkSocket, a handle that has one (Rtnl), or `{ netns }` (default: the
 * caller's namespace; a socket is opened for the read and closed). An empty table is [].
 *
 * Cost: the kernel writes the table as text (about 100 bytes an IPv4 entry, 180 an IPv6 one); the
 * text is read in 64 KiB reads into one native buffer, copied once into a JavaScript string (the
 * native buffer is freed on return), then parsed line by line without splitting it into an array:
 * the peak is about twice the text for a moment, then the text plus the entries. For a large table
 * whose entries you do not all keep, readConnectionTable() + parseConnections() (a generator)
 * keeps only what you keep. The read runs on the calling thread and blocks it for its duration.
 */
export async function listConnections(source: ConnectionSource = {}): Promise<IpvsConnection[]> {
  const text = readConnectionTable(source);
  const out: IpvsConnection[] = [];
  try {
    for (const c of parseConnections(text)) out.push(c);
  } catch (e) {
    if (e instanceof ValidationError) throw new LvskitError(`the kernel's connection table did not parse: ${e.message}`, { cause: e });
    throw e;
  }
  return out;
}
