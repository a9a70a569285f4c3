// Nft: nf_tables of one network namespace over one NETLINK_NETFILTER socket. Every change is an
// nfnetlink transaction (NFNL_MSG_BATCH_BEGIN ... END): a call's changes apply all together or
// not at all. `Nft.open({ netns: 'lb' })` is the programmatic `nft -f` inside `ip netns exec lb`.
// native/src/families/nft.cc encodes and decodes the bytes; compile.ts turns typed rules into
// expressions and back.
import { native } from '../native.js';
import { NetlinkSocket, type NetnsSpec } from '../socket.js';
import { BatchError, reportOf, repliesOf, throwIfFailed, type BatchReport } from '../batch.js';
import { NetlinkError, ValidationError } from '../errors.js';
import type { NativeBatch, RawOutcome } from '../addon-types.js';
import { NftMsg, type NativeNftMessage } from './native-types.js';
import { FAMILIES, FAMILY_NAMES, checkFamily, checkName, compileRule, decompileRule, elementBytes, elementValue, packExprs } from './compile.js';
import type {
  NftChain, NftChainSpec, NftFamily, NftHook, NftRule, NftRuleBody, NftRuleSpec, NftSet, NftSetSpec, NftSetType, NftTable, NftTableDefinition,
  NftTableSpec,
} from './types.js';

/** How many dumps listElements makes at most while looking for two in a row that agree. */
const LIST_ELEMENT_ATTEMPTS = 8;

/** NFNL_SUBSYS_NFTABLES (include/uapi/linux/netfilter/nfnetlink.h). */
export const NFNL_SUBSYS_NFTABLES = 10;
const NLM_F_ECHO = 0x8;
const NLM_F_APPEND = 0x800;
const NLM_F_CREATE = 0x400;
const NLM_F_EXCL = 0x200;
const NFT_TABLE_F_DORMANT = 1;
const NO_EXPRS = new Uint8Array(0);
// Keys of at most 16 bytes take 28 bytes each in an element list: 1024 stay near 28 KiB.
const ELEMENTS_PER_MESSAGE = 1024;

// enum nf_inet_hooks (include/uapi/linux/netfilter.h).
const HOOKS: Record<NftHook, number> = { prerouting: 0, input: 1, forward: 2, output: 3, postrouting: 4 };
const HOOK_NAMES = new Map<number, NftHook>(Object.entries(HOOKS).map(([k, v]) => [v, k as NftHook]));
// nft's named priorities (nftables doc: "standard priority names").
const PRIORITIES: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };
// Which hooks each chain type may use (net/netfilter/nft_chain_filter.c, nft_chain_nat.c, nft_chain_route.c).
const TYPE_HOOKS: Record<string, NftHook[]> = {
  filter: ['prerouting', 'input', 'forward', 'output', 'postrouting'],
  nat: ['prerouting', 'input', 'output', 'postrouting'],
  route: ['output'],
};
// nftables' datatype numbers (src/datatype.h enum datatypes: TYPE_IPADDR 7, TYPE_IP6ADDR 8,
// TYPE_INET_SERVICE 13, TYPE_MARK 19): the kernel only stores them; `nft list` reads them.
const SET_TYPES: Record<NftSetType, [keyType: number, keyLen: number]> = { ipv4_addr: [7, 4], ipv6_addr: [8, 16], inet_service: [13, 2], mark: [19, 4] };
const SET_TYPE_NAMES = new Map<number, NftSetType>(Object.entries(SET_TYPES).map(([k, v]) => [v[0], k as NftSetType]));

export interface NftOptions {
  /** The namespace: a name (/run/netns/NAME), { name }, { path } or { pid }. Default: the caller's. */
  netns?: NetnsSpec;
  /** Receive buffer of the socket in bytes. Default 32 MiB. */
  receiveBufferBytes?: number;
}

