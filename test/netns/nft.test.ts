// nf_tables through lvskit in namespaces this file creates: every object is compared, as
// `nft -j list ruleset` prints it, with what nft itself makes from the equivalent nft text in a
// second namespace (so lvskit's expressions are exactly nft's); transactions are atomic; a mark
// set by an lvskit rule steers routing through an `ip rule fwmark` (counted by nft counters).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { ip, skipUnless, useNetns } from '../helpers/kernel.js';
import { Nft } from '../../lib/nft/nft.js';
import { tablesEqual } from '../../lib/nft/state.js';
import { BatchError, reportOf } from '../../lib/batch.js';
import { native } from '../../lib/native.js';
import { NetlinkError, ValidationError } from '../../lib/errors.js';
import { createNetns, deleteNetns } from '../../lib/socket.js';
import type { NftRuleSpec, NftTableDefinition } from '../../lib/nft/types.js';

const skip = skipUnless('netns');

function nft(ns: string, ...args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', ns, 'nft', ...args], { encoding: 'utf8' });
}
function nftScript(ns: string, text: string): void {
  execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: text, encoding: 'utf8' });
}
/** `nft -j list ruleset` without metainfo and handles: what two equal rulesets share. */
function ruleset(ns: string): unknown[] {
  const j = JSON.parse(nft(ns, '-j', 'list', 'ruleset')) as { nftables: Record<string, Record<string, unknown>>[] };
  return j.nftables.filter((o) => !('metainfo' in o)).map((o) => {
    const [[kind, body]] = Object.entries(o) as [[string, Record<string, unknown>]];
    const { handle: _h, ...rest } = body;
    return { [kind]: rest };
  });
}

