// The ipvsadm rules format: what `ipvsadm -S` / `-Sn` (1.31) write and `ipvsadm -R` reads, and the
// ipvsadm command line itself (the same option parser serves `lvskit -A -t ...`).
//
// Facts (read from ipvsadm 1.31's source and checked against the real binary; see
// test/fixtures/ipvsadm/ and docs/cli.md):
//  - A rules file is one ipvsadm command line per line, without the program name; tokens are split
//    on blanks; a token "ipvsadm" anywhere is dropped. ipvsadm -R does not accept comments (a '#'
//    line aborts it); we do: '#' at the start of a token starts a comment to the end of the line.
//  - -S writes, per service (sorted, see sortServices):  -A SVC -s SCHED [-p T [-M MASK]] [--pe PE]
//    [-o] [-b FLAGS]  and per destination (sorted): -a SVC -r ADDR:PORT -g|-m|-i -w W, with
//    --tun-type ... for tunnels. Thresholds, timeouts and sync daemons are not written.
//  - ipvsadm -R runs line by line and stops at the first syntax error with earlier lines applied;
//    parseRules() reads the whole text first and applies nothing when any line is wrong.
import { clip, escapeControls, excerpt, EXCERPT_WIDTH } from './excerpt.js';
import { ValidationError } from '../errors.js';
import { canonicalAddress, parseIPv6 } from '../rtnl/ip.js';
import type { AddressFamily, DestinationSpec, ForwardMethod, Protocol, ServiceKey, ServiceSpec, SyncDaemon, Timeouts, TunnelOptions } from '../ipvs/types.js';
import { normalizeDestination, normalizeService, serviceFamily, type NormalDestination, type NormalService, type StateService } from './state.js';
import { filesResolver, type NameResolver } from './resolve.js';
import { SCHEDULER_NAMES } from '../ipvs/validate.js';

export type { NameResolver } from './resolve.js';

/** ipvsadm's persistence timeout when -p has no value (IPVS_SVC_PERSISTENT_TIMEOUT). */
export const IPVSADM_DEFAULT_PERSISTENCE = 360;
const MAX_TIMEOUT = 86400 * 31;

// ---- commands ------------------------------------------------------------------------------

export interface ListOptions {
  numeric: boolean;
  connection: boolean;
  timeout: boolean;
  daemon: boolean;
  stats: boolean;
  rate: boolean;
  thresholds: boolean;
  persistentConn: boolean;
  nosort: boolean;
  exact: boolean;
  tunInfo: boolean;
}

/** One ipvsadm command, parsed. */
export type IpvsadmCommand =
  | { cmd: 'add-service'; service: ServiceSpec }
  | { cmd: 'edit-service'; service: ServiceSpec }
  | { cmd: 'delete-service'; key: ServiceKey }
  | { cmd: 'add-server'; key: ServiceKey; destination: DestinationSpec }
  | { cmd: 'edit-server'; key: ServiceKey; destination: DestinationSpec }
  | { cmd: 'delete-server'; key: ServiceKey; destination: { address: string; port: number } }
  | { cmd: 'flush' }
  | { cmd: 'zero'; key?: ServiceKey }
  | { cmd: 'set'; timeouts: Timeouts }
  | { cmd: 'start-daemon'; daemon: SyncDaemon }
  | { cmd: 'stop-daemon'; state: 'master' | 'backup'; syncId?: number }
  | { cmd: 'list'; key?: ServiceKey; options: ListOptions }
  | { cmd: 'save'; numeric: boolean }
  | { cmd: 'restore' }
  | { cmd: 'help' }
  | { cmd: 'version' };

/** Where a rules-file command stands in its file (1-based columns), for errors found after parsing. */
export interface RulesPosition {
  /** The line's text, as RulesParseError.lineText gives it (without the line end). */
  text: string;
  /** Column of the command's first token. */
  column: number;
  /** Column of the service's value token (the address or mark; the option's own token when glued). */
  serviceColumn?: number;
  /** Column of the real server's value token (-r ADDR). */
  serverColumn?: number;
}

/**
 * A command from a rules file, with where it came from: `line` (1-based) and, from parseRules,
 * `position` (the line's text and the columns servicesFromRules reports errors at).
 */
export type RulesCommand = IpvsadmCommand & { line: number; position?: RulesPosition };

/** A command-line error: the message ipvsadm would give, and the index of the token at fault. */
export class IpvsadmArgsError extends ValidationError {
  override name = 'IpvsadmArgsError';
  /** Index into the tokens of the offending token (-1 when the line as a whole is at fault). */
  readonly tokenIndex: number;
  constructor(message: string, tokenIndex: number) {
    super('arguments', undefined, message);
    this.message = message;
    this.tokenIndex = tokenIndex;
  }
}

/** A rules file that does not parse: line and column (1-based) and the line's text. */
export class RulesParseError extends ValidationError {
  override name = 'RulesParseError';
  readonly line: number;
  readonly column: number;
  readonly lineText: string;
  readonly source: string;
  readonly reason: string;
  constructor(source: string, line: number, column: number, lineText: string, reason: string) {
    super('rules', undefined, reason);
    // the echo is escaped and cut (lib/format/excerpt.ts); lineText keeps the raw line
    const ex = excerpt(lineText, column);
    this.message = `${escapeControls(source)}:${line}:${column}: ${clip(reason, 4 * EXCERPT_WIDTH)}\n  ${ex.text}\n  ${' '.repeat(ex.caret - 1)}^`;
    this.source = source;
    this.line = line;
    this.column = column;
    this.lineText = lineText;
    this.reason = reason;
  }
}

// ---- option table (ipvsadm 1.31's names, in its order: errors are reported in this order) -------

/** Option ids in ipvsadm's order (its optnames[]), which is the order its checks report in. */
const OPT_NAMES = [
  'numeric', 'connection', 'service-address', 'scheduler', 'persistent', 'netmask', 'real-server',
  'forwarding-method', 'weight', 'u-threshold', 'l-threshold', 'mcast-interface', 'timeout', 'daemon',
  'stats', 'rate', 'thresholds', 'persistent-conn', 'nosort', 'syncid', 'exact', 'ops', 'pe',
  'sched-flags', 'mcast-group', 'mcast-port', 'mcast-ttl', 'sync-maxlen', 'tun-info', 'tun-type',
  'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum',
] as const;
type OptName = (typeof OPT_NAMES)[number];

type CmdName = 'add-service' | 'edit-service' | 'delete-service' | 'flush' | 'list' | 'add-server' | 'delete-server' | 'edit-server' | 'set' | 'start-daemon' | 'stop-daemon' | 'restore' | 'save' | 'zero';

