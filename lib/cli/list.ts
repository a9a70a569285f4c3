// `lvskit -L`: the listing ipvsadm 1.31 prints (-L/-l with -n, --stats, --rate, --thresholds,
// --persistent-conn, --tun-info, --exact, --nosort, --timeout, --daemon, -c), column for column.
import type { ListOptions } from '../format/ipvsadm.js';
import { compareDestinations, compareServices, glibcMergeSort, glibcNtop6 } from '../format/ipvsadm.js';
import type { NameResolver } from '../format/resolve.js';
import { normalizeDestination, normalizeService } from '../format/state.js';
import type { Destination, IpvsInfo, Service, Stats, SyncDaemon, Timeouts } from '../ipvs/types.js';
import { connectionProtocolName, type IpvsConnection } from '../ipvs/connections.js';

const pad = (s: string, w: number) => (s.length >= w ? s : s + ' '.repeat(w - s.length));
const lpad = (s: string, w: number) => (s.length >= w ? s : ' '.repeat(w - s.length) + s);

/** ipvsadm's print_largenum: 9 columns, K/M/G/T units unless --exact. */
export function largeNumber(v: bigint, exact: boolean): string {
  if (exact) {
    const s = v.toString();
    return lpad(s, s.length <= 8 ? 9 : s.length + 1);
  }
  if (v < 100000000n) return lpad(v.toString(), 9);
  if (v < 1000000000n) return lpad((v / 1000n).toString(), 8) + 'K';
  if (v < 100000000000n) return lpad((v / 1000000n).toString(), 8) + 'M';
  if (v < 100000000000000n) return lpad((v / 1000000000n).toString(), 8) + 'G';
  return lpad((v / 1000000000000n).toString(), 8) + 'T';
}

const ZERO: Stats = { connections: 0n, packetsIn: 0n, packetsOut: 0n, bytesIn: 0n, bytesOut: 0n, cps: 0n, ppsIn: 0n, ppsOut: 0n, bpsIn: 0n, bpsOut: 0n };
const FWD_NAME: Record<string, string> = { masq: 'Masq', local: 'Local', tunnel: 'Tunnel', route: 'Route', bypass: '(null)' };

function title(o: ListOptions): string {
  const h = (cols: string) => `${pad('Prot LocalAddress:Port', 33)} ${cols}\n  -> RemoteAddress:Port\n`;
  if (o.stats) return h(['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'].map((c) => lpad(c, 8)).join(' '));
  if (o.rate) return h(['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'].map((c) => lpad(c, 8)).join(' '));
  if (o.thresholds) return h(['Uthreshold', 'Lthreshold', 'ActiveConn', 'InActConn'].map((c) => pad(c, 10)).join(' '));
  if (o.persistentConn) return h(`${pad('Weight', 9)} ${pad('PersistConn', 11)} ${pad('ActiveConn', 10)} ${pad('InActConn', 10)}`);
  if (o.tunInfo) return 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n';
  return 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
}

function addrPort(address: string, family: string, port: number, protocol: string | undefined, o: ListOptions, r: NameResolver): string {
  const a = family === 'inet6' ? glibcNtop6(address) : address;
  const host = o.numeric ? a : r.addressToHost(address) ?? a;
  const p = o.numeric || !protocol ? String(port) : r.portToService(port, protocol as 'tcp') ?? String(port);
  return family === 'inet6' ? `[${host}]:${p}` : `${host}:${p}`;
}

function tunInfo(d: Destination): string {
  if (d.forward !== 'tunnel') return 'n/a';
  const t = d.tunnel ?? { type: 'ipip' as const };
  const flags = t.remoteChecksum ? 'r+c' : t.checksum ? '+c' : '-c';
  if (t.type === 'gue') return `gue:${t.port ?? 0}:${flags}`;
  if (t.type === 'gre') return `gre:${flags}`;
  return 'ipip';
}

