// External tools a test file needs (test/lab/test-tools.txt lists them with their apt packages;
// `npm run lab:setup` installs them). Outside CI a missing tool skips the file loudly; under
// CI=true it throws, so the file fails: a fresh CI machine that lacks a tool must not pass by
// skipping the tests that need it.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** CI=true (read at each call: a test may set it). */
export function isCI(): boolean {
  return /^(1|true|yes)$/i.test(process.env.CI ?? '');
}

/** test/lab/test-tools.txt as command -> apt package. */
export function toolPackages(): Map<string, string> {
  const text = readFileSync(fileURLToPath(new URL('../lab/test-tools.txt', import.meta.url)), 'utf8');
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [cmd, pkg] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (cmd && pkg) m.set(cmd, pkg);
  }
  return m;
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' }).status === 0;
}

/**
 * Whether `what` must skip because a tool is missing: false when all of `commands` are on PATH
 * and `extra` (a further probe, e.g. python3 with AF_PACKET) says nothing is wrong. Otherwise
 * logs why and returns true, or under CI=true throws.
 */
export function skipWithoutTools(what: string, commands: readonly string[], extra?: () => string | undefined): boolean {
  const pkgs = toolPackages();
  const missing = commands.filter((c) => !hasCommand(c));
  let why = missing.length
    ? `${missing.join(', ')} not installed (apt packages: ${missing.map((c) => pkgs.get(c) ?? `? (${c} is not in test/lab/test-tools.txt)`).join(' ')}; npm run lab:setup installs them)`
    : extra?.();
  if (why === undefined) return false;
  why = `${what}: ${why}`;
  if (isCI()) throw new Error(`CI=true and a tool this test needs is missing: ${why}`);
  console.warn(`\n*** SKIPPING ${why} ***\n`);
  return true;
}

/** A probe for skipWithoutTools: python3 can open AF_PACKET sockets (undefined), or `why` not. */
export function afPacketWhy(why: string): () => string | undefined {
  return () => (spawnSync('python3', ['-c', 'import socket; socket.AF_PACKET'], { stdio: 'ignore' }).status === 0 ? undefined : why);
}
