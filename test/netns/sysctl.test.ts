// Sysctls written through /proc/sys inside a namespace this file creates; the reference reads the
// same files through `ip netns exec NS cat` (another process in that namespace).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { skipUnless, useNetns } from '../helpers/kernel.js';
import { Rtnl } from '../../lib/rtnl/index.js';
import { NetlinkError, ValidationError } from '../../lib/errors.js';

function read(ns: string, key: string): string {
  return execFileSync('ip', ['netns', 'exec', ns, 'cat', `/proc/sys/${key.replaceAll('.', '/')}`], { encoding: 'utf8' }).trim();
}

describe.skipIf(skipUnless('netns'))('sysctl (host kernel, own namespace)', () => {
  const ns = useNetns('lvskit-sysctl');
  let rtnl: Rtnl;
  let hostForward: string;
  beforeAll(async () => {
    rtnl = Rtnl.open({ netns: ns.name });
    hostForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
    await rtnl.links.createVeth('s0', 's1');
  });
  afterAll(() => rtnl?.close());

  it('reads and writes ip_forward in the namespace, never the host', async () => {
    const before = await rtnl.sysctl.get('net.ipv4.ip_forward');
    expect(before).toBe(read(ns.name, 'net.ipv4.ip_forward'));
    const want = before === '1' ? 0 : 1;
    await rtnl.sysctl.set('net.ipv4.ip_forward', want);
    expect(read(ns.name, 'net.ipv4.ip_forward')).toBe(String(want));
    expect(await rtnl.sysctl.getNumber('net.ipv4.ip_forward')).toBe(want);
    await rtnl.sysctl.setForwarding(true, { ipv6: true });
    expect(read(ns.name, 'net.ipv6.conf.all.forwarding')).toBe('1');
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe(hostForward);
  });

  it('sets the DR real-server ARP pair on all and the link', async () => {
    await rtnl.sysctl.setArpForDrRealServer('s0');
    for (const where of ['all', 's0']) {
      expect(read(ns.name, `net.ipv4.conf.${where}.arp_ignore`)).toBe('1');
      expect(read(ns.name, `net.ipv4.conf.${where}.arp_announce`)).toBe('2');
    }
    await rtnl.sysctl.setArpForDrRealServer();
    expect(read(ns.name, 'net.ipv4.conf.lo.arp_ignore')).toBe('1');
  });

  it('sets rp_filter', async () => {
    await rtnl.sysctl.setRpFilter('s1', 2);
    expect(read(ns.name, 'net.ipv4.conf.s1.rp_filter')).toBe('2');
    await rtnl.sysctl.setRpFilter('all', 0);
    expect(read(ns.name, 'net.ipv4.conf.all.rp_filter')).toBe('0');
    await expect(rtnl.sysctl.setRpFilter('s1', 3 as never)).rejects.toBeInstanceOf(ValidationError);
  });

  it('sets the multipath hash policy, fields and seed where the kernel has them', async () => {
    const hasFields = await rtnl.sysctl.has('net.ipv4.fib_multipath_hash_fields');
    const hasSeed = await rtnl.sysctl.has('net.ipv4.fib_multipath_hash_seed');
    if (!hasFields || !hasSeed) console.warn(`\n*** kernel lacks${hasFields ? '' : ' fib_multipath_hash_fields'}${hasSeed ? '' : ' fib_multipath_hash_seed'}: checking the error instead ***\n`);
    const settings = { policy: 3 as const, fields: ['srcIp', 'dstIp', 'srcPort'] as ('srcIp' | 'dstIp' | 'srcPort')[], seed: 0xdeadbeef };
    if (hasFields && hasSeed) {
      await rtnl.sysctl.setMultipathHash(settings);
      expect(read(ns.name, 'net.ipv4.fib_multipath_hash_policy')).toBe('3');
      expect(read(ns.name, 'net.ipv4.fib_multipath_hash_fields')).toBe(String(0x1 | 0x2 | 0x10));
      expect(read(ns.name, 'net.ipv4.fib_multipath_hash_seed')).toBe(String(0xdeadbeef));
      expect(await rtnl.sysctl.getMultipathHash()).toEqual({ policy: 3, fields: 0x13, seed: 0xdeadbeef });
      await rtnl.sysctl.setMultipathHash({ family: 6, policy: 1 });
      expect(read(ns.name, 'net.ipv6.fib_multipath_hash_policy')).toBe('1');
    } else {
      await expect(rtnl.sysctl.setMultipathHash(settings)).rejects.toThrow(/this kernel has no net\.ipv4\.fib_multipath_hash_(fields|seed) \(added in/);
    }
    await expect(rtnl.sysctl.setMultipathHash({ policy: 9 as never })).rejects.toThrow('settings.policy must be 0 (L3)');
    await expect(rtnl.sysctl.set('net.ipv4.fib_multipath_hash_policy', 9)).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('explains a missing sysctl: IPVS tunables without ip_vs, a link that is not there', async () => {
    if (await rtnl.sysctl.has('net.ipv4.vs.conntrack')) {
      await rtnl.sysctl.setIpvs({ conntrack: 1, expireNodestConn: 1 });
      expect(read(ns.name, 'net.ipv4.vs.conntrack')).toBe('1');
      expect(await rtnl.sysctl.getIpvs('expireNodestConn')).toBe(1);
    } else {
      const e = await rtnl.sysctl.setIpvs({ conntrack: 1 }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(NetlinkError);
      expect((e as NetlinkError).code).toBe('ENOENT');
      expect((e as NetlinkError).message).toContain('this kernel has no net.ipv4.vs.conntrack; IPVS sysctls exist only once the ip_vs module is loaded');
    }
    await expect(rtnl.sysctl.get('net.ipv4.conf.nolink9.rp_filter')).rejects.toThrow('no link nolink9 in this namespace');
    expect(await rtnl.sysctl.has('net.ipv4.no_such_thing')).toBe(false);
    await expect(rtnl.sysctl.setIpvs({ bogus: 1 } as never)).rejects.toBeInstanceOf(ValidationError);
  });
});
