// Plain data types of routes, nexthop objects, route queries and policy rules (no I/O): what
// lib/rtnl/route.ts, nexthop.ts and rule.ts accept and return. Numbers and names mirror
// include/uapi/linux/rtnetlink.h, nexthop.h and fib_rules.h and the names iproute2 prints
// (/etc/iproute2/rt_protos, rt_scopes, rt_tables).

/** 4 = IPv4 (AF_INET), 6 = IPv6 (AF_INET6). */
export type RouteFamily = 4 | 6;

/** Route types (RTN_*). */
export const ROUTE_TYPES = ['unspec', 'unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat', 'xresolve'] as const;
export type RouteType = (typeof ROUTE_TYPES)[number];

/** Route scopes by name (RT_SCOPE_*); any number 0..255 is accepted too. */
export const ROUTE_SCOPES = { universe: 0, site: 200, link: 253, host: 254, nowhere: 255 } as const;
export type RouteScope = keyof typeof ROUTE_SCOPES | number;

/** Route/nexthop/rule protocols by name (RTPROT_*); any number 0..255 is accepted too. */
export const ROUTE_PROTOCOLS = {
  unspec: 0, redirect: 1, kernel: 2, boot: 3, static: 4, gated: 8, ra: 9, mrt: 10, zebra: 11, bird: 12,
  dnrouted: 13, xorp: 14, ntk: 15, dhcp: 16, mrouted: 17, keepalived: 18, babel: 42, openr: 99, bgp: 186,
  isis: 187, ospf: 188, rip: 189, eigrp: 192,
} as const;
export type RouteProtocol = keyof typeof ROUTE_PROTOCOLS | number;

/** Well-known tables (RT_TABLE_*); any number 1..2^32-1 is accepted too. */
export const ROUTE_TABLES = { default: 253, main: 254, local: 255 } as const;
export type TableId = keyof typeof ROUTE_TABLES | number;

/** A device: an interface name (resolved to its index once per call) or an ifindex. */
export type Device = string | number;

/** One path of a multipath route. */
export interface NextHopSpec {
  /** Gateway address. An IPv4 route may use an IPv6 gateway (RTA_VIA, RFC 5549). */
  gateway?: string;
  /** Output device (name or ifindex). */
  dev?: Device;
  /** Relative weight, 1..256 (default 1). The kernel's wire value is weight - 1; you never see it. */
  weight?: number;
  /** Gateway is on the link even if no prefix says so (RTNH_F_ONLINK). */
  onlink?: boolean;
}

/** A route to add, replace, append or delete. */
export interface RouteSpec {
  /** 'default', a prefix ('10.0.0.0/24', '2001:db8::/64') or an address (a host route). */
  dst: string;
  /** Needed only for dst 'default' without any address to infer it from. */
  family?: RouteFamily;
  /** Source prefix selector (RTA_SRC, IPv6 subtrees). `ip route add ... from PREFIX`. */
  from?: string;
  /** Default 'main'. Ids above 255 go in RTA_TABLE. */
  table?: TableId;
  /** Default 'boot' (as `ip route add`); not used to match on delete unless given. */
  protocol?: RouteProtocol;
  /** Default: 'link' for IPv4 device routes without a gateway, 'host' for local, else 'universe'. */
  scope?: RouteScope;
  /** Default 'unicast'. */
  type?: RouteType;
  tos?: number;
  /** Metric (RTA_PRIORITY), 0..2^32-1. */
  priority?: number;
  /** Preferred source address (RTA_PREFSRC). */
  prefsrc?: string;
  gateway?: string;
  dev?: Device;
  onlink?: boolean;
  /** Multipath: two or more paths with weights. Exclusive with gateway/dev/nhid. */
  nexthops?: NextHopSpec[];
  /** Route through a nexthop object or group (RTA_NH_ID). Exclusive with gateway/dev/nexthops. */
  nhid?: number;
}

