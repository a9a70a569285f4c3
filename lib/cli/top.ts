// `lvskit top`: a live view of one namespace's IPVS, refreshing in place like top(1): services and
// destinations with weight, active/inactive connections, connections/s, packets/s and bytes/s in
// and out, and each destination's health when a health state file is given.
//
// The numbers are the kernel's: the 64-bit counters and the rate estimator's per-second rates of
// IPVS_CMD_GET_SERVICE/GET_DEST dumps (IPVS_STATS_ATTR_CPS, INPPS, OUTPPS, INBPS, OUTBPS; the
// estimator in net/netfilter/ipvs/ip_vs_est.c updates them every 2 s, smoothed over about 8 s, as
// `ipvsadm -Ln --rate` shows them). Active/inactive connections are per destination
// (IPVS_DEST_ATTR_ACTIVE_CONNS/INACT_CONNS); a service's are the sum of its destinations'.
//
// Rendering is a pure function of a snapshot and a view (renderTop, topJson); the loop that reads
// the kernel, draws frames and takes keys is separate (runTopLoop) and owns the terminal: alternate
// screen and hidden cursor while it runs, both restored on q, Ctrl-C, SIGTERM/SIGHUP/SIGINT and on
// any error. Keys are decoded by node:readline (emitKeypressEvents); the few output sequences are
// the ECMA-48 / xterm ones named below (docs/cli.md says why no terminal library).
import { readFileSync } from 'node:fs';
import { emitKeypressEvents } from 'node:readline';
import { parseArgs } from 'node:util';
import { ValidationError } from '../errors.js';
import type { Ipvs } from '../ipvs/client.js';
import type { Destination, Service, ServiceKey, Stats } from '../ipvs/types.js';

// ---- the view ------------------------------------------------------------------------------------

/** Sort keys: the key pressed in the live view, and --sort's word. */
export const TOP_SORT_KEYS = { c: 'cps', a: 'active', p: 'pps', b: 'bps', w: 'weight', n: 'name' } as const;
export type TopSort = (typeof TOP_SORT_KEYS)[keyof typeof TOP_SORT_KEYS];
const SORTS = Object.values(TOP_SORT_KEYS) as readonly TopSort[];
const SORT_LABEL: Record<TopSort, string> = { cps: 'conn/s', active: 'active conns', pps: 'packets/s', bps: 'bytes/s', weight: 'weight', name: 'name' };

/** What the kernel said at one moment. */
export interface TopSnapshot {
  /** Date.now() when read. */
  time: number;
  netns: string | undefined;
  /** listAll(): services with stats and destinations. */
  services: readonly Service[];
}

/** A destination's health as a short word ('up', 'down'), or undefined when unknown ('-'). */
export type HealthOf = (service: Service, destination: Destination) => string | undefined;

export interface TopView {
  sort: TopSort;
  /** Reverse the order (numbers ascending, names descending). */
  reverse: boolean;
  /** Refresh interval, seconds (shown in the header). */
  intervalSec: number;
  /** Characters per line (Infinity: no cut). */
  width: number;
  /** Lines (Infinity: every row). */
  height: number;
  /** Show the key help line (the live view). */
  keys?: boolean;
  healthOf?: HealthOf | undefined;
}

const ZERO: Stats = { connections: 0n, packetsIn: 0n, packetsOut: 0n, bytesIn: 0n, bytesOut: 0n, cps: 0n, ppsIn: 0n, ppsOut: 0n, bpsIn: 0n, bpsOut: 0n };
const FWD: Record<string, string> = { masq: 'Masq', local: 'Local', tunnel: 'Tunnel', route: 'Route', bypass: 'Bypass' };

