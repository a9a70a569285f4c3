// The rule compiler: a typed match + actions (types.ts) into the nf_tables expression list the
// kernel runs, and back. Pure, no I/O; native/src/families/nft.cc encodes the expressions.
//
// The expression shapes are the ones nft itself emits for the same statements, so `nft list
// ruleset` prints lvskit's rules in nft's own syntax (payload offsets: include/uapi/linux/ip.h,
// ipv6.h, tcp.h/udp.h; expression semantics: net/netfilter/nft_*.c):
//   meta nfproto ipv4           meta load nfproto => reg 1; cmp eq reg 1 0x02
//   meta l4proto tcp            meta load l4proto => reg 1; cmp eq reg 1 0x06
//   ip saddr 10.0.0.0/8         payload load 4b @ network + 12 => reg 1; bitwise reg 1 = (reg 1 & 0xff000000) ^ 0; cmp eq reg 1 0x0a000000
//   ip6 daddr @set              payload load 16b @ network + 24 => reg 1; lookup reg 1 set
//   th dport 80 / 80-90         payload load 2b @ transport + 2 => reg 1; cmp eq (be16) / range eq from to
//   iifname "eth0"              meta load iifname => reg 1; cmp eq reg 1 "eth0" padded to IFNAMSIZ (16)
//   meta mark & 0xff == 0x10    meta load mark => reg 1; bitwise mask (host-order u32); cmp eq (host-order u32)
//   ct state new,established    ct load state => reg 1; bitwise mask of the state bits; cmp neq 0
//   counter                     counter
//   meta mark set 0x1           immediate reg 1 (host-order u32); meta set mark with reg 1
//   masquerade / snat to A:P    [immediate reg 1 A; immediate reg 2 P;] masq | nat snat ip addr reg 1 proto reg 2
//   accept/drop/jump c          immediate reg 0 (verdict)
import { ValidationError } from '../errors.js';
import { formatAddress, parseAddress, parsePrefix, maskAddress, type IpFamily } from '../rtnl/ip.js';
import { ExprKind, type ExprTuple, type NativeExpr } from './native-types.js';
import type { NftCtState, NftFamily, NftMatch, NftNat, NftPortRange, NftProtocol, NftRawExpression, NftRuleBody, NftVerdict } from './types.js';

// NFPROTO_* (include/uapi/linux/netfilter.h).
export const NFPROTO_INET = 1;
export const NFPROTO_IPV4 = 2;
export const NFPROTO_IPV6 = 10;
export const FAMILIES: Record<NftFamily, number> = { inet: NFPROTO_INET, ip: NFPROTO_IPV4, ip6: NFPROTO_IPV6 };
export const FAMILY_NAMES = new Map<number, NftFamily>([[NFPROTO_INET, 'inet'], [NFPROTO_IPV4, 'ip'], [NFPROTO_IPV6, 'ip6']]);

// Registers (nf_tables.h enum nft_registers): NFT_REG_VERDICT 0, NFT_REG_1 1 (16 bytes), NFT_REG_2 2.
const REG_VERDICT = 0;
const REG1 = 1;
const REG2 = 2;
// enum nft_payload_bases, nft_cmp_ops, nft_range_ops, nft_meta_keys, nft_ct_keys, nft_nat_types.
const PAYLOAD_NETWORK = 1;
const PAYLOAD_TRANSPORT = 2;
const CMP_EQ = 0;
const CMP_NEQ = 1;
const CMP_LTE = 3;
const CMP_GTE = 5;
const RANGE_EQ = 0;
const META_MARK = 3;
const META_IIFNAME = 6;
const META_OIFNAME = 7;
const META_NFPROTO = 15;
const META_L4PROTO = 16;
const CT_STATE = 0;
const NAT_SNAT = 0;
const NAT_DNAT = 1;
// Verdict codes: include/uapi/linux/netfilter.h NF_DROP 0, NF_ACCEPT 1; nf_tables.h NFT_JUMP -3,
// NFT_GOTO -4, NFT_RETURN -5.
const NF_DROP = 0;
const NF_ACCEPT = 1;
const NFT_JUMP = -3;
const NFT_GOTO = -4;
const NFT_RETURN = -5;
const NFT_LOOKUP_F_INV = 1;
const IFNAMSIZ = 16;

