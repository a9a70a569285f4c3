// NetlinkSocket: the TypeScript face of the one transport (native/src/transport/socket.cc).
//
// It owns one native socket, runs one request at a time (later calls queue behind it), and turns
// native outcomes into typed results and NetlinkErrors. Family modules (ipvs, route, ...) build
// their requests into a NativeBatch and hand it to run(); they never touch the native socket.
import { native } from './native.js';
import { ItemStatusCode, type ExecOptions, type GenlFamilyInfo, type NativeBatch, type NativeOutcome, type NativeSocket, type RawOutcome } from './addon-types.js';
import { NetlinkError, ValidationError } from './errors.js';

/** Where a handle lives: a named namespace (`/run/netns/NAME`), a path to a namespace file, or a pid's. */
export type NetnsSpec = string | { name: string } | { path: string } | { pid: number };

export interface SocketOptions {
  /** The network namespace to open the socket in. Default: the caller's. */
  netns?: NetnsSpec | undefined;
  /** Receive buffer in bytes (SO_RCVBUFFORCE when permitted). Default 32 MiB. */
  receiveBufferBytes?: number | undefined;
}

export const NETLINK_ROUTE = 0;
export const NETLINK_GENERIC = 16;
export const NETLINK_NETFILTER = 12;

/** Batches at or below this many requests, with no dump, run synchronously: a warm netlink round
 * trip is ~1 us, a thread-pool hop tens of us (bench/transport.mjs measures both). */
export const SYNC_MAX_REQUESTS = 64;

export interface RunOptions extends ExecOptions {
  /** The batch holds a dump or many requests: run it off the event loop. */
  large?: boolean;
}

/**
 * A name of /run/netns: 1..255 bytes (NAME_MAX), no '/' or NUL (a C string ends there, so open()
 * would see another name), not '.' or '..'. Mirrors ValidNetnsName (native/src/transport/netns.cc)
 * and adds the NUL the native check cannot see.
 */
function checkNetnsName(field: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || !/^[^/\0]+$/.test(name) || Buffer.byteLength(name) > 255 || name === '.' || name === '..')
    throw new ValidationError(field, name, 'must be a namespace name of 1..255 bytes without "/"');
}

/** Normalises a NetnsSpec into the native constructor's (kind, path, pid). */
export function resolveNetns(ns: NetnsSpec | undefined): { kind: 0 | 1 | 2; path: string; pid: number; label: string } {
  if (ns === undefined) return { kind: 0, path: '', pid: 0, label: 'current' };
  if (typeof ns === 'string') return resolveNetns({ name: ns });
  if (typeof ns !== 'object' || ns === null) throw new ValidationError('netns', ns, 'must be a name, { name }, { path } or { pid }');
  if ('name' in ns) {
    checkNetnsName('netns.name', ns.name);
    return { kind: 1, path: `/run/netns/${ns.name}`, pid: 0, label: ns.name };
  }
  if ('path' in ns) {
    if (typeof ns.path !== 'string' || ns.path.length === 0) throw new ValidationError('netns.path', ns.path, 'must be a non-empty path');
    return { kind: 1, path: ns.path, pid: 0, label: ns.path };
  }
  if ('pid' in ns) {
    if (!Number.isInteger(ns.pid) || ns.pid <= 0 || ns.pid > 0x7fffffff) throw new ValidationError('netns.pid', ns.pid, 'must be a process id (an integer in 1..2147483647)');
    return { kind: 2, path: '', pid: ns.pid, label: `pid ${ns.pid}` };
  }
  throw new ValidationError('netns', ns, 'must be a name, { name }, { path } or { pid }');
}

export class NetlinkSocket {
  readonly #native: NativeSocket;
  readonly #netnsLabel: string;
  #tail: Promise<unknown> = Promise.resolve();
  #pending = 0;
  #closed = false;

  private constructor(nativeSocket: NativeSocket, label: string) {
    this.#native = nativeSocket;
    this.#netnsLabel = label;
  }

