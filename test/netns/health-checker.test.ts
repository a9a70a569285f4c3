// HealthChecker against real servers that exist only inside a namespace this file creates: a check
// that succeeds proves the worker's sockets were created in that namespace (the test process's own
// namespace has no such address).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ip, skipUnless, useNetns } from '../helpers/kernel.js';
import { startNodeIn } from '../ipvs/ipvs-helpers.js';
import { PORTS, SERVER_SCRIPT, selfSigned } from '../helpers/health-servers.js';
import { HealthChecker, HealthCheckerError, type HealthCheck } from '../../lib/health/index.js';
import { native } from '../../lib/native.js';
import { WORKER_SOURCE } from '../../lib/health/worker-source.js';
import { ValidationError } from '../../lib/errors.js';
import { skipWithoutTools } from '../helpers/tools.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ADDR = '10.213.0.1';
const ADDR6 = 'fd00:213::1';

describe.skipIf(skipUnless('netns') || skipWithoutTools('health checks (the HTTPS server needs a certificate)', ['openssl']))('health checks run inside the namespace (host kernel, own namespace)', () => {
  const ns = useNetns('lvskit-hc');
  let server: ChildProcess | undefined;
  let server6: ChildProcess | undefined;
  let serverLo: ChildProcess | undefined;
  let checker: HealthChecker;
  let tls: ReturnType<typeof selfSigned>;
  const target = (port: number) => ({ address: ADDR, port });

  beforeAll(async () => {
    ip(ns.name, 'addr', 'add', `${ADDR}/32`, 'dev', 'lo');
    ip(ns.name, 'addr', 'add', `${ADDR6}/128`, 'dev', 'lo', 'nodad');
    tls = selfSigned('rs1.example', ADDR);
    server = await startNodeIn(ns.name, SERVER_SCRIPT, [ADDR, 'rs1', tls.keyFile, tls.certFile], 'servers');
    server6 = await startNodeIn(ns.name, SERVER_SCRIPT, [ADDR6, 'rs1v6'], 'IPv6 servers');
    serverLo = await startNodeIn(ns.name, SERVER_SCRIPT, ['127.0.0.1', 'rs-lo'], 'loopback servers');
    checker = await HealthChecker.open({ netns: ns.name });
  });
  afterAll(async () => {
    await checker?.close();
    server?.kill();
    server6?.kill();
    serverLo?.kill();
    tls?.remove();
  });

  it('the worker entered exactly that namespace; the main thread is refused', () => {
    expect(checker.namespaceInode).toBe(statSync(`/run/netns/${ns.name}`).ino);
    expect(checker.netns).toBe(ns.name);
    expect(() => native.enterNetnsOnThisThread(1, `/run/netns/${ns.name}`, 0)).toThrow(/refusing to move the main thread/);
  });

  it('TCP connect: ok inside the namespace, refused on a closed port', async () => {
    const ok = await checker.check(target(PORTS.tcp), { type: 'tcp' });
    expect(ok).toMatchObject({ ok: true });
    const refused = await checker.check(target(PORTS.tcp + 100), { type: 'tcp' });
    expect(refused.ok).toBe(false);
    expect(refused.error).toMatch(/ECONNREFUSED/);
    expect((await checker.check({ address: ADDR6, port: PORTS.tcp }, { type: 'tcp' })).ok).toBe(true);
  });

  it("the namespace's own loopback answers the checker; the process namespace's loopback does not", async () => {
    // Traffic stays on loopback: 127.0.0.1 inside the namespace has the server, outside it has not.
    const check: HealthCheck = { type: 'http', bodyMatch: 'hello from rs-lo' };
    expect(await checker.check({ address: '127.0.0.1', port: PORTS.http }, check)).toMatchObject({ ok: true, status: 200 });
    const outside = await HealthChecker.open();
    try {
      expect(outside.namespaceInode).toBe(0);
      expect((await outside.check({ address: '127.0.0.1', port: PORTS.http }, check, { timeoutMs: 1000 })).ok).toBe(false);
    } finally {
      await outside.close();
    }
  });

  it('HTTP GET: status, body text and expression; a wrong status and a mismatching body fail, naming why', async () => {
    expect(await checker.check(target(PORTS.http), { type: 'http' })).toMatchObject({ ok: true, status: 200 });
    expect(await checker.check(target(PORTS.http), { type: 'http', path: '/', bodyMatch: 'hello from rs1' })).toMatchObject({ ok: true });
    expect(await checker.check(target(PORTS.http), { type: 'http', bodyMatch: /host=www\.example$/, host: 'www.example' })).toMatchObject({ ok: true });
    const bad = await checker.check(target(PORTS.http), { type: 'http', path: '/bad' });
    expect(bad).toMatchObject({ ok: false, status: 503 });
    expect(bad.error).toMatch(/status 503, expected 200/);
    expect(await checker.check(target(PORTS.http), { type: 'http', path: '/bad', expectStatus: [200, 503] })).toMatchObject({ ok: true, status: 503 });
    const body = await checker.check(target(PORTS.http), { type: 'http', bodyMatch: 'nope' });
    expect(body.ok).toBe(false);
    expect(body.error).toMatch(/body does not match "nope"/);
    expect((await checker.check({ address: ADDR6, port: PORTS.http }, { type: 'http', bodyMatch: 'rs1v6' })).ok).toBe(true);
  });

  it('a server that accepts but never answers fails by timeout', async () => {
    const r = await checker.check(target(PORTS.http), { type: 'http', path: '/slow' }, { timeoutMs: 300 });
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/^timeout/);
  });

  it('HTTPS GET: verified against the CA, skipped verification (SSL_GET), refused unverified', async () => {
    const verified = await checker.check(target(PORTS.https), { type: 'https', ca: tls.cert, servername: 'rs1.example', bodyMatch: 'hello' });
    expect(verified).toMatchObject({ ok: true, status: 200 });
    expect(await checker.check(target(PORTS.https), { type: 'https', insecure: true })).toMatchObject({ ok: true });
    const strict = await checker.check(target(PORTS.https), { type: 'https' });
    expect(strict.ok).toBe(false);
    expect(strict.error).toMatch(/SELF_SIGNED|self.signed|certificate/i);
  });

  it('UDP request/answer with expected bytes; a closed port fails', async () => {
    expect(await checker.check(target(PORTS.udp), { type: 'udp', payload: 'ping', expect: 'echo:ping' })).toMatchObject({ ok: true });
    expect((await checker.check(target(PORTS.udp), { type: 'udp', payload: 'ping', expect: 'other' })).ok).toBe(false);
    const closed = await checker.check(target(PORTS.udp + 1), { type: 'udp', payload: 'ping' }, { timeoutMs: 500 });
    expect(closed.ok).toBe(false);
  });

  it('a module check runs inside the namespace; a function check runs here and reaches in through ctx.check', async () => {
    const mod = join(tls.dir, 'check.mjs');
    writeFileSync(mod, `import net from 'node:net';
export async function banner(ctx) {
  const s = net.connect(ctx.port, ctx.address);
  const line = await new Promise((res, rej) => { s.once('data', (d) => res(String(d))); s.once('error', rej); });
  s.destroy();
  return line.trim() === ctx.options.expect;
}`);
    expect(await checker.check(target(PORTS.tcp), { type: 'module', module: mod, exportName: 'banner', options: { expect: 'rs1' } })).toMatchObject({ ok: true });
    expect(await checker.check(target(PORTS.tcp), { type: 'module', module: mod, exportName: 'banner', options: { expect: 'rs2' } })).toMatchObject({ ok: false });
    const seen: string[] = [];
    const fn: HealthCheck = {
      type: 'function',
      fn: async (ctx) => {
        seen.push(`${ctx.address}:${ctx.port}`);
        return (await ctx.check({ type: 'http', bodyMatch: 'rs1' })).ok;
      },
      port: PORTS.http,
    };
    expect(await checker.check(target(PORTS.tcp), fn)).toMatchObject({ ok: true });
    expect(seen).toEqual([`${ADDR}:${PORTS.http}`]);
    const thrown = await checker.check(target(PORTS.tcp), { type: 'function', fn: () => { throw new Error('custom says no'); } });
    expect(thrown).toMatchObject({ ok: false, error: 'custom says no' });
  });

  it('a worker that cannot answer (its event loop blocked by a module check) fails the check after the timeout and a grace', async () => {
    const mod = join(tls.dir, 'block.mjs');
    writeFileSync(mod, 'export default function () { const end = Date.now() + 6000; while (Date.now() < end); return true; }');
    const r = await checker.check(target(PORTS.tcp), { type: 'module', module: mod }, { timeoutMs: 200 });
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/no answer from the health-check worker/);
    // it answers again once the loop is free
    expect((await checker.check(target(PORTS.tcp), { type: 'tcp' })).ok).toBe(true);
  });

  it('checks run concurrently on one worker', async () => {
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => checker.check(target(i % 2 ? PORTS.tcp : PORTS.http), { type: i % 2 ? 'tcp' : 'http' })));
    expect(many.filter((r) => !r.ok)).toEqual([]);
  });

  it('bad input names the field; a missing namespace is an error at open; a closed checker refuses', async () => {
    await expect(checker.check({ address: 'rs1.example', port: 80 }, { type: 'tcp' })).rejects.toThrow(ValidationError);
    await expect(checker.check({ address: 'rs1.example', port: 80 }, { type: 'tcp' })).rejects.toThrow(/check\.address.*IP/);
    await expect(checker.check(target(0), { type: 'tcp' })).rejects.toThrow(/check\.port/);
    await expect(checker.check(target(80), { type: 'http', expectStatus: 700 })).rejects.toThrow(/check\.expectStatus/);
    await expect(checker.check(target(80), { type: 'http', insecure: true } as HealthCheck)).rejects.toThrow(/check\.type/);
    await expect(checker.check(target(80), { type: 'ping' } as unknown as HealthCheck)).rejects.toThrow(/check\.type/);
    await expect(checker.check(target(80), { type: 'tcp' }, { timeoutMs: 0 })).rejects.toThrow(/timeoutMs/);
    await expect(HealthChecker.open({ netns: 'lvskit-hc-no-such-namespace' })).rejects.toThrow(HealthCheckerError);
    await expect(HealthChecker.open({ netns: 'lvskit-hc-no-such-namespace' })).rejects.toThrow(/ENOENT|No such file/);
    const c = await HealthChecker.open({ netns: ns.name });
    await c.close();
    await expect(c.check(target(PORTS.tcp), { type: 'tcp' })).rejects.toThrow(/closed/);
  });

  it('the process exits by itself: after close(), with an idle checker never closed, and once a check in flight ends', async () => {
    // Child node processes (vite-node runs the TypeScript); a child still alive after 30 s is killed and the case fails.
    const script = join(tls.dir, 'lifetime.mts');
    writeFileSync(script, `
import { HealthChecker } from ${JSON.stringify(join(root, 'lib/health/index.ts'))};
const [ns, mode] = process.argv.slice(2);
const c = await HealthChecker.open({ netns: ns });
if (mode === 'inflight') {
  c.check({ address: '${ADDR}', port: ${PORTS.http} }, { type: 'http', path: '/slow' }, { timeoutMs: 1500 }).then((r) => console.log('result ' + r.ok + ' ' + r.error));
} else {
  console.log('result ' + (await c.check({ address: '${ADDR}', port: ${PORTS.tcp} }, { type: 'tcp' })).ok);
  if (mode === 'close') await c.close();
}
`);
    const run = (mode: string) =>
      new Promise<{ code: number | null; out: string; killed: boolean }>((resolve) => {
        const p = spawn(join(root, 'node_modules/.bin/vite-node'), [script, ns.name, mode], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let killed = false;
        p.stdout!.on('data', (d) => (out += d));
        p.stderr!.on('data', (d) => (out += d));
        const t = setTimeout(() => { killed = true; p.kill('SIGKILL'); }, 30_000);
        p.on('close', (code) => { clearTimeout(t); resolve({ code, out, killed }); });
      });
    const [closed, idle, inflight] = await Promise.all([run('close'), run('idle'), run('inflight')]);
    expect(closed).toMatchObject({ code: 0, killed: false });
    expect(closed.out).toContain('result true');
    expect(idle).toMatchObject({ code: 0, killed: false });
    expect(idle.out).toContain('result true');
    expect(inflight).toMatchObject({ code: 0, killed: false });
    expect(inflight.out).toMatch(/result false timeout/);
  });

  it('the worker source runs whether eval code is CommonJS or an ES module (node --input-type=module is inherited by workers)', async () => {
    for (const execArgv of [[], ['--input-type=module']]) {
      const w = new Worker(WORKER_SOURCE, { eval: true, execArgv, workerData: { addon: join(root, 'build/Release/lvskit.node'), nsKind: 1, nsPath: `/run/netns/${ns.name}`, nsPid: 0 } });
      try {
        const answers: unknown[] = [];
        const result = await new Promise((res, rej) => {
          w.on('message', (m: { ready?: boolean; id?: number }) => {
            answers.push(m);
            if (m.ready) w.postMessage({ id: 1, address: ADDR, port: PORTS.tcp, timeoutMs: 2000, check: { type: 'tcp' } });
            else res(m);
          });
          w.once('error', rej);
        });
        expect(answers[0]).toMatchObject({ ready: true, inode: statSync(`/run/netns/${ns.name}`).ino });
        expect(result).toMatchObject({ id: 1, ok: true });
      } finally {
        await w.terminate();
      }
    }
  });

  it('works from inside a worker thread of the caller too (per-environment addon state)', async () => {
    const w = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const a = require(workerData.addon);
       const r = a.enterNetnsOnThisThread(1, workerData.path, 0);
       parentPort.postMessage(r.inode);`,
      { eval: true, workerData: { addon: join(process.cwd(), 'build/Release/lvskit.node'), path: `/run/netns/${ns.name}` } },
    );
    const inode = await new Promise((res, rej) => { w.once('message', res); w.once('error', rej); });
    await w.terminate();
    expect(inode).toBe(statSync(`/run/netns/${ns.name}`).ino);
  });
});
