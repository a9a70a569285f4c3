// Policy routing rules: add, delete, list, replace-by-priority and batches, over one NETLINK_ROUTE
// socket. Equivalent to `ip rule ...`. native/src/families/rule.cc encodes and decodes the bytes.
import { native } from '../native.js';
import { NetlinkSocket } from '../socket.js';
import { BatchError, reportOf, repliesOf, throwIfFailed, type BatchReport } from '../batch.js';
import { ValidationError } from '../errors.js';
import type { NativeBatch } from '../addon-types.js';
import type { NativeRule } from './native-types.js';
import {
  afFamily, checkFamily, checkInt, familyAf, ipProtoNumber, prefixOf, prefixText, protocolName, protocolNumber, tableNumber,
  type BatchOptions,
} from './route.js';
import type { PortRange, Rule, RuleAction, RuleSpec, RouteFamily } from './route-types.js';

export const RTM_NEWRULE = 32;
export const RTM_DELRULE = 33;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const RTPROT_BOOT = 3;
const FIB_RULE_INVERT = 0x2;
const FIB_RULE_IIF_DETACHED = 0x8;
const FIB_RULE_OIF_DETACHED = 0x10;
const U32_MAX = 0xffffffff;

/** FR_ACT_* (include/uapi/linux/fib_rules.h). */
const ACTIONS: Record<RuleAction, number> = { lookup: 1, goto: 2, nop: 3, blackhole: 6, unreachable: 7, prohibit: 8 };
const ACTION_NAMES = new Map<number, RuleAction>(Object.entries(ACTIONS).map(([k, v]) => [v, k as RuleAction]));

/** Wire values of one rule; -1 = absent for optional numbers. */
interface Prepared {
  family: number;
  dst: Uint8Array | null;
  dstLen: number;
  src: Uint8Array | null;
  srcLen: number;
  tos: number;
  action: number;
  flags: number;
  table: number;
  iif: string;
  oif: string;
  priority: number;
  goto: number;
  mark: number;
  mask: number;
  suppressPrefixlen: number;
  suppressIfgroup: number;
  l3mdev: boolean;
  uid: [number, number];
  protocol: number;
  ipProto: number;
  sport: [number, number];
  dport: [number, number];
  dscp: number;
  label: string;
}

function range(field: string, v: unknown, max: number): [number, number] {
  if (v === undefined) return [-1, 0];
  if (typeof v === 'number') {
    checkInt(field, v, 0, max);
    return [v, v];
  }
  if (typeof v !== 'object' || v === null) throw new ValidationError(field, v, `must be a number or { start, end } in 0..${max}`);
  const r = v as PortRange;
  const start = checkInt(`${field}.start`, r.start, 0, max);
  const end = checkInt(`${field}.end`, r.end, 0, max);
  if (end < start) throw new ValidationError(`${field}.end`, end, `must be >= start (${start})`);
  return [start, end];
}

function ifname(field: string, v: unknown): string {
  if (v === undefined) return '';
  if (typeof v !== 'string' || v.length === 0 || v.length > 15 || /[\s/]/.test(v)) throw new ValidationError(field, v, 'must be an interface name of 1..15 characters');
  return v;
}