/** Per command: options it requires (+), allows ( ), allows one of (1); anything else is illegal. */
const RULES: Record<CmdName, { req?: OptName[]; opt?: OptName[]; one?: OptName[] }> = {
  'add-service': { req: ['service-address'], opt: ['scheduler', 'persistent', 'netmask', 'ops', 'pe', 'sched-flags'] },
  'edit-service': { req: ['service-address'], opt: ['scheduler', 'persistent', 'netmask', 'ops', 'pe', 'sched-flags'] },
  'delete-service': { req: ['service-address'] },
  flush: {},
  list: {
    opt: ['numeric', 'stats', 'rate', 'thresholds', 'persistent-conn', 'nosort', 'syncid', 'exact', 'tun-info'],
    one: ['connection', 'service-address', 'timeout', 'daemon'],
  },
  'add-server': { req: ['service-address', 'real-server'], opt: ['forwarding-method', 'weight', 'u-threshold', 'l-threshold', 'tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'] },
  'delete-server': { req: ['service-address', 'real-server'] },
  'edit-server': { req: ['service-address', 'real-server'], opt: ['forwarding-method', 'weight', 'u-threshold', 'l-threshold', 'tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'] },
  set: {},
  'start-daemon': { opt: ['mcast-interface', 'syncid', 'mcast-group', 'mcast-port', 'mcast-ttl', 'sync-maxlen'] },
  'stop-daemon': { opt: ['syncid'] },
  restore: {},
  save: { opt: ['numeric'] },
  zero: { opt: ['service-address'] },
};

interface OptDef {
  long: string;
  short?: string;
  arg: 'none' | 'required' | 'optional';
  /** A command ('A' ...) or an option id. */
  id: string;
}

const DEFS: OptDef[] = [
  { long: 'add-service', short: 'A', arg: 'none', id: 'cmd:add-service' },
  { long: 'edit-service', short: 'E', arg: 'none', id: 'cmd:edit-service' },
  { long: 'delete-service', short: 'D', arg: 'none', id: 'cmd:delete-service' },
  { long: 'clear', short: 'C', arg: 'none', id: 'cmd:flush' },
  { long: 'list', short: 'L', arg: 'none', id: 'cmd:list' },
  { long: 'list', short: 'l', arg: 'none', id: 'cmd:list' },
  { long: 'zero', short: 'Z', arg: 'none', id: 'cmd:zero' },
  { long: 'add-server', short: 'a', arg: 'none', id: 'cmd:add-server' },
  { long: 'edit-server', short: 'e', arg: 'none', id: 'cmd:edit-server' },
  { long: 'delete-server', short: 'd', arg: 'none', id: 'cmd:delete-server' },
  { long: 'set', arg: 'none', id: 'cmd:set' },
  { long: 'help', short: 'h', arg: 'none', id: 'cmd:help' },
  { long: 'version', short: 'v', arg: 'none', id: 'cmd:version' },
  { long: 'restore', short: 'R', arg: 'none', id: 'cmd:restore' },
  { long: 'save', short: 'S', arg: 'none', id: 'cmd:save' },
  { long: 'start-daemon', arg: 'required', id: 'cmd:start-daemon' },
  { long: 'stop-daemon', arg: 'required', id: 'cmd:stop-daemon' },
  { long: 'tcp-service', short: 't', arg: 'required', id: 'tcp' },
  { long: 'udp-service', short: 'u', arg: 'required', id: 'udp' },
  { long: 'sctp-service', arg: 'required', id: 'sctp' },
  { long: 'fwmark-service', short: 'f', arg: 'required', id: 'fwmark' },
  { long: 'scheduler', short: 's', arg: 'required', id: 'scheduler' },
  { long: 'persistent', short: 'p', arg: 'optional', id: 'persistent' },
  { long: 'netmask', short: 'M', arg: 'required', id: 'netmask' },
  { long: 'real-server', short: 'r', arg: 'required', id: 'real-server' },
  { long: 'masquerading', short: 'm', arg: 'none', id: 'fwd:masq' },
  { long: 'ipip', short: 'i', arg: 'none', id: 'fwd:tunnel' },
  { long: 'gatewaying', short: 'g', arg: 'none', id: 'fwd:route' },
  { long: 'weight', short: 'w', arg: 'required', id: 'weight' },
  { long: 'u-threshold', short: 'x', arg: 'required', id: 'u-threshold' },
  { long: 'l-threshold', short: 'y', arg: 'required', id: 'l-threshold' },
  { long: 'numeric', short: 'n', arg: 'none', id: 'numeric' },
  { long: 'connection', short: 'c', arg: 'none', id: 'connection' },
  { long: 'mcast-interface', arg: 'required', id: 'mcast-interface' },
  { long: 'syncid', arg: 'required', id: 'syncid' },
  { long: 'timeout', arg: 'none', id: 'timeout' },
  { long: 'daemon', arg: 'none', id: 'daemon' },
  { long: 'stats', arg: 'none', id: 'stats' },
  { long: 'rate', arg: 'none', id: 'rate' },
  { long: 'thresholds', arg: 'none', id: 'thresholds' },
  { long: 'persistent-conn', arg: 'none', id: 'persistent-conn' },
  { long: 'nosort', arg: 'none', id: 'nosort' },
  { long: 'sort', arg: 'none', id: 'sort' },
  { long: 'exact', short: 'X', arg: 'none', id: 'exact' },
  { long: 'ipv6', short: '6', arg: 'none', id: 'ipv6' },
  { long: 'ops', short: 'o', arg: 'none', id: 'ops' },
  { long: 'pe', arg: 'required', id: 'pe' },
  { long: 'sched-flags', short: 'b', arg: 'required', id: 'sched-flags' },
  { long: 'mcast-group', arg: 'required', id: 'mcast-group' },
  { long: 'mcast-port', arg: 'required', id: 'mcast-port' },
  { long: 'mcast-ttl', arg: 'required', id: 'mcast-ttl' },
  { long: 'sync-maxlen', arg: 'required', id: 'sync-maxlen' },
  { long: 'tun-info', arg: 'none', id: 'tun-info' },
  { long: 'tun-type', arg: 'required', id: 'tun-type' },
  { long: 'tun-port', arg: 'required', id: 'tun-port' },
  { long: 'tun-nocsum', arg: 'none', id: 'tun-nocsum' },
  { long: 'tun-csum', arg: 'none', id: 'tun-csum' },
  { long: 'tun-remcsum', arg: 'none', id: 'tun-remcsum' },
];
const BY_LONG = new Map(DEFS.map((d) => [d.long, d]));
const BY_SHORT = new Map(DEFS.filter((d) => d.short).map((d) => [d.short!, d]));

/** Every long and short option the ipvsadm-compatible parser knows (for help and tests). */
export const IPVSADM_OPTIONS: readonly { long: string; short?: string; arg: 'none' | 'required' | 'optional' }[] = DEFS.map(({ long, short, arg }) => (short ? { long, short, arg } : { long, arg }));

// ---- low-level value parsers (ipvsadm's rules) --------------------------------------------

