// `lvskit top` without a kernel: the frame and JSON are pure functions of a snapshot; the live loop
// is driven with a recording terminal (the kernel side is proven in test/ipvs/cli-top.test.ts).
import { describe, expect, it } from 'vitest';
import type { Destination, Service, Stats } from '../../lib/ipvs/types.js';
import type { Ipvs } from '../../lib/ipvs/client.js';
import {
  TERMINAL_ENTER,
  TERMINAL_LEAVE,
  compact,
  frameText,
  healthFromState,
  renderTop,
  runTopLoop,
  serviceName,
  topJson,
  topVerb,
  type TopSnapshot,
  type TopTerminal,
  type TopView,
} from '../../lib/cli/top.js';

const st = (o: Partial<Stats> = {}): Stats => ({ connections: 0n, packetsIn: 0n, packetsOut: 0n, bytesIn: 0n, bytesOut: 0n, cps: 0n, ppsIn: 0n, ppsOut: 0n, bpsIn: 0n, bpsOut: 0n, ...o });
const dest = (address: string, weight: number, active: number, stats: Partial<Stats>, port = 80): Destination => ({
  address, port, family: address.includes(':') ? 'inet6' : 'inet', forward: 'masq', weight, upperThreshold: 0, lowerThreshold: 0,
  activeConnections: active, inactiveConnections: 1, persistentConnections: 0, stats: st(stats),
});
const flags = { persistent: false, hashed: true };
const WEB: Service = {
  key: { protocol: 'tcp', address: '10.0.0.1', port: 80 }, family: 'inet', scheduler: 'wrr', flags,
  stats: st({ cps: 30n, ppsIn: 300n, ppsOut: 250n, bpsIn: 40_000n, bpsOut: 2_500_000n, connections: 2n ** 60n }),
  destinations: [dest('10.1.0.2', 3, 5, { cps: 20n, ppsIn: 200n, bpsIn: 30_000n }), dest('10.1.0.10', 1, 9, { cps: 10n, ppsIn: 100n, bpsIn: 10_000n })],
};
const DNS: Service = {
  key: { protocol: 'udp', address: '10.0.0.1', port: 53 }, family: 'inet', scheduler: 'rr', flags,
  stats: st({ cps: 500n, ppsIn: 500n, ppsOut: 500n, bpsIn: 50_000n, bpsOut: 90_000n }),
  destinations: [dest('10.1.0.2', 1, 0, { cps: 250n }, 53), dest('10.1.0.3', 1, 0, { cps: 250n }, 53)],
};
const V6: Service = { key: { protocol: 'tcp', address: '2001:db8::10', port: 443 }, family: 'inet6', scheduler: 'mh', flags, stats: st(), destinations: [dest('2001:db8::1:2', 1, 0, {}, 443)] };
const MARK: Service = { key: { fwmark: 7 }, family: 'inet', scheduler: 'rr', flags, stats: st(), destinations: [] };
const snap: TopSnapshot = { time: Date.UTC(2026, 0, 1, 12, 0, 0), netns: 'lb1', services: [WEB, DNS, V6, MARK] };
const view = (o: Partial<TopView> = {}): TopView => ({ sort: 'cps', reverse: false, intervalSec: 2, width: Infinity, height: Infinity, ...o });
/** The name column of each service/destination row (it ends where the title's FWD begins). */
const rowNames = (lines: string[]) => {
  const end = lines.find((l) => l.startsWith('SERVICE / DESTINATION'))!.indexOf(' FWD');
  return lines.filter((l) => /^(TCP|UDP|FWM|  ->)/.test(l)).map((l) => l.slice(0, end).trim());
};

describe('compact numbers', () => {
  it('keeps four digits, then three significant digits with K/M/G/T', () => {
    expect([0n, 9999n, 10_000n, 12_345n, 999_499n, 999_999n, 1_234_567n, 2n ** 40n, 2n ** 63n].map(compact))
      .toEqual(['0', '9999', '10.0K', '12.3K', '999K', '1.00M', '1.23M', '1.10T', '9.22E']);
  });
});

