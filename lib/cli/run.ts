// The lvskit command line: ipvsadm-compatible commands plus apply, diff, save, restore, addr and
// route. Arguments of the ipvsadm commands go through the ipvsadm option parser (lib/format,
// written by hand: popt-style clustered short options such as -Ln and -At ADDR, which
// node:util parseArgs does not do); the other verbs use node:util parseArgs.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import type { Ipvs } from '../ipvs/client.js';
import type { Rtnl } from '../rtnl/handle.js';
import type { BatchReport } from '../batch.js';
import { BatchError } from '../batch.js';
import { LvskitError, NetlinkError, ValidationError } from '../errors.js';
import { emitRules, parseIpvsadmArgs, parseRules, servicesFromRules, IpvsadmArgsError, RulesParseError, type IpvsadmCommand, type ListOptions, type RulesCommand } from '../format/ipvsadm.js';
import { filesResolver, type NameResolver } from '../format/resolve.js';
import { parseConnections, readConnectionTable } from '../ipvs/connections.js';
import { parseStateJson, stateServicesOf, stringifyState, type LvsState } from '../format/state.js';
import { apply, readState, ApplyError, type ApplyResult } from '../apply/apply.js';
import { PlanError } from '../apply/plan.js';
import { HELP, VERBS, type Verb } from './help.js';
import { InputError, readBounded } from './input.js';
import { nftCommand } from './nft.js';
import { formatDisruption, predictDisruption, type DisruptionPrediction } from '../cluster/disruption.js';
import { conntrackCommand } from './conntrack.js';
import { Nft } from '../nft/nft.js';
import { clip } from '../format/excerpt.js';
import { connectionsTitle, formatConnection, formatDaemons, formatListing, formatOneService, formatTimeouts } from './list.js';

import { EXIT, type CliIO } from './io.js';
export { EXIT, type CliIO } from './io.js';

/** FILE ('-': stdin) as text, read in bounded pieces (lib/cli/input.ts: InputError past the limits). */
function readText(io: CliIO, file: string): Promise<string> {
  return readBounded(io.input(file), file === '-' ? 'stdin' : file);
}

class UsageError extends LvskitError {
  override name = 'UsageError';
}

/** Pulls `--netns NAME` / `--netns=NAME` out of argv (it may appear anywhere). */
export function takeNetns(argv: readonly string[]): { netns: string | undefined; rest: string[] } {
  const rest: string[] = [];
  let netns: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--netns') {
      if (i + 1 >= argv.length) throw new UsageError('--netns needs a namespace name');
      netns = argv[++i];
    } else if (a.startsWith('--netns=')) netns = a.slice(8);
    else rest.push(a);
  }
  return { netns, rest };
}

/** Which verb an argument list is for ('ipvsadm' when it starts with an option other than help/version). */
export function verbOf(args: readonly string[]): { verb: Verb; args: string[] } {
  const [first, ...rest] = args;
  if (first === undefined) return { verb: 'ipvsadm', args: ['-L'] };
  if (first === '-h' || first === '--help') return { verb: 'help', args: rest };
  if (first === '-v' || first === '--version') return { verb: 'version', args: rest };
  if (first.startsWith('-')) return { verb: 'ipvsadm', args: args.slice() };
  if ((VERBS as readonly string[]).includes(first) && first !== 'ipvsadm') return { verb: first as Verb, args: rest };
  throw new UsageError(`unknown verb '${first}' (verbs: ${VERBS.filter((v) => v !== 'ipvsadm').join(', ')}; or an ipvsadm command line such as -Ln)`);
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Runs the CLI; returns the exit status. */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  let verb: Verb = 'help';
  try {
    const { netns, rest } = takeNetns(argv);
    const v = verbOf(rest);
    verb = v.verb;
    if (verb !== 'ipvsadm' && (v.args.includes('--help') || v.args.includes('-h'))) {
      io.stdout(HELP[verb]);
      return EXIT.ok;
    }
    switch (verb) {
      case 'help': {
        const topic = v.args[0] ?? 'help';
        if (!(VERBS as readonly string[]).includes(topic)) throw new UsageError(`no help for '${topic}' (verbs: ${VERBS.join(', ')})`);
        io.stdout(topic === 'help' ? HELP.help + '\n' + HELP.ipvsadm : HELP[topic as Verb]);
        return EXIT.ok;
      }
      case 'version':
        io.stdout(`lvskit ${version()} (ipvsadm 1.31 compatible commands)\n`);
        return EXIT.ok;
      case 'ipvsadm':
        return await ipvsadmVerb(v.args, netns, io);
      case 'apply':
      case 'diff':
        return await applyVerb(verb, v.args, netns, io);
      case 'save':
        return await saveVerb(v.args, netns, io);
      case 'restore': {
        const { values, positionals } = parseArgs({ args: v.args, options: { rollback: { type: 'boolean' } }, allowPositionals: true, strict: true });
        if (positionals.length > 1) throw new UsageError('restore takes at most one FILE');
        const file = positionals[0];
        const text = await readText(io, file ?? '-');
        return await restore(text, file ?? 'stdin', values.rollback === true, netns, io);
      }
      case 'addr':
        return await addrVerb(v.args, netns, io);
      case 'route':
        return await routeVerb(v.args, netns, io);
      case 'top':
        return await (await import('./top.js')).topVerb(v.args, netns, io);
      case 'nft':
        return await nftCommand(v.args, netns, io);
      case 'conntrack':
        return await conntrackCommand(v.args, netns, io);
    }
  } catch (e) {
    return report(e, io, verb);
  }
}