describe.skipIf(skip)('nf_tables (netns)', () => {
  const a = useNetns('lvskit-nft');
  const ref = useNetns('lvskit-nftref');
  let h: Nft;

  beforeAll(() => {
    h = Nft.open({ netns: a.name });
  });
  afterAll(() => h?.close());

  const rules: [text: string, spec: Omit<NftRuleSpec, 'family' | 'table'>][] = [
    ['add rule inet lvs pre meta l4proto tcp th dport 80 meta mark set 0x1', { chain: 'pre', match: { protocol: 'tcp', destinationPort: 80 }, setMark: 1 }],
    ['add rule inet lvs pre ip daddr 192.0.2.0/24 meta l4proto tcp th dport 443-444 counter meta mark set 0x2 accept',
      { chain: 'pre', match: { destination: '192.0.2.0/24', protocol: 'tcp', destinationPort: { start: 443, end: 444 } }, counter: true, setMark: 2, verdict: 'accept' }],
    ['add rule inet lvs pre ip6 saddr 2001:db8::/32 meta l4proto udp th sport 53 drop', { chain: 'pre', match: { source: '2001:db8::/32', protocol: 'udp', sourcePort: 53 }, verdict: 'drop' }],
    ['add rule inet lvs pre iifname "veth0" meta mark & 0xff == 0x10 ct state established,related accept',
      { chain: 'pre', match: { iif: 'veth0', mark: { value: 0x10, mask: 0xff }, ctState: ['established', 'related'] }, verdict: 'accept' }],
    ['add rule inet lvs pre oifname "eth*" meta mark 0x7 ct state new,invalid jump sub', { chain: 'pre', match: { oif: 'eth*', mark: 7, ctState: ['invalid', 'new'] }, verdict: { jump: 'sub' } }],
    ['add rule inet lvs pre ip saddr @clients meta l4proto tcp th dport @ports counter goto sub',
      { chain: 'pre', match: { ipVersion: 4, sourceSet: 'clients', protocol: 'tcp', destinationPortSet: 'ports' }, counter: true, verdict: { goto: 'sub' } }],
    ['add rule inet lvs sub ip daddr 198.51.100.7 return', { chain: 'sub', match: { destination: '198.51.100.7' }, verdict: 'return' }],
    ['add rule inet lvs post ip saddr 10.0.0.0/8 oifname "veth1" masquerade', { chain: 'post', match: { source: '10.0.0.0/8', oif: 'veth1' }, nat: { type: 'masquerade' } }],
    ['add rule inet lvs post ip saddr 10.1.0.0/16 snat ip to 192.0.2.1', { chain: 'post', match: { source: '10.1.0.0/16' }, nat: { type: 'snat', address: '192.0.2.1' } }],
    ['add rule inet lvs post meta l4proto udp ip saddr 10.2.0.0/16 snat ip to 192.0.2.2:2000-2100',
      { chain: 'post', match: { source: '10.2.0.0/16', protocol: 'udp' }, nat: { type: 'snat', address: '192.0.2.2', port: { start: 2000, end: 2100 } } }],
  ];
  const tableText = `
    add table inet lvs
    add chain inet lvs pre { type filter hook prerouting priority mangle; policy accept; }
    add chain inet lvs sub
    add chain inet lvs post { type nat hook postrouting priority srcnat; policy accept; }
    add set inet lvs clients { type ipv4_addr; elements = { 10.0.0.1, 10.0.0.2 }; }
    add set inet lvs ports { type inet_service; elements = { 80, 443 }; }
    add set inet lvs v6 { type ipv6_addr; }
  `;
  const tableDef: NftTableDefinition = {
    family: 'inet', name: 'lvs',
    chains: [
      { name: 'pre', hook: 'prerouting', type: 'filter', priority: 'mangle', policy: 'accept' },
      { name: 'sub' },
      { name: 'post', hook: 'postrouting', type: 'nat', priority: 'srcnat', policy: 'accept' },
    ],
    sets: [
      { name: 'clients', type: 'ipv4_addr', elements: ['10.0.0.1', '10.0.0.2'] },
      { name: 'ports', type: 'inet_service', elements: [80, 443] },
      { name: 'v6', type: 'ipv6_addr' },
    ],
  };

  it('tables, chains, sets and every match/action form are what nft makes of the same text', async () => {
    nftScript(ref.name, tableText + rules.map(([t]) => t).join('\n') + '\n');
    const tx = h.transaction().addTable({ family: 'inet', name: 'lvs' });
    for (const c of tableDef.chains!) tx.addChain({ ...c, family: 'inet', table: 'lvs' });
    for (const s of tableDef.sets!) tx.addSet({ ...s, family: 'inet', table: 'lvs' });
    for (const [, spec] of rules) tx.addRule({ ...spec, family: 'inet', table: 'lvs' });
    const report = await tx.commit();
    expect(report.ok).toBe(true);
    expect(report.sendCalls).toBe(1);
    const handles = report.items.filter((i) => i.value).map((i) => i.value!.handle);
    expect(handles).toHaveLength(rules.length);
    expect(ruleset(a.name)).toEqual(ruleset(ref.name));
    // Handles the echo returned are the ones nft shows.
    const shown = nft(a.name, '-a', 'list', 'chain', 'inet', 'lvs', 'pre');
    for (const hd of handles.slice(0, 6)) expect(shown).toContain(`# handle ${hd}`);
  });

  it('ip6 and ip tables too: v6 dnat with a port, v6 sets, drop policy, route chains, inserted rules', async () => {
    nftScript(ref.name, `
      add table ip6 six
      add set ip6 six backends { type ipv6_addr; elements = { 2001:db8::10, 2001:db8::11 }; }
      add chain ip6 six in { type filter hook input priority filter; policy drop; }
      add chain ip6 six nat { type nat hook prerouting priority dstnat; }
      add rule ip6 six in ip6 saddr @backends accept
      insert rule ip6 six in ct state established,related accept
      add rule ip6 six nat ip6 daddr 2001:db8::80 meta l4proto tcp th dport 80 dnat to [2001:db8::10]:8080
      add table ip four
      add chain ip four out { type route hook output priority mangle; }
      add rule ip four out meta l4proto udp th dport 53 meta mark set 0x35
    `);
    const tx = h.transaction()
      .addTable({ family: 'ip6', name: 'six' })
      .addSet({ family: 'ip6', table: 'six', name: 'backends', type: 'ipv6_addr', elements: ['2001:db8::10', '2001:db8::11'] })
      .addChain({ family: 'ip6', table: 'six', name: 'in', hook: 'input', policy: 'drop' })
      .addChain({ family: 'ip6', table: 'six', name: 'nat', hook: 'prerouting', type: 'nat' })
      .addRule({ family: 'ip6', table: 'six', chain: 'in', match: { sourceSet: 'backends' }, verdict: 'accept' })
      .addRule({ family: 'ip6', table: 'six', chain: 'in', match: { ctState: ['established', 'related'] }, verdict: 'accept' }, { insert: true })
      .addRule({ family: 'ip6', table: 'six', chain: 'nat', match: { destination: '2001:db8::80', protocol: 'tcp', destinationPort: 80 }, nat: { type: 'dnat', address: '2001:db8::10', port: 8080 } })
      .addTable({ family: 'ip', name: 'four' })
      .addChain({ family: 'ip', table: 'four', name: 'out', hook: 'output', type: 'route', priority: 'mangle' })
      .addRule({ family: 'ip', table: 'four', chain: 'out', match: { protocol: 'udp', destinationPort: 53 }, setMark: 0x35 });
    await tx.commit();
    const only = (rs: unknown[]) => rs.filter((o) => !JSON.stringify(o).includes('"lvs"'));
    expect(only(ruleset(a.name))).toEqual(only(ruleset(ref.name)));
    const six = await h.listRules({ family: 'ip6', table: 'six' });
    expect(six.map(({ handle: _h, ...r }) => r)).toEqual([
      { family: 'ip6', table: 'six', chain: 'in', match: { ctState: ['established', 'related'] }, verdict: 'accept' },
      { family: 'ip6', table: 'six', chain: 'in', match: { sourceSet: 'backends' }, verdict: 'accept' },
      { family: 'ip6', table: 'six', chain: 'nat', match: { protocol: 'tcp', destination: '2001:db8::80', destinationPort: 80 }, nat: { type: 'dnat', address: '2001:db8::10', port: 8080 } },
    ]);
    await h.transaction().deleteTable({ family: 'ip6', name: 'six' }).deleteTable({ family: 'ip', name: 'four' }).commit();
    nftScript(ref.name, 'delete table ip6 six\ndelete table ip four\n');
  });

  it('lists rules back in the typed form they were written in, with handles', async () => {
    const listed = await h.listRules({ family: 'inet', table: 'lvs' });
    expect(listed).toHaveLength(rules.length);
    listed.forEach((r, i) => {
      const { handle, packets, bytes, ...body } = r;
      expect(handle).toBeGreaterThan(0);
      if (body.counter) expect([packets, bytes]).toEqual([0, 0]);
      expect(body).toEqual({ family: 'inet', table: 'lvs', ...rules[i]![1] });
    });
    expect(await h.listSets({ table: 'lvs' })).toEqual(expect.arrayContaining([
      expect.objectContaining({ name: 'clients', type: 'ipv4_addr' }), expect.objectContaining({ name: 'ports', type: 'inet_service' }), expect.objectContaining({ name: 'v6', type: 'ipv6_addr' }),
    ]));
    expect((await h.listElements({ family: 'inet', table: 'lvs', set: 'ports', type: 'inet_service' })).sort()).toEqual([443, 80]);
    const chains = await h.listChains({ family: 'inet', table: 'lvs' });
    expect(chains.map(({ handle: _h, use: _u, ...c }) => c)).toEqual(tableDef.chains!.map((c) => ({
      ...c, family: 'inet', table: 'lvs', ...(c.priority === 'mangle' ? { priority: -150 } : c.priority === 'srcnat' ? { priority: 100 } : {}),
    })));
    expect(await h.listTables()).toEqual([{ family: 'inet', name: 'lvs', handle: expect.any(Number), use: 6 }]);
  });

  it('reports rules written by other tools with their unknown expressions', async () => {
    // Expressions of nf_tables' core (present wherever nf_tables is), outside lvskit's typed form.
    nft(a.name, 'add', 'rule', 'inet', 'lvs', 'sub', 'meta', 'length', '>', '100', 'ip', 'ttl', '1', 'accept');
    const [r] = (await h.listRules({ family: 'inet', table: 'lvs', chain: 'sub' })).slice(-1);
    expect(r!.verdict).toBe('accept');
    // nft loads meta length, converts it to big-endian (byteorder) and compares: cmp gt 100.
    expect(r!.unknown!.map((u) => u.name)).toEqual(expect.arrayContaining(['byteorder', 'cmp']));
    expect(r!.unknown).toEqual(expect.arrayContaining([{ name: 'cmp', fields: { sreg: 1, op: 4 /* NFT_CMP_GT */, data: '00000064' } }]));
    await h.deleteRule({ family: 'inet', table: 'lvs', chain: 'sub', handle: r!.handle });
  });

  it('adds and deletes set elements and rules by handle', async () => {
    const set = { family: 'inet', table: 'lvs', set: 'clients', type: 'ipv4_addr' } as const;
    await h.addElements(set, ['10.0.0.3']);
    await h.deleteElements(set, ['10.0.0.1']);
    expect((await h.listElements(set)).sort()).toEqual(['10.0.0.2', '10.0.0.3']);
    expect(nft(a.name, 'list', 'set', 'inet', 'lvs', 'clients')).toMatch(/10\.0\.0\.2, 10\.0\.0\.3|10\.0\.0\.3, 10\.0\.0\.2/);
    const handle = await h.addRule({ family: 'inet', table: 'lvs', chain: 'sub', match: { protocol: 'icmp' }, verdict: 'drop' }, { insert: true });
    expect((await h.listRules({ family: 'inet', table: 'lvs', chain: 'sub' }))[0]).toMatchObject({ handle, match: { protocol: 'icmp' }, verdict: 'drop' });
    await h.deleteRule({ family: 'inet', table: 'lvs', chain: 'sub', handle });
    expect((await h.listRules({ family: 'inet', table: 'lvs', chain: 'sub' })).map((r) => r.handle)).not.toContain(handle);
    const e = await h.deleteRule({ family: 'inet', table: 'lvs', chain: 'sub', handle }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e).toMatchObject({ code: 'ENOENT', op: `deleteRule inet lvs sub handle ${handle}` });
  });

  it('a set of 3,000 elements travels as one transaction of several element messages (an element list is one nest < 64 KiB)', async () => {
    const elements = Array.from({ length: 3000 }, (_, i) => `172.16.${i >> 8}.${i & 255}`);
    const report = await h.transaction().addSet({ family: 'inet', table: 'lvs', name: 'big', type: 'ipv4_addr', elements }).commit();
    expect(report.items.length).toBe(1 + 3);
    expect(report.sendCalls).toBe(1);
    const got = await h.listElements({ family: 'inet', table: 'lvs', set: 'big', type: 'ipv4_addr' });
    expect(new Set(got)).toEqual(new Set(elements));
    await h.deleteSet({ family: 'inet', table: 'lvs', name: 'big' });
  });

  it('a transaction with one bad item changes nothing and names the item', async () => {
    const before = ruleset(a.name);
    const tx = h.transaction()
      .addTable({ family: 'ip', name: 'other' })
      .addChain({ family: 'inet', table: 'lvs', name: 'extra' })
      .addRule({ family: 'inet', table: 'lvs', chain: 'sub', verdict: 'accept' })
      .addRule({ family: 'inet', table: 'lvs', chain: 'missing', verdict: 'accept' })
      .addElements({ family: 'inet', table: 'lvs', set: 'clients', type: 'ipv4_addr' }, ['10.9.9.9']);
    const e = await tx.commit().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BatchError);
    const report = (e as BatchError).report;
    expect(report.failed).toEqual([3]);
    expect(report.notSent).toEqual([0, 1, 2, 4]);
    expect(report.applied).toEqual([]);
    expect(report.items[3]!.error).toMatchObject({ code: 'ENOENT', batchIndex: 3, op: 'addRule inet lvs missing' });
    expect(ruleset(a.name)).toEqual(before);
    await expect(tx.commit()).rejects.toThrow(ValidationError);
  });

  it('replaceTable swaps the whole table atomically, and a bad definition leaves the old one', async () => {
    const def: NftTableDefinition = {
      ...tableDef,
      sets: [{ name: 'clients', type: 'ipv4_addr', elements: ['10.0.0.9'] }],
      rules: [{ chain: 'pre', match: { ipVersion: 4, sourceSet: 'clients' }, setMark: 9 }, { chain: 'post', match: { source: '10.0.0.0/8' }, nat: { type: 'masquerade' } }],
    };
    const report = await h.replaceTable(def);
    expect(report.ok).toBe(true);
    nftScript(ref.name, `flush ruleset\n${tableText.replace(/add set inet lvs clients[^\n]*\n/, 'add set inet lvs clients { type ipv4_addr; elements = { 10.0.0.9 }; }\n').replace(/add set inet lvs (ports|v6)[^\n]*\n/g, '')}
      add rule inet lvs pre ip saddr @clients meta mark set 0x9
      add rule inet lvs post ip saddr 10.0.0.0/8 masquerade\n`);
    expect(ruleset(a.name)).toEqual(ruleset(ref.name));
    const got = await h.getTable({ family: 'inet', name: 'lvs' });
    // What a desired-state comparison uses: the kernel's table equals the definition installed.
    expect(tablesEqual(got, def)).toBe(true);
    expect(tablesEqual(got, { ...def, rules: def.rules!.slice(1) })).toBe(false);
    expect(got).toEqual({ ...def, skippedRules: 0, chains: def.chains!.map((c) => ({ ...c, priority: c.priority === 'mangle' ? -150 : c.priority === 'srcnat' ? 100 : c.priority })) });
    const before = ruleset(a.name);
    const bad = await h.replaceTable({ ...def, rules: [...def.rules!, { chain: 'nope', verdict: 'accept' }] }).catch((x: unknown) => x);
    expect(bad).toBeInstanceOf(BatchError);
    expect((bad as BatchError).report.failed).toEqual([(bad as BatchError).report.items.length - 1]);
    expect(ruleset(a.name)).toEqual(before);
  });

  it('validation names the field and the value before anything is sent', () => {
    const t = h.transaction();
    const base = { family: 'inet', table: 'lvs', chain: 'pre' } as const;
    expect(() => t.addRule({ ...base, match: { destinationPort: 80 } })).toThrow(/rule\.match\.destinationPort needs protocol tcp, udp, sctp or udplite, got none/);
    expect(() => t.addRule({ ...base, match: { source: '10.0.0.0/33' }, verdict: 'accept' })).toThrow(/rule\.match\.source must be an address or ADDR\/LEN prefix, got "10\.0\.0\.0\/33"/);
    expect(() => t.addRule({ ...base, match: { source: '10.0.0.0/8', destination: '2001:db8::1' } })).toThrow(/rule\.match\.destination mixes IPv6 with IPv4/);
    expect(() => t.addRule({ ...base, setMark: -1 })).toThrow(/rule\.setMark must be an integer in 0\.\.4294967295, got -1/);
    expect(() => t.addRule({ ...base, match: { ctState: ['new', 'bogus' as 'new'] } })).toThrow(/rule\.match\.ctState\[1\] must be one of/);
    expect(() => t.addRule({ ...base, match: { mark: { value: 0x100, mask: 0xff } } })).toThrow(/rule\.match\.mark\.value has bits outside mask 0xff/);
    expect(() => t.addRule({ ...base, match: { iif: 'a-very-long-interface' } })).toThrow(/rule\.match\.iif must be an interface name/);
    expect(() => t.addRule({ ...base, match: { protocol: 'tcp' }, verdict: { jump: '' } })).toThrow(/rule\.verdict\.jump must be a name/);
    expect(() => t.addRule({ family: 'ip', table: 'x', chain: 'c', nat: { type: 'snat', address: '2001:db8::1' } })).toThrow(/rule\.nat\.address must be IPv4 in an 'ip' table, got "2001:db8::1"/);
    expect(() => t.addRule({ ...base })).toThrow(/rule matches everything and does nothing/);
    expect(() => t.addChain({ family: 'inet', table: 'lvs', name: 'c', hook: 'forward', type: 'route' })).toThrow(/chain\.hook is not a hook of 'route' chains \(output\), got "forward"/);
    expect(() => t.addChain({ family: 'inet', table: 'lvs', name: 'c', type: 'nat' })).toThrow(/chain\.type is only for base chains/);
    expect(() => t.addTable({ family: 'arp' as 'ip', name: 'x' })).toThrow(/table\.family must be 'ip', 'ip6' or 'inet', got "arp"/);
    expect(() => t.addSet({ family: 'inet', table: 'lvs', name: 's', type: 'ipv4_addr', elements: ['2001:db8::1'] })).toThrow(/set\.elements\[0\] must be an IPv4 address/);
    expect(t.length).toBe(0);
  });

  it('kernel errors of single calls carry the errno and the operation', async () => {
    await expect(h.addTable({ family: 'inet', name: 'lvs' }, { exclusive: true })).rejects.toMatchObject({ code: 'EEXIST', op: 'addTable inet lvs' });
    await expect(h.deleteTable({ family: 'ip6', name: 'absent' })).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(h.addSet({ family: 'inet', table: 'absent', name: 's', type: 'inet_service', elements: [80] })).rejects.toMatchObject({ name: 'NetlinkError', code: 'ENOENT', op: 'addSet inet absent s' });
    // A chain's own rules go with it; a jump from elsewhere keeps it (nf_tables_delchain).
    await h.addRule({ family: 'inet', table: 'lvs', chain: 'pre', verdict: { jump: 'sub' } });
    await expect(h.deleteChain({ family: 'inet', table: 'lvs', name: 'sub' })).rejects.toMatchObject({ code: 'EBUSY', op: 'deleteChain inet lvs sub' });
  });

  it('a closed handle refuses calls', async () => {
    const h2 = Nft.open({ netns: a.name });
    h2.close();
    await expect(h2.listTables()).rejects.toMatchObject({ code: 'EBADF' });
  });
});

