// Links against the host kernel, inside namespaces this file creates, cross-checked with `ip -j`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ip, ipJson, skipUnless, useNetns } from '../helpers/kernel.js';
import { Rtnl } from '../../lib/rtnl/index.js';
import { NetlinkError, ValidationError } from '../../lib/errors.js';

interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  operstate: string;
  address?: string;
  link_index?: number;
  link_netnsid?: number;
  master?: string;
  linkinfo?: { info_kind?: string };
  stats64?: { rx: { packets: number; bytes: number }; tx: { packets: number; bytes: number } };
}

describe.skipIf(skipUnless('netns'))('links (host kernel, own namespace)', () => {
  const ns = useNetns('lvskit-link');
  const other = useNetns('lvskit-link2');
  let rtnl: Rtnl;
  beforeAll(() => {
    rtnl = Rtnl.open({ netns: ns.name });
  });
  afterAll(() => rtnl?.close());

  // The host kernel may lack the dummy driver (CONFIG_DUMMY off); ask it once.
  let hasDummy = false;
  beforeAll(async () => {
    try {
      await rtnl.links.createDummy('probe0');
      await rtnl.links.delete('probe0');
      hasDummy = true;
    } catch (e) {
      if (!(e instanceof NetlinkError && e.code === 'EOPNOTSUPP')) throw e;
      console.warn('\n*** this kernel has no dummy link driver: dummy cases use bridge/ifb instead ***\n');
    }
  });
  const simpleKind = () => (hasDummy ? 'dummy' : 'ifb');

  it('lists what ip lists, field for field', async () => {
    ip(ns.name, 'link', 'add', 'x0', 'type', simpleKind());
    ip(ns.name, 'link', 'add', 'xa', 'type', 'veth', 'peer', 'name', 'xb');
    const ours = await rtnl.links.list();
    const theirs = ipJson<IpLink[]>(ns.name, '-d', 'link', 'show');
    expect(ours.map((l) => l.name).sort()).toEqual(theirs.map((l) => l.ifname).sort());
    for (const t of theirs) {
      const o = ours.find((l) => l.index === t.ifindex)!;
      expect(o.name).toBe(t.ifname);
      expect(o.mtu).toBe(t.mtu);
      expect(o.operstate?.toString().toUpperCase()).toBe(t.operstate);
      expect(o.kind).toBe(t.linkinfo?.info_kind);
      if (t.address !== undefined) expect(o.address).toBe(t.address);
      // iproute2 hides IFF_RUNNING and adds M-DOWN (the IFLA_LINK peer is down); every other flag must agree.
      expect(o.flags.filter((f) => f !== 'running').map((f) => f.toUpperCase()).sort()).toEqual(t.flags.filter((f) => f !== 'M-DOWN').sort());
    }
    const xa = ours.find((l) => l.name === 'xa')!;
    const xb = ours.find((l) => l.name === 'xb')!;
    expect(xa.parentIndex).toBe(xb.index);
    expect(xb.parentIndex).toBe(xa.index);
    ip(ns.name, 'link', 'del', 'x0');
    ip(ns.name, 'link', 'del', 'xa');
  });

  it('gets one link by name and by index; ENODEV for none', async () => {
    const lo = await rtnl.links.get('lo');
    expect(lo.index).toBe(1);
    expect(lo.flags).toContain('loopback');
    expect((await rtnl.links.get(1)).name).toBe('lo');
    await expect(rtnl.links.get('nope0')).rejects.toMatchObject({ name: 'NetlinkError', code: 'ENODEV' });
    expect(await rtnl.links.find('nope0')).toBeUndefined();
  });

  it('creates a veth pair, sets it up, changes the MTU, and ip agrees', async () => {
    await rtnl.links.createVeth('v0', 'v1', { mtu: 1400, address: '02:00:00:00:00:0a', peerAddress: '02:00:00:00:00:0b' });
    let [a] = ipJson<IpLink[]>(ns.name, '-d', 'link', 'show', 'v0');
    const [b] = ipJson<IpLink[]>(ns.name, '-d', 'link', 'show', 'v1');
    expect(a!.linkinfo?.info_kind).toBe('veth');
    expect(a!.mtu).toBe(1400);
    expect(a!.address).toBe('02:00:00:00:00:0a');
    expect(b!.address).toBe('02:00:00:00:00:0b');
    expect(a!.flags).not.toContain('UP');

    await rtnl.links.setUp('v0');
    await rtnl.links.setUp(b!.ifindex);
    [a] = ipJson<IpLink[]>(ns.name, 'link', 'show', 'v0');
    expect(a!.flags).toContain('UP');
    const got = await rtnl.links.get('v0');
    expect(got.up).toBe(true);

    await rtnl.links.setMtu('v0', 9000);
    expect(ipJson<IpLink[]>(ns.name, 'link', 'show', 'v0')[0]!.mtu).toBe(9000);
    await expect(rtnl.links.setMtu('v0', 10)).rejects.toMatchObject({ code: 'EINVAL' });

    await rtnl.links.setDown('v0');
    expect(ipJson<IpLink[]>(ns.name, 'link', 'show', 'v0')[0]!.flags).not.toContain('UP');
    expect((await rtnl.links.get('v0')).up).toBe(false);

    await rtnl.links.set('v0', { name: 'v0renamed', address: '02:00:00:00:00:0c', txqlen: 500 });
    const [r] = ipJson<(IpLink & { txqlen: number })[]>(ns.name, 'link', 'show', 'v0renamed');
    expect(r!.address).toBe('02:00:00:00:00:0c');
    expect(r!.txqlen).toBe(500);

    await rtnl.links.delete('v0renamed');
    expect(ip(ns.name, 'link', 'show')).not.toContain('v1');
    await expect(rtnl.links.delete('v0renamed')).rejects.toMatchObject({ code: 'ENODEV' });
  });

  it('creates a dummy link (or says the kernel has none), a bridge, enslaves and releases', async () => {
    if (hasDummy) await rtnl.links.createDummy('dm0', { up: true });
    else {
      await expect(rtnl.links.createDummy('dm0')).rejects.toMatchObject({ code: 'EOPNOTSUPP', kernelMessage: 'Unknown device type' });
      await rtnl.links.create('dm0', 'ifb', { up: true });
    }
    const [d] = ipJson<IpLink[]>(ns.name, '-d', 'link', 'show', 'dm0');
    expect(d!.linkinfo?.info_kind).toBe(simpleKind());
    expect(d!.flags).toContain('UP');
    await rtnl.links.create('br0', 'bridge');
    await rtnl.links.set('dm0', { master: 'br0' });
    expect(ipJson<IpLink[]>(ns.name, 'link', 'show', 'dm0')[0]!.master).toBe('br0');
    const dm = await rtnl.links.get('dm0');
    expect(dm.master).toBe((await rtnl.links.get('br0')).index);
    expect(dm.slaveKind).toBe('bridge');
    await rtnl.links.set('dm0', { master: null });
    expect(ipJson<IpLink[]>(ns.name, 'link', 'show', 'dm0')[0]!.master).toBeUndefined();
    await rtnl.links.delete('dm0');
    await rtnl.links.delete('br0');
    await expect(rtnl.links.create('k0', 'no-such-kind')).rejects.toBeInstanceOf(NetlinkError);
  });

  it('creates the peer directly in another namespace and moves a link between namespaces', async () => {
    await rtnl.links.createVeth('h0', 'h1', { peerNetns: other.name });
    const [peer] = ipJson<IpLink[]>(other.name, 'link', 'show', 'h1');
    expect(peer!.ifname).toBe('h1');
    const h0 = await rtnl.links.get('h0');
    expect(h0.linkNetnsId).toBeTypeOf('number');
    expect(h0.parentIndex).toBe(peer!.ifindex);

    await rtnl.links.create('mv0', simpleKind());
    await rtnl.links.moveToNetns('mv0', other.name);
    expect(await rtnl.links.find('mv0')).toBeUndefined();
    expect(ipJson<IpLink[]>(other.name, 'link', 'show', 'mv0')[0]!.ifname).toBe('mv0');
    await rtnl.links.moveToNetns('h0', { path: `/run/netns/${other.name}` });
    expect(ipJson<IpLink[]>(other.name, 'link', 'show', 'h0')[0]!.ifname).toBe('h0');
    await expect(rtnl.links.moveToNetns('lo', 'lvskit-no-such-netns')).rejects.toMatchObject({ code: 'ENOENT' });
    ip(other.name, 'link', 'del', 'h0');
    ip(other.name, 'link', 'del', 'mv0');
  });

  it('reports stats64 like ip -s', async () => {
    // Traffic inside the test's own namespace only: UDP datagrams to 127.0.0.1 on its lo.
    sendLoopbackTraffic(ns.name);
    const lo = await rtnl.links.get('lo', { stats: true });
    const [t] = ipJson<IpLink[]>(ns.name, '-s', 'link', 'show', 'lo');
    expect(lo.stats).toBeDefined();
    expect(lo.stats!.rxPackets).toBeGreaterThan(0);
    // No traffic between the two reads: the counters agree exactly.
    expect(lo.stats!.rxPackets).toBe(t!.stats64!.rx.packets);
    expect(lo.stats!.txBytes).toBe(t!.stats64!.tx.bytes);
    expect((await rtnl.links.get('lo')).stats).toBeUndefined();
  });

  it('validates before sending', async () => {
    await expect(rtnl.links.get('a/b')).rejects.toBeInstanceOf(ValidationError);
    await expect(rtnl.links.get('0123456789abcdef')).rejects.toThrow('link must be a link name of 1..15 bytes');
    await expect(rtnl.links.get(-1)).rejects.toThrow('link must be a link index');
    await expect(rtnl.links.setMtu('lo', -5)).rejects.toThrow('changes.mtu must be an integer in 0..2147483647, got -5');
    await expect(rtnl.links.set('lo', { address: 'zz' })).rejects.toThrow("changes.address must be a link-layer address");
    await expect(rtnl.links.create('x', 'veth')).rejects.toBeInstanceOf(ValidationError);
  });

  it('runs a batch with one result per item', async () => {
    const report = await rtnl.links.batch([
      { op: 'create', name: 'b0', kind: simpleKind() },
      { op: 'create', name: 'b0', kind: simpleKind() },
      { op: 'createVeth', name: 'b1', peer: 'b2' },
      { op: 'set', link: 'b0', changes: { up: true, mtu: 1300 } },
      { op: 'delete', link: 'nonexist0' },
    ]);
    expect(report.items.map((i) => i.state)).toEqual(['applied', 'failed', 'applied', 'applied', 'failed']);
    expect(report.items[1]!.error).toMatchObject({ code: 'EEXIST', batchIndex: 1 });
    expect(report.items[4]!.error).toMatchObject({ code: 'ENODEV' });
    const [b0] = ipJson<IpLink[]>(ns.name, 'link', 'show', 'b0');
    expect(b0!.mtu).toBe(1300);
    expect(b0!.flags).toContain('UP');
    const del = await rtnl.links.batch([{ op: 'delete', link: 'b0' }, { op: 'delete', link: 'b1' }]);
    expect(del.ok).toBe(true);
  });
});

import { execFileSync } from 'node:child_process';
function sendLoopbackTraffic(ns: string): void {
  const js = "const s=require('dgram').createSocket('udp4');let n=0;const go=()=>s.send('x',9,'127.0.0.1',()=>{if(++n<5)go();else s.close()});go();";
  execFileSync('ip', ['netns', 'exec', ns, process.execPath, '-e', js], { stdio: 'ignore' });
}
