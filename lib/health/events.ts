// A small fan-out of events to async iterators: every subscriber gets every event published after
// it subscribed, in order, buffered up to a bound (the oldest are dropped and counted past it).

export interface EventSubscription<T> extends AsyncIterableIterator<T> {
  /** Events dropped because this subscriber fell more than the buffer behind. */
  readonly dropped: number;
  /** Ends this subscription (pending and later next() calls resolve done). */
  close(): void;
}

export class EventHub<T> {
  readonly #subs = new Set<Sub<T>>();
  readonly #limit: number;
  #ended = false;

  constructor(limit: number) {
    this.#limit = limit;
  }

  publish(event: T): void {
    for (const s of this.#subs) s.push(event);
  }

  subscribe(): EventSubscription<T> {
    const s = new Sub<T>(this.#limit, () => this.#subs.delete(s));
    if (this.#ended) s.close();
    else this.#subs.add(s);
    return s;
  }

  /** Ends every subscription; later subscriptions are ended at once. */
  end(): void {
    this.#ended = true;
    for (const s of this.#subs) s.close();
    this.#subs.clear();
  }
}

class Sub<T> implements EventSubscription<T> {
  readonly #queue: T[] = [];
  readonly #waiters: ((r: IteratorResult<T>) => void)[] = [];
  readonly #limit: number;
  readonly #onClose: () => void;
  #closed = false;
  dropped = 0;

  constructor(limit: number, onClose: () => void) {
    this.#limit = limit;
    this.#onClose = onClose;
  }

  push(v: T): void {
    if (this.#closed) return;
    const w = this.#waiters.shift();
    if (w) {
      w({ value: v, done: false });
      return;
    }
    this.#queue.push(v);
    if (this.#queue.length > this.#limit) {
      this.#queue.shift();
      this.dropped++;
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#queue.length) return Promise.resolve({ value: this.#queue.shift()!, done: false });
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((res) => this.#waiters.push(res));
  }

  return(): Promise<IteratorResult<T>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
    for (const w of this.#waiters.splice(0)) w({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