/** For delete, only what was given is sent: the kernel matches on every attribute present. */
function prepare(spec: RuleSpec, field: string, forDelete: boolean): Prepared {
  if (typeof spec !== 'object' || spec === null) throw new ValidationError(field, spec, 'must be a rule object');
  const f = (k: string) => `${field}.${k}`;
  let family: RouteFamily | undefined = spec.family === undefined ? undefined : checkFamily(f('family'), spec.family);
  const src = spec.from === undefined ? { family, bytes: null, len: 0 } : prefixOf(f('from'), spec.from, family);
  family ??= src.family;
  const dst = spec.to === undefined ? { family, bytes: null, len: 0 } : prefixOf(f('to'), spec.to, family);
  family ??= dst.family;
  if (family === undefined) throw new ValidationError(f('family'), spec.family, 'must be 4 or 6 when neither from nor to names an address');
  let action = 0;
  if (spec.action !== undefined) {
    const a = ACTIONS[spec.action];
    if (a === undefined) throw new ValidationError(f('action'), spec.action, `must be one of ${Object.keys(ACTIONS).join(', ')}`);
    action = a;
  } else if (!forDelete || spec.table !== undefined) {
    action = spec.goto !== undefined ? ACTIONS.goto : ACTIONS.lookup;
  }
  const l3mdev = spec.l3mdev === true;
  let table = 0;
  if (action === ACTIONS.lookup) {
    if (l3mdev) {
      if (spec.table !== undefined) throw new ValidationError(f('table'), spec.table, 'cannot be combined with l3mdev (the VRF device names the table)');
    } else {
      table = tableNumber(f('table'), spec.table, forDelete ? 0 : 254);
    }
  } else if (spec.table !== undefined) {
    throw new ValidationError(f('table'), spec.table, `is only for action 'lookup', not '${spec.action}'`);
  }
  const goto = spec.goto === undefined ? -1 : checkInt(f('goto'), spec.goto, 0, U32_MAX);
  if (action === ACTIONS.goto && goto < 0) throw new ValidationError(f('goto'), spec.goto, "is required for action 'goto' (the priority to jump to)");
  if (goto >= 0 && action !== ACTIONS.goto) throw new ValidationError(f('goto'), spec.goto, "is only for action 'goto'");
  const priority = spec.priority === undefined ? -1 : checkInt(f('priority'), spec.priority, 0, U32_MAX);
  if (goto >= 0 && priority >= 0 && goto <= priority) throw new ValidationError(f('goto'), goto, `must jump forward, past this rule's priority ${priority}`);
  const mark = spec.fwmark === undefined ? -1 : checkInt(f('fwmark'), spec.fwmark, 0, U32_MAX);
  const mask = spec.fwmask === undefined ? -1 : checkInt(f('fwmask'), spec.fwmask, 0, U32_MAX);
  if (mask >= 0 && mark < 0) throw new ValidationError(f('fwmask'), spec.fwmask, 'needs fwmark');
  const uid = spec.uidRange === undefined ? [-1, 0] as [number, number] : range(f('uidRange'), spec.uidRange, U32_MAX - 1);
  const ipProto = ipProtoNumber(f('ipProto'), spec.ipProto);
  const sport = range(f('sport'), spec.sport, 65535);
  const dport = range(f('dport'), spec.dport, 65535);
  const maxPlen = family === 4 ? 32 : 128;
  const label = `${spec.priority ?? ''}${spec.from ? ` from ${spec.from}` : ''}${spec.to ? ` to ${spec.to}` : ''}${spec.fwmark !== undefined ? ` fwmark ${spec.fwmark}` : ''}`.trim();
  return {
    family: familyAf(family),
    dst: dst.bytes, dstLen: dst.len, src: src.bytes, srcLen: src.len,
    tos: spec.tos === undefined ? 0 : checkInt(f('tos'), spec.tos, 0, 255),
    action, flags: spec.not ? FIB_RULE_INVERT : 0, table,
    iif: ifname(f('iif'), spec.iif), oif: ifname(f('oif'), spec.oif),
    priority, goto, mark, mask,
    suppressPrefixlen: spec.suppressPrefixlength === undefined ? -1 : checkInt(f('suppressPrefixlength'), spec.suppressPrefixlength, 0, maxPlen),
    suppressIfgroup: spec.suppressIfgroup === undefined ? -1 : checkInt(f('suppressIfgroup'), spec.suppressIfgroup, 0, 0x7fffffff),
    l3mdev, uid,
    // Added rules default to RTPROT_BOOT like this library's routes and nexthops (the kernel
    // stores RTPROT_UNSPEC when FRA_PROTOCOL is absent, net/core/fib_rules.c); a delete sends it
    // only when given, since the kernel then matches on it.
    protocol: spec.protocol !== undefined ? protocolNumber(f('protocol'), spec.protocol, 0) : forDelete ? -1 : RTPROT_BOOT,
    ipProto, sport, dport,
    dscp: spec.dscp === undefined ? -1 : checkInt(f('dscp'), spec.dscp, 0, 63),
    label: label || 'rule',
  };
}