/** strtol-style decimal: optional sign, digits, nothing else. */
function strtolDecimal(s: string): number | undefined {
  return /^[+-]?[0-9]+$/.test(s) ? Number(s) : undefined;
}

function numberIn(s: string, lo: number, hi: number): number | undefined {
  const n = strtolDecimal(s);
  return n !== undefined && n >= lo && n <= hi ? n : undefined;
}

/** inet_aton: 1 to 4 parts, each decimal, 0octal or 0xhex; the last part fills the remaining bytes. */
export function inetAton(s: string): string | undefined {
  if (isPlainDottedQuad(s)) return s; // its own canonical form; rules files are mostly these
  const parts = s.split('.');
  if (parts.length < 1 || parts.length > 4) return undefined;
  const vals: number[] = [];
  for (const p of parts) {
    let v: number;
    if (/^0[xX][0-9a-fA-F]*$/.test(p)) v = p.length === 2 ? 0 : parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) v = parseInt(p, 8);
    else if (/^[1-9][0-9]*$/.test(p)) v = Number(p);
    else return undefined;
    vals.push(v);
  }
  const last = vals.pop()!;
  for (const v of vals) if (v > 255) return undefined;
  const restBytes = 4 - vals.length;
  if (last >= 2 ** (8 * restBytes)) return undefined;
  const bytes = [...vals];
  for (let i = restBytes - 1; i >= 0; i--) bytes.push(Math.floor(last / 2 ** (8 * i)) % 256);
  return bytes.join('.');
}

/**
 * Whether `s` is four decimal parts 0..255 with no leading zero ('10.0.0.1'): inet_aton reads it
 * as written. Checked without allocating: a rules file has two addresses on most lines.
 */
function isPlainDottedQuad(s: string): boolean {
  let dots = 0;
  let v = 0;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0) return false;
      dots++;
      v = 0;
      digits = 0;
      continue;
    }
    if (c < 48 || c > 57) return false;
    if (digits === 1 && v === 0) return false; // a leading zero: octal to inet_aton
    v = v * 10 + (c - 48);
    digits++;
    if (v > 255) return false;
  }
  return digits > 0 && dots === 3;
}

/** Every IPv6 text has at least two colons ('::', 'a::', '1:2:3:4:5:6:7:8'): fewer cannot be one. */
function mayBeIPv6(s: string): boolean {
  const c = s.indexOf(':');
  return c >= 0 && s.indexOf(':', c + 1) >= 0;
}

interface ParsedHostPort {
  address: string;
  family: AddressFamily;
  /** undefined when no port was given */
  port: number | undefined;
}

/** ipvsadm's parse_service: '[v6]:port', 'v6' (no port), 'v4[:port]', 'host[:port]'. */
function parseHostPort(buf: string, protocol: Protocol | undefined, resolver: NameResolver): ParsedHostPort | undefined {
  if (buf === '' || /^[0-9]+$/.test(buf)) return undefined;
  let host = buf;
  let portText: string | undefined;
  if (buf.startsWith('[')) {
    const close = buf.indexOf(']');
    if (close < 0 || buf[close + 1] !== ':') return undefined;
    host = buf.slice(1, close);
    portText = buf.slice(close + 2);
    const b = parseIPv6(host);
    if (!b) return undefined;
  }
  let address: string | undefined;
  let family: AddressFamily;
  if (mayBeIPv6(host) && parseIPv6(host)) {
    address = canonicalAddress(host)!;
    family = 'inet6';
  } else {
    if (portText === undefined) {
      const c = host.lastIndexOf(':');
      if (c >= 0) {
        portText = host.slice(c + 1);
        host = host.slice(0, c);
      }
    }
    address = inetAton(host) ?? resolver.hostToAddress(host);
    if (!address) return undefined;
    family = 'inet';
  }
  let port: number | undefined;
  if (portText !== undefined) {
    port = numberIn(portText, 0, 65535) ?? (protocol ? resolver.serviceToPort(portText, protocol) : undefined);
    if (port === undefined) return undefined;
  }
  return { address, family, port };
}

// ---- the option parser (popt's behaviour as ipvsadm uses it) ----------------------------------

interface Occurrence {
  def: OptDef;
  value: string | undefined;
  /** Token of the option. */
  index: number;
  /** Token of its value (the option's own token when glued or absent). */
  valueIndex: number;
}

/**
 * Splits ipvsadm arguments into options and leftovers, as popt does: short options cluster
 * ('-Ln'), a short option's value may be glued ('-t10.0.0.1:80') or the next argument; long options
 * take '--opt=value' or '--opt value'; '-p'/'--persistent' takes the next argument only when it does
 * not start with '-'; '--' ends the options; other arguments are leftovers.
 */
function scan(args: readonly string[]): { occ: Occurrence[]; rest: { value: string; index: number }[] } {
  const occ: Occurrence[] = [];
  const rest: { value: string; index: number }[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      for (let j = i + 1; j < args.length; j++) rest.push({ value: args[j]!, index: j });
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const def = BY_LONG.get(name);
      if (!def) throw new IpvsadmArgsError(`${a}: unknown option`, i);
      const at = i;
      let value: string | undefined;
      if (eq >= 0) {
        if (def.arg === 'none') throw new IpvsadmArgsError(`--${name}: option does not take a value`, i);
        value = a.slice(eq + 1);
      } else if (def.arg === 'required') {
        if (i + 1 >= args.length) throw new IpvsadmArgsError(`--${name}: missing argument`, i);
        value = args[++i]!;
      } else if (def.arg === 'optional' && i + 1 < args.length && !args[i + 1]!.startsWith('-')) {
        value = args[++i]!;
      }
      occ.push({ def, value, index: at, valueIndex: i });
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let k = 1; k < a.length; k++) {
        const def = BY_SHORT.get(a[k]!);
        if (!def) throw new IpvsadmArgsError(`-${a[k]}: unknown option`, i);
        if (def.arg === 'none') {
          occ.push({ def, value: undefined, index: i, valueIndex: i });
          continue;
        }
        // popt drops one '=' between a short option and its glued value: '-s=rr' is '-s rr'
        const glued = a[k + 1] === '=' ? a.slice(k + 2) : a.slice(k + 1);
        const at = i;
        let value: string | undefined;
        if (k + 1 < a.length) value = glued;
        else if (def.arg === 'required') {
          if (i + 1 >= args.length) throw new IpvsadmArgsError(`-${def.short}: missing argument`, i);
          value = args[++i]!;
        } else if (i + 1 < args.length && !args[i + 1]!.startsWith('-')) value = args[++i]!;
        occ.push({ def, value, index: at, valueIndex: i });
        break;
      }
      continue;
    }
    rest.push({ value: a, index: i });
  }
  return { occ, rest };
}

