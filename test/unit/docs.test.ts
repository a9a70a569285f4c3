// Docs that are tested (issue 18, item 3): every ts/typescript/js/javascript block of README.md and
// docs/*.md (test/helpers/doc-blocks.ts finds them) compiles under `strict` against the package's
// own sources ('lvskit' is lib/index.ts here), unless it is marked `<!-- excerpt: why -->`.
//
// What a block may leave out, and how the check supplies it:
//  - the import line: names the block uses that 'lvskit' exports are imported for it (the docs'
//    convention: "everything import { ... } from 'lvskit' gives you"); node: modules are not;
//  - the handles a page's examples share (`ipvs`, `svc`, ...): a page declares them, typed, in a
//    comment the reader does not see and the check does:
//      <!-- doc-context: what the examples below share
//      declare const ipvs: lvskit.Ipvs;
//      -->
//    (`lvskit.` names the package's types). A block that declares such a name itself uses its own.
//
// Then README's and api.md's blocks that need no kernel also run (pure calls: hashing, parsing,
// formats): those that use no page handle and call no kernel entry point (opening a socket or a
// handle, namespaces, the probe, the connection table, apply/readState).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { blocksOf, docBlocks, docFiles, type DocBlock } from '../helpers/doc-blocks.js';

const ROOT = join(import.meta.dirname, '..', '..');
// Under node_modules/ (ignored by git; vitest transforms and runs files from there), one per run.
let OUT = '';
const KERNEL = /\b(?:Ipvs|Rtnl|NetlinkSocket|Nft|Conntrack|HealthChecker)\s*\.\s*open\b|\bnew\s+NetlinkSocket\b|\b(?:createNetns|deleteNetns|probeKernel|listConnections|readConnectionTable|readState|apply|announceVip|withdrawVip|drainDirector|monitorHealth)\s*\(/;
const CONTEXT = /<!--\s*doc-context:[^\n]*\n([\s\S]*?)-->/g;

interface Prepared extends DocBlock {
  name: string;
  source: string;
  /** The lines the check put before the block's own. */
  prelude: number;
  runs: boolean;
}

let exportNames: Set<string>;
let blocks: Prepared[] = [];
let diagnostics: ts.Diagnostic[] = [];

function contextOf(file: string): { name: string; decl: string }[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(CONTEXT)].flatMap((m) =>
    m[1]!
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .map((decl) => {
        const name = /^declare\s+(?:const|let|function|class)\s+([A-Za-z_$][\w$]*)/.exec(decl)?.[1];
        if (!name) throw new Error(`${file}: a doc-context line must be 'declare const NAME: TYPE;', not ${decl}`);
        if (/:\s*any\b/.test(decl)) throw new Error(`${file}: doc-context ${name} is typed any: that would check nothing`);
        return { name, decl };
      }),
  );
}

const declares = (code: string, name: string): boolean =>
  new RegExp(`\\b(?:const|let|var|function|class)\\s+${name}\\b`).test(code) ||
  new RegExp(`\\b(?:const|let|var)\\s*[{[][^=]*\\b${name}\\b[^=]*[}\\]]\\s*=`).test(code) ||
  new RegExp(`\\bimport\\b[^;]*\\b${name}\\b[^;]*\\bfrom\\b`).test(code);
const uses = (code: string, name: string): boolean => new RegExp(`(?<![\\w$.'"])${name.replace(/\$/g, '\\$')}(?![\\w$])`).test(code);

function prepare(b: DocBlock, index: number): Prepared {
  const context = contextOf(b.file).filter((c) => !declares(b.code, c.name));
  const needed = [...exportNames].filter((n) => uses(b.code, n) && !declares(b.code, n)).sort();
  const usesContext = context.some((c) => uses(b.code, c.name));
  const lines = [
    "import type * as lvskit from 'lvskit';",
    ...(needed.length ? [`import { ${needed.join(', ')} } from 'lvskit';`] : []),
    ...context.map((c) => c.decl),
  ];
  const name = `${String(index).padStart(3, '0')}-${b.file.replace(/[/.]/g, '_')}-L${b.line}.ts`;
  const runs = (b.file === 'README.md' || b.file === 'docs/api.md') && !usesContext && !KERNEL.test(b.code);
  return { ...b, name, prelude: lines.length, source: `${lines.join('\n')}\n${b.code}\nexport {};\n`, runs };
}