function encode(batch: NativeBatch, msgType: number, nlFlags: number, p: Prepared): void {
  native.ruleEncode(batch, msgType, nlFlags, p.family, p.dstLen, p.srcLen, p.tos, p.action, p.flags, p.table, p.dst, p.src,
    p.iif, p.oif, p.priority, p.goto, p.mark, p.mask, p.suppressPrefixlen, p.suppressIfgroup, p.l3mdev, p.uid[0], p.uid[1],
    p.protocol, p.ipProto, p.sport[0], p.sport[1], p.dport[0], p.dport[1], p.dscp);
}

/** Converts a decoded RTM_NEWRULE/DELRULE into the public Rule shape. */
export function ruleFromNative(n: NativeRule): Rule {
  const family = afFamily(n.family) ?? 4;
  const r: Rule = {
    family,
    priority: n.priority ?? 0,
    tos: n.tos,
    action: ACTION_NAMES.get(n.action) ?? n.action,
    protocol: protocolName(n.protocol ?? 0),
  };
  if (n.srcLen || n.src) r.from = prefixText(family, n.src, n.srcLen);
  if (n.dstLen || n.dst) r.to = prefixText(family, n.dst, n.dstLen);
  if (n.iifname) r.iif = n.iifname;
  if (n.oifname) r.oif = n.oifname;
  if (n.mark !== undefined) r.fwmark = n.mark;
  if (n.mask !== undefined) r.fwmask = n.mask;
  if (n.dscp !== undefined) r.dscp = n.dscp;
  if (n.ipProto) r.ipProto = n.ipProto;
  if (n.sportStart !== undefined) r.sport = { start: n.sportStart, end: n.sportEnd! };
  if (n.dportStart !== undefined) r.dport = { start: n.dportStart, end: n.dportEnd! };
  if (n.uidStart !== undefined) r.uidRange = { start: n.uidStart, end: n.uidEnd! };
  if (n.flags & FIB_RULE_INVERT) r.not = true;
  if (n.flags & FIB_RULE_IIF_DETACHED) r.iifDetached = true;
  if (n.flags & FIB_RULE_OIF_DETACHED) r.oifDetached = true;
  if (n.l3mdev) r.l3mdev = true;
  if (r.action === 'lookup' && n.table) r.table = n.table;
  if (n.goto !== undefined) r.goto = n.goto;
  if (n.suppressPrefixlen !== undefined) r.suppressPrefixlength = n.suppressPrefixlen;
  if (n.suppressIfgroup !== undefined) r.suppressIfgroup = n.suppressIfgroup;
  return r;
}

/** Decodes one raw RTM_NEWRULE / RTM_DELRULE message (for the events stream). */
export function decodeRuleMessage(buffer: Buffer, offset: number): { kind: 'new' | 'del'; rule: Rule } {
  const n = native.ruleDecode(buffer, offset);
  return { kind: n.msgType === RTM_DELRULE ? 'del' : 'new', rule: ruleFromNative(n) };
}

/** Policy routing rules of one network namespace. */
export class Rules {
  readonly #socket: NetlinkSocket;

  constructor(socket: NetlinkSocket) {
    if (!(socket instanceof NetlinkSocket)) throw new ValidationError('socket', socket, 'must be a NetlinkSocket opened with protocol "route"');
    this.#socket = socket;
  }

