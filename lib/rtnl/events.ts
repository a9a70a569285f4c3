// rtnetlink change notifications as an async iterator: links, addresses, routes, nexthops and
// rules, from the handle's namespace. Equivalent to `ip monitor link address route nexthop rule`.
//
// A dedicated socket joins the multicast groups (RTNLGRP_*) and is watched with uv_poll on the
// event loop (NativeSocket.watch), never a parked thread. Messages are decoded as they arrive and
// queued for the consumer. When the queue reaches `highWaterMark` the stream stops reading, so the
// kernel's buffer fills and the kernel drops events rather than the process growing without bound;
// the kernel reports that drop (ENOBUFS) on the next read and the stream yields an
// { type: 'overrun' } event: the consumer knows its view is stale and should re-list.
import type { NetlinkSocket } from '../socket.js';
import { NetlinkError, ValidationError } from '../errors.js';
import { native } from '../native.js';
import { toLink } from './link.js';
import { toAddress } from './address.js';
import type { Address, Link } from './link-types.js';
import type { NextHop, Route, Rule } from './route-types.js';

export type RtnlEventType = 'link' | 'address' | 'route' | 'nexthop' | 'rule';
export const RTNL_EVENT_TYPES: readonly RtnlEventType[] = ['link', 'address', 'route', 'nexthop', 'rule'];

/** RTNLGRP_* multicast groups per event type (include/uapi/linux/rtnetlink.h). */
const GROUPS: Record<RtnlEventType, number[]> = {
  link: [1 /* RTNLGRP_LINK */],
  address: [5 /* RTNLGRP_IPV4_IFADDR */, 9 /* RTNLGRP_IPV6_IFADDR */],
  route: [7 /* RTNLGRP_IPV4_ROUTE */, 11 /* RTNLGRP_IPV6_ROUTE */],
  nexthop: [32 /* RTNLGRP_NEXTHOP */],
  rule: [8 /* RTNLGRP_IPV4_RULE */, 19 /* RTNLGRP_IPV6_RULE */],
};

/** Message type -> [event type, action] (RTM_NEW* are even, RTM_DEL* the next odd number). */
const MESSAGES: Record<number, [RtnlEventType, 'new' | 'del']> = {
  16: ['link', 'new'],
  17: ['link', 'del'],
  20: ['address', 'new'],
  21: ['address', 'del'],
  24: ['route', 'new'],
  25: ['route', 'del'],
  32: ['rule', 'new'],
  33: ['rule', 'del'],
  104: ['nexthop', 'new'],
  105: ['nexthop', 'del'],
};

export type RtnlChangeEvent =
  | { type: 'link'; action: 'new' | 'del'; value: Link }
  | { type: 'address'; action: 'new' | 'del'; value: Address }
  | { type: 'route'; action: 'new' | 'del'; value: Route }
  | { type: 'nexthop'; action: 'new' | 'del'; value: NextHop }
  | { type: 'rule'; action: 'new' | 'del'; value: Rule };

/**
 * The kernel dropped events because the stream's receive buffer was full (ENOBUFS): some changes
 * were never delivered. `count` is how many drops were reported since the last overrun event.
 */
export interface RtnlOverrunEvent {
  type: 'overrun';
  count: number;
}

export type RtnlEvent = RtnlChangeEvent | RtnlOverrunEvent;

/** Decoders for the families the routes module owns; each gets (buffer, offset) of one message. */
export type EventDecoders = Partial<Record<'route' | 'nexthop' | 'rule', (buffer: Buffer, offset: number) => unknown>>;

export interface EventOptions {
  /** Which changes to receive. Default: all five. */
  types?: RtnlEventType[];
  /** Receive buffer of the event socket in bytes (default: the library's 32 MiB). */
  receiveBufferBytes?: number;
  /** Decoded events queued before the stream stops reading from the kernel. Default 10000. */
  highWaterMark?: number;
}

export function eventGroups(types: RtnlEventType[]): number[] {
  return types.flatMap((t) => GROUPS[t]);
}

export function validateEventOptions(options: EventOptions): Required<Pick<EventOptions, 'types' | 'highWaterMark'>> {
  if (typeof options !== 'object' || options === null) throw new ValidationError('options', options, 'must be an object');
  const types = options.types ?? [...RTNL_EVENT_TYPES];
  if (!Array.isArray(types) || types.length === 0) throw new ValidationError('options.types', types, `must be a non-empty array of ${RTNL_EVENT_TYPES.join(', ')}`);
  for (const t of types) if (!RTNL_EVENT_TYPES.includes(t)) throw new ValidationError('options.types', t, `must be one of ${RTNL_EVENT_TYPES.join(', ')}`);
  const hwm = options.highWaterMark ?? 10_000;
  if (!Number.isInteger(hwm) || hwm < 1) throw new ValidationError('options.highWaterMark', hwm, 'must be a positive integer');
  return { types, highWaterMark: hwm };
}

