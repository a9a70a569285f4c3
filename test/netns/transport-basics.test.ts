// The transport against the host kernel, in a namespace this file creates. Requests are built by
// hand (test/helpers/rtmsg.ts and below) so the transport is tested apart from the families.
import { describe, expect, it } from 'vitest';
import { NetlinkSocket, NetlinkError } from '../../lib/index.js';
import { skipUnless, useNetns, ip, ipJson } from '../helpers/kernel.js';
import { newRoute, dumpRoutes, countRoutes } from '../helpers/rtmsg.js';

const RTM_GETLINK = 18;
const NLM_F_REQUEST = 1;

function getLink(ifindex: number): Buffer {
  const b = Buffer.alloc(32);
  b.writeUInt32LE(32, 0);
  b.writeUInt16LE(RTM_GETLINK, 4);
  b.writeUInt16LE(NLM_F_REQUEST, 6);
  b.writeInt32LE(ifindex, 16 + 4); // struct ifinfomsg: family, pad, type, index
  return b;
}

describe.skipIf(skipUnless('netns'))('transport on the host kernel', () => {
  const ns = useNetns('lvskit-tb');

  it('opens in a named namespace, by path and by pid, and sees that namespace only', async () => {
    ip(ns.name, 'link', 'add', 'tb0', 'type', 'veth', 'peer', 'name', 'tb1');
    const want = ipJson<{ ifindex: number; ifname: string }[]>(ns.name, 'link', 'show', 'tb0')[0]!;
    for (const spec of [ns.name, { name: ns.name }, { path: `/run/netns/${ns.name}` }]) {
      const s = NetlinkSocket.open('route', { netns: spec });
      const b = s.newBatch();
      b.appendRaw(getLink(want.ifindex));
      const out = await s.run(b, 'getLink');
      expect(out.status[0]).toBe(0);
      expect(out.replyCount[0]).toBe(1);
      // IFLA_IFNAME is in the reply: the socket really is in the test's namespace.
      expect(out.replies.includes(Buffer.from('tb0\0'))).toBe(true);
      s.close();
    }
    const self = NetlinkSocket.open('route', { netns: { pid: process.pid } });
    expect(self.netns).toBe(`pid ${process.pid}`);
    self.close();
  });

  it('names the namespace when it does not exist', () => {
    let err: unknown;
    try {
      NetlinkSocket.open('route', { netns: 'lvskit-no-such-ns' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NetlinkError);
    expect((err as NetlinkError).code).toBe('ENOENT');
    expect((err as NetlinkError).message).toMatch(/lvskit-no-such-ns.*does the namespace exist/);
  });

  it('resolves generic netlink families with version, max attribute and groups, and names a missing one', () => {
    const s = NetlinkSocket.open('generic', { netns: ns.name });
    const ctrl = s.resolveFamily('nlctrl');
    expect(ctrl.id).toBe(16);
    expect(Number.isInteger(ctrl.maxAttr)).toBe(true); // 0 on kernels where nlctrl uses per-op policies
    expect(ctrl.version).toBeGreaterThanOrEqual(1);
    expect(ctrl.groups).toHaveProperty('notify');
    expect(s.resolveFamily('nlctrl')).toEqual(ctrl); // cached
    expect(() => s.resolveFamily('lvskit-nope')).toThrow(/lvskit-nope.*ENOENT/);
    s.close();
  });

  it('matches each reply and error of a pipelined batch to its own request', async () => {
    const s = NetlinkSocket.open('route', { netns: ns.name });
    const links = ipJson<{ ifindex: number; ifname: string }[]>(ns.name, 'link', 'show');
    const b = s.newBatch();
    const order = [links[1]!, { ifindex: 99999, ifname: '' }, links[0]!, links[2]!];
    for (const l of order) b.appendRaw(getLink(l.ifindex));
    const out = await s.run(b, 'getLink');
    expect(Array.from(out.status)).toEqual([0, 1, 0, 0]);
    expect(out.failures).toHaveLength(1);
    expect(out.failures[0]).toMatchObject({ index: 1, code: 'ENODEV' });
    expect(out.sendCalls).toBe(1);
    for (const [i, l] of order.entries()) {
      if (i === 1) continue;
      const off = out.replyOffsets[out.replyBegin[i]!]!;
      expect(out.replies.readInt32LE(off + 16 + 4)).toBe(l.ifindex);
    }
    s.close();
  });

  it('splits a large batch over several sends bounded by the send buffer, and acks only what it must', async () => {
    ip(ns.name, 'link', 'set', 'tb0', 'up');
    ip(ns.name, 'link', 'set', 'tb1', 'up');
    const idx = ipJson<{ ifindex: number }[]>(ns.name, 'link', 'show', 'tb0')[0]!.ifindex;
    const s = NetlinkSocket.open('route', { netns: ns.name });
    const { sndbuf } = s.buffers();
    const b = s.newBatch();
    const n = 5000;
    for (let i = 0; i < n; i++) b.appendRaw(newRoute([10, 99, i >> 8, i & 255], 32, idx, 300));
    const bytes = b.byteLength;
    const out = await s.run(b, 'addRoute');
    expect(out.failures).toEqual([]);
    expect(out.sendCalls).toBeGreaterThanOrEqual(Math.ceil(bytes / (sndbuf - 32)));
    expect(out.sendCalls).toBeLessThan(n / 10);
    const dump = s.newBatch();
    dump.appendRaw(dumpRoutes());
    const d = await s.run(dump, 'dumpRoutes', { large: true });
    expect(d.status[0]).toBe(0);
    // Independent count through iproute2.
    expect(ipJson<unknown[]>(ns.name, 'route', 'show', 'table', '300')).toHaveLength(n);
    expect(countRoutes(d.replies, d.replyOffsets, 300)).toBe(n);
    s.close();
  });

  it('refuses requests on a closed socket with EBADF, and rejects malformed raw batches', async () => {
    const s = NetlinkSocket.open('route', { netns: ns.name });
    const b = s.newBatch();
    expect(() => b.appendRaw(Buffer.from([1, 2, 3, 4, 5]))).toThrow(RangeError);
    const bad = getLink(1);
    bad.writeUInt32LE(4096, 0); // claims more bytes than it has
    expect(() => b.appendRaw(bad)).toThrow(/does not fit/);
    b.appendRaw(getLink(1));
    s.close();
    expect(s.closed).toBe(true);
    await expect(s.run(b, 'getLink')).rejects.toMatchObject({ code: 'EBADF' });
    expect(() => s.runSync(b, 'getLink')).toThrow(/EBADF/);
  });
});