// Conntrack state bits (include/uapi/linux/netfilter/nf_conntrack_common.h NF_CT_STATE_BIT(ctinfo)
// = 1 << (ctinfo + 1), NF_CT_STATE_INVALID_BIT 1, NF_CT_STATE_UNTRACKED_BIT 1 << 6; ctinfo:
// IP_CT_ESTABLISHED 0, IP_CT_RELATED 1, IP_CT_NEW 2).
const CT_BITS: Record<NftCtState, number> = { invalid: 1, established: 2, related: 4, new: 8, untracked: 64 };
const PROTOCOLS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, sctp: 132, udplite: 136 };
const PROTOCOL_NAMES = new Map<number, NftProtocol>(Object.entries(PROTOCOLS).map(([k, v]) => [v, k as NftProtocol]));
const PORT_PROTOCOLS = new Set([6, 17, 132, 136]);
const U32_MAX = 0xffffffff;

/** An nft object name: 1..255 bytes (NFT_NAME_MAXLEN 256 with the NUL), no NUL. */
export function checkName(field: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0 || Buffer.byteLength(v) > 255 || v.includes('\0')) throw new ValidationError(field, v, 'must be a name of 1..255 bytes without NUL');
  return v;
}

export function checkFamily(field: string, v: unknown): NftFamily {
  if (v !== 'ip' && v !== 'ip6' && v !== 'inet') throw new ValidationError(field, v, "must be 'ip', 'ip6' or 'inet'");
  return v;
}

function checkInt(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ValidationError(field, v, `must be an integer in ${min}..${max}`);
  return v;
}

function tuple(kind: ExprKind, n: number[] = [], b0: Uint8Array | null = null, b1: Uint8Array | null = null, s = ''): ExprTuple {
  const t = [kind, 0, 0, 0, 0, 0, 0, 0, b0, b1, s] as ExprTuple;
  n.forEach((v, i) => (t[i + 1] = v));
  return t;
}

const os = { littleEndian: new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 };
/** The kernel's own byte order, for meta mark and ct state (host-order u32 values). */
const u32host = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return os.littleEndian ? b : Buffer.from([b[3]!, b[2]!, b[1]!, b[0]!]);
};
const readU32host = (b: Buffer): number => (os.littleEndian ? b.readUInt32LE(0) : b.readUInt32BE(0));
const be16 = (v: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
};

function protocolNumber(field: string, v: unknown): number {
  if (typeof v === 'string') {
    const n = PROTOCOLS[v];
    if (n === undefined) throw new ValidationError(field, v, `must be one of ${Object.keys(PROTOCOLS).join(', ')} or a number 0..255`);
    return n;
  }
  return checkInt(field, v, 0, 255);
}

function portRange(field: string, v: unknown): [number, number] {
  if (typeof v === 'number') return [checkInt(field, v, 0, 65535), v];
  if (typeof v !== 'object' || v === null) throw new ValidationError(field, v, 'must be a port (0..65535) or { start, end }');
  const r = v as NftPortRange;
  const start = checkInt(`${field}.start`, r.start, 0, 65535);
  const end = checkInt(`${field}.end`, r.end, 0, 65535);
  if (end < start) throw new ValidationError(`${field}.end`, end, `must be >= start (${start})`);
  return [start, end];
}

function ifnameBytes(field: string, v: unknown): Buffer {
  if (typeof v !== 'string' || v.length === 0 || /[\s/]/.test(v)) throw new ValidationError(field, v, "must be an interface name of 1..15 characters (a trailing '*' matches a prefix)");
  const wildcard = v.endsWith('*');
  const name = wildcard ? v.slice(0, -1) : v;
  if (Buffer.byteLength(name) > IFNAMSIZ - 1 || (wildcard && name.length === 0) || name.includes('*')) throw new ValidationError(field, v, "must be an interface name of 1..15 characters (a trailing '*' matches a prefix)");
  // An exact name compares all IFNAMSIZ bytes (NUL padded); a prefix compares only its bytes.
  return wildcard ? Buffer.from(name) : Buffer.concat([Buffer.from(name), Buffer.alloc(IFNAMSIZ - Buffer.byteLength(name))]);
}