/** A path of a route as the kernel reports it. */
export interface RouteNextHop {
  gateway?: string;
  /** Output ifindex. */
  dev: number;
  weight: number;
  onlink?: true;
  dead?: true;
  linkdown?: true;
}

/** A route as the kernel reports it (list, get, events). */
export interface Route {
  family: RouteFamily;
  /** Always 'ADDR/LEN' ('0.0.0.0/0' for a default route). */
  dst: string;
  from?: string;
  table: number;
  protocol: RouteProtocol;
  scope: RouteScope;
  type: RouteType;
  tos: number;
  priority?: number;
  prefsrc?: string;
  gateway?: string;
  /** Output ifindex. */
  dev?: number;
  onlink?: true;
  dead?: true;
  linkdown?: true;
  /** Multipath routes: every path with its weight. IPv6 siblings come merged here, as the kernel dumps them. */
  nexthops?: RouteNextHop[];
  nhid?: number;
  /** IPv6: seconds until the route expires. */
  expires?: number;
  /** RTAX_MTU when set. */
  mtu?: number;
}

/** "Which path does this flow take": an RTM_GETROUTE question (`ip route get`). */
export interface RouteQuery {
  /** Destination address (required). */
  dst: string;
  /** Source address. */
  src?: string;
  /** Input interface: look up as if the packet arrived there (forwarding path). */
  iif?: Device;
  /** Output interface constraint. */
  oif?: Device;
  /** Firewall mark (policy rules with fwmark match it). */
  mark?: number;
  uid?: number;
  /** IP protocol: 'tcp', 'udp', 'icmp', 'icmpv6', 'sctp' or a number (RTA_IP_PROTO). */
  ipProto?: 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'sctp' | number;
  sport?: number;
  dport?: number;
  tos?: number;
  /** Look up in this table only (RTA_TABLE) instead of asking the policy rules. */
  table?: TableId;
}

/** The kernel's answer to a RouteQuery: the one path it chose for that flow. */
export interface RouteChoice {
  family: RouteFamily;
  dst: string;
  type: RouteType;
  table: number;
  gateway?: string;
  /** Output ifindex. */
  dev?: number;
  /** Input ifindex (queries with iif). */
  iif?: number;
  prefsrc?: string;
  mark?: number;
  uid?: number;
}

// ---- nexthop objects ------------------------------------------------------------------------

/** A single nexthop object (`ip nexthop add id N via GW dev DEV`). */
export interface NextHopObjectSpec {
  /** 1..2^32-1; required (the library does not let the kernel pick, so the id is known). */
  id: number;
  gateway?: string;
  dev?: Device;
  onlink?: boolean;
  blackhole?: boolean;
  /** Needed when neither gateway nor blackhole says it: 4 or 6. */
  family?: RouteFamily;
  /** Default 'boot'. */
  protocol?: RouteProtocol;
  /** Bridge FDB nexthop (NHA_FDB). */
  fdb?: boolean;
}

export interface GroupMember {
  id: number;
  /** 1..65535 on Linux 6.12+ (16-bit weights), 1..256 before: older kernels refuse larger ones. */
  weight?: number;
}

/** A nexthop group (`ip nexthop add id N group A,W/B,W [type resilient ...]`). */
export interface NextHopGroupSpec {
  id: number;
  group: GroupMember[];
  /** 'mpath' (hash-threshold, default) or 'resilient'. */
  type?: 'mpath' | 'resilient';
  /** Resilient only: number of buckets (1..65535; kernel default 128). */
  buckets?: number;
  /** Resilient only: seconds a bucket must be idle before it may migrate (kernel default 120). */
  idleTimer?: number;
  /** Resilient only: seconds a group may stay unbalanced before buckets migrate regardless (0 = never). */
  unbalancedTimer?: number;
  protocol?: RouteProtocol;
  fdb?: boolean;
}

