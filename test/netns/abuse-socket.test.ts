// Abuse of open handles against the host kernel, inside namespaces this file creates (issue #9):
// closed handles, concurrent calls on one handle, worker threads with sockets, a namespace
// deleted under an open handle, the process exiting with requests in flight, and the load test:
// 8 handles running concurrent batches must leave exactly the expected kernel state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ip, ipJson, skipUnless, useNetns } from '../helpers/kernel.js';
import { countRoutes, dumpRoutes, newRoute } from '../helpers/rtmsg.js';
import { NetlinkSocket, createNetns, deleteNetns } from '../../lib/socket.js';
import { NetlinkError } from '../../lib/errors.js';
import { Rtnl } from '../../lib/rtnl/index.js';
import type { RouteSpec } from '../../lib/rtnl/route-types.js';
import { native } from '../../lib/native.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const TABLE = 100;

/** Route add requests for `n` distinct /32s in TABLE via lo, numbered from `first`. */
function routes(first: number, n: number): Buffer {
  return Buffer.concat(Array.from({ length: n }, (_, k) => {
    const i = first + k;
    return newRoute([10, (i >> 16) & 255, (i >> 8) & 255, i & 255], 32, 1, TABLE);
  }));
}

async function countTable(s: NetlinkSocket): Promise<number> {
  const b = s.newBatch();
  b.appendRaw(dumpRoutes());
  const o = await s.run(b, 'dump', { large: true });
  return countRoutes(o.replies, o.replyOffsets, TABLE);
}

