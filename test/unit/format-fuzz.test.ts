// Property-based fuzz of the ipvsadm rules-text parser (lib/format/ipvsadm.ts), the TypeScript
// decoder that the libFuzzer targets in native/fuzz cannot reach (docs/hardening.md, "Fuzzing").
//
//  1. Garbage in: the golden ipvsadm -S/-Sn texts mutated (byte flips, deletions, duplications,
//     splices, random unicode, very long lines, huge numbers, blank lines), random token soup and
//     random strings go through parseRules then servicesFromRules. The only acceptable outcomes are
//     a result or a RulesParseError whose line and column point inside the input. Whatever is
//     accepted must survive emitRules -> parseRules -> servicesFromRules unchanged.
//  2. Round trip: states as the parser produces them (fast-check generated) come back from
//     parseRules(emitRules(s)) -> servicesFromRules equal, after normalization.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  emitRules,
  normalizeDestination,
  normalizeService,
  parseRules,
  RulesParseError,
  serviceId,
  destinationId,
  servicesFromRules,
  type NameResolver,
  type RulesCommand,
  type StateService,
} from '../../lib/format/index.js';
import { canonicalAddress } from '../../lib/rtnl/ip.js';
import { SCHEDULERS, type DestinationSpec, type Protocol, type ServiceKey, type ServiceSpec } from '../../lib/ipvs/types.js';
import { fixture } from '../helpers/ipvsadm-fixtures.js';

// Runs per property; the whole file takes a few seconds on 2 cores (see docs/hardening.md).
const FUZZ_RUNS = 20_000;
const ROUNDTRIP_RUNS = 5000;
const MAX_INPUT = 40_000; // characters: every input is bounded, so no run can hang on size

/** A fixed resolver, so results do not depend on the machine's /etc/hosts and /etc/services. */
const resolver: NameResolver = {
  hostToAddress: (n) => ({ localhost: '127.0.0.1', web: '10.0.0.1', db: '10.1.0.2' })[n],
  serviceToPort: (n) => ({ http: 80, https: 443, 'http-alt': 8080, domain: 53, mdns: 5353, sip: 5060 })[n],
  addressToHost: () => undefined,
  portToService: () => undefined,
};

const SEEDS = ['full.S', 'full.Sn', 'quirks.S', 'quirks.Sn', 'full.commands', 'quirks.commands', 'full.restored.Sn', 'quirks.restored.Sn'].map(fixture);

/** Tokens worth splicing in: every option, values at and beyond their limits, odd addresses. */
const DICT = [
  '-A', '-E', '-D', '-a', '-e', '-d', '-C', '-R', '-S', '-L', '-Z', '-h', '-v', '--set', '--start-daemon', '--stop-daemon',
  '-t', '-u', '-f', '-6', '--sctp-service', '--tcp-service=', '-s', '-p', '-M', '--pe', '-o', '-b', '-r', '-g', '-m', '-i', '-w', '-x', '-y',
  '--tun-type', '--tun-port', '--tun-nocsum', '--tun-csum', '--tun-remcsum', '--syncid', '--mcast-group', '--mcast-port', '--mcast-ttl',
  '--mcast-interface', '--sync-maxlen', '-n', '--', '-', '--=', '-Ln', '-t10.0.0.1:80', '-p-1', 'ipvsadm', '#', '#x', 'master', 'backup',
  '10.0.0.1', '10.0.0.1:80', '0x0a.1', '012.0.0.1', '4294967295', '4294967296', '[::1]:80', '[::ffff:1.2.3.4]:0', '[fe80::1%eth0]:1',
  '[::1]', '[::1]:', '::', ':::', '1.2.3.4:', ':80', 'web:http', 'localhost:domain', '0', '-0', '+1', '-2147483648', '2147483647', '2147483648',
  '99999999999999999999999999', '1e3', '0x10', 'NaN', 'Infinity', '65535', '65536', '2678400', '2678401', 'sh-port,mh-port', 'flag-1,,flag-3',
  'gue', 'gre', 'ipip', 'sip', 'rr', 'mh', 'sh', '-srr', '-s=rr', '-s#x', '-sipvsadm', '--scheduler=', '--scheduler=wlc', '--pe=sip', '--pe=#y', '--pe=ipvsadm',
  '--pe=', '-p360', '-p=30', '-w5', '-w=5', 'aaaaaaaaaaaaaaa', 'aaaaaaaaaaaaaaaa', 'RR', '255.255.255.0', '128', '129', '\u00a0', '\u2028', '\u0000', '\ufeff', '\ud800', '😀',
];

