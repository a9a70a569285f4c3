// Abuse of the native surface from JS (issue #9): wrong `this`, wrong types, NaN/huge/negative
// numbers, strings where buffers are expected, worker threads. Each must end in a thrown Error
// with a message, never a crash. Nothing here opens a socket: the socket-level abuse (closed
// handles, concurrent calls, vanished namespaces) is in test/netns/abuse-*.test.ts.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { native } from '../../lib/native.js';
import { NetlinkSocket, resolveNetns } from '../../lib/socket.js';
import { ValidationError } from '../../lib/errors.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Classifies what a call did. */
function outcome(f: () => unknown): string {
  try {
    f();
    return 'returned';
  } catch (e) {
    if (!(e instanceof Error)) return `threw a non-Error ${typeof e}`;
    if (!e.message) return `threw ${e.constructor.name} without a message`;
    return 'threw';
  }
}

describe('wrong `this` on every native method and accessor', () => {
  const classes = { NativeSocket: native.NativeSocket, NativeBatch: native.NativeBatch } as unknown as Record<string, { prototype: object }>;
  const foreignThis: [string, () => unknown][] = [
    ['a plain object', () => ({})],
    ['a number', () => 5],
    ['undefined', () => undefined],
    ['null', () => null],
    ['a string', () => 'socket'],
    ['an object inheriting the prototype', () => Object.create(native.NativeSocket.prototype)],
    ['an object inheriting the batch prototype', () => Object.create(native.NativeBatch.prototype)],
    ['the other class', () => new native.NativeBatch()],
  ];
  // The accessors once accepted an instance of the other class (type confusion, fixed in
  // f1a80ef); test/fuzz-corpus/crashes/abuse/accessor-type-confusion.cjs is the reproducer.
  for (const [cls, ctor] of Object.entries(classes)) {
    for (const name of Object.getOwnPropertyNames(ctor.prototype)) {
      if (name === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(ctor.prototype, name)!;
      const fn = (d.value ?? d.get) as (...a: unknown[]) => unknown;
      it(`${cls}.${name} throws with any foreign this`, () => {
        for (const [what, make] of foreignThis) {
          const self = make();
          if (cls === 'NativeBatch' && self instanceof native.NativeBatch) continue; // its own class
          expect(outcome(() => fn.call(self, new native.NativeBatch(), {})), `${cls}.${name} with this = ${what}`).toBe('threw');
        }
      });
    }
  }

  it('classes refuse to be called without new', () => {
    expect(() => (native.NativeBatch as unknown as () => unknown)()).toThrow(TypeError);
    expect(() => (native.NativeSocket as unknown as () => unknown)()).toThrow(TypeError);
  });
});

describe('NativeBatch input', () => {
  it('appendRaw refuses strings, numbers, other typed arrays and malformed messages with a clear error', () => {
    const b = new native.NativeBatch();
    const raw = b as unknown as { appendRaw(x: unknown): number };
    expect(() => raw.appendRaw('RTM_NEWROUTE')).toThrow(/must be a Buffer or Uint8Array/);
    expect(() => raw.appendRaw(42)).toThrow(TypeError);
    expect(() => raw.appendRaw(new Uint16Array(8))).toThrow(TypeError);
    expect(() => raw.appendRaw(new ArrayBuffer(16))).toThrow(TypeError);
    expect(() => raw.appendRaw(undefined)).toThrow(TypeError);
    // A header claiming more bytes than given, and a header shorter than itself.
    const liar = Buffer.alloc(16);
    liar.writeUInt32LE(4096, 0);
    expect(() => b.appendRaw(liar)).toThrow(RangeError);
    const tiny = Buffer.alloc(16);
    tiny.writeUInt32LE(3, 0);
    expect(() => b.appendRaw(tiny)).toThrow(RangeError);
    expect(() => b.appendRaw(Buffer.alloc(7))).toThrow(/trailing bytes/);
    // Nothing of a refused call was kept.
    expect(b.count).toBe(0);
    expect(b.byteLength).toBe(0);
  });

  it('appendRaw takes an empty buffer and a large valid one', () => {
    const b = new native.NativeBatch();
    expect(b.appendRaw(Buffer.alloc(0))).toBe(0);
    const one = Buffer.alloc(20);
    one.writeUInt32LE(20, 0);
    one.writeUInt16LE(24, 4);
    expect(b.appendRaw(Buffer.concat(Array.from({ length: 100_000 }, () => one)))).toBe(100_000);
    expect(b.count).toBe(100_000);
    b.clear();
    expect(b.count).toBe(0);
  });
});

describe('the TypeScript layer refuses bad socket options before anything native runs', () => {
  const bad: [string, unknown][] = [
    ['NaN', NaN],
    ['negative', -1],
    ['huge', 2 ** 40],
    ['fractional', 1.5],
    ['a string', '1024'],
    ['Infinity', Infinity],
  ];
  for (const [what, v] of bad) {
    it(`receiveBufferBytes ${what}`, () => {
      expect(() => NetlinkSocket.open('route', { receiveBufferBytes: v as number })).toThrow(ValidationError);
      expect(() => NetlinkSocket.open('route', { receiveBufferBytes: v as number })).toThrow(/receiveBufferBytes must be an integer/);
    });
  }
  it('protocol and namespace specs', () => {
    expect(() => NetlinkSocket.open('xfrm' as 'route')).toThrow(/protocol must be 'route', 'generic' or 'netfilter'/);
    for (const ns of [{ pid: -1 }, { pid: NaN }, { pid: 1.5 }, { name: 'a/b' }, { name: '..' }, { name: '' }, { path: '' }, 42, null, {}]) {
      expect(() => resolveNetns(ns as never), JSON.stringify(ns)).toThrow(ValidationError);
    }
  });
});

// Every exported native function, called in a child process with garbage in every position (a
// crash there is a failed test that says which function, not a dead test runner). Functions that
// act on the host (create/delete namespaces, open or close file descriptors) and the socket
// constructor are left to tests that own a namespace.
const GARBAGE_CHILD = String.raw`
const { createRequire } = require('node:module');
const native = createRequire(process.argv[1] + '/')('node-gyp-build')(process.argv[1]);
const skip = new Set(['createNetns', 'deleteNetns', 'netnsOpenFd', 'netnsCloseFd', 'NativeSocket', 'probeNetns']);
const fns = [];
(function walk(o, path) {
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (skip.has(k)) continue;
    if (typeof v === 'function' && k !== 'NativeBatch') fns.push([path + k, v]);
    else if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) walk(v, path + k + '.');
  }
})(native, '');
const trap = new Proxy({}, { get() { throw new Error('trap'); } });
const sparse = new Array(2 ** 20);
const long = 'x'.repeat(70000);
const garbageList = [undefined, null, true, 0, -1, -0, 1.5, NaN, Infinity, -Infinity, 2 ** 32, 2 ** 53, -(2 ** 31) - 1, 1e308,
  '', 'abc', '\0', long, {}, [], [1, 2, 3], Symbol('s'), 10n, () => 0, trap,
  Buffer.alloc(0), Buffer.alloc(64, 0xff), new Uint8Array(3), new Float64Array(4), new Uint32Array(16), new Int32Array(2),
  new ArrayBuffer(8), new DataView(new ArrayBuffer(8)), new native.NativeBatch(), Object.create(null), sparse];
const garbage = () => garbageList;
const plausibleList = [0, 1, 2, 4, 6, 10, 16, 17, 255, 256, 65535, 2 ** 31 - 1, 'eth0', 'rr', true, false,
  Buffer.alloc(16), Buffer.alloc(1500, 0x45), new Uint32Array(64), new Uint16Array(64), new Uint8Array(256), new native.NativeBatch()];
const plausible = () => plausibleList;
let seed = 0x9e3779b9;
const rand = (n) => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed % n; };
const stats = { functions: fns.length, calls: 0, returned: 0, threw: 0, nonError: [], emptyMessage: [] };
function call(name, f, args) {
  stats.calls++;
  try { f(...args); stats.returned++; }
  catch (e) {
    stats.threw++;
    if (!(e instanceof Error)) { if (stats.nonError.length < 20) stats.nonError.push(name); }
    else if (!e.message && stats.emptyMessage.length < 20) stats.emptyMessage.push(name);
  }
}
for (const [name, f] of fns) {
  process.stderr.write('calling ' + name + '\n');
  const g = garbage();
  for (const v of g) {
    call(name, f, [v]);
    call(name, f, Array(8).fill(v));
    for (let pos = 0; pos < 8; pos++) {
      const args = plausible().slice(0, 8);  // a copy: the slot is overwritten
      args[pos] = v;
      call(name, f, args);
    }
  }
  for (let i = 0; i < 400; i++) {
    const pool = i & 1 ? plausible() : garbage();
    const args = Array.from({ length: rand(11) }, () => (rand(3) ? plausible() : pool)[rand(pool.length)]);
    call(name, f, args);
  }
}
process.stdout.write(JSON.stringify(stats));
`;

describe('garbage into every exported native function', () => {
  it('every call returns or throws an Error with a message; the process survives', () => {
    const r = spawnSync(process.execPath, ['-e', GARBAGE_CHILD, root], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 600_000 });
    const lastCall = r.stderr.trim().split('\n').slice(-3).join(' | ');
    expect(r.signal, `crashed in: ${lastCall}`).toBeNull();
    expect(r.status, `exit ${r.status}; last: ${lastCall}`).toBe(0);
    const stats = JSON.parse(r.stdout) as { functions: number; calls: number; threw: number; nonError: string[]; emptyMessage: string[] };
    expect(stats.functions).toBeGreaterThan(20);
    expect(stats.calls).toBeGreaterThan(stats.functions * 500);
    expect(stats.threw).toBeGreaterThan(0);
    expect(stats.nonError).toEqual([]);
    expect(stats.emptyMessage).toEqual([]);
  });
});

