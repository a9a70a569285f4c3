// Shared helpers for the IPVS kernel tests (not a test file). ipvsadm and ip run as independent
// references, inside the test's own namespace; the library itself never forks.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import type { Service, Stats } from '../../lib/ipvs/index.js';

/** Runs `ipvsadm ARGS` inside namespace `ns`. */
export function ipvsadm(ns: string, ...args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', ns, 'ipvsadm', ...args], { encoding: 'utf8' });
}

/** `ipvsadm -Sn` as a sorted list of lines (its own order depends on the kernel's dump order). */
export function savedRules(ns: string): string[] {
  return ipvsadm(ns, '-Sn').split('\n').map((l) => l.trim()).filter(Boolean).sort();
}

/** Runs a shell command inside namespace `ns`. */
export function nsExec(ns: string, cmd: string, args: string[], input?: string): string {
  return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', input });
}

/** A service without counters (which move on their own), for state comparisons. */
export function shape(services: Service[]): unknown {
  return services
    .map((s) => ({ ...s, stats: undefined, destinations: s.destinations?.map((d) => ({ ...d, stats: undefined })) }))
    .sort((a, b) => JSON.stringify(a.key).localeCompare(JSON.stringify(b.key)));
}

export function zeroStats(s: Stats | undefined): boolean {
  return s !== undefined && Object.values(s).every((v) => v === 0n);
}

/**
 * Runs `node -e script ...args` inside namespace `ns` (a test's server or client) and resolves
 * once it writes its first stdout chunk ("ready"); rejects, with its stderr, if it exits first.
 * The caller owns the process (kill it in afterAll).
 */
export function startNodeIn(ns: string, script: string, args: string[], what: string, onSpawn?: (p: ChildProcess) => void): Promise<ChildProcess> {
  const p = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  onSpawn?.(p);
  return new Promise((res, rej) => {
    let err = '';
    p.stderr!.on('data', (d) => (err += d));
    p.stdout!.once('data', () => res(p));
    p.once('exit', (c) => rej(new Error(`${what} exited ${c}: ${err}`)));
  });
}