describe('renderTop', () => {
  it('names services like ipvsadm (protocol, address:port, [IPv6], FWM mark)', () => {
    expect([WEB, V6, MARK, { ...MARK, family: 'inet6' as const }].map(serviceName)).toEqual(['TCP 10.0.0.1:80', 'TCP [2001:db8::10]:443', 'FWM 7', 'FWM 7 IPv6']);
  });

  it('a frame: header, totals, titles, then each service with its destinations, by conn/s', () => {
    const lines = renderTop(snap, view());
    expect(lines[0]).toMatch(/^lvskit top - netns lb1 - \d\d:\d\d:\d\d - 4 services, 5 destinations - every 2s - sort: conn\/s \(desc\)$/);
    expect(lines[1]).toBe('total: 14 active, 5 inactive, 530 conn/s, in 800 pkt/s 90.0K B/s, out 750 pkt/s 2.59M B/s');
    expect(lines[3]).toMatch(/^SERVICE \/ DESTINATION\s+FWD\s+WEIGHT\s+ACTIVE\s+INACT\s+CONN\/S\s+INPKT\/S\s+OUTPKT\/S\s+IN B\/S\s+OUT B\/S HEALTH$/);
    expect(rowNames(lines)).toEqual(['UDP 10.0.0.1:53 rr', '-> 10.1.0.2:53', '-> 10.1.0.3:53', 'TCP 10.0.0.1:80 wrr', '-> 10.1.0.2:80', '-> 10.1.0.10:80', 'TCP [2001:db8::10]:443 mh', '-> [2001:db8::1:2]:443', 'FWM 7 rr']);
    const web = lines.find((l) => l.startsWith('TCP 10.0.0.1:80'))!;
    expect(web.split(/\s+/).slice(3)).toEqual(['14', '2', '30', '300', '250', '40.0K', '2.50M']);
    const d = lines.find((l) => l.startsWith('  -> 10.1.0.2:80'))!;
    expect(d.trim().split(/\s+/).slice(2)).toEqual(['Masq', '3', '5', '1', '20', '200', '0', '30.0K', '0', '-']);
  });

  it('sorts by each key, destinations within their service too; reverse flips; ties by address', () => {
    const byName = rowNames(renderTop(snap, view({ sort: 'name' }))).filter((n) => !n.startsWith('->'));
    // numeric address order (10.0.0.1 before the IPv6 VIP), then protocol, then port
    expect(byName).toEqual(['TCP 10.0.0.1:80 wrr', 'UDP 10.0.0.1:53 rr', 'TCP [2001:db8::10]:443 mh', 'FWM 7 rr']);
    expect(rowNames(renderTop(snap, view({ sort: 'name' }))).slice(1, 3)).toEqual(['-> 10.1.0.2:80', '-> 10.1.0.10:80']); // .2 before .10
    expect(rowNames(renderTop(snap, view({ sort: 'active' }))).slice(0, 3)).toEqual(['TCP 10.0.0.1:80 wrr', '-> 10.1.0.10:80', '-> 10.1.0.2:80']);
    expect(rowNames(renderTop(snap, view({ sort: 'weight' }))).slice(0, 3)).toEqual(['TCP 10.0.0.1:80 wrr', '-> 10.1.0.2:80', '-> 10.1.0.10:80']);
    expect(rowNames(renderTop(snap, view({ sort: 'bps' })))[0]).toBe('TCP 10.0.0.1:80 wrr');
    expect(rowNames(renderTop(snap, view({ sort: 'pps' })))[0]).toBe('UDP 10.0.0.1:53 rr');
    const rev = renderTop(snap, view({ sort: 'cps', reverse: true }));
    expect(rev[0]).toContain('sort: conn/s (asc)');
    // zero-rate services first, ties by address; the busiest last
    expect(rowNames(rev).filter((n) => !n.startsWith('->'))).toEqual(['TCP [2001:db8::10]:443 mh', 'FWM 7 rr', 'TCP 10.0.0.1:80 wrr', 'UDP 10.0.0.1:53 rr']);
    expect(renderTop(snap, view({ sort: 'name', reverse: true }))[0]).toContain('sort: name (desc)');
  });

  it('fits the terminal: lines cut at the width, rows beyond the height counted', () => {
    const lines = renderTop(snap, view({ width: 40, height: 8, keys: true }));
    expect(lines).toHaveLength(8);
    expect(lines.every((l) => l.length <= 40)).toBe(true);
    expect(lines[2]).toMatch(/^keys: c conn\/s/);
    expect(lines[7]).toBe('... 7 more rows (a larger window, or ano');
    expect(renderTop(snap, view({ height: 5 })).at(-1)).toMatch(/^\.\.\. 9 more rows/);
  });

  it('an empty namespace says so', () => {
    const lines = renderTop({ ...snap, services: [] }, view());
    expect(lines[0]).toContain('0 services, 0 destinations');
    expect(lines.at(-1)).toBe('(no IPVS services in this namespace)');
  });

  it('a health hook fills the HEALTH column; a health state (HealthMonitor.state()) gives up/down', () => {
    const healthOf = healthFromState([
      { service: WEB.key, address: '10.1.0.2', port: 80, healthy: true, failStreak: 0 },
      { service: WEB.key, address: '10.1.0.10', port: 80, healthy: false, failStreak: 3 },
    ]);
    const lines = renderTop(snap, view({ healthOf }));
    expect(lines.find((l) => l.startsWith('  -> 10.1.0.2:80'))).toMatch(/ up$/);
    expect(lines.find((l) => l.startsWith('  -> 10.1.0.10:80'))).toMatch(/ down$/);
    expect(lines.find((l) => l.startsWith('  -> 10.1.0.2:53'))).toMatch(/ -$/); // not in the state
    expect(() => healthFromState({})).toThrow(/health state must be an array/);
    expect(() => healthFromState([{ address: '10.1.0.2' }])).toThrow(/health state\[0\] must be/);
  });
});

