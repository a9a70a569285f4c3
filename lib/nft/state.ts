// The canonical form of a table definition, so a desired table (as written in a JSON state) and
// the table the kernel holds (Nft.getTable) compare equal exactly when replaceTable would change
// nothing. Rules are canonicalised by the same path a listed rule takes: compiled, encoded by
// the native codec, decoded and decompiled (so '10.0.0.5/32' and '10.0.0.5', port 80 and
// { start: 80, end: 80 }, 'tcp' and 6 compare equal).
import { native } from '../native.js';
import { ValidationError } from '../errors.js';
import { parseAddress, formatAddress } from '../rtnl/ip.js';
import { NftMsg } from './native-types.js';
import { checkFamily, checkName, compileRule, decompileRule, packExprs } from './compile.js';
import type { NftChainSpec, NftRuleBody, NftTableDefinition } from './types.js';

const PRIORITIES: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };

type Chain = Omit<NftChainSpec, 'family' | 'table'>;

function canonicalChain(c: Chain): Chain {
  if (c.hook === undefined) return { name: c.name };
  const type = c.type ?? 'filter';
  const priority = c.priority === undefined
    ? (type === 'nat' ? (c.hook === 'prerouting' || c.hook === 'output' ? -100 : 100) : 0)
    : typeof c.priority === 'string' ? PRIORITIES[c.priority] ?? c.priority : c.priority;
  return { name: c.name, hook: c.hook, type, priority: priority as number, policy: c.policy ?? 'accept' };
}

function canonicalElement(type: string, v: string | number): string | number {
  if (typeof v === 'string' && (type === 'ipv4_addr' || type === 'ipv6_addr')) {
    const a = parseAddress(v);
    return a ? formatAddress(a.bytes) : v;
  }
  return v;
}

/** A rule body as lvskit would list it back after installing it. */
export function canonicalRule(body: NftRuleBody, family: NftTableDefinition['family']): NftRuleBody {
  const batch = new native.NativeBatch();
  native.nftEncodeRule(batch, NftMsg.NewRule, 0, 1, 't', 'c', -1, -1, packExprs(compileRule(body, family)));
  const { packets: _p, bytes: _b, ...r } = decompileRule(native.nftDecode(batch.bytes(), 0).exprs ?? [], family);
  return r;
}

/**
 * The canonical form of a table definition: chains and sets sorted by name with defaults filled
 * in (type 'filter', nft's priority numbers, policy 'accept'), set elements in canonical text and
 * sorted, rules in their listed form, grouped by chain in their order.
 */
export function canonicalTable(def: NftTableDefinition): NftTableDefinition {
  if (typeof def !== 'object' || def === null) throw new ValidationError('table', def, 'must be a table definition');
  const family = checkFamily('table.family', def.family);
  const name = checkName('table.name', def.name);
  const out: NftTableDefinition = { family, name };
  if (def.dormant) out.dormant = true;
  out.chains = (def.chains ?? []).map(canonicalChain).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  out.sets = (def.sets ?? []).map((s) => ({
    name: s.name, type: s.type,
    elements: (s.elements ?? []).map((e) => canonicalElement(s.type, e)).sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0)),
  })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const order = new Map(out.chains.map((c, i) => [c.name, i]));
  out.rules = (def.rules ?? [])
    .map((r, i) => ({ r: { chain: r.chain, ...canonicalRule(r, family) }, i }))
    .sort((a, b) => (order.get(a.r.chain) ?? -1) - (order.get(b.r.chain) ?? -1) || a.i - b.i)
    .map(({ r }) => r);
  return out;
}

/** Whether two table definitions describe the same table (canonicalTable of both are equal). */
export function tablesEqual(a: NftTableDefinition, b: NftTableDefinition): boolean {
  return JSON.stringify(canonicalTable(a)) === JSON.stringify(canonicalTable(b));
}