function report(e: unknown, io: CliIO, verb: Verb): number {
  if (e instanceof RulesParseError || e instanceof InputError) {
    io.stderr(`lvskit: ${e.message}\nnothing was applied\n`);
    return EXIT.usage;
  }
  if (e instanceof IpvsadmArgsError || e instanceof UsageError || (e instanceof Error && 'code' in e && String((e as { code: unknown }).code).startsWith('ERR_PARSE_ARGS'))) {
    io.stderr(`lvskit: ${e.message}\nTry 'lvskit ${verb === 'ipvsadm' || verb === 'help' ? '' : verb + ' '}--help' for more information.\n`);
    return EXIT.usage;
  }
  if (e instanceof PlanError || (e instanceof ValidationError && !(e instanceof NetlinkError))) {
    io.stderr(`lvskit: ${e.message}\n`);
    return EXIT.usage;
  }
  if (e instanceof Error) {
    io.stderr(`lvskit: ${e.message}\n`);
    return EXIT.failed;
  }
  io.stderr(`lvskit: ${String(e)}\n`);
  return EXIT.failed;
}

// ---- ipvsadm commands ---------------------------------------------------------------------------

async function withIpvs<T>(netns: string | undefined, io: CliIO, f: (ipvs: Ipvs) => Promise<T>): Promise<T> {
  const ipvs = io.openIpvs(netns);
  try {
    return await f(ipvs);
  } finally {
    ipvs.close();
  }
}

/** Adds one ipvsadm command to a batch, with ipvsadm's semantics (-E/-e reset what is not given). */
function addToBatch(b: ReturnType<Ipvs['batch']>, c: IpvsadmCommand): void {
  switch (c.cmd) {
    case 'add-service':
      b.addService(c.service);
      break;
    case 'edit-service': {
      const s = c.service;
      const f = s.flags ?? {};
      b.editService(s.key, {
        scheduler: s.scheduler ?? 'wlc',
        flags: { onePacket: f.onePacket === true, schedFallback: f.schedFallback === true, schedPort: f.schedPort === true, sched3: f.sched3 === true },
        persistence: s.persistence ?? null,
        persistenceEngine: s.persistenceEngine ?? null,
      });
      break;
    }
    case 'delete-service':
      b.deleteService(c.key);
      break;
    case 'add-server':
      b.addDestination(c.key, c.destination);
      break;
    case 'edit-server': {
      const d = c.destination;
      b.editDestination(c.key, d, {
        forward: d.forward ?? 'route',
        weight: d.weight ?? 1,
        upperThreshold: d.upperThreshold ?? 0,
        lowerThreshold: d.lowerThreshold ?? 0,
        ...(d.forward === 'tunnel' ? { tunnel: d.tunnel ?? null } : {}),
      });
      break;
    }
    case 'delete-server':
      b.deleteDestination(c.key, c.destination);
      break;
    case 'flush':
      b.flush();
      break;
    case 'zero':
      b.zero(c.key);
      break;
    case 'set':
      b.setTimeouts(c.timeouts);
      break;
    case 'start-daemon':
      b.startDaemon(c.daemon);
      break;
    case 'stop-daemon':
      b.stopDaemon(c.state);
      break;
    default:
      throw new UsageError(`'${c.cmd}' cannot be batched`);
  }
}

