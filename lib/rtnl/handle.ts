// Rtnl: one rtnetlink handle on one network namespace, composing every rtnetlink family on one
// socket. `Rtnl.open({ netns: 'lab' })` is the programmatic `ip -n lab ...`.
import { NetlinkSocket, resolveNetns, type NetnsSpec } from '../socket.js';
import { ValidationError } from '../errors.js';
import { Links } from './link.js';
import { Addresses } from './address.js';
import { Sysctl } from './sysctl.js';
import { Routes, decodeRouteMessage } from './route.js';
import { NextHops, decodeNextHopMessage } from './nexthop.js';
import { Rules, decodeRuleMessage } from './rule.js';
import { RtnlEventStream, validateEventOptions, type EventDecoders, type EventOptions } from './events.js';

export interface RtnlOptions {
  /** The namespace: a name (/run/netns/NAME), { name }, { path } or { pid }. Default: the caller's. */
  netns?: NetnsSpec;
  /** Receive buffer of the request socket in bytes. Default 32 MiB. */
  receiveBufferBytes?: number;
}

export class Rtnl {
  readonly #socket: NetlinkSocket;
  readonly #netns: NetnsSpec | undefined;
  /** Links: `ip link`. */
  readonly links: Links;
  /** Addresses: `ip addr`. */
  readonly addresses: Addresses;
  /** Routes: `ip route`. */
  readonly routes: Routes;
  /** Nexthop objects and groups: `ip nexthop`. */
  readonly nexthops: NextHops;
  /** Policy routing rules: `ip rule`. */
  readonly rules: Rules;
  /** /proc/sys of this namespace: `sysctl`. */
  readonly sysctl: Sysctl;
  readonly #streams = new Set<RtnlEventStream>();

  private constructor(socket: NetlinkSocket, netns: NetnsSpec | undefined) {
    this.#socket = socket;
    this.#netns = netns;
    this.links = new Links(socket);
    this.addresses = new Addresses(socket, this.links);
    this.routes = new Routes(socket);
    this.nexthops = new NextHops(socket);
    this.rules = new Rules(socket);
    this.sysctl = new Sysctl(socket);
  }

  /**
   * Opens a NETLINK_ROUTE socket in `netns` (entered on a short-lived thread: the process never
   * moves). NetlinkError ENOENT when the namespace does not exist, EPERM without CAP_SYS_ADMIN to
   * enter it.
   */
  static open(options: RtnlOptions = {}): Rtnl {
    if (typeof options !== 'object' || options === null) throw new ValidationError('options', options, 'must be an object');
    const socket = NetlinkSocket.open('route', { netns: options.netns, receiveBufferBytes: options.receiveBufferBytes });
    return new Rtnl(socket, options.netns);
  }

  /** The namespace as given ('current', a name, a path or 'pid N'). */
  get netns(): string {
    return this.#socket.netns;
  }

  get closed(): boolean {
    return this.#socket.closed;
  }

  /** The handle's request socket, for families built on it. */
  get socket(): NetlinkSocket {
    return this.#socket;
  }

  /**
   * Change notifications of this namespace as an async iterator, on a socket of its own. Equivalent
   * to `ip -n NS monitor link address route nexthop rule`. Yields { type, action, value } and, when
   * the kernel dropped events because the consumer fell behind, { type: 'overrun', count }.
   */
  events(options: EventOptions = {}): RtnlEventStream {
    const { types, highWaterMark } = validateEventOptions(options);
    if (this.#socket.closed) throw new ValidationError('handle', 'closed', 'must be open to subscribe to events');
    const ns = this.#netns === undefined ? undefined : this.#netns;
    resolveNetns(ns);
    const open = () => NetlinkSocket.open('route', { netns: ns, receiveBufferBytes: options.receiveBufferBytes });
    const stream = new RtnlEventStream(open, types, highWaterMark, this.eventDecoders());
    this.#streams.add(stream);
    return stream;
  }

  /** Decoders for route, nexthop and rule events (the routes module's): value is the Route, NextHop or Rule. */
  protected eventDecoders(): EventDecoders {
    return {
      route: (b, off) => decodeRouteMessage(b, off).route,
      nexthop: (b, off) => decodeNextHopMessage(b, off).nexthop,
      rule: (b, off) => decodeRuleMessage(b, off).rule,
    };
  }

  /**
   * Closes the handle and every event stream it opened. Requests queued behind the one in flight
   * reject with EBADF; the one in flight completes.
   */
  close(): void {
    for (const s of this.#streams) s.close();
    this.#streams.clear();
    this.#socket.close();
  }
}