const hugeNumber = fc.oneof(
  fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }).map(String),
  fc.constantFrom('1e308', '-0', '00000000000000000080', '0x' + 'f'.repeat(40), '9'.repeat(400)),
);
const longLine = fc.tuple(fc.constantFrom('-A -t 10.0.0.1:80 -s ', '-a -t 10.0.0.1:80 -r ', '', '-w ', '#'), fc.integer({ min: 1000, max: 12_000 }), fc.constantFrom('x', '9', ' ', '-g ', '::', '.'))
  .map(([p, n, c]) => p + c.repeat(Math.ceil(n / c.length)));
const blankLines = fc.array(fc.constantFrom('', ' ', '\t', '\r', ' \t \r', '\u000b', '\f'), { minLength: 1, maxLength: 5 }).map((l) => l.join('\n') + '\n');
const piece = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...DICT) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: hugeNumber },
  { weight: 1, arbitrary: blankLines },
  { weight: 1, arbitrary: fc.constantFrom(' ', '\n', '\t', '\r\n', ':', '[', ']', ',', '.', '=') },
);

type Mutation = (s: string) => string;
const at = (s: string, f: number) => Math.floor(f * (s.length + 1));
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // flip one UTF-16 unit: a bit, or a random code unit (lone surrogates included)
  fc.tuple(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.integer({ min: 0, max: 15 }), fc.boolean(), fc.integer({ min: 0, max: 0xffff })).map(
    ([f, bit, random, unit]): Mutation => (s) => {
      if (s === '') return String.fromCharCode(unit);
      const i = Math.min(s.length - 1, at(s, f));
      const c = random ? unit : s.charCodeAt(i) ^ (1 << (bit % 8));
      return s.slice(0, i) + String.fromCharCode(c) + s.slice(i + 1);
    },
  ),
  // delete a range
  fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 200 })).map(([f, n]): Mutation => (s) => s.slice(0, at(s, f)) + s.slice(at(s, f) + n)),
  // duplicate a range
  fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 300 }), fc.double({ min: 0, max: 1, noNaN: true })).map(
    ([f, n, g]): Mutation => (s) => {
      const chunk = s.slice(at(s, f), at(s, f) + n);
      return s.slice(0, at(s, g)) + chunk + s.slice(at(s, g));
    },
  ),
  // splice in a dictionary token, random text, a huge number, blank lines
  fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), piece).map(([f, p]): Mutation => (s) => s.slice(0, at(s, f)) + p + s.slice(at(s, f))),
  // splice a random part of another fixture
  fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(SEEDS.length - 1), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 400 })).map(
    ([f, k, g, n]): Mutation => (s) => {
      const o = SEEDS[k]!;
      return s.slice(0, at(s, f)) + o.slice(at(o, g), at(o, g) + n) + s.slice(at(s, f));
    },
  ),
  // a very long line at a line boundary
  fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), longLine).map(([f, l]): Mutation => (s) => {
    const nl = s.indexOf('\n', at(s, f));
    const i = nl < 0 ? s.length : nl + 1;
    return s.slice(0, i) + l + '\n' + s.slice(i);
  }),
  // swap two lines (order matters to servicesFromRules)
  fc.tuple(fc.nat(), fc.nat()).map(([a, b]): Mutation => (s) => {
    const ls = s.split('\n');
    const i = a % ls.length;
    const j = b % ls.length;
    [ls[i], ls[j]] = [ls[j]!, ls[i]!];
    return ls.join('\n');
  }),
);

// a few lines of a fixture (so a single mutation does not always sink a 50-line file), then mutations
const SEED_LINES = SEEDS.flatMap((s) => s.split('\n'));
const seedText = fc.oneof(fc.constantFrom(...SEEDS), fc.array(fc.constantFrom(...SEED_LINES), { minLength: 1, maxLength: 8 }).map((ls) => ls.join('\n')));
const mutated = fc.tuple(seedText, fc.array(mutation, { minLength: 0, maxLength: 8 })).map(([seed, ms]) => ms.reduce((s, m) => m(s), seed));
// lines that start like commands, followed by options and values in any order
const COMMANDS = ['-A', '-E', '-D', '-a', '-e', '-d', '-C', '-Z', '--set', '--start-daemon', '--stop-daemon', '-L', '-S', 'ipvsadm -A'];
const soupLine = fc.tuple(fc.constantFrom(...COMMANDS), fc.array(piece, { maxLength: 14 })).map(([c, ts]) => [c, ...ts].join(' '));
const tokenSoup = fc.array(fc.oneof(soupLine, fc.array(piece, { maxLength: 14 }).map((ts) => ts.join(' '))), { maxLength: 30 }).map((ls) => ls.join('\n'));
const input = fc
  .oneof(
    { weight: 5, arbitrary: mutated },
    { weight: 3, arbitrary: tokenSoup },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 300 }) },
    { weight: 1, arbitrary: blankLines },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', '\n', '\r\n', '\n\n\n', '\t \t') },
  )
  .map((s) => s.slice(0, MAX_INPUT));