/** '--scheduler' or '-s', as the occurrence was written. */
function optionAsWritten(o: Occurrence, args: readonly string[]): string {
  return args[o.index]!.startsWith('--') || !o.def.short ? `--${o.def.long}` : `-${o.def.short}`;
}

export interface ParseArgsOptions {
  /** Host and service names (default: /etc/hosts and /etc/services, read when a name appears). */
  resolver?: NameResolver;
}

/**
 * Parses one ipvsadm command line (without the program name) with ipvsadm 1.31's rules and
 * messages. Throws IpvsadmArgsError.
 */
export function parseIpvsadmArgs(args: readonly string[], options: ParseArgsOptions = {}): IpvsadmCommand {
  return parseCommand(args, options, {});
}

/** Where a command's service and real server were given: indexes of their value tokens. */
interface ArgPositions {
  service?: number;
  server?: number;
}

function parseCommand(args: readonly string[], options: ParseArgsOptions, at: ArgPositions): IpvsadmCommand {
  const resolver = options.resolver ?? filesResolver();
  const { occ, rest } = scan(args);
  const first = occ[0];
  if (!first || !first.def.id.startsWith('cmd:')) {
    throw new IpvsadmArgsError('the first option must be a command (-A -E -D -a -e -d -C -L -l -Z -S -R --set --start-daemon --stop-daemon -h -v)', first ? first.index : -1);
  }
  const cmd = first.def.id.slice(4) as CmdName | 'help' | 'version';
  if (cmd === 'help') return { cmd: 'help' };
  if (cmd === 'version') return { cmd: 'version' };
  const fail = (msg: string, index: number): never => {
    throw new IpvsadmArgsError(msg, index);
  };
  let daemonState: 'master' | 'backup' | undefined;
  if (cmd === 'start-daemon' || cmd === 'stop-daemon') {
    if (first.value !== 'master' && first.value !== 'backup')
      fail(cmd === 'start-daemon' ? 'illegal start-daemon parameter specified' : 'illegal start_daemon specified', first.valueIndex);
    daemonState = first.value as 'master' | 'backup';
  }

  const seen = new Map<OptName, number>();
  const set = (o: OptName, index: number) => {
    if (seen.has(o)) fail(`multiple '${o}' options specified`, index);
    seen.set(o, index);
  };
  // service
  let protocol: Protocol | undefined;
  let svcAddr: ParsedHostPort | undefined;
  let fwmark: number | undefined;
  let svcFamily: AddressFamily = 'inet';
  let scheduler: string | undefined;
  let persistent: number | undefined;
  let netmaskText: { v: string; index: number; family: AddressFamily } | undefined;
  let onePacket = false;
  let pe: string | undefined;
  let schedFlags: { v: string; index: number } | undefined;
  // destination
  let real: { text: string; index: number } | undefined;
  let forward: ForwardMethod = 'route';
  let weight = 1;
  let uth = 0;
  let lth = 0;
  let tunType: TunnelOptions['type'] = 'ipip';
  let tunPort = 0;
  let tunFlag: 'nocsum' | 'csum' | 'remcsum' | undefined;
  // list
  const flags = new Set<string>();
  // daemon
  let mcastIfn: string | undefined;
  let syncId: number | undefined;
  let group: string | undefined;
  let mport: number | undefined;
  let ttl: number | undefined;
  let maxlen: number | undefined;

  for (const o of occ.slice(1)) {
    const id = o.def.id;
    const v = o.value ?? '';
    if (id.startsWith('cmd:')) fail('multiple commands specified', o.index);
    switch (id) {
      case 'tcp':
      case 'udp':
      case 'sctp': {
        set('service-address', o.index);
        at.service = o.valueIndex;
        protocol = id;
        const p = parseHostPort(v, protocol, resolver);
        if (!p) fail('illegal virtual server address[:port] specified', o.valueIndex);
        svcAddr = p!;
        svcFamily = p!.family;
        break;
      }
      case 'fwmark': {
        set('service-address', o.index);
        at.service = o.valueIndex;
        // ipvsadm takes 1..4294967295 but -S writes marks above 2^31-1 with %d (negative); we read
        // those back too (-2147483648..-1 as their 32-bit value), so our own saves round-trip
        const n = strtolDecimal(v);
        if (n === undefined || n === 0 || n > 0xffffffff || n < -0x80000000) fail(`invalid fwmark value \`${v}' specified`, o.valueIndex);
        fwmark = n! >>> 0;
        svcFamily = 'inet';
        break;
      }
      case 'scheduler':
        set('scheduler', o.index);
        scheduler = kernelName('scheduler', optionAsWritten(o, args), v, o.valueIndex, fail);
        // The library applies only the schedulers it knows (validate.ts schedulerName): refuse
        // the others here, where the error can carry the rules file's line and column.
        if (scheduler !== '' && !SCHEDULER_NAMES.includes(scheduler))
          fail(`${optionAsWritten(o, args)}: unknown scheduler '${scheduler}': must be one of ${SCHEDULER_NAMES.join(', ')}`, o.valueIndex);
        break;
      case 'persistent': {
        set('persistent', o.index);
        if (o.value === undefined) persistent = IPVSADM_DEFAULT_PERSISTENCE;
        else {
          const n = numberIn(v, 1, MAX_TIMEOUT);
          if (n === undefined) fail(`invalid timeout value \`${v}' specified`, o.valueIndex);
          persistent = n;
        }
        break;
      }
      case 'netmask':
        set('netmask', o.index);
        netmaskText = { v, index: o.index, family: svcFamily };
        if (svcFamily === 'inet') {
          if (!(inetAton(v) ?? resolver.hostToAddress(v))) fail('illegal virtual server persistent mask specified', o.valueIndex);
        } else {
          const n = parseInt(v, 10);
          if (!(n >= 1 && n <= 128)) fail('illegal ipv6 netmask specified', o.valueIndex);
        }
        break;
      case 'real-server':
        set('real-server', o.index);
        at.server = o.valueIndex;
        real = { text: v, index: o.valueIndex };
        break;
      case 'fwd:masq':
      case 'fwd:tunnel':
      case 'fwd:route':
        set('forwarding-method', o.index);
        forward = id.slice(4) as ForwardMethod;
        break;
      case 'weight': {
        set('weight', o.index);
        const n = numberIn(v, 0, 2147483647);
        if (n === undefined) fail('illegal weight specified', o.valueIndex);
        weight = n!;
        break;
      }
      case 'u-threshold': {
        set('u-threshold', o.index);
        const n = numberIn(v, 0, 2147483647);
        if (n === undefined) fail('illegal u_threshold specified', o.valueIndex);
        uth = n!;
        break;
      }
      case 'l-threshold': {
        set('l-threshold', o.index);
        const n = numberIn(v, 0, 2147483647);
        if (n === undefined) fail('illegal l_threshold specified', o.valueIndex);
        lth = n!;
        break;
      }
      case 'mcast-interface':
        set('mcast-interface', o.index);
        mcastIfn = v.slice(0, 15);
        break;
      case 'syncid': {
        set('syncid', o.index);
        const n = numberIn(v, 0, 255);
        if (n === undefined) fail('illegal syncid specified', o.valueIndex);
        syncId = n;
        break;
      }
      case 'ipv6':
        if (fwmark === undefined) fail('-6 used before -f', o.valueIndex);
        svcFamily = 'inet6';
        break;
      case 'ops':
        set('ops', o.index);
        onePacket = true;
        break;
      case 'pe':
        set('pe', o.index);
        pe = kernelName('persistence engine', optionAsWritten(o, args), v, o.valueIndex, fail);
        break;
      case 'sched-flags':
        set('sched-flags', o.index);
        schedFlags = { v, index: o.valueIndex };
        break;
      case 'mcast-group': {
        set('mcast-group', o.index);
        const a = canonicalAddress(v);
        const isV6 = v.includes(':');
        const mc = a !== undefined && (isV6 ? a.toLowerCase().startsWith('ff') : Number(a.split('.')[0]) >= 224 && Number(a.split('.')[0]) <= 239);
        if (!mc) fail(`invalid IPv${isV6 ? 6 : 4} mcast-group \`${v}'`, o.valueIndex);
        group = a;
        break;
      }
      case 'mcast-port': {
        set('mcast-port', o.index);
        const n = numberIn(v, 1, 65535);
        if (n === undefined) fail('illegal mcast-port specified', o.valueIndex);
        mport = n;
        break;
      }
      case 'mcast-ttl': {
        set('mcast-ttl', o.index);
        const n = numberIn(v, 1, 255);
        if (n === undefined) fail('illegal mcast-ttl specified', o.valueIndex);
        ttl = n;
        break;
      }
      case 'sync-maxlen': {
        set('sync-maxlen', o.index);
        const n = numberIn(v, 1, 65535 - 20 - 8);
        if (n === undefined) fail('illegal sync-maxlen specified', o.valueIndex);
        maxlen = n;
        break;
      }
      case 'tun-type':
        set('tun-type', o.index);
        if (v !== 'ipip' && v !== 'gue' && v !== 'gre') fail('illegal tunnel type specified', o.valueIndex);
        tunType = v as TunnelOptions['type'];
        break;
      case 'tun-port': {
        set('tun-port', o.index);
        const n = numberIn(v, 1, 65535);
        if (n === undefined) fail('illegal tunnel port specified', o.valueIndex);
        tunPort = n!;
        break;
      }
      case 'tun-nocsum':
      case 'tun-csum':
      case 'tun-remcsum':
        set(id, o.index);
        tunFlag = id.slice(4) as 'nocsum' | 'csum' | 'remcsum';
        break;
      case 'sort':
        break;
      default:
        // flags of list: numeric connection timeout daemon stats rate thresholds persistent-conn nosort exact tun-info
        set(id as OptName, o.index);
        flags.add(id);
    }
  }

  // leftovers: --set takes three timeouts, nothing else takes any
  let timeouts: Timeouts | undefined;
  let restAt = 0;
  if (cmd === 'set') {
    if (rest.length < 3) fail('--set option requires 3 timeout values', -1);
    const t = rest.slice(0, 3).map((r) => {
      const n = numberIn(r.value, 0, MAX_TIMEOUT);
      if (n === undefined) fail(`invalid timeout value \`${r.value}' specified`, r.index);
      return n!;
    });
    timeouts = { tcp: t[0]!, tcpFin: t[1]!, udp: t[2]! };
    restAt = 3;
  }
  if (rest.length > restAt) fail(`unexpected argument ${rest[restAt]!.value}`, rest[restAt]!.index);

  // which options go with which command (ipvsadm's table, reported in its option order)
  const rule = RULES[cmd];
  let oneSeen: OptName | undefined;
  for (const name of OPT_NAMES) {
    const at = seen.get(name) ?? (flags.has(name) ? -1 : undefined);
    if (at === undefined) {
      if (rule.req?.includes(name)) fail(`You need to supply the '${name}' option for the '${cmd}' command`, -1);
      continue;
    }
    if (rule.one?.includes(name)) {
      if (oneSeen) fail(`The option '${name}' conflicts with the '${oneSeen}' option in the '${cmd}' command`, at);
      oneSeen = name;
      continue;
    }
    if (!rule.req?.includes(name) && !rule.opt?.includes(name)) fail(`Illegal '${name}' option with the '${cmd}' command`, at);
  }

  const key: ServiceKey | undefined =
    fwmark !== undefined ? { fwmark, family: svcFamily } : svcAddr ? { protocol: protocol!, address: svcAddr.address, port: svcAddr.port ?? 0, family: svcAddr.family } : undefined;

  switch (cmd) {
    case 'add-service':
    case 'edit-service': {
      const port = key && 'port' in key ? key.port : 0;
      if (fwmark === undefined && port === 0 && persistent === undefined) fail('Zero port specified for non-persistent service', -1);
      if (onePacket && fwmark === undefined && protocol !== 'udp') fail('One-Packet Scheduling is only for UDP virtual services', -1);
      const sched = scheduler || 'wlc';
      const spec: ServiceSpec = { key: key!, scheduler: sched as ServiceSpec['scheduler'] };
      const f: NonNullable<ServiceSpec['flags']> = {};
      if (onePacket) f.onePacket = true;
      if (schedFlags) Object.assign(f, parseSchedFlags(sched, schedFlags.v, (m) => fail(m, schedFlags!.index)));
      if (Object.keys(f).length) spec.flags = f;
      if (persistent !== undefined) {
        spec.persistence = { timeout: persistent };
        // ipvsadm reads -M by the family known at that point; a later IPv6 service resets it to 128
        if (netmaskText && netmaskText.family === svcFamily) {
          if (svcFamily === 'inet6') spec.persistence.netmask = parseInt(netmaskText.v, 10);
          else spec.persistence.netmask = (inetAton(netmaskText.v) ?? resolver.hostToAddress(netmaskText.v))!;
        }
      }
      if (pe) spec.persistenceEngine = pe;
      return { cmd, service: spec };
    }
    case 'delete-service':
      return { cmd, key: key! };
    case 'add-server':
    case 'edit-server':
    case 'delete-server': {
      const p = parseHostPort(real!.text, protocol, resolver);
      if (!p) fail('illegal real server address[:port] specified', real!.index);
      const svcPort = key && 'port' in key ? key.port : 0;
      let port = p!.port ?? svcPort;
      if (cmd === 'delete-server') return { cmd, key: key!, destination: { address: p!.address, port } };
      // ipvsadm: a DR or tunnel destination of a non-fwmark service takes the service's port
      if (fwmark === undefined && (forward === 'tunnel' || forward === 'route')) port = svcPort;
      if (p!.family !== svcFamily && forward !== 'tunnel') fail('Different address family is allowed only for tunneling servers', real!.index);
      const tunOpts = ['tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'] as const;
      if (tunOpts.some((t) => seen.has(t)) && forward !== 'tunnel') fail('Tunnel options conflict with forward method', -1);
      checkTunnelOptions(tunType, seen, fail);
      const d: DestinationSpec = { address: p!.address, port, forward, weight };
      if (uth) d.upperThreshold = uth;
      if (lth) d.lowerThreshold = lth;
      if (p!.family !== svcFamily) d.family = p!.family;
      if (forward === 'tunnel') {
        const t: TunnelOptions = { type: tunType };
        if (tunType === 'gue') t.port = tunPort;
        if (tunFlag === 'csum') t.checksum = true;
        if (tunFlag === 'remcsum') t.remoteChecksum = true;
        d.tunnel = t;
      }
      return { cmd, key: key!, destination: d };
    }
    case 'flush':
      return { cmd };
    case 'zero':
      return key ? { cmd, key } : { cmd };
    case 'set':
      return { cmd, timeouts: timeouts! };
    case 'start-daemon': {
      const daemon: SyncDaemon = { state: daemonState!, interface: mcastIfn ?? 'eth0', syncId: syncId ?? 0 };
      if (maxlen !== undefined) daemon.maxLength = maxlen;
      if (group !== undefined) daemon.group = group;
      if (mport !== undefined) daemon.port = mport;
      if (ttl !== undefined) daemon.ttl = ttl;
      return { cmd, daemon };
    }
    case 'stop-daemon':
      return syncId !== undefined ? { cmd, state: daemonState!, syncId } : { cmd, state: daemonState! };
    case 'list': {
      const lo: ListOptions = {
        numeric: flags.has('numeric'),
        connection: flags.has('connection'),
        timeout: flags.has('timeout'),
        daemon: flags.has('daemon'),
        stats: flags.has('stats'),
        rate: flags.has('rate'),
        thresholds: flags.has('thresholds'),
        persistentConn: flags.has('persistent-conn'),
        nosort: flags.has('nosort'),
        exact: flags.has('exact'),
        tunInfo: flags.has('tun-info'),
      };
      if (((lo.connection || lo.timeout || lo.daemon) && (lo.stats || lo.rate || lo.thresholds)) || ((lo.timeout || lo.daemon) && lo.persistentConn))
        fail('options conflicts in the list command', -1);
      return key ? { cmd, key, options: lo } : { cmd, options: lo };
    }
    case 'save':
      return { cmd, numeric: flags.has('numeric') };
    case 'restore':
      return { cmd };
  }
}

