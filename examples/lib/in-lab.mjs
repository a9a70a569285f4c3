// Where an example can run, decided once for every example and the demo.
//
// kernelFor(name, { ipvs: true }) at the top of an example:
//  - this kernel has IPVS (asked with probeKernel(), never guessed from the uid or the kernel
//    version): returns 'host' and the example runs here, in namespaces it creates and removes;
//  - it has not, and the lab VM is set up (test/lab/setup.sh --check): runs SCRIPT (default: the
//    example itself) inside the VM (test/lab/vm.sh: QEMU booting Debian's stock kernel, sharing
//    this checkout) with the same arguments, and exits with its exit code. In the VM the same call
//    finds IPVS and returns 'host';
//  - the lab is not set up: one line on stderr saying what is needed and how to get it
//    (`npm run lab:setup`), exit 2. With { setUp: true } (the demo) the lab is set up instead.
// kernelFor(name, { ipvs: false }) only checks that namespaces can be created (root).
// Every refusal is one line and exit code 2, never a stack trace.
// LVSKIT_EXAMPLE_WHERE=host|vm forces the choice (LVSKIT_DEMO_WHERE too, for the demo).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Exit code for "this machine cannot run it as it is" (a missing kernel feature, privilege or set-up). */
export const EXIT_NEEDS = 2;

function refuse(name, line) {
  process.stderr.write(`${name}: ${line}\n`);
  process.exit(EXIT_NEEDS);
}

/** Whether the lab VM is ready to boot (test/lab/setup.sh --check: 0.1 s, changes nothing). */
export function labReady() {
  const r = spawnSync('bash', [join(REPO, 'test', 'lab', 'setup.sh'), '--check'], { stdio: 'ignore' });
  return r.status === 0;
}

/**
 * Decides where the calling example runs (see the header). Returns 'host' when it runs in this
 * process; otherwise it ran in the VM and this process exits with the VM command's exit code.
 * @param {string} name  the example's name, first word of every message
 * @param {{ ipvs?: boolean, script?: string, args?: string[], setUp?: boolean, timeoutSec?: number, env?: string[] }} [opts]
 *   script: the file to run in the VM (default process.argv[1]); args: its arguments (default the
 *   caller's); setUp: set the lab up when it is not (default false: say how and exit 2);
 *   timeoutSec: the VM's outer bound (default 900); env: NAME=VALUE pairs exported in the guest.
 * @returns {Promise<'host'>}
 */
export async function kernelFor(name, opts = {}) {
  const { ipvs = true, setUp = false, timeoutSec = 900, env = [] } = opts;
  if (process.platform !== 'linux') refuse(name, `needs Linux (lvskit drives Linux kernels only); this is ${process.platform}`);
  if (!existsSync(join(REPO, 'dist', 'index.js'))) refuse(name, 'needs a built lvskit: run `npm install` (or `npm run build`) in the checkout first');
  const { probeKernel } = await import('lvskit');
  const probe = probeKernel();
  const forced = process.env.LVSKIT_EXAMPLE_WHERE ?? process.env.LVSKIT_DEMO_WHERE;
  if (forced !== undefined && forced !== 'host' && forced !== 'vm') refuse(name, `LVSKIT_EXAMPLE_WHERE must be host or vm, not '${forced}'`);
  const rootLine = (why) => `needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) to create network namespaces; this process cannot (${why})`;
  if (!ipvs) {
    if (!probe.netns.ok) refuse(name, rootLine(probe.netns.why));
    return 'host';
  }
  const where = forced ?? (probe.ipvs.ok ? 'host' : 'vm');
  if (where === 'host' || process.env.LVSKIT_IN_LAB_VM === '1') {
    if (!probe.ipvs.ok) {
      refuse(name, process.env.LVSKIT_IN_LAB_VM === '1'
        ? `the lab VM's kernel has no IPVS (${probe.ipvs.why}): rebuild the lab with \`bash test/lab/setup.sh --refresh\``
        : `needs a kernel with IPVS (CONFIG_IP_VS); this one has none (${probe.ipvs.why})`);
    }
    if (!probe.netns.ok) refuse(name, rootLine(probe.netns.why));
    return 'host';
  }
  if (!labReady()) {
    if (!setUp) {
      refuse(name, `needs a kernel with IPVS; this one has none, and the lab VM that provides one is not set up: run \`npm run lab:setup\` once (root, apt, about a minute), then run this again (it moves into the VM by itself)`);
    }
    process.stderr.write(`${name}: setting up the lab VM first (npm run lab:setup; needs root and apt, about a minute)\n`);
    const r = spawnSync('bash', [join(REPO, 'test', 'lab', 'setup.sh')], { stdio: 'inherit', cwd: REPO });
    if (r.status !== 0) refuse(name, `lab setup failed (exit ${r.status ?? r.signal}); see the lines above, then retry with \`npm run lab:setup\``);
  }
  // The guest sees the host's / (read-only; /tmp is its own) and the checkout read-write at the
  // same paths, and starts in this directory: absolute script, same arguments, same cwd.
  const script = resolve(opts.script ?? process.argv[1]);
  const args = opts.args ?? process.argv.slice(2);
  process.stderr.write(`${name}: this kernel has no IPVS: running in the lab VM (bash test/lab/vm.sh -- node ${[relative(process.cwd(), script), ...args].join(' ')})\n`);
  const envArgs = env.flatMap((e) => ['--env', e]);
  // vm.sh stops QEMU on SIGINT/SIGTERM; the script's own clean-up runs inside the VM.
  const r = spawnSync('bash', [join(REPO, 'test', 'lab', 'vm.sh'), '--timeout', String(timeoutSec), ...envArgs, '--', process.execPath, script, ...args], { stdio: 'inherit' });
  if (r.error) refuse(name, `could not start the lab VM: ${r.error.message}`);
  process.exit(r.status ?? 128 + 2);
}