describe.skipIf(skip)('nf_tables marks steer routing (netns)', () => {
  const ns = useNetns('lvskit-nftmark');
  let h: Nft;
  beforeAll(() => {
    for (const [dev, addr] of [['d1', '10.91.0.1/24'], ['d2', '10.92.0.1/24']] as const) {
      ip(ns.name, 'link', 'add', dev, 'type', 'veth', 'peer', 'name', `${dev}p`);
      ip(ns.name, 'link', 'set', `${dev}p`, 'up');
      ip(ns.name, 'addr', 'add', addr, 'dev', dev);
      ip(ns.name, 'link', 'set', dev, 'up');
    }
    ip(ns.name, 'route', 'add', '198.51.100.0/24', 'dev', 'd1');
    ip(ns.name, 'route', 'add', '198.51.100.0/24', 'dev', 'd2', 'table', '100');
    ip(ns.name, 'rule', 'add', 'fwmark', '0x7', 'lookup', '100', 'priority', '100');
    h = Nft.open({ netns: ns.name });
  });
  afterAll(() => h?.close());

  it('udp to port 9999 leaves through d2 because the route chain marked it; other ports through d1', async () => {
    await h.replaceTable({
      family: 'ip', name: 'mark',
      chains: [{ name: 'out', hook: 'output', type: 'route', priority: 'mangle' }, { name: 'post', hook: 'postrouting', priority: 'filter' }],
      rules: [
        { chain: 'out', match: { protocol: 'udp', destinationPort: 9999 }, setMark: 7 },
        { chain: 'post', match: { oif: 'd1', destination: '198.51.100.0/24' }, counter: true },
        { chain: 'post', match: { oif: 'd2', destination: '198.51.100.0/24', mark: 7 }, counter: true },
      ],
    });
    const send = (port: number, n: number) => execFileSync('ip', ['netns', 'exec', ns.name, process.execPath, '-e', `
      const s = require('dgram').createSocket('udp4'); let left = ${n};
      const next = () => left-- > 0 ? s.send('x', ${port}, '198.51.100.7', next) : s.close();
      next();`]);
    send(9999, 5);
    send(9998, 3);
    const counted = (await h.listRules({ family: 'ip', table: 'mark', chain: 'post' })).map((r) => [r.match!.oif, r.packets]);
    expect(counted).toEqual([['d1', 3], ['d2', 5]]);
  });
});

