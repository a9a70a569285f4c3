// What an event stream does to the life of the process (issue #14 part 5): a Node program that
// opens rtnl.events() and never reads it must still exit by itself, like a paused net.Socket; a
// for-await loop that is waiting for events keeps the process alive; leaving the loop releases it.
// Each case is a child node process on a fresh namespace this file creates. Waits are bounded
// (a child still running after BOUND_MS is killed and the case fails); nothing is timed.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ip, skipUnless, useNetns } from '../helpers/kernel.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const viteNode = join(root, 'node_modules/.bin/vite-node');
const BOUND_MS = 20_000;

// argv: NS MODE. Prints 'ready' once subscribed, 'event NAME' per link event while iterating.
const CHILD = `
import { Rtnl } from ${JSON.stringify(join(root, 'lib/rtnl/index.ts'))};
const [ns, mode] = process.argv.slice(2);
const rtnl = Rtnl.open({ netns: ns });
const stream = rtnl.events({ types: ['link'] });
if (mode === 'idle') {
  console.log('ready'); // never iterated, never closed, handle left open
} else if (mode === 'break') {
  console.log('ready');
  await rtnl.links.createVeth('lt-break0', 'lt-break1', {});
  for await (const e of stream) {
    console.log('event ' + e.value.name);
    break; // return() must release the loop; the handle stays open
  }
} else if (mode === 'once') {
  console.log('ready');
  await rtnl.links.createVeth('lt-once0', 'lt-once1', {});
  const r = await stream.next(); // one read, then the stream is left alone (not closed)
  console.log('event ' + r.value.value.name);
} else if (mode === 'iterate') {
  console.log('ready');
  for await (const e of stream) console.log('event ' + e.value.name);
}
`;

// Plain node on the addon's socket (what RtnlEventStream does when nobody reads: watch, setRef
// false): events arrive while the loop is blocked and are still unread when the script ends, so
// Node's teardown polls the socket once more when JS can no longer run. Plain node, because
// vite-node's own shutdown work would read the socket before the loop runs dry. argv: ROOT NS.
const RAW_CHILD = `
const { execFileSync } = require('node:child_process');
const native = require(require('node:path').join(process.argv[2], 'node_modules/node-gyp-build'))(process.argv[2]);
const ns = process.argv[3];
const s = new native.NativeSocket(0 /* NETLINK_ROUTE */, 1, '/run/netns/' + ns, 0, 1 << 20);
s.watch([1 /* RTNLGRP_LINK */], () => console.log('delivered'));
s.setRef(false);
execFileSync('ip', ['-n', ns, 'link', 'add', 'lt-unread0', 'type', 'veth', 'peer', 'name', 'lt-unread1']);
console.log('ready');
`;

interface Child {
  lines: string[];
  /** Resolves with how the child ended; a child alive after BOUND_MS is killed (killed: true). */
  ended: Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean; stderr: string }>;
  /** Resolves when a line satisfying `pred` has been printed (rejects if the child ends first). */
  line(pred: (l: string) => boolean): Promise<string>;
  alive(): boolean;
  kill(): void;
}

function runChild(script: string, ns: string, mode: string, bound = true): Child {
  const argv = mode === 'raw' ? [process.execPath, script, root, ns] : [viteNode, script, ns, mode];
  const p = spawn(argv[0]!, argv.slice(1), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { pred: (l: string) => boolean; resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  let buf = '';
  let stderr = '';
  let exited = false;
  p.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(l);
      for (const w of waiters.splice(0)) (w.pred(l) ? w.resolve(l) : waiters.push(w));
    }
  });
  p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let killed = false;
  const timer = bound ? setTimeout(() => { killed = true; p.kill('SIGKILL'); }, BOUND_MS) : undefined;
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean; stderr: string }>((resolve) => {
    p.on('close', (code, signal) => {
      exited = true;
      clearTimeout(timer);
      for (const w of waiters.splice(0)) w.reject(new Error(`child (${mode}) ended (code ${code}, signal ${signal}) before the expected line; stdout: ${lines.join(' | ')}; stderr: ${stderr}`));
      resolve({ code, signal, killed, stderr });
    });
  });
  return {
    lines,
    ended,
    line: (pred) => {
      const seen = lines.find(pred);
      if (seen !== undefined) return Promise.resolve(seen);
      if (exited) return Promise.reject(new Error(`child (${mode}) already ended; stdout: ${lines.join(' | ')}; stderr: ${stderr}`));
      return new Promise((resolve, reject) => waiters.push({ pred, resolve, reject }));
    },
    alive: () => !exited,
    kill: () => p.kill('SIGKILL'),
  };
}

