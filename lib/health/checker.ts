// HealthChecker: runs real-server checks (TCP connect, HTTP/HTTPS GET, UDP request/answer, a
// module function, a caller's function) from a network namespace, without moving the process or
// forking. The checks run on one worker_thread that entered the namespace (lib/health/
// worker-source.ts says how); this class validates specs, hands jobs to it and matches answers.
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { LvskitError, ValidationError } from '../errors.js';
import { resolveNetns, type NetnsSpec } from '../socket.js';
import { parseAddress, formatAddress } from '../rtnl/ip.js';
import { WORKER_SOURCE } from './worker-source.js';

/** What every check may override: where it connects (keepalived's connect_ip / connect_port). */
interface CheckTarget {
  /** Connect here instead of the destination's address (an IP literal). */
  address?: string;
  /** Connect to this port instead of the destination's. */
  port?: number;
}

/** A TCP connect: healthy when the three-way handshake completes (keepalived TCP_CHECK). */
export interface TcpCheck extends CheckTarget {
  type: 'tcp';
}

/** An HTTP or HTTPS GET (keepalived HTTP_GET / SSL_GET, ldirectord's http/https). */
export interface HttpCheck extends CheckTarget {
  type: 'http' | 'https';
  /** Request path. Default '/'. */
  path?: string;
  /** Healthy status codes. Default 200. */
  expectStatus?: number | number[];
  /** The body must contain this text, or match this expression (read up to maxBodyBytes). */
  bodyMatch?: string | RegExp;
  /** Bytes of body read for bodyMatch. Default 65536. */
  maxBodyBytes?: number;
  /** Host header (and, for https, the TLS server name when it is not an IP). Default: the address. */
  host?: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** https: accept any certificate, as keepalived's SSL_GET does. Default false (verify). */
  insecure?: boolean;
  /** https: TLS server name (SNI) and the name the certificate must carry. */
  servername?: string;
  /** https: PEM CA certificate(s) to trust instead of the system's. */
  ca?: string;
}

/** A UDP request: healthy when an answer comes back (containing `expect`, when given). */
export interface UdpCheck extends CheckTarget {
  type: 'udp';
  payload: string | Uint8Array;
  expect?: string | Uint8Array;
}

/**
 * A function exported by an ES module, run inside the namespace (on the checker's worker): it
 * may use net, http, dgram, etc. with IP literals. Healthy unless it returns false or throws.
 */
export interface ModuleCheck extends CheckTarget {
  type: 'module';
  /** Absolute path or file: URL of the module. */
  module: string;
  /** Default 'default'. */
  exportName?: string;
  /** Structured-clonable value handed to the function as ctx.options. */
  options?: unknown;
}

/** What a function check receives. */
export interface HealthCheckContext {
  address: string;
  port: number;
  timeoutMs: number;
  /** Aborted when the timeout passes. */
  signal: AbortSignal;
  /** Runs a built-in check from the checker's namespace (the function itself runs on the caller's thread). */
  check(check: Exclude<HealthCheck, FunctionCheck>): Promise<HealthCheckResult>;
}

/**
 * A caller's async function, run on the caller's thread (in the process's own namespace: use
 * ctx.check() to reach into the checker's, or a ModuleCheck). Healthy unless it returns false or throws.
 */
export interface FunctionCheck extends CheckTarget {
  type: 'function';
  fn: (ctx: HealthCheckContext) => Promise<boolean | void> | boolean | void;
}

export type HealthCheck = TcpCheck | HttpCheck | UdpCheck | ModuleCheck | FunctionCheck;

export interface HealthCheckResult {
  ok: boolean;
  /** When the check ended (Date.now()). */
  at: number;
  /** How long it took, in milliseconds. */
  ms: number;
  /** Why it failed. */
  error?: string;
  /** The HTTP status, for http/https checks that got one. */
  status?: number;
}

export interface HealthCheckerOptions {
  /** The namespace the checks run in (a name, { name }, { path } or { pid }). Default: the process's. */
  netns?: NetnsSpec;
}

/** A wire form of a check: what the worker reads (plain, structured-clonable). */
type WireCheck = Record<string, unknown> & { type: string };