export interface NftTransactionOptions {
  /**
   * Return each new rule's handle as its item's value (the kernel echoes every new rule:
   * NLM_F_ECHO). Default true; false halves what the kernel sends back for big transactions.
   */
  handles?: boolean;
}

/** What one item of a transaction returned: the handle the kernel gave a new rule. */
export interface NftItemValue {
  handle: number;
}

interface Op {
  label: string;
  encode(batch: NativeBatch): void;
}

const familyNumber = (f: NftFamily) => FAMILIES[f];
function familyName(n: number | undefined): NftFamily {
  return FAMILY_NAMES.get(n ?? -1) ?? ('inet' as NftFamily);
}

function tableOf(field: string, spec: { family: unknown; table: unknown }): { family: NftFamily; table: string } {
  if (typeof spec !== 'object' || spec === null) throw new ValidationError(field, spec, 'must be an object');
  return { family: checkFamily(`${field}.family`, spec.family), table: checkName(`${field}.table`, spec.table) };
}

function chainArgs(field: string, c: NftChainSpec): [hook: number, priority: number, type: string, policy: number] {
  const f = (k: string) => `${field}.${k}`;
  if (c.hook === undefined) {
    for (const k of ['type', 'priority', 'policy'] as const)
      if (c[k] !== undefined) throw new ValidationError(f(k), c[k], 'is only for base chains (give hook)');
    return [-1, 0, '', -1];
  }
  const hook = HOOKS[c.hook];
  if (hook === undefined) throw new ValidationError(f('hook'), c.hook, `must be one of ${Object.keys(HOOKS).join(', ')}`);
  const type = c.type ?? 'filter';
  const allowed = TYPE_HOOKS[type];
  if (!allowed) throw new ValidationError(f('type'), c.type, "must be 'filter', 'route' or 'nat'");
  if (!allowed.includes(c.hook)) throw new ValidationError(f('hook'), c.hook, `is not a hook of '${type}' chains (${allowed.join(', ')})`);
  let priority: number;
  if (c.priority === undefined) priority = type === 'nat' ? (c.hook === 'prerouting' || c.hook === 'output' ? -100 : 100) : 0;
  else if (typeof c.priority === 'string') {
    const p = PRIORITIES[c.priority];
    if (p === undefined) throw new ValidationError(f('priority'), c.priority, `must be an integer or one of ${Object.keys(PRIORITIES).join(', ')}`);
    priority = p;
  } else if (Number.isInteger(c.priority) && c.priority >= -2147483648 && c.priority <= 2147483647) priority = c.priority;
  else throw new ValidationError(f('priority'), c.priority, 'must be an integer in -2147483648..2147483647 or a priority name');
  if (type === 'nat' && priority <= -200) throw new ValidationError(f('priority'), c.priority, 'must be above -200 (NF_IP_PRI_CONNTRACK) for a nat chain');
  let policy = -1;
  if (c.policy !== undefined) {
    if (c.policy !== 'accept' && c.policy !== 'drop') throw new ValidationError(f('policy'), c.policy, "must be 'accept' or 'drop'");
    policy = c.policy === 'accept' ? 1 : 0;
  }
  return [hook, priority, type, policy];
}

/**
 * An atomic set of nf_tables changes: build it with the add/delete methods, then commit() sends
 * everything as one nfnetlink transaction. Equivalent to one `nft -f FILE` run.
 */
export class NftTransaction {
  readonly #socket: NetlinkSocket;
  readonly #ops: Op[] = [];
  readonly #echo: boolean;
  #setIds = 0;
  #committed = false;

  /** @internal */
  constructor(socket: NetlinkSocket, options: NftTransactionOptions = {}) {
    this.#socket = socket;
    this.#echo = options.handles !== false;
  }

  get length(): number {
    return this.#ops.length;
  }

  #push(label: string, encode: (b: NativeBatch) => void): this {
    if (this.#committed) throw new ValidationError('transaction', 'committed', 'was already committed: start a new one');
    this.#ops.push({ label, encode });
    return this;
  }