describe.skipIf(skipUnless('netns'))('event stream and the life of the process (child processes, own namespace)', () => {
  const ns = useNetns('lvskit-evlife');
  const dir = mkdtempSync(join(tmpdir(), 'lvskit-evlife-'));
  const script = join(dir, 'child.mts');
  writeFileSync(script, CHILD);
  const rawScript = join(dir, 'raw-child.cjs');
  writeFileSync(rawScript, RAW_CHILD);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a stream that is never iterated does not keep node running', async () => {
    const c = runChild(script, ns.name, 'idle');
    const end = await c.ended;
    expect(end.killed, `still running after ${BOUND_MS} ms: an un-iterated stream holds the event loop`).toBe(false);
    expect(end.code, end.stderr).toBe(0);
    expect(c.lines).toEqual(['ready']);
  });

  it('a stream with unread events at exit lets node exit cleanly', async () => {
    const c = runChild(rawScript, ns.name, 'raw');
    const end = await c.ended;
    expect(end.killed, `still running after ${BOUND_MS} ms`).toBe(false);
    expect(end.stderr).not.toMatch(/terminate|Napi::Error|Abort/);
    expect([end.code, end.signal], end.stderr).toEqual([0, null]);
    expect(c.lines).toEqual(['ready']);
    ip(ns.name, 'link', 'del', 'lt-unread0');
  });

  it('breaking out of for-await releases the process', async () => {
    const c = runChild(script, ns.name, 'break');
    const end = await c.ended;
    expect(end.killed, `still running after ${BOUND_MS} ms after break`).toBe(false);
    expect(end.code, end.stderr).toBe(0);
    expect(c.lines).toHaveLength(2);
    expect(c.lines[1]).toMatch(/^event lt-break[01]$/); // one event, then the loop was left
    ip(ns.name, 'link', 'del', 'lt-break0');
  });

  it('a stream read once and then left alone does not keep node running', async () => {
    const c = runChild(script, ns.name, 'once');
    const end = await c.ended;
    expect(end.killed, `still running after ${BOUND_MS} ms with no read pending`).toBe(false);
    expect(end.code, end.stderr).toBe(0);
    expect(c.lines).toHaveLength(2);
    expect(c.lines[1]).toMatch(/^event lt-once[01]$/);
    ip(ns.name, 'link', 'del', 'lt-once0');
  });

  it('a for-await loop waiting for events keeps node running and receives every change', async () => {
    const c = runChild(script, ns.name, 'iterate', false);
    try {
      await c.line((l) => l === 'ready');
      // Had the waiting loop not held the event loop, the child would exit right after 'ready'
      // (nothing else is pending in it); each change below is made only after the previous one
      // was seen, so the child is idle and waiting in between.
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 300));
        expect(c.alive(), `child exited while waiting for events; stdout: ${c.lines.join(' | ')}`).toBe(true);
        ip(ns.name, 'link', 'add', `lt-it${i}`, 'type', 'veth', 'peer', 'name', `lt-ip${i}`);
        await c.line((l) => l === `event lt-it${i}`);
      }
      expect(c.alive()).toBe(true);
    } finally {
      c.kill();
    }
    const end = await c.ended;
    expect(end.signal).toBe('SIGKILL'); // it was still running: only the kill ended it
    for (let i = 0; i < 3; i++) ip(ns.name, 'link', 'del', `lt-it${i}`);
  });
});
