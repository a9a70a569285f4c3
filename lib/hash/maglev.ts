// Maglev consistent hashing in the paper's form (native/src/hash/maglev.h).
import { ValidationError } from '../errors.js';
import { nativeHash } from './native-types.js';
import { checkArray, checkInt } from './validate.js';

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

export interface MaglevBackend {
  /** Any stable identity (hashed with SipHash-2-4 for offset and skip), or explicit values. */
  name?: string;
  offset?: number;
  skip?: number;
  /** Slots claimed per turn (0 removes the backend). Default 1. */
  weight?: number;
}

const enc = new TextEncoder();
const KEY_OFFSET = new Uint8Array(16).fill(0x6f);
const KEY_SKIP = new Uint8Array(16).fill(0x73);

/** A Maglev lookup table of size M (a prime, > 100 x backends advised; the paper uses 65537). */
export class MaglevTable {
  readonly size: number;
  readonly table: Uint32Array;

  constructor(backends: readonly MaglevBackend[], size = 65537) {
    const m = checkInt('size', size, 2, 0x7fffffff);
    if (!isPrime(m)) throw new ValidationError('size', size, 'must be a prime');
    if (!Array.isArray(backends)) throw new ValidationError('backends', backends, 'must be an array');
    const n = backends.length;
    const offsets = new Uint32Array(n), skips = new Uint32Array(n), weights = new Uint32Array(n);
    const nh = nativeHash();
    backends.forEach((b, i) => {
      if (b.name !== undefined) {
        const bytes = enc.encode(String(b.name));
        offsets[i] = Number(nh.siphash24(KEY_OFFSET, bytes) % BigInt(m));
        skips[i] = Number(nh.siphash24(KEY_SKIP, bytes) % BigInt(m - 1)) + 1;
      } else {
        offsets[i] = checkInt(`backends[${i}].offset`, b.offset, 0, m - 1);
        skips[i] = checkInt(`backends[${i}].skip`, b.skip, 1, m - 1);
      }
      weights[i] = checkInt(`backends[${i}].weight`, b.weight ?? 1, 0, 0xffff);
    });
    this.size = m;
    this.table = new Uint32Array(m);
    if (!nh.maglevBuild(offsets, skips, weights, this.table)) throw new ValidationError('backends', backends, 'produced an invalid permutation');
  }

  /** out[i] = backend index for hashes[i] (table[hash % M]); 0xffffffff if no backend. */
  lookup(hashes: Uint32Array, out: Uint32Array): Uint32Array {
    const o = checkArray('out', out, Uint32Array, 0);
    nativeHash().maglevLookup(this.table, checkArray('hashes', hashes, Uint32Array, o.length), o);
    return o;
  }
}
