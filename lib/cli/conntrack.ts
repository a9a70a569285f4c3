// `lvskit conntrack -L|-D [filters]`: the connection tracking table, as the conntrack tool prints
// and deletes it. Wired into lib/cli/run.ts as a verb: (args, netns, io) -> exit code.
import { Conntrack, type ConntrackEntry, type ConntrackFilter, type ConntrackProtocol } from '../conntrack/conntrack.js';
import { LvskitError } from '../errors.js';
import type { CliIO } from './io.js';

export const CONNTRACK_HELP = `usage: lvskit [--netns NS] conntrack -L|-D [options]
  -L, --dump            list entries (conntrack -L)
  -D, --delete          delete the entries the options select (conntrack -D; needs at least one)
  -p, --proto PROTO     tcp, udp, icmp, sctp, ... or a number
  -f, --family F        ipv4 | ipv6
  -s, --orig-src ADDR   original source (the client)
  -d, --orig-dst ADDR   original destination (the VIP)
      --sport PORT      original source port
      --dport PORT      original destination port (the VIP's port)
  -r, --reply-src ADDR  reply source (the real server)
  -m, --mark MARK       connection mark
  -o json               one JSON array instead of conntrack's lines
`;

function port(opt: string, v: string | undefined): number {
  if (v === undefined || !/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new LvskitError(`${opt} needs a port (0..65535), got ${JSON.stringify(v)}`);
  return Number(v);
}

/** Parses conntrack-style options into a filter; throws LvskitError naming the option. */
export function parseConntrackArgs(args: readonly string[]): { mode: 'list' | 'delete'; filter: ConntrackFilter; json: boolean } {
  let mode: 'list' | 'delete' | undefined;
  let json = false;
  const filter: ConntrackFilter = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const val = () => {
      const v = args[++i];
      if (v === undefined) throw new LvskitError(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '-L': case '--dump': mode = 'list'; break;
      case '-D': case '--delete': mode = 'delete'; break;
      case '-p': case '--proto': {
        const v = val();
        filter.protocol = (/^\d+$/.test(v) ? Number(v) : v) as ConntrackProtocol;
        break;
      }
      case '-f': case '--family': {
        const v = val();
        if (v !== 'ipv4' && v !== 'ipv6') throw new LvskitError(`${a} must be ipv4 or ipv6, got ${JSON.stringify(v)}`);
        filter.family = v === 'ipv4' ? 4 : 6;
        break;
      }
      case '-s': case '--orig-src': case '--src': filter.originalSource = val(); break;
      case '-d': case '--orig-dst': case '--dst': filter.originalDestination = val(); break;
      case '--sport': case '--orig-port-src': filter.originalSourcePort = port(a, val()); break;
      case '--dport': case '--orig-port-dst': filter.originalDestinationPort = port(a, val()); break;
      case '-r': case '--reply-src': filter.replySource = val(); break;
      case '--reply-port-src': filter.replySourcePort = port(a, val()); break;
      case '-m': case '--mark': {
        const v = val();
        const n = Number(v);
        if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(v) || n > 0xffffffff) throw new LvskitError(`${a} needs a mark (0..4294967295), got ${JSON.stringify(v)}`);
        filter.mark = n;
        break;
      }
      case '-o': case '--output': {
        const v = val();
        if (v !== 'json') throw new LvskitError(`${a} supports only json, got ${JSON.stringify(v)}`);
        json = true;
        break;
      }
      default: throw new LvskitError(`unknown conntrack option ${JSON.stringify(a)} (see lvskit conntrack --help)`);
    }
  }
  if (!mode) throw new LvskitError('conntrack needs -L (list) or -D (delete)');
  return { mode, filter, json };
}

const PROTO_NUMBERS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, dccp: 33, gre: 47, icmpv6: 58, sctp: 132, udplite: 136 };

/** One entry as `conntrack -L` prints it (conntrack-tools' default output). */
export function formatConntrackEntry(e: ConntrackEntry): string {
  const proto = typeof e.protocol === 'number' ? 'unknown' : e.protocol;
  const num = typeof e.protocol === 'number' ? e.protocol : PROTO_NUMBERS[e.protocol];
  const tuple = (t: ConntrackEntry['original']) =>
    `src=${t.source} dst=${t.destination} ` +
    (t.icmpId !== undefined ? `type=${t.icmpType} code=${t.icmpCode} id=${t.icmpId} ` : t.sourcePort !== undefined ? `sport=${t.sourcePort} dport=${t.destinationPort} ` : '');
  let s = `${proto.padEnd(8)} ${num} ${e.timeout} ${e.state ? `${e.state} ` : ''}${tuple(e.original)}`;
  if (!e.status.includes('SEEN_REPLY')) s += '[UNREPLIED] ';
  s += tuple(e.reply);
  if (e.status.includes('ASSURED')) s += '[ASSURED] ';
  s += `mark=${e.mark} ${e.zone ? `zone=${e.zone} ` : ''}use=1`;
  return s;
}

/** `lvskit conntrack ...`: 0 on success, 1 when the kernel refused, 2 on a usage error. */
export async function conntrackCommand(args: readonly string[], netns: string | undefined, io: CliIO): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(CONNTRACK_HELP);
    return 0;
  }
  let parsed;
  try {
    parsed = parseConntrackArgs(args);
  } catch (e) {
    io.stderr(`lvskit conntrack: ${(e as Error).message}\n`);
    return 2;
  }
  let ct: Conntrack | undefined;
  try {
    ct = Conntrack.open({ netns });
    if (parsed.mode === 'list') {
      const entries = await ct.list(parsed.filter);
      if (parsed.json) io.stdout(`${JSON.stringify(entries, null, 2)}\n`);
      else {
        for (const e of entries) io.stdout(`${formatConntrackEntry(e)}\n`);
        io.stderr(`lvskit conntrack: ${entries.length} flow entries have been shown.\n`);
      }
      return 0;
    }
    const r = await ct.delete(parsed.filter);
    for (const i of r.report.failed) io.stderr(`lvskit conntrack: ${r.report.items[i]!.error?.message}\n`);
    if (parsed.json) io.stdout(`${JSON.stringify({ deleted: r.deleted, vanished: r.vanished, failed: r.report.failed.length })}\n`);
    else io.stderr(`lvskit conntrack: ${r.deleted} flow entries have been deleted.\n`);
    return r.report.ok ? 0 : 1;
  } catch (e) {
    io.stderr(`lvskit conntrack: ${(e as Error).message}\n`);
    return e instanceof LvskitError && e.name === 'ValidationError' ? 2 : 1;
  } finally {
    ct?.close();
  }
}