const require = createRequire(import.meta.url);
const nodeGypBuild = require('node-gyp-build') as { resolve(dir: string): string };
const addonPath = (): string => nodeGypBuild.resolve(join(dirname(fileURLToPath(import.meta.url)), '..', '..'));

function ipLiteral(field: string, value: unknown): string {
  const p = typeof value === 'string' ? parseAddress(value) : undefined;
  if (!p) throw new ValidationError(field, value, 'must be an IPv4 or IPv6 address literal (checks resolve no names: getaddrinfo would run outside the namespace)');
  return formatAddress(p.bytes);
}

function portOf(field: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 65535) throw new ValidationError(field, value, 'must be an integer in 1..65535');
  return value as number;
}

function bytes64(field: string, v: unknown): string {
  if (typeof v === 'string') return Buffer.from(v, 'utf8').toString('base64');
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  throw new ValidationError(field, v, 'must be a string or Uint8Array');
}

/** Validates a check spec and returns its wire form (functions stay on this side). */
export function validateCheck(check: unknown, field = 'check'): HealthCheck {
  wireOf(check as HealthCheck, field);
  return check as HealthCheck;
}

function wireOf(check: HealthCheck, field: string): WireCheck | undefined {
  if (typeof check !== 'object' || check === null) throw new ValidationError(field, check, "must be { type: 'tcp' | 'http' | 'https' | 'udp' | 'module' | 'function', ... }");
  if (check.address !== undefined) ipLiteral(`${field}.address`, check.address);
  if (check.port !== undefined) portOf(`${field}.port`, check.port);
  switch (check.type) {
    case 'tcp':
      return { type: 'tcp' };
    case 'http':
    case 'https': {
      const path = check.path ?? '/';
      if (typeof path !== 'string' || !path.startsWith('/')) throw new ValidationError(`${field}.path`, path, 'must be a string starting with "/"');
      const st = check.expectStatus ?? 200;
      const expectStatus = Array.isArray(st) ? st : [st];
      if (expectStatus.length === 0) throw new ValidationError(`${field}.expectStatus`, st, 'must name at least one status');
      expectStatus.forEach((s, i) => {
        if (!Number.isInteger(s) || s < 100 || s > 599) throw new ValidationError(`${field}.expectStatus${Array.isArray(st) ? `[${i}]` : ''}`, s, 'must be an HTTP status (an integer in 100..599)');
      });
      let bodyMatch: { text?: string; regex?: string; flags?: string } | undefined;
      if (check.bodyMatch instanceof RegExp) bodyMatch = { regex: check.bodyMatch.source, flags: check.bodyMatch.flags.replace(/[gy]/g, '') };
      else if (typeof check.bodyMatch === 'string') bodyMatch = { text: check.bodyMatch };
      else if (check.bodyMatch !== undefined) throw new ValidationError(`${field}.bodyMatch`, check.bodyMatch, 'must be a string or a RegExp');
      const maxBodyBytes = check.maxBodyBytes ?? 65536;
      if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1 || maxBodyBytes > 2 ** 26) throw new ValidationError(`${field}.maxBodyBytes`, maxBodyBytes, 'must be an integer in 1..67108864');
      if (check.host !== undefined && (typeof check.host !== 'string' || check.host.length === 0)) throw new ValidationError(`${field}.host`, check.host, 'must be a non-empty string');
      if (check.headers !== undefined) {
        if (typeof check.headers !== 'object' || check.headers === null) throw new ValidationError(`${field}.headers`, check.headers, 'must be an object of strings');
        for (const [k, v] of Object.entries(check.headers)) if (typeof v !== 'string') throw new ValidationError(`${field}.headers.${k}`, v, 'must be a string');
      }
      if (check.insecure !== undefined && typeof check.insecure !== 'boolean') throw new ValidationError(`${field}.insecure`, check.insecure, 'must be a boolean');
      if (check.type === 'http' && (check.insecure !== undefined || check.servername !== undefined || check.ca !== undefined))
        throw new ValidationError(`${field}.type`, check.type, "must be 'https' to use insecure, servername or ca");
      if (check.servername !== undefined && typeof check.servername !== 'string') throw new ValidationError(`${field}.servername`, check.servername, 'must be a string');
      if (check.ca !== undefined && typeof check.ca !== 'string') throw new ValidationError(`${field}.ca`, check.ca, 'must be a PEM string');
      return { type: check.type, path, expectStatus, bodyMatch, maxBodyBytes, host: check.host, headers: check.headers, insecure: check.insecure, servername: check.servername, ca: check.ca };
    }
    case 'udp':
      return { type: 'udp', payload: bytes64(`${field}.payload`, check.payload), expect: check.expect === undefined ? undefined : bytes64(`${field}.expect`, check.expect) };
    case 'module':
      if (typeof check.module !== 'string' || !(check.module.startsWith('/') || check.module.startsWith('file:')))
        throw new ValidationError(`${field}.module`, check.module, 'must be an absolute path or a file: URL');
      if (check.exportName !== undefined && typeof check.exportName !== 'string') throw new ValidationError(`${field}.exportName`, check.exportName, 'must be a string');
      return { type: 'module', module: check.module, exportName: check.exportName ?? 'default', options: check.options };
    case 'function':
      if (typeof check.fn !== 'function') throw new ValidationError(`${field}.fn`, check.fn, 'must be a function');
      return undefined;
    default:
      throw new ValidationError(`${field}.type`, (check as { type: unknown }).type, "must be 'tcp', 'http', 'https', 'udp', 'module' or 'function'");
  }
}

