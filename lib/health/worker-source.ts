// The health-check worker, as source text run with `new Worker(src, { eval: true })`: it needs no
// file of its own on disk, so it runs the same from lib/ (TypeScript under vitest) and from dist/.
//
// How checks reach the director's namespace: the worker's OS thread first calls the addon's
// enterNetnsOnThisThread (setns(CLONE_NEWNET) on that thread alone, native/src/transport/
// netns_thread.cc). A socket takes the namespace of the thread that calls socket() (net/socket.c
// __sock_create: current->nsproxy->net_ns), and libuv creates TCP and UDP sockets on the loop
// thread that asks for them, so every socket the worker's net, http, https and dgram open lives
// in the namespace; the main thread never moves and the process never forks. Name resolution
// would run getaddrinfo on libuv's shared thread pool (the process's namespace), so targets are IP
// literals only (the TypeScript side enforces it).
//
// Protocol: workerData = { addon, nsKind, nsPath, nsPid }; the worker posts { ready, inode } or
// { fatal: { message, code, errno } } once; then for each { id, address, port, timeoutMs, check }
// it posts { id, ok, ms, error?, status? }.
export const WORKER_SOURCE = String.raw`
'use strict';
// Only dynamic import(): the source is evaluated as CommonJS or as an ES module depending on the
// flags the worker inherits (node --input-type=module makes eval code a module), and import()
// works in both.
(async () => {
const { parentPort, workerData } = await import('node:worker_threads');
const net = await import('node:net');
const http = await import('node:http');
const https = await import('node:https');
const dgram = await import('node:dgram');
const { pathToFileURL } = await import('node:url');
const { createRequire } = await import('node:module');

let inode = 0;
try {
  if (workerData.nsKind !== 0) {
    const addon = createRequire(workerData.addon)(workerData.addon);
    inode = addon.enterNetnsOnThisThread(workerData.nsKind, workerData.nsPath, workerData.nsPid).inode;
  }
} catch (e) {
  parentPort.postMessage({ fatal: { message: String(e && e.message), code: e && e.code, errno: e && e.errno } });
  process.exit(0);
}

function describe(e) {
  if (!e) return 'unknown error';
  return e.code ? e.code + ': ' + e.message : String(e.message || e);
}

function tcpCheck(job, done) {
  const s = net.connect({ host: job.address, port: job.port });
  const timer = setTimeout(() => { s.destroy(); done(false, 'timeout: no TCP connection after ' + job.timeoutMs + ' ms'); }, job.timeoutMs);
  s.once('connect', () => { clearTimeout(timer); s.destroy(); done(true); });
  s.once('error', (e) => { clearTimeout(timer); done(false, describe(e)); });
}

function httpCheck(job, done) {
  const c = job.check;
  const mod = c.type === 'https' ? https : http;
  const hostHeader = c.host !== undefined ? c.host : (job.address.includes(':') ? '[' + job.address + ']' : job.address);
  const opts = {
    host: job.address, port: job.port, method: 'GET', path: c.path, agent: false,
    headers: Object.assign({ host: hostHeader, connection: 'close', 'user-agent': 'lvskit-health' }, c.headers || {}),
  };
  if (c.type === 'https') {
    opts.rejectUnauthorized = c.insecure !== true;
    if (c.servername !== undefined) opts.servername = c.servername;
    else if (c.host !== undefined && net.isIP(c.host) === 0) opts.servername = c.host.replace(/:\d+$/, '');
    if (c.ca !== undefined) opts.ca = c.ca;
  }
  let finished = false;
  const finish = (ok, err, status) => { if (finished) return; finished = true; clearTimeout(timer); req.destroy(); done(ok, err, status); };
  const req = mod.request(opts, (res) => {
    const status = res.statusCode;
    if (!c.expectStatus.includes(status)) { res.resume(); finish(false, 'HTTP status ' + status + ', expected ' + c.expectStatus.join(' or '), status); return; }
    if (c.bodyMatch === undefined) { res.resume(); finish(true, undefined, status); return; }
    const re = c.bodyMatch.regex ? new RegExp(c.bodyMatch.regex, c.bodyMatch.flags) : undefined;
    let body = '';
    res.setEncoding('utf8');
    const test = () => (re ? re.test(body) : body.includes(c.bodyMatch.text));
    res.on('data', (d) => {
      if (body.length < c.maxBodyBytes) body += d;
      if (test()) finish(true, undefined, status);
      else if (body.length >= c.maxBodyBytes) finish(false, 'body does not match ' + (re ? String(re) : JSON.stringify(c.bodyMatch.text)) + ' in its first ' + c.maxBodyBytes + ' bytes', status);
    });
    res.on('end', () => finish(test(), test() ? undefined : 'body does not match ' + (re ? String(re) : JSON.stringify(c.bodyMatch.text)), status));
    res.on('error', (e) => finish(false, describe(e), status));
  });
  const timer = setTimeout(() => finish(false, 'timeout: no complete answer after ' + job.timeoutMs + ' ms'), job.timeoutMs);
  req.on('error', (e) => finish(false, describe(e)));
  req.end();
}

function udpCheck(job, done) {
  const c = job.check;
  const s = dgram.createSocket(job.address.includes(':') ? 'udp6' : 'udp4');
  let finished = false;
  const finish = (ok, err) => { if (finished) return; finished = true; clearTimeout(timer); try { s.close(); } catch (e) {} done(ok, err); };
  const timer = setTimeout(() => finish(false, 'timeout: no UDP answer after ' + job.timeoutMs + ' ms'), job.timeoutMs);
  s.on('error', (e) => finish(false, describe(e)));
  s.on('message', (m) => {
    if (c.expect === undefined || m.toString('latin1').includes(Buffer.from(c.expect, 'base64').toString('latin1'))) finish(true);
    else finish(false, 'UDP answer does not contain the expected bytes');
  });
  // connect() makes an ICMP port unreachable come back as ECONNREFUSED on the socket.
  s.connect(job.port, job.address, (e) => {
    if (e) return finish(false, describe(e));
    s.send(Buffer.from(c.payload, 'base64'), (e2) => { if (e2) finish(false, describe(e2)); });
  });
}

const modules = new Map();
function moduleCheck(job, done) {
  const c = job.check;
  const ac = new AbortController();
  const timer = setTimeout(() => { ac.abort(); done(false, 'timeout: the module check did not settle in ' + job.timeoutMs + ' ms'); }, job.timeoutMs);
  let p = modules.get(c.module);
  if (!p) { p = import(c.module.startsWith('file:') ? c.module : pathToFileURL(c.module).href); modules.set(c.module, p); }
  p.then((m) => {
    const fn = m[c.exportName];
    if (typeof fn !== 'function') throw new Error('module ' + c.module + ' has no function export ' + JSON.stringify(c.exportName));
    return fn({ address: job.address, port: job.port, timeoutMs: job.timeoutMs, signal: ac.signal, options: c.options });
  }).then((r) => { clearTimeout(timer); done(r !== false, r === false ? 'the module check returned false' : undefined); },
          (e) => { clearTimeout(timer); done(false, describe(e)); });
}

const kinds = { tcp: tcpCheck, http: httpCheck, https: httpCheck, udp: udpCheck, module: moduleCheck };

parentPort.on('message', (job) => {
  const t0 = performance.now();
  let sent = false;
  const done = (ok, error, status) => {
    if (sent) return;
    sent = true;
    const r = { id: job.id, ok, ms: performance.now() - t0 };
    if (error !== undefined) r.error = error;
    if (status !== undefined) r.status = status;
    parentPort.postMessage(r);
  };
  try { kinds[job.check.type](job, done); } catch (e) { done(false, describe(e)); }
});
parentPort.postMessage({ ready: true, inode });
})().catch((e) => {
  throw e;
});
`;
