// Sysctls a director and its real servers need, read and written through /proc/sys inside the
// handle's namespace (NetlinkSocket.readNamespaceFile/writeNamespaceFile run on a helper thread
// that entered the namespace): no fork of sysctl(8). Which file exists depends on the kernel
// version and on loaded modules; a missing one is a NetlinkError ENOENT saying which and why.
import { NetlinkError, ValidationError } from '../errors.js';
import type { NetlinkSocket } from '../socket.js';
import { validateLinkName } from './link.js';

/** Sysctls that appeared in a known kernel release (for "this kernel has no X (added in V)"). */
const ADDED_IN: Record<string, string> = {
  'net.ipv4.fib_multipath_hash_policy': '4.12',
  'net.ipv6.fib_multipath_hash_policy': '4.18',
  'net.ipv4.fib_multipath_hash_fields': '5.14',
  'net.ipv6.fib_multipath_hash_fields': '5.14',
  'net.ipv4.fib_multipath_hash_seed': '6.11',
  'net.ipv4.fib_multipath_use_neigh': '4.4',
  'net.ipv4.vs.conn_reuse_mode': '4.2',
  'net.ipv4.vs.schedule_icmp': '4.19',
  'net.ipv4.vs.ignore_tunneled': '4.4',
  'net.ipv4.vs.run_estimation': '5.19',
  'net.ipv4.vs.est_cpulist': '6.2',
  'net.ipv4.vs.est_nice': '6.2',
  'net.ipv4.vs.sloppy_sctp': '3.12',
  'net.ipv4.vs.pmtu_disc': '3.7',
};

/** IPVS tunables (net/netfilter/ipvs/ip_vs_ctl.c vs_vars), in camelCase for setIpvs(). */
export const IPVS_SYSCTLS = {
  amemthresh: 'amemthresh',
  amDropRate: 'am_droprate',
  dropEntry: 'drop_entry',
  dropPacket: 'drop_packet',
  conntrack: 'conntrack',
  secureTcp: 'secure_tcp',
  snatReroute: 'snat_reroute',
  syncVersion: 'sync_version',
  syncPorts: 'sync_ports',
  syncPersistMode: 'sync_persist_mode',
  syncQlenMax: 'sync_qlen_max',
  syncSockSize: 'sync_sock_size',
  cacheBypass: 'cache_bypass',
  expireNodestConn: 'expire_nodest_conn',
  sloppyTcp: 'sloppy_tcp',
  sloppySctp: 'sloppy_sctp',
  expireQuiescentTemplate: 'expire_quiescent_template',
  syncThreshold: 'sync_threshold',
  syncRefreshPeriod: 'sync_refresh_period',
  syncRetries: 'sync_retries',
  natIcmpSend: 'nat_icmp_send',
  pmtuDisc: 'pmtu_disc',
  backupOnly: 'backup_only',
  connReuseMode: 'conn_reuse_mode',
  scheduleIcmp: 'schedule_icmp',
  ignoreTunneled: 'ignore_tunneled',
  runEstimation: 'run_estimation',
  estNice: 'est_nice',
} as const;
export type IpvsSysctlName = keyof typeof IPVS_SYSCTLS;

/** fib_multipath_hash_fields bits (include/net/ip_fib.h FIB_MULTIPATH_HASH_FIELD_*). */
export const MULTIPATH_HASH_FIELDS = {
  srcIp: 0x1,
  dstIp: 0x2,
  ipProto: 0x4,
  flowLabel: 0x8,
  srcPort: 0x10,
  dstPort: 0x20,
  innerSrcIp: 0x40,
  innerDstIp: 0x80,
  innerIpProto: 0x100,
  innerFlowLabel: 0x200,
  innerSrcPort: 0x400,
  innerDstPort: 0x800,
} as const;
export type MultipathHashField = keyof typeof MULTIPATH_HASH_FIELDS;

