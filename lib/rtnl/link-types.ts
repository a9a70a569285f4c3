// Plain data types of links and addresses (no I/O): what lib/rtnl/link.ts and address.ts return
// and accept. Numbering mirrors include/uapi/linux/if.h (IFF_*, IF_OPER_*), if_addr.h (IFA_F_*)
// and rtnetlink.h (RT_SCOPE_*).
import type { IpFamily } from './ip.js';

/** A link named by its name ('eth0') or its index (2). */
export type LinkRef = string | number;

/** IFF_* bits, by the names iproute2 prints (lower case). */
export const LINK_FLAGS = {
  up: 0x1,
  broadcast: 0x2,
  debug: 0x4,
  loopback: 0x8,
  pointopoint: 0x10,
  notrailers: 0x20,
  running: 0x40,
  noarp: 0x80,
  promisc: 0x100,
  allmulti: 0x200,
  master: 0x400,
  slave: 0x800,
  multicast: 0x1000,
  portsel: 0x2000,
  automedia: 0x4000,
  dynamic: 0x8000,
  lower_up: 0x10000,
  dormant: 0x20000,
  echo: 0x40000,
} as const;
export type LinkFlagName = keyof typeof LINK_FLAGS;

/** RFC 2863 operational state (IF_OPER_*), as iproute2 prints it, lower case. */
export const OPER_STATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const;
export type OperState = (typeof OPER_STATES)[number];

export interface LinkStats {
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
  rxErrors: number;
  txErrors: number;
  rxDropped: number;
  txDropped: number;
  multicast: number;
  collisions: number;
}

export interface Link {
  index: number;
  name: string;
  /** IFLA_INFO_KIND: 'veth', 'dummy', 'bridge'...; undefined for lo and physical devices. */
  kind: string | undefined;
  /** Every IFF_* bit set, by name. */
  flags: LinkFlagName[];
  /** IFF_UP: administratively up. */
  up: boolean;
  /** IFF_RUNNING: up and the driver says it works. */
  running: boolean;
  /** IFF_LOWER_UP: the carrier is there. */
  lowerUp: boolean;
  mtu: number | undefined;
  operstate: OperState | number | undefined;
  /** Link-layer address, 'aa:bb:cc:dd:ee:ff'. */
  address: string | undefined;
  broadcast: string | undefined;
  /** ARPHRD_* (1 ether, 772 loopback...). */
  type: number;
  txqlen: number | undefined;
  /** Index of the master (bridge, bond, vrf) this link is enslaved to. */
  master: number | undefined;
  /** IFLA_LINK: the peer (veth) or lower device's index, in linkNetnsId's namespace when set. */
  parentIndex: number | undefined;
  /** The namespace id (as seen from this namespace) where parentIndex lives. */
  linkNetnsId: number | undefined;
  /** IFLA_INFO_SLAVE_KIND of an enslaved link ('bridge', 'bond'). */
  slaveKind: string | undefined;
  group: number | undefined;
  qdisc: string | undefined;
  alias: string | undefined;
  /** Present when asked for ({ stats: true }). */
  stats?: LinkStats;
}

/** Changes for links.set(); absent fields are left alone. */
export interface LinkChanges {
  /** `ip link set dev X up|down`. */
  up?: boolean;
  /** `ip link set dev X mtu N`. */
  mtu?: number;
  /** `ip link set dev X name NEW`. The link must be down. */
  name?: string;
  /** `ip link set dev X address aa:bb:..`. */
  address?: string;
  /** `ip link set dev X txqueuelen N`. */
  txqlen?: number;
  /** `ip link set dev X master M` (a link), or null for `nomaster`. */
  master?: LinkRef | null;
  /** `ip link set dev X promisc on|off`. */
  promisc?: boolean;
  /** `ip link set dev X arp on|off` (false sets IFF_NOARP). */
  arp?: boolean;
  /** `ip link set dev X multicast on|off`. */
  multicast?: boolean;
}

