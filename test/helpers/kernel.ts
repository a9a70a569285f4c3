// Real-kernel test helpers. Every namespace a test makes is its own, uniquely named, and deleted
// in afterAll (also when the test fails). Capabilities are probed by asking the kernel.
import { afterAll, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createNetns, deleteNetns } from '../../lib/socket.js';
import { probeKernel, type KernelProbe } from '../../lib/probe.js';

let cached: KernelProbe | undefined;
export function caps(): KernelProbe {
  cached ??= probeKernel();
  return cached;
}

/** Logs a loud skip reason when a capability is missing; returns true when tests must skip. */
export function skipUnless(what: 'netns' | 'ipvs'): boolean {
  const c = caps();
  const ok = what === 'netns' ? c.netns.ok : c.ipvs.ok && c.netns.ok;
  if (!ok) {
    const why = what === 'netns' ? c.netns.why : `${c.ipvs.why}; ${c.netns.why}`;
    console.warn(`\n*** SKIPPING ${what} tests: ${why} ***\n`);
  }
  return !ok;
}

let counter = 0;
/** A fresh uniquely named namespace for the current test file, with lo up. */
export function useNetns(prefix = 'lvskit-t'): { readonly name: string } {
  const state = { name: '' };
  beforeAll(() => {
    state.name = `${prefix}-${process.pid}-${counter++}`;
    createNetns(state.name);
    ip(state.name, 'link', 'set', 'lo', 'up');
  });
  afterAll(() => {
    if (state.name) deleteNetns(state.name);
    state.name = '';
  });
  // A worker that exits without reaching afterAll must still remove what it made.
  process.once('exit', () => {
    if (!state.name) return;
    try {
      deleteNetns(state.name);
    } catch {
      /* already gone */
    }
  });
  return state;
}

/** Runs `ip -n NS ...` (tests may use iproute2 as the reference; the library never does). */
export function ip(ns: string, ...args: string[]): string {
  return execFileSync('ip', ['-n', ns, ...args], { encoding: 'utf8' });
}

export function ipJson<T = unknown>(ns: string, ...args: string[]): T {
  const out = execFileSync('ip', ['-n', ns, '-j', ...args], { encoding: 'utf8' });
  return (out.trim() ? JSON.parse(out) : []) as T;
}