const MATCH_FIELDS = new Set(['protocol', 'source', 'destination', 'sourceSet', 'destinationSet', 'sourcePort', 'destinationPort', 'destinationPortSet', 'iif', 'oif', 'mark', 'ctState', 'ipVersion']);

/** Compiles the match of a rule in table family `family` into expressions. */
function compileMatch(match: NftMatch, family: NftFamily, field: string, out: ExprTuple[]): IpFamily | undefined {
  if (typeof match !== 'object' || match === null) throw new ValidationError(field, match, 'must be an object');
  const f = (k: string) => `${field}.${k}`;
  for (const k in match) if (!MATCH_FIELDS.has(k)) throw new ValidationError(f(k), (match as Record<string, unknown>)[k], `is not a match field (known: ${[...MATCH_FIELDS].join(', ')})`);
  let ipv: IpFamily | undefined = family === 'ip' ? 4 : family === 'ip6' ? 6 : undefined;
  const need = (k: string, v: IpFamily) => {
    if (ipv !== undefined && ipv !== v) throw new ValidationError(f(k), (match as Record<string, unknown>)[k], family === 'inet' ? `mixes IPv${v} with IPv${ipv} in one rule` : `must be IPv${ipv} in a '${family}' table`);
    ipv = v;
  };
  if (match.ipVersion !== undefined) {
    if (match.ipVersion !== 4 && match.ipVersion !== 6) throw new ValidationError(f('ipVersion'), match.ipVersion, 'must be 4 or 6');
    need('ipVersion', match.ipVersion);
  }
  const src = match.source === undefined ? undefined : parsePrefix(match.source);
  if (match.source !== undefined && !src) throw new ValidationError(f('source'), match.source, 'must be an address or ADDR/LEN prefix');
  if (src) need('source', src.family);
  const dst = match.destination === undefined ? undefined : parsePrefix(match.destination);
  if (match.destination !== undefined && !dst) throw new ValidationError(f('destination'), match.destination, 'must be an address or ADDR/LEN prefix');
  if (dst) need('destination', dst.family);
  if ((match.sourceSet !== undefined || match.destinationSet !== undefined) && ipv === undefined)
    throw new ValidationError(f(match.sourceSet !== undefined ? 'sourceSet' : 'destinationSet'), match.sourceSet ?? match.destinationSet, "needs ipVersion (4 or 6) in an 'inet' table: the set's addresses have one family");
  // inet tables see both families: an address match first narrows to one (meta nfproto).
  if (family === 'inet' && ipv !== undefined) out.push(tuple(ExprKind.Meta, [META_NFPROTO, REG1, 0]), tuple(ExprKind.Cmp, [REG1, CMP_EQ], Buffer.from([ipv === 4 ? NFPROTO_IPV4 : NFPROTO_IPV6])));
  const proto = match.protocol === undefined ? undefined : protocolNumber(f('protocol'), match.protocol);
  if (proto !== undefined) out.push(tuple(ExprKind.Meta, [META_L4PROTO, REG1, 0]), tuple(ExprKind.Cmp, [REG1, CMP_EQ], Buffer.from([proto])));
  const addr = (p: NonNullable<typeof src>, isSrc: boolean) => {
    const len = p.family === 4 ? 4 : 16;
    const offset = p.family === 4 ? (isSrc ? 12 : 16) : isSrc ? 8 : 24;
    out.push(tuple(ExprKind.Payload, [PAYLOAD_NETWORK, offset, len, REG1]));
    const full = len * 8;
    if (p.prefixLength < full) {
      const mask = maskAddress(new Uint8Array(len).fill(0xff), p.prefixLength);
      out.push(tuple(ExprKind.Bitwise, [REG1, REG1, len], Buffer.from(mask), Buffer.alloc(len)));
    }
    out.push(tuple(ExprKind.Cmp, [REG1, CMP_EQ], Buffer.from(maskAddress(p.bytes, p.prefixLength))));
  };
  if (src) addr(src, true);
  if (dst) addr(dst, false);
  const setLookup = (k: 'sourceSet' | 'destinationSet', isSrc: boolean) => {
    const name = checkName(f(k), match[k]);
    const len = ipv === 4 ? 4 : 16;
    const offset = ipv === 4 ? (isSrc ? 12 : 16) : isSrc ? 8 : 24;
    out.push(tuple(ExprKind.Payload, [PAYLOAD_NETWORK, offset, len, REG1]), tuple(ExprKind.Lookup, [REG1, 0], null, null, name));
  };
  if (match.sourceSet !== undefined) setLookup('sourceSet', true);
  if (match.destinationSet !== undefined) setLookup('destinationSet', false);
  const ports: [string, unknown, number][] = [['sourcePort', match.sourcePort, 0], ['destinationPort', match.destinationPort, 2]];
  for (const [k, v, offset] of ports) {
    if (v === undefined) continue;
    if (proto === undefined || !PORT_PROTOCOLS.has(proto)) throw new ValidationError(f(k), v, `needs protocol tcp, udp, sctp or udplite, got ${describe(match.protocol)}`);
    const [a, b] = portRange(f(k), v);
    out.push(tuple(ExprKind.Payload, [PAYLOAD_TRANSPORT, offset, 2, REG1]));
    out.push(a === b ? tuple(ExprKind.Cmp, [REG1, CMP_EQ], be16(a)) : tuple(ExprKind.Range, [REG1, RANGE_EQ], be16(a), be16(b)));
  }
  if (match.destinationPortSet !== undefined) {
    const name = checkName(f('destinationPortSet'), match.destinationPortSet);
    if (proto === undefined || !PORT_PROTOCOLS.has(proto)) throw new ValidationError(f('destinationPortSet'), name, `needs protocol tcp, udp, sctp or udplite, got ${describe(match.protocol)}`);
    out.push(tuple(ExprKind.Payload, [PAYLOAD_TRANSPORT, 2, 2, REG1]), tuple(ExprKind.Lookup, [REG1, 0], null, null, name));
  }
  for (const [k, key] of [['iif', META_IIFNAME], ['oif', META_OIFNAME]] as const) {
    if (match[k] === undefined) continue;
    out.push(tuple(ExprKind.Meta, [key, REG1, 0]), tuple(ExprKind.Cmp, [REG1, CMP_EQ], ifnameBytes(f(k), match[k])));
  }
  if (match.mark !== undefined) {
    const m = match.mark;
    let value: number;
    let mask: number | undefined;
    if (typeof m === 'number') value = checkInt(f('mark'), m, 0, U32_MAX);
    else if (typeof m === 'object' && m !== null) {
      value = checkInt(f('mark.value'), m.value, 0, U32_MAX);
      mask = checkInt(f('mark.mask'), m.mask, 0, U32_MAX);
      if ((value & ~mask) >>> 0 !== 0) throw new ValidationError(f('mark.value'), value, `has bits outside mask 0x${mask.toString(16)}: it could never match`);
    } else throw new ValidationError(f('mark'), m, 'must be a u32 or { value, mask }');
    out.push(tuple(ExprKind.Meta, [META_MARK, REG1, 0]));
    if (mask !== undefined && mask !== U32_MAX) out.push(tuple(ExprKind.Bitwise, [REG1, REG1, 4], u32host(mask), Buffer.alloc(4)));
    out.push(tuple(ExprKind.Cmp, [REG1, CMP_EQ], u32host(value)));
  }
  if (match.ctState !== undefined) {
    if (!Array.isArray(match.ctState) || match.ctState.length === 0) throw new ValidationError(f('ctState'), match.ctState, `must be a non-empty array of ${Object.keys(CT_BITS).join(', ')}`);
    let bits = 0;
    match.ctState.forEach((s, i) => {
      const b = CT_BITS[s as NftCtState];
      if (b === undefined) throw new ValidationError(`${f('ctState')}[${i}]`, s, `must be one of ${Object.keys(CT_BITS).join(', ')}`);
      bits |= b;
    });
    out.push(tuple(ExprKind.Ct, [CT_STATE, REG1, -1]), tuple(ExprKind.Bitwise, [REG1, REG1, 4], u32host(bits), Buffer.alloc(4)), tuple(ExprKind.Cmp, [REG1, CMP_NEQ], Buffer.alloc(4)));
  }
  return ipv;
}

