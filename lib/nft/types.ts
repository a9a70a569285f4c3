// Public, plain-data types of the nf_tables family: what callers pass and what lists return.
// A rule is a typed match plus actions, never a string in nft's language.

/** Table family: `ip` (IPv4), `ip6` (IPv6) or `inet` (both). */
export type NftFamily = 'ip' | 'ip6' | 'inet';
export type NftHook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
export type NftChainType = 'filter' | 'route' | 'nat';
/** nft's named priorities (raw -300, mangle -150, dstnat -100, filter 0, security 50, srcnat 100). */
export type NftPriorityName = 'raw' | 'mangle' | 'dstnat' | 'filter' | 'security' | 'srcnat';
export type NftCtState = 'invalid' | 'established' | 'related' | 'new' | 'untracked';
export type NftProtocol = 'tcp' | 'udp' | 'sctp' | 'udplite' | 'icmp' | 'icmpv6' | number;
export type NftSetType = 'ipv4_addr' | 'ipv6_addr' | 'inet_service' | 'mark';

export interface NftPortRange {
  start: number;
  end: number;
}

export interface NftTableSpec {
  family: NftFamily;
  name: string;
  /** A dormant table is installed but its base chains see no packets (NFT_TABLE_F_DORMANT). */
  dormant?: boolean;
}

export interface NftTable extends NftTableSpec {
  handle: number;
  /** Objects in the table that hold it (NFTA_TABLE_USE: chains and sets). */
  use: number;
}

export interface NftChainSpec {
  family: NftFamily;
  table: string;
  name: string;
  /** A base chain: where it hooks. Omit for a regular chain (a jump/goto target). */
  hook?: NftHook;
  /** Base chains: 'filter' (default), 'route' (output only) or 'nat'. */
  type?: NftChainType;
  /** Base chains: an integer or one of nft's names. Default: 'filter' (0), or 'srcnat'/'dstnat' for nat chains. */
  priority?: number | NftPriorityName;
  /** Base chains: what happens to packets no rule decided on. Default 'accept'. */
  policy?: 'accept' | 'drop';
}

export interface NftChain extends NftChainSpec {
  handle: number;
  /** Number of rules and jumps referring to it. */
  use: number;
}

/** What a rule matches; every field given must match (AND). */
export interface NftMatch {
  /** The layer 4 protocol (meta l4proto). Required for port matches. */
  protocol?: NftProtocol;
  /** Source address or prefix (ip saddr / ip6 saddr). */
  source?: string;
  destination?: string;
  /** Source address is an element of this named set (ip saddr @set). */
  sourceSet?: string;
  destinationSet?: string;
  /** Source port or range (th sport); needs protocol tcp, udp, sctp or udplite. */
  sourcePort?: number | NftPortRange;
  destinationPort?: number | NftPortRange;
  /** Destination port is an element of this named inet_service set. */
  destinationPortSet?: string;
  /** Input interface name (iifname); a trailing '*' matches a prefix. */
  iif?: string;
  oif?: string;
  /** The packet's current mark, or (mark & mask) == value. */
  mark?: number | { value: number; mask: number };
  /** Conntrack state is one of these (ct state new,established). */
  ctState?: NftCtState[];
  /** Address family of the packet, for inet tables: implied by addresses given. */
  ipVersion?: 4 | 6;
}

export type NftVerdict = 'accept' | 'drop' | 'return' | { jump: string } | { goto: string };

export type NftNat =
  | { type: 'masquerade'; ports?: NftPortRange }
  | { type: 'snat'; address: string; port?: number | NftPortRange }
  | { type: 'dnat'; address: string; port?: number | NftPortRange };

/** The body of a rule: match, then actions in this order: counter, set mark, nat, verdict. */
export interface NftRuleBody {
  match?: NftMatch;
  /** Count packets and bytes (nft's `counter`). */
  counter?: boolean;
  /** Set the packet mark (meta mark set). */
  setMark?: number;
  nat?: NftNat;
  verdict?: NftVerdict;
}

export interface NftRuleSpec extends NftRuleBody {
  family: NftFamily;
  table: string;
  chain: string;
}

/** A raw expression lvskit did not map to the typed form (a rule written by someone else). */
export interface NftRawExpression {
  name: string;
  /** The decoded fields when the expression kind is known, else the attribute bytes as hex. */
  fields: Record<string, unknown>;
}

export interface NftRule extends NftRuleSpec {
  handle: number;
  /** Counter values when the rule counts. */
  packets?: number;
  bytes?: number;
  /** Expressions that did not fit the typed form; absent when the rule decoded completely. */
  unknown?: NftRawExpression[];
}

export interface NftSetSpec {
  family: NftFamily;
  table: string;
  name: string;
  type: NftSetType;
  /** Initial elements (addresses, ports or marks). */
  elements?: (string | number)[];
}

export interface NftSet {
  family: NftFamily;
  table: string;
  name: string;
  type: NftSetType | number;
  handle: number;
}

/** A whole table: what replaceTable installs atomically and getTable returns. */
export interface NftTableDefinition {
  family: NftFamily;
  name: string;
  dormant?: boolean;
  chains?: Omit<NftChainSpec, 'family' | 'table'>[];
  sets?: Omit<NftSetSpec, 'family' | 'table'>[];
  rules?: (NftRuleBody & { chain: string })[];
}