/** IP_VS_SCHEDNAME_MAXLEN and IP_VS_PENAME_MAXLEN (include/uapi/linux/ip_vs.h) less the NUL. */
const IPVS_NAME_MAX = 15;

/**
 * A scheduler or persistence-engine name as the kernel can hold it: at most 15 characters (its
 * 16-byte fields keep a NUL) of a-z, 0-9 and _ (the kernel finds both by module name,
 * ip_vs_<name> / ip_vs_pe_<name>: any other name is "not found"). ipvsadm passes any text on (and
 * truncates a long -s to 15) for the kernel to refuse; we refuse it here, naming the option and
 * the value. 'ipvsadm' is refused too: no module has that name, and a rules file cannot carry it
 * (ipvsadm -R, and parseRules, drop that word wherever it stands). An empty value is ipvsadm's
 * "not given" (-s '' is wlc, --pe '' none).
 */
function kernelName(what: 'scheduler' | 'persistence engine', opt: string, v: string, index: number, fail: (m: string, i: number) => never): string {
  const bad = (why: string): never => fail(`${opt}: invalid ${what} name '${v}': ${why}`, index);
  if (v.length > IPVS_NAME_MAX) bad(`longer than the kernel's ${IPVS_NAME_MAX} characters`);
  if (!/^[a-z0-9_]*$/.test(v)) bad('the kernel knows only names of a-z, 0-9 and _');
  if (v === 'ipvsadm') bad("no such module, and a rules file cannot carry the word 'ipvsadm'");
  return v;
}