async function ipvsadmVerb(args: string[], netns: string | undefined, io: CliIO): Promise<number> {
  const rollback = args.includes('--rollback');
  const c = parseIpvsadmArgs(args.filter((a) => a !== '--rollback'));
  switch (c.cmd) {
    case 'help':
      io.stdout(HELP.ipvsadm);
      return EXIT.ok;
    case 'version':
      io.stdout(`lvskit ${version()} (ipvsadm 1.31 compatible commands)\n`);
      return EXIT.ok;
    case 'restore':
      return restore(await readText(io, '-'), 'stdin', rollback, netns, io);
    case 'save':
      return withIpvs(netns, io, async (ipvs) => {
        io.stdout(emitRules(stateServicesOf(await ipvs.listAll()), { numeric: c.numeric }));
        return EXIT.ok;
      });
    case 'list':
      return withIpvs(netns, io, async (ipvs) => {
        const o = c.options;
        const r = filesResolver(o.numeric ? { disabled: true } : {});
        if (o.connection) printConnections(io, netns, o, r);
        else if (o.timeout) io.stdout(formatTimeouts(await ipvs.getTimeouts()));
        else if (o.daemon) io.stdout(formatDaemons(await ipvs.listDaemons()));
        else if (c.key) {
          const s = await ipvs.getService(c.key, { withDestinations: true });
          if (!s) throw new NetlinkError({ op: 'list', errno: 3, code: 'ESRCH' }, 'No such service');
          io.stdout(formatOneService(s, o, r));
        } else io.stdout(formatListing(await ipvs.info(), await ipvs.listAll(), o, r));
        return EXIT.ok;
      });
    default:
      return withIpvs(netns, io, async (ipvs) => {
        const b = ipvs.batch();
        addToBatch(b, c);
        const rep = await b.run();
        if (!rep.ok) {
          io.stderr(`lvskit: ${rep.items[rep.failed[0] ?? 0]?.error?.message ?? rep.transportError?.message ?? 'failed'}\n`);
          return EXIT.failed;
        }
        return EXIT.ok;
      });
  }
}

/**
 * ipvsadm -Lc: the namespace's /proc/net/ip_vs_conn (read on a thread inside it, through the
 * rtnetlink handle's socket), printed entry by entry in 64 KiB pieces (the table's text is held
 * once; the entries are not collected).
 */
function printConnections(io: CliIO, netns: string | undefined, o: ListOptions, r: NameResolver): void {
  const rtnl = io.openRtnl(netns);
  let text: string;
  try {
    text = readConnectionTable(rtnl);
  } finally {
    rtnl.close();
  }
  let out = connectionsTitle(o);
  for (const c of parseConnections(text)) {
    out += formatConnection(c, o, r);
    if (out.length >= 65536) {
      io.stdout(out);
      out = '';
    }
  }
  io.stdout(out);
}

/** Loads of fewer operations than this show no progress line (they take well under a second). */
export const PROGRESS_MIN = 2000;

/**
 * The progress line of a long load: on a terminal only (io.isTTY: a pipe, a file or --json get
 * no byte of it), redrawn in place on stderr as the kernel acknowledges each piece (apply and
 * batches send in pieces of 2% when asked for progress), at each new per cent or after half a
 * second; end() erases it, so what follows (errors, the summary) starts on a clean line.
 */
export function progressLine(io: CliIO, enabled: boolean): { update(done: number, total: number): void; end(): void } {
  let shownPct = -1;
  let shownAt = 0;
  let drawn = false;
  return {
    update(done, total) {
      if (!enabled || !io.isTTY || total < PROGRESS_MIN) return;
      const pct = Math.min(100, Math.floor((done * 100) / total));
      const now = Date.now();
      if (pct === shownPct && now - shownAt < 500) return;
      shownPct = pct;
      shownAt = now;
      drawn = true;
      const w = 30;
      const filled = Math.round((pct / 100) * w);
      io.stderr(`\r[${'#'.repeat(filled)}${'.'.repeat(w - filled)}] ${done}/${total} ${pct}%`);
    },
    end() {
      if (drawn) io.stderr('\r\x1b[2K');
      drawn = false;
    },
  };
}