/** A nexthop object or group as the kernel reports it. */
export interface NextHop {
  id: number;
  /** 4 or 6 for single nexthops; undefined for groups and family-less blackholes. */
  family?: RouteFamily;
  protocol: RouteProtocol;
  scope: RouteScope;
  gateway?: string;
  dev?: number;
  onlink?: true;
  dead?: true;
  linkdown?: true;
  blackhole?: true;
  fdb?: true;
  group?: Required<GroupMember>[];
  type?: 'mpath' | 'resilient';
  buckets?: number;
  /** Seconds. */
  idleTimer?: number;
  /** Seconds. */
  unbalancedTimer?: number;
  /** Seconds the group has been unbalanced. */
  unbalancedTime?: number;
}

/** One bucket of a resilient group (`ip nexthop bucket show id N`). */
export interface NextHopBucket {
  group: number;
  index: number;
  nhid: number;
  /** Seconds since the bucket last carried traffic. */
  idleTime: number;
}

// ---- policy rules ---------------------------------------------------------------------------

export type RuleAction = 'lookup' | 'goto' | 'nop' | 'blackhole' | 'unreachable' | 'prohibit';

export interface PortRange {
  start: number;
  end: number;
}

/** A policy routing rule (`ip rule add ...`). */
export interface RuleSpec {
  /** 4 or 6; inferred from from/to when given, else required. */
  family?: RouteFamily;
  /** Preference (FRA_PRIORITY), 0..2^32-1. The kernel picks one below the previous rule when absent. */
  priority?: number;
  /** Source prefix ('10.0.0.0/8', 'all' = any). */
  from?: string;
  /** Destination prefix. */
  to?: string;
  /** Input interface name; with l3mdev rules, a VRF device. */
  iif?: string;
  oif?: string;
  /** Match on the mark: a number, with an optional mask (default all ones). */
  fwmark?: number;
  fwmask?: number;
  /** Whole TOS byte (fib_rule_hdr.tos). */
  tos?: number;
  /** DSCP 0..63 (FRA_DSCP, Linux 6.12+). */
  dscp?: number;
  /** 'tcp', 'udp', 'icmp', 'icmpv6', 'sctp' or a number (FRA_IP_PROTO). */
  ipProto?: 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'sctp' | number;
  /** A port or an inclusive range. */
  sport?: number | PortRange;
  dport?: number | PortRange;
  uidRange?: PortRange;
  /** Invert the selector ("not"). */
  not?: boolean;
  /** Look up the table of the l3mdev (VRF) the packet's iif/oif belongs to (FRA_L3MDEV). */
  l3mdev?: boolean;
  /** Default 'lookup' when table is given. */
  action?: RuleAction;
  /** For 'lookup': any table id 1..2^32-1 or a name. */
  table?: TableId;
  /** For 'goto': the priority of the rule to jump to. */
  goto?: number;
  /** Reject lookup results with a prefix length <= this (e.g. 0 ignores default routes). */
  suppressPrefixlength?: number;
  /** Reject lookup results whose device is in this interface group. */
  suppressIfgroup?: number;
  /** Default 'boot'. */
  protocol?: RouteProtocol;
}

/** A rule as the kernel reports it. */
export interface Rule {
  family: RouteFamily;
  priority: number;
  from?: string;
  to?: string;
  iif?: string;
  oif?: string;
  fwmark?: number;
  fwmask?: number;
  tos: number;
  dscp?: number;
  ipProto?: number;
  sport?: PortRange;
  dport?: PortRange;
  uidRange?: PortRange;
  not?: true;
  l3mdev?: true;
  action: RuleAction | number;
  table?: number;
  goto?: number;
  suppressPrefixlength?: number;
  suppressIfgroup?: number;
  protocol: RouteProtocol;
  /** FIB_RULE_IIF_DETACHED / OIF_DETACHED: the named device does not exist (now). */
  iifDetached?: true;
  oifDetached?: true;
}