/** The check could not be run at all (the worker could not enter the namespace, the checker is closed). */
export class HealthCheckerError extends LvskitError {
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.name = 'HealthCheckerError';
    this.code = code;
  }
}

interface Pending {
  resolve: (r: HealthCheckResult) => void;
  /** Answers the check if the worker never does (it died before reading the job). */
  guard: NodeJS.Timeout;
}

/** How long past a check's own timeout the worker may take to answer before the check fails anyway. */
const WORKER_GRACE_MS = 5000;

/**
 * Runs health checks from one network namespace. One worker thread per checker; checks run
 * concurrently on it (each is a few sockets and timers). Equivalent to: keepalived's checker
 * process, without the fork.
 */
export class HealthChecker {
  readonly #ns: ReturnType<typeof resolveNetns>;
  #worker: Worker | undefined;
  #ready: Promise<Worker> | undefined;
  #inode = 0;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #closed = false;

  private constructor(ns: ReturnType<typeof resolveNetns>) {
    this.#ns = ns;
  }

  /**
   * Starts the worker and enters `netns` on its thread; resolves once it is there. Rejects with
   * HealthCheckerError (code ENOENT, EPERM, ...) when the namespace cannot be entered.
   */
  static async open(options: HealthCheckerOptions = {}): Promise<HealthChecker> {
    if (typeof options !== 'object' || options === null) throw new ValidationError('options', options, 'must be an object');
    const c = new HealthChecker(resolveNetns(options.netns));
    await c.#start();
    return c;
  }

  /** The namespace the checks run in, as given ('current', a name, a path or 'pid N'). */
  get netns(): string {
    return this.#ns.label;
  }

