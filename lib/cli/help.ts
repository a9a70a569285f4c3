// Help text of every lvskit verb (`lvskit help VERB`, `lvskit VERB --help`).

import { MAX_INPUT_BYTES, MAX_LINE_BYTES } from './input.js';
import { NFT_HELP } from './nft.js';
import { CONNTRACK_HELP } from './conntrack.js';

const MAX_INPUT_TEXT = `${MAX_INPUT_BYTES / 2 ** 20} MiB`;
const MAX_LINE_TEXT = `${MAX_LINE_BYTES / 2 ** 10} KiB`;

export const VERBS = ['ipvsadm', 'apply', 'diff', 'save', 'restore', 'addr', 'route', 'top', 'nft', 'conntrack', 'help', 'version'] as const;
export type Verb = (typeof VERBS)[number];

const COMMON = `Global options (any verb):
  --netns NAME   act in network namespace NAME (/run/netns/NAME)
  -h, --help     this help
`;

export const HELP: Record<Verb, string> = {
  ipvsadm: `usage: lvskit COMMAND [options]          (ipvsadm 1.31 compatible; no fork of ipvsadm)

Input (-R, restore, apply): read in pieces, at most ${MAX_INPUT_TEXT} and ${MAX_LINE_TEXT} a line.

Commands (the first option):
  -A, --add-service      add a virtual service           lvskit -A -t 10.0.0.1:80 -s mh -b mh-port
  -E, --edit-service     edit a virtual service (fields not given are reset, as ipvsadm)
  -D, --delete-service   delete a virtual service         lvskit -D -t 10.0.0.1:80
  -C, --clear            delete every service
  -R, --restore          read rules (ipvsadm -S format) from stdin; nothing is applied if a line
                         does not parse; --rollback (lvskit) undoes everything if one line fails
  -S, --save             write the rules (-n numeric)     lvskit -Sn > rules
  -a, --add-server       add a real server                lvskit -a -t 10.0.0.1:80 -r 10.1.0.1 -g -w 2
  -e, --edit-server      edit a real server (fields not given are reset, as ipvsadm)
  -d, --delete-server    delete a real server
  -L, -l, --list         list (-n, --stats, --rate, --thresholds, --persistent-conn, --tun-info,
                         --exact, --nosort, --timeout, --daemon; -t/-u/-f for one service;
                         -c the connection entries)    lvskit -Lnc
  -Z, --zero             zero counters (of one service with -t/-u/-f)
  --set TCP TCPFIN UDP   set connection timeouts (seconds; 0 = unchanged)
  --start-daemon master|backup [--mcast-interface IF] [--syncid N] [--mcast-group G]
                         [--mcast-port P] [--mcast-ttl T] [--sync-maxlen L]
  --stop-daemon master|backup
  -h, --help             this help;  -v, --version

Options:
  -t, --tcp-service ADDR:PORT   -u, --udp-service ADDR:PORT   --sctp-service ADDR:PORT
  -f, --fwmark-service MARK [-6]            ([IPv6]:PORT in brackets)
  -s, --scheduler NAME (default wlc)   -p, --persistent [SECONDS] (default 360)
  -M, --netmask MASK (IPv6: prefix length)  --pe ENGINE   -o, --ops (one-packet, UDP)
  -b, --sched-flags FLAG[,FLAG] (sh-fallback sh-port mh-fallback mh-port flag-1 flag-2 flag-3)
  -r, --real-server ADDR[:PORT]   -g (route, default) | -m (masquerade) | -i (tunnel)
  -w, --weight N (default 1)   -x, --u-threshold N   -y, --l-threshold N
  --tun-type ipip|gue|gre   --tun-port PORT   --tun-nocsum | --tun-csum | --tun-remcsum
  -n, --numeric   -c, --connection (with -L: the connection table; --persistent-conn adds
                  the persistence engine's name and data)

Exit status: 0 done; 1 the kernel refused (message says what and which line); 2 bad usage or a
rules file that does not parse.
${COMMON}`,
  apply: `usage: lvskit apply FILE [--dry-run] [--drain[=SECONDS]] [--rollback] [--allow-empty]
                        [--allow-wipe] [--max-delete-share SHARE]
                        [--order auto|strict|add] [--interfaces IF,..] [--tables N,..]
                        [--json] [--quiet]

Brings the kernel to the desired state in FILE ('-' = stdin): lvskit JSON (docs/state.schema.json)
or ipvsadm rules (-S format). Reads the current state, sends only the differences, in one batch,
in a safe order (new destinations before removals; a live service is never emptied unless
--allow-empty). Destinations are added in a canonical order (--order strict, the default for
sh and mh, makes directors given the same file build the same tables).

  --dry-run        print the plan, change nothing
  --drain[=S]      removed destinations go to weight 0 first; deleted when their connections end
                   or after S seconds (default 30)
  --rollback       if an operation fails, undo the ones applied
  --allow-wipe     let a FILE with no services delete every service (refused by default: an
                   empty or cut-short file is more often an accident), and lift the share below
  --max-delete-share S
                   the largest share of the existing services, destinations, addresses or
                   routes one apply may delete: 0..1 or a percentage (default 0.5; one object
                   of a kind may always go)
  --interfaces L   with 'addresses' in FILE: also manage these interfaces (comma separated), so
                   an interface FILE no longer names loses its addresses
  --tables L       with 'routes' in FILE: also manage these route tables (comma separated)
  --json           print the result as JSON
A FILE with only 'addresses' and 'routes' needs no IPVS in the kernel (rtnetlink alone).
An 'nftables' section lists lvskit-owned nf_tables tables: each that differs is replaced whole,
atomically, before the IPVS changes (a table FILE does not list is never touched).
Deleting a UDP real server also deletes its conntrack entries (VIP:port, reply source the server).
Each change is reported as applied, FAILED, NOT SENT (a batch stopped before it) or UNKNOWN
(sent, no answer); --json lists them in 'failed', 'notSent' and 'unknown'.
FILE is read in pieces: at most ${MAX_INPUT_TEXT} in all and, for rules text, ${MAX_LINE_TEXT} a line.
Exit status: 0 applied (or nothing to do); 1 an operation failed; 2 bad usage, bad file, or a
plan refused by a guard (--allow-empty, --allow-wipe, --max-delete-share).
${COMMON}`,
  diff: `usage: lvskit diff FILE [--json] [--order auto|strict|add]

Prints what 'lvskit apply FILE' would change, one line per operation. Changes nothing.
Exit status: 0 no differences; 1 differences; 2 trouble (like diff(1)).
${COMMON}`,
  save: `usage: lvskit save [--json] [-n]

Writes the current state. Default: ipvsadm rules as 'ipvsadm -S' (-n numeric, as 'ipvsadm -Sn',
byte for byte). --json: the lossless lvskit state (services with thresholds and tunnels, timeouts,
sync daemons), which 'lvskit apply' reads.
${COMMON}`,
  restore: `usage: lvskit restore [FILE] [--rollback]

Runs the ipvsadm rules in FILE (default stdin), as 'ipvsadm -R', in one batch. Every line is parsed
first: a line that does not parse is reported with line and column and nothing is applied. A line
the kernel refuses is reported with its line number; --rollback then undoes the lines applied.
${COMMON}`,
  addr: `usage: lvskit addr add|del ADDR/LEN dev IFNAME
       lvskit addr list [dev IFNAME]

Adds, deletes or lists interface addresses (as 'ip addr'), e.g. a VIP on lo:
  lvskit addr add 10.0.0.1/32 dev lo
${COMMON}`,
  route: `usage: lvskit route add|replace|del DST [via GW] [dev IFNAME] [table N] [metric N]
       lvskit route list [table N]

Adds, replaces, deletes or lists routes (as 'ip route'). DST is NET/LEN or 'default'.
${COMMON}`,
  nft: `${NFT_HELP}
Exit status: 0 done; 1 the kernel refused (nothing of that table changed); 2 bad usage or file.
${COMMON}`,
  conntrack: `${CONNTRACK_HELP}
Exit status: 0 done; 1 the kernel refused; 2 bad usage.
${COMMON}`,
  top: `usage: lvskit top [-d SECONDS] [--sort KEY] [-r] [--health FILE]
       lvskit top --once | --json [--count N] | --count N

A live view of one namespace's IPVS, redrawn in place like top(1): every service and destination
with weight, active and inactive connections, connections/s, packets/s and bytes/s in and out
(the kernel's rate estimator, as 'ipvsadm -Ln --rate'), and each destination's health.

  -d, --delay S    seconds between refreshes (default 2; 0.1 to 3600)
  -s, --sort KEY   cps (c), active (a), pps (p), bps (b), weight (w), name (n); default cps
  -r, --reverse    reverse the order
  --health FILE    health state: a JSON array as HealthMonitor.state() returns it (re-read every
                   refresh); without it the HEALTH column shows '-'
  --once           print one frame as plain text and exit
  --json           print one snapshot as one line of JSON (exact 64-bit counters) and exit
  -n, --count N    N snapshots, one per interval (JSON lines with --json, else plain frames)
Keys: c a p b w n sort, r reverse, space refresh now, q (or Ctrl-C, Esc) quit.
The terminal (alternate screen, cursor, keyboard mode) is restored on quit, signals and errors.
Exit status: 0; 1 the kernel refused (e.g. no IPVS); 2 bad usage or no terminal for the live view.
${COMMON}`,
  help: `usage: lvskit help [VERB]

Verbs: ${VERBS.join(', ')}. Any ipvsadm command line works as is: 'lvskit -Ln', 'lvskit -A ...'.
${COMMON}`,
  version: `usage: lvskit version   (or -v, --version)

Prints lvskit's version and the ipvsadm version its commands follow.
${COMMON}`,
};