function parseSchedFlags(sched: string, text: string, fail: (m: string) => never): NonNullable<ServiceSpec['flags']> {
  const f: NonNullable<ServiceSpec['flags']> = {};
  for (const flag of text.split(',').filter((x) => x !== '')) {
    const need = flag.startsWith('sh-') ? 'sh' : flag.startsWith('mh-') ? 'mh' : undefined;
    if (flag === 'flag-1' || flag === 'sh-fallback' || flag === 'mh-fallback') f.schedFallback = true;
    else if (flag === 'flag-2' || flag === 'sh-port' || flag === 'mh-port') f.schedPort = true;
    else if (flag === 'flag-3') f.sched3 = true;
    else fail(`invalid scheduler flag \`${flag}'`);
    if (need && sched !== need) fail(`incompatible scheduler flag \`${flag}'`);
  }
  return f;
}

/** ipvsadm's tunnel table: ipip takes none; gue needs --tun-port and one checksum option; gre one of nocsum/csum. */
function checkTunnelOptions(type: TunnelOptions['type'], seen: Map<OptName, number>, fail: (m: string, i: number) => never): void {
  const cols = ['tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'] as const;
  const table: Record<string, string> = { ipip: 'xxxx', gue: '+111', gre: 'x11x' };
  let one: string | undefined;
  cols.forEach((c, j) => {
    const k = table[type]![j]!;
    const at = seen.get(c);
    if (at === undefined) {
      if (k === '+') fail(`You need to supply the '${c}' option for the '${type}' tunnel type`, -1);
      return;
    }
    if (k === 'x') fail(`Illegal '${c}' option with the '${type}' tunnel type`, at);
    if (k === '1') {
      if (one) fail(`The option '${c}' conflicts with the '${one}' option in the '${type}' tunnel type`, at);
      one = c;
    }
  });
}

// ---- rules files ------------------------------------------------------------------------------

interface Token {
  text: string;
  column: number;
}

/** Splits a line into blank-separated tokens with their 1-based columns, dropping comments and "ipvsadm". */
function tokenize(line: string): Token[] {
  const out: Token[] = [];
  const re = /[^ \t\r\n]+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) {
    if (m[0].startsWith('#')) break;
    if (m[0] === 'ipvsadm') continue;
    out.push({ text: m[0], column: m.index + 1 });
  }
  return out;
}

export interface ParseRulesOptions extends ParseArgsOptions {
  /** Name of the source for messages (default 'rules'). */
  source?: string;
}

const NOT_IN_RULES = new Set(['list', 'save', 'restore', 'help', 'version']);

/**
 * Parses a whole rules file (what ipvsadm -S writes and ipvsadm -R reads). Every line is checked
 * before anything is returned; the first bad line throws RulesParseError with line and column.
 */