describe('topJson', () => {
  it('one line; counters as exact integers (2^60 is not rounded); the view order; health null when unknown', () => {
    const text = topJson(snap, { sort: 'cps', reverse: false });
    expect(text).not.toContain('\n');
    expect(text).toContain('"connections":1152921504606846976');
    const j = JSON.parse(text) as { time: string; netns: string; sort: string; services: { service: string; activeConnections: number; stats: { cps: number }; destinations: { address: string; health: null; weight: number }[] }[] };
    expect(j.time).toBe('2026-01-01T12:00:00.000Z');
    expect(j.netns).toBe('lb1');
    expect(j.services.map((s) => s.service)).toEqual(['UDP 10.0.0.1:53', 'TCP 10.0.0.1:80', 'TCP [2001:db8::10]:443', 'FWM 7']);
    expect(j.services[1]!.activeConnections).toBe(14);
    expect(j.services[1]!.stats.cps).toBe(30);
    expect(j.services[1]!.destinations.map((d) => [d.address, d.weight, d.health])).toEqual([['10.1.0.2', 3, null], ['10.1.0.10', 1, null]]);
  });
});

/** A terminal that records what is written and lets the test press keys. */
function fakeTerminal(columns = 100, rows = 30) {
  const t = {
    out: '',
    started: 0,
    stopped: 0,
    key: (_n: string, _c?: boolean) => {},
    resize: () => {},
  };
  const term: TopTerminal = {
    columns, rows,
    write: (s) => void (t.out += s),
    start(onKey, onResize) {
      t.started++;
      t.key = (n, c = false) => onKey(n, c);
      t.resize = onResize;
    },
    stop: () => void t.stopped++,
  };
  return { t, term };
}

