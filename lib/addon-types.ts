// The whole native surface of the addon, in one place (node-llama-cpp's AddonTypes pattern), so no
// `any` leaks out of lib/native.ts. Family modules add their functions here as they land.

/** Per-item status codes of an executed batch (native/src/transport/socket.h ItemStatus). */
export const enum ItemStatusCode {
  Ok = 0,
  Failed = 1,
  NotSent = 2,
  Unknown = 3,
}

export interface RawFailure {
  index: number;
  errno: number;
  code: string;
  kernelMessage?: string;
  /** Byte offset in the request message the kernel blamed (extended ack). */
  offset?: number;
  missingType?: number;
}

/** What the native execute functions return (positional for speed; see socket_binding.cc). */
export type NativeOutcome = [
  items: Int32Array,
  failures: RawFailure[] | undefined,
  interrupted: number[] | undefined,
  replies: Buffer | undefined,
  replyOffsets: Uint32Array | undefined,
  sendCalls: number,
  fatal: { errno: number; code: string; message: string } | undefined,
];

/** A batch's outcome, as lib/socket.ts hands it to the families. */
export interface RawOutcome {
  /** Per item: ItemStatusCode. */
  status: Int32Array;
  /** Per item: errno when Failed. */
  errors: Int32Array;
  /** Per item: index of its first reply in replyOffsets, and how many. */
  replyBegin: Int32Array;
  replyCount: Int32Array;
  failures: RawFailure[];
  interrupted: number[];
  /** Every reply message, whole and 4-byte aligned; replyOffsets[i] is where reply i starts. */
  replies: Buffer;
  replyOffsets: Uint32Array;
  sendCalls: number;
  fatal: { errno: number; code: string; message: string } | null;
}

export interface ExecOptions {
  ackEach?: boolean;
  stopOnError?: boolean;
  dumpIntrRetries?: number;
  /** Non-zero: run the batch as one nfnetlink transaction of this subsystem (NFNL_SUBSYS_*). */
  nfBatchSubsys?: number;
}

export interface GenlFamilyInfo {
  name: string;
  id: number;
  version: number;
  hdrSize: number;
  maxAttr: number;
  groups: Record<string, number>;
}

export interface NativeBatch {
  readonly count: number;
  readonly byteLength: number;
  clear(): void;
  bytes(): Buffer;
  appendRaw(messages: Uint8Array): number;
}

export interface NativeSocket {
  readonly closed: boolean;
  readonly portId: number;
  buffers(): { rcvbuf: number; sndbuf: number };
  close(): void;
  executeSync(batch: NativeBatch, options?: ExecOptions): NativeOutcome;
  execute(batch: NativeBatch, options?: ExecOptions): Promise<NativeOutcome>;
  resolveFamily(name: string): GenlFamilyInfo;
  watch(groups: number[], onEvents: (replies: Buffer, offsets: Uint32Array, overruns: number, error?: Error) => void): void;
  unwatch(): void;
  /** Whether the watch poll keeps the event loop alive (default true); applies to later watch() calls too. */
  setRef(on: boolean): void;
  readFile(path: string): string;
  writeFile(path: string, value: string): void;
}

import type { IpvsNative } from './ipvs/native-types.js';
import type { RtnlNative } from './rtnl/native-types.js';
import type { NativeHash } from './hash/native-types.js';
import type { NftNative } from './nft/native-types.js';
import type { ConntrackNative } from './conntrack/native-types.js';
import type { NetnsThreadNative } from './health/native-types.js';

/** Transport, batches and namespaces (socket_binding.cc, errors.cc). */
export interface CoreNative {
  NativeSocket: new (protocol: number, nsKind: 0 | 1 | 2, nsPath: string, nsPid: number, rcvbufBytes: number) => NativeSocket;
  NativeBatch: new () => NativeBatch;
  errnoName(errno: number): string;
  createNetns(name: string): void;
  deleteNetns(name: string): void;
  probeNetns(): { ok: boolean; why: string };
}

/** Everything the addon exports. Each family's interface lives beside its module. */
export interface NativeAddon extends CoreNative, IpvsNative, RtnlNative, NftNative, ConntrackNative, NetnsThreadNative {
  /** Hashing kernels (hash_binding.cc). */
  hash: NativeHash;
}