describe.skipIf(skip)('nf_tables handle edge cases (netns)', () => {
  const ns = useNetns('lvskit-nftedge');

  it('an empty namespace lists empty; concurrent calls on one handle queue and all land', async () => {
    const h = Nft.open({ netns: ns.name });
    try {
      expect(await h.listTables()).toEqual([]);
      expect(await h.listRules()).toEqual([]);
      await h.replaceTable({ family: 'inet', name: 'q', chains: [{ name: 'c' }] });
      const handles = await Promise.all(Array.from({ length: 20 }, (_, i) => h.addRule({ family: 'inet', table: 'q', chain: 'c', match: { mark: i }, verdict: 'return' })));
      expect(new Set(handles).size).toBe(20);
      expect((await h.listRules({ family: 'inet', table: 'q' })).map((r) => r.match!.mark)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    } finally {
      h.close();
    }
  });

  it('a transaction the kernel refuses as a whole (no such subsystem) fails every item at once, no waiting', async () => {
    const h = Nft.open({ netns: ns.name });
    try {
      const batch = h.socket.newBatch();
      native.nftEncodeTable(batch, 0, 0x400, 1, 'x', -1);
      native.nftEncodeTable(batch, 0, 0x400, 2, 'y', -1);
      // res_id 99 names no nfnetlink subsystem: the kernel answers BATCH_BEGIN's sequence with an
      // error and runs nothing (nfnetlink_rcv_skb_batch); no item is ever acknowledged.
      const raw = await h.socket.run(batch, 'bogus transaction', { nfBatchSubsys: 99 });
      const report = reportOf(raw, (i) => `item ${i}`);
      expect(report.failed).toEqual([0, 1]);
      expect(report.items[0]!.error).toMatchObject({ code: expect.stringMatching(/^(EINVAL|EOPNOTSUPP)$/) });
      expect(await h.listTables()).toEqual(expect.not.arrayContaining([expect.objectContaining({ name: 'x' })]));
    } finally {
      h.close();
    }
  });

  it('works from worker threads: four workers each commit a transaction on their own socket', async () => {
    const W = String.raw`
      const { parentPort, workerData } = require('node:worker_threads');
      const { createRequire } = require('node:module');
      const native = createRequire(workerData.root + '/')('node-gyp-build')(workerData.root);
      const s = new native.NativeSocket(12, 1, workerData.path, 0, 0); // NETLINK_NETFILTER
      const b = new native.NativeBatch();
      native.nftEncodeTable(b, 0, 0x400, 2, 'w' + workerData.i, -1);           // NFT_MSG_NEWTABLE ip wN
      native.nftEncodeChain(b, 3, 0x400, 2, 'w' + workerData.i, 'c', -1, 0, '', -1);
      s.execute(b, { nfBatchSubsys: 10 }).then((o) => { s.close(); parentPort.postMessage(Array.from(o[0].subarray(0, 2))); });
    `;
    const root = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
    const statuses = await Promise.all([0, 1, 2, 3].map((i) => new Promise<number[]>((resolve, reject) => {
      const w = new Worker(W, { eval: true, workerData: { root, path: `/run/netns/${ns.name}`, i } });
      w.once('message', resolve);
      w.once('error', reject);
    })));
    expect(statuses).toEqual([[0, 0], [0, 0], [0, 0], [0, 0]]);
    const h = Nft.open({ netns: ns.name });
    try {
      expect((await h.listChains({ family: 'ip' })).map((c) => `${c.table}/${c.name}`).sort()).toEqual(['w0/c', 'w1/c', 'w2/c', 'w3/c']);
    } finally {
      h.close();
    }
  });

  it('a namespace deleted under an open handle is refused, not written to', async () => {
    const name = `lvskit-nftgone-${process.pid}`;
    createNetns(name);
    const h = Nft.open({ netns: name });
    deleteNetns(name);
    try {
      await expect(h.addTable({ family: 'ip', name: 't' })).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringMatching(/was deleted or replaced/) });
    } finally {
      h.close();
    }
  });
});
