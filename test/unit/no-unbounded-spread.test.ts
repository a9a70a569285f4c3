// Issue 14: `report.items.push(...items)` overflowed the call stack at 125,000 route changes, after
// the kernel had taken them all, so the CLI exited 1 and skipped --rollback. Every argument list
// is bounded by V8's stack: a spread into a call (`f(...xs)`, `new C(...xs)`) is allowed in lib/
// only where the array has a small fixed bound, said on the same line with a `bounded:` comment.
// This walks lib/ with the TypeScript parser, so a new unbounded spread fails here, not in the field.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const LIB = fileURLToPath(new URL('../../lib', import.meta.url));

function* tsFiles(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* tsFiles(p);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) yield p;
  }
}

/** `file:line: text` of every call or `new` with a spread argument and no `bounded:` note. */
export function unboundedSpreads(file: string, text = readFileSync(file, 'utf8')): string[] {
  const src = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const lines = text.split('\n');
  const found: string[] = [];
  const visit = (n: ts.Node): void => {
    if ((ts.isCallExpression(n) || ts.isNewExpression(n)) && n.arguments?.some(ts.isSpreadElement)) {
      const line = src.getLineAndCharacterOfPosition(n.getStart(src)).line;
      const end = src.getLineAndCharacterOfPosition(n.getEnd()).line;
      const noted = lines.slice(Math.max(0, line - 1), end + 1).some((l) => /\/\/.*\bbounded:/.test(l));
      if (!noted) found.push(`${file}:${line + 1}: ${lines[line]!.trim()}`);
    }
    ts.forEachChild(n, visit);
  };
  visit(src);
  return found;
}

describe('no spread of an unbounded array into a call in lib/', () => {
  it('the checker finds what it must and passes what is noted', () => {
    expect(unboundedSpreads('x.ts', 'out.push(...items);\nMath.max(0, ...xs);\nnew Set(...a);')).toHaveLength(3);
    expect(unboundedSpreads('x.ts', 'g.push(...head); // bounded: at most 8 groups\nconst a = [...xs];\nf({ ...o });')).toEqual([]);
  });

  it('lib/ has none', () => {
    const all = [...tsFiles(LIB)].flatMap((f) => unboundedSpreads(f));
    expect(all).toEqual([]);
  });
});