function schedFlags(s: Service): string {
  const f = s.flags;
  const names: string[] = [];
  if (s.scheduler === 'sh' || s.scheduler === 'mh') {
    if (f.schedFallback) names.push(`${s.scheduler}-fallback`);
    if (f.schedPort) names.push(`${s.scheduler}-port`);
  } else {
    if (f.schedFallback) names.push('flag-1');
    if (f.schedPort) names.push('flag-2');
    if (f.sched3) names.push('flag-3');
  }
  return names.join(',');
}

/** One service and its destinations as ipvsadm -L prints them. */
export function formatService(s: Service, o: ListOptions, r: NameResolver): string {
  const protocol = 'protocol' in s.key ? s.key.protocol : undefined;
  let name: string;
  if ('fwmark' in s.key) name = `FWM  ${s.key.fwmark | 0}${s.family === 'inet6' ? ' IPv6' : ''}`;
  else {
    name = `${pad(protocol!.toUpperCase(), 4)} ${addrPort(s.key.address, s.family, s.key.port, protocol, o, r)}`;
    if (s.family !== 'inet6') name = name.slice(0, 33);
  }
  const st = s.stats ?? ZERO;
  let out: string;
  if (o.stats) out = pad(name, 33) + [st.connections, st.packetsIn, st.packetsOut, st.bytesIn, st.bytesOut].map((v) => largeNumber(v, o.exact)).join('');
  else if (o.rate) out = pad(name, 33) + [st.cps, st.ppsIn, st.ppsOut, st.bpsIn, st.bpsOut].map((v) => largeNumber(v, o.exact)).join('');
  else {
    out = `${name} ${s.scheduler}`;
    const flags = s.flags.schedFallback || s.flags.schedPort || s.flags.sched3;
    if (flags) out += ` (${schedFlags(s)})`;
    if (s.flags.persistent && s.persistence) {
      out += ` persistent ${s.persistence.timeout}`;
      const m = s.persistence.netmask;
      if (s.family === 'inet' && m !== undefined && m !== '255.255.255.255') out += ` mask ${m}`;
      if (s.family === 'inet6' && m !== undefined && m !== 128) out += ` mask ${m}`;
      if (s.persistenceEngine) out += ` pe ${s.persistenceEngine}`;
    }
    if (s.flags.onePacket) out += ' ops';
  }
  out += '\n';
  const dests = s.destinations ?? [];
  const sorted = o.nosort ? dests : glibcMergeSort(dests, (a, b) => compareDestinations(normalizeDestination(a), normalizeDestination(b)));
  for (const d of sorted) {
    let dn = addrPort(d.address, d.family, d.port, protocol, o, r);
    if (d.family !== 'inet6') dn = dn.slice(0, 28);
    const ds = d.stats ?? ZERO;
    const u = (v: number, w: number) => pad(String(v), w);
    if (o.stats) out += `  -> ${pad(dn, 28)}${[ds.connections, ds.packetsIn, ds.packetsOut, ds.bytesIn, ds.bytesOut].map((v) => largeNumber(v, o.exact)).join('')}\n`;
    else if (o.rate) out += `  -> ${pad(dn, 28)} ${lpad(String(ds.cps), 8)} ${lpad(String(ds.ppsIn), 8)} ${lpad(String(ds.ppsOut), 8)}${largeNumber(ds.bpsIn, o.exact)}${largeNumber(ds.bpsOut, o.exact)}\n`;
    else if (o.thresholds) out += `  -> ${pad(dn, 28)} ${u(d.upperThreshold, 10)} ${u(d.lowerThreshold, 10)} ${u(d.activeConnections, 10)} ${u(d.inactiveConnections, 10)}\n`;
    else if (o.persistentConn) out += `  -> ${pad(dn, 28)} ${u(d.weight, 9)} ${u(d.persistentConnections, 11)} ${u(d.activeConnections, 10)} ${u(d.inactiveConnections, 10)}\n`;
    else if (o.tunInfo) out += `  -> ${pad(dn, 28)} ${pad(FWD_NAME[d.forward]!, 7)} ${pad(tunInfo(d), 13)} ${u(d.weight, 6)} ${u(d.activeConnections, 10)} ${u(d.inactiveConnections, 10)}\n`;
    else out += `  -> ${pad(dn, 28)} ${pad(FWD_NAME[d.forward]!, 7)} ${u(d.weight, 6)} ${u(d.activeConnections, 10)} ${u(d.inactiveConnections, 10)}\n`;
  }
  return out;
}

