// Pure-TS references of the native hashes, written from the kernel sources independently of the
// C++ (BigInt SipHash, byte-built struct flow_keys), for differential tests. Slow by design.

const M64 = (1n << 64n) - 1n;
const rotl = (x: bigint, b: bigint) => ((x << b) | (x >> (64n - b))) & M64;

/** SipHash-c-d over bytes with 64-bit keys k0, k1 (lib/siphash.c). */
export function refSipHash(c: number, d: number, k0: bigint, k1: bigint, data: Uint8Array): bigint {
  let v0 = 0x736f6d6570736575n ^ k0, v1 = 0x646f72616e646f6dn ^ k1, v2 = 0x6c7967656e657261n ^ k0, v3 = 0x7465646279746573n ^ k1;
  const round = () => {
    v0 = (v0 + v1) & M64; v1 = rotl(v1, 13n); v1 ^= v0; v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & M64; v3 = rotl(v3, 16n); v3 ^= v2;
    v0 = (v0 + v3) & M64; v3 = rotl(v3, 21n); v3 ^= v0;
    v2 = (v2 + v1) & M64; v1 = rotl(v1, 17n); v1 ^= v2; v2 = rotl(v2, 32n);
  };
  const blocks = Math.floor(data.length / 8);
  const word = (off: number, len: number) => { let m = 0n; for (let i = len - 1; i >= 0; i--) m = (m << 8n) | BigInt(data[off + i]!); return m; };
  const compress = (m: bigint) => { v3 ^= m; for (let i = 0; i < c; i++) round(); v0 ^= m; };
  for (let b = 0; b < blocks; b++) compress(word(8 * b, 8));
  compress((BigInt(data.length & 255) << 56n) | word(8 * blocks, data.length % 8));
  v2 ^= 0xffn;
  for (let i = 0; i < d; i++) round();
  return v0 ^ v1 ^ v2 ^ v3;
}

const rol32 = (x: number, s: number) => ((x << s) | (x >>> (32 - s))) >>> 0;
/** jhash_2words(a, b, initval) (include/linux/jhash.h). */
export function refJhash2Words(a: number, b: number, initval: number): number {
  const iv = (initval + 0xdeadbeef + 8) >>> 0;
  a = (a + iv) >>> 0; b = (b + iv) >>> 0; let c = iv;
  c ^= b; c = (c - rol32(b, 14)) >>> 0;
  a ^= c; a = (a - rol32(c, 11)) >>> 0;
  b ^= a; b = (b - rol32(a, 25)) >>> 0;
  c ^= b; c = (c - rol32(b, 16)) >>> 0;
  a ^= c; a = (a - rol32(c, 4)) >>> 0;
  b ^= a; b = (b - rol32(a, 14)) >>> 0;
  c ^= b; c = (c - rol32(b, 24)) >>> 0;
  return c >>> 0;
}

export interface RefFlow { saddr: number[]; daddr: number[]; sport: number; dport: number; proto: number; flowLabel: number }

/**
 * fib_multipath_hash / rt6_multipath_hash for one flow (little-endian host): builds the 80-byte
 * struct flow_keys, consistentifies it and runs SipHash-2-4 over bytes 8..56 or 8..80.
 */
export function refMultipathHash(v6: boolean, f: RefFlow, policy: number, seed: number, fields: number, packetPath: boolean): number {
  let fl = policy === 1 ? 0x37 : policy === 3 ? fields & 0x3f & (v6 ? 0x3f : 0x37) : v6 ? 0x0f : 0x03;
  if (policy === 3 && (fields & 0x3f) === 0) return ((packetPath ? refJhash2Words(0, 0, 0) : 0) >>> 1);
  const k = new Uint8Array(80);
  const be32 = (off: number, v: number) => { k[off] = v >>> 24; k[off + 1] = (v >>> 16) & 255; k[off + 2] = (v >>> 8) & 255; k[off + 3] = v & 255; };
  const be16 = (off: number, v: number) => { k[off] = (v >>> 8) & 255; k[off + 1] = v & 255; };
  if (fl & 4) k[10] = f.proto;
  // Policy 3 on a packet: the flow dissector's ntohl(label) (host order); elsewhere raw be32.
  if (fl & 8) {
    if (policy === 3 && packetPath) new DataView(k.buffer).setUint32(12, f.flowLabel & 0xfffff, true);
    else be32(12, f.flowLabel & 0xfffff);
  }
  if (fl & 16) be16(36, f.sport);
  if (fl & 32) be16(38, f.dport);
  const aw = v6 ? 4 : 1, so = 44, dof = 44 + 4 * aw;
  for (let i = 0; i < aw; i++) {
    if (fl & 1) be32(so + 4 * i, f.saddr[i]!);
    if (fl & 2) be32(dof + 4 * i, f.daddr[i]!);
  }
  const view = new DataView(k.buffer);
  // __flow_hash_consistentify (6.2+): addresses by native u32 / memcmp, ports by native u16.
  let swapA = false;
  if (v6) {
    for (let i = 0; i < 16; i++) { if (k[dof + i] !== k[so + i]) { swapA = k[dof + i]! < k[so + i]!; break; } }
  } else {
    swapA = view.getUint32(dof, true) < view.getUint32(so, true);
  }
  if (swapA) for (let i = 0; i < 4 * aw; i++) { const t = k[so + i]!; k[so + i] = k[dof + i]!; k[dof + i] = t; }
  if (view.getUint16(38, true) < view.getUint16(36, true)) { const t = view.getUint16(36, true); view.setUint16(36, view.getUint16(38, true), true); view.setUint16(38, t, true); }
  const key = (BigInt(seed >>> 0) << 32n) | BigInt(seed >>> 0);
  let h = Number(refSipHash(2, 4, key, key, k.subarray(8, v6 ? 80 : 56)) & 0xffffffffn);
  if (h === 0) h = 1;
  if (policy === 3 && packetPath) h = refJhash2Words(h, 0, 0);
  return h >>> 1;
}

/** ip_vs_mh_hashkey(): hsiphash (SipHash-1-3, 64-bit keys) over le32(offset + port + addrKey). */
export function refMhHashKey(addrKey: number, port: number, offset: number, second: boolean): number {
  const v = (offset + port + addrKey) >>> 0;
  const k = second ? 2654446892n : 2654435761n;
  return Number(refSipHash(1, 3, k, k, Uint8Array.of(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24)) & 0xffffffffn);
}

/** hash_32(v, bits) (include/linux/hash.h). */
export function refHash32(v: number, bits: number): number {
  return bits === 0 ? 0 : Math.imul(v, 0x61c88647) >>> (32 - bits);
}

/** Bit-serial Toeplitz over input bytes. */
export function refToeplitz(key: Uint8Array, input: Uint8Array): number {
  let h = 0;
  for (let bit = 0; bit < input.length * 8; bit++) {
    if (!((input[bit >> 3]! >> (7 - (bit & 7))) & 1)) continue;
    let w = 0;
    for (let b = 0; b < 32; b++) { const kb = bit + b; w = (w << 1) | ((key[kb >> 3] ?? 0) >> (7 - (kb & 7)) & 1); }
    h ^= w;
  }
  return h >>> 0;
}