/** 1234 -> '1234', 12345 -> '12.3K', 1234567 -> '1.23M' (powers of 1000; three significant digits). */
export function compact(v: bigint | number): string {
  const b = typeof v === 'bigint' ? v : BigInt(Math.round(v));
  if (b < 10000n && b > -10000n) return b.toString();
  const units = ['K', 'M', 'G', 'T', 'P', 'E'];
  let n = Number(b);
  let i = -1;
  while (Math.abs(n) >= 999.5 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  const a = Math.abs(n);
  return (a >= 99.95 ? n.toFixed(0) : a >= 9.995 ? n.toFixed(1) : n.toFixed(2)) + units[i]!;
}

/** 'TCP 10.0.0.1:80', 'UDP [2001:db8::1]:53', 'FWM 7', 'FWM 7 IPv6'. */
export function serviceName(s: Pick<Service, 'key' | 'family'>): string {
  const k = s.key;
  if ('fwmark' in k) return `FWM ${k.fwmark >>> 0}${s.family === 'inet6' ? ' IPv6' : ''}`;
  return `${k.protocol.toUpperCase()} ${hostPort(k.address, k.port)}`;
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** A fixed-width key that orders addresses numerically (IPv4 before IPv6). */
function addressOrder(a: string): string {
  if (!a.includes(':')) return '4' + a.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('');
  const [head, tail] = a.split('::') as [string, string | undefined];
  const hg = head ? head.split(':') : [];
  const tg = tail ? tail.split(':') : [];
  // an embedded IPv4 tail (::ffff:1.2.3.4) is two groups
  const groups = (gs: string[]) => gs.flatMap((g) => (g.includes('.') ? [g.split('.').slice(0, 2), g.split('.').slice(2)].map((p) => ((Number(p[0]) << 8) | Number(p[1])).toString(16)) : [g]));
  const h = groups(hg);
  const t = groups(tg);
  const all = tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return '6' + all.map((g) => g.padStart(4, '0')).join('');
}

function keyOrder(k: ServiceKey): string {
  if ('fwmark' in k) return `2 ${(k.fwmark >>> 0).toString(16).padStart(8, '0')} ${k.family ?? 'inet'}`;
  return `1 ${addressOrder(k.address)} ${k.protocol} ${k.port.toString(16).padStart(4, '0')}`;
}

function destOrder(d: Destination): string {
  return `${addressOrder(d.address)} ${d.port.toString(16).padStart(4, '0')}`;
}

interface Figures {
  active: number;
  inactive: number;
  weight: number;
  stats: Stats;
}

function serviceFigures(s: Service): Figures {
  let active = 0;
  let inactive = 0;
  let weight = 0;
  for (const d of s.destinations ?? []) {
    active += d.activeConnections;
    inactive += d.inactiveConnections;
    weight += d.weight;
  }
  return { active, inactive, weight, stats: s.stats ?? ZERO };
}

function destFigures(d: Destination): Figures {
  return { active: d.activeConnections, inactive: d.inactiveConnections, weight: d.weight, stats: d.stats ?? ZERO };
}

function metric(f: Figures, sort: Exclude<TopSort, 'name'>): bigint {
  switch (sort) {
    case 'cps':
      return f.stats.cps;
    case 'active':
      return BigInt(f.active);
    case 'pps':
      return f.stats.ppsIn + f.stats.ppsOut;
    case 'bps':
      return f.stats.bpsIn + f.stats.bpsOut;
    case 'weight':
      return BigInt(f.weight);
  }
}

/** Orders by the sort key: numbers largest first, names smallest first; ties by name; reverse flips the key (not the ties). */
function ordered<T>(items: readonly T[], figures: (t: T) => Figures, name: (t: T) => string, sort: TopSort, reverse: boolean): T[] {
  const rows = items.map((t) => ({ t, f: figures(t), n: name(t) }));
  rows.sort((a, b) => {
    if (sort !== 'name') {
      const ma = metric(a.f, sort);
      const mb = metric(b.f, sort);
      if (ma !== mb) return (ma > mb ? -1 : 1) * (reverse ? -1 : 1);
      return a.n < b.n ? -1 : a.n > b.n ? 1 : 0;
    }
    return (a.n < b.n ? -1 : a.n > b.n ? 1 : 0) * (reverse ? -1 : 1);
  });
  return rows.map((r) => r.t);
}

/** Services in the view's order, each with its destinations in the same order. */
export function sortSnapshot(services: readonly Service[], sort: TopSort, reverse: boolean): Service[] {
  return ordered(services, serviceFigures, (s) => keyOrder(s.key), sort, reverse).map((s) => ({
    ...s,
    destinations: ordered(s.destinations ?? [], destFigures, destOrder, sort, reverse),
  }));
}

const COLUMNS = [
  ['FWD', 6],
  ['WEIGHT', 6],
  ['ACTIVE', 7],
  ['INACT', 7],
  ['CONN/S', 7],
  ['INPKT/S', 8],
  ['OUTPKT/S', 8],
  ['IN B/S', 8],
  ['OUT B/S', 8],
] as const;

function cells(f: Figures, fwd: string, weight: string): string[] {
  const s = f.stats;
  return [fwd, weight, compact(f.active), compact(f.inactive), compact(s.cps), compact(s.ppsIn), compact(s.ppsOut), compact(s.bpsIn), compact(s.bpsOut)];
}

function clock(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/**
 * One frame of the view as lines (no escape sequences, no line ends): header, totals, optional
 * key help, column titles, a row per service followed by its destinations. Rows that do not fit
 * `height` are counted on a last line; every line is cut at `width`.
 */
export function renderTop(snap: TopSnapshot, view: TopView): string[] {
  const services = sortSnapshot(snap.services, view.sort, view.reverse);
  const nDest = services.reduce((a, s) => a + (s.destinations?.length ?? 0), 0);
  const tot = services.map(serviceFigures).reduce(
    (a, f) => ({
      active: a.active + f.active,
      inactive: a.inactive + f.inactive,
      cps: a.cps + f.stats.cps,
      ppsIn: a.ppsIn + f.stats.ppsIn,
      ppsOut: a.ppsOut + f.stats.ppsOut,
      bpsIn: a.bpsIn + f.stats.bpsIn,
      bpsOut: a.bpsOut + f.stats.bpsOut,
    }),
    { active: 0, inactive: 0, cps: 0n, ppsIn: 0n, ppsOut: 0n, bpsIn: 0n, bpsOut: 0n },
  );
  const head: string[] = [
    `lvskit top - netns ${snap.netns ?? '(current)'} - ${clock(snap.time)} - ${services.length} service${services.length === 1 ? '' : 's'}, ${nDest} destination${nDest === 1 ? '' : 's'} - every ${view.intervalSec}s - sort: ${SORT_LABEL[view.sort]} (${(view.sort === 'name') !== view.reverse ? 'asc' : 'desc'})`,
    `total: ${tot.active} active, ${tot.inactive} inactive, ${compact(tot.cps)} conn/s, in ${compact(tot.ppsIn)} pkt/s ${compact(tot.bpsIn)} B/s, out ${compact(tot.ppsOut)} pkt/s ${compact(tot.bpsOut)} B/s`,
  ];
  if (view.keys) head.push('keys: c conn/s  a active  p packets/s  b bytes/s  w weight  n name  r reverse  q quit');
  head.push('');

  const rows: { name: string; cells: string[]; health: string }[] = [];
  for (const s of services) {
    rows.push({ name: `${serviceName(s)} ${s.scheduler}`, cells: cells(serviceFigures(s), '', ''), health: '' });
    for (const d of s.destinations ?? []) {
      rows.push({ name: `  -> ${hostPort(d.address, d.port)}`, cells: cells(destFigures(d), FWD[d.forward] ?? d.forward, String(d.weight)), health: view.healthOf?.(s, d) ?? '-' });
    }
  }
  const nameWidth = rows.reduce((w, r) => Math.max(w, r.name.length), 24); // no Math.max(...rows): a table may hold 400k rows
  const line = (name: string, cs: readonly string[], health: string) =>
    (name.padEnd(nameWidth) + cs.map((c, i) => ' ' + (i === 0 ? c.padEnd(COLUMNS[i]![1]) : c.padStart(COLUMNS[i]![1]))).join('') + ' ' + health).trimEnd();
  const out = [...head, line('SERVICE / DESTINATION', COLUMNS.map((c) => c[0]), 'HEALTH')];
  if (rows.length === 0) out.push('(no IPVS services in this namespace)');
  const room = view.height - out.length;
  const fits = rows.length <= room ? rows.length : Math.max(0, room - 1);
  for (const r of rows.slice(0, fits)) out.push(line(r.name, r.cells, r.health));
  if (fits < rows.length) out.push(`... ${rows.length - fits} more rows (a larger window, or another sort, shows them)`);
  return Number.isFinite(view.width) ? out.map((l) => l.slice(0, Math.max(0, view.width))) : out;
}

/** Turns bigints into exact JSON integers (JSON.stringify refuses bigint; Number() would round past 2^53). */
function exactJson(value: unknown): string {
  const MARK = '\u0000bigint:';
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? MARK + v.toString() : v)).replace(/"\\u0000bigint:(-?\d+)"/g, '$1');
}

/** One snapshot as one line of JSON (services and destinations in the view's order). */
export function topJson(snap: TopSnapshot, view: Pick<TopView, 'sort' | 'reverse' | 'healthOf'>): string {
  const services = sortSnapshot(snap.services, view.sort, view.reverse);
  return exactJson({
    time: new Date(snap.time).toISOString(),
    netns: snap.netns ?? null,
    sort: view.sort,
    services: services.map((s) => {
      const f = serviceFigures(s);
      return {
        service: serviceName(s),
        key: s.key,
        family: s.family,
        scheduler: s.scheduler,
        activeConnections: f.active,
        inactiveConnections: f.inactive,
        stats: f.stats,
        destinations: (s.destinations ?? []).map((d) => ({
          address: d.address,
          port: d.port,
          family: d.family,
          forward: d.forward,
          weight: d.weight,
          activeConnections: d.activeConnections,
          inactiveConnections: d.inactiveConnections,
          persistentConnections: d.persistentConnections,
          health: view.healthOf?.(s, d) ?? null,
          stats: d.stats ?? ZERO,
        })),
      };
    }),
  });
}

// ---- health --------------------------------------------------------------------------------------

function keyId(k: ServiceKey): string {
  return 'fwmark' in k ? `fwmark ${k.fwmark >>> 0} ${k.family ?? 'inet'}` : `${k.protocol} ${k.address} ${k.port}`;
}

/**
 * healthOf over a health state: an array shaped like HealthMonitor.state() (lib/health: service,
 * address, port, healthy; failStreak optional), e.g. what a process running the monitor writes
 * with JSON.stringify(monitor.state()). 'up' / 'down'; a destination it does not name is unknown.
 */
export function healthFromState(state: unknown): HealthOf {
  if (!Array.isArray(state)) throw new ValidationError('health state', state, 'must be an array of { service, address, port, healthy } (HealthMonitor.state())');
  const m = new Map<string, string>();
  for (const [i, e] of state.entries()) {
    const h = e as { service?: ServiceKey; address?: unknown; port?: unknown; healthy?: unknown };
    if (typeof h !== 'object' || h === null || typeof h.service !== 'object' || h.service === null || typeof h.address !== 'string' || typeof h.port !== 'number' || typeof h.healthy !== 'boolean') {
      throw new ValidationError(`health state[${i}]`, e, 'must be { service, address, port, healthy }');
    }
    m.set(`${keyId(h.service)} ${h.address} ${h.port}`, h.healthy ? 'up' : 'down');
  }
  return (s, d) => m.get(`${keyId(s.key)} ${d.address} ${d.port}`);
}

// ---- the terminal --------------------------------------------------------------------------------

// ECMA-48 / xterm control sequences (the only output the live view needs besides text).
const CSI = '\x1b[';
const ALT_SCREEN_ON = `${CSI}?1049h`; // xterm: save the cursor, switch to the alternate screen
const ALT_SCREEN_OFF = `${CSI}?1049l`; // back to the normal screen, cursor restored
const CURSOR_HIDE = `${CSI}?25l`; // DECTCEM reset
const CURSOR_SHOW = `${CSI}?25h`; // DECTCEM set
const HOME = `${CSI}H`; // CUP to 1;1
const ERASE_EOL = `${CSI}K`; // EL 0
const ERASE_DOWN = `${CSI}J`; // ED 0

/** A frame drawn over the previous one in place: home, each line then erase-to-end, erase below. */
export function frameText(lines: readonly string[]): string {
  return HOME + lines.map((l) => l + ERASE_EOL).join('\r\n') + ERASE_DOWN;
}

export const TERMINAL_ENTER = ALT_SCREEN_ON + CURSOR_HIDE + HOME + ERASE_DOWN;
export const TERMINAL_LEAVE = CURSOR_SHOW + ALT_SCREEN_OFF;

/** What the live view needs from a terminal. */
export interface TopTerminal {
  readonly columns: number;
  readonly rows: number;
  write(text: string): void;
  /** Raw keyboard input: `onKey(name, ctrl)` per key; `onResize` on SIGWINCH. */
  start(onKey: (name: string, ctrl: boolean) => void, onResize: () => void): void;
  /** Undoes start (cooked mode, listeners off); idempotent. */
  stop(): void;
}

/** process.stdin/stdout as a TopTerminal, or undefined when either is not a terminal. */
export function processTerminal(): TopTerminal | undefined {
  const { stdin, stdout } = process;
  if (!stdin.isTTY || !stdout.isTTY) return undefined;
  let keyListener: ((s: string | undefined, k: { name?: string; ctrl?: boolean; sequence?: string } | undefined) => void) | undefined;
  let resizeListener: (() => void) | undefined;
  return {
    get columns() {
      return stdout.columns || 80;
    },
    get rows() {
      return stdout.rows || 24;
    },
    write: (t) => void stdout.write(t),
    start(onKey, onResize) {
      emitKeypressEvents(stdin);
      stdin.setRawMode(true);
      keyListener = (s, k) => onKey(k?.name ?? s ?? '', k?.ctrl === true);
      resizeListener = onResize;
      stdin.on('keypress', keyListener);
      stdout.on('resize', resizeListener);
      stdin.resume();
    },
    stop() {
      if (keyListener) stdin.off('keypress', keyListener);
      if (resizeListener) stdout.off('resize', resizeListener);
      keyListener = resizeListener = undefined;
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
    },
  };
}

const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;

/**
 * The live view: reads a snapshot every interval (and at once after a key), draws it in place,
 * until q / Esc / Ctrl-C / a signal (opts.signals false: no signal handlers). The terminal is restored however it ends, also
 * when a read throws (the error is rethrown after). Returns the exit status: 0, or 128 + signal.
 */
export async function runTopLoop(read: () => Promise<TopSnapshot>, term: TopTerminal, view: TopView, opts: { signals?: boolean } = {}): Promise<number> {
  let snap: TopSnapshot | undefined;
  let quit: number | undefined;
  let wake: (() => void) | undefined;
  const v: TopView = { ...view, keys: true };
  const draw = () => {
    if (snap) term.write(frameText(renderTop(snap, { ...v, width: term.columns, height: term.rows })));
  };
  const stopWith = (code: number) => {
    quit ??= code;
    wake?.();
  };
  const onKey = (name: string, ctrl: boolean) => {
    if ((ctrl && (name === 'c' || name === 'd')) || name === 'q' || name === 'escape') return stopWith(0);
    if (ctrl) return;
    const sort = (TOP_SORT_KEYS as Record<string, TopSort>)[name];
    if (sort !== undefined) v.sort = sort;
    else if (name === 'r') v.reverse = !v.reverse;
    else if (name !== 'space' && name !== 'return') return;
    draw(); // at once, from the snapshot at hand; space/enter also read a new one
    if (name === 'space' || name === 'return') wake?.();
  };
  const handlers = Object.entries(SIGNALS).map(([sig, n]) => [sig, () => stopWith(128 + n)] as const);
  const restore = () => {
    term.write(TERMINAL_LEAVE);
    term.stop();
  };
  let restored = false;
  const restoreOnce = () => {
    if (!restored) {
      restored = true;
      restore();
    }
  };
  const signals = opts.signals !== false;
  if (signals) for (const [sig, h] of handlers) process.on(sig, h);
  process.once('exit', restoreOnce); // a process.exit() elsewhere still leaves a usable terminal
  let timer: NodeJS.Timeout | undefined;
  try {
    term.write(TERMINAL_ENTER);
    term.start(onKey, draw);
    while (quit === undefined) {
      snap = await read();
      if (quit !== undefined) break;
      draw();
      await new Promise<void>((res) => {
        wake = res;
        timer = setTimeout(res, v.intervalSec * 1000);
      });
      clearTimeout(timer);
      wake = undefined;
    }
  } finally {
    clearTimeout(timer);
    restoreOnce();
    process.off('exit', restoreOnce);
    if (signals) for (const [sig, h] of handlers) process.off(sig, h);
  }
  return quit ?? 0;
}

// ---- the verb ------------------------------------------------------------------------------------

export interface TopIO {
  stdout(text: string): void;
  stderr(text: string): void;
  openIpvs(netns: string | undefined): Ipvs;
}

function parseTopArgs(args: readonly string[]) {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      delay: { type: 'string', short: 'd' },
      sort: { type: 'string', short: 's' },
      reverse: { type: 'boolean', short: 'r' },
      once: { type: 'boolean' },
      json: { type: 'boolean' },
      count: { type: 'string', short: 'n' },
      health: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) throw new ValidationError('top argument', positionals[0], 'is not an option (see lvskit top --help)');
  const intervalSec = values.delay === undefined ? 2 : Number(values.delay);
  if (!Number.isFinite(intervalSec) || intervalSec < 0.1 || intervalSec > 3600) throw new ValidationError('--delay', values.delay, 'must be seconds between 0.1 and 3600');
  let sort: TopSort = 'cps';
  if (values.sort !== undefined) {
    const s = (TOP_SORT_KEYS as Record<string, TopSort>)[values.sort] ?? SORTS.find((x) => x === values.sort);
    if (s === undefined) throw new ValidationError('--sort', values.sort, `must be one of ${SORTS.join(', ')} (or its key ${Object.keys(TOP_SORT_KEYS).join(', ')})`);
    sort = s;
  }
  let count: number | undefined;
  if (values.count !== undefined) {
    count = Number(values.count);
    if (!Number.isInteger(count) || count < 1 || count > 1_000_000) throw new ValidationError('--count', values.count, 'must be a whole number of snapshots from 1');
  }
  if (values.once && count !== undefined && count !== 1) throw new ValidationError('--once', `--count ${count}`, 'is one frame: drop --count or --once');
  return { intervalSec, sort, reverse: values.reverse === true, once: values.once === true, json: values.json === true, count, health: values.health };
}

