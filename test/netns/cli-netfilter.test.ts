// The `lvskit nft` and `lvskit conntrack` verbs (lib/cli/nft.ts, conntrack.ts) run in process
// against a namespace this file creates; nft itself reads back what they did.
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { ip, skipUnless, useNetns } from '../helpers/kernel.js';
import { inputOf } from '../helpers/cli.js';
import { nftCommand } from '../../lib/cli/nft.js';
import { conntrackCommand, parseConntrackArgs } from '../../lib/cli/conntrack.js';
import type { CliIO } from '../../lib/cli/run.js';

const skip = skipUnless('netns');

function io(stdin = ''): CliIO & { out: string; err: string } {
  const o = {
    out: '', err: '', isTTY: false,
    stdout(t: string) { o.out += t; },
    stderr(t: string) { o.err += t; },
    input: inputOf(stdin),
    openIpvs: () => { throw new Error('not used'); },
    openRtnl: () => { throw new Error('not used'); },
  };
  return o as unknown as CliIO & { out: string; err: string };
}

describe.skipIf(skip)('lvskit nft / conntrack verbs (netns)', () => {
  const ns = useNetns('lvskit-clinf');
  const def = {
    family: 'ip', name: 'lb',
    chains: [{ name: 'out', hook: 'output', type: 'nat', priority: 'dstnat' }],
    sets: [{ name: 'vips', type: 'ipv4_addr', elements: ['192.0.2.10'] }],
    rules: [{ chain: 'out', match: { destination: '192.0.2.10', protocol: 'udp', destinationPort: 53 }, nat: { type: 'dnat', address: '10.0.0.9', port: 5353 } }],
  };
  beforeAll(() => {
    for (const a of ['10.0.0.1/32', '10.0.0.9/32', '192.0.2.10/32']) ip(ns.name, 'addr', 'add', a, 'dev', 'lo');
  });

  it('nft apply installs a JSON definition; get reads it back; list shows rules with handles', async () => {
    const a = io(JSON.stringify(def));
    expect(await nftCommand(['apply', '-'], ns.name, a)).toBe(0);
    expect(a.err).toMatch(/table ip lb: \d+ changes applied in one transaction/);
    expect(execFileSync('ip', ['netns', 'exec', ns.name, 'nft', 'list', 'chain', 'ip', 'lb', 'out'], { encoding: 'utf8' })).toContain('ip daddr 192.0.2.10 udp dport 53 dnat to 10.0.0.9:5353');
    const g = io();
    expect(await nftCommand(['get', 'ip', 'lb'], ns.name, g)).toBe(0);
    expect(JSON.parse(g.out)).toEqual({ ...def, chains: [{ ...def.chains[0], priority: -100, policy: 'accept' }], skippedRules: 0 });
    const l = io();
    expect(await nftCommand(['list', 'rules', '--family', 'ip', '--table', 'lb'], ns.name, l)).toBe(0);
    const [rule] = JSON.parse(l.out) as { handle: number }[];
    expect(rule!.handle).toBeGreaterThan(0);
  });

  it('nft apply of a bad definition applies nothing and says which item failed', async () => {
    const bad = io(JSON.stringify({ ...def, rules: [...def.rules, { chain: 'missing', verdict: 'accept' }] }));
    expect(await nftCommand(['apply', '-'], ns.name, bad)).toBe(1);
    expect(bad.err).toMatch(/item \d+: addRule ip lb missing failed: ENOENT/);
    expect(bad.err).toMatch(/nothing was applied/);
    const v = io(JSON.stringify({ ...def, rules: [{ chain: 'out', match: { destinationPort: 53 } }] }));
    expect(await nftCommand(['apply', '-'], ns.name, v)).toBe(2);
    expect(v.err).toMatch(/table\.rules\[0\]\.match\.destinationPort needs protocol/);
  });

  it('conntrack -L and -D over real DNATed UDP flows', async () => {
    execFileSync('ip', ['netns', 'exec', ns.name, process.execPath, '-e', `
      const s = require('dgram').createSocket('udp4');
      s.bind(0, '10.0.0.1', () => s.send('x', 53, '192.0.2.10', () => s.close()));`]);
    const l = io();
    expect(await conntrackCommand(['-L', '-p', 'udp', '--orig-dst', '192.0.2.10'], ns.name, l)).toBe(0);
    expect(l.out).toMatch(/^udp +17 \d+ src=10\.0\.0\.1 dst=192\.0\.2\.10 sport=\d+ dport=53 \[UNREPLIED\] src=10\.0\.0\.9 dst=10\.0\.0\.1 sport=5353 dport=\d+ mark=0 use=1\n$/);
    const d = io();
    expect(await conntrackCommand(['-D', '-p', 'udp', '--reply-src', '10.0.0.9'], ns.name, d)).toBe(0);
    expect(d.err).toBe('lvskit conntrack: 1 flow entries have been deleted.\n');
    const j = io();
    expect(await conntrackCommand(['-L', '-o', 'json'], ns.name, j)).toBe(0);
    expect(JSON.parse(j.out)).toEqual([]);
  });

  it('conntrack usage errors name the option', async () => {
    expect(() => parseConntrackArgs(['-L', '--dport', '70000'])).toThrow(/--dport needs a port \(0\.\.65535\), got "70000"/);
    const u = io();
    expect(await conntrackCommand(['-D'], ns.name, u)).toBe(2);
    expect(u.err).toMatch(/filter must name at least one field/);
  });
});
