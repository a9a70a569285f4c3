// Reading a desired state or a rules file for the CLI, in bounded pieces. `lvskit -R < /dev/zero`
// or `lvskit apply /dev/zero` must end with a clear message, not with the heap exhausted: the
// input is read chunk by chunk, and the reading stops as soon as the whole input passes
// MAX_INPUT_BYTES or a line of rules text passes MAX_LINE_BYTES.
import { LvskitError } from '../errors.js';

/**
 * The most input one command reads: 256 MiB. A rules file of 1,000,000 services with 4 real
 * servers each is about 250 MB... of which a JSON state holds far less per object; V8 cannot
 * hold a string much past 512 MiB, so the limit also keeps the decoded text within reach.
 */
export const MAX_INPUT_BYTES = 256 * 2 ** 20;

/**
 * The longest line of rules text: 64 KiB (ipvsadm's own lines are under 200 bytes; a persistence
 * engine's data is the longest field). JSON is exempt: a minified state is one long line.
 */
export const MAX_LINE_BYTES = 64 * 2 ** 10;

/** The input passed a limit: nothing was parsed or applied. */
export class InputError extends LvskitError {
  override name = 'InputError';
  /** The file name, or 'stdin'. */
  readonly source: string;
  /** 1-based line that was too long (absent when the whole input was too large). */
  readonly line: number | undefined;
  constructor(source: string, message: string, line?: number) {
    super(`${source}${line !== undefined ? `:${line}` : ''}: ${message}`);
    this.source = source;
    this.line = line;
  }
}

export interface InputLimits {
  maxBytes?: number;
  maxLineBytes?: number;
}

const NL = 0x0a;

/**
 * Reads `chunks` into text, refusing input over the limits before it is all in memory. Rules text
 * (anything not starting with '{' after white space) is also held to the line limit; JSON is not.
 */
export async function readBounded(chunks: AsyncIterable<Uint8Array>, source: string, limits: InputLimits = {}): Promise<string> {
  const maxBytes = limits.maxBytes ?? MAX_INPUT_BYTES;
  const maxLine = limits.maxLineBytes ?? MAX_LINE_BYTES;
  const parts: Uint8Array[] = [];
  let total = 0;
  let json: boolean | undefined; // decided at the first byte that is not white space
  let lineLen = 0; // bytes since the last newline
  let lines = 1;
  for await (const c of chunks) {
    if (total + c.length > maxBytes) throw new InputError(source, `input is larger than ${maxBytes} bytes (the most one command reads); nothing was applied`);
    total += c.length;
    parts.push(c);
    if (json === true) continue;
    let pos = 0;
    if (json === undefined) {
      while (pos < c.length && (c[pos] === 0x20 || c[pos] === 0x09 || c[pos] === 0x0d || c[pos] === NL)) {
        if (c[pos] === NL) lines++;
        pos++;
      }
      if (pos === c.length) continue;
      json = c[pos] === 0x7b; // '{'
      if (json) continue;
    }
    const buf = Buffer.from(c.buffer, c.byteOffset, c.length);
    while (pos < buf.length) {
      const nl = buf.indexOf(NL, pos);
      lineLen += (nl === -1 ? buf.length : nl) - pos;
      if (lineLen > maxLine) throw new InputError(source, `line is longer than ${maxLine} bytes (the longest rules line read); nothing was applied`, lines);
      if (nl === -1) break;
      lineLen = 0;
      lines++;
      pos = nl + 1;
    }
  }
  return Buffer.concat(parts, total).toString('utf8');
}
