// The lvskit CLI without a kernel: verbs, --netns, help for every verb, usage errors and exit
// codes, and the ipvsadm -L listing against the real ipvsadm's output (test/fixtures/ipvsadm).
import { describe, expect, it } from 'vitest';
import { runCli, takeNetns, verbOf, desiredFromText, type CliIO } from '../../lib/cli/run.js';
import { HELP, VERBS } from '../../lib/cli/help.js';
import { formatListing } from '../../lib/cli/list.js';
import { IPVSADM_OPTIONS, filesResolver, parseIpvsadmArgs, servicesFromRules, normalizeService, type StateService } from '../../lib/format/index.js';
import type { Service } from '../../lib/ipvs/types.js';
import { commandLines, fixture, inDumpOrder } from '../helpers/ipvsadm-fixtures.js';
import { inputOf } from '../helpers/cli.js';

function io(stdin = ''): CliIO & { out: string; err: string; opened: string[] } {
  const o = {
    out: '',
    err: '',
    opened: [] as string[],
    stdout(t: string) {
      o.out += t;
    },
    stderr(t: string) {
      o.err += t;
    },
    input: inputOf(() => stdin, fixture),
    isTTY: false,
    openIpvs(ns: string | undefined): never {
      o.opened.push(`ipvs ${ns}`);
      throw new Error('no kernel in unit tests');
    },
    openRtnl(ns: string | undefined): never {
      o.opened.push(`rtnl ${ns}`);
      throw new Error('no kernel in unit tests');
    },
  };
  return o;
}

describe('verbs and global options', () => {
  it('--netns is taken from anywhere', () => {
    expect(takeNetns(['-Ln', '--netns', 'lb1'])).toEqual({ netns: 'lb1', rest: ['-Ln'] });
    expect(takeNetns(['--netns=lb2', 'apply', 'f.json'])).toEqual({ netns: 'lb2', rest: ['apply', 'f.json'] });
    expect(() => takeNetns(['--netns'])).toThrow('--netns needs a namespace name');
  });

  it('an option first means an ipvsadm command line; no argument lists', () => {
    expect(verbOf(['-Ln'])).toEqual({ verb: 'ipvsadm', args: ['-Ln'] });
    expect(verbOf([])).toEqual({ verb: 'ipvsadm', args: ['-L'] });
    expect(verbOf(['apply', 'x'])).toEqual({ verb: 'apply', args: ['x'] });
    expect(verbOf(['--help'])).toEqual({ verb: 'help', args: [] });
    expect(() => verbOf(['frobnicate'])).toThrow("unknown verb 'frobnicate'");
  });

  it('the --netns namespace reaches the handle', async () => {
    const x = io();
    expect(await runCli(['--netns', 'lb7', '-Sn'], x)).toBe(1);
    expect(x.opened).toEqual(['ipvs lb7']);
  });
});

describe('help', () => {
  for (const verb of VERBS) {
    it(`${verb}: 'lvskit help ${verb}' and '--help' print its usage`, async () => {
      const a = io();
      expect(await runCli(['help', verb], a)).toBe(0);
      expect(a.out).toContain('usage: lvskit');
      expect(a.out).toContain('--netns NAME');
      if (verb !== 'ipvsadm' && verb !== 'help') {
        const b = io();
        expect(await runCli([verb, '--help'], b)).toBe(0);
        expect(b.out).toBe(HELP[verb]);
      }
    });
  }

  it('nft and conntrack are verbs: bad usage exits 2 before any kernel is opened', async () => {
    const a = io();
    expect(await runCli(['conntrack', '-L', '--dport', 'x'], a)).toBe(2);
    expect(a.err).toMatch(/--dport needs a port/);
    const b = io();
    expect(await runCli(['nft'], b)).toBe(2);
    expect(b.out).toContain('usage: lvskit [--netns NS] nft');
    expect([...a.opened, ...b.opened]).toEqual([]);
  });

  it('every ipvsadm option is in the ipvsadm help', () => {
    for (const o of IPVSADM_OPTIONS) {
      if (['list', 'sort', 'help', 'version', 'ipv6', 'clear', 'numeric', 'connection'].includes(o.long)) continue;
      expect(HELP.ipvsadm, o.long).toMatch(new RegExp(`--${o.long}\\b|-${o.short ?? '@'}\\b`));
    }
  });

  it('-h and -v work as in ipvsadm', async () => {
    const a = io();
    expect(await runCli(['-h'], a)).toBe(0);
    expect(a.out).toContain('--add-service');
    const b = io();
    expect(await runCli(['-v'], b)).toBe(0);
    expect(b.out).toMatch(/^lvskit \S+ \(ipvsadm 1\.31 compatible commands\)\n$/);
  });
});

