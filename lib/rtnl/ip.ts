// IPv4/IPv6 address and prefix helpers shared by every rtnetlink module (links, addresses,
// routes, nexthops, rules). Pure, no I/O.
//
// Canonical text forms: IPv4 dotted quad without leading zeros ('10.0.0.1'); IPv6 as RFC 5952
// (lower case, longest run of two or more zero groups compressed, first one on a tie, dotted tail
// only for IPv4-mapped addresses '::ffff:a.b.c.d'), which is what the kernel and iproute2 print.
// Zone ids ('fe80::1%eth0') are refused: rtnetlink carries the interface separately.
import { ValidationError } from '../errors.js';

export type IpFamily = 4 | 6;

/** AF_INET / AF_INET6 as the kernel numbers them (include/linux/socket.h). */
export const AF_INET = 2;
export const AF_INET6 = 10;

export interface ParsedAddress {
  family: IpFamily;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
}

export interface ParsedPrefix extends ParsedAddress {
  prefixLength: number;
}

/**
 * Parses a dotted-quad IPv4 address strictly (four decimal parts 0..255, no leading zeros). One
 * pass over the characters: no split, no regex (bulk IPVS and route validation call it per item).
 */
export function parseIPv4(text: string): Uint8Array | undefined {
  const n = text.length;
  if (n < 7 || n > 15) return undefined;
  const out = new Uint8Array(4);
  let part = 0;
  let digits = 0;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || k === 3) return undefined;
      out[k++] = part;
      part = 0;
      digits = 0;
      continue;
    }
    if (c < 48 || c > 57) return undefined;
    if (digits === 1 && part === 0) return undefined; // a leading zero
    part = part * 10 + (c - 48);
    if (++digits > 3 || part > 255) return undefined;
  }
  if (digits === 0 || k !== 3) return undefined;
  out[3] = part;
  return out;
}

/** Parses an IPv6 address (with '::' compression and an optional dotted IPv4 tail). */
export function parseIPv6(text: string): Uint8Array | undefined {
  if (text.length < 2 || text.length > 45 || text.includes('%')) return undefined;
  const dbl = text.indexOf('::');
  if (dbl !== -1 && text.indexOf('::', dbl + 1) !== -1) return undefined;
  const groups: number[] = [];
  const parseSide = (s: string, allowV4Tail: boolean): number[] | undefined => {
    if (s === '') return [];
    const parts = s.split(':');
    const res: number[] = [];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (allowV4Tail && i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIPv4(p);
        if (!v4) return undefined;
        res.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
      res.push(parseInt(p, 16));
    }
    return res;
  };
  if (dbl === -1) {
    const g = parseSide(text, true);
    if (!g || g.length !== 8) return undefined;
    groups.push(...g); // bounded: length 8, checked above
  } else {
    const head = parseSide(text.slice(0, dbl), false);
    const tail = parseSide(text.slice(dbl + 2), true);
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    groups.push(...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail); // bounded: 8 groups, checked above
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i]! >> 8;
    out[2 * i + 1] = groups[i]! & 0xff;
  }
  return out;
}

/** Parses an IPv4 or IPv6 address; undefined if it is neither. */
export function parseAddress(text: string): ParsedAddress | undefined {
  if (typeof text !== 'string') return undefined;
  if (text.includes(':')) {
    const b = parseIPv6(text);
    return b ? { family: 6, bytes: b } : undefined;
  }
  const b = parseIPv4(text);
  return b ? { family: 4, bytes: b } : undefined;
}

/** Formats 4 or 16 network-order bytes in canonical form. */
export function formatAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) throw new RangeError(`an IP address is 4 or 16 bytes, got ${bytes.length}`);
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  // IPv4-mapped ::ffff:a.b.c.d (RFC 5952 section 5).
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff)
    return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  let bestStart = -1;
  let bestLen = 1; // a single zero group is never compressed (RFC 5952 4.2.2)
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** Canonical text of an address, or undefined if `text` is not one. */
export function canonicalAddress(text: string): string | undefined {
  const p = parseAddress(text);
  return p ? formatAddress(p.bytes) : undefined;
}

export function isIPv4(text: string): boolean {
  return typeof text === 'string' && parseIPv4(text) !== undefined;
}

export function isIPv6(text: string): boolean {
  return typeof text === 'string' && parseIPv6(text) !== undefined;
}