/** ipvsadm -R: all lines parsed first; then one batch (in acknowledged pieces for a progress line on a terminal). */
/** FILE:LINE:COLUMN of a rules command, the column at what the kernel judged (real server or service). */
function where(source: string, c: RulesCommand): string {
  const p = c.position;
  const col = p ? (p.serverColumn ?? p.serviceColumn ?? p.column) : undefined;
  return col === undefined ? `${source}:${c.line}` : `${source}:${c.line}:${col}`;
}

/** The line the kernel refused, quoted, so a script's log says which rule without the file at hand. */
function lineText(c: RulesCommand): string {
  return c.position?.text ? ` (line: ${clip(c.position.text.trim())})` : '';
}

async function restore(text: string, source: string, rollback: boolean, netns: string | undefined, io: CliIO): Promise<number> {
  const cmds: RulesCommand[] = parseRules(text, { source });
  if (cmds.length === 0) return EXIT.ok;
  return withIpvs(netns, io, async (ipvs) => {
    const bar = progressLine(io, cmds.length >= PROGRESS_MIN);
    const b = ipvs.batch();
    for (const c of cmds) addToBatch(b, c);
    let rep: BatchReport;
    try {
      rep = await b.run({ rollback, ...(io.isTTY && cmds.length >= PROGRESS_MIN ? { onProgress: (d: number, t: number) => bar.update(d, t) } : {}) });
    } catch (e) {
      bar.end();
      if (e instanceof BatchError) {
        for (const i of e.report.failed) io.stderr(`lvskit: ${where(source, cmds[i]!)}: ${e.report.items[i]!.error!.message}${lineText(cmds[i]!)}\n`);
        io.stderr(`lvskit: ${e.rollback?.ok ? 'rolled back: the previous state is restored' : 'rollback incomplete: ' + e.message}\n`);
        return EXIT.failed;
      }
      throw e;
    }
    bar.end();
    for (const i of rep.failed) io.stderr(`lvskit: ${where(source, cmds[i]!)}: ${rep.items[i]!.error!.message}${lineText(cmds[i]!)}\n`);
    for (const i of [...rep.notSent, ...rep.unknown]) io.stderr(`lvskit: ${where(source, cmds[i]!)}: not applied (${rep.transportError?.message ?? 'not sent'})\n`);
    const failed = rep.failed.length + rep.notSent.length + rep.unknown.length;
    if (failed) io.stderr(`lvskit: ${failed} of ${cmds.length} line(s) failed; the others were applied\n`);
    return failed ? EXIT.failed : EXIT.ok;
  });
}

// ---- apply, diff, save ------------------------------------------------------------------------

