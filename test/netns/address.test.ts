// Addresses against the host kernel, inside a namespace this file creates, cross-checked with `ip -j addr`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ip, ipJson, skipUnless, useNetns } from '../helpers/kernel.js';
import { Rtnl } from '../../lib/rtnl/index.js';
import { ValidationError } from '../../lib/errors.js';

interface IpAddrInfo {
  family: 'inet' | 'inet6';
  local: string;
  address?: string;
  prefixlen: number;
  scope: string;
  label?: string;
  broadcast?: string;
  noprefixroute?: boolean;
  nodad?: boolean;
  valid_life_time: number;
  preferred_life_time: number;
}
interface IpAddr {
  ifindex: number;
  ifname: string;
  addr_info: IpAddrInfo[];
}

describe.skipIf(skipUnless('netns'))('addresses (host kernel, own namespace)', () => {
  const ns = useNetns('lvskit-addr');
  let rtnl: Rtnl;
  const infos = (dev: string) => ipJson<IpAddr[]>(ns.name, 'addr', 'show', 'dev', dev)[0]?.addr_info ?? [];
  beforeAll(async () => {
    rtnl = Rtnl.open({ netns: ns.name });
    await rtnl.links.createVeth('a0', 'a1', { up: true });
    await rtnl.links.setUp('a1');
  });
  afterAll(() => rtnl?.close());

  it('adds IPv4 with label, broadcast and scope; ip shows exactly that', async () => {
    await rtnl.addresses.add({ link: 'a0', address: '10.9.0.1/24', label: 'a0:web', broadcast: '+' });
    await rtnl.addresses.add({ link: 'a0', address: '10.9.1.1/16', scope: 'link', broadcast: '10.9.255.254' });
    const v4 = infos('a0').filter((i) => i.family === 'inet');
    expect(v4).toHaveLength(2);
    const a = v4.find((i) => i.local === '10.9.0.1')!;
    expect(a).toMatchObject({ prefixlen: 24, label: 'a0:web', broadcast: '10.9.0.255', scope: 'global' });
    const b = v4.find((i) => i.local === '10.9.1.1')!;
    expect(b).toMatchObject({ prefixlen: 16, scope: 'link', broadcast: '10.9.255.254' });

    const ours = (await rtnl.addresses.list({ link: 'a0', family: 4 })).sort((x, y) => x.address.localeCompare(y.address));
    expect(ours.map((o) => [o.address, o.prefixLength, o.scope, o.label, o.broadcast])).toEqual([
      ['10.9.0.1', 24, 'global', 'a0:web', '10.9.0.255'],
      ['10.9.1.1', 16, 'link', 'a0', '10.9.255.254'],
    ]);
    expect(ours[0]!.validLifetime).toBe('forever');
    expect(ours[0]!.flags).toContain('permanent');
    await expect(rtnl.addresses.add({ link: 'a0', address: '10.9.0.1/24' })).rejects.toMatchObject({ code: 'EEXIST' });
  });

  it('adds IPv6 with nodad, noprefixroute and finite lifetimes', async () => {
    await rtnl.addresses.add({
      link: 'a0',
      address: '2001:DB8:0:0::10/64',
      flags: ['nodad', 'noprefixroute'],
      validLifetime: 3000,
      preferredLifetime: 1000,
    });
    const i = infos('a0').find((x) => x.local === '2001:db8::10')!;
    expect(i).toMatchObject({ family: 'inet6', prefixlen: 64, nodad: true, noprefixroute: true });
    expect(i.valid_life_time).toBeGreaterThan(2000);
    expect(i.valid_life_time).toBeLessThanOrEqual(3000);
    expect(i.preferred_life_time).toBeLessThanOrEqual(1000);
    // noprefixroute: no 2001:db8::/64 route was made for it.
    expect(ip(ns.name, '-6', 'route', 'show', 'dev', 'a0')).not.toContain('2001:db8::/64');

    const ours = (await rtnl.addresses.list({ link: 'a0', family: 6 })).find((a) => a.address === '2001:db8::10')!;
    expect(ours.flags).toEqual(expect.arrayContaining(['nodad', 'noprefixroute']));
    expect(ours.flags).not.toContain('permanent');
    expect(ours.validLifetime).toBeTypeOf('number');
    expect(ours.validLifetime as number).toBeLessThanOrEqual(3000);
    expect(ours.preferredLifetime as number).toBeLessThanOrEqual(1000);
    expect(ours.peer).toBeUndefined();
  });

  it('replaces in place (lifetimes) and is idempotent', async () => {
    await rtnl.addresses.replace({ link: 'a0', address: '2001:db8::10/64', flags: ['nodad', 'noprefixroute'] });
    await rtnl.addresses.replace({ link: 'a0', address: '2001:db8::10/64', flags: ['nodad', 'noprefixroute'] });
    const i = infos('a0').filter((x) => x.local === '2001:db8::10');
    expect(i).toHaveLength(1);
    expect(i[0]!.valid_life_time).toBe(4294967295);
    const mine = (await rtnl.addresses.list({ link: 'a0', family: 6 })).find((a) => a.address === '2001:db8::10')!;
    expect(mine.validLifetime).toBe('forever');
  });

  it('deletes IPv4 by address alone and IPv6 with or without the prefix length', async () => {
    await rtnl.addresses.delete({ link: 'a0', address: '10.9.1.1' });
    expect(infos('a0').some((i) => i.local === '10.9.1.1')).toBe(false);
    await rtnl.addresses.delete({ link: 'a0', address: '2001:db8::10' });
    expect(infos('a0').some((i) => i.local === '2001:db8::10')).toBe(false);
    await rtnl.addresses.add({ link: 'a0', address: '2001:db8::11/80', flags: ['nodad'] });
    await rtnl.addresses.delete({ link: 'a0', address: '2001:db8::11/80' });
    expect(infos('a0').some((i) => i.local === '2001:db8::11')).toBe(false);
    await expect(rtnl.addresses.delete({ link: 'a0', address: '10.9.77.1/24' })).rejects.toMatchObject({ code: 'EADDRNOTAVAIL' });
    await expect(rtnl.addresses.delete({ link: 'a0', address: '2001:db8::99' })).rejects.toMatchObject({ code: 'EADDRNOTAVAIL' });
  });

  it('reads point-to-point peers', async () => {
    await rtnl.addresses.add({ link: 'a1', address: '10.20.0.1/32', peer: '10.20.0.2' });
    const [i] = infos('a1').filter((x) => x.family === 'inet');
    expect(i).toMatchObject({ local: '10.20.0.1', address: '10.20.0.2', prefixlen: 32 });
    const [mine] = await rtnl.addresses.list({ link: 'a1', family: 4 });
    expect(mine).toMatchObject({ address: '10.20.0.1', peer: '10.20.0.2', prefixLength: 32 });
  });

  it('puts a DR VIP on lo in one call, idempotently, and removes it', async () => {
    await rtnl.addresses.addVipOnLoopback('10.0.0.100');
    await rtnl.addresses.addVipOnLoopback('10.0.0.100');
    await rtnl.addresses.addVipOnLoopback('2001:db8:f::100');
    const lo = infos('lo');
    expect(lo.filter((i) => i.local === '10.0.0.100')).toEqual([expect.objectContaining({ prefixlen: 32, scope: 'global' })]);
    expect(lo.filter((i) => i.local === '2001:db8:f::100')).toEqual([expect.objectContaining({ prefixlen: 128, scope: 'global' })]);
    await rtnl.addresses.deleteVipOnLoopback('10.0.0.100');
    await rtnl.addresses.deleteVipOnLoopback('2001:db8:f::100');
    expect(infos('lo').some((i) => i.local === '10.0.0.100' || i.local === '2001:db8:f::100')).toBe(false);
  });

  it('lists every address of the namespace like ip addr', async () => {
    const all = await rtnl.addresses.list();
    const theirs = ipJson<IpAddr[]>(ns.name, 'addr', 'show').flatMap((l) => l.addr_info.map((i) => `${l.ifindex} ${i.local}/${i.prefixlen}`));
    expect(all.map((a) => `${a.index} ${a.address}/${a.prefixLength}`).sort()).toEqual(theirs.sort());
  });

  it('runs a batch with one result per item', async () => {
    const ops = [
      { op: 'add' as const, link: 'a1', address: '10.30.0.1/24' },
      { op: 'add' as const, link: 'a1', address: '10.30.0.1/24' },
      { op: 'add' as const, link: 'a1', address: '10.30.0.2/24' },
      { op: 'delete' as const, link: 'a1', address: '10.30.0.9/24' },
      { op: 'replace' as const, link: 'a1', address: '10.30.0.2/24', validLifetime: 500 },
    ];
    const r = await rtnl.addresses.batch(ops);
    expect(r.items.map((i) => i.state)).toEqual(['applied', 'failed', 'applied', 'failed', 'applied']);
    expect(r.items[1]!.error).toMatchObject({ code: 'EEXIST', batchIndex: 1 });
    expect(r.items[3]!.error).toMatchObject({ code: 'EADDRNOTAVAIL' });
    const a1 = infos('a1').filter((i) => i.local.startsWith('10.30.'));
    expect(a1.map((i) => i.local).sort()).toEqual(['10.30.0.1', '10.30.0.2']);
    expect(a1.find((i) => i.local === '10.30.0.2')!.valid_life_time).toBeLessThanOrEqual(500);
  });

  it('validates before sending, naming field and value', async () => {
    await expect(rtnl.addresses.add({ link: 'a0', address: '10.0.0.1/33' })).rejects.toThrow('address must be an address or ADDR/LEN prefix');
    await expect(rtnl.addresses.add({ link: 'a0', address: '10.0.0.1/24', label: 'x' })).rejects.toThrow('label must start with the link name "a0"');
    await expect(rtnl.addresses.add({ link: 'a0', address: '10.0.0.1/24', flags: ['bogus' as never] })).rejects.toBeInstanceOf(ValidationError);
    await expect(rtnl.addresses.add({ link: 'a0', address: '10.0.0.1/24', validLifetime: 10, preferredLifetime: 20 })).rejects.toThrow('preferredLifetime must not exceed validLifetime, got 20');
    await expect(rtnl.addresses.add({ link: 'a0', address: '::1/64', peer: '10.0.0.1' })).rejects.toThrow('peer must be an IPv6 address');
    await expect(rtnl.addresses.add({ link: 'nolink0', address: '10.0.0.1/24' })).rejects.toMatchObject({ code: 'ENODEV' });
  });
});
