// The hash primitives the kernel uses, exposed for checks and custom schemes.
import { ValidationError } from '../errors.js';
import { nativeHash } from './native-types.js';
import { checkArray, checkInt } from './validate.js';

function key16(key: Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== 16) throw new ValidationError('key', key, 'must be a 16-byte Uint8Array');
  return key;
}

/** SipHash-2-4 (lib/siphash.c siphash()): 64-bit result. */
export function siphash24(key: Uint8Array, data: Uint8Array): bigint {
  return nativeHash().siphash24(key16(key), checkArray('data', data, Uint8Array, 0));
}

/** SipHash-1-3 (the kernel's hsiphash on 64-bit machines keeps the low 32 bits). */
export function siphash13(key: Uint8Array, data: Uint8Array): bigint {
  return nativeHash().siphash13(key16(key), checkArray('data', data, Uint8Array, 0));
}

/** The 16-byte key whose two little-endian halves are k0 and k1. */
export function sipKey(k0: bigint, k1: bigint): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt.asUintN(64, k0), true);
  v.setBigUint64(8, BigInt.asUintN(64, k1), true);
  return b;
}

/** jhash() over bytes (include/linux/jhash.h). */
export function jhash(data: Uint8Array, initval = 0): number {
  return nativeHash().jhash(checkArray('data', data, Uint8Array, 0), checkInt('initval', initval, 0, 0xffffffff));
}

/** jhash2() over 32-bit words. */
export function jhash2(words: Uint32Array, initval = 0): number {
  return nativeHash().jhash2(checkArray('words', words, Uint32Array, 0), checkInt('initval', initval, 0, 0xffffffff));
}

/** jhash_3words(a, b, c, initval). */
export function jhash3Words(a: number, b: number, c: number, initval = 0): number {
  return nativeHash().jhash3Words(checkInt('a', a, 0, 0xffffffff), checkInt('b', b, 0, 0xffffffff), checkInt('c', c, 0, 0xffffffff), checkInt('initval', initval, 0, 0xffffffff));
}

/** jhash_2words(a, b, initval). */
export function jhash2Words(a: number, b: number, initval = 0): number {
  return nativeHash().jhash2Words(checkInt('a', a, 0, 0xffffffff), checkInt('b', b, 0, 0xffffffff), checkInt('initval', initval, 0, 0xffffffff));
}

/** hash_32(value, bits) (include/linux/hash.h). */
export function hash32(value: number, bits: number): number {
  return nativeHash().hash32(checkInt('value', value, 0, 0xffffffff), checkInt('bits', bits, 0, 32));
}
