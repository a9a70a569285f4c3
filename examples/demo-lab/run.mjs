#!/usr/bin/env node
// `npm run demo`: runs the demo lab (lab.mjs) where there is a kernel with IPVS.
//  - This host's kernel has IPVS (asked with probeKernel(), never guessed from the uid): lab.mjs
//    runs here, inside namespaces it creates and removes.
//  - It has not: lab.mjs runs inside the lab VM (QEMU booting Debian's stock kernel, sharing this
//    checkout: test/lab/vm.sh), after `bash test/lab/setup.sh` if the lab is not set up yet.
// (examples/lib/in-lab.mjs decides, for the demo and every example.)
// Arguments are passed to lab.mjs (--flows N, --concurrency N, --rows N, --no-compare).
// LVSKIT_DEMO_WHERE (or LVSKIT_EXAMPLE_WHERE)=host|vm forces the choice.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kernelFor } from '../lib/in-lab.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const lab = join(HERE, 'lab.mjs');
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

// Where: examples/lib/in-lab.mjs, shared with every example. The demo sets the lab up itself
// (the others say how); lab.mjs has its own watchdog, the VM's 900 s is the outer bound.
const env = process.env.LVSKIT_DEMO_TIMEOUT ? [`LVSKIT_DEMO_TIMEOUT=${process.env.LVSKIT_DEMO_TIMEOUT}`] : [];
await kernelFor('demo', { script: lab, args, setUp: true, timeoutSec: 900, env });
console.log('demo: running here (this kernel has IPVS)');
const r = spawnSync(process.execPath, [lab, ...args], { stdio: 'inherit' });
if (r.error) throw r.error;
process.exit(r.status ?? 128 + 2);