/** 0 L3, 1 L4 (5-tuple), 2 L3 or inner L3, 3 custom (fib_multipath_hash_fields, 5.14+). */
export type MultipathHashPolicy = 0 | 1 | 2 | 3;

export interface MultipathHashSettings {
  /** Which family's sysctls (default 4: net.ipv4.*). */
  family?: 4 | 6;
  policy?: MultipathHashPolicy;
  /** For policy 3: a list of field names or the raw bitmask. */
  fields?: MultipathHashField[] | number;
  /** net.ipv4.fib_multipath_hash_seed (6.11+, IPv4 and IPv6 share it); 0 = random. */
  seed?: number;
}

/** Checks a dotted or slashed sysctl key and returns its /proc/sys path. */
export function sysctlPath(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 512)
    throw new ValidationError('key', key, "must be a sysctl name like 'net.ipv4.ip_forward'");
  // Dotted form as sysctl(8) takes it; with '/' separators, components may contain dots
  // (interface names like 'eth0.100'), again as sysctl(8).
  const parts = key.includes('/') ? key.split('/').filter((p) => p !== '') : key.split('.');
  if (parts.length < 2 || parts.some((p) => p === '' || p === '.' || p === '..' || !/^[A-Za-z0-9_.:@+-]+$/.test(p)))
    throw new ValidationError('key', key, "must be a sysctl name like 'net.ipv4.ip_forward' (or 'net/ipv4/conf/eth0.100/rp_filter')");
  return `/proc/sys/${parts.join('/')}`;
}

function dotted(path: string): string {
  return path.slice('/proc/sys/'.length).replaceAll('/', '.');
}

export class Sysctl {
  readonly #socket: NetlinkSocket;

  constructor(socket: NetlinkSocket) {
    this.#socket = socket;
  }

  /**
   * Reads a sysctl as text, trimmed. Equivalent to `sysctl -n KEY` inside the handle's namespace.
   * NetlinkError ENOENT when this kernel (or its loaded modules) has no such sysctl.
   */
  async get(key: string): Promise<string> {
    const path = sysctlPath(key);
    try {
      return this.#socket.readNamespaceFile(path).trim();
    } catch (e) {
      throw explainMissingSysctl(`sysctl get ${dotted(path)}`, path, e);
    }
  }

  /** Reads a numeric sysctl. */
  async getNumber(key: string): Promise<number> {
    const text = await this.get(key);
    const n = Number(text.split(/\s+/)[0]);
    if (!Number.isFinite(n)) throw new ValidationError('key', key, `must be a numeric sysctl (it reads "${text}")`);
    return n;
  }

  /** Whether this kernel has the sysctl (the file exists in the namespace's /proc/sys). */
  async has(key: string): Promise<boolean> {
    try {
      await this.get(key);
      return true;
    } catch (e) {
      if (e instanceof NetlinkError && e.code === 'ENOENT') return false;
      throw e;
    }
  }

  /**
   * Writes a sysctl. Equivalent to `sysctl -w KEY=VALUE` in the handle's namespace. The kernel
   * refuses out-of-range values with EINVAL; a missing sysctl is ENOENT.
   */
  async set(key: string, value: string | number | boolean): Promise<void> {
    const path = sysctlPath(key);
    let text: string;
    if (typeof value === 'boolean') text = value ? '1' : '0';
    else if (typeof value === 'number' && Number.isInteger(value)) text = String(value);
    else if (typeof value === 'string' && !/[\n\0]/.test(value)) text = value;
    else throw new ValidationError('value', value, 'must be an integer, a boolean or a one-line string');
    try {
      this.#socket.writeNamespaceFile(path, text);
    } catch (e) {
      throw explainMissingSysctl(`sysctl set ${dotted(path)}=${text}`, path, e);
    }
  }

