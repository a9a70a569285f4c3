#!/usr/bin/env node
// `npm run demo`: runs the demo lab (lab.mjs) where there is a kernel with IPVS.
//  - This host's kernel has IPVS (asked with probeKernel(), never guessed from the uid): lab.mjs
//    runs here, inside namespaces it creates and removes.
//  - It has not: lab.mjs runs inside the lab VM (QEMU booting Debian's stock kernel, sharing this
//    checkout: test/lab/vm.sh), after `bash test/lab/setup.sh` if the lab is not set up yet.
// Arguments are passed to lab.mjs (--flows N, --concurrency N, --rows N, --no-compare).
// LVSKIT_DEMO_WHERE=host|vm forces the choice.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');
const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(`usage: npm run demo -- [--flows N] [--concurrency N] [--rows N] [--no-compare]
  --flows N        connections to open (default 300), each from its own client address:port
  --concurrency N  connections in flight at once (default 16)
  --rows N         per-flow rows to print (default 20; mismatches first)
  --no-compare     skip timing the set-up through lvskit vs ip/sysctl/ipvsadm
env: LVSKIT_DEMO_WHERE=host|vm (default: host when its kernel has IPVS), LVSKIT_DEMO_TIMEOUT=seconds (420)
See examples/demo-lab/README.md.`);
  process.exit(0);
}

if (process.platform !== 'linux') {
  console.error('demo: lvskit drives Linux kernels only');
  process.exit(1);
}
if (!existsSync(join(REPO, 'dist', 'index.js'))) {
  console.error('demo: lvskit is not built yet: run `npm install` (or `npm run build`) first');
  process.exit(1);
}
const { probeKernel } = await import('lvskit');
const probe = probeKernel();

const run = (cmd, argv, opts = {}) => {
  const r = spawnSync(cmd, argv, { stdio: 'inherit', cwd: REPO, ...opts });
  if (r.error) throw r.error;
  return r.status ?? 128 + 1;
};
const lab = relative(REPO, join(HERE, 'lab.mjs'));
const where = process.env.LVSKIT_DEMO_WHERE ?? (probe.ipvs.ok ? 'host' : 'vm');

if (where === 'host') {
  if (!probe.netns.ok) {
    console.error(`demo: this kernel has IPVS, but this process cannot create network namespaces (${probe.netns.why}): run it as root (CAP_SYS_ADMIN, CAP_NET_ADMIN)`);
    process.exit(1);
  }
  console.log(`demo: this kernel has IPVS (${probe.ipvs.why}): running here`);
  process.exit(run(process.execPath, [lab, ...args]));
}
console.log(`demo: this kernel has no IPVS (${probe.ipvs.why}): running in the lab VM`);
if (run('bash', ['test/lab/setup.sh', '--check'], { stdio: ['ignore', 'ignore', 'inherit'] }) !== 0) {
  console.log('demo: setting up the lab VM first (bash test/lab/setup.sh; needs root and apt, about a minute)');
  const rc = run('bash', ['test/lab/setup.sh']);
  if (rc !== 0) {
    console.error(`demo: lab setup failed (exit ${rc})`);
    process.exit(rc);
  }
}
// vm.sh forwards SIGINT/SIGTERM to QEMU; lab.mjs has its own watchdog, this is the outer bound.
const env = process.env.LVSKIT_DEMO_TIMEOUT ? ['--env', `LVSKIT_DEMO_TIMEOUT=${process.env.LVSKIT_DEMO_TIMEOUT}`] : [];
process.exit(run('bash', ['test/lab/vm.sh', '--timeout', '900', ...env, '--', 'node', lab, ...args]));