export function parseRules(text: string, options: ParseRulesOptions = {}): RulesCommand[] {
  const source = options.source ?? 'rules';
  const resolver = options.resolver ?? filesResolver();
  const out: RulesCommand[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const lineText = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    const toks = tokenize(lineText);
    if (toks.length === 0) return;
    const firstCol = toks[0]!.column;
    let c: IpvsadmCommand;
    const at: ArgPositions = {};
    try {
      c = parseCommand(toks.map((t) => t.text), { resolver }, at);
    } catch (e) {
      if (e instanceof IpvsadmArgsError) {
        const col = e.tokenIndex >= 0 && e.tokenIndex < toks.length ? toks[e.tokenIndex]!.column : firstCol;
        throw new RulesParseError(source, i + 1, col, lineText, e.message);
      }
      throw e;
    }
    if (NOT_IN_RULES.has(c.cmd)) throw new RulesParseError(source, i + 1, firstCol, lineText, `'${toks[0]!.text}' (${c.cmd}) cannot appear in a rules file`);
    const position: RulesPosition = { text: lineText, column: firstCol };
    if (at.service !== undefined) position.serviceColumn = toks[at.service]!.column;
    if (at.server !== undefined) position.serverColumn = toks[at.server]!.column;
    // c is this line's own fresh object: extended in place (the same keys, in the same order, as a copy)
    const rc = c as RulesCommand;
    rc.line = i + 1;
    rc.position = position;
    out.push(rc);
  });
  return out;
}

/**
 * Folds rules commands into the services they leave behind, starting from `initial` (default:
 * none), as running them in order would. Throws RulesParseError for a command that would fail
 * (adding a service twice, a destination to a missing service...), at the command's line, with
 * the line's text and the column of the service or real-server token at fault (commands from
 * parseRules carry them in `position`; a command built by hand without one gets column 1 and an
 * empty line text).
 */
export function servicesFromRules(commands: readonly RulesCommand[], initial: readonly StateService[] = [], source = 'rules'): StateService[] {
  const services = new Map<string, { spec: ServiceSpec; dests: Map<string, DestinationSpec> }>();
  const sid = (k: ServiceKey) => JSON.stringify(normalizeService({ key: k }).key);
  const did = (d: { address: string; port: number }) => `${canonicalAddress(d.address) ?? d.address}|${d.port}`;
  for (const s of initial) {
    const dests = new Map<string, DestinationSpec>();
    for (const d of s.destinations ?? []) dests.set(did(d), d);
    const { destinations: _d, ...spec } = s;
    services.set(sid(s.key), { spec, dests });
  }
  /** The error at the command's service ('service') or real-server ('server') token. */
  const bad = (c: RulesCommand, token: 'service' | 'server', msg: string): never => {
    const p = c.position;
    const column = (token === 'server' ? p?.serverColumn : p?.serviceColumn) ?? p?.column ?? 1;
    throw new RulesParseError(source, c.line, column, p?.text ?? '', msg);
  };
  for (const c of commands) {
    switch (c.cmd) {
      case 'add-service':
        if (services.has(sid(c.service.key))) bad(c, 'service', 'Service already exists');
        services.set(sid(c.service.key), { spec: c.service, dests: new Map() });
        break;
      case 'edit-service': {
        const s = services.get(sid(c.service.key)) ?? bad(c, 'service', 'No such service');
        s.spec = c.service;
        break;
      }
      case 'delete-service':
        if (!services.delete(sid(c.key))) bad(c, 'service', 'No such service');
        break;
      case 'add-server':
      case 'edit-server': {
        const s = services.get(sid(c.key)) ?? bad(c, 'service', 'Service not defined');
        const exists = s.dests.has(did(c.destination));
        if (c.cmd === 'add-server' && exists) bad(c, 'server', 'Destination already exists');
        if (c.cmd === 'edit-server' && !exists) bad(c, 'server', 'No such destination');
        s.dests.set(did(c.destination), c.destination);
        break;
      }
      case 'delete-server': {
        const s = services.get(sid(c.key)) ?? bad(c, 'service', 'Service not defined');
        if (!s.dests.delete(did(c.destination))) bad(c, 'server', 'No such destination');
        break;
      }
      case 'flush':
        services.clear();
        break;
      default:
        break;
    }
  }
  return [...services.values()].map((s) => ({ ...s.spec, destinations: [...s.dests.values()] }));
}

// ---- emit (ipvsadm -S / -Sn, byte for byte) ---------------------------------------------------