  /**
   * Adds a rule. Equivalent to `ip rule add priority 100 from 10.0.0.0/8 fwmark 0x10/0xff
   * ipproto tcp dport 443 lookup 1000`. EEXIST when an identical rule exists.
   */
  async add(rule: RuleSpec): Promise<void> {
    const p = prepare(rule, 'rule', false);
    const batch = this.#socket.newBatch();
    encode(batch, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, p);
    throwIfFailed(await this.#socket.run(batch, `addRule ${p.label}`), `addRule ${p.label}`);
  }

  /**
   * Deletes the first rule matching every field given (the kernel's rule_find); e.g.
   * `{ family: 4, priority: 100 }` deletes the first IPv4 rule at 100. Equivalent to `ip rule del ...`.
   */
  async delete(rule: RuleSpec): Promise<void> {
    const p = prepare(rule, 'rule', true);
    const batch = this.#socket.newBatch();
    encode(batch, RTM_DELRULE, 0, p);
    throwIfFailed(await this.#socket.run(batch, `deleteRule ${p.label}`), `deleteRule ${p.label}`);
  }

  /**
   * Replaces whatever rules sit at `rule.priority` (same family) with this one: the deletes and
   * the add travel in one sendmsg, so lookups see the old rules or the new one with no gap longer
   * than the kernel's own processing. Equivalent to `ip rule del priority P; ip rule add priority P ...`.
   */
  async replaceByPriority(rule: RuleSpec): Promise<BatchReport> {
    const p = prepare(rule, 'rule', false);
    if (p.priority < 0) throw new ValidationError('rule.priority', rule.priority, 'is required to replace by priority');
    const family = afFamily(p.family)!;
    const existing = (await this.list({ family })).filter((r) => r.priority === p.priority);
    const batch = this.#socket.newBatch();
    const del = prepare({ family, priority: p.priority }, 'rule', true);
    for (let i = 0; i < existing.length; i++) encode(batch, RTM_DELRULE, 0, del);
    encode(batch, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, p);
    const raw = await this.#socket.run(batch, `replaceRule ${p.priority}`, { stopOnError: true });
    const report = reportOf(raw, (i) => (i < existing.length ? `deleteRule ${p.priority}` : `addRule ${p.label}`));
    if (!report.ok) throw new BatchError(report);
    return report;
  }

  /** Every rule of both families (or one), in priority order. Equivalent to `ip rule show` and `ip -6 rule show`. */
  async list(options: { family?: RouteFamily } = {}): Promise<Rule[]> {
    const families = options.family === undefined ? [4, 6] as const : [checkFamily('family', options.family)];
    const batch = this.#socket.newBatch();
    for (const f of families) native.ruleEncodeDump(batch, familyAf(f));
    const raw = await this.#socket.run(batch, 'listRules', { large: true });
    const out: Rule[] = [];
    families.forEach((_, i) => {
      throwIfFailed(raw, 'listRules', i);
      for (const [off] of repliesOf(raw, i)) {
        if (raw.replies.readUInt16LE(off + 4) !== RTM_NEWRULE) continue;
        out.push(ruleFromNative(native.ruleDecode(raw.replies, off)));
      }
    });
    return out;
  }

  /** Adds many rules in one go: one result per item. */
  async addMany(rules: RuleSpec[], options: BatchOptions = {}): Promise<BatchReport> {
    return this.#many(RTM_NEWRULE, rules, options);
  }

  /** Deletes many rules in one go: one result per item. */
  async deleteMany(rules: RuleSpec[], options: Omit<BatchOptions, 'rollback'> = {}): Promise<BatchReport> {
    return this.#many(RTM_DELRULE, rules, options);
  }

  async #many(msgType: number, specs: RuleSpec[], options: BatchOptions): Promise<BatchReport> {
    if (!Array.isArray(specs)) throw new ValidationError('rules', specs, 'must be an array of rules');
    const add = msgType === RTM_NEWRULE;
    if (options.rollback && !add) throw new ValidationError('rollback', options.rollback, 'is supported for addMany only');
    const prepared = specs.map((s, i) => prepare(s, `rules[${i}]`, !add));
    const batch = this.#socket.newBatch();
    for (const p of prepared) encode(batch, msgType, add ? NLM_F_CREATE | NLM_F_EXCL : 0, p);
    const op = add ? 'addRule' : 'deleteRule';
    const raw = await this.#socket.run(batch, `${op} x${prepared.length}`, { stopOnError: options.stopOnError === true || options.rollback === true });
    const report = reportOf(raw, (i) => `${op} ${prepared[i]!.label}`);
    if (!report.ok && options.rollback) {
      const undo = this.#socket.newBatch();
      const applied = [...report.applied].reverse();
      for (const i of applied) encode(undo, RTM_DELRULE, 0, prepared[i]!);
      const rb = reportOf(await this.#socket.run(undo, 'rollback addRule'), (k) => `rollback deleteRule ${prepared[applied[k]!]!.label}`);
      throw new BatchError(report, rb);
    }
    return report;
  }
}