  /** `sysctl -w net.ipv4.ip_forward=1` (and `net.ipv6.conf.all.forwarding` with { ipv6: true }). */
  async setForwarding(on: boolean, options: { ipv6?: boolean } = {}): Promise<void> {
    await this.set('net.ipv4.ip_forward', on);
    if (options.ipv6) await this.set('net.ipv6.conf.all.forwarding', on);
  }

  /**
   * The LVS-DR real-server ARP settings: arp_ignore=1 (answer ARP only for addresses on the
   * receiving interface) and arp_announce=2 (never use a VIP on lo as an ARP source), on 'all' and
   * on `link` (default 'lo'). The kernel uses the larger of 'all' and the interface's value.
   * Equivalent to `sysctl -w net.ipv4.conf.{all,lo}.arp_ignore=1 net.ipv4.conf.{all,lo}.arp_announce=2`.
   */
  async setArpForDrRealServer(link = 'lo'): Promise<void> {
    validateLinkName('link', link);
    for (const where of ['all', link]) {
      await this.set(`net/ipv4/conf/${where}/arp_ignore`, 1);
      await this.set(`net/ipv4/conf/${where}/arp_announce`, 2);
    }
  }

  /**
   * Reverse-path filtering on `link` ('all', 'default' or a link name): 0 off, 1 strict, 2 loose.
   * The kernel uses the larger of 'all' and the interface's value. `sysctl -w net.ipv4.conf.X.rp_filter=N`.
   */
  async setRpFilter(link: string, mode: 0 | 1 | 2): Promise<void> {
    if (link !== 'all' && link !== 'default') validateLinkName('link', link);
    if (mode !== 0 && mode !== 1 && mode !== 2) throw new ValidationError('mode', mode, 'must be 0 (off), 1 (strict) or 2 (loose)');
    await this.set(`net/ipv4/conf/${link}/rp_filter`, mode);
  }

  /**
   * ECMP hashing: net.ipv{4,6}.fib_multipath_hash_policy, _fields (5.14+) and
   * net.ipv4.fib_multipath_hash_seed (6.11+). Only the given settings are written. A kernel
   * without one of them gives NetlinkError ENOENT naming it and the release that added it.
   */
  async setMultipathHash(settings: MultipathHashSettings): Promise<void> {
    if (typeof settings !== 'object' || settings === null) throw new ValidationError('settings', settings, 'must be an object');
    const fam = settings.family ?? 4;
    if (fam !== 4 && fam !== 6) throw new ValidationError('settings.family', fam, 'must be 4 or 6');
    const base = `net.ipv${fam}`;
    if (settings.policy !== undefined) {
      if (![0, 1, 2, 3].includes(settings.policy)) throw new ValidationError('settings.policy', settings.policy, 'must be 0 (L3), 1 (L4), 2 (L3 or inner L3) or 3 (custom fields)');
    }
    let fields: number | undefined;
    if (settings.fields !== undefined) {
      if (typeof settings.fields === 'number') {
        if (!Number.isInteger(settings.fields) || settings.fields < 1 || settings.fields > 0xfff)
          throw new ValidationError('settings.fields', settings.fields, 'must be a bitmask in 1..0xfff');
        fields = settings.fields;
      } else if (Array.isArray(settings.fields) && settings.fields.length > 0) {
        fields = 0;
        for (const f of settings.fields) {
          if (!(f in MULTIPATH_HASH_FIELDS)) throw new ValidationError('settings.fields', f, `must be one of ${Object.keys(MULTIPATH_HASH_FIELDS).join(', ')}`);
          fields |= MULTIPATH_HASH_FIELDS[f];
        }
      } else throw new ValidationError('settings.fields', settings.fields, 'must be a non-empty list of field names or a bitmask');
    }
    if (settings.seed !== undefined && (!Number.isInteger(settings.seed) || settings.seed < 0 || settings.seed > 0xffffffff))
      throw new ValidationError('settings.seed', settings.seed, 'must be an integer in 0..4294967295');
    // Fields first: policy 3 with the old field set would briefly hash on the wrong fields.
    if (fields !== undefined) await this.set(`${base}.fib_multipath_hash_fields`, fields);
    if (settings.policy !== undefined) await this.set(`${base}.fib_multipath_hash_policy`, settings.policy);
    if (settings.seed !== undefined) await this.set('net.ipv4.fib_multipath_hash_seed', settings.seed);
  }