describe.skipIf(skipUnless('netns'))('abuse of open handles (host kernel, own namespaces)', () => {
  const ns = useNetns('lvskit-ab');
  let sock: NetlinkSocket;
  beforeAll(() => {
    sock = NetlinkSocket.open('route', { netns: ns.name });
  });
  afterAll(() => sock?.close());

  it('every call on a closed handle fails with EBADF; close is idempotent', async () => {
    const s = NetlinkSocket.open('route', { netns: ns.name });
    s.close();
    s.close();
    expect(s.closed).toBe(true);
    await expect(s.run(s.newBatch(), 'addRoute')).rejects.toMatchObject({ name: 'NetlinkError', code: 'EBADF', op: 'addRoute' });
    expect(() => s.runSync(s.newBatch(), 'addRoute')).toThrow(/EBADF/);
    expect(() => s.resolveFamily('nlctrl')).toThrow(/EBADF/);
    expect(() => s.readNamespaceFile('/proc/sys/net/ipv4/ip_forward')).toThrow(/EBADF/);
    expect(() => s.watch([1], () => {})).toThrow(/EBADF/);
    s.unwatch();
  });

  it('the raw native socket refuses garbage arguments with TypeErrors, and works afterwards', () => {
    const raw = new native.NativeSocket(0, 1, `/run/netns/${ns.name}`, 0, 0) as unknown as Record<string, (...a: unknown[]) => unknown>;
    const garbage: unknown[] = [undefined, null, 0, NaN, -1, 2 ** 53, 'x', {}, [], Buffer.alloc(8), new Uint32Array(2), Symbol('s')];
    for (const g of garbage) {
      for (const m of ['executeSync', 'execute', 'resolveFamily', 'watch', 'readFile', 'writeFile']) {
        let threw = false;
        try {
          const r = raw[m]!(g, g);
          if (r instanceof Promise) r.catch(() => {});
        } catch (e) {
          threw = true;
          expect(e, `${m}(${String(g)})`).toBeInstanceOf(Error);
          expect((e as Error).message.length).toBeGreaterThan(0);
        }
        // resolveFamily('x') and readFile('x') are well-typed calls that fail in the kernel/fs.
        if (typeof g !== 'string') expect(threw, `${m}(${String(g)}) must throw`).toBe(true);
      }
    }
    const b = new native.NativeBatch();
    b.appendRaw(dumpRoutes());
    expect(() => raw.executeSync!(b, { dumpIntrRetries: NaN })).not.toThrow();
    raw.close!();
  });

  it('a second native execute on a busy socket says EBUSY; queued TS calls all complete in order', async () => {
    const raw = new native.NativeSocket(0, 1, `/run/netns/${ns.name}`, 0, 0);
    const b1 = new native.NativeBatch();
    b1.appendRaw(dumpRoutes());
    const p = raw.execute(b1, {});
    const b2 = new native.NativeBatch();
    b2.appendRaw(dumpRoutes());
    expect(() => raw.executeSync(b2, {})).toThrow(/EBUSY|in flight/);
    expect(() => raw.execute(b2, {})).toThrow(/EBUSY|in flight/);
    raw.close(); // while the worker holds it: closes after
    await p;
    expect(raw.closed).toBe(true);

    const order: number[] = [];
    const calls = Array.from({ length: 200 }, (_, i) => {
      const b = sock.newBatch();
      b.appendRaw(i % 3 === 0 ? dumpRoutes() : routes(900_000 + i, 1));
      return sock.run(b, `call ${i}`, { large: i % 2 === 0 }).then((o) => {
        order.push(i);
        return o;
      });
    });
    const outs = await Promise.all(calls);
    expect(order).toEqual(Array.from({ length: 200 }, (_, i) => i));
    for (const o of outs) expect(o.fatal).toBeNull();
    expect(await countTable(sock)).toBe(200 - 67);
    ip(ns.name, 'route', 'flush', 'table', String(TABLE));
  });

  it('closing with requests queued: the one in flight finishes, the queued ones reject with EBADF', async () => {
    const s = NetlinkSocket.open('route', { netns: ns.name });
    const ps = Array.from({ length: 20 }, (_, i) => {
      const b = s.newBatch();
      b.appendRaw(routes(800_000 + i * 100, 100));
      return s.run(b, `batch ${i}`, { large: true });
    });
    s.close();
    const settled = await Promise.allSettled(ps);
    const rejected = settled.filter((r) => r.status === 'rejected');
    for (const r of rejected) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'EBADF' });
    const fulfilled = settled.length - rejected.length;
    expect(fulfilled).toBeLessThanOrEqual(1);
    // What the kernel holds is exactly what was reported applied.
    expect(await countTable(sock)).toBe(fulfilled * 100);
    ip(ns.name, 'route', 'flush', 'table', String(TABLE));
  });

  it('sockets in worker threads: concurrent use, terminate mid-request, exit with a request in flight', async () => {
    const W = String.raw`
      const { parentPort, workerData } = require('node:worker_threads');
      const { createRequire } = require('node:module');
      const native = createRequire(workerData.root + '/')('node-gyp-build')(workerData.root);
      const s = new native.NativeSocket(0, 1, workerData.path, 0, 0);
      const dump = Buffer.from(workerData.dump);
      let n = 0;
      (async () => {
        for (;;) {
          const b = new native.NativeBatch();
          b.appendRaw(dump);
          await s.execute(b, {});
          if (++n === workerData.stopAfter) { s.close(); parentPort.postMessage(n); return; }
          if (n === 1) parentPort.postMessage('running');
        }
      })();
    `;
    const start = (stopAfter: number) => new Worker(W, { eval: true, workerData: { root, path: `/run/netns/${ns.name}`, dump: dumpRoutes(), stopAfter } });
    const done = await Promise.all(Array.from({ length: 4 }, () => new Promise<number>((resolve, reject) => {
      const w = start(300);
      w.on('message', (m) => typeof m === 'number' && resolve(m));
      w.on('error', reject);
    })));
    expect(done).toEqual([300, 300, 300, 300]);
    // Terminated mid-request, and exiting (process.exit in the worker) with an execute() still
    // on the thread pool: both once aborted the whole process (fixed in f1a80ef).
    for (let i = 0; i < 20; i++) {
      const w = start(0);
      await new Promise<void>((resolve, reject) => {
        w.once('message', () => resolve());
        w.once('error', reject);
      });
      expect(await w.terminate()).toBe(1);
    }
    const EXITING = String.raw`
      const { workerData } = require('node:worker_threads');
      const { createRequire } = require('node:module');
      const native = createRequire(workerData.root + '/')('node-gyp-build')(workerData.root);
      const s = new native.NativeSocket(0, 1, workerData.path, 0, 0);
      const b = new native.NativeBatch();
      for (let i = 0; i < 200; i++) b.appendRaw(Buffer.from(workerData.dump));
      s.execute(b, {});
      process.exit(3);
    `;
    for (let i = 0; i < 20; i++) {
      const w = new Worker(EXITING, { eval: true, workerData: { root, path: `/run/netns/${ns.name}`, dump: dumpRoutes() } });
      expect(await new Promise((resolve) => w.once('exit', resolve))).toBe(3);
    }
    expect(await countTable(sock)).toBe(0); // the main thread's handle still works
  });
});

