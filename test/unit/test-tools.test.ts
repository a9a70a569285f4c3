// The tests' external tools (issue 14): every command a test file runs is listed in
// test/lab/test-tools.txt with its apt package, `npm run lab:setup` (test/lab/setup.sh) installs
// every listed package, and a file whose tool is missing skips outside CI but fails under CI=true.
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasCommand, skipWithoutTools, toolPackages } from '../helpers/tools.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// What every machine that runs the tests has: the shell, node and npm themselves, coreutils.
const BASE = new Set(['sh', 'bash', 'node', 'npm', 'cat', 'rm', 'true', 'false', 'sleep', 'timeout', 'env', 'kill']);

function testSources(dir = join(ROOT, 'test')): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) {
      if (e !== 'fixtures' && e !== 'lab') out.push(...testSources(p));
    } else if (/\.(ts|mts|mjs|js)$/.test(e)) out.push(p);
  }
  return out;
}

/** Commands named as a literal first word: spawn/exec*('cmd', ...), `ip netns exec NS cmd`, ns helpers. */
function commandsRun(text: string): Set<string> {
  const found = new Set<string>();
  const patterns = [
    /\b(?:spawn|spawnSync|execFile|execFileSync|execSync)\(\s*['"`]([A-Za-z0-9_.-]+)['"` ]/g,
    /'netns',\s*'exec',\s*[^,]+,\s*'([A-Za-z0-9_.-]+)'/g,
    /\b(?:inNs|nsExec|nsRun)\((?:[^,()'`]+,\s*)?['`]([A-Za-z0-9_.-]+)['`]/g,
  ];
  // an option ('-e' after process.execPath) is never a command
  for (const re of patterns) for (const m of text.matchAll(re)) if (!m[1]!.startsWith('-')) found.add(m[1]!);
  return found;
}

describe('test tools', () => {
  const listed = toolPackages();

  it('every command a test runs is in test/lab/test-tools.txt (or on every machine)', () => {
    const unlisted: string[] = [];
    for (const file of testSources()) {
      for (const cmd of commandsRun(readFileSync(file, 'utf8'))) {
        if (!listed.has(cmd) && !BASE.has(cmd)) unlisted.push(`${cmd} (${file.slice(ROOT.length)})`);
      }
    }
    expect(unlisted).toEqual([]);
    // the scan itself finds what it must (a scan that finds nothing cannot fail)
    const found = new Set(testSources().flatMap((f) => [...commandsRun(readFileSync(f, 'utf8'))]));
    for (const c of ['ip', 'nft', 'tshark', 'capsh', 'python3', 'sysctl', 'ipvsadm']) expect(found, c).toContain(c);
  });

  it('lab:setup installs every listed package', () => {
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts['lab:setup']).toBe('bash test/lab/setup.sh');
    const pkgs = execFileSync('bash', [join(ROOT, 'test/lab/setup.sh'), '--print-packages'], { encoding: 'utf8' }).trim().split(/\s+/);
    for (const p of new Set(listed.values())) expect(pkgs, p).toContain(p);
  });

  describe('skipWithoutTools', () => {
    const saved = process.env.CI;
    afterEach(() => {
      if (saved === undefined) delete process.env.CI;
      else process.env.CI = saved;
    });
    const absent = 'lvskit-no-such-tool';

    it('outside CI: a missing tool skips, naming it', () => {
      delete process.env.CI;
      expect(hasCommand(absent)).toBe(false);
      expect(skipWithoutTools('x', [absent])).toBe(true);
      expect(skipWithoutTools('x', ['sh'])).toBe(false);
      expect(skipWithoutTools('x', ['sh'], () => 'no AF_PACKET')).toBe(true);
    });

    it('under CI=true: a missing tool throws, naming the tool and its package', () => {
      process.env.CI = 'true';
      expect(() => skipWithoutTools('packet-capture', [absent])).toThrow(`CI=true and a tool this test needs is missing: packet-capture: ${absent} not installed`);
      expect(() => skipWithoutTools('x', ['sh'], () => 'no AF_PACKET')).toThrow('x: no AF_PACKET');
      expect(skipWithoutTools('x', ['sh'])).toBe(false);
      if (hasCommand('tcpdump')) expect(skipWithoutTools('x', ['tcpdump'])).toBe(false);
    });
  });
});
