// Packet and capture builders for the packet tests: every byte is written here from the RFCs
// (791, 8200, 793, 768, 9260, 792, 4443) and the pcap/pcapng drafts, independently of the parser.
import { ipv4ToNumber, ipv6ToWords } from '../../lib/hash/addr.js';

export const cat = (...parts: ArrayLike<number>[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};
const be16 = (v: number) => [(v >>> 8) & 255, v & 255];
const be32 = (v: number) => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const v4bytes = (a: string) => be32(ipv4ToNumber(a));
const v6bytes = (a: string) => ipv6ToWords(a).flatMap(be32);

export function checksum(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (b.length % 2) s += b[b.length - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

export interface Vlan { tpid?: number; vid: number; pcp?: number }
export function eth(type: number, payload: Uint8Array, opts: { vlans?: Vlan[]; dst?: number[]; src?: number[] } = {}): Uint8Array {
  const tags = (opts.vlans ?? []).flatMap((v) => [...be16(v.tpid ?? 0x8100), ...be16(((v.pcp ?? 0) << 13) | v.vid)]);
  return cat(opts.dst ?? [2, 0, 0, 0, 0, 2], opts.src ?? [2, 0, 0, 0, 0, 1], tags, be16(type), payload);
}

export interface V4Opts {
  src: string; dst: string; proto: number; payload?: Uint8Array;
  options?: number[]; mf?: boolean; fragOffset?: number; df?: boolean; id?: number; ttl?: number;
  /** Override the total length field. */
  totalLength?: number; version?: number; ihl?: number;
}
export function ipv4(o: V4Opts): Uint8Array {
  const opts = o.options ?? [];
  const ihl = o.ihl ?? 5 + Math.ceil(opts.length / 4);
  const optBytes = cat(opts, new Array((4 - (opts.length % 4)) % 4).fill(0));
  const payload = o.payload ?? new Uint8Array(0);
  const tot = o.totalLength ?? 20 + optBytes.length + payload.length;
  const flags = (o.df ? 0x4000 : 0) | (o.mf ? 0x2000 : 0) | ((o.fragOffset ?? 0) & 0x1fff);
  const h = cat([((o.version ?? 4) << 4) | ihl, 0], be16(tot), be16(o.id ?? 0x1234), be16(flags), [o.ttl ?? 64, o.proto, 0, 0], v4bytes(o.src), v4bytes(o.dst), optBytes);
  const c = checksum(h);
  h[10] = c >>> 8; h[11] = c & 255;
  return cat(h, payload);
}

export interface Ext { type: number; data?: number[] }
export interface V6Opts {
  src: string; dst: string; proto: number; payload?: Uint8Array; flowLabel?: number; tc?: number;
  /** Extension headers in order; each gets its own next-header byte. */
  ext?: Ext[]; payloadLength?: number; hopLimit?: number;
}
/** An extension header body: hop-by-hop / dest options / routing padded to 8n bytes. */
function extBytes(e: Ext, next: number): number[] {
  if (e.type === 44) { // fragment: next, reserved, offset|M, id
    const d = e.data ?? [0, 0, 0, 0, 0, 1];
    return [next, 0, ...d];
  }
  const data = e.data ?? [1, 4, 0, 0, 0, 0]; // PadN of 4
  const len = Math.ceil((data.length + 2) / 8) * 8;
  const body = [...data, ...new Array(len - 2 - data.length).fill(0)];
  return [next, len / 8 - 1, ...body];
}
export function ipv6(o: V6Opts): Uint8Array {
  const ext = o.ext ?? [];
  const chain: number[] = [];
  ext.forEach((e, i) => chain.push(...extBytes(e, i + 1 < ext.length ? ext[i + 1]!.type : o.proto)));
  const payload = cat(chain, o.payload ?? new Uint8Array(0));
  const first = ext.length ? ext[0]!.type : o.proto;
  const w0 = (6 << 28) | ((o.tc ?? 0) << 20) | ((o.flowLabel ?? 0) & 0xfffff);
  return cat(be32(w0 >>> 0), be16(o.payloadLength ?? payload.length), [first, o.hopLimit ?? 64], v6bytes(o.src), v6bytes(o.dst), payload);
}
export function fragExt(offset8: number, more: boolean, id = 1): Ext {
  return { type: 44, data: [...be16((offset8 << 3) | (more ? 1 : 0)), ...be32(id)] };
}

export const tcp = (sport: number, dport: number, extra: number[] = []) =>
  cat(be16(sport), be16(dport), be32(1), be32(0), [0x50, 0x02], be16(65535), [0, 0, 0, 0], extra);
export const udp = (sport: number, dport: number, data: number[] = []) =>
  cat(be16(sport), be16(dport), be16(8 + data.length), [0, 0], data);
export const sctp = (sport: number, dport: number) => cat(be16(sport), be16(dport), be32(0xdeadbeef), be32(0));
export function icmp(type: number, code: number, rest: number[], body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const m = cat([type, code, 0, 0], rest, body);
  const c = checksum(m);
  m[2] = c >>> 8; m[3] = c & 255;
  return m;
}
/** ICMPv6 (checksum left 0: routers do not verify it on forwarding). */
export const icmpv6 = (type: number, code: number, rest: number[], body: Uint8Array = new Uint8Array(0)) =>
  cat([type, code, 0, 0], rest, body);

/** Linux cooked v1 / v2 headers around an EtherType payload. */
export const sll = (proto: number, payload: Uint8Array) => cat(be16(0), be16(1), be16(6), [2, 0, 0, 0, 0, 1, 0, 0], be16(proto), payload);
export const sll2 = (proto: number, payload: Uint8Array) => cat(be16(proto), [0, 0], be32(3), be16(1), [0, 6], [2, 0, 0, 0, 0, 1, 0, 0], payload);

// ---- captures ---------------------------------------------------------------------------

function w16(v: number, big: boolean) { return big ? be16(v) : [v & 255, (v >>> 8) & 255]; }
function w32(v: number, big: boolean) { return big ? be32(v >>> 0) : [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255]; }

export interface PcapPacket { data: Uint8Array; sec?: number; frac?: number; origLen?: number }
export function pcap(linkType: number, packets: PcapPacket[], o: { big?: boolean; nano?: boolean; snaplen?: number } = {}): Uint8Array {
  const big = !!o.big;
  const head = cat(w32(o.nano ? 0xa1b23c4d : 0xa1b2c3d4, big), w16(2, big), w16(4, big), w32(0, big), w32(0, big), w32(o.snaplen ?? 262144, big), w32(linkType, big));
  return cat(head, ...packets.flatMap((p) => [cat(w32(p.sec ?? 0, big), w32(p.frac ?? 0, big), w32(p.data.length, big), w32(p.origLen ?? p.data.length, big)), p.data]));
}

export interface NgInterface { linkType: number; snaplen?: number; tsresol?: number; tsoffset?: number }
export type NgBlock =
  | { kind: 'idb'; iface: NgInterface }
  | { kind: 'epb'; iface: number; data: Uint8Array; ts?: bigint; origLen?: number }
  | { kind: 'spb'; data: Uint8Array; origLen?: number }
  | { kind: 'other'; type: number; body?: number[] };

function block(type: number, body: Uint8Array, big: boolean): Uint8Array {
  const pad = (4 - (body.length % 4)) % 4;
  const len = 12 + body.length + pad;
  return cat(w32(type, big), w32(len, big), body, new Array(pad).fill(0), w32(len, big));
}
function option(code: number, value: number[], big: boolean): number[] {
  const pad = (4 - (value.length % 4)) % 4;
  return [...w16(code, big), ...w16(value.length, big), ...value, ...new Array(pad).fill(0)];
}
/** One pcapng section (SHB + blocks); concatenate sections for a multi-section file. */
export function pcapngSection(blocks: NgBlock[], o: { big?: boolean } = {}): Uint8Array {
  const big = !!o.big;
  const shb = block(0x0a0d0d0a, cat(w32(0x1a2b3c4d, big), w16(1, big), w16(0, big), [255, 255, 255, 255, 255, 255, 255, 255]), big);
  const parts: Uint8Array[] = [shb];
  for (const b of blocks) {
    if (b.kind === 'idb') {
      const opts: number[] = [];
      if (b.iface.tsresol !== undefined) opts.push(...option(9, [b.iface.tsresol], big));
      if (b.iface.tsoffset !== undefined) {
        const v = BigInt(b.iface.tsoffset);
        const hi = Number((v >> 32n) & 0xffffffffn), lo = Number(v & 0xffffffffn);
        opts.push(...option(14, big ? [...w32(hi, big), ...w32(lo, big)] : [...w32(lo, big), ...w32(hi, big)], big));
      }
      if (opts.length) opts.push(...option(0, [], big));
      parts.push(block(1, cat(w16(b.iface.linkType, big), w16(0, big), w32(b.iface.snaplen ?? 0, big), opts), big));
    } else if (b.kind === 'epb') {
      const ts = b.ts ?? 0n;
      parts.push(block(6, cat(w32(b.iface, big), w32(Number(ts >> 32n), big), w32(Number(ts & 0xffffffffn), big),
        w32(b.data.length, big), w32(b.origLen ?? b.data.length, big), b.data), big));
    } else if (b.kind === 'spb') {
      parts.push(block(3, cat(w32(b.origLen ?? b.data.length, big), b.data), big));
    } else {
      parts.push(block(b.type, Uint8Array.from(b.body ?? []), big));
    }
  }
  return cat(...parts);
}