describe.skipIf(skipUnless('netns'))('a namespace deleted under an open handle', () => {
  it('refuses with ENOENT naming the namespace, also when a new one took the name', async () => {
    const name = `lvskit-gone-${process.pid}`;
    createNetns(name);
    let s: NetlinkSocket | undefined;
    try {
      s = NetlinkSocket.open('route', { netns: name });
      const g = NetlinkSocket.open('generic', { netns: name });
      const rtnl = Rtnl.open({ netns: name });
      deleteNetns(name);
      // Nothing can be sent: run() rejects with ENOENT naming the namespace...
      const b = s.newBatch();
      b.appendRaw(routes(1, 1));
      await expect(s.run(b, 'addRoute')).rejects.toMatchObject({ name: 'NetlinkError', code: 'ENOENT', message: expect.stringMatching(new RegExp(`${name}.*deleted or replaced`)) });
      // ...and so does every family call, also one that first resolves a device by name
      // (it used to report "dev is not an interface ... (EUNKNOWN)").
      await expect(rtnl.routes.add({ dst: '10.0.0.0/24', dev: 1, table: TABLE } as RouteSpec)).rejects.toThrow(/deleted or replaced/);
      await expect(rtnl.routes.add({ dst: '10.0.0.0/24', dev: 'lo', table: TABLE } as RouteSpec)).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringMatching(/deleted or replaced/) });
      rtnl.close();
      expect(() => g.resolveFamily('nlctrl')).toThrow(/deleted or replaced/);
      expect(() => s!.readNamespaceFile('/proc/sys/net/ipv4/ip_forward')).toThrow(/deleted or replaced/);
      // A new namespace under the same name is another namespace: still refused.
      createNetns(name);
      const b2 = s.newBatch();
      b2.appendRaw(routes(1, 1));
      await expect(s.run(b2, 'addRoute', { large: true })).rejects.toMatchObject({ code: 'ENOENT' });
      expect(ipJson<unknown[]>(name, 'route', 'show', 'table', 'all').length).toBe(0); // nothing reached the new one
      g.close();
    } finally {
      s?.close();
      try {
        deleteNetns(name);
      } catch {
        /* already gone */
      }
    }
  });
});

describe.skipIf(skipUnless('netns'))('the process exiting with requests in flight', () => {
  const ns = useNetns('lvskit-exit');
  for (const how of ['process.exit()', 'an uncaught exception', 'the event loop running dry while watching']) {
    it(`ends cleanly on ${how}`, () => {
      const child = String.raw`
        const { createRequire } = require('node:module');
        const native = createRequire(process.argv[1] + '/')('node-gyp-build')(process.argv[1]);
        const path = process.argv[2], how = process.argv[3];
        const mk = (first) => { const b = Buffer.alloc(0); return b; };
        const socks = Array.from({ length: 8 }, () => new native.NativeSocket(0, 1, path, 0, 0));
        const dump = Buffer.from(process.argv[4], 'hex');
        for (const s of socks) { const b = new native.NativeBatch(); for (let i = 0; i < 50; i++) b.appendRaw(dump); s.execute(b, {}).catch(() => {}); }
        if (how.startsWith('the event loop')) {
          const w = new native.NativeSocket(0, 1, path, 0, 0);
          w.watch([5], () => {});
          setTimeout(() => w.unwatch(), 50);
        } else {
          setImmediate(() => { if (how === 'process.exit()') process.exit(7); throw new Error('boom'); });
        }
      `;
      const r = spawnSync(process.execPath, ['-e', child, root, `/run/netns/${ns.name}`, how, dumpRoutes().toString('hex')], { encoding: 'utf8', timeout: 60_000 });
      expect(r.error, 'the child hung').toBeUndefined();
      expect(r.signal, r.stderr).toBeNull();
      if (how === 'process.exit()') expect(r.status).toBe(7);
      else if (how === 'an uncaught exception') {
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/boom/);
      } else expect(r.status).toBe(0);
      expect(r.stderr).not.toMatch(/terminate called|Assertion|Segmentation|FATAL/);
    });
  }
});

