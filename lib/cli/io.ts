// What a CLI verb is given: the process's streams and how to open handles. Its own module so
// every verb file (run.ts, top.ts, nft.ts, conntrack.ts) depends on it and none on run.ts.
import type { Ipvs } from '../ipvs/client.js';
import type { Rtnl } from '../rtnl/handle.js';

export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** The bytes of FILE, or of standard input for '-', as they come (read with readBounded). */
  input(path: string): AsyncIterable<Uint8Array>;
  /** Whether stderr is a terminal (progress bars). */
  isTTY: boolean;
  openIpvs(netns: string | undefined): Ipvs;
  openRtnl(netns: string | undefined): Rtnl;
}

/** Exit statuses: 0 done; 1 the kernel (or a check) refused; 2 bad usage or bad input. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