/** Parses 'ADDR/LEN' (or a bare address, which gets the full length 32/128). */
export function parsePrefix(text: string): ParsedPrefix | undefined {
  if (typeof text !== 'string') return undefined;
  const slash = text.indexOf('/');
  const addr = parseAddress(slash === -1 ? text : text.slice(0, slash));
  if (!addr) return undefined;
  const max = addr.family === 4 ? 32 : 128;
  if (slash === -1) return { ...addr, prefixLength: max };
  const lenText = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lenText)) return undefined;
  const len = Number(lenText);
  if (len > max) return undefined;
  return { ...addr, prefixLength: len };
}

/** Zeroes the host bits of `bytes` beyond `prefixLength` (a copy). */
export function maskAddress(bytes: Uint8Array, prefixLength: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < out.length; i++) {
    const bitsHere = Math.max(0, Math.min(8, prefixLength - 8 * i));
    out[i]! &= bitsHere === 0 ? 0 : (0xff << (8 - bitsHere)) & 0xff;
  }
  return out;
}

/** True when `bytes` has no bits set beyond `prefixLength` (a network address). */
export function isNetworkAddress(bytes: Uint8Array, prefixLength: number): boolean {
  const m = maskAddress(bytes, prefixLength);
  return m.every((b, i) => b === bytes[i]);
}

/** 'ADDR/LEN' in canonical form (the address as given, host bits kept). */
export function formatPrefix(bytes: Uint8Array, prefixLength: number): string {
  return `${formatAddress(bytes)}/${prefixLength}`;
}

/** Canonical 'NET/LEN' with host bits cleared ('10.1.2.3/8' -> '10.0.0.0/8'). */
export function canonicalPrefix(text: string): string | undefined {
  const p = parsePrefix(text);
  return p ? formatPrefix(maskAddress(p.bytes, p.prefixLength), p.prefixLength) : undefined;
}

/** Is `addr` inside `prefix`? Both must be the same family. */
export function prefixContains(prefix: ParsedPrefix, addr: ParsedAddress): boolean {
  if (prefix.family !== addr.family) return false;
  const a = maskAddress(addr.bytes, prefix.prefixLength);
  const p = maskAddress(prefix.bytes, prefix.prefixLength);
  return a.every((b, i) => b === p[i]);
}

/** Validating parse for API inputs: throws ValidationError naming `field`. */
export function requireAddress(field: string, value: unknown, family?: IpFamily): ParsedAddress {
  const p = typeof value === 'string' ? parseAddress(value) : undefined;
  if (!p) throw new ValidationError(field, value, family === 6 ? 'must be an IPv6 address' : family === 4 ? 'must be an IPv4 address' : 'must be an IPv4 or IPv6 address');
  if (family !== undefined && p.family !== family) throw new ValidationError(field, value, `must be an IPv${family} address`);
  return p;
}

/** Validating parse of 'ADDR/LEN' (a bare address means the full length): throws ValidationError. */
export function requirePrefix(field: string, value: unknown, family?: IpFamily): ParsedPrefix {
  const p = typeof value === 'string' ? parsePrefix(value) : undefined;
  if (!p) throw new ValidationError(field, value, 'must be an address or ADDR/LEN prefix (IPv4 /0..32, IPv6 /0..128)');
  if (family !== undefined && p.family !== family) throw new ValidationError(field, value, `must be an IPv${family} prefix`);
  return p;
}

/** Buffer view of an address's bytes (for the native encoders). */
export function addressBuffer(p: ParsedAddress): Buffer {
  return Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength);
}

/** 'aa:bb:cc:dd:ee:ff' from bytes (any length, as iproute2 prints link-layer addresses). */
export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Parses a colon- or dash-separated hex link-layer address ('02:00:00:00:00:01'). */
export function parseMac(text: string): Uint8Array | undefined {
  if (typeof text !== 'string' || !/^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2})*$/.test(text)) return undefined;
  return Uint8Array.from(text.split(/[:-]/), (h) => parseInt(h, 16));
}

export function familyOf(af: number): IpFamily | undefined {
  return af === AF_INET ? 4 : af === AF_INET6 ? 6 : undefined;
}

export function afOf(family: IpFamily): number {
  return family === 4 ? AF_INET : AF_INET6;
}
