// Issue 14: an empty or cut-short desired state never empties the load balancer by default;
// reports and plans stay true at any size (no spread of an unbounded array into a call); input is
// read in bounded pieces; echoed input is escaped and cut.
import { describe, expect, it } from 'vitest';
import { planChanges, PlanError, describeOp, DEFAULT_MAX_DELETE_SHARE } from '../../lib/apply/plan.js';
import type { LvsState, StateService } from '../../lib/format/state.js';
import { runCli } from '../../lib/cli/run.js';
import { readBounded, InputError, MAX_LINE_BYTES } from '../../lib/cli/input.js';
import { parseRules, RulesParseError } from '../../lib/format/ipvsadm.js';
import { escapeControls, excerpt } from '../../lib/format/excerpt.js';
import { parseStateJson } from '../../lib/format/state.js';
import { ipv6ToWords } from '../../lib/hash/addr.js';
import { ValidationError } from '../../lib/errors.js';
import { fakeCli, textChunks } from '../helpers/cli.js';

const svc = (i: number, dests = 2): StateService => ({
  key: { protocol: 'tcp', address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 80 },
  scheduler: 'rr',
  destinations: Array.from({ length: dests }, (_, j) => ({ address: `192.168.${j}.${(i % 250) + 1}`, port: 80, weight: 1 })),
});
const services = (n: number, dests = 2) => Array.from({ length: n }, (_, i) => svc(i, dests));

function refusal(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof PlanError) return e.refusal;
    throw e;
  }
  return undefined;
}