function describe(v: unknown): string {
  return v === undefined ? 'none' : JSON.stringify(v);
}

function compileVerdict(field: string, v: NftVerdict): ExprTuple {
  if (v === 'accept') return tuple(ExprKind.Immediate, [REG_VERDICT, NF_ACCEPT]);
  if (v === 'drop') return tuple(ExprKind.Immediate, [REG_VERDICT, NF_DROP]);
  if (v === 'return') return tuple(ExprKind.Immediate, [REG_VERDICT, NFT_RETURN]);
  if (typeof v === 'object' && v !== null) {
    if ('jump' in v) return tuple(ExprKind.Immediate, [REG_VERDICT, NFT_JUMP], null, null, checkName(`${field}.jump`, v.jump));
    if ('goto' in v) return tuple(ExprKind.Immediate, [REG_VERDICT, NFT_GOTO], null, null, checkName(`${field}.goto`, v.goto));
  }
  throw new ValidationError(field, v, "must be 'accept', 'drop', 'return', { jump: CHAIN } or { goto: CHAIN }");
}

function compileNat(field: string, nat: NftNat, family: NftFamily, ipv: IpFamily | undefined, out: ExprTuple[]): void {
  if (typeof nat !== 'object' || nat === null) throw new ValidationError(field, nat, "must be { type: 'masquerade' | 'snat' | 'dnat', ... }");
  if (nat.type === 'masquerade') {
    let regMin = 0;
    let regMax = 0;
    if (nat.ports !== undefined) {
      const [a, b] = portRange(`${field}.ports`, nat.ports);
      out.push(tuple(ExprKind.Immediate, [REG1], be16(a)), tuple(ExprKind.Immediate, [REG2], be16(b)));
      regMin = REG1;
      regMax = REG2;
    }
    out.push(tuple(ExprKind.Masq, [-1, regMin, regMax]));
    return;
  }
  if (nat.type !== 'snat' && nat.type !== 'dnat') throw new ValidationError(`${field}.type`, (nat as { type: unknown }).type, "must be 'masquerade', 'snat' or 'dnat'");
  const a = typeof nat.address === 'string' ? parseAddress(nat.address) : undefined;
  if (!a) throw new ValidationError(`${field}.address`, nat.address, 'must be an IPv4 or IPv6 address');
  if (family === 'ip' && a.family !== 4) throw new ValidationError(`${field}.address`, nat.address, "must be IPv4 in an 'ip' table");
  if (family === 'ip6' && a.family !== 6) throw new ValidationError(`${field}.address`, nat.address, "must be IPv6 in an 'ip6' table");
  if (ipv !== undefined && a.family !== ipv) throw new ValidationError(`${field}.address`, nat.address, `must be IPv${ipv} like the rule's match`);
  out.push(tuple(ExprKind.Immediate, [REG1], Buffer.from(a.bytes)));
  let regProtoMin = 0;
  let regProtoMax = 0;
  if (nat.port !== undefined) {
    const [p0, p1] = portRange(`${field}.port`, nat.port);
    out.push(tuple(ExprKind.Immediate, [REG2], be16(p0)));
    regProtoMin = REG2;
    if (p1 !== p0) {
      out.push(tuple(ExprKind.Immediate, [3], be16(p1)));
      regProtoMax = 3;
    } else regProtoMax = REG2;
  }
  out.push(tuple(ExprKind.Nat, [nat.type === 'snat' ? NAT_SNAT : NAT_DNAT, a.family === 4 ? NFPROTO_IPV4 : NFPROTO_IPV6, REG1, REG1, regProtoMin, regProtoMax, -1]));
}