/** Reads a desired state: lvskit JSON, or ipvsadm rules (their services). */
export function desiredFromText(text: string, source: string): LvsState {
  if (/^\s*\{/.test(text)) return parseStateJson(text, source);
  return { services: servicesFromRules(parseRules(text, { source }), [], source) };
}

async function applyVerb(verb: 'apply' | 'diff', args: string[], netns: string | undefined, io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    // a bare --drain means the default wait
    args: args.map((a) => (a === '--drain' ? '--drain=' : a)),
    options: {
      'dry-run': { type: 'boolean' },
      drain: { type: 'string' },
      rollback: { type: 'boolean' },
      'allow-empty': { type: 'boolean' },
      'allow-wipe': { type: 'boolean' },
      'max-delete-share': { type: 'string' },
      order: { type: 'string' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      interfaces: { type: 'string' },
      tables: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new UsageError(`${verb} takes one FILE ('-' for stdin)`);
  const interfaces = values.interfaces === undefined ? undefined : values.interfaces.split(',').filter((x) => x !== '');
  let tables: number[] | undefined;
  if (values.tables !== undefined) {
    tables = values.tables.split(',').filter((x) => x !== '').map((x) => {
      const n = Number(x);
      if (!/^\d+$/.test(x) || !Number.isSafeInteger(n) || n < 1 || n > 0xffffffff) throw new UsageError(`--tables takes route table ids (1..4294967295) separated by commas, got '${x}'`);
      return n;
    });
  }
  const file = positionals[0]!;
  let maxDeleteShare: number | undefined;
  if (values['max-delete-share'] !== undefined) {
    const t = values['max-delete-share'];
    maxDeleteShare = t.endsWith('%') ? Number(t.slice(0, -1)) / 100 : Number(t);
    if (t === '' || t === '%' || !(maxDeleteShare >= 0 && maxDeleteShare <= 1)) throw new UsageError(`--max-delete-share takes a share of what exists, 0..1 or 0%..100%, got '${t}'`);
  }
  const order = values.order ?? 'auto';
  if (!['auto', 'strict', 'add'].includes(order)) throw new UsageError(`--order must be auto, strict or add, got '${order}'`);
  let drainS: number | undefined;
  if (values.drain !== undefined) {
    drainS = values.drain === '' ? 30 : Number(values.drain);
    if (!Number.isFinite(drainS) || drainS < 0) throw new UsageError(`--drain takes seconds, got '${values.drain}'`);
  }
  const text = await readText(io, file);
  const desired = desiredFromText(text, file);
  const dryRun = verb === 'diff' || values['dry-run'] === true;
  const net = desired.addresses !== undefined || desired.routes !== undefined;
  // A file with only addresses and routes needs no IPVS (a host without the module can use it).
  const ipvsPart = desired.services !== undefined || desired.timeouts !== undefined || desired.syncDaemons !== undefined;
  if (!ipvsPart && drainS !== undefined) throw new UsageError('--drain applies to IPVS destinations, and FILE has no services');
  // nf_tables tables need an Nft handle; a file with only them needs no IPVS either
  const nftPart = desired.nftables !== undefined;
  const ipvs = ipvsPart || (!net && !nftPart) ? io.openIpvs(netns) : undefined;
  const rtnl = net || !ipvs ? io.openRtnl(netns) : undefined;
  const nft = nftPart ? Nft.open(netns ? { netns } : {}) : undefined;
  // progress on a terminal only, and never beside --json or --quiet output
  const showProgress = io.isTTY && !dryRun && values.json !== true && values.quiet !== true;
  const bar = progressLine(io, showProgress);
  try {
    let result: ApplyResult;
    try {
      const common = {
        dryRun,
        rollback: values.rollback === true,
        allowWipe: values['allow-wipe'] === true,
        ...(maxDeleteShare !== undefined ? { maxDeleteShare } : {}),
        ...(interfaces ? { interfaces } : {}),
        ...(tables ? { tables } : {}),
        ...(nft ? { nft } : {}),
        ...(showProgress ? { onProgress: (d: number, t: number) => bar.update(d, t) } : {}),
      };
      result = ipvs
        ? await apply(ipvs, desired, {
            ...common,
            allowEmpty: values['allow-empty'] === true,
            order: order as 'auto',
            ...(drainS !== undefined ? { drain: true, drainTimeoutMs: drainS * 1000 } : {}),
            ...(rtnl ? { rtnl } : {}),
          })
        : await apply(rtnl!, desired, common);
    } catch (e) {
      bar.end();
      if (e instanceof ApplyError) {
        const cause = e.cause instanceof BatchError ? e.cause : undefined;
        printResult(io, e.result, values.json === true, dryRun, values.quiet === true, cause ? cause.rollback?.ok === true : undefined);
        io.stderr(`lvskit: ${e.message}\n`);
        if (cause) io.stderr(`lvskit: ${cause.rollback?.ok ? 'rolled back: the previous state is restored' : 'rollback incomplete'}\n`);
        return EXIT.failed;
      }
      throw e;
    }
    bar.end();
    // apply --dry-run also says which flows the IPVS change would move (lib/cluster/disruption.ts):
    // the kernel's tables now against the tables the plan leaves (nothing was sent)
    const disruption =
      verb === 'apply' && dryRun && ipvs && desired.services && result.changes.length
        ? predictDisruption(await ipvs.listAll(), desired, { plan: { order: order as 'auto' } })
        : undefined;
    printResult(io, result, values.json === true, dryRun, values.quiet === true, undefined, disruption);
    if (verb === 'diff') return result.changes.length ? EXIT.failed : EXIT.ok;
    return EXIT.ok;
  } finally {
    ipvs?.close();
    rtnl?.close();
    nft?.close();
  }
}

type ChangeState = 'applied' | 'failed' | 'not-sent' | 'unknown';

/**
 * What became of each planned change (r.changes[i]): the main report covers plan.ops, the
 * after-drain report the rest; a change with no report item was not sent (its phase never ran).
 */
export function changeStates(r: ApplyResult): { state: ChangeState; error?: string }[] {
  const main = r.plan.ops.length;
  return r.changes.map((_, i) => {
    const rep = i < main ? r.report : r.afterDrainReport;
    const it = rep?.items[i < main ? i : i - main];
    if (!it) return { state: 'not-sent' };
    const error = it.error?.message ?? (it.state === 'unknown' ? (rep!.transportError?.message ?? 'sent, but no answer came back') : undefined);
    return error !== undefined ? { state: it.state, error } : { state: it.state };
  });
}

const STATE_WORD: Record<ChangeState, string> = { applied: '', failed: 'FAILED ', 'not-sent': 'NOT SENT ', unknown: 'UNKNOWN ' };

/**
 * Prints an apply/diff result. Every planned change is listed in exactly one of applied, failed,
 * not sent (a batch stopped before it) or unknown (sent, but the answer was lost with the
 * socket), in the text and in the JSON, so nothing unsent is ever shown as applied.
 */
function printResult(io: CliIO, r: ApplyResult, json: boolean, dryRun: boolean, quiet: boolean, rolledBack?: boolean, disruption?: DisruptionPrediction): void {
  const states = dryRun ? [] : changeStates(r);
  const pick = (s: ChangeState) => states.flatMap((x, i) => (x.state === s ? [i] : []));
  if (json) {
    const out: Record<string, unknown> = {
      dryRun,
      ok: dryRun || states.every((x) => x.state === 'applied'),
      changes: r.changes,
      applied: dryRun ? 0 : pick('applied').length,
      failed: pick('failed').map((i) => ({ change: r.changes[i], error: states[i]!.error })),
      notSent: pick('not-sent').map((i) => r.changes[i]),
      unknown: pick('unknown').map((i) => ({ change: r.changes[i], error: states[i]!.error })),
      drained: r.drained,
    };
    if (r.conntrack) out.conntrack = r.conntrack.map((c) => ({ dest: `${c.dest.address}:${c.dest.port}`, deleted: c.deleted, ...(c.error ? { error: c.error.message } : {}) }));
    if (rolledBack !== undefined) out.rolledBack = rolledBack;
    if (disruption) out.disruption = disruption;
    io.stdout(JSON.stringify(out, null, 2) + '\n');
    return;
  }
  if (quiet) return;
  if (dryRun) {
    let out = '';
    for (const c of r.changes) {
      out += `would ${c}\n`;
      if (out.length >= 65536) (io.stdout(out), (out = ''));
    }
    io.stdout(out + (r.changes.length ? '' : 'no differences\n'));
    if (disruption?.services.length) io.stdout(`predicted disruption (IPVS, new and re-scheduled connections):\n${formatDisruption(disruption).map((l) => `  ${l}\n`).join('')}`);
    return;
  }
  let out = '';
  r.changes.forEach((c, i) => {
    const st = states[i]!;
    out += `${STATE_WORD[st.state]}${c}${st.state !== 'applied' && st.error ? `: ${st.error}` : ''}\n`;
    if (out.length >= 65536) (io.stdout(out), (out = ''));
  });
  io.stdout(out);
  for (const d of r.drained) if (d.connections) io.stdout(`drain: ${d.dest.address}:${d.dest.port} still had ${d.connections} connection(s) when deleted\n`);
  for (const c of r.conntrack ?? [])
    io.stdout(c.error ? `conntrack: entries of ${c.dest.address}:${c.dest.port} not deleted: ${c.error.message}\n` : `conntrack: deleted ${c.deleted} UDP entr${c.deleted === 1 ? 'y' : 'ies'} of ${c.dest.address}:${c.dest.port}\n`);
  if (!r.changes.length) return io.stdout('nothing to do\n');
  const a = pick('applied').length, f = pick('failed').length, n = pick('not-sent').length, u = pick('unknown').length;
  if (f + n + u === 0) io.stdout(`${a} change(s) applied\n`);
  else io.stdout(`${a} applied${rolledBack ? ' (then rolled back)' : ''}, ${f} failed, ${n} not sent${u ? `, ${u} unknown (sent, no answer)` : ''}, of ${r.changes.length} change(s)\n`);
}

async function saveVerb(args: string[], netns: string | undefined, io: CliIO): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' }, numeric: { type: 'boolean', short: 'n' } }, strict: true });
  return withIpvs(netns, io, async (ipvs) => {
    if (values.json) io.stdout(stringifyState(await readState(ipvs)));
    else io.stdout(emitRules(stateServicesOf(await ipvs.listAll()), { numeric: values.numeric === true }));
    return EXIT.ok;
  });
}

// ---- addresses and routes -----------------------------------------------------------------------

/** 'KEYWORD VALUE' pairs after the positional ('dev lo table 100'). */
function pairs(args: string[], known: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 2) {
    const k = args[i]!;
    if (!known.includes(k)) throw new UsageError(`unknown keyword '${k}' (known: ${known.join(', ')})`);
    if (i + 1 >= args.length) throw new UsageError(`'${k}' needs a value`);
    out[k] = args[i + 1]!;
  }
  return out;
}

async function addrVerb(args: string[], netns: string | undefined, io: CliIO): Promise<number> {
  const [sub, ...rest] = args;
  const rtnl = () => io.openRtnl(netns);
  if (sub === 'list' || sub === 'show') {
    const kv = pairs(rest, ['dev']);
    const h = rtnl();
    try {
      const links = await h.links.list();
      const names = new Map(links.map((l) => [l.index, l.name]));
      for (const a of await h.addresses.list(kv.dev ? { link: kv.dev } : {})) io.stdout(`${names.get(a.index) ?? a.index} ${a.address}/${a.prefixLength} scope ${a.scope}\n`);
    } finally {
      h.close();
    }
    return EXIT.ok;
  }
  if (sub !== 'add' && sub !== 'del' && sub !== 'delete') throw new UsageError("addr needs add, del or list");
  const [address, ...kvs] = rest;
  if (!address) throw new UsageError(`addr ${sub} needs ADDR/LEN`);
  const kv = pairs(kvs, ['dev']);
  if (!kv.dev) throw new UsageError(`addr ${sub} needs 'dev IFNAME'`);
  const h = rtnl();
  try {
    if (sub === 'add') await h.addresses.add({ link: kv.dev, address });
    else await h.addresses.delete({ link: kv.dev, address });
  } finally {
    h.close();
  }
  return EXIT.ok;
}

async function routeVerb(args: string[], netns: string | undefined, io: CliIO): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'list' || sub === 'show') {
    const kv = pairs(rest, ['table']);
    const h = io.openRtnl(netns);
    try {
      for (const r of await h.routes.list(kv.table ? { table: Number(kv.table) } : {})) {
        let line = r.dst;
        if (r.gateway) line += ` via ${r.gateway}`;
        if (r.dev !== undefined) line += ` dev ${r.dev}`;
        if (r.nexthops) line += r.nexthops.map((n) => ` nexthop${n.gateway ? ` via ${n.gateway}` : ''} weight ${n.weight}`).join('');
        if (r.table !== 254) line += ` table ${r.table}`;
        if (r.priority) line += ` metric ${r.priority}`;
        io.stdout(`${line} proto ${r.protocol}\n`);
      }
    } finally {
      h.close();
    }
    return EXIT.ok;
  }
  if (sub !== 'add' && sub !== 'replace' && sub !== 'del' && sub !== 'delete') throw new UsageError('route needs add, replace, del or list');
  const [dst, ...kvs] = rest;
  if (!dst) throw new UsageError(`route ${sub} needs DST`);
  const kv = pairs(kvs, ['via', 'dev', 'table', 'metric']);
  const spec = {
    dst,
    ...(kv.via ? { gateway: kv.via } : {}),
    ...(kv.dev ? { dev: kv.dev } : {}),
    ...(kv.table ? { table: Number(kv.table) } : {}),
    ...(kv.metric ? { priority: Number(kv.metric) } : {}),
  };
  const h = io.openRtnl(netns);
  try {
    if (sub === 'add') await h.routes.add(spec);
    else if (sub === 'replace') await h.routes.replace(spec);
    else await h.routes.delete(spec);
  } finally {
    h.close();
  }
  return EXIT.ok;
}
