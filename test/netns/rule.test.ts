// Policy routing rules round-trip through the host kernel in a namespace this file creates,
// cross-checked against `ip -j rule`; a route query with a mark proves a rule steers lookups.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ip, ipJson, skipUnless, useNetns } from '../helpers/kernel.js';
import { NetlinkSocket } from '../../lib/socket.js';
import { Rules } from '../../lib/rtnl/rule.js';
import { Routes } from '../../lib/rtnl/route.js';
import { BatchError } from '../../lib/batch.js';
import type { Rule } from '../../lib/rtnl/route-types.js';

const skip = skipUnless('netns');

type IpRule = Record<string, string | number | null>;

describe.skipIf(skip)('policy rules (netns)', () => {
  const ns = useNetns('lvskit-rule');
  let socket: NetlinkSocket;
  let rules: Rules;
  let routes: Routes;
  const idx = new Map<string, number>();
  const shown = (v6 = false) => new Map(ipJson<IpRule[]>(ns.name, ...(v6 ? ['-6'] : []), 'rule', 'show').map((r) => [r.priority as number, r]));
  const mine = async (family: 4 | 6 = 4) => new Map((await rules.list({ family })).map((r) => [r.priority, r] as [number, Rule]));

  beforeAll(() => {
    for (const [dev, v4, v6] of [['d0', '10.0.0.1/24', '2001:db8::1/64'], ['d1', '10.1.0.1/24', '2001:db8:1::1/64']] as const) {
      ip(ns.name, 'link', 'add', dev, 'type', 'veth', 'peer', 'name', `${dev}p`);
      ip(ns.name, 'link', 'set', `${dev}p`, 'up');
      ip(ns.name, 'addr', 'add', v4, 'dev', dev);
      ip(ns.name, '-6', 'addr', 'add', v6, 'dev', dev, 'nodad');
      ip(ns.name, 'link', 'set', dev, 'up');
    }
    for (const l of ipJson<{ ifname: string; ifindex: number }[]>(ns.name, 'link', 'show')) idx.set(l.ifname, l.ifindex);
    socket = NetlinkSocket.open('route', { netns: ns.name });
    rules = new Rules(socket);
    routes = new Routes(socket);
  });
  afterAll(() => socket?.close());

  it('lists the default rules as ip does', async () => {
    const m = await mine();
    expect([...m.keys()]).toEqual([...shown().keys()]);
    expect(m.get(0)).toMatchObject({ action: 'lookup', table: 255 });
    expect(m.get(32766)).toMatchObject({ action: 'lookup', table: 254 });
  });

  it('every selector round-trips: prefixes, iif/oif, fwmark/mask, tos, ipproto, port and uid ranges, not, protocol, big table', async () => {
    await rules.add({
      priority: 100, from: '10.0.0.0/8', to: '192.168.0.0/16', iif: 'd0', oif: 'd0p', fwmark: 0x10, fwmask: 0xff, tos: 0x10,
      ipProto: 'tcp', sport: { start: 1000, end: 2000 }, dport: 443, uidRange: { start: 100, end: 200 }, not: true,
      table: 100000, protocol: 'zebra',
    });
    const ref = shown().get(100)!;
    expect(ref).toMatchObject({
      not: null, src: '10.0.0.0', srclen: 8, dst: '192.168.0.0', dstlen: 16, tos: '0x10', fwmark: '0x10', fwmask: '0xff', iif: 'd0', oif: 'd0p',
      uid_start: 100, uid_end: 200, ipproto: 'tcp', sport_start: 1000, sport_end: 2000, dport: 443, table: '100000', protocol: 'zebra',
    });
    expect((await mine()).get(100)).toEqual({
      family: 4, priority: 100, from: '10.0.0.0/8', to: '192.168.0.0/16', iif: 'd0', oif: 'd0p', fwmark: 0x10, fwmask: 0xff, tos: 0x10,
      ipProto: 6, sport: { start: 1000, end: 2000 }, dport: { start: 443, end: 443 }, uidRange: { start: 100, end: 200 }, not: true,
      action: 'lookup', table: 100000, protocol: 'zebra',
    });
  });

  it("a rule added without protocol is 'boot' (RuleSpec.protocol's default), and deletes without naming it", async () => {
    await rules.add({ family: 4, priority: 105, fwmark: 5, table: 105 });
    await rules.addMany([{ family: 4, priority: 106, fwmark: 6, table: 106 }]);
    for (const pref of [105, 106]) {
      expect(shown().get(pref)).toMatchObject({ protocol: 'boot' });
      expect((await mine()).get(pref)).toMatchObject({ protocol: 'boot' });
    }
    // iproute2 sends no FRA_PROTOCOL on delete unless given, so neither does a lvskit delete.
    await rules.delete({ family: 4, priority: 105, fwmark: 5, table: 105 });
    ip(ns.name, 'rule', 'del', 'pref', '106', 'fwmark', '6', 'table', '106');
    expect(shown().has(105) || shown().has(106)).toBe(false);
  });

  it('every action round-trips: goto, blackhole, unreachable, prohibit, nop, suppressors, l3mdev', async () => {
    await rules.addMany([
      { family: 4, priority: 110, action: 'goto', goto: 200 },
      { family: 4, priority: 111, action: 'blackhole' },
      { family: 4, priority: 112, action: 'unreachable', fwmark: 7 },
      { family: 4, priority: 113, action: 'prohibit', fwmark: 8 },
      { family: 4, priority: 114, action: 'nop' },
      { family: 4, priority: 115, table: 'main', suppressPrefixlength: 0, suppressIfgroup: 5 },
      { family: 4, priority: 116, l3mdev: true },
      { family: 4, priority: 200, table: 300 },
    ]);
    const ref = shown();
    expect(ref.get(110)).toMatchObject({ goto: 200 });
    expect(ref.get(111)).toMatchObject({ action: 'blackhole' });
    expect(ref.get(112)).toMatchObject({ action: 'unreachable' });
    expect(ref.get(113)).toMatchObject({ action: 'prohibit' });
    expect(ref.get(114)).toHaveProperty('nop');
    expect(ref.get(115)).toMatchObject({ table: 'main', suppress_prefixlen: 0, suppress_ifgroup: '5' });
    expect(ref.get(116)).toHaveProperty('l3mdev');
    const m = await mine();
    expect(m.get(110)).toMatchObject({ action: 'goto', goto: 200 });
    expect(m.get(111)?.action).toBe('blackhole');
    expect(m.get(112)).toMatchObject({ action: 'unreachable', fwmark: 7 });
    expect(m.get(113)).toMatchObject({ action: 'prohibit', fwmark: 8 });
    expect(m.get(114)?.action).toBe('nop');
    expect(m.get(115)).toMatchObject({ action: 'lookup', table: 254, suppressPrefixlength: 0, suppressIfgroup: 5 });
    expect(m.get(116)).toMatchObject({ l3mdev: true });
    expect(m.get(200)).toMatchObject({ table: 300 });
  });

  it('DSCP (FRA_DSCP, Linux 6.12+) round-trips through the kernel', async () => {
    await rules.add({ family: 4, priority: 120, dscp: 46, table: 400 });
    expect((await mine()).get(120)).toMatchObject({ dscp: 46, table: 400 });
    expect(shown().has(120)).toBe(true); // iproute2 6.1 cannot print FRA_DSCP; the rule is there
  });

  it('IPv6 rules', async () => {
    await rules.add({ priority: 130, from: '2001:db8:aa::/48', ipProto: 'udp', dport: { start: 53, end: 54 }, table: 600 });
    expect(shown(true).get(130)).toMatchObject({ src: '2001:db8:aa::', srclen: 48, ipproto: 'udp', dport_start: 53, dport_end: 54, table: '600' });
    expect((await mine(6)).get(130)).toMatchObject({ family: 6, from: '2001:db8:aa::/48', ipProto: 17, dport: { start: 53, end: 54 }, table: 600 });
  });

  it('a mark steers route queries to the rule\'s table (weighted multipath there)', async () => {
    await routes.add({ dst: '203.0.113.0/24', table: 700, nexthops: [{ gateway: '10.0.0.7', dev: 'd0', weight: 1 }, { gateway: '10.1.0.7', dev: 'd1', weight: 9 }] });
    await routes.add({ dst: '203.0.113.0/24', gateway: '10.0.0.99' });
    await rules.add({ family: 4, priority: 40, fwmark: 0x42, fwmask: 0xff, table: 700 });
    const unmarked = await routes.query({ dst: '203.0.113.5' });
    expect(unmarked).toMatchObject({ gateway: '10.0.0.99', table: 254 });
    const seen = new Set<string>();
    for (let sport = 2000; sport < 2400; sport += 13) {
      const c = await routes.query({ dst: '203.0.113.5', mark: 0x142, ipProto: 'tcp', sport, dport: 80 });
      expect(c.table).toBe(700);
      expect(c.mark).toBe(0x142);
      const ref = ipJson<{ gateway: string }[]>(ns.name, 'route', 'get', '203.0.113.5', 'mark', '0x142', 'ipproto', 'tcp', 'sport', String(sport), 'dport', '80')[0]!;
      expect(c.gateway).toBe(ref.gateway);
      seen.add(c.gateway!);
    }
    expect([...seen].every((g) => g === '10.0.0.7' || g === '10.1.0.7')).toBe(true);
    // (Priorities below 110: the goto rule there skips everything up to 200.)
    // A rule with "not" inverts: now unmarked traffic goes to table 700 too.
    await rules.add({ family: 4, priority: 41, fwmark: 0x42, fwmask: 0xff, not: true, table: 700 });
    expect((await routes.query({ dst: '203.0.113.5' })).table).toBe(700);
    await rules.delete({ family: 4, priority: 41 });
    expect((await routes.query({ dst: '203.0.113.5' })).table).toBe(254);
  });

  it('replaceByPriority swaps every rule at a priority in one send; delete matches given fields', async () => {
    await rules.add({ family: 4, priority: 150, fwmark: 1, table: 801 });
    await rules.add({ family: 4, priority: 150, fwmark: 2, table: 802 });
    const report = await rules.replaceByPriority({ family: 4, priority: 150, fwmark: 3, table: 803 });
    expect(report.ok).toBe(true);
    expect(report.sendCalls).toBe(1);
    const at150 = ipJson<IpRule[]>(ns.name, 'rule', 'show').filter((r) => r.priority === 150);
    expect(at150).toEqual([expect.objectContaining({ fwmark: '0x3', table: '803' })]);
    await expect(rules.delete({ family: 4, priority: 150, table: 999 })).rejects.toMatchObject({ code: 'ENOENT' });
    await rules.delete({ family: 4, priority: 150, table: 803 });
    expect(ipJson<IpRule[]>(ns.name, 'rule', 'show').some((r) => r.priority === 150)).toBe(false);
  });

  it('validates: goto backwards, table with a drop action, bad ranges; rollback undoes a batch', async () => {
    await expect(rules.add({ family: 4, priority: 300, action: 'goto', goto: 10 })).rejects.toMatchObject({ field: 'rule.goto' });
    await expect(rules.add({ family: 4, action: 'blackhole', table: 5 })).rejects.toMatchObject({ field: 'rule.table' });
    await expect(rules.add({ family: 4, dport: { start: 9, end: 1 } })).rejects.toMatchObject({ field: 'rule.dport.end' });
    await expect(rules.add({ family: 4, table: 2 ** 32 })).rejects.toMatchObject({ field: 'rule.table' });
    await expect(rules.add({ from: '10.0.0.1/8' })).rejects.toMatchObject({ field: 'rule.from' });
    const e = await rules.addMany([
      { family: 4, priority: 400, table: 900 },
      { family: 4, priority: 401, table: 901 },
      { family: 4, priority: 400, table: 900 }, // duplicate: EEXIST
    ], { rollback: true }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BatchError);
    expect((e as BatchError).report.failed).toEqual([2]);
    expect((e as BatchError).report.items[2]!.error?.code).toBe('EEXIST');
    const left = ipJson<IpRule[]>(ns.name, 'rule', 'show').filter((r) => r.priority === 400 || r.priority === 401);
    expect(left).toEqual([]);
  });
});