describe('worker threads', () => {
  const WORKER = String.raw`
    const { parentPort, workerData } = require('node:worker_threads');
    const { createRequire } = require('node:module');
    const native = createRequire(workerData.root + '/')('node-gyp-build')(workerData.root);
    let n = 0;
    const keys = new Uint32Array(1024).map((_, i) => i * 2654435761);
    const out = new Uint32Array(1024);
    parentPort.postMessage('loaded');
    for (;;) {
      const b = new native.NativeBatch();
      const m = Buffer.alloc(20);
      m.writeUInt32LE(20, 0);
      b.appendRaw(m);
      try { native.hash.jhash('x'); } catch {}
      try { b.appendRaw('not a buffer'); } catch {}
      n++;
      if (workerData.stopAfter && n >= workerData.stopAfter) break;
    }
    parentPort.postMessage(n);
  `;
  const run = (stopAfter: number) => new Worker(WORKER, { eval: true, workerData: { root, stopAfter } });

  it('workers load the addon and use it concurrently with the main thread', async () => {
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        new Promise<number>((resolve, reject) => {
          const w = run(20_000);
          w.on('message', (m) => typeof m === 'number' && resolve(m));
          w.on('error', reject);
        }),
      ),
    );
    expect(results).toEqual([20_000, 20_000, 20_000, 20_000]);
    expect(new native.NativeBatch().count).toBe(0);
  });

  it('terminating workers in the middle of native calls (50 times) leaves the process and the addon usable', async () => {
    // Once aborted the whole process (node-addon-api rethrowing on a dying env; fixed in f1a80ef).
    for (let i = 0; i < 50; i++) {
      const w = run(0);
      await new Promise<void>((resolve, reject) => {
        w.once('message', () => resolve());
        w.once('error', reject);
      });
      expect(await w.terminate()).toBe(1);
    }
    expect(new native.NativeBatch().count).toBe(0);
  });

  it('terminating workers that hold lvskit objects (50 times) leaves the process and the addon usable', async () => {
    const HOLDER = String.raw`
      const { parentPort, workerData } = require('node:worker_threads');
      const { createRequire } = require('node:module');
      const native = createRequire(workerData.root + '/')('node-gyp-build')(workerData.root);
      globalThis.held = Array.from({ length: 100 }, () => new native.NativeBatch());
      parentPort.postMessage('ready');
      for (;;) {}
    `;
    for (let i = 0; i < 50; i++) {
      const w = new Worker(HOLDER, { eval: true, workerData: { root } });
      await new Promise<void>((resolve, reject) => {
        w.once('message', () => resolve());
        w.once('error', reject);
      });
      expect(await w.terminate()).toBe(1); // terminated, not crashed
    }
    const b = new native.NativeBatch();
    const m = Buffer.alloc(20);
    m.writeUInt32LE(20, 0);
    expect(b.appendRaw(m)).toBe(1);
  });
});