/** Compiles a rule body for a table of `family` into the expression tuples of nftEncodeRule. */
export function compileRule(body: NftRuleBody, family: NftFamily, field = 'rule'): ExprTuple[] {
  if (typeof body !== 'object' || body === null) throw new ValidationError(field, body, 'must be a rule object');
  const out: ExprTuple[] = [];
  const ipv = body.match === undefined ? undefined : compileMatch(body.match, family, `${field}.match`, out);
  if (body.counter !== undefined && typeof body.counter !== 'boolean') throw new ValidationError(`${field}.counter`, body.counter, 'must be a boolean');
  if (body.counter) out.push(tuple(ExprKind.Counter));
  if (body.setMark !== undefined) {
    const m = checkInt(`${field}.setMark`, body.setMark, 0, U32_MAX);
    out.push(tuple(ExprKind.Immediate, [REG1], u32host(m)), tuple(ExprKind.Meta, [META_MARK, 0, REG1]));
  }
  if (body.nat !== undefined) compileNat(`${field}.nat`, body.nat, family, ipv, out);
  if (body.verdict !== undefined) out.push(compileVerdict(`${field}.verdict`, body.verdict));
  if (out.length === 0) throw new ValidationError(field, body, 'matches everything and does nothing: give a match and/or an action');
  return out;
}

