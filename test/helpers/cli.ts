// CliIO pieces for running the CLI in process: input as the chunks a stream would give.
import { createReadStream } from 'node:fs';

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