/** The whole table (ipvsadm -L): header, title, every service (sorted unless nosort). */
export function formatListing(info: IpvsInfo, services: readonly Service[], o: ListOptions, r: NameResolver): string {
  let out = `IP Virtual Server version ${info.version} (size=${info.connectionTableSize})\n` + title(o);
  const sorted = o.nosort ? services : glibcMergeSort(services, (a, b) => compareServices(normalizeService({ key: a.key }), normalizeService({ key: b.key })));
  for (const s of sorted) out += formatService(s, o, r);
  return out;
}

/** One service (ipvsadm -L -t ...): no version header. */
export function formatOneService(s: Service, o: ListOptions, r: NameResolver): string {
  return title(o) + formatService(s, o, r);
}

export function formatTimeouts(t: Timeouts): string {
  return `Timeout (tcp tcpfin udp): ${t.tcp} ${t.tcpFin} ${t.udp}\n`;
}

export function formatDaemons(ds: readonly SyncDaemon[]): string {
  let out = '';
  for (const state of ['master', 'backup'] as const) {
    const d = ds.find((x) => x.state === state);
    if (!d) continue;
    out += `${state} sync daemon (mcast=${d.interface}, syncid=${d.syncId}`;
    if (d.maxLength) out += `, maxlen=${d.maxLength}`;
    if (d.group) out += `, group=${d.group}`;
    if (d.port) out += `, port=${d.port}`;
    if (d.ttl) out += `, ttl=${d.ttl}`;
    out += ')\n';
  }
  return out;
}

// ---- connections (ipvsadm -Lc) -------------------------------------------------------------------

/** The two title lines of `ipvsadm -Lc` (with --persistent-conn: the engine columns too). */
export function connectionsTitle(o: Pick<ListOptions, 'persistentConn'>): string {
  if (o.persistentConn) return `IPVS connection entries\npro expire ${pad('state', 11)} ${pad('source', 18)} ${pad('virtual', 18)} ${pad('destination', 18)} ${pad('pe name', 16)} pe_data\n`;
  return `IPVS connection entries\npro expire ${pad('state', 11)} ${pad('source', 18)} ${pad('virtual', 18)} destination\n`;
}

/**
 * One entry as `ipvsadm -Lc` prints it: protocol, MM:SS to expiry, state, source, virtual and
 * destination address:port (names without -n), and with --persistent-conn the engine's name and
 * the first word of its data when the entry has some. Where ipvsadm misprints, we do not: a
 * destination of the other family (a tunnel crossing families) is printed as it is, where
 * ipvsadm's parser turns it into garbage.
 */
export function formatConnection(c: IpvsConnection, o: Pick<ListOptions, 'numeric' | 'persistentConn'>, r: NameResolver): string {
  const proto = c.protocol === 'tcp' || c.protocol === 'udp' || c.protocol === 'sctp' ? c.protocol : undefined;
  const name = connectionProtocolName(c.protocolNumber);
  const ap = (a: string, f: string, p: number) => addrPort(a, f, p, proto, o as ListOptions, r);
  const expire = `${String(Math.floor(c.expires / 60)).padStart(2, '0')}:${String(c.expires % 60).padStart(2, '0')}`;
  const head = `${pad(name, 3)} ${pad(expire, 6)} ${pad(c.state, 11)} ${pad(ap(c.clientAddress, c.family, c.clientPort), 18)} ${pad(ap(c.virtualAddress, c.family, c.virtualPort), 18)} `;
  const dest = ap(c.destinationAddress, c.destinationFamily, c.destinationPort);
  // ipvsadm reads the engine's data with sscanf %s: its first word, and only when there is one
  const data = c.persistenceData?.split(/\s/)[0] ?? '';
  if (o.persistentConn && c.persistenceEngine !== undefined && data !== '') return `${head}${pad(dest, 16)} ${pad(c.persistenceEngine, 18)} ${data}\n`;
  return `${head}${dest}\n`;
}