  /** Equivalent to `nft add table FAMILY NAME` (no error when it exists; `create` with exclusive). */
  addTable(spec: NftTableSpec, options: { exclusive?: boolean } = {}): this {
    const family = checkFamily('table.family', spec?.family);
    const name = checkName('table.name', spec.name);
    const flags = spec.dormant === undefined ? -1 : spec.dormant ? NFT_TABLE_F_DORMANT : 0;
    return this.#push(`addTable ${family} ${name}`, (b) =>
      native.nftEncodeTable(b, NftMsg.NewTable, NLM_F_CREATE | (options.exclusive ? NLM_F_EXCL : 0), familyNumber(family), name, flags));
  }

  /** Deletes a table with everything in it. Equivalent to `nft delete table FAMILY NAME`. */
  deleteTable(spec: { family: NftFamily; name: string }): this {
    const family = checkFamily('table.family', spec?.family);
    const name = checkName('table.name', spec.name);
    return this.#push(`deleteTable ${family} ${name}`, (b) => native.nftEncodeTable(b, NftMsg.DelTable, 0, familyNumber(family), name, -1));
  }

  /**
   * Adds a chain: a base chain when `hook` is given (`nft add chain inet t c { type filter hook
   * input priority 0; policy accept; }`), else a regular chain (`nft add chain inet t c`).
   */
  addChain(spec: NftChainSpec): this {
    const { family, table } = tableOf('chain', spec);
    const name = checkName('chain.name', spec.name);
    const [hook, priority, type, policy] = chainArgs('chain', spec);
    return this.#push(`addChain ${family} ${table} ${name}`, (b) =>
      native.nftEncodeChain(b, NftMsg.NewChain, NLM_F_CREATE, familyNumber(family), table, name, hook, priority, type, policy));
  }

  /** Equivalent to `nft delete chain FAMILY TABLE NAME` (EBUSY while rules or jumps use it). */
  deleteChain(spec: { family: NftFamily; table: string; name: string }): this {
    const { family, table } = tableOf('chain', spec);
    const name = checkName('chain.name', spec.name);
    return this.#push(`deleteChain ${family} ${table} ${name}`, (b) => native.nftEncodeChain(b, NftMsg.DelChain, 0, familyNumber(family), table, name, -1, 0, '', -1));
  }

  /**
   * Appends a rule to a chain (or inserts it at the top with `insert: true`). Equivalent to
   * `nft add rule inet t c meta l4proto tcp th dport 80 meta mark set 0x1`. The item's value
   * in the report is the new rule's handle.
   */
  addRule(spec: NftRuleSpec, options: { insert?: boolean } = {}): this {
    const { family, table } = tableOf('rule', spec);
    const chain = checkName('rule.chain', spec.chain);
    const exprs = packExprs(compileRule(spec, family));
    return this.#push(`addRule ${family} ${table} ${chain}`, (b) =>
      native.nftEncodeRule(b, NftMsg.NewRule, NLM_F_CREATE | (this.#echo ? NLM_F_ECHO : 0) | (options.insert ? 0 : NLM_F_APPEND), familyNumber(family), table, chain, -1, -1, exprs));
  }

  /** Equivalent to `nft delete rule FAMILY TABLE CHAIN handle H`. */
  deleteRule(spec: { family: NftFamily; table: string; chain: string; handle: number }): this {
    const { family, table } = tableOf('rule', spec);
    const chain = checkName('rule.chain', spec.chain);
    if (!Number.isSafeInteger(spec.handle) || spec.handle <= 0) throw new ValidationError('rule.handle', spec.handle, 'must be a positive integer (a handle from listRules or addRule)');
    return this.#push(`deleteRule ${family} ${table} ${chain} handle ${spec.handle}`, (b) =>
      native.nftEncodeRule(b, NftMsg.DelRule, 0, familyNumber(family), table, chain, spec.handle, -1, NO_EXPRS));
  }

  /** Deletes every rule of a chain (or of the whole table). Equivalent to `nft flush chain ...` / `nft flush table ...`. */
  flush(spec: { family: NftFamily; table: string; chain?: string }): this {
    const { family, table } = tableOf('flush', spec);
    const chain = spec.chain === undefined ? '' : checkName('flush.chain', spec.chain);
    return this.#push(`flush ${family} ${table}${chain ? ` ${chain}` : ''}`, (b) => native.nftEncodeRule(b, NftMsg.DelRule, 0, familyNumber(family), table, chain, -1, -1, NO_EXPRS));
  }

  /** Equivalent to `nft add set inet t s { type ipv4_addr; elements = { ... } }`. */
  addSet(spec: NftSetSpec): this {
    const { family, table } = tableOf('set', spec);
    const name = checkName('set.name', spec.name);
    const t = SET_TYPES[spec.type];
    if (!t) throw new ValidationError('set.type', spec.type, `must be one of ${Object.keys(SET_TYPES).join(', ')}`);
    if (spec.elements !== undefined && !Array.isArray(spec.elements)) throw new ValidationError('set.elements', spec.elements, 'must be an array');
    const keys = (spec.elements ?? []).map((e, i) => elementBytes(`set.elements[${i}]`, spec.type, e));
    const id = ++this.#setIds;
    this.#push(`addSet ${family} ${table} ${name}`, (b) => native.nftEncodeSet(b, NftMsg.NewSet, NLM_F_CREATE, familyNumber(family), table, name, 0, t[0], t[1], id));
    this.#pushElements(NftMsg.NewSetElem, 'addElements', family, table, name, keys);
    return this;
  }

  /** Equivalent to `nft delete set FAMILY TABLE NAME`. */
  deleteSet(spec: { family: NftFamily; table: string; name: string }): this {
    const { family, table } = tableOf('set', spec);
    const name = checkName('set.name', spec.name);
    return this.#push(`deleteSet ${family} ${table} ${name}`, (b) => native.nftEncodeSet(b, NftMsg.DelSet, 0, familyNumber(family), table, name, 0, 0, 0, -1));
  }

  /** Equivalent to `nft add element inet t s { 10.0.0.1, 10.0.0.2 }`. `type` is the set's type. */
  addElements(set: { family: NftFamily; table: string; set: string; type: NftSetType }, elements: (string | number)[]): this {
    return this.#elements(NftMsg.NewSetElem, 'addElements', set, elements);
  }

  /** Equivalent to `nft delete element inet t s { 10.0.0.1 }`. */
  deleteElements(set: { family: NftFamily; table: string; set: string; type: NftSetType }, elements: (string | number)[]): this {
    return this.#elements(NftMsg.DelSetElem, 'deleteElements', set, elements);
  }

  #elements(msg: number, op: string, set: { family: NftFamily; table: string; set: string; type: NftSetType }, elements: (string | number)[]): this {
    const { family, table } = tableOf('set', set);
    const name = checkName('set.set', set.set);
    if (!SET_TYPES[set.type]) throw new ValidationError('set.type', set.type, `must be one of ${Object.keys(SET_TYPES).join(', ')}`);
    if (!Array.isArray(elements) || elements.length === 0) throw new ValidationError('elements', elements, 'must be a non-empty array');
    const keys = elements.map((e, i) => elementBytes(`elements[${i}]`, set.type, e));
    return this.#pushElements(msg, op, family, table, name, keys);
  }

  /** One message per ELEMENTS_PER_MESSAGE keys: an element list is one nest, below 64 KiB. */
  #pushElements(msg: number, op: string, family: NftFamily, table: string, name: string, keys: Buffer[]): this {
    for (let i = 0; i < keys.length; i += ELEMENTS_PER_MESSAGE) {
      const part = keys.slice(i, i + ELEMENTS_PER_MESSAGE);
      const range = keys.length > ELEMENTS_PER_MESSAGE ? ` [${i}..${i + part.length - 1}]` : '';
      this.#push(`${op} ${family} ${table} ${name} x${part.length}${range}`, (b) =>
        native.nftEncodeSetElems(b, msg, msg === NftMsg.NewSetElem ? NLM_F_CREATE : 0, familyNumber(family), table, name, part));
    }
    return this;
  }

  /**
   * Sends every change as one transaction. Resolves with one result per item (a new rule's value
   * is its handle). When the kernel refuses any item nothing is applied: BatchError whose report
   * names the failing item(s) and lists every other as not sent (not applied).
   */
  async commit(): Promise<BatchReport<NftItemValue>> {
    if (this.#committed) throw new ValidationError('transaction', 'committed', 'was already committed: start a new one');
    this.#committed = true;
    if (this.#ops.length === 0) return { ok: true, items: [], applied: [], failed: [], notSent: [], unknown: [], sendCalls: 0 };
    const batch = this.#socket.newBatch();
    for (const op of this.#ops) op.encode(batch);
    const raw = await this.#socket.run(batch, `nft transaction x${this.#ops.length}`, { nfBatchSubsys: NFNL_SUBSYS_NFTABLES });
    const report = reportOf<NftItemValue>(raw, (i) => this.#ops[i]!.label, (i) => echoedHandle(raw, i));
    if (!report.ok) throw new BatchError(report);
    return report;
  }
}

function echoedHandle(raw: RawOutcome, i: number): NftItemValue | undefined {
  for (const [off] of repliesOf(raw, i)) {
    if (raw.replies.readUInt16LE(off + 4) !== ((NFNL_SUBSYS_NFTABLES << 8) | NftMsg.NewRule)) continue;
    const handle = native.nftHandle(raw.replies, off);
    if (handle) return { handle };
  }
  return undefined;
}

/** nf_tables of one network namespace. */
export class Nft {
  readonly #socket: NetlinkSocket;

  private constructor(socket: NetlinkSocket) {
    this.#socket = socket;
  }

  /**
   * Opens a NETLINK_NETFILTER socket in `netns` (entered on a short-lived thread: the process
   * never moves). NetlinkError ENOENT when the namespace does not exist.
   */
  static open(options: NftOptions = {}): Nft {
    if (typeof options !== 'object' || options === null) throw new ValidationError('options', options, 'must be an object');
    return new Nft(NetlinkSocket.open('netfilter', { netns: options.netns, receiveBufferBytes: options.receiveBufferBytes }));
  }

  get netns(): string {
    return this.#socket.netns;
  }

  get closed(): boolean {
    return this.#socket.closed;
  }

  /** The handle's socket (NETLINK_NETFILTER), for families built on it. */
  get socket(): NetlinkSocket {
    return this.#socket;
  }

  /** A new, empty atomic transaction on this handle. */
  transaction(options: NftTransactionOptions = {}): NftTransaction {
    if (typeof options !== 'object' || options === null) throw new ValidationError('options', options, 'must be an object');
    return new NftTransaction(this.#socket, options);
  }

  async #one(build: (t: NftTransaction) => void): Promise<NftItemValue | undefined> {
    const t = this.transaction();
    build(t);
    try {
      const r = await t.commit();
      return r.items[0]?.value;
    } catch (e) {
      // One call's transaction (one item, or a set and its element messages): the first item
      // the kernel refused is the call's error (later ones usually follow from it).
      const first = e instanceof BatchError && e.report.failed.length > 0 ? e.report.items[e.report.failed[0]!]!.error : undefined;
      throw first ?? e;
    }
  }

  /** Equivalent to `nft add table FAMILY NAME` (`nft create table` with exclusive: EEXIST when it exists). */
  async addTable(spec: NftTableSpec, options: { exclusive?: boolean } = {}): Promise<void> {
    await this.#one((t) => t.addTable(spec, options));
  }

  /** Equivalent to `nft delete table FAMILY NAME`: ENOENT when it does not exist. */
  async deleteTable(spec: { family: NftFamily; name: string }): Promise<void> {
    await this.#one((t) => t.deleteTable(spec));
  }

  /** Equivalent to `nft add chain ...` (see NftTransaction.addChain). */
  async addChain(spec: NftChainSpec): Promise<void> {
    await this.#one((t) => t.addChain(spec));
  }

  /** Equivalent to `nft delete chain FAMILY TABLE NAME`. */
  async deleteChain(spec: { family: NftFamily; table: string; name: string }): Promise<void> {
    await this.#one((t) => t.deleteChain(spec));
  }

  /** Appends a rule and returns its handle. Equivalent to `nft --echo --handle add rule ...`. */
  async addRule(spec: NftRuleSpec, options: { insert?: boolean } = {}): Promise<number> {
    const v = await this.#one((t) => t.addRule(spec, options));
    return v?.handle ?? 0;
  }

  /** Equivalent to `nft delete rule FAMILY TABLE CHAIN handle H`. */
  async deleteRule(spec: { family: NftFamily; table: string; chain: string; handle: number }): Promise<void> {
    await this.#one((t) => t.deleteRule(spec));
  }

  /** Equivalent to `nft add set ...` with its elements, in one transaction. */
  async addSet(spec: NftSetSpec): Promise<void> {
    await this.#one((t) => t.addSet(spec));
  }

  /** Equivalent to `nft delete set FAMILY TABLE NAME`. */
  async deleteSet(spec: { family: NftFamily; table: string; name: string }): Promise<void> {
    await this.#one((t) => t.deleteSet(spec));
  }

  /** Equivalent to `nft add element FAMILY TABLE SET { ... }`. */
  async addElements(set: { family: NftFamily; table: string; set: string; type: NftSetType }, elements: (string | number)[]): Promise<void> {
    await this.#one((t) => t.addElements(set, elements));
  }

  /** Equivalent to `nft delete element FAMILY TABLE SET { ... }`. */
  async deleteElements(set: { family: NftFamily; table: string; set: string; type: NftSetType }, elements: (string | number)[]): Promise<void> {
    await this.#one((t) => t.deleteElements(set, elements));
  }

  /**
   * Installs `def` as the whole content of its table, atomically (rule handles are returned only
   * with `{ handles: true }`: listRules reads them): in one transaction the table is
   * added (so the delete cannot fail), deleted with everything in it, and re-created with its
   * chains, sets, elements and rules. Packets see the old table or the new one, never a mix.
   * Equivalent to `nft -f` of "table T; delete table T; table T { ... }".
   */
  async replaceTable(def: NftTableDefinition, options: NftTransactionOptions = {}): Promise<BatchReport<NftItemValue>> {
    const t = this.transaction({ handles: options.handles ?? false });
    const family = checkFamily('table.family', def?.family);
    const name = checkName('table.name', def.name);
    t.addTable({ family, name }).deleteTable({ family, name });
    t.addTable({ family, name, ...(def.dormant !== undefined ? { dormant: def.dormant } : {}) });
    (def.chains ?? []).forEach((c, i) => {
      if (typeof c !== 'object' || c === null) throw new ValidationError(`table.chains[${i}]`, c, 'must be a chain object');
      t.addChain({ ...c, family, table: name });
    });
    (def.sets ?? []).forEach((s, i) => {
      if (typeof s !== 'object' || s === null) throw new ValidationError(`table.sets[${i}]`, s, 'must be a set object');
      t.addSet({ ...s, family, table: name });
    });
    (def.rules ?? []).forEach((r, i) => {
      if (typeof r !== 'object' || r === null) throw new ValidationError(`table.rules[${i}]`, r, 'must be a rule object');
      try {
        t.addRule({ ...r, family, table: name });
      } catch (e) {
        if (e instanceof ValidationError) throw new ValidationError(`table.rules[${i}]${e.field.replace(/^rule/, '')}`, e.value, e.message.replace(/^\S+ /, '').replace(/, got .*$/, ''));
        throw e;
      }
    });
    return t.commit();
  }

  /** Every table (of one family, or all). Equivalent to `nft list tables`. */
  async listTables(options: { family?: NftFamily } = {}): Promise<NftTable[]> {
    const msgs = await this.#dump(NftMsg.GetTable, options.family, '', '', 'listTables');
    return msgs.filter((m) => m.msg === NftMsg.NewTable && FAMILY_NAMES.has(m.family!)).map((m) => {
      const t: NftTable = { family: familyName(m.family), name: m.name!, handle: m.handle!, use: m.use! };
      if (m.flags! & NFT_TABLE_F_DORMANT) t.dormant = true;
      return t;
    });
  }

  /** Chains of a table (or of every table). Equivalent to `nft list chains`. */
  async listChains(options: { family?: NftFamily; table?: string } = {}): Promise<NftChain[]> {
    const msgs = await this.#dump(NftMsg.GetChain, options.family, '', '', 'listChains');
    return msgs.filter((m) => m.msg === NftMsg.NewChain && FAMILY_NAMES.has(m.family!) && (options.table === undefined || m.table === options.table)).map((m) => {
      const c: NftChain = { family: familyName(m.family), table: m.table!, name: m.name!, handle: m.handle!, use: m.use! };
      if (m.hooknum !== undefined) {
        c.hook = HOOK_NAMES.get(m.hooknum) ?? (m.hooknum as unknown as NftHook);
        c.priority = m.priority!;
        if (m.type) c.type = m.type as NftChain['type'];
        if (m.policy !== undefined) c.policy = m.policy === 1 ? 'accept' : 'drop';
      }
      return c;
    });
  }

  /**
   * Rules with their handles, decoded back to the typed form; expressions lvskit cannot map are
   * listed in `unknown`. Equivalent to `nft -a list chain FAMILY TABLE CHAIN` / `list table`.
   */
  async listRules(options: { family?: NftFamily; table?: string; chain?: string } = {}): Promise<NftRule[]> {
    if (options.chain !== undefined && options.table === undefined) throw new ValidationError('chain', options.chain, 'needs table');
    const msgs = await this.#dump(NftMsg.GetRule, options.family, options.table ?? '', options.chain ?? '', 'listRules');
    return msgs.filter((m) => m.msg === NftMsg.NewRule && FAMILY_NAMES.has(m.family!)).map((m) => {
      const family = familyName(m.family);
      const body = decompileRule(m.exprs ?? [], family);
      return { family, table: m.table!, chain: m.chain!, handle: m.handle!, ...body };
    });
  }

  /** Named sets. Equivalent to `nft list sets`. */
  async listSets(options: { family?: NftFamily; table?: string } = {}): Promise<NftSet[]> {
    // GETSET narrows to a table only together with a family (nf_tables_getset looks the table up).
    const msgs = await this.#dump(NftMsg.GetSet, options.family, options.family === undefined ? '' : (options.table ?? ''), '', 'listSets');
    const named = (m: NativeNftMessage) => !(m.flags! & 1); // NFT_SET_ANONYMOUS: sets nft makes for `{ a, b }` literals
    return msgs.filter((m) => m.msg === NftMsg.NewSet && FAMILY_NAMES.has(m.family!) && named(m) && (options.table === undefined || m.table === options.table)).map((m) => ({
      family: familyName(m.family), table: m.table!, name: m.name!, type: SET_TYPE_NAMES.get(m.keyType!) ?? m.keyType!, handle: m.handle!,
    }));
  }

  /** A set's elements. Equivalent to `nft list set FAMILY TABLE NAME`. */
  async listElements(set: { family: NftFamily; table: string; set: string; type: NftSetType }): Promise<(string | number)[]> {
    const { family, table } = tableOf('set', set);
    const name = checkName('set.set', set.set);
    if (!SET_TYPES[set.type]) throw new ValidationError('set.type', set.type, `must be one of ${Object.keys(SET_TYPES).join(', ')}`);
    // A hash set is dumped by a fresh walk of its rhashtable for each message, skipping as many
    // elements as earlier messages held (nft_rhash_walk, net/netfilter/nft_set_hash.c). The table
    // grows in a deferred worker after a large insert; a resize between two messages re-orders the
    // walk, so one dump can miss some elements and repeat others (seen on 6.18: 2,903 of 3,000 read
    // right after adding them). So dump until two dumps in a row agree.
    let previous: string | undefined;
    for (let attempt = 0; attempt < LIST_ELEMENT_ATTEMPTS; attempt++) {
      const msgs = await this.#dump(NftMsg.GetSetElem, family, table, name, `listElements ${name}`);
      const values = msgs.filter((m) => m.msg === NftMsg.NewSetElem).flatMap((m) => (m.keys ?? []).map((k) => elementValue(set.type, k)));
      const key = values.map(String).sort().join('\n');
      if (key === previous) return values;
      previous = key;
    }
    throw new NetlinkError(
      { op: `listElements ${name}`, errno: 11, code: 'EAGAIN' },
      `listElements ${name} failed: the set's elements differed in each of ${LIST_ELEMENT_ATTEMPTS} dumps (it is being changed, or resized, while read)`,
    );
  }

  /** A whole table as a definition replaceTable accepts (rules with unknown expressions are skipped and counted). */
  async getTable(spec: { family: NftFamily; name: string }): Promise<NftTableDefinition & { skippedRules: number }> {
    const family = checkFamily('table.family', spec?.family);
    const name = checkName('table.name', spec.name);
    const [tables, chains, sets, rules] = [
      await this.listTables({ family }), await this.listChains({ family, table: name }), await this.listSets({ family, table: name }), await this.listRules({ family, table: name }),
    ];
    const t = tables.find((x) => x.name === name);
    if (!t) throw new ValidationError('table', `${family} ${name}`, 'does not exist');
    const def: NftTableDefinition & { skippedRules: number } = { family, name, chains: [], sets: [], rules: [], skippedRules: 0 };
    if (t.dormant) def.dormant = true;
    for (const c of chains) {
      const { family: _f, table: _t, handle: _h, use: _u, ...rest } = c;
      def.chains!.push(rest);
    }
    for (const s of sets) {
      if (typeof s.type === 'number') continue;
      def.sets!.push({ name: s.name, type: s.type, elements: await this.listElements({ family, table: name, set: s.name, type: s.type }) });
    }
    for (const r of rules) {
      if (r.unknown) {
        def.skippedRules++;
        continue;
      }
      const { family: _f, table: _t, handle: _h, packets: _p, bytes: _b, ...rest } = r;
      def.rules!.push(rest as NftRuleBody & { chain: string });
    }
    return def;
  }

  async #dump(msg: number, family: NftFamily | undefined, table: string, name: string, op: string): Promise<NativeNftMessage[]> {
    const fam = family === undefined ? 0 : familyNumber(checkFamily('family', family));
    if (table !== '') checkName('table', table);
    if (name !== '') checkName('name', name);
    const batch = this.#socket.newBatch();
    native.nftEncodeDump(batch, msg, fam, table, name);
    const raw = await this.#socket.run(batch, op, { large: true });
    throwIfFailed(raw, op);
    const out: NativeNftMessage[] = [];
    for (const [off] of repliesOf(raw, 0)) out.push(native.nftDecode(raw.replies, off));
    return out;
  }

  /** Closes the handle. Requests queued behind the one in flight reject with EBADF. */
  close(): void {
    this.#socket.close();
  }
}
