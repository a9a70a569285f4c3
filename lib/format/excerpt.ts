// Input echoed back in error messages: control characters escaped (a line carrying terminal
// escape sequences must not reach the terminal raw) and cut to a short window around the column
// at fault (a 1 MB line must not echo 1 MB).

/** The widest excerpt of an input line in an error message, in characters. */
export const EXCERPT_WIDTH = 80;

/** C0 controls, DEL and C1 controls as \xHH (tab as \t); lone surrogates as \u{HHHH}. */
export function escapeControls(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (c) => {
    if (c === '\t') return '\\t';
    const n = c.charCodeAt(0);
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u{${n.toString(16)}}`;
  });
}

/**
 * A window of `line` around `column` (1-based), escaped, with '...' where it was cut, and the
 * caret's 1-based column within the excerpt.
 */
export function excerpt(line: string, column: number, width = EXCERPT_WIDTH): { text: string; caret: number } {
  const col = Math.min(Math.max(1, column), line.length + 1);
  let from = 0;
  let to = line.length;
  if (line.length > width) {
    from = Math.max(0, Math.min(col - 1 - Math.floor(width / 2), line.length - width));
    to = from + width;
  }
  const head = from > 0 ? '...' : '';
  const before = head + escapeControls(line.slice(from, col - 1));
  const text = before + escapeControls(line.slice(col - 1, to)) + (to < line.length ? '...' : '');
  return { text, caret: before.length + 1 };
}

/** `text` escaped and cut to at most `max` characters (for values quoted inside messages). */
export function clip(text: string, max = EXCERPT_WIDTH): string {
  const e = escapeControls(text.length > max ? text.slice(0, max) : text);
  return text.length > max ? `${e}...` : e;
}
