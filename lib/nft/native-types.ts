// Native surface of the nf_tables and conntrack families (native/src/binding/nft_binding.cc,
// conntrack_binding.cc). Encoders append one request to a NativeBatch from positional, already
// validated values (-1 = absent); decoders turn one reply message into a plain object.
import type { NativeBatch } from '../addon-types.js';

/** NFT_MSG_* (include/uapi/linux/netfilter/nf_tables.h enum nf_tables_msg_types). */
export const enum NftMsg {
  NewTable = 0,
  GetTable = 1,
  DelTable = 2,
  NewChain = 3,
  GetChain = 4,
  DelChain = 5,
  NewRule = 6,
  GetRule = 7,
  DelRule = 8,
  NewSet = 9,
  GetSet = 10,
  DelSet = 11,
  NewSetElem = 12,
  GetSetElem = 13,
  DelSetElem = 14,
}

/** Expression kinds of an ExprTuple (native/src/families/nft.h ExprKind). */
export const enum ExprKind {
  Payload = 1,
  Cmp = 2,
  Bitwise = 3,
  Range = 4,
  Meta = 5,
  Ct = 6,
  Immediate = 7,
  Lookup = 8,
  Nat = 9,
  Masq = 10,
  Counter = 11,
}

/**
 * One expression to encode: [kind, n0..n6, b0, b1, s], packed by compile.ts packExprs. Per kind
 * (nft_binding.cc ExprFromFields):
 * payload (base, offset, len, dreg); cmp (sreg, op; b0 data); bitwise (sreg, dreg, len; b0 mask,
 * b1 xor); range (sreg, op; b0 from, b1 to); meta (key, dreg, sreg); ct (key, dreg, dir or -1);
 * immediate (dreg, verdict code when dreg is 0; b0 value; s chain); lookup (sreg, flags; s set);
 * nat (type, family, regAddrMin, regAddrMax, regProtoMin, regProtoMax, flags or -1);
 * masq (flags or -1, regProtoMin, regProtoMax); counter ().
 */
export type ExprTuple = [
  kind: ExprKind,
  n0: number, n1: number, n2: number, n3: number, n4: number, n5: number, n6: number,
  b0: Uint8Array | null, b1: Uint8Array | null, s: string,
];

/** A decoded expression (nft_binding.cc ExprJs). */
export type NativeExpr =
  | { kind: 'payload'; base: number; offset: number; len: number; dreg: number }
  | { kind: 'cmp'; sreg: number; op: number; data: Buffer }
  | { kind: 'bitwise'; sreg: number; dreg: number; len: number; mask: Buffer; xor: Buffer }
  | { kind: 'range'; sreg: number; op: number; from: Buffer; to: Buffer }
  | { kind: 'meta'; key: number; dreg: number; sreg: number }
  | { kind: 'ct'; key: number; dreg: number; sreg: number; dir: number }
  | { kind: 'immediate'; dreg: number; verdict?: number; chain?: string; data?: Buffer }
  | { kind: 'lookup'; set: string; sreg: number; dreg: number; flags: number }
  | { kind: 'nat'; type: number; family: number; regAddrMin: number; regAddrMax: number; regProtoMin: number; regProtoMax: number; flags: number }
  | { kind: 'masq'; flags: number; regProtoMin: number; regProtoMax: number }
  | { kind: 'counter'; packets: number; bytes: number }
  | { kind: 'unknown'; name: string; raw: Buffer };

/** What nftDecode returns: msg is the NFT_MSG_*, the rest depends on it. */
export interface NativeNftMessage {
  msg: number;
  family?: number;
  name?: string;
  flags?: number;
  handle?: number;
  use?: number;
  table?: string;
  chain?: string;
  hooknum?: number;
  priority?: number;
  type?: string;
  policy?: number;
  position?: number;
  exprs?: NativeExpr[];
  userdata?: Buffer;
  keyType?: number;
  keyLen?: number;
  set?: string;
  keys?: Buffer[];
}

/** nf_tables (nft_binding.cc). */
export interface NftNative {
  nftEncodeTable(batch: NativeBatch, msg: number, nlFlags: number, family: number, name: string, flags: number): void;
  nftEncodeChain(batch: NativeBatch, msg: number, nlFlags: number, family: number, table: string, name: string, hooknum: number, priority: number, type: string, policy: number): void;
  /** exprs: the packed expression list (compile.ts packExprs of ExprTuple[]). */
  nftEncodeRule(batch: NativeBatch, msg: number, nlFlags: number, family: number, table: string, chain: string, handle: number, position: number, exprs: Uint8Array): void;
  nftEncodeSet(batch: NativeBatch, msg: number, nlFlags: number, family: number, table: string, name: string, flags: number, keyType: number, keyLen: number, id: number): void;
  nftEncodeSetElems(batch: NativeBatch, msg: number, nlFlags: number, family: number, table: string, set: string, keys: Uint8Array[]): void;
  nftEncodeDump(batch: NativeBatch, msg: number, family: number, table: string, name: string): void;
  nftDecode(buffer: Buffer, offset: number): NativeNftMessage;
  /** The handle of an echoed NEWRULE (0 when absent). */
  nftHandle(buffer: Buffer, offset: number): number;
}
