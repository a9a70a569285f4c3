// One error family for the whole library.
//  - ValidationError: bad input, caught in TypeScript before anything is sent; names the field
//    and the value ("weight must be an integer in 0..2147483647, got -1").
//  - NetlinkError: the kernel (or the socket) refused; carries op, errno, code, the kernel's own
//    extended-ack message, and the batch index of the item that failed.
import type { RawFailure } from './addon-types.js';

export class LvskitError extends Error {
  override name = 'LvskitError';
}

export class ValidationError extends LvskitError {
  override name = 'ValidationError';
  readonly field: string;
  readonly value: unknown;
  constructor(field: string, value: unknown, expected: string) {
    super(`${field} ${expected}, got ${describeValue(value)}`);
    this.field = field;
    this.value = value;
  }
}

export interface NetlinkErrorInit {
  op: string;
  errno: number;
  code: string;
  kernelMessage?: string | undefined;
  batchIndex?: number | undefined;
  offset?: number | undefined;
  hint?: string | undefined;
  cause?: unknown;
}

export class NetlinkError extends LvskitError {
  override name = 'NetlinkError';
  /** What was being done: 'addService', 'addRoute', 'open', ... */
  readonly op: string;
  readonly errno: number;
  /** Symbolic errno: 'EEXIST', 'ENOENT', 'EPERM' ... */
  readonly code: string;
  /** The kernel's extended-ack message, when it sent one. */
  readonly kernelMessage: string | undefined;
  /** Index of the failing item in a batch. */
  readonly batchIndex: number | undefined;
  /** Offset in the request message the kernel blamed (extended ack). */
  readonly offset: number | undefined;

  constructor(init: NetlinkErrorInit, message?: string) {
    super(message ?? NetlinkError.format(init), init.cause !== undefined ? { cause: init.cause } : undefined);
    this.op = init.op;
    this.errno = init.errno;
    this.code = init.code;
    this.kernelMessage = init.kernelMessage;
    this.batchIndex = init.batchIndex;
    this.offset = init.offset;
  }

  static format(init: NetlinkErrorInit): string {
    let m = `${init.op} failed: ${init.code} (${describeErrno(init.code)})`;
    if (init.kernelMessage) m += `: kernel says "${init.kernelMessage}"`;
    if (init.batchIndex !== undefined) m += ` [batch item ${init.batchIndex}]`;
    if (init.hint) m += `. ${init.hint}`;
    return m;
  }

  static fromFailure(op: string, f: RawFailure, opts: { batch?: boolean; hint?: string } = {}): NetlinkError {
    return new NetlinkError({
      op,
      errno: f.errno,
      code: f.code,
      kernelMessage: f.kernelMessage,
      batchIndex: opts.batch ? f.index : undefined,
      offset: f.offset,
      hint: opts.hint ?? hintFor(f.code, f.kernelMessage),
    });
  }

  /** Wraps an error thrown by the native layer (it carries errno/code/op properties). */
  static fromNative(op: string, e: unknown): unknown {
    if (e instanceof LvskitError) return e;
    if (e instanceof Error && typeof (e as { errno?: unknown }).errno === 'number') {
      const n = e as Error & { errno: number; code: string };
      return new NetlinkError({ op, errno: n.errno, code: n.code, cause: e }, `${op} failed: ${n.message.replace(/^[^:]*: /, '')}`);
    }
    return e;
  }
}

const errnoText: Record<string, string> = {
  EPERM: 'operation not permitted',
  ENOENT: 'no such object',
  ESRCH: 'no such service',
  EEXIST: 'already exists',
  EINVAL: 'invalid argument',
  ERANGE: 'value out of range',
  EBUSY: 'busy',
  ENODEV: 'no such device',
  EBADF: 'socket closed',
  EOPNOTSUPP: 'not supported by this kernel',
  ENOTSUP: 'not supported by this kernel',
  EAFNOSUPPORT: 'address family not supported',
  ENETUNREACH: 'network unreachable',
  EHOSTUNREACH: 'no route to host',
  ENOBUFS: 'kernel dropped messages (receive buffer full)',
  ENOMEM: 'out of memory',
  EACCES: 'permission denied',
  E2BIG: 'too big',
  EMSGSIZE: 'message too long',
};

function describeErrno(code: string): string {
  return errnoText[code] ?? 'error';
}

/**
 * A hint for a bare errno. None when the kernel said why in its extended ack: EACCES with "IPv6 is
 * disabled on this device" is not about privileges, and telling root to get CAP_NET_ADMIN misleads.
 */
function hintFor(code: string, kernelMessage?: string): string | undefined {
  if (kernelMessage) return undefined;
  if (code === 'EPERM' || code === 'EACCES') return 'This needs CAP_NET_ADMIN in the namespace\'s owning user namespace (run as root or grant the capability)';
  return undefined;
}

export function describeValue(v: unknown): string {
  // JSON escapes control characters; a long string is cut so an error never echoes megabytes
  if (typeof v === 'string') return v.length > 200 ? `${JSON.stringify(v.slice(0, 200))}... (${v.length} characters)` : JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v instanceof Uint8Array) return `a ${v.constructor.name} of ${v.length} bytes`;
  try {
    const s = JSON.stringify(v);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return typeof v;
  }
}
