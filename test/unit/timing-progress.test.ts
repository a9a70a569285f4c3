// Issue 17 part 4 and issue 18 part 5: apply() and IPVS batches say how long each phase took
// (shape and attribution only: no speed is asserted), and long loads show a progress line that
// moves as pieces are acknowledged, on a terminal only (pipes and --json stay clean). The
// handles here answer from memory; the kernel runs are test/netns/cli-progress.test.ts (routes)
// and test/ipvs/batch-progress.test.ts (IPVS).
import { describe, expect, it } from 'vitest';
import { apply, type ApplyTiming } from '../../lib/apply/apply.js';
import type { BatchReport, ItemResult } from '../../lib/batch.js';
import { runCli, progressLine, PROGRESS_MIN, type CliIO } from '../../lib/cli/run.js';
import { Ipvs, progressPiece, type BatchRunOptions } from '../../lib/ipvs/client.js';
import { Rtnl } from '../../lib/rtnl/handle.js';
import type { LvsState, StateService } from '../../lib/format/state.js';
import type { RouteSpec } from '../../lib/rtnl/route-types.js';
import { textChunks } from '../helpers/cli.js';

const svc = (i: number, dests = 2): StateService => ({
  key: { protocol: 'tcp', address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 80 },
  scheduler: 'rr',
  destinations: Array.from({ length: dests }, (_, j) => ({ address: `192.168.${j}.${(i % 250) + 1}`, port: 80, weight: 1 })),
});

function okReport(n: number, first = 0): BatchReport {
  const items: ItemResult[] = Array.from({ length: n }, (_, i) => ({ index: first + i, state: 'applied' }));
  return { ok: true, items, applied: items.map((it) => it.index), failed: [], notSent: [], unknown: [], sendCalls: 1 };
}