/** The line as parseRules reports it: split on '\n', one trailing '\r' dropped. */
const lineOf = (text: string, n: number) => text.split('\n')[n - 1]!.replace(/\r$/, '');

function checkError(e: unknown, text: string, fromFold: boolean): void {
  if (!(e instanceof RulesParseError)) throw new Error(`not a RulesParseError: ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`);
  const lines = text.split('\n');
  expect(Number.isInteger(e.line) && e.line >= 1 && e.line <= lines.length, `line ${e.line} of ${lines.length}`).toBe(true);
  // the parser's errors and servicesFromRules' alike: the line's text, the column of a token in it
  const lt = lineOf(text, e.line);
  expect(e.lineText).toBe(lt);
  expect(Number.isInteger(e.column) && e.column >= 1 && e.column <= lt.length, `column ${e.column} of ${lt.length}`).toBe(true);
  // the column points at a token start
  expect(lt[e.column - 1]).not.toMatch(/[ \t\r]/);
  if (e.column > 1) expect(lt[e.column - 2]).toMatch(/[ \t\r\n]/);
  if (fromFold) {
    // at the service's or the real server's token
    const token = lt.slice(e.column - 1).split(/[ \t\r]/)[0]!;
    expect(token, `${e.reason} at '${token}'`).not.toBe('');
  }
  expect(e.reason.length).toBeGreaterThan(0);
}