/** Options shared by links.createVeth / createDummy / create. */
export interface CreateLinkOptions {
  mtu?: number;
  /** Link-layer address of the new link. */
  address?: string;
  /** Bring it up at once (`ip link add ... up`). */
  up?: boolean;
}

export interface VethOptions extends CreateLinkOptions {
  /** Link-layer address of the peer. */
  peerAddress?: string;
  /** Create the peer directly in this namespace (`ip link add a type veth peer name b netns NS`). */
  peerNetns?: import('../socket.js').NetnsSpec;
}

// -----------------------------------------------------------------------------------------------
// Addresses

/** RT_SCOPE_* by iproute2's names. */
export const SCOPES = { global: 0, site: 200, link: 253, host: 254, nowhere: 255 } as const;
export type ScopeName = keyof typeof SCOPES;

/** IFA_F_* bits by the names iproute2 prints. 'secondary' is 'temporary' on IPv6. */
export const ADDRESS_FLAGS = {
  secondary: 0x01,
  nodad: 0x02,
  optimistic: 0x04,
  dadfailed: 0x08,
  homeaddress: 0x10,
  deprecated: 0x20,
  tentative: 0x40,
  permanent: 0x80,
  mngtmpaddr: 0x100,
  noprefixroute: 0x200,
  autojoin: 0x400,
  'stable-privacy': 0x800,
} as const;
export type AddressFlagName = keyof typeof ADDRESS_FLAGS;

/** Flags a caller may set when adding an address. */
export const SETTABLE_ADDRESS_FLAGS = ['nodad', 'optimistic', 'homeaddress', 'mngtmpaddr', 'noprefixroute', 'autojoin'] as const;
export type SettableAddressFlag = (typeof SETTABLE_ADDRESS_FLAGS)[number];

/** Seconds, or 'forever' (0xffffffff on the wire). */
export type Lifetime = number | 'forever';

export interface Address {
  family: IpFamily;
  /** The interface's own address (IFA_LOCAL; IFA_ADDRESS for IPv6 without a peer), canonical. */
  address: string;
  prefixLength: number;
  /** Point-to-point peer (IFA_ADDRESS when it differs from IFA_LOCAL). */
  peer: string | undefined;
  broadcast: string | undefined;
  /** IFA_LABEL (IPv4; 'lo:vip'). */
  label: string | undefined;
  /** Link index (ifa_index). */
  index: number;
  scope: ScopeName | number;
  flags: AddressFlagName[];
  /** Seconds left; 'forever' for permanent addresses. */
  validLifetime: Lifetime | undefined;
  preferredLifetime: Lifetime | undefined;
  /** IFA_RT_PRIORITY: metric of the prefix route. */
  metric: number | undefined;
  /** IFA_PROTO: who added it (0 unspec, 1 kernel lo, 2 kernel RA, 3 kernel LL). */
  proto: number | undefined;
}

/** What addresses.add / replace take. */
export interface AddressSpec {
  /** The link: name or index. */
  link: LinkRef;
  /** 'ADDR/LEN' (a bare address means /32 or /128). */
  address: string;
  /** Point-to-point peer (`ip addr add A peer P`). */
  peer?: string;
  /** IPv4 broadcast (`brd B`), or '+' to compute it from the prefix like `brd +`. */
  broadcast?: string;
  /** IPv4 label (`label lo:vip`): must start with the link's name. */
  label?: string;
  /** Default 'global' (as `ip addr add`), except that the kernel uses 'host' for 127/8 on lo. */
  scope?: ScopeName | number;
  flags?: SettableAddressFlag[];
  /** `valid_lft`: seconds or 'forever' (default). */
  validLifetime?: Lifetime;
  /** `preferred_lft`: seconds or 'forever'; at most validLifetime. */
  preferredLifetime?: Lifetime;
  /** `metric N`: the prefix route's metric. */
  metric?: number;
}

/** What addresses.delete takes: the link and the address (with its length for IPv6). */
export interface AddressKey {
  link: LinkRef;
  address: string;
  /** IPv4 peer address, to tell apart two p2p addresses with one local address. */
  peer?: string;
  label?: string;
}
