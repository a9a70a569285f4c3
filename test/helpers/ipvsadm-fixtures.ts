// Reads the golden ipvsadm outputs in test/fixtures/ipvsadm (captured by capture.sh in the lab VM).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { glibcNtop6, normalizeService, type StateService } from '../../lib/format/index.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/ipvsadm/', import.meta.url));
export const fixture = (name: string): string => readFileSync(FIXTURES + name, 'utf8');

/** The header ipvsadm -Ln prints for a service ('TCP  10.0.0.1:80', 'FWM  2 IPv6'). */
export function listLabel(s: StateService): string {
  const n = normalizeService(s);
  if ('fwmark' in n.key) return `FWM  ${n.key.fwmark | 0}${n.family === 'inet6' ? ' IPv6' : ''}`;
  const a = n.family === 'inet6' ? `[${glibcNtop6(n.key.address)}]` : n.key.address;
  return `${n.key.protocol.toUpperCase().padEnd(4)} ${a}:${n.key.port}`;
}

function destLabel(d: { address: string; port: number }): string {
  return `${d.address.includes(':') ? `[${glibcNtop6(d.address)}]` : d.address}:${d.port}`;
}

/**
 * Puts services and destinations in the kernel's dump order, read from an `ipvsadm -Ln --nosort`
 * capture: ipvsadm -S sorts with a non-transitive comparator, so its output depends on that order.
 */
export function inDumpOrder(services: StateService[], nosortListing: string): StateService[] {
  const order: { svc: string; dests: string[] }[] = [];
  for (const line of nosortListing.split('\n')) {
    if (/^(TCP|UDP|SCTP|FWM) /.test(line)) order.push({ svc: line, dests: [] });
    else if (line.startsWith('  -> ') && order.length && !line.startsWith('  -> RemoteAddress')) order[order.length - 1]!.dests.push(line.slice(5).split(' ')[0]!);
  }
  const pos = (s: StateService) => {
    const label = listLabel(s);
    const i = order.findIndex((o) => o.svc === label || o.svc.startsWith(label + ' '));
    if (i < 0) throw new Error(`service ${label} not in the --nosort listing`);
    return i;
  };
  return services
    .slice()
    .sort((a, b) => pos(a) - pos(b))
    .map((s) => {
      const dests = order[pos(s)]!.dests;
      const dpos = (d: { address: string; port: number }) => {
        const i = dests.indexOf(destLabel(d));
        if (i < 0) throw new Error(`destination ${destLabel(d)} of ${listLabel(s)} not in the --nosort listing`);
        return i;
      };
      return { ...s, destinations: (s.destinations ?? []).slice().sort((a, b) => dpos(a) - dpos(b)) };
    });
}

/** Command lines of a NAME.commands file (comments and blank lines dropped), split into tokens. */
export function commandLines(name: string): string[][] {
  return fixture(name)
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => l.trim().split(/\s+/));
}