describe('usage errors exit 2 before any kernel access', () => {
  const cases: [string[], string][] = [
    [['-A', '-t', '10.0.0.1:80', '-w', '3'], "Illegal 'weight' option with the 'add-service' command"],
    [['-a', '-t', '10.0.0.1:80'], "You need to supply the 'real-server' option for the 'add-server' command"],
    [['apply'], 'apply takes one FILE'],
    [['apply', 'x', '--order', 'random'], '--order must be auto, strict or add'],
    [['apply', 'x', '--frob'], "Unknown option '--frob'"],
    [['route', 'add', '10.0.0.0/8', 'gw', '1.2.3.4'], "unknown keyword 'gw'"],
    [['addr', 'add', '10.0.0.1/32'], "addr add needs 'dev IFNAME'"],
    [['help', 'nope'], "no help for 'nope'"],
  ];
  for (const [argv, msg] of cases) {
    it(argv.join(' '), async () => {
      const x = io();
      expect(await runCli(argv, x)).toBe(2);
      expect(x.err).toContain(msg);
      expect(x.opened).toEqual([]);
    });
  }

  it('an unknown scheduler in a rules file is a parse error with FILE:LINE:COLUMN, before any kernel is opened', async () => {
    for (const argv of [['apply', 'lb.rules'], ['apply', '--dry-run', 'lb.rules']]) {
      const x = io();
      x.input = inputOf('', (p) => (p === 'lb.rules' ? '-A -t 1.2.3.4:80 -s rr\n-A -t 1.2.3.4:81 -s foo\n' : fixture(p)));
      expect(await runCli(argv, x), argv.join(' ')).toBe(2);
      expect(x.err).toContain("lb.rules:2:21: -s: unknown scheduler 'foo'");
      expect(x.opened).toEqual([]);
    }
    const r = io('-A -t 1.2.3.4:80 -s foo\n');
    expect(await runCli(['-R'], r)).toBe(2);
    expect(r.err).toContain("stdin:1:21: -s: unknown scheduler 'foo'");
    expect(r.opened).toEqual([]);
  });

  it('-R with a bad line: line, column, caret, nothing applied', async () => {
    const x = io('-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.1.0.1 -w lots\n');
    expect(await runCli(['-R'], x)).toBe(2);
    expect(x.err).toContain('stdin:2:34: illegal weight specified');
    expect(x.err).toContain('nothing was applied');
    expect(x.opened).toEqual([]);
  });
});

describe('desired state files', () => {
  it('rules text is read as the services it builds; JSON as a state', () => {
    expect(desiredFromText('-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.1.0.1 -w 2\n', 'f')).toEqual({
      services: [{ key: { protocol: 'tcp', address: '10.0.0.1', port: 80, family: 'inet' }, scheduler: 'rr', destinations: [{ address: '10.1.0.1', port: 80, forward: 'route', weight: 2 }] }],
    });
    expect(desiredFromText('{"services": []}', 'f')).toEqual({ services: [] });
    expect(() => desiredFromText('{"services": [{}]}', 'f')).toThrow('services[0].key must be');
  });
});

describe('ipvsadm -L listing, column for column', () => {
  // the kernel state the capture built, as the client would return it (no traffic: counters 0)
  const services: Service[] = inDumpOrder(
    servicesFromRules(commandLines('full.commands').map((t, i) => ({ ...parseIpvsadmArgs(t), line: i + 1 }))),
    fixture('full.Ln-nosort'),
  ).map((s: StateService) => {
    const n = normalizeService(s);
    const svc: Service = {
      key: n.key,
      family: n.family,
      scheduler: n.scheduler,
      flags: { persistent: n.persistenceTimeout > 0, hashed: true, onePacket: n.onePacket, schedFallback: n.schedFallback, schedPort: n.schedPort, sched3: n.sched3 },
      destinations: (s.destinations ?? []).map((d) => ({
        address: d.address,
        port: d.port,
        family: d.address.includes(':') ? 'inet6' : 'inet',
        forward: d.forward ?? 'route',
        weight: d.weight ?? 1,
        upperThreshold: d.upperThreshold ?? 0,
        lowerThreshold: d.lowerThreshold ?? 0,
        ...(d.forward === 'tunnel' ? { tunnel: d.tunnel ?? { type: 'ipip' } } : {}),
        activeConnections: 0,
        inactiveConnections: 0,
        persistentConnections: 0,
      })),
    };
    if (n.persistenceTimeout) svc.persistence = { timeout: n.persistenceTimeout, netmask: n.netmask };
    if (n.persistenceEngine) svc.persistenceEngine = n.persistenceEngine;
    return svc;
  });
  const info = { version: '1.2.1', versionCode: 0x010201, connectionTableSize: 4096 };
  const base = { numeric: true, connection: false, timeout: false, daemon: false, stats: false, rate: false, thresholds: false, persistentConn: false, nosort: false, exact: false, tunInfo: false };
  const variants: [string, Partial<typeof base>][] = [
    ['full.Ln', {}],
    ['full.Ln-nosort', { nosort: true }],
    ['full.Ln-stats', { stats: true }],
    ['full.Ln-rate', { rate: true }],
    ['full.Ln-thresholds', { thresholds: true }],
    ['full.Ln-persistent-conn', { persistentConn: true }],
    ['full.Ln-tun-info', { tunInfo: true }],
    ['full.Ln-exact-stats', { stats: true, exact: true }],
  ];
  for (const [file, opts] of variants) {
    it(`${file} byte for byte`, () => {
      expect(formatListing(info, services, { ...base, ...opts }, filesResolver({ disabled: true }))).toBe(fixture(file));
    });
  }
});