  /** The inode of the namespace the worker entered (0 when it stayed in the process's). */
  get namespaceInode(): number {
    return this.#inode;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #start(): Promise<Worker> {
    if (this.#ready) return this.#ready;
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { addon: addonPath(), nsKind: this.#ns.kind, nsPath: this.#ns.path, nsPid: this.#ns.pid } });
    w.unref();
    this.#ready = new Promise<Worker>((resolve, reject) => {
      let started = false;
      w.on('message', (m: { ready?: boolean; inode?: number; fatal?: { message: string; code?: string }; id?: number } & HealthCheckResult) => {
        if (m.fatal) {
          reject(new HealthCheckerError(`cannot run health checks in namespace ${this.#ns.label}: ${m.fatal.message}`, m.fatal.code));
          return;
        }
        if (m.ready) {
          started = true;
          this.#inode = m.inode ?? 0;
          this.#worker = w;
          resolve(w);
          return;
        }
        const p = this.#pending.get(m.id!);
        if (!p) return;
        this.#pending.delete(m.id!);
        clearTimeout(p.guard);
        this.#refresh();
        const r: HealthCheckResult = { ok: m.ok, at: Date.now(), ms: m.ms };
        if (m.error !== undefined) r.error = m.error;
        if (m.status !== undefined) r.status = m.status;
        p.resolve(r);
      });
      w.on('error', (e) => {
        if (!started) reject(new HealthCheckerError(`health-check worker for namespace ${this.#ns.label} failed to start: ${e.message}`));
      });
      w.on('exit', () => {
        if (!started) reject(new HealthCheckerError(`health-check worker for namespace ${this.#ns.label} exited before it was ready`));
        // Answer what was in flight; the next check starts a new worker (unless closed).
        if (this.#worker === w) this.#worker = undefined;
        this.#ready = undefined;
        for (const [id, p] of this.#pending) {
          this.#pending.delete(id);
          clearTimeout(p.guard);
          p.resolve({ ok: false, at: Date.now(), ms: 0, error: this.#closed ? 'the checker was closed' : 'the health-check worker exited' });
        }
      });
    });
    this.#ready.catch(() => {
      this.#ready = undefined;
    });
    return this.#ready;
  }

  /** Keeps the process alive exactly while checks are in flight. */
  #refresh(): void {
    if (!this.#worker) return;
    if (this.#pending.size > 0) this.#worker.ref();
    else this.#worker.unref();
  }

  /**
   * Runs one check against `target` (an IP literal and a port) and resolves with its result;
   * it never rejects for a failed check (ok: false, error says why). Rejects only when the
   * checker is closed or cannot enter its namespace.
   */
  async check(target: { address: string; port: number }, check: HealthCheck, options: { timeoutMs?: number } = {}): Promise<HealthCheckResult> {
    if (this.#closed) throw new HealthCheckerError('the health checker is closed', 'EBADF');
    if (typeof target !== 'object' || target === null) throw new ValidationError('target', target, 'must be { address, port }');
    const wire = wireOf(check, 'check');
    const address = ipLiteral('check.address', check.address ?? target.address);
    const port = portOf('check.port', check.port ?? target.port);
    const timeoutMs = options.timeoutMs ?? 2000;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 3_600_000) throw new ValidationError('timeoutMs', timeoutMs, 'must be an integer in 1..3600000 (milliseconds)');
    if (check.type === 'function') return this.#runFunction(check, address, port, timeoutMs);
    const w = await this.#start();
    if (this.#closed) throw new HealthCheckerError('the health checker is closed', 'EBADF');
    const id = this.#nextId++;
    const t0 = performance.now();
    return new Promise<HealthCheckResult>((resolve) => {
      const guard = setTimeout(() => {
        if (!this.#pending.delete(id)) return;
        this.#refresh();
        resolve({ ok: false, at: Date.now(), ms: performance.now() - t0, error: `no answer from the health-check worker ${WORKER_GRACE_MS} ms past the timeout` });
      }, timeoutMs + WORKER_GRACE_MS);
      this.#pending.set(id, { resolve, guard });
      this.#refresh();
      w.postMessage({ id, address, port, timeoutMs, check: wire });
    });
  }

  async #runFunction(check: FunctionCheck, address: string, port: number, timeoutMs: number): Promise<HealthCheckResult> {
    const t0 = performance.now();
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<HealthCheckResult>((resolve) => {
      timer = setTimeout(() => {
        ac.abort();
        resolve({ ok: false, at: Date.now(), ms: performance.now() - t0, error: `timeout: the function check did not settle in ${timeoutMs} ms` });
      }, timeoutMs);
    });
    const ctx: HealthCheckContext = {
      address,
      port,
      timeoutMs,
      signal: ac.signal,
      check: (c) => this.check({ address, port }, c, { timeoutMs }),
    };
    const run = (async (): Promise<HealthCheckResult> => {
      try {
        const r = await check.fn(ctx);
        return r === false ? { ok: false, at: Date.now(), ms: performance.now() - t0, error: 'the function check returned false' } : { ok: true, at: Date.now(), ms: performance.now() - t0 };
      } catch (e) {
        return { ok: false, at: Date.now(), ms: performance.now() - t0, error: (e as Error)?.message ?? String(e) };
      }
    })();
    try {
      return await Promise.race([run, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops the worker; checks in flight resolve with ok: false. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const w = this.#worker ?? (this.#ready ? await this.#ready.catch(() => undefined) : undefined);
    if (w) await w.terminate();
  }
}