const sleep = (s: number) => new Promise<void>((r) => setTimeout(r, s * 1000));

/** `lvskit top`: returns the exit status. `term` defaults to the process's terminal (undefined: none). */
export async function topVerb(args: readonly string[], netns: string | undefined, io: TopIO, term: TopTerminal | undefined = processTerminal()): Promise<number> {
  const o = parseTopArgs(args);
  let current: HealthOf | undefined;
  const readHealth = () => {
    if (o.health === undefined) return;
    try {
      current = healthFromState(JSON.parse(readFileSync(o.health, 'utf8')));
    } catch (e) {
      // a file being rewritten may be cut short: keep the last good state ('?' before the first)
      if (!(e instanceof SyntaxError) && !(e instanceof ValidationError) && (e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      current ??= () => '?';
    }
  };
  const healthOf: HealthOf | undefined = o.health === undefined ? undefined : (s, d) => current?.(s, d);
  const plain = o.once || o.json || o.count !== undefined;
  if (!plain && term === undefined) {
    io.stderr('lvskit: top: the live view needs a terminal on stdin and stdout; use --once, --json or --count N for scripts\n');
    return 2;
  }
  const ipvs = io.openIpvs(netns);
  try {
    const read = async (): Promise<TopSnapshot> => {
      readHealth();
      return { time: Date.now(), netns, services: await ipvs.listAll() };
    };
    const view: TopView = { sort: o.sort, reverse: o.reverse, intervalSec: o.intervalSec, width: Infinity, height: Infinity, healthOf };
    if (plain) {
      const n = o.count ?? 1;
      for (let i = 0; i < n; i++) {
        if (i > 0) await sleep(o.intervalSec);
        const snap = await read();
        if (o.json) io.stdout(topJson(snap, view) + '\n');
        else io.stdout((i > 0 ? '\n' : '') + renderTop(snap, view).join('\n') + '\n');
      }
      return 0;
    }
    return await runTopLoop(read, term!, view);
  } finally {
    ipvs.close();
  }
}