describe('runTopLoop (the live view) with a recording terminal', () => {
  it('enters the alternate screen, redraws in place, changes the sort on a key, restores on q', async () => {
    const { t, term } = fakeTerminal();
    let reads = 0;
    const done = runTopLoop(async () => {
      reads++;
      if (reads === 1) queueMicrotask(() => setTimeout(() => t.key('n'), 0));
      if (reads === 2) setTimeout(() => t.key('q'), 0);
      return snap;
    }, term, view({ intervalSec: 0.1 }), { signals: false });
    expect(await done).toBe(0);
    expect(t.out.startsWith(TERMINAL_ENTER)).toBe(true);
    expect(t.out.endsWith(TERMINAL_LEAVE)).toBe(true);
    expect(t.started).toBe(1);
    expect(t.stopped).toBe(1);
    expect(t.out).toContain('sort: conn/s (desc)');
    expect(t.out).toContain('sort: name (asc)');
    expect(t.out).toContain(frameText(renderTop(snap, view({ sort: 'name', intervalSec: 0.1, width: 100, height: 30, keys: true }))));
  });

  it('Ctrl-C quits with 0; a signal quits with 128 + its number; both restore the terminal', async () => {
    // the emitted SIGTERM must reach the loop's handler only: under scripts/sanitize.sh a preload
    // listens for SIGTERM too (leak check, then exit), so other listeners step aside meanwhile
    const others = process.listeners('SIGTERM');
    for (const l of others) process.off('SIGTERM', l);
    try {
      for (const [press, code] of [[(t: ReturnType<typeof fakeTerminal>['t']) => t.key('c', true), 0], [() => process.emit('SIGTERM'), 143]] as const) {
        const { t, term } = fakeTerminal();
        const done = runTopLoop(async () => {
          setTimeout(() => press(t), 0);
          return snap;
        }, term, view({ intervalSec: 60 }));
        expect(await done).toBe(code);
        expect(t.out.endsWith(TERMINAL_LEAVE)).toBe(true);
        expect(t.stopped).toBe(1);
      }
      expect(process.listenerCount('SIGTERM')).toBe(0);
    } finally {
      for (const l of others) process.on('SIGTERM', l);
    }
  });

  it('an error while reading restores the terminal first, then surfaces', async () => {
    const { t, term } = fakeTerminal();
    let reads = 0;
    await expect(runTopLoop(async () => {
      if (++reads === 2) throw new Error('netlink went away');
      return snap;
    }, term, view({ intervalSec: 0.05 }), { signals: false })).rejects.toThrow('netlink went away');
    expect(t.out.endsWith(TERMINAL_LEAVE)).toBe(true);
    expect(t.stopped).toBe(1);
  });
});

describe('topVerb (--once, --json, --count) over a stand-in handle', () => {
  const io = (services: Service[][]) => {
    const x = { out: '', err: '', closed: 0, reads: 0 };
    const ipvs = { listAll: async () => services[Math.min(x.reads++, services.length - 1)]!, close: () => void x.closed++ } as unknown as Ipvs;
    return { x, io: { stdout: (s: string) => void (x.out += s), stderr: (s: string) => void (x.err += s), openIpvs: () => ipvs } };
  };

  it('--once: one plain frame, no escape sequences, the handle closed', async () => {
    const { x, io: i } = io([[WEB]]);
    expect(await topVerb(['--once', '--sort', 'w'], 'lb1', i, undefined)).toBe(0);
    expect(x.out).not.toContain('\x1b');
    expect(x.out.split('\n')[0]).toContain('sort: weight (desc)');
    expect(x.out).not.toContain('keys:');
    expect(x.closed).toBe(1);
  });

  it('--json --count 3: three JSON lines, one per interval', async () => {
    const { x, io: i } = io([[WEB], [WEB, DNS]]);
    expect(await topVerb(['--json', '--count', '3', '-d', '0.1'], undefined, i, undefined)).toBe(0);
    const lines = x.out.trimEnd().split('\n').map((l) => JSON.parse(l) as { services: unknown[]; netns: null });
    expect(lines.map((l) => l.services.length)).toEqual([1, 2, 2]);
    expect(lines[0]!.netns).toBeNull();
  });

  it('the live view without a terminal refuses in one line (exit 2) and opens nothing', async () => {
    const { x, io: i } = io([[WEB]]);
    expect(await topVerb([], undefined, i, undefined)).toBe(2);
    expect(x.err).toMatch(/^lvskit: top: the live view needs a terminal.*--once, --json or --count N for scripts\n$/);
    expect(x.closed).toBe(0);
  });

  it('bad options name the option and the value', async () => {
    const { io: i } = io([[WEB]]);
    await expect(topVerb(['--once', '--sort', 'zz'], undefined, i, undefined)).rejects.toThrow('--sort must be one of cps, active, pps, bps, weight, name (or its key c, a, p, b, w, n), got "zz"');
    await expect(topVerb(['--once', '-d', '0'], undefined, i, undefined)).rejects.toThrow('--delay must be seconds between 0.1 and 3600, got "0"');
    await expect(topVerb(['--json', '--count', '1.5'], undefined, i, undefined)).rejects.toThrow(/--count must be a whole number/);
    await expect(topVerb(['--once', 'extra'], undefined, i, undefined)).rejects.toThrow(/top argument is not an option/);
  });
});