  /** Reads the ECMP hash settings; fields and seed are undefined on kernels without them. */
  async getMultipathHash(family: 4 | 6 = 4): Promise<{ policy: number; fields: number | undefined; seed: number | undefined }> {
    const base = `net.ipv${family}`;
    const policy = await this.getNumber(`${base}.fib_multipath_hash_policy`);
    const fields = (await this.has(`${base}.fib_multipath_hash_fields`)) ? Number(await this.get(`${base}.fib_multipath_hash_fields`)) : undefined;
    const seed = (await this.has('net.ipv4.fib_multipath_hash_seed')) ? await this.getNumber('net.ipv4.fib_multipath_hash_seed') : undefined;
    return { policy, fields, seed };
  }

  /**
   * IPVS tunables under net.ipv4.vs (they exist once ip_vs is loaded, per namespace). Example:
   * `setIpvs({ conntrack: 1, expireNodestConn: 1 })` = `sysctl -w net.ipv4.vs.conntrack=1
   * net.ipv4.vs.expire_nodest_conn=1`. Written in the order given; stops at the first failure.
   */
  async setIpvs(values: Partial<Record<IpvsSysctlName, number>>): Promise<void> {
    if (typeof values !== 'object' || values === null) throw new ValidationError('values', values, 'must be an object');
    for (const [k, v] of Object.entries(values)) {
      if (!(k in IPVS_SYSCTLS)) throw new ValidationError('values', k, `must use IPVS sysctl names (${Object.keys(IPVS_SYSCTLS).join(', ')})`);
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new ValidationError(`values.${k}`, v, 'must be an integer');
    }
    for (const [k, v] of Object.entries(values)) await this.set(`net.ipv4.vs.${IPVS_SYSCTLS[k as IpvsSysctlName]}`, v as number);
  }

  /** Reads one IPVS tunable (see setIpvs). */
  async getIpvs(name: IpvsSysctlName): Promise<number> {
    if (!(name in IPVS_SYSCTLS)) throw new ValidationError('name', name, `must be an IPVS sysctl name (${Object.keys(IPVS_SYSCTLS).join(', ')})`);
    return this.getNumber(`net.ipv4.vs.${IPVS_SYSCTLS[name]}`);
  }
}

/**
 * Rewrites an ENOENT from /proc/sys into a message saying what is missing and why it may be
 * ("this kernel has no net.ipv4.fib_multipath_hash_seed (added in 6.11)"). Other errors pass.
 */
export function explainMissingSysctl(op: string, path: string, e: unknown): unknown {
  if (!(e instanceof NetlinkError) || e.code !== 'ENOENT') return e;
  // A namespace deleted under the handle is also ENOENT: keep that message as it is.
  if (/deleted or replaced/.test(e.message)) return e;
  const key = dotted(path);
  const conf = /^net\.ipv[46]\.conf\.([^.]+)\./.exec(key);
  const added = ADDED_IN[key];
  let why = `this kernel has no ${key}${added ? ` (added in ${added})` : ''}`;
  if (key.startsWith('net.ipv4.vs.')) why += '; IPVS sysctls exist only once the ip_vs module is loaded';
  else if (conf && conf[1] !== 'all' && conf[1] !== 'default') why = `there is no ${key}: no link ${conf[1]} in this namespace, or no such setting`;
  return new NetlinkError({ op, errno: e.errno, code: 'ENOENT', cause: e }, `${op} failed: ENOENT (${why})`);
}