/** inet_ntop as glibc writes IPv6: longest run (>= 2) of zero groups compressed, '::a.b.c.d' for IPv4-compatible and mapped. */
export function glibcNtop6(address: string): string {
  const b = parseIPv6(address);
  if (!b) return address;
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[2 * i]! << 8) | b[2 * i + 1]!);
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) best = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best >= 0 && i >= best && i < best + bestLen) {
      if (i === best) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && best === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      out += `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
      break;
    }
    out += w[i]!.toString(16);
  }
  if (best >= 0 && best + bestLen === 8) out += ':';
  return out;
}

/** The 4 big-endian 32-bit words of an address (IPv4 in the first word, the rest 0), as libipvs holds it. */
function words(address: string): number[] {
  const b = parseIPv6(address);
  if (b) return [0, 1, 2, 3].map((i) => ((b[4 * i]! << 24) | (b[4 * i + 1]! << 16) | (b[4 * i + 2]! << 8) | b[4 * i + 3]!) >>> 0);
  const p = address.split('.').map(Number);
  return [((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0, 0, 0, 0];
}

/** C's `int r = u32a - u32b`: the difference wrapped to 32-bit two's complement. */
const wrap = (a: number, b: number): number => (a - b) | 0;

const AF_NUM: Record<AddressFamily, number> = { inet: 2, inet6: 10 };
const PROTO_NUM: Record<Protocol, number> = { tcp: 6, udp: 17, sctp: 132 };

/** libipvs's ipvs_cmp_services (fwmark, af, protocol, address, port; address words wrap). */
export function compareServices(a: NormalService, b: NormalService): number {
  const fa = 'fwmark' in a.key ? a.key.fwmark : 0;
  const fb = 'fwmark' in b.key ? b.key.fwmark : 0;
  let r = wrap(fa, fb);
  if (r) return r;
  r = AF_NUM[a.family] - AF_NUM[b.family];
  if (r) return r;
  // a fwmark service comes back from the kernel without protocol, address or port
  const pa = 'protocol' in a.key ? PROTO_NUM[a.key.protocol] : 0;
  const pb = 'protocol' in b.key ? PROTO_NUM[b.key.protocol] : 0;
  r = pa - pb;
  if (r) return r;
  const wa = 'address' in a.key ? words(a.key.address) : [0, 0, 0, 0];
  const wb = 'address' in b.key ? words(b.key.address) : [0, 0, 0, 0];
  if (a.family === 'inet6') {
    for (let i = 0; !r && i < 4; i++) r = wrap(wa[i]!, wb[i]!);
  } else r = wrap(wa[0]!, wb[0]!);
  if (r) return r;
  return ('port' in a.key ? a.key.port : 0) - ('port' in b.key ? b.key.port : 0);
}

/** libipvs's ipvs_cmp_dests (address words wrap; the first destination's family decides the width). */
export function compareDestinations(a: NormalDestination, b: NormalDestination): number {
  const wa = words(a.address);
  const wb = words(b.address);
  let r = 0;
  if (a.family === 'inet6') {
    for (let i = 0; !r && i < 4; i++) r = wrap(wa[i]!, wb[i]!);
  } else r = wrap(wa[0]!, wb[0]!);
  if (r) return r;
  return a.port - b.port;
}

/**
 * glibc's qsort as ipvsadm meets it (glibc 2.36 and 2.39+: a top-down merge sort, left half
 * n/2, taking from the left run on ties). The comparators above are not transitive (wrapping
 * differences), so the result depends on the algorithm and the input order: both are mirrored.
 */
export function glibcMergeSort<T>(items: readonly T[], cmp: (a: T, b: T) => number): T[] {
  const a = items.slice();
  const tmp = new Array<T>(a.length);
  const sort = (lo: number, n: number): void => {
    if (n <= 1) return;
    const n1 = n >> 1;
    const n2 = n - n1;
    sort(lo, n1);
    sort(lo + n1, n2);
    let i = lo;
    let j = lo + n1;
    const iEnd = lo + n1;
    const jEnd = lo + n;
    let k = 0;
    while (i < iEnd && j < jEnd) tmp[k++] = cmp(a[i]!, a[j]!) <= 0 ? a[i++]! : a[j++]!;
    while (i < iEnd) tmp[k++] = a[i++]!;
    // the rest of the right run is already in place
    for (let x = 0; x < k; x++) a[lo + x] = tmp[x]!;
  };
  sort(0, a.length);
  return a;
}

export interface EmitRulesOptions {
  /** -Sn (default true): numeric addresses and ports. false: names as ipvsadm -S writes them. */
  numeric?: boolean;
  /** For numeric: false (default /etc/hosts and /etc/services). */
  resolver?: NameResolver;
  /** Skip ipvsadm's sort (the services and destinations are written in the order given). */
  nosort?: boolean;
}

function addrPort(address: string, family: AddressFamily, port: number, protocol: Protocol | undefined, numeric: boolean, resolver: NameResolver): string {
  const a = family === 'inet6' ? glibcNtop6(address) : address;
  const host = numeric ? a : resolver.addressToHost(address) ?? a;
  const p = numeric || !protocol ? String(port) : resolver.portToService(port, protocol) ?? String(port);
  return family === 'inet6' ? `[${host}]:${p}` : `${host}:${p}`;
}

const FWD_SWITCH: Record<ForwardMethod, string> = { masq: '-m', tunnel: '-i', local: '-g', route: '-g', bypass: '(null)' };

/**
 * The rules text ipvsadm -Sn (or -S) writes for these services. Given the services and
 * destinations in the kernel's dump order (as Ipvs.listAll() returns them), the text is byte for
 * byte what ipvsadm 1.31 writes. What the format cannot carry is dropped as ipvsadm drops it:
 * thresholds, the netmask of a non-persistent service; timeouts and sync daemons are not services.
 */
export function emitRules(services: readonly StateService[], options: EmitRulesOptions = {}): string {
  const numeric = options.numeric ?? true;
  const resolver = numeric ? filesResolver({ disabled: true }) : options.resolver ?? filesResolver();
  const normal = services.map((s) => ({ n: normalizeService(s), dests: (s.destinations ?? []).map(normalizeDestination) }));
  const sorted = options.nosort ? normal : glibcMergeSort(normal, (a, b) => compareServices(a.n, b.n));
  let out = '';
  for (const { n, dests } of sorted) {
    const protocol = 'protocol' in n.key ? n.key.protocol : undefined;
    let svc: string;
    if ('fwmark' in n.key) svc = `-f ${n.key.fwmark | 0}${n.family === 'inet6' ? ' -6' : ''}`;
    else svc = `${protocol === 'sctp' ? '--sctp-service' : `-${protocol![0]}`} ${addrPort(n.key.address, n.family, n.key.port, protocol, numeric, resolver)}`;
    let line = `-A ${svc} -s ${n.scheduler}`;
    if (n.persistenceTimeout > 0) {
      line += ` -p ${n.persistenceTimeout}`;
      if (n.family === 'inet' && n.netmask !== '255.255.255.255') line += ` -M ${n.netmask}`;
      if (n.family === 'inet6' && n.netmask !== 128) line += ` -M ${n.netmask}`;
    }
    if (n.persistenceEngine) line += ` --pe ${n.persistenceEngine}`;
    if (n.onePacket) line += ' -o';
    if (n.schedFallback || n.schedPort || n.sched3) {
      const names: string[] = [];
      if (n.scheduler === 'sh' || n.scheduler === 'mh') {
        if (n.schedFallback) names.push(`${n.scheduler}-fallback`);
        if (n.schedPort) names.push(`${n.scheduler}-port`);
      } else {
        if (n.schedFallback) names.push('flag-1');
        if (n.schedPort) names.push('flag-2');
        if (n.sched3) names.push('flag-3');
      }
      line += ` -b ${names.join(',')}`;
    }
    out += line + '\n';
    const ds = options.nosort ? dests : glibcMergeSort(dests, compareDestinations);
    for (const d of ds) {
      let dl = `-a ${svc} -r ${addrPort(d.address, d.family, d.port, protocol, numeric, resolver)} ${FWD_SWITCH[d.forward]} -w ${d.weight}`;
      if (d.forward === 'tunnel') {
        const csum = d.tunnelChecksum && d.tunnelRemoteChecksum ? '--tun-csum --tun-remcsum' : d.tunnelRemoteChecksum ? '--tun-remcsum' : d.tunnelChecksum ? '--tun-csum' : '--tun-nocsum';
        if (d.tunnelType === 'gue') dl += ` --tun-type gue --tun-port ${d.tunnelPort} ${csum}`;
        else if (d.tunnelType === 'gre') dl += ` --tun-type gre ${csum}`;
        else dl += ' --tun-type ipip';
      }
      out += dl + '\n';
    }
  }
  return out;
}

/** ipvsadm command lines (without the program name) that recreate these services, as -Sn writes them. */
export function rulesLines(services: readonly StateService[], options: EmitRulesOptions = {}): string[] {
  return emitRules(services, options).split('\n').filter((l) => l !== '');
}

/** The service key of a ServiceSpec's family (re-exported helper for the CLI). */
export { serviceFamily };