/** Services in a comparable form: normalized, sorted, thresholds dropped (-S does not write them). */
function comparable(services: readonly StateService[]) {
  return services
    .map((s) => ({
      id: serviceId(normalizeService(s).key),
      n: normalizeService(s),
      dests: (s.destinations ?? [])
        .map((d) => ({ id: destinationId(d), n: { ...normalizeDestination(d), upperThreshold: 0, lowerThreshold: 0 } }))
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

describe('rules text fuzz: parseRules / servicesFromRules', () => {
  it('seeds parse as they are (sanity)', () => {
    for (const s of SEEDS) servicesFromRules(parseRules(s, { resolver }));
  });

  it(`mutated and random input: a result or a RulesParseError inside the input (${FUZZ_RUNS} runs)`, () => {
    fc.assert(
      fc.property(input, (text) => {
        let cmds: RulesCommand[];
        try {
          cmds = parseRules(text, { resolver });
        } catch (e) {
          checkError(e, text, false);
          return;
        }
        const nLines = text.split('\n').length;
        for (const c of cmds) expect(c.line >= 1 && c.line <= nLines).toBe(true);
        let services: StateService[];
        try {
          services = servicesFromRules(cmds);
        } catch (e) {
          checkError(e, text, true);
          return;
        }
        // whatever was accepted (glued values such as '-srr' and '--pe=sip' included) is written
        // back and read back the same
        const again = servicesFromRules(parseRules(emitRules(services), { resolver }));
        expect(comparable(again)).toEqual(comparable(services));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});

// ---- round trip over generated states ------------------------------------------------------

const MAX_TIMEOUT = 86400 * 31;
const v4 = fc.ipV4().map((a) => canonicalAddress(a)!);
const v6 = fc
  .oneof(
    fc.ipV6(),
    // runs of zeros and the IPv4-compatible/mapped forms glibc's inet_ntop writes specially
    fc.tuple(fc.array(fc.constantFrom(0, 0, 0, 1, 0xffff, 0xfe80, 0x2001), { minLength: 8, maxLength: 8 })).map(([w]) => w.map((x) => x.toString(16)).join(':')),
    fc.tuple(fc.constantFrom('::', '::ffff:'), fc.ipV4()).map(([p, a]) => p + a),
  )
  .map((a) => canonicalAddress(a)!);
const port = fc.integer({ min: 0, max: 65535 });

const tunnel = fc.oneof(
  fc.constant({ type: 'ipip' as const }),
  // ipvsadm's tunnel table: gue takes one of nocsum/csum/remcsum, gre one of nocsum/csum
  fc.tuple(fc.constantFrom('gue' as const, 'gre' as const), fc.integer({ min: 1, max: 65535 }), fc.constantFrom('none', 'csum', 'remcsum')).map(([type, p, c0]) => {
    const c = type === 'gre' && c0 === 'remcsum' ? 'none' : c0;
    const t: NonNullable<DestinationSpec['tunnel']> = type === 'gue' ? { type, port: p } : { type };
    if (c === 'csum') t.checksum = true;
    if (c === 'remcsum') t.remoteChecksum = true;
    return t;
  }),
);

const service: fc.Arbitrary<StateService> = fc
  .record({
    key: fc.oneof(
      fc.record({ protocol: fc.constantFrom<Protocol>('tcp', 'udp', 'sctp'), address: fc.oneof(v4, v6), port }),
      fc.record({ fwmark: fc.integer({ min: 1, max: 0xffffffff }), family: fc.constantFrom('inet' as const, 'inet6' as const) }),
    ),
    scheduler: fc.constantFrom(...SCHEDULERS),
    persistent: fc.option(fc.record({ timeout: fc.integer({ min: 1, max: MAX_TIMEOUT }), v4mask: fc.option(v4), v6mask: fc.option(fc.integer({ min: 1, max: 128 })) })),
    onePacket: fc.boolean(),
    schedFallback: fc.boolean(),
    schedPort: fc.boolean(),
    sched3: fc.boolean(),
    pe: fc.option(fc.constantFrom('sip', 'x', 'pe0')),
    dests: fc.array(
      fc.record({ v6: fc.boolean(), a4: v4, a6: v6, port, forward: fc.constantFrom('route' as const, 'masq' as const, 'tunnel' as const), weight: fc.integer({ min: 0, max: 2147483647 }), tunnel }),
      { maxLength: 6 },
    ),
  })
  .map((r) => {
    const fwmark = 'fwmark' in r.key;
    const family = fwmark ? (r.key as { family: 'inet' | 'inet6' }).family : (r.key as { address: string }).address.includes(':') ? 'inet6' : 'inet';
    const svcPort = 'port' in r.key ? r.key.port : 0;
    const spec: ServiceSpec = { key: { ...r.key, family } as ServiceKey, scheduler: r.scheduler };
    const flags: NonNullable<ServiceSpec['flags']> = {};
    if (r.onePacket && (fwmark || (r.key as { protocol: Protocol }).protocol === 'udp')) flags.onePacket = true;
    if (r.schedFallback) flags.schedFallback = true;
    if (r.schedPort) flags.schedPort = true;
    if (r.sched3 && r.scheduler !== 'sh' && r.scheduler !== 'mh') flags.sched3 = true;
    if (Object.keys(flags).length) spec.flags = flags;
    // ipvsadm refuses a zero port on a non-persistent, non-fwmark service
    const p = r.persistent ?? (!fwmark && svcPort === 0 ? { timeout: 360, v4mask: null, v6mask: null } : null);
    if (p) {
      spec.persistence = { timeout: p.timeout };
      const m = family === 'inet' ? p.v4mask : p.v6mask;
      if (m !== null) spec.persistence.netmask = m;
    }
    if (r.pe) spec.persistenceEngine = r.pe;
    const dests = new Map<string, DestinationSpec>();
    for (const d of r.dests) {
      // only a tunnel may cross families
      const dv6 = d.forward === 'tunnel' ? d.v6 : family === 'inet6';
      const address = dv6 ? d.a6 : d.a4;
      // a DR or tunnel destination of a non-fwmark service has the service's port
      const dport = !fwmark && d.forward !== 'masq' ? svcPort : d.port;
      const dest: DestinationSpec = { address, port: dport, forward: d.forward, weight: d.weight };
      if (dv6 !== (family === 'inet6')) dest.family = dv6 ? 'inet6' : 'inet';
      if (d.forward === 'tunnel') dest.tunnel = d.tunnel;
      dests.set(destinationId(dest), dest);
    }
    return { ...spec, destinations: [...dests.values()] };
  });

const state = fc.uniqueArray(service, { maxLength: 8, selector: (s) => serviceId(s.key) });

describe('rules text round trip: parseRules(emitRules(s))', () => {
  it(`generated states come back equal (${ROUNDTRIP_RUNS} runs)`, () => {
    fc.assert(
      fc.property(state, fc.boolean(), (services, nosort) => {
        const text = emitRules(services, { nosort });
        const back = servicesFromRules(parseRules(text, { resolver }));
        expect(comparable(back)).toEqual(comparable(services));
      }),
      { numRuns: ROUNDTRIP_RUNS },
    );
  });
});