describe('deletion guards (PlanOptions.allowWipe, maxDeleteShare)', () => {
  it('refuses a desired state without services while the kernel has some; allowWipe lets it through', () => {
    const cur: LvsState = { services: services(3) };
    expect(refusal(() => planChanges(cur, { services: [] }))).toBe('wipe');
    expect(() => planChanges(cur, { services: [] })).toThrow(/refusing to delete all 3 IPVS service\(s\).*--allow-wipe/);
    const plan = planChanges(cur, { services: [] }, { allowWipe: true });
    expect(plan.ops.filter((o) => o.op === 'deleteService')).toHaveLength(3);
    // nothing in the kernel: an empty desired state is simply nothing to do
    expect(planChanges({ services: [] }, { services: [] }).ops).toEqual([]);
    // a state that does not manage services leaves them alone
    expect(planChanges(cur, {}).ops).toEqual([]);
  });

  it('refuses deleting more than the share of what exists, per kind; the option moves the line', () => {
    const cur: LvsState = { services: services(10) };
    const keep4: LvsState = { services: services(10).slice(0, 4) };
    expect(DEFAULT_MAX_DELETE_SHARE).toBe(0.5);
    expect(refusal(() => planChanges(cur, keep4))).toBe('mass-delete');
    expect(() => planChanges(cur, keep4)).toThrow(/6 of 10 IPVS service\(s\) \(60%.*--max-delete-share 0\.6/);
    expect(refusal(() => planChanges(cur, keep4, { maxDeleteShare: 0.6 }))).toBeUndefined();
    expect(refusal(() => planChanges(cur, { services: services(10).slice(0, 5) }))).toBeUndefined(); // exactly half
    // destinations count too, those of deleted services included
    const thin: LvsState = { services: services(4, 4).map((s) => ({ ...s, destinations: s.destinations!.slice(0, 1) })) };
    expect(() => planChanges({ services: services(4, 4) }, thin, { allowEmpty: true })).toThrow(/12 of 16 IPVS destination\(s\)/);
    // routes: 3 of 4 managed routes
    const routes = (n: number) => Array.from({ length: n }, (_, i) => ({ destination: `198.51.${i}.0/24`, gateway: '10.0.0.1' }));
    expect(() => planChanges({ routes: routes(4) }, { routes: routes(1) })).toThrow(/3 of 4 route\(s\)/);
    expect(planChanges({ routes: routes(4) }, { routes: routes(1) }, { allowWipe: true }).ops).toHaveLength(3);
  });

  it('one object of a kind may always go, so small tables can still change', () => {
    const one: LvsState = { services: services(1) };
    const other: LvsState = { services: [svc(7)] };
    expect(planChanges(one, other).ops.map((o) => o.op)).toContain('deleteService');
    expect(refusal(() => planChanges({ services: services(2) }, { services: [svc(0)] }))).toBeUndefined();
  });

  it('re-adds for destination order do not count as deletions', () => {
    const s = (addrs: string[]): StateService => ({ key: { protocol: 'tcp', address: '10.0.0.1', port: 80 }, scheduler: 'mh', destinations: addrs.map((a) => ({ address: a, port: 80 })) });
    // listed out of canonical order: strict order re-adds most of them
    const plan = planChanges({ services: [s(['10.1.0.4', '10.1.0.3', '10.1.0.2', '10.1.0.1'])] }, { services: [s(['10.1.0.1', '10.1.0.2', '10.1.0.3', '10.1.0.4'])] });
    expect(plan.ops.filter((o) => o.op === 'deleteDestination').length).toBeGreaterThan(2);
  });

  it('rejects a maxDeleteShare outside 0..1', () => {
    expect(() => planChanges({}, {}, { maxDeleteShare: 2 })).toThrow(/maxDeleteShare must be a number in 0\.\.1, got 2/);
    expect(() => planChanges({}, {}, { maxDeleteShare: Number.NaN })).toThrow(PlanError);
  });

  it('the CLI refuses an empty rules file, also in --dry-run, with exit 2 and the way out', async () => {
    for (const args of [['apply', '-'], ['apply', '-', '--dry-run'], ['diff', '-']]) {
      for (const text of ['', '# only a comment\n', '\n\n']) {
        const x = fakeCli(text, { services: services(3) });
        expect(await runCli(args, x.io), args.join(' ')).toBe(2);
        expect(x.err).toMatch(/refusing to delete all 3 IPVS service\(s\)/);
        expect(x.sent).toEqual([]);
      }
    }
    const x = fakeCli('', { services: services(3) });
    expect(await runCli(['apply', '-', '--dry-run', '--allow-wipe'], x.io)).toBe(0);
    expect(x.out.match(/^would delete service/gm)).toHaveLength(3);
    const y = fakeCli('', { services: services(10) });
    expect(await runCli(['apply', '-', '--dry-run', '--max-delete-share', '150%'], y.io)).toBe(2);
    expect(y.err).toMatch(/--max-delete-share takes a share/);
  });
});

describe('sizes no call stack can hold', () => {
  it('plans 1,000,000 changes (plan only) and 200,000 service deletes', () => {
    const routes = Array.from({ length: 1_000_000 }, (_, i) => ({ destination: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`, gateway: '192.0.2.1' }));
    const plan = planChanges({ routes: [] }, { routes });
    expect(plan.ops).toHaveLength(1_000_000);
    expect(describeOp(plan.ops[999_999]!)).toBe('add route 10.15.66.63/32 via 192.0.2.1');
    const del = planChanges({ services: services(200_000, 0) }, { services: [] }, { allowWipe: true });
    expect(del.ops).toHaveLength(200_000);
    expect(del.ops.every((o) => o.op === 'deleteService')).toBe(true);
  });

  it('an IPv6 address of 200,000 groups is refused by validation, not a stack overflow', () => {
    expect(() => ipv6ToWords('0:'.repeat(200_000) + '0')).toThrow(ValidationError);
    expect(() => ipv6ToWords('::' + '0:'.repeat(200_000) + '0')).toThrow(ValidationError);
  });
});

describe('bounded input', () => {
  async function* zeros(limit: number): AsyncIterable<Uint8Array> {
    const z = new Uint8Array(65536);
    for (let n = 0; n < limit; n++) yield z; // bounded: a test never spins forever
  }

  it('stops reading /dev/zero-like input at the line limit', async () => {
    let read = 0;
    async function* counted() {
      for await (const c of zeros(10_000)) {
        read++;
        yield c;
      }
    }
    const e = await readBounded(counted(), 'stdin').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).line).toBe(1);
    expect((e as Error).message).toBe(`stdin:1: line is longer than ${MAX_LINE_BYTES} bytes (the longest rules line read); nothing was applied`);
    expect(read).toBeLessThanOrEqual(2);
  });

  it('stops at the size limit, whatever the lines; JSON is held to the size limit only', async () => {
    const e = await readBounded(zeros(100), 'f.json', { maxBytes: 1 << 20, maxLineBytes: 1 << 30 }).catch((x: unknown) => x);
    expect((e as Error).message).toMatch(/^f\.json: input is larger than 1048576 bytes/);
    const json = '{"services":[' + Array.from({ length: 3000 }, () => '{}').join(',') + ']}';
    expect(json.length).toBeGreaterThan(0); // one line, longer than a rules line may be
    expect(await readBounded(textChunks(' \n' + json + 'x'.repeat(MAX_LINE_BYTES)), 'f.json')).toContain('"services"');
    const lines = `-A -t 10.0.0.1:80 -s rr\n${'#'.repeat(MAX_LINE_BYTES + 1)}\n`;
    const e2 = await readBounded(textChunks(lines), 'r').catch((x: unknown) => x);
    expect((e2 as InputError).line).toBe(2);
  });

  it('lvskit -R and apply on endless zeros end with exit 2 and one line, having read little', async () => {
    for (const args of [['-R'], ['apply', '-'], ['restore']]) {
      let chunks = 0;
      const x = fakeCli('', { services: [] });
      x.io.input = () =>
        (async function* () {
          for await (const c of zeros(100_000)) {
            chunks++;
            yield c;
          }
        })();
      expect(await runCli(args, x.io)).toBe(2);
      expect(x.err).toMatch(/^lvskit: stdin:1: line is longer than 65536 bytes/);
      expect(x.err.length).toBeLessThan(300);
      expect(chunks).toBeLessThanOrEqual(2);
    }
  });
});

describe('echoed input is escaped and cut', () => {
  it('a rules line with terminal escapes reaches the message escaped', () => {
    const e = (() => {
      try {
        parseRules('-A -t 10.0.0.1:80 \x1b[31m-s rr\x07\n', { source: 'r' });
      } catch (x) {
        return x as RulesParseError;
      }
    })();
    expect(e).toBeInstanceOf(RulesParseError);
    expect(e!.message).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(e!.message).toContain('\\x1b[31m');
    expect(e!.lineText).toContain('\x1b'); // the raw line stays available to code
  });

  it('a 1 MB line echoes a short excerpt with the caret in place', () => {
    const line = '-A -t 10.0.0.1:80 -s rr ' + 'x'.repeat(1_000_000);
    const e = (() => {
      try {
        parseRules(line, { source: 'big' });
      } catch (x) {
        return x as RulesParseError;
      }
    })();
    expect(e).toBeInstanceOf(RulesParseError);
    expect(e!.message.length).toBeLessThan(800);
    const [, text, caret] = e!.message.split('\n');
    expect(text!.length).toBeLessThan(100);
    expect(caret!.indexOf('^')).toBeGreaterThan(1);
  });

  it('excerpt keeps the caret on the character at fault', () => {
    const ex = excerpt('a\x1bb' + 'c'.repeat(300), 3);
    expect(ex.text.slice(0, 6)).toBe('a\\x1bb');
    expect(ex.text[ex.caret - 1]).toBe('b');
    const far = excerpt('y'.repeat(500) + 'Z' + 'y'.repeat(500), 501);
    expect(far.text[far.caret - 1]).toBe('Z');
    expect(far.text.startsWith('...') && far.text.endsWith('...')).toBe(true);
    expect(escapeControls('\u009b\ud800')).toBe('\\x9b\\u{d800}');
  });

  it('a JSON state with escapes or a huge value is echoed escaped and short', () => {
    const e = (() => {
      try {
        parseStateJson('{"services": \x1b[2J' + 'q'.repeat(100_000) + '}', 'f');
      } catch (x) {
        return x as Error;
      }
    })();
    expect(e!.message).not.toMatch(/\x1b/);
    expect(e!.message.length).toBeLessThan(800);
    expect(new ValidationError('name', 'z'.repeat(1_000_000), 'is bad').message.length).toBeLessThan(400);
  });
});
