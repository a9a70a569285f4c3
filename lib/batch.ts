// Batch results shared by every family: one result per item, and an exact account of what was
// applied when something failed part-way.
import { ItemStatusCode, type RawOutcome } from './addon-types.js';
import { NetlinkError } from './errors.js';

export type ItemState = 'applied' | 'failed' | 'not-sent' | 'unknown';

export interface ItemResult<T = undefined> {
  index: number;
  state: ItemState;
  /** For 'failed' (the kernel refused) and 'unknown' (the socket failed before the answer). */
  error?: NetlinkError;
  /** Decoded answer, for requests that return data. */
  value?: T;
}

export interface BatchReport<T = undefined> {
  ok: boolean;
  items: ItemResult<T>[];
  /** Indexes of items the kernel applied. */
  applied: number[];
  /** Indexes of items the kernel refused. */
  failed: number[];
  /** Indexes never sent (stopOnError, or after a transport failure). */
  notSent: number[];
  /** Indexes sent whose fate is unknown (transport failure before their answer). */
  unknown: number[];
  /** Number of sendmsg calls used. */
  sendCalls: number;
  /** Set when the transport itself failed mid-batch. */
  transportError?: NetlinkError;
  /** How long each phase of the run took (IPVS batches; see BatchTiming). */
  timing?: BatchTiming;
}

/**
 * Where a batch's time went, in milliseconds of the monotonic clock (performance.now()), from
 * the moment the batch's turn on its handle came (time queued behind earlier calls on the same
 * handle is not counted). The phases run one after another, so their sum is at most totalMs.
 * For a controller to export, as kube-proxy exports its sync durations; never a pass/fail figure.
 */
export interface BatchTiming {
  /** Reading the kernel state the plan needs (the services an edit merges into; with rollback, what a delete must restore). 0 when nothing was read. */
  readMs: number;
  /** Validating every item and planning its request (and inverse). */
  planMs: number;
  /** Encoding the requests into netlink messages. */
  encodeMs: number;
  /** Sending every request and waiting for every acknowledgement: the kernel's work, the socket and the thread-pool hop. */
  sendMs: number;
  /** Building the per-item report from the acknowledgements. */
  reportMs: number;
  /** Undoing the applied items after a failure (rollback); absent when no rollback ran. */
  rollbackMs?: number;
  /** The whole run, start to report (or to the BatchError). */
  totalMs: number;
}

const stateOf: Record<number, ItemState> = {
  [ItemStatusCode.Ok]: 'applied',
  [ItemStatusCode.Failed]: 'failed',
  [ItemStatusCode.NotSent]: 'not-sent',
  [ItemStatusCode.Unknown]: 'unknown',
};

/**
 * Builds the per-item report of a batch. `opOf(i)` names item i's operation for its error
 * ("addService tcp 10.0.0.1:80"); `decode(i)` decodes its replies when it has any.
 */
export function reportOf<T = undefined>(
  raw: RawOutcome,
  opOf: (index: number) => string,
  decode?: (index: number) => T | undefined,
): BatchReport<T> {
  const n = raw.status.length;
  const failures = new Map(raw.failures.map((f) => [f.index, f]));
  const report: BatchReport<T> = { ok: true, items: new Array(n), applied: [], failed: [], notSent: [], unknown: [], sendCalls: raw.sendCalls };
  const transport = raw.fatal
    ? new NetlinkError({ op: 'batch', errno: raw.fatal.errno, code: raw.fatal.code }, `netlink transport failed mid-batch: ${raw.fatal.message}`)
    : undefined;
  if (transport) report.transportError = transport;
  for (let i = 0; i < n; i++) {
    const state = stateOf[raw.status[i]!] ?? 'unknown';
    const item: ItemResult<T> = { index: i, state };
    switch (state) {
      case 'applied':
        report.applied.push(i);
        if (decode && raw.replyCount[i]! > 0) item.value = decode(i);
        break;
      case 'failed': {
        const f = failures.get(i);
        item.error = f
          ? NetlinkError.fromFailure(opOf(i), f, { batch: true })
          : new NetlinkError({ op: opOf(i), errno: raw.errors[i]!, code: 'E' + raw.errors[i], batchIndex: i });
        report.failed.push(i);
        break;
      }
      case 'not-sent':
        report.notSent.push(i);
        break;
      default:
        report.unknown.push(i);
        if (transport) item.error = transport;
    }
    report.items[i] = item;
  }
  report.ok = report.failed.length === 0 && report.notSent.length === 0 && report.unknown.length === 0;
  return report;
}

/** For single requests: throws the item's NetlinkError (or the transport's), else returns. */
export function throwIfFailed(raw: RawOutcome, op: string, index = 0): void {
  if (raw.status[index] === ItemStatusCode.Ok) return;
  const f = raw.failures.find((x) => x.index === index);
  if (f) throw NetlinkError.fromFailure(op, f);
  if (raw.fatal) throw new NetlinkError({ op, errno: raw.fatal.errno, code: raw.fatal.code }, `${op} failed: ${raw.fatal.message}`);
  throw new NetlinkError({ op, errno: 0, code: 'EUNKNOWN' }, `${op}: no answer from the kernel`);
}

/** Reply messages of item `index` as [offset, length] pairs into raw.replies. */
export function* repliesOf(raw: RawOutcome, index: number): Generator<[number, number]> {
  const begin = raw.replyBegin[index]!;
  const count = raw.replyCount[index]!;
  for (let r = begin; r < begin + count; r++) {
    const off = raw.replyOffsets[r]!;
    yield [off, raw.replies.readUInt32LE(off)];
  }
}

/** Thrown by a batch call when rollback was asked and something failed. */
export class BatchError<T = undefined> extends NetlinkError {
  override name = 'BatchError';
  readonly report: BatchReport<T>;
  readonly rollback: BatchReport | undefined;
  constructor(report: BatchReport<T>, rollback?: BatchReport) {
    const first = report.failed.length ? report.items[report.failed[0]!]!.error! : report.transportError;
    super(
      { op: first?.op ?? 'batch', errno: first?.errno ?? 0, code: first?.code ?? 'EUNKNOWN', kernelMessage: first?.kernelMessage, batchIndex: first?.batchIndex },
      `batch failed: ${report.failed.length} failed, ${report.applied.length} applied, ${report.notSent.length} not sent, ${report.unknown.length} unknown; first: ${first?.message ?? 'transport failure'}` +
        (rollback ? `; rollback ${rollback.ok ? 'restored the previous state' : `left ${rollback.failed.length} item(s) not undone`}` : ''),
    );
    this.report = report;
    this.rollback = rollback;
  }
}