  /** Opens a netlink socket of `protocol` ('route' = NETLINK_ROUTE, 'generic' = NETLINK_GENERIC, 'netfilter' = NETLINK_NETFILTER). */
  static open(protocol: 'route' | 'generic' | 'netfilter', options: SocketOptions = {}): NetlinkSocket {
    if (protocol !== 'route' && protocol !== 'generic' && protocol !== 'netfilter') throw new ValidationError('protocol', protocol, "must be 'route', 'generic' or 'netfilter'");
    const ns = resolveNetns(options.netns);
    const rcv = options.receiveBufferBytes ?? 0;
    if (!Number.isInteger(rcv) || rcv < 0 || rcv > 2 ** 30) throw new ValidationError('receiveBufferBytes', rcv, 'must be an integer in 0..1073741824');
    try {
      const s = new native.NativeSocket(protocol === 'route' ? NETLINK_ROUTE : protocol === 'generic' ? NETLINK_GENERIC : NETLINK_NETFILTER, ns.kind, ns.path, ns.pid, rcv);
      return new NetlinkSocket(s, ns.label);
    } catch (e) {
      throw NetlinkError.fromNative(`open ${protocol} socket in namespace ${ns.label}`, e);
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The namespace this socket was opened in, as given ('current', a name, a path or 'pid N'). */
  get netns(): string {
    return this.#netnsLabel;
  }

  get portId(): number {
    return this.#native.portId;
  }

  buffers(): { rcvbuf: number; sndbuf: number } {
    return this.#native.buffers();
  }

  /** A new, empty request batch. */
  newBatch(): NativeBatch {
    return new native.NativeBatch();
  }

  /**
   * Runs every request of `batch` (consuming it) and returns the raw outcome. Requests run one
   * batch at a time per socket, in call order. Rejects with a NetlinkError when nothing could be
   * sent (a closed socket, a namespace deleted under the handle); once anything was sent, every
   * failure is in the outcome: per-item kernel errors in `failures`, and a transport failure
   * mid-batch in `fatal` with the items it left NotSent or Unknown.
   */
  run(batch: NativeBatch, op: string, options: RunOptions = {}): Promise<RawOutcome> {
    if (this.#closed) return Promise.reject(closedError(op));
    const large = options.large === true || batch.count > SYNC_MAX_REQUESTS;
    const exec: ExecOptions = { ackEach: options.ackEach, stopOnError: options.stopOnError, dumpIntrRetries: options.dumpIntrRetries, nfBatchSubsys: options.nfBatchSubsys };
    if (this.#pending === 0 && !large) {
      // Fast path: nothing queued, small batch: run now on this thread.
      try {
        return Promise.resolve(sentOrThrow(op, outcome(this.#native.executeSync(batch, exec))));
      } catch (e) {
        return Promise.reject(NetlinkError.fromNative(op, e));
      }
    }
    this.#pending++;
    // The caller's frames, captured before the async hop (sharp's is.nativeError). V8 records the
    // frames at construction but formats `.stack` only when it is read: on the error path only.
    const caller = new Error();
    const p = this.#tail.then(async () => {
      if (this.#closed) throw closedError(op, 'the socket was closed before this request was sent');
      try {
        return sentOrThrow(op, outcome(large ? await this.#native.execute(batch, exec) : this.#native.executeSync(batch, exec)));
      } catch (e) {
        const err = NetlinkError.fromNative(op, e);
        const stack = caller.stack;
        if (err instanceof Error && stack) err.stack = `${err.stack}\n    --- called from ---\n${stack.split('\n').slice(2).join('\n')}`;
        throw err;
      }
    });
    const done = () => {
      this.#pending--;
    };
    this.#tail = p.then(done, done);
    return p;
  }

  /** Synchronous form of run() for small batches; throws if a request is already in flight. */
  runSync(batch: NativeBatch, op: string, options: ExecOptions = {}): RawOutcome {
    if (this.#closed) throw closedError(op);
    try {
      return sentOrThrow(op, outcome(this.#native.executeSync(batch, options)));
    } catch (e) {
      throw NetlinkError.fromNative(op, e);
    }
  }

  /** Generic netlink family id, version, max attribute and multicast groups (cached). */
  resolveFamily(name: string): GenlFamilyInfo {
    if (this.#closed) throw closedError(`resolveFamily ${name}`);
    try {
      return this.#native.resolveFamily(name);
    } catch (e) {
      throw NetlinkError.fromNative(`resolve generic netlink family ${name}`, e);
    }
  }

  /** Reads a file (e.g. /proc/sys/net/ipv4/ip_forward) as seen from this socket's namespace. */
  readNamespaceFile(path: string): string {
    if (this.#closed) throw closedError(`read ${path}`);
    try {
      return this.#native.readFile(path);
    } catch (e) {
      throw NetlinkError.fromNative(`read ${path}`, e);
    }
  }

  /** Writes a /proc/sys file inside this socket's namespace (no fork of sysctl). */
  writeNamespaceFile(path: string, value: string): void {
    if (this.#closed) throw closedError(`write ${path}`);
    try {
      this.#native.writeFile(path, value);
    } catch (e) {
      throw NetlinkError.fromNative(`write ${path}`, e);
    }
  }

  /** Subscribes to multicast groups; `onEvents` gets raw messages. Used by the events module. */
  watch(groups: number[], onEvents: (replies: Buffer, offsets: Uint32Array, overruns: number, error?: Error) => void): void {
    if (this.#closed) throw closedError('watch');
    try {
      this.#native.watch(groups, onEvents);
    } catch (e) {
      throw NetlinkError.fromNative('watch', e);
    }
  }

  unwatch(): void {
    this.#native.unwatch();
  }

  /**
   * Whether watching keeps the Node event loop alive (true by default), like a timer's
   * ref()/unref(). An unref'd watch still delivers events while anything else keeps the loop running.
   */
  setRef(on: boolean): void {
    this.#native.setRef(on);
  }

  /**
   * Closes the socket. Requests queued behind the one in flight are rejected with EBADF; the one
   * in flight finishes (the kernel may already have applied it) and then the fd is closed.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#native.close();
  }
}

const EMPTY_BUFFER = Buffer.alloc(0);
const EMPTY_OFFSETS = new Uint32Array(0);

/** Names the native positional outcome's fields (views, no copies). */
function outcome(o: NativeOutcome): RawOutcome {
  const [items, failures, interrupted, replies, replyOffsets, sendCalls, fatal] = o;
  const n = items.length >> 2;
  return {
    status: items.subarray(0, n),
    errors: items.subarray(n, 2 * n),
    replyBegin: items.subarray(2 * n, 3 * n),
    replyCount: items.subarray(3 * n, 4 * n),
    failures: failures ?? [],
    interrupted: interrupted ?? [],
    replies: replies ?? EMPTY_BUFFER,
    replyOffsets: replyOffsets ?? EMPTY_OFFSETS,
    sendCalls,
    fatal: fatal ?? null,
  };
}

/** A transport failure before any request left (every item NotSent) is the call's error. */
function sentOrThrow(op: string, raw: RawOutcome): RawOutcome {
  if (raw.fatal && raw.status.every((st) => st === ItemStatusCode.NotSent))
    throw new NetlinkError({ op, errno: raw.fatal.errno, code: raw.fatal.code }, `${op} failed: ${raw.fatal.message}`);
  return raw;
}

function closedError(op: string, message = 'the socket is closed'): NetlinkError {
  return new NetlinkError({ op, errno: 9, code: 'EBADF' }, `${op} failed: EBADF (${message})`);
}

/** Creates a named network namespace (/run/netns/NAME), like `ip netns add NAME`, without forking. */
export function createNetns(name: string): void {
  checkNetnsName('name', name);
  try {
    native.createNetns(name);
  } catch (e) {
    throw NetlinkError.fromNative(`createNetns ${name}`, e);
  }
}

/** Deletes a named network namespace, like `ip netns del NAME`, without forking. */
export function deleteNetns(name: string): void {
  checkNetnsName('name', name);
  try {
    native.deleteNetns(name);
  } catch (e) {
    throw NetlinkError.fromNative(`deleteNetns ${name}`, e);
  }
}