beforeAll(() => {
  // Every name lib/index.ts exports, values and types.
  const libProgram = ts.createProgram([join(ROOT, 'lib', 'index.ts')], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, noEmit: true, skipLibCheck: true });
  const checker = libProgram.getTypeChecker();
  const index = libProgram.getSourceFile(join(ROOT, 'lib', 'index.ts'))!;
  exportNames = new Set(checker.getExportsOfModule(checker.getSymbolAtLocation(index)!).map((s) => s.getName()));

  mkdirSync(join(ROOT, 'node_modules', '.cache'), { recursive: true });
  OUT = mkdtempSync(join(ROOT, 'node_modules', '.cache', 'lvskit-doc-blocks-'));
  writeFileSync(join(OUT, 'package.json'), '{ "type": "module" }\n');
  blocks = docBlocks(ROOT)
    .filter((b) => !b.excerpt)
    .map(prepare);
  for (const b of blocks) writeFileSync(join(OUT, b.name), b.source);
  // `strict` as a consumer would have it (not this repository's extra noUncheckedIndexedAccess).
  const program = ts.createProgram(
    blocks.map((b) => join(OUT, b.name)),
    {
      strict: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2023.d.ts'],
      types: ['node'],
      typeRoots: [join(ROOT, 'node_modules', '@types')],
      noEmit: true,
      skipLibCheck: true,
      paths: { lvskit: [join(ROOT, 'lib', 'index.ts')] },
    },
  );
  diagnostics = ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName.startsWith(OUT));
}, 180_000);

afterAll(() => {
  if (OUT) rmSync(OUT, { recursive: true, force: true });
});

describe('the block extractor', () => {
  it('finds ts/js blocks (also indented or ~~~), their lines and their excerpt marks, and skips the rest', () => {
    const md = [
      '# t', '', '```ts', 'const a = 1;', '```', '', '```sh', 'ls', '```', '',
      '<!-- excerpt: a fragment of the call above -->', '', '```javascript', '  .run();', '```', '',
      '- item', '  ```typescript', '  const b = [', '    2,', '  ];', '  ```', '', '~~~js', 'x()', '```', '~~~',
    ].join('\n');
    expect(blocksOf('x.md', md)).toEqual([
      { file: 'x.md', line: 3, lang: 'ts', code: 'const a = 1;' },
      { file: 'x.md', line: 13, lang: 'js', code: '  .run();', excerpt: 'a fragment of the call above' },
      { file: 'x.md', line: 18, lang: 'ts', code: 'const b = [\n  2,\n];' },
      { file: 'x.md', line: 24, lang: 'js', code: 'x()\n```' },
    ]);
  });
});

describe('code blocks in README.md and docs/*.md', () => {
  it('finds the blocks of every page', () => {
    const all = docBlocks(ROOT);
    expect(docFiles(ROOT)).toContain('docs/api.md');
    expect(all.filter((b) => b.file === 'README.md').length).toBeGreaterThanOrEqual(1);
    expect(all.filter((b) => b.file === 'docs/api.md').length).toBeGreaterThanOrEqual(20);
    // excerpts are the exception
    expect(all.filter((b) => b.excerpt).length).toBeLessThan(all.length / 10);
  });

  it('each compiles under strict', () => {
    const messages = diagnostics.map((d) => {
      const b = blocks.find((x) => d.file!.fileName.endsWith(x.name))!;
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      const at = line < b.prelude ? `${b.file}:${b.line} (its context)` : `${b.file}:${b.line + 1 + line - b.prelude}`;
      return `${at}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    expect(messages).toEqual([]);
  });

  it('the kernel-free ones in README.md and docs/api.md run', async () => {
    const run = blocks.filter((b) => b.runs);
    expect(run.length).toBeGreaterThanOrEqual(3);
    const failures: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      for (const b of run) {
        const file = join(OUT, b.name.replace(/\.ts$/, '.run.ts'));
        writeFileSync(file, b.source.replace(/from 'lvskit'/g, `from ${JSON.stringify(join(ROOT, 'lib', 'index.ts'))}`));
        try {
          await import(file);
        } catch (e) {
          failures.push(`${b.file}:${b.line}: ${String((e as Error).stack ?? e).split("\n").slice(0, 3).join("\n")}`);
        }
      }
    } finally {
      log.mockRestore();
    }
    expect(failures).toEqual([]);
  }, 120_000);
});
