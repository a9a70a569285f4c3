// What `npm pack` would publish: the built JS and its generated declarations, the native sources
// and binding.gyp (the source-build fallback), prebuilds when there are any, README and LICENSE;
// no tests, no build objects, no lab, no fuzzing output. Runs `npm pack --dry-run --json
// --ignore-scripts` (no prepare/tsc run, nothing written) over the current checkout, so dist/
// must be built (`npm run build:ts`).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
let files: string[] = [];
let unpackedSize = 0;

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ is not built: run `npm run build:ts` first');
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const [report] = JSON.parse(out.slice(out.indexOf('[')));
  files = report.files.map((f: { path: string }) => f.path).sort();
  unpackedSize = report.unpackedSize;
}, 90_000);

describe('npm pack contents', () => {
  it('ships the entry points, the package metadata, README and LICENSE', () => {
    for (const f of ['package.json', 'README.md', 'LICENSE', 'binding.gyp', 'native/sources.txt', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js'])
      expect(files, f).toContain(f);
  });

  it('ships every native source binding.gyp compiles, and their headers', () => {
    const listed = readFileSync(join(ROOT, 'native', 'sources.txt'), 'utf8').split('\n').map((s) => s.trim()).filter((s) => s && !s.startsWith('#'));
    expect(listed.length).toBeGreaterThan(0);
    for (const s of listed) expect(files, `native/${s}`).toContain(`native/${s}`);
    const headers = (dir: string): string[] =>
      readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? headers(`${dir}/${e.name}`) : e.name.endsWith('.h') ? [`${dir}/${e.name}`] : []));
    for (const h of headers('native/src')) expect(files, h).toContain(h);
  });

  it('ships a generated declaration next to every module', () => {
    for (const js of files.filter((f) => f.startsWith('dist/') && f.endsWith('.js'))) expect(files, `${js} has no .d.ts`).toContain(js.replace(/\.js$/, '.d.ts'));
  });

  it('ships the prebuilt binaries when there are any', () => {
    const dir = join(ROOT, 'prebuilds');
    const local = existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.node')) : [];
    for (const f of local) expect(files).toContain(`prebuilds/${f}`);
  });

  it('ships no tests, build objects, lab, fuzzing, benchmarks or examples', () => {
    const junk = files.filter(
      (f) =>
        /^(test|tests|build|build-[^/]*|\.lab|\.ci|bench|examples|scripts|node_modules|native\/fuzz)\//.test(f) ||
        /\.(o|a|node|tgz|log|tsbuildinfo)$/.test(f.replace(/^prebuilds\/.*\.node$/, '')) ||
        /(^|\/)(\.DS_Store|\.git[^/]*|vitest\.config\.[a-z]+|tsconfig[^/]*\.json)$/.test(f) ||
        /^lib\/.*\.ts$/.test(f),
    );
    expect(junk).toEqual([]);
    expect(unpackedSize).toBeLessThan(5 * 1024 * 1024);
  });
});

describe('package.json', () => {
  it('loads the addon through node-gyp-build, with a source build as the fallback', () => {
    expect(pkg.scripts.install).toBe('node-gyp-build');
    expect(pkg.gypfile).toBe(true);
    expect(Object.keys(pkg.dependencies)).toEqual(expect.arrayContaining(['node-gyp-build', 'node-addon-api']));
    expect(pkg.devDependencies).toHaveProperty('prebuildify');
    // `npm pack` builds the prebuilds first (prepack: scripts/prebuild.sh, N-API, stripped, for
    // linux-x64 and linux-arm64; a script named "prebuild" would also run before every `npm run build`)
    expect(pkg.scripts.prepack).toBe('bash scripts/prebuild.sh');
    expect(readFileSync(join(ROOT, 'scripts', 'prebuild.sh'), 'utf8')).toMatch(/prebuildify"?\s+\\?\s*--napi --strip/);
    expect(readFileSync(join(ROOT, 'lib', 'native.ts'), 'utf8')).toMatch(/node-gyp-build/);
  });

  it('says where it runs, what it is and under which license', () => {
    expect(pkg.engines?.node).toMatch(/\^20\.19/); // require() of the ES module (test/unit/consumer.test.ts)
    expect(pkg.os).toEqual(['linux']);
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    expect(pkg.keywords).toEqual(expect.arrayContaining(['ipvs', 'netlink', 'load-balancer']));
    expect(pkg.type).toBe('module');
    expect(pkg.exports['.'].types).toBe('./dist/index.d.ts');
    expect(pkg.types).toBe('./dist/index.d.ts');
    expect(pkg.bin.lvskit).toBe('./dist/cli/main.js');
  });
});
