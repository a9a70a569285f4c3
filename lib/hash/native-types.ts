// The native surface of native/src/binding/hash_binding.cc (exports.hash), part of NativeAddon
// in lib/addon-types.ts.
import { native } from '../native.js';

export interface NativeHash {
  siphash24(key: Uint8Array, data: Uint8Array): bigint;
  siphash13(key: Uint8Array, data: Uint8Array): bigint;
  jhash(data: Uint8Array, initval: number): number;
  jhash2(words: Uint32Array, initval: number): number;
  jhash3Words(a: number, b: number, c: number, initval: number): number;
  jhash2Words(a: number, b: number, initval: number): number;
  hash32(value: number, bits: number): number;
  mpHashV4(saddr: Uint32Array, daddr: Uint32Array, sport: Uint16Array | null, dport: Uint16Array | null,
    proto: Uint8Array | null, out: Uint32Array, policy: number, seed: number, fields: number, packetPath: boolean): void;
  mpHashV6(saddr: Uint32Array, daddr: Uint32Array, sport: Uint16Array | null, dport: Uint16Array | null,
    proto: Uint8Array | null, flowLabel: Uint32Array | null, out: Uint32Array, policy: number, seed: number,
    fields: number, packetPath: boolean): void;
  mpHashV4One(saddr: number, daddr: number, sport: number, dport: number, proto: number, policy: number,
    seed: number, fields: number, packetPath: boolean): number;
  mpPredictV4(saddr: Uint32Array, daddr: Uint32Array, sport: Uint16Array | null, dport: Uint16Array | null,
    proto: Uint8Array | null, upperBounds: Int32Array, out: Uint16Array, policy: number, seed: number,
    fields: number, packetPath: boolean): void;
  mpPredictV6(saddr: Uint32Array, daddr: Uint32Array, sport: Uint16Array | null, dport: Uint16Array | null,
    proto: Uint8Array | null, flowLabel: Uint32Array | null, upperBounds: Int32Array, out: Uint16Array,
    policy: number, seed: number, fields: number, packetPath: boolean): void;
  mpUpperBounds(weights: Uint32Array, alive: Uint8Array | null, out: Int32Array): void;
  mpSelect(hashes: Uint32Array, upperBounds: Int32Array, out: Uint16Array): void;
  mpResilient(hashes: Uint32Array, buckets: Uint32Array, out: Uint32Array): void;
  shBuild(weights: Int32Array, table: Uint16Array): void;
  dhBuild(count: number, table: Uint16Array): void;
  shLookup(table: Uint16Array, usable: Uint8Array, saddr: Uint32Array, addrWords: number, sport: Uint16Array | null,
    proto: Uint8Array | null, out: Uint16Array, flags: number): void;
  mhLookup(table: Uint16Array, usable: Uint8Array, saddr: Uint32Array, addrWords: number, sport: Uint16Array | null,
    proto: Uint8Array | null, out: Uint16Array, flags: number): void;
  dhLookup(table: Uint16Array, usable: Uint8Array, daddr: Uint32Array, addrWords: number, out: Uint16Array): void;
  mhBuild(addrKeys: Uint32Array, ports: Uint16Array, lastWeights: Int32Array, tabIndex: number, table: Uint16Array): boolean;
  mhHashKey(addrKey: number, port: number, offset: number, second: boolean): number;
  toeplitzPrepare(key: Uint8Array, inputLen: number, table: Uint32Array): void;
  toeplitzV4(table: Uint32Array, saddr: Uint32Array, daddr: Uint32Array, sport: Uint16Array | null,
    dport: Uint16Array | null, out: Uint32Array): void;
  toeplitzV6(table: Uint32Array, saddr: Uint32Array, daddr: Uint32Array, sport: Uint16Array | null,
    dport: Uint16Array | null, out: Uint32Array): void;
  toeplitzBytes(key: Uint8Array, input: Uint8Array): number;
  maglevBuild(offsets: Uint32Array, skips: Uint32Array, weights: Uint32Array | null, table: Uint32Array): boolean;
  maglevLookup(table: Uint32Array, hashes: Uint32Array, out: Uint32Array): void;
}

/** The hash part of the addon. */
export function nativeHash(): NativeHash {
  return native.hash;
}
