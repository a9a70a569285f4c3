// Address text <-> the numeric form the hash API takes: IPv4 as one host-order number
// (10.0.0.1 = 0x0a000001), IPv6 as four host-order 32-bit groups, most significant first.
import { ValidationError } from '../errors.js';

/** Parses dotted IPv4 text into a host-order number. */
export function ipv4ToNumber(text: string, field = 'address'): number {
  const parts = typeof text === 'string' ? text.split('.') : [];
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new ValidationError(field, text, 'must be an IPv4 address like 192.0.2.1');
  }
  return parts.reduce((acc, p) => (acc * 256 + Number(p)) >>> 0, 0);
}

/** Formats a host-order number as dotted IPv4 text. */
export function numberToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses IPv6 text (with ::, and an optional trailing dotted IPv4) into four 32-bit words. */
export function ipv6ToWords(text: string, field = 'address'): [number, number, number, number] {
  const bad = () => new ValidationError(field, text, 'must be an IPv6 address like 2001:db8::1');
  if (typeof text !== 'string' || text.length > 45) throw bad();
  let s = text;
  const groups: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  let tail: number[] = [];
  if (v4 && v4[1] !== undefined) {
    const n = ipv4ToNumber(v4[1], field);
    tail = [n >>> 16, n & 0xffff];
    s = s.slice(0, s.length - v4[1].length);
    if (s.endsWith(':') && !s.endsWith('::')) s = s.slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) throw bad();
  const parse = (h: string | undefined): number[] =>
    !h ? [] : h.split(':').map((g) => {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw bad();
      return parseInt(g, 16);
    });
  const head = parse(halves[0]);
  const rest = [...parse(halves[1]), ...tail];
  // lengths checked before anything is spread: an address of 200,000 groups must be refused, not
  // overflow the stack
  if (halves.length === 1) {
    if (head.length + rest.length !== 8) throw bad();
    groups.push(...head, ...rest); // bounded: 8 groups, checked above
  } else {
    const fill = 8 - head.length - rest.length;
    if (fill < 1) throw bad();
    groups.push(...head, ...new Array<number>(fill).fill(0), ...rest); // bounded: 8 groups, checked above
  }
  const w = (i: number) => (((groups[2 * i] ?? 0) << 16) | (groups[2 * i + 1] ?? 0)) >>> 0;
  return [w(0), w(1), w(2), w(3)];
}

/** Formats four 32-bit words as IPv6 text (no :: compression of runs, lowercase). */
export function wordsToIpv6(words: ArrayLike<number>): string {
  const g: string[] = [];
  for (let i = 0; i < 4; i++) {
    const w = (words[i] ?? 0) >>> 0;
    g.push((w >>> 16).toString(16), (w & 0xffff).toString(16));
  }
  return g.join(':');
}

/** 4 or 6, by the text's form. */
export function addressFamily(text: string): 4 | 6 {
  return typeof text === 'string' && text.includes(':') ? 6 : 4;
}