const LE = os.littleEndian;

/**
 * Packs expression tuples for nftEncodeRule: per expression a 32-byte head [u8 kind, u8 len(b0),
 * u8 len(b1), u8 len(s), s32 n0..n6 in host order] then b0, b1 and s (nft_binding.cc
 * ExprsFromPacked). One argument crosses N-API instead of eleven property reads per expression.
 */
export function packExprs(exprs: ExprTuple[]): Buffer {
  let size = 0;
  for (const e of exprs) size += 32 + (e[8]?.length ?? 0) + (e[9]?.length ?? 0) + (e[10] ? Buffer.byteLength(e[10]) : 0);
  const b = Buffer.allocUnsafe(size);
  let off = 0;
  for (const e of exprs) {
    const b0 = e[8];
    const b1 = e[9];
    const sl = e[10] ? Buffer.byteLength(e[10]) : 0;
    b[off] = e[0];
    b[off + 1] = b0?.length ?? 0;
    b[off + 2] = b1?.length ?? 0;
    b[off + 3] = sl;
    for (let i = 0; i < 7; i++) {
      const v = e[i + 1] as number;
      if (LE) b.writeInt32LE(v | 0, off + 4 + 4 * i);
      else b.writeInt32BE(v | 0, off + 4 + 4 * i);
    }
    off += 32;
    if (b0) (b.set(b0, off), (off += b0.length));
    if (b1) (b.set(b1, off), (off += b1.length));
    if (sl) off += b.write(e[10], off);
  }
  return b;
}

// ---- decompiling --------------------------------------------------------------------------------

type Load =
  | { kind: 'payload'; base: number; offset: number; len: number }
  | { kind: 'meta'; key: number }
  | { kind: 'ct'; key: number };

function popcountPrefix(mask: Buffer): number | undefined {
  let bits = 0;
  let ended = false;
  for (const byte of mask) {
    for (let i = 7; i >= 0; i--) {
      const set = (byte >> i) & 1;
      if (set && ended) return undefined;
      if (set) bits++;
      else ended = true;
    }
  }
  return bits;
}

function rawOf(e: NativeExpr): NftRawExpression {
  const { kind, ...rest } = e as NativeExpr & Record<string, unknown>;
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) if (!(kind === 'unknown' && k === 'name')) fields[k] = Buffer.isBuffer(v) ? v.toString('hex') : v;
  return { name: kind === 'unknown' ? (e as { name: string }).name : kind, fields };
}

export interface DecompiledRule extends NftRuleBody {
  packets?: number;
  bytes?: number;
  unknown?: NftRawExpression[];
}

/**
 * Maps an expression list back to the typed form. Expressions that fit none of the typed shapes
 * (rules written by other tools) are listed in `unknown`, with their decoded fields.
 */
