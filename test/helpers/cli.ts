// CliIO pieces for running the CLI in process: input as the chunks a stream would give.
import { createReadStream } from 'node:fs';
import type { CliIO } from '../../lib/cli/io.js';
import type { LvsState } from '../../lib/format/state.js';
import { Ipvs } from '../../lib/ipvs/client.js';

/** `text` as one chunk, the way a short stdin arrives. */
export async function* textChunks(text: string): AsyncIterable<Uint8Array> {
  yield Buffer.from(text, 'utf8');
}

/** FILE as a stream, '-' as `stdin` (text), as lib/cli/main.ts wires them. */
export function inputOf(stdin: string | (() => string), readFile?: (p: string) => string): (p: string) => AsyncIterable<Uint8Array> {
  return (p) => {
    if (p === '-') return textChunks(typeof stdin === 'function' ? stdin() : stdin);
    return readFile ? textChunks(readFile(p)) : createReadStream(p);
  };
}

/** A CLI whose Ipvs handle answers reads from `state` and refuses to send anything. */
export function fakeCli(stdin: string, state: LvsState) {
  const x = { out: '', err: '', sent: [] as string[], io: undefined as unknown as CliIO };
  // an Ipvs as far as apply() can tell (instanceof), answering from `state`
  const ipvs = Object.assign(Object.create(Ipvs.prototype) as object, {
    listAll: async () => (state.services ?? []).map((s) => ({ ...s, destinations: s.destinations ?? [] })),
    getTimeouts: async () => ({ tcp: 900, tcpFin: 120, udp: 300 }),
    listDaemons: async () => [],
    batch: () => {
      x.sent.push('batch');
      throw new Error('nothing may be sent');
    },
    close: () => {},
  });
  x.io = {
    stdout: (t) => void (x.out += t),
    stderr: (t) => void (x.err += t),
    input: () => textChunks(stdin),
    isTTY: false,
    openIpvs: () => ipvs as never,
    openRtnl: () => {
      throw new Error('no rtnl in this test');
    },
  };
  return x;
}
