// Toeplitz (NIC RSS) hashing with per-byte lookup tables (native/src/hash/toeplitz.h).
import { ValidationError } from '../errors.js';
import { nativeHash } from './native-types.js';
import { checkArray } from './validate.js';

/** The RSS key most drivers default to (Microsoft's verification key, 40 bytes). */
export const MICROSOFT_RSS_KEY = Uint8Array.from(
  '6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa'.match(/../g)!.map((h) => parseInt(h, 16)),
);

/** A prepared Toeplitz key: build once, hash many batches. */
export class ToeplitzHasher {
  readonly key: Uint8Array;
  readonly #table: Uint32Array;
  readonly inputLength: number;

  /** key: at least 40 bytes for IPv6 4-tuples (input bytes + 4). */
  constructor(key: Uint8Array = MICROSOFT_RSS_KEY) {
    if (!(key instanceof Uint8Array) || key.length < 12) throw new ValidationError('key', key, 'must be a Uint8Array of at least 12 bytes');
    this.key = Uint8Array.from(key);
    this.inputLength = Math.min(36, key.length - 4);
    this.#table = new Uint32Array(this.inputLength * 256);
    nativeHash().toeplitzPrepare(this.key, this.inputLength, this.#table);
  }

  /** IPv4: 4-tuple hash when sport and dport are given, else the 2-tuple (addresses) hash. */
  hashV4(saddr: Uint32Array, daddr: Uint32Array, out: Uint32Array, sport?: Uint16Array, dport?: Uint16Array): Uint32Array {
    const o = checkArray('out', out, Uint32Array, 0);
    nativeHash().toeplitzV4(this.#table, checkArray('saddr', saddr, Uint32Array, o.length), checkArray('daddr', daddr, Uint32Array, o.length),
      sport ? checkArray('sport', sport, Uint16Array, o.length) : null, dport ? checkArray('dport', dport, Uint16Array, o.length) : null, o);
    return o;
  }

  /** IPv6 (4 words per address). */
  hashV6(saddr: Uint32Array, daddr: Uint32Array, out: Uint32Array, sport?: Uint16Array, dport?: Uint16Array): Uint32Array {
    const o = checkArray('out', out, Uint32Array, 0);
    nativeHash().toeplitzV6(this.#table, checkArray('saddr', saddr, Uint32Array, 4 * o.length), checkArray('daddr', daddr, Uint32Array, 4 * o.length),
      sport ? checkArray('sport', sport, Uint16Array, o.length) : null, dport ? checkArray('dport', dport, Uint16Array, o.length) : null, o);
    return o;
  }

  /** Hash of raw input bytes (bit-serial; for checks). */
  hashBytes(input: Uint8Array): number {
    return nativeHash().toeplitzBytes(this.key, checkArray('input', input, Uint8Array, 0));
  }
}

/** The receive queue: indirection[hash % indirection.length] (`ethtool -x` shows the table). */
export function rssQueue(hash: number, indirection: ArrayLike<number>): number {
  if (!indirection || indirection.length < 1) throw new ValidationError('indirection', indirection, 'must be a non-empty table');
  return indirection[(hash >>> 0) % indirection.length]!;
}