/**
 * An async iterator of rtnetlink events. Iterate with `for await`; leaving the loop (break,
 * return, throw) or calling close() unsubscribes and closes the socket.
 *
 * Process lifetime, as with a paused net.Socket: the stream keeps the Node event loop alive only
 * while a next() is waiting for an event (a for-await loop between events). A stream that is
 * never iterated, or read and then left alone, lets the process exit; it keeps receiving (up to
 * highWaterMark) for as long as something else keeps the process running.
 */
export class RtnlEventStream implements AsyncIterableIterator<RtnlEvent> {
  readonly #open: () => NetlinkSocket;
  #socket: NetlinkSocket;
  readonly #groups: number[];
  readonly #decoders: EventDecoders;
  readonly #hwm: number;
  readonly #queue: RtnlEvent[] = [];
  #head = 0;
  #waiter: { resolve: (r: IteratorResult<RtnlEvent>) => void; reject: (e: unknown) => void } | undefined;
  #error: unknown;
  #closed = false;
  #paused = false;
  #overruns = 0;
  /** Whether the socket's poll currently holds the event loop open (only while #waiter is set). */
  #ref = false;

  /**
   * `open` makes a fresh NETLINK_ROUTE socket in the right namespace; the stream owns every socket
   * it makes and uses it for nothing else.
   */
  constructor(open: () => NetlinkSocket, types: RtnlEventType[], highWaterMark: number, decoders: EventDecoders = {}) {
    this.#open = open;
    this.#socket = open();
    this.#groups = eventGroups(types);
    this.#decoders = decoders;
    this.#hwm = highWaterMark;
    this.#socket.setRef(false); // subscribing alone does not keep the process alive
    this.#watch();
  }

  /** Total ENOBUFS drops the kernel reported on this stream. */
  get overruns(): number {
    return this.#overruns;
  }

  /** Events decoded and waiting for the consumer. */
  get queued(): number {
    return this.#queue.length - this.#head;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #watch(): void {
    this.#socket.watch(this.#groups, (replies, offsets, overruns, error) => this.#onEvents(replies, offsets, overruns, error));
  }

  #onEvents(replies: Buffer, offsets: Uint32Array, overruns: number, error?: Error): void {
    if (this.#closed) return;
    if (overruns > 0) {
      this.#overruns += overruns;
      this.#push({ type: 'overrun', count: overruns });
    }
    for (const off of offsets) {
      const kind = MESSAGES[replies.readUInt16LE(off + 4)];
      if (!kind) continue;
      const [type, action] = kind;
      try {
        if (type === 'link') this.#push({ type, action, value: toLink(native.linkDecode(replies, off)) });
        else if (type === 'address') this.#push({ type, action, value: toAddress(native.addrDecode(replies, off)) });
        else {
          const d = this.#decoders[type];
          const len = replies.readUInt32LE(off);
          // Without a decoder (a stream built outside Rtnl) the value is the raw message.
          this.#push({ type, action, value: d ? d(replies, off) : { raw: Buffer.from(replies.subarray(off, off + len)) } } as RtnlChangeEvent);
        }
      } catch (e) {
        this.#fail(e);
        return;
      }
    }
    if (error) this.#onError(error);
    else if (!this.#paused && this.queued >= this.#hwm) {
      // Stop reading: the kernel's buffer takes the pressure, and drops are reported as ENOBUFS.
      this.#paused = true;
      this.#socket.unwatch();
    }
  }

  // Overruns arrive as counts (the transport reads through the POLLERR that ENOBUFS raises and
  // keeps polling); an error here means the socket itself failed, which ends the stream.
  #onError(error: Error): void {
    this.#fail(NetlinkError.fromNative('events', error));
  }

  /** Holds the event loop open exactly while a consumer waits in next(). */
  #setRef(on: boolean): void {
    if (this.#ref === on || this.#closed) return;
    this.#ref = on;
    this.#socket.setRef(on);
  }

  #push(ev: RtnlEvent): void {
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = undefined;
      this.#setRef(false);
      w.resolve({ value: ev, done: false });
    } else {
      this.#queue.push(ev);
    }
  }

  #fail(e: unknown): void {
    this.#error = e;
    this.close();
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w.reject(e);
    }
  }

  next(): Promise<IteratorResult<RtnlEvent>> {
    if (this.#head < this.#queue.length) {
      const value = this.#queue[this.#head++]!;
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue.splice(0, this.#head);
        this.#head = 0;
      }
      if (this.#paused && !this.#closed && this.queued < this.#hwm / 2) {
        this.#paused = false;
        this.#watch();
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#error !== undefined) {
      const e = this.#error;
      this.#error = undefined;
      return Promise.reject(e);
    }
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    if (this.#paused) {
      this.#paused = false;
      this.#watch();
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
      this.#setRef(true);
    });
  }

  return(): Promise<IteratorResult<RtnlEvent>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Unsubscribes and closes the socket; a pending next() resolves done. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.unwatch();
    this.#socket.close();
    this.#queue.length = 0;
    this.#head = 0;
    if (this.#waiter && this.#error === undefined) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w.resolve({ value: undefined, done: true });
    }
  }
}