/** Busy-waits `ms` of the monotonic clock (a fake kernel that takes time). */
function spend(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/**
 * An Ipvs as far as apply() and the CLI can tell, answering from `state`. Its batches record
 * what they were asked and report progress in pieces of progressPiece(n), as the real one does.
 */
function fakeIpvs(state: LvsState, log: { runs: { n: number; options: BatchRunOptions; ms: number }[]; readMs: number[] }) {
  return Object.assign(Object.create(Ipvs.prototype) as object, {
    listAll: async () => {
      const t = performance.now();
      spend(3);
      const out = (state.services ?? []).map((s) => ({ ...s, destinations: s.destinations ?? [] }));
      log.readMs.push(performance.now() - t);
      return out;
    },
    getTimeouts: async () => ({ tcp: 900, tcpFin: 120, udp: 300 }),
    listDaemons: async () => [],
    batch: () => {
      let n = 0;
      const b = {
        addService: () => (n++, b),
        addDestination: () => (n++, b),
        editService: () => (n++, b),
        editDestination: () => (n++, b),
        deleteService: () => (n++, b),
        deleteDestination: () => (n++, b),
        setTimeouts: () => (n++, b),
        startDaemon: () => (n++, b),
        stopDaemon: () => (n++, b),
        flush: () => (n++, b),
        zero: () => (n++, b),
        run: async (options: BatchRunOptions = {}) => {
          const t = performance.now();
          const piece = progressPiece(n);
          for (let d = piece; d < n && options.onProgress; d += piece) {
            spend(0.2);
            await new Promise((r) => setImmediate(r));
            options.onProgress(d, n);
          }
          spend(2);
          const ms = performance.now() - t;
          log.runs.push({ n, options, ms });
          return { ...okReport(n), timing: { readMs: 0, planMs: 0, encodeMs: 0, sendMs: ms, reportMs: 0, totalMs: ms } };
        },
      };
      return b;
    },
    close: () => {},
  });
}

function fakeIo(stdin: string, tty: boolean, ipvs: object, rtnl?: object) {
  const x = { out: '', err: '', io: undefined as unknown as CliIO };
  x.io = {
    stdout: (t) => void (x.out += t),
    stderr: (t) => void (x.err += t),
    input: () => textChunks(stdin),
    isTTY: tty,
    openIpvs: () => ipvs as never,
    openRtnl: () => {
      if (!rtnl) throw new Error('no rtnl in this test');
      return rtnl as never;
    },
  };
  return x;
}

/** The progress values drawn on stderr: "\r[###...] done/total pct%". */
function drawn(err: string): { done: number; total: number; pct: number }[] {
  return [...err.matchAll(/\r\[[#.]{30}\] (\d+)\/(\d+) (\d+)%/g)].map((m) => ({ done: Number(m[1]), total: Number(m[2]), pct: Number(m[3]) }));
}

const rulesOf = (n: number) => Array.from({ length: n }, (_, i) => `-A -t 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:80 -s rr\n-a -t 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:80 -r 192.168.0.1:80 -m`).join('\n') + '\n';

function expectPhases(t: ApplyTiming): void {
  for (const k of ['readMs', 'planMs', 'sendMs', 'drainMs', 'totalMs'] as const) {
    expect(typeof t[k]).toBe('number');
    expect(Number.isFinite(t[k]) && t[k] >= 0).toBe(true);
  }
  // the phases run one after another inside the call: their sum cannot exceed the whole
  expect(t.readMs + t.planMs + t.sendMs + t.drainMs).toBeLessThanOrEqual(t.totalMs + 1e-6);
}

describe('apply() timing', () => {
  it('a dry run: every phase present, nothing sent, the read attributed to readMs', async () => {
    const log = { runs: [], readMs: [] as number[] };
    const current = { services: [svc(1), svc(2)] };
    const r = await apply(fakeIpvs(current, log) as unknown as Ipvs, { services: [svc(1), svc(2), svc(3)] }, { dryRun: true });
    expectPhases(r.timing);
    expect(r.timing.sendMs).toBe(0);
    expect(r.timing.drainMs).toBe(0);
    expect(r.timing.ipvs).toBeUndefined();
    expect(r.timing.readMs).toBeGreaterThanOrEqual(log.readMs[0]!);
  });

  it('a real run: the send phase holds the IPVS batch, whose own timing is passed on', async () => {
    const log = { runs: [] as { n: number; options: BatchRunOptions; ms: number }[], readMs: [] as number[] };
    const r = await apply(fakeIpvs({ services: [svc(1)] }, log) as unknown as Ipvs, { services: [svc(1), svc(2), svc(3)] });
    expectPhases(r.timing);
    expect(log.runs).toHaveLength(1);
    expect(r.timing.sendMs).toBeGreaterThanOrEqual(log.runs[0]!.ms);
    expect(r.timing.readMs).toBeGreaterThanOrEqual(log.readMs[0]!);
    expect(r.timing.ipvs).toMatchObject({ sendMs: log.runs[0]!.ms });
    expect(Object.keys(r.timing.ipvs!).sort()).toEqual(['encodeMs', 'planMs', 'readMs', 'reportMs', 'sendMs', 'totalMs']);
  });

  it('no progress callback: the IPVS batch is not asked for pieces', async () => {
    const log = { runs: [] as { n: number; options: BatchRunOptions; ms: number }[], readMs: [] as number[] };
    await apply(fakeIpvs({ services: [] }, log) as unknown as Ipvs, { services: Array.from({ length: 3000 }, (_, i) => svc(i, 1)) });
    expect(log.runs[0]!.options.onProgress).toBeUndefined();
  });
});

describe('progress pieces', () => {
  it('2% of the batch, at least 256 items', () => {
    expect(progressPiece(100)).toBe(256);
    expect(progressPiece(12_800)).toBe(256);
    expect(progressPiece(50_000)).toBe(1000);
    expect(progressPiece(500_001)).toBe(10_001);
    for (const n of [2000, 50_000, 1_000_000]) expect(Math.ceil(n / progressPiece(n))).toBeGreaterThanOrEqual(7);
  });

  it('the line is redrawn at each new per cent, erased at the end, and silent off a terminal', () => {
    const x = fakeIo('', true, {});
    const bar = progressLine(x.io, true);
    for (let d = 0; d <= 10_000; d += 50) bar.update(d, 10_000);
    bar.end();
    const v = drawn(x.err);
    expect(v.map((p) => p.pct)).toEqual(Array.from({ length: 101 }, (_, i) => i));
    expect(x.err.endsWith('\r\x1b[2K')).toBe(true);
    const small = fakeIo('', true, {});
    progressLine(small.io, true).update(5, PROGRESS_MIN - 1);
    expect(small.err).toBe('');
    const pipe = fakeIo('', false, {});
    const pb = progressLine(pipe.io, true);
    pb.update(5000, 10_000);
    pb.end();
    expect(pipe.err).toBe('');
  });
});

describe('lvskit -R / restore progress', () => {
  const n = 10_000; // 20,000 rules lines

  it('on a terminal: the batch is asked for progress, and the line shows several increasing values', async () => {
    const log = { runs: [] as { n: number; options: BatchRunOptions; ms: number }[], readMs: [] as number[] };
    const x = fakeIo(rulesOf(n), true, fakeIpvs({}, log));
    expect(await runCli(['-R'], x.io)).toBe(0);
    expect(log.runs).toHaveLength(1);
    expect(log.runs[0]!.n).toBe(2 * n);
    const v = drawn(x.err);
    expect(v.length).toBeGreaterThanOrEqual(10);
    for (let i = 1; i < v.length; i++) expect(v[i]!.done).toBeGreaterThan(v[i - 1]!.done);
    expect(new Set(v.map((p) => p.total))).toEqual(new Set([2 * n]));
    expect(x.err.endsWith('\r\x1b[2K')).toBe(true);
    expect(x.out).toBe('');
  });

  it('with --rollback too (one batch; its pieces are acknowledged in order)', async () => {
    const log = { runs: [] as { n: number; options: BatchRunOptions; ms: number }[], readMs: [] as number[] };
    const x = fakeIo(rulesOf(n), true, fakeIpvs({}, log));
    expect(await runCli(['restore', '--rollback'], x.io)).toBe(0);
    expect(log.runs[0]!.options.rollback).toBe(true);
    expect(drawn(x.err).length).toBeGreaterThanOrEqual(10);
  });

  it('through a pipe: no progress asked for, no byte of it written', async () => {
    const log = { runs: [] as { n: number; options: BatchRunOptions; ms: number }[], readMs: [] as number[] };
    const x = fakeIo(rulesOf(n), false, fakeIpvs({}, log));
    expect(await runCli(['-R'], x.io)).toBe(0);
    expect(log.runs[0]!.options.onProgress).toBeUndefined();
    expect(x.err).toBe('');
  });

  it('a small file on a terminal: no progress line', async () => {
    const log = { runs: [] as { n: number; options: BatchRunOptions; ms: number }[], readMs: [] as number[] };
    const x = fakeIo(rulesOf(10), true, fakeIpvs({}, log));
    expect(await runCli(['-R'], x.io)).toBe(0);
    expect(x.err).toBe('');
  });
});

describe('lvskit apply progress', () => {
  const desired = JSON.stringify({ services: Array.from({ length: 5000 }, (_, i) => svc(i, 1)) });

  it('on a terminal: increasing values as pieces are acknowledged, then the summary on a clean line', async () => {
    const log = { runs: [] as { n: number; options: BatchRunOptions; ms: number }[], readMs: [] as number[] };
    const x = fakeIo(desired, true, fakeIpvs({ services: [] }, log));
    expect(await runCli(['apply', '-'], x.io)).toBe(0);
    const v = drawn(x.err);
    expect(v.length).toBeGreaterThanOrEqual(10);
    for (let i = 1; i < v.length; i++) expect(v[i]!.done).toBeGreaterThan(v[i - 1]!.done);
    expect(x.out).toMatch(/10000 change\(s\) applied\n$/);
  });

  it('--json and --quiet on a terminal, and a pipe: no progress bytes, the JSON parses whole', async () => {
    for (const [args, tty] of [[['apply', '--json', '-'], true], [['apply', '-q', '-'], true], [['apply', '-'], false]] as [string[], boolean][]) {
      const log = { runs: [] as { n: number; options: BatchRunOptions; ms: number }[], readMs: [] as number[] };
      const x = fakeIo(desired, tty, fakeIpvs({ services: [] }, log));
      expect(await runCli([...args], x.io)).toBe(0);
      expect(x.err).toBe('');
      expect(log.runs[0]!.options.onProgress).toBeUndefined();
      if (args.includes('--json')) expect(JSON.parse(x.out)).toMatchObject({ ok: true, applied: 10_000 });
    }
  });

  it('routes: sent in acknowledged pieces of 2%, progress after each, stopping after a piece with a failure', async () => {
    const pieces: number[] = [];
    const progress: number[] = [];
    const failAt = 30_000; // the route whose piece fails
    const rtnl = Object.assign(Object.create(Rtnl.prototype) as object, {
      links: { list: async () => [{ index: 1, name: 'lo' }, { index: 2, name: 'd0' }] },
      addresses: { list: async () => [] },
      routes: {
        list: async () => [],
        addMany: async (specs: RouteSpec[]) => {
          const first = pieces.reduce((a, b) => a + b, 0);
          pieces.push(specs.length);
          const rep = okReport(specs.length);
          const bad = failAt - first;
          if (bad >= 0 && bad < specs.length) {
            rep.ok = false;
            rep.applied = rep.applied.filter((i) => i !== bad);
            rep.failed = [bad];
            rep.items[bad] = { index: bad, state: 'failed' };
          }
          return rep;
        },
      },
      close: () => {},
    });
    const routes = Array.from({ length: 50_000 }, (_, i) => ({ destination: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`, interface: 'd0' }));
    const err = await apply(rtnl as unknown as Rtnl, { routes }, { onProgress: (d) => progress.push(d) }).catch((e: unknown) => e as { result: { report: BatchReport } });
    expect(pieces.every((p) => p === 1000)).toBe(true);
    expect(pieces).toHaveLength(31); // pieces 0..30: the 31st holds route 30,000 and fails; nothing after it is sent
    const rep = (err as { result: { report: BatchReport } }).result.report;
    expect(rep.failed).toEqual([failAt]);
    expect(rep.notSent).toHaveLength(50_000 - 31_000);
    // 0 at the start, then after each acknowledged piece but the failed one, then the final count
    expect(progress.slice(0, 31)).toEqual([0, ...Array.from({ length: 30 }, (_, k) => (k + 1) * 1000)]);
  });
});

describe('apply() with assumeCurrent (the controller case)', () => {
  const withWeights = (w: number[]) => ({ services: w.map((x, i) => ({ ...svc(i, 1), destinations: [{ address: `192.168.0.${i + 1}`, port: 80, weight: x }] })) });

  it('reads nothing, plans only the change, and hands the assumed services to the IPVS batch', async () => {
    const log = { runs: [] as { n: number; options: BatchRunOptions; ms: number }[], readMs: [] as number[] };
    const last = withWeights([1, 1, 1, 1]);
    const r = await apply(fakeIpvs({ services: [] }, log) as unknown as Ipvs, withWeights([1, 5, 1, 1]), { assumeCurrent: last });
    expect(log.readMs).toHaveLength(0); // listAll never called
    expect(r.changes).toHaveLength(1);
    expect(r.changes[0]).toMatch(/^edit destination 192\.168\.0\.2:80 .*"weight":5/);
    expect(log.runs[0]!.options.knownServices).toHaveLength(4);
    expect(r.drift).toBeUndefined();
  });

  it('without assumeCurrent the batch still gets the services apply() read (no second read)', async () => {
    const log = { runs: [] as { n: number; options: BatchRunOptions; ms: number }[], readMs: [] as number[] };
    await apply(fakeIpvs(withWeights([1, 1]), log) as unknown as Ipvs, withWeights([1, 2]));
    expect(log.readMs).toHaveLength(1);
    expect(log.runs[0]!.options.knownServices).toHaveLength(2);
  });

  it('detectDrift reads the kernel, reports how it differs from the assumption, and plans against the kernel', async () => {
    const log = { runs: [] as { n: number; options: BatchRunOptions; ms: number }[], readMs: [] as number[] };
    const kernel = withWeights([1, 3, 1]); // someone set weight 3 behind the controller's back
    const r = await apply(fakeIpvs(kernel, log) as unknown as Ipvs, withWeights([1, 1, 1]), { assumeCurrent: withWeights([1, 1, 1]), detectDrift: true });
    expect(log.readMs).toHaveLength(1);
    expect(r.drift).toHaveLength(1);
    expect(r.drift![0]).toMatch(/^edit destination 192\.168\.0\.2:80 .*"weight":3/);
    expect(r.changes).toHaveLength(1); // back to weight 1
    const agree = await apply(fakeIpvs(kernel, log) as unknown as Ipvs, kernel, { assumeCurrent: kernel, detectDrift: true });
    expect(agree.drift).toEqual([]);
    expect(agree.changes).toEqual([]);
  });

  it('a bad assumeCurrent is refused by its field before anything is read', async () => {
    const log = { runs: [] as { n: number; options: BatchRunOptions; ms: number }[], readMs: [] as number[] };
    const e = (await apply(fakeIpvs({}, log) as unknown as Ipvs, withWeights([1]), { assumeCurrent: { services: [{ key: { protocol: 'tcp', address: 'nope', port: 80 } }] } as LvsState }).catch((x: unknown) => x)) as Error & { field?: string };
    expect(e).toBeInstanceOf(Error);
    expect(e.field).toMatch(/^options\.assumeCurrent\.services\[0\]/);
    expect(log.readMs).toHaveLength(0);
  });
});