export function decompileRule(exprs: NativeExpr[], family: NftFamily): DecompiledRule {
  const out: DecompiledRule = {};
  const match: NftMatch = {};
  const unknown: NftRawExpression[] = [];
  const regs = new Map<number, Buffer>();
  let load: Load | undefined;
  let mask: Buffer | undefined;
  let rangeLow: number | undefined;
  let ipv: IpFamily | undefined = family === 'ip' ? 4 : family === 'ip6' ? 6 : undefined;
  const bad = (e: NativeExpr) => unknown.push(rawOf(e));
  const addrField = (l: Load): ['source' | 'destination', IpFamily, number] | undefined => {
    if (l.kind !== 'payload' || l.base !== PAYLOAD_NETWORK) return undefined;
    if (l.offset === 12 && l.len <= 4 && ipv !== 6) return ['source', 4, 4];
    if (l.offset === 16 && l.len <= 4 && ipv !== 6) return ['destination', 4, 4];
    if (l.offset === 8 && l.len <= 16 && ipv !== 4) return ['source', 6, 16];
    if (l.offset === 24 && l.len <= 16 && ipv !== 4) return ['destination', 6, 16];
    return undefined;
  };
  for (const e of exprs) {
    switch (e.kind) {
      case 'payload':
        if (e.dreg === REG1 || e.dreg === 8) (load = { kind: 'payload', base: e.base, offset: e.offset, len: e.len }), (mask = undefined);
        else bad(e);
        break;
      case 'meta':
        if (e.sreg) {
          const v = regs.get(e.sreg);
          if (e.key === META_MARK && v && v.length === 4) out.setMark = readU32host(v);
          else bad(e);
        } else (load = { kind: 'meta', key: e.key }), (mask = undefined);
        break;
      case 'ct':
        if (e.sreg) bad(e);
        else (load = { kind: 'ct', key: e.key }), (mask = undefined);
        break;
      case 'bitwise':
        if (load && e.sreg === e.dreg && e.xor.every((b) => b === 0)) mask = e.mask;
        else bad(e);
        break;
      case 'cmp': {
        if (!load) { bad(e); break; }
        const d = e.data;
        let ok = false;
        if (load.kind === 'meta' && e.op === CMP_EQ && !mask) {
          if (load.key === META_NFPROTO && d.length === 1) {
            ipv = d[0] === NFPROTO_IPV4 ? 4 : d[0] === NFPROTO_IPV6 ? 6 : undefined;
            if (ipv) (match.ipVersion = ipv), (ok = true);
          } else if (load.key === META_L4PROTO && d.length === 1) {
            match.protocol = PROTOCOL_NAMES.get(d[0]!) ?? d[0]!;
            ok = true;
          } else if ((load.key === META_IIFNAME || load.key === META_OIFNAME) && d.length <= IFNAMSIZ) {
            const nul = d.indexOf(0);
            const name = d.subarray(0, nul === -1 ? d.length : nul).toString();
            match[load.key === META_IIFNAME ? 'iif' : 'oif'] = nul === -1 ? `${name}*` : name;
            ok = true;
          }
        }
        if (load.kind === 'meta' && load.key === META_MARK && e.op === CMP_EQ && d.length === 4) {
          const value = readU32host(d);
          match.mark = mask ? { value, mask: readU32host(mask) } : value;
          ok = true;
        }
        if (load.kind === 'ct' && load.key === CT_STATE && e.op === CMP_NEQ && mask && d.every((b) => b === 0)) {
          const bits = readU32host(mask);
          match.ctState = (Object.keys(CT_BITS) as NftCtState[]).filter((s) => bits & CT_BITS[s]);
          ok = true;
        }
        const af = addrField(load);
        if (!ok && af && e.op === CMP_EQ) {
          const [which, fam, full] = af;
          const bytes = Buffer.alloc(full);
          d.copy(bytes, 0, 0, Math.min(d.length, full));
          const plen = mask ? popcountPrefix(mask) : (load as { len: number }).len * 8;
          if (plen !== undefined) {
            match[which] = plen === full * 8 ? formatAddress(bytes) : `${formatAddress(bytes)}/${plen}`;
            ipv ??= fam;
            ok = true;
          }
        }
        if (!ok && load.kind === 'payload' && load.base === PAYLOAD_TRANSPORT && load.len === 2 && (load.offset === 0 || load.offset === 2) && !mask && d.length === 2) {
          const which = load.offset === 0 ? 'sourcePort' : 'destinationPort';
          // nft 1.0 writes a port range as cmp gte + cmp lte on one load instead of a range.
          if (e.op === CMP_EQ) (match[which] = d.readUInt16BE(0)), (ok = true);
          else if (e.op === CMP_GTE) (rangeLow = d.readUInt16BE(0)), (ok = true);
          else if (e.op === CMP_LTE && rangeLow !== undefined) (match[which] = { start: rangeLow, end: d.readUInt16BE(0) }), (rangeLow = undefined), (ok = true);
        }
        if (!ok) bad(e);
        break;
      }
      case 'range':
        if (load && load.kind === 'payload' && load.base === PAYLOAD_TRANSPORT && load.len === 2 && (load.offset === 0 || load.offset === 2) && e.op === RANGE_EQ && !mask) {
          match[load.offset === 0 ? 'sourcePort' : 'destinationPort'] = { start: e.from.readUInt16BE(0), end: e.to.readUInt16BE(0) };
        } else bad(e);
        break;
      case 'lookup': {
        const af = load ? addrField(load) : undefined;
        if (e.flags & NFT_LOOKUP_F_INV || e.dreg || !load) bad(e);
        else if (af && load.kind === 'payload' && load.len === af[2]) match[af[0] === 'source' ? 'sourceSet' : 'destinationSet'] = e.set;
        else if (load.kind === 'payload' && load.base === PAYLOAD_TRANSPORT && load.offset === 2 && load.len === 2) match.destinationPortSet = e.set;
        else bad(e);
        break;
      }
      case 'immediate':
        if (e.dreg === REG_VERDICT && e.verdict !== undefined) {
          const v = e.verdict;
          if (v === NF_ACCEPT) out.verdict = 'accept';
          else if (v === NF_DROP) out.verdict = 'drop';
          else if (v === NFT_RETURN) out.verdict = 'return';
          else if (v === NFT_JUMP && e.chain) out.verdict = { jump: e.chain };
          else if (v === NFT_GOTO && e.chain) out.verdict = { goto: e.chain };
          else bad(e);
        } else if (e.data) regs.set(e.dreg, e.data);
        else bad(e);
        break;
      case 'counter':
        out.counter = true;
        out.packets = e.packets;
        out.bytes = e.bytes;
        break;
      case 'masq': {
        const nat: NftNat = { type: 'masquerade' };
        const a = regs.get(e.regProtoMin);
        const b = regs.get(e.regProtoMax);
        if (a && b) nat.ports = { start: a.readUInt16BE(0), end: b.readUInt16BE(0) };
        out.nat = nat;
        break;
      }
      case 'nat': {
        const addr = regs.get(e.regAddrMin);
        if (!addr || (addr.length !== 4 && addr.length !== 16) || (e.type !== NAT_SNAT && e.type !== NAT_DNAT)) { bad(e); break; }
        const nat: Extract<NftNat, { type: 'snat' }> | Extract<NftNat, { type: 'dnat' }> = { type: e.type === NAT_SNAT ? 'snat' : 'dnat', address: formatAddress(addr) };
        const p0 = regs.get(e.regProtoMin);
        const p1 = regs.get(e.regProtoMax);
        if (p0) nat.port = p1 && !p1.equals(p0) ? { start: p0.readUInt16BE(0), end: p1.readUInt16BE(0) } : p0.readUInt16BE(0);
        out.nat = nat;
        break;
      }
      default:
        bad(e);
    }
  }
  // ipVersion is reported only where it says something the addresses do not (inet tables).
  if (match.ipVersion !== undefined && (match.source || match.destination)) delete match.ipVersion;
  if (Object.keys(match).length) out.match = match;
  if (unknown.length) out.unknown = unknown;
  return out;
}

/** Set element bytes of a value for a set of `type`. */
export function elementBytes(field: string, type: string, v: unknown): Buffer {
  if (type === 'ipv4_addr' || type === 'ipv6_addr') {
    const want = type === 'ipv4_addr' ? 4 : 6;
    const a = typeof v === 'string' ? parseAddress(v) : undefined;
    if (!a || a.family !== want) throw new ValidationError(field, v, `must be an IPv${want} address`);
    return Buffer.from(a.bytes);
  }
  if (type === 'inet_service') return be16(checkInt(field, v, 0, 65535));
  return u32host(checkInt(field, v, 0, U32_MAX));
}

export function elementValue(type: string, b: Buffer): string | number {
  if (type === 'ipv4_addr' || type === 'ipv6_addr') return formatAddress(b);
  if (type === 'inet_service') return b.readUInt16BE(0);
  return readU32host(b);
}
