// FRR daemons in a test's namespaces (Debian's `frr` package, /usr/lib/frr): each instance gets its
// own directory (config, zserv socket, vty sockets, pid files, logs) and runs zebra first, then its
// routing daemons, inside `ip netns exec NS`. Tests fork FRR; the library never does. Not a test file.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const FRR_DIR = '/usr/lib/frr';

/** Why FRR cannot run here, or undefined when it can. */
export function frrMissing(): string | undefined {
  if (!existsSync(join(FRR_DIR, 'zebra'))) return `FRR is not installed (${FRR_DIR}/zebra missing: apt-get install -y --no-install-recommends frr)`;
  if (!frrUser()) return 'no user frr in /etc/passwd (the frr package creates it)';
  return undefined;
}

/** The frr user's uid and gid, from /etc/passwd. */
function frrUser(): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('frr:'));
  if (!line) return undefined;
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

export interface FrrInstance {
  name: string;
  dir: string;
  /** vtysh -c CMD against this instance (for diagnostics). */
  vtysh(cmd: string): string;
  /** Kills this instance's daemons by their pid files (SIGTERM, then SIGKILL); idempotent. */
  stop(): void;
  log(): string;
}

function pidsOf(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => Number(readFileSync(join(dir, f), 'utf8').trim()))
    .filter((p) => Number.isInteger(p) && p > 0);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts zebra, then each other daemon of `configs` (e.g. { ospfd: '...', bgpd: '...' }), in
 * namespace `ns`. Each daemon reads its own file: a daemon started with -f on a shared file takes
 * the lines of sections it does not know (`router bgp` for ospfd) as its own in the section
 * before (a `redistribute` under `router bgp` would land in `router ospf`).
 */
export async function startFrr(ns: string, root: string, name: string, configs: Record<string, string>): Promise<FrrInstance> {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const daemons = Object.keys(configs).filter((d) => d !== 'zebra');
  for (const d of ['zebra', ...daemons]) writeFileSync(join(dir, `${d}.conf`), `hostname ${name}\nlog file ${join(dir, 'frr.log')}\n${configs[d] ?? ''}\n`);
  writeFileSync(join(dir, 'vtysh.conf'), '');
  const { uid, gid } = frrUser()!;
  chownSync(root, uid, gid);
  chownSync(dir, uid, gid);
  for (const f of readdirSync(dir)) chownSync(join(dir, f), uid, gid);
  const common = ['-d', '-N', name, '-z', join(dir, 'zserv.api'), '--vty_socket', dir, '-u', 'frr', '-g', 'frr'];
  const run = (d: string) => execFileSync('ip', ['netns', 'exec', ns, join(FRR_DIR, d), ...common, '-f', join(dir, `${d}.conf`), '-i', join(dir, `${d}.pid`)], { stdio: ['ignore', 'ignore', 'pipe'] });
  const instance: FrrInstance = {
    name,
    dir,
    vtysh: (cmd) => {
      try {
        return execFileSync('vtysh', ['--vty_socket', dir, '-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (e) {
        return String((e as { stdout?: string }).stdout ?? e);
      }
    },
    stop: () => {
      const pids = pidsOf(dir);
      for (const p of pids) if (alive(p)) process.kill(p, 'SIGTERM');
      const until = Date.now() + 3000;
      while (pids.some(alive) && Date.now() < until) execFileSync('sleep', ['0.1']);
      for (const p of pids) if (alive(p)) process.kill(p, 'SIGKILL');
    },
    log: () => (existsSync(join(dir, 'frr.log')) ? readFileSync(join(dir, 'frr.log'), 'utf8') : ''),
  };
  try {
    run('zebra');
    // ospfd/bgpd connect to zebra's socket: wait (bounded) until it exists.
    for (let i = 0; i < 100 && !existsSync(join(dir, 'zserv.api')); i++) await new Promise((r) => setTimeout(r, 50));
    for (const d of daemons) run(d);
  } catch (e) {
    instance.stop();
    throw e;
  }
  return instance;
}

/** Removes a directory tree made for FRR instances. */
export function removeFrrRoot(root: string): void {
  rmSync(root, { recursive: true, force: true });
}
