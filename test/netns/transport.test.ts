// Transport behaviour seen through the rtnetlink families, on the host kernel in namespaces this
// file creates (issue #2): ack storms, closing with requests queued, a namespace deleted under an
// open handle, and event-socket overruns.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { ipJson, skipUnless, useNetns } from '../helpers/kernel.js';
import { Rtnl, type LinkBatchOp, type AddressBatchOp } from '../../lib/rtnl/index.js';
import { NetlinkSocket, createNetns, deleteNetns } from '../../lib/socket.js';
import { NetlinkError } from '../../lib/errors.js';

describe.skipIf(skipUnless('netns'))('transport through rtnetlink (host kernel, own namespaces)', () => {
  const ns = useNetns('lvskit-tr');
  let rtnl: Rtnl;
  let ifindex: number;
  beforeAll(async () => {
    rtnl = Rtnl.open({ netns: ns.name });
    await rtnl.links.createVeth('t0', 't1', { up: true });
    ifindex = await rtnl.links.indexOf('t0');
  });
  afterAll(() => rtnl?.close());

  it('an ack storm never surfaces ENOBUFS: 50,000 link sets with ackEach all get their result', async () => {
    const ops: LinkBatchOp[] = Array.from({ length: 50_000 }, (_, i) => ({ op: 'set', link: ifindex, changes: { mtu: 1400 + (i % 100) } }));
    const r = await rtnl.links.batch(ops, { ackEach: true });
    expect(r.transportError).toBeUndefined();
    expect(r.items).toHaveLength(50_000);
    expect(r.applied).toHaveLength(50_000);
    expect(r.ok).toBe(true);
    // The last request won.
    expect(ipJson<{ mtu: number }[]>(ns.name, 'link', 'show', 't0')[0]!.mtu).toBe(1400 + (49_999 % 100));
  });

  it('an ack storm never surfaces ENOBUFS: 10,000 address adds with ackEach all get their result', async () => {
    const ops: AddressBatchOp[] = Array.from({ length: 10_000 }, (_, i) => ({
      op: 'add',
      link: ifindex,
      address: `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`,
    }));
    // One duplicate in the middle: its failure must be reported where it is, the rest applied.
    ops[5_000] = { ...ops[4_999]! } as AddressBatchOp;
    const r = await rtnl.addresses.batch(ops, { ackEach: true });
    expect(r.transportError).toBeUndefined();
    expect(r.items).toHaveLength(10_000);
    expect(r.failed).toEqual([5_000]);
    expect(r.items[5_000]!.error).toMatchObject({ code: 'EEXIST', batchIndex: 5_000 });
    expect(r.applied).toHaveLength(9_999);
    const shown = execFileSync('ip', ['-n', ns.name, '-j', '-4', 'addr', 'show', 'dev', 't0'], { encoding: 'utf8', maxBuffer: 256 << 20 });
    expect((JSON.parse(shown) as { addr_info: unknown[] }[])[0]!.addr_info.length).toBe(9_999);
    const del = await rtnl.addresses.batch(
      ops.filter((_, i) => i !== 5_000).map((o) => ({ op: 'delete' as const, link: ifindex, address: o.address })),
    );
    expect(del.ok).toBe(true);
  });

  it('closing a socket with requests pending rejects the queued ones with EBADF; the one in flight completes', async () => {
    const h = Rtnl.open({ netns: ns.name });
    const big = (mtu: number): LinkBatchOp[] => Array.from({ length: 20_000 }, () => ({ op: 'set', link: ifindex, changes: { mtu } }));
    const first = h.links.batch(big(1500));
    await new Promise((r) => setImmediate(r)); // the first batch has been handed to the thread pool
    const queued = [h.links.batch(big(1501)), h.links.batch(big(1502)), h.links.list()];
    h.close();
    const r = await first;
    expect(r.ok).toBe(true);
    expect(r.applied).toHaveLength(20_000);
    for (const q of queued) await expect(q).rejects.toMatchObject({ name: 'NetlinkError', code: 'EBADF' });
    expect(ipJson<{ mtu: number }[]>(ns.name, 'link', 'show', 't0')[0]!.mtu).toBe(1500);
    await expect(h.links.get('lo')).rejects.toMatchObject({ code: 'EBADF' });
    expect(h.closed).toBe(true);
  });

  it('a namespace deleted under an open handle gives a clear ENOENT', async () => {
    const name = `lvskit-gone-${process.pid}`;
    createNetns(name);
    let h: Rtnl | undefined;
    try {
      h = Rtnl.open({ netns: name });
      expect((await h.links.get('lo')).index).toBe(1);
    } finally {
      deleteNetns(name);
    }
    const e = await h.links.list().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e).toMatchObject({ code: 'ENOENT' });
    expect((e as Error).message).toMatch(/was deleted/);
    // An async run's error carries the caller's frames from before the thread-pool hop.
    expect((e as Error).stack).toMatch(/--- called from ---[\s\S]*transport\.test\.ts/);
    await expect(h.addresses.add({ link: 1, address: '10.0.0.1/32' })).rejects.toThrow(/was deleted/);
    await expect(h.sysctl.get('net.ipv4.ip_forward')).rejects.toThrow(/was deleted/);
    h.close();
  });

  // After the kernel drops events (ENOBUFS sets sk_err), epoll reports POLLERR and libuv hands
  // NativeSocket.watch UV_EBADF without reading; OnPoll must read through it (counting the overrun)
  // and restart the poll, so the consumer sees overruns, never a dead watch.
  it('a watched socket reports a kernel drop as overruns, not as an error', async () => {
    const s = NetlinkSocket.open('route', { netns: ns.name, receiveBufferBytes: 4096 });
    try {
      const first = new Promise<{ overruns: number; error?: Error }>((resolve) => {
        s.watch([5 /* RTNLGRP_IPV4_IFADDR */], (_b, _o, overruns, error) => {
          if (overruns > 0 || error) resolve({ overruns, error });
        });
      });
      // Another process makes 300 changes while this event loop is blocked and cannot read.
      const cmds = Array.from({ length: 300 }, (_, i) => `addr add 10.99.${i >> 7}.${(i & 127) + 1}/32 dev t1`).join('\n') + '\n';
      execFileSync('ip', ['-n', ns.name, '-batch', '-'], { input: cmds });
      const got = await first;
      expect(got.error).toBeUndefined();
      expect(got.overruns).toBeGreaterThan(0);
    } finally {
      s.close();
    }
  });
});
