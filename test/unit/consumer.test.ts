// The package as a consumer meets it (issue 18, item 2): from a directory of its own, with lvskit
// under node_modules (a link to this checkout's built package; scripts/check-pack.sh does the same
// with the packed tarball), `import` and `require` both load it, give the same names and the very
// same objects (one module instance: `require` loads the ES module itself, Node >= 20.19 / 22.12,
// so there is no second CommonJS copy whose classes `instanceof` would not recognise), and the
// types resolve under `strict` for an .mts and a .cts consumer. dist/ must be built
// (`npm run build:ts`).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
let dir = '';

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ is not built: run `npm run build:ts` first');
  dir = mkdtempSync(join(tmpdir(), 'lvskit-consumer-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'lvskit'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function node(args: string[]): { stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

describe('a consumer directory', () => {
  it('gets the same export names through require and import, without warnings', () => {
    const cjs = node(['-e', "console.log(JSON.stringify(Object.keys(require('lvskit')).sort()))"]);
    const esm = node(['--input-type=module', '-e', "import * as m from 'lvskit'; console.log(JSON.stringify(Object.keys(m).sort()))"]);
    const required: string[] = JSON.parse(cjs.stdout);
    const imported: string[] = JSON.parse(esm.stdout);
    expect(required.length).toBeGreaterThan(100);
    expect(required).toEqual(imported.filter((n) => n !== 'default'));
    for (const n of ['Ipvs', 'Rtnl', 'parseRules', 'schedulerForService', 'ValidationError', 'MultipathRoute']) expect(required).toContain(n);
    // no ExperimentalWarning for require() of the ES module (nor anything else Node warns about)
    expect(cjs.stderr).not.toMatch(/Warning|Error/);
    expect(esm.stderr).not.toMatch(/Warning|Error/);
  });

  it('gets one module instance: what require returns is what import returns', () => {
    const out = node([
      '--input-type=module',
      '-e',
      [
        "import { createRequire } from 'node:module';",
        "import * as m from 'lvskit';",
        "const r = createRequire(process.cwd() + '/x.js')('lvskit');",
        'const same = Object.keys(m).filter((k) => k !== "default" && r[k] !== m[k]);',
        "let caught = false; try { m.parseRules('-A -t 1.2.3.4:80 -s nope'); } catch (e) { caught = e instanceof r.RulesParseError; }",
        'console.log(JSON.stringify({ different: same, caught }));',
      ].join('\n'),
    ]);
    expect(JSON.parse(out.stdout)).toEqual({ different: [], caught: true });
  });

  it('runs pure calls through require: parse rules, pick the mh destination', () => {
    const out = node([
      '-e',
      [
        "const { parseRules, servicesFromRules, schedulerForService } = require('lvskit');",
        "const [s] = servicesFromRules(parseRules('-A -t 192.0.2.10:80 -s mh\\n-a -t 192.0.2.10:80 -r 10.0.0.11:80 -g -w 1\\n'));",
        "console.log(schedulerForService(s, s.destinations).pick('203.0.113.7', 40000).address);",
      ].join('\n'),
    ]);
    expect(out.stdout.trim()).toBe('10.0.0.11');
  });

  it('type-checks an .mts and a .cts consumer under strict (and the types are real: a wrong use fails)', () => {
    const body = [
      "import { parseRules, servicesFromRules, schedulerForService, ValidationError, type RulesCommand } from 'lvskit';",
      "const commands: RulesCommand[] = parseRules('-A -t 192.0.2.10:80 -s mh\\n');",
      'const [service] = servicesFromRules(commands);',
      'console.log(service?.scheduler);',
      "const table = schedulerForService({ scheduler: 'mh', flags: { persistent: false, hashed: true } }, [{ address: '10.0.0.11', port: 80, weight: 1 }]);",
      "console.log(table.pick('203.0.113.7')?.address);",
      "console.log(new ValidationError('port', 70000, 'out of range').field);",
      '// @ts-expect-error parseRules returns commands, not a string: fails to compile if the types were any',
      "const wrong: string = parseRules('');",
      'console.log(wrong);',
    ].join('\n');
    writeFileSync(join(dir, 'consumer.mts'), body + '\n');
    writeFileSync(join(dir, 'consumer.cts'), body + '\n');
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          noEmit: true,
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules', '@types')],
        },
        files: ['consumer.mts', 'consumer.cts'],
      }),
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', dir, '--traceResolution'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    const errors = r.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
    expect(errors).toEqual([]);
    expect(r.status).toBe(0);
    // both consumers resolved to the shipped declarations through the exports map
    const resolved = r.stdout.split('\n').filter((l) => /Module name 'lvskit' was successfully resolved to/.test(l));
    expect(resolved.length).toBeGreaterThanOrEqual(2);
    for (const l of resolved) expect(l).toMatch(/dist\/index\.d\.ts'/);
  }, 120_000);
});

describe('package.json exports', () => {
  it('maps import and require to the one ES module, with its types first', () => {
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js', require: './dist/index.js' });
    // require() of an ES module without a flag: Node 20.19+ and 22.12+
    expect(pkg.engines.node).toBe('^20.19.0 || >=22.12.0');
    expect(execFileSync(process.execPath, ['-p', 'process.features.require_module'], { encoding: 'utf8' }).trim()).toBe('true');
  });
});