describe.skipIf(skipUnless('netns'))('load: 8 handles, concurrent batches, one kernel', () => {
  const ns = useNetns('lvskit-load');
  const HANDLES = 8;
  const PER_HANDLE = 4000;
  const BATCH = 250;

  it(`${HANDLES} x ${PER_HANDLE} route adds in batches of ${BATCH} end in exactly ${HANDLES * PER_HANDLE} routes, then none`, async () => {
    const handles = Array.from({ length: HANDLES }, () => NetlinkSocket.open('route', { netns: ns.name }));
    try {
      const run = (h: number, make: (first: number, n: number) => Buffer) =>
        (async () => {
          const s = handles[h]!;
          const outs = [];
          for (let off = 0; off < PER_HANDLE; off += BATCH) {
            const b = s.newBatch();
            b.appendRaw(make(h * PER_HANDLE + off, BATCH));
            // Alternate the thread-pool path and the synchronous path.
            outs.push(s.run(b, 'add', { large: (off / BATCH) % 2 === 0, ackEach: h % 2 === 0 }));
          }
          return Promise.all(outs);
        })();
      const results = (await Promise.all(Array.from({ length: HANDLES }, (_, h) => run(h, routes)))).flat();
      let ok = 0;
      for (const o of results) {
        expect(o.fatal).toBeNull();
        for (const st of o.status) if (st === 0) ok++;
      }
      expect(ok).toBe(HANDLES * PER_HANDLE);
      // Exactly the expected state: every prefix once, no other route in the table.
      const shown = JSON.parse(execFileSync('ip', ['-n', ns.name, '-j', 'route', 'show', 'table', String(TABLE)], { encoding: 'utf8', maxBuffer: 256 << 20 })) as { dst: string }[];
      expect(shown.length).toBe(HANDLES * PER_HANDLE);
      const seen = new Set(shown.map((r) => r.dst));
      expect(seen.size).toBe(HANDLES * PER_HANDLE);
      for (const i of [0, 1, PER_HANDLE - 1, PER_HANDLE, HANDLES * PER_HANDLE - 1])
        expect(seen.has(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`)).toBe(true);
      // Adding them again: every single one is refused (EEXIST), none duplicated.
      const again = (await Promise.all(Array.from({ length: HANDLES }, (_, h) => run(h, routes)))).flat();
      let eexist = 0;
      for (const o of again) for (let i = 0; i < o.status.length; i++) if (o.status[i] === 1 && o.errors[i] === 17) eexist++;
      expect(eexist).toBe(HANDLES * PER_HANDLE);
      expect(await countTable(handles[0]!)).toBe(HANDLES * PER_HANDLE);
      // Concurrent deletes through the route API of 8 Rtnl handles: nothing left.
      const rtnls = Array.from({ length: HANDLES }, () => Rtnl.open({ netns: ns.name }));
      try {
        const reports = await Promise.all(rtnls.map((r, h) => {
          const specs: RouteSpec[] = Array.from({ length: PER_HANDLE }, (_, k) => {
            const i = h * PER_HANDLE + k;
            return { dst: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`, table: TABLE, dev: 'lo' } as RouteSpec;
          });
          return r.routes.deleteMany(specs);
        }));
        for (const rep of reports) {
          expect(rep.failed).toEqual([]);
          expect(rep.applied.length).toBe(PER_HANDLE);
        }
      } finally {
        for (const r of rtnls) r.close();
      }
      expect(await countTable(handles[0]!)).toBe(0);
    } finally {
      for (const s of handles) s.close();
    }
  });
});
