// The TypeScript/JavaScript code blocks of README.md and docs/*.md, for test/unit/docs.test.ts.
// A block is a fenced block whose info string is ts, typescript, js or javascript. A block whose
// nearest non-blank line above is `<!-- excerpt: why -->` is a fragment (not checked: it says so
// in the page's source); every other block must compile under `strict` on its own, importing what
// it uses from 'lvskit'.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface DocBlock {
  /** Path relative to the repository root, e.g. 'docs/api.md'. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: 'ts' | 'js';
  code: string;
  /** Set when the block is marked `<!-- excerpt: why -->`: the why. */
  excerpt?: string;
}

const LANGS: Record<string, DocBlock['lang']> = { ts: 'ts', typescript: 'ts', js: 'js', javascript: 'js' };
const EXCERPT = /^\s*<!--\s*excerpt:\s*(.+?)\s*-->\s*$/;

export function docFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

export function blocksOf(file: string, text: string): DocBlock[] {
  const lines = text.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!, fence = open[2]!, info = open[3]!;
    // CommonMark: the block ends at a line of only the fence character, at least as many
    const closes = (line: string): boolean => {
      const t = line.trim();
      return t.length >= fence.length && t === fence.charAt(0).repeat(t.length);
    };
    let end = i + 1;
    while (end < lines.length && !closes(lines[end]!)) end++;
    const lang = LANGS[info.toLowerCase()];
    if (lang) {
      let prev = i - 1;
      while (prev >= 0 && lines[prev]!.trim() === '') prev--;
      const marker = prev >= 0 ? EXCERPT.exec(lines[prev]!) : null;
      const code = lines
        .slice(i + 1, end)
        .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
        .join('\n');
      blocks.push({ file, line: i + 1, lang, code, ...(marker ? { excerpt: marker[1]! } : {}) });
    }
    i = end;
  }
  return blocks;
}

export function docBlocks(root: string): DocBlock[] {
  return docFiles(root).flatMap((f) => blocksOf(f, readFileSync(join(root, f), 'utf8')));
}
