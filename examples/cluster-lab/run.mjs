#!/usr/bin/env node
// `npm run demo:cluster`: runs the cluster lab (lab.mjs) where there is a kernel with IPVS: this
// host's when it has IPVS, else the lab VM (QEMU booting Debian's stock kernel, sharing this
// checkout; FRR comes from the host's filesystem like node), set up first when it is not yet.
// examples/lib/in-lab.mjs decides, as for the demo and every example.
// Arguments are passed to lab.mjs (--connections N, --interval MS, --probes N, --bfd/--no-bfd, --bfd-interval MS).
// LVSKIT_EXAMPLE_WHERE=host|vm forces the choice; LVSKIT_CLUSTER_TIMEOUT=seconds (600) bounds the lab.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kernelFor } from '../lib/in-lab.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const lab = join(HERE, 'lab.mjs');
const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(`usage: npm run demo:cluster -- [--connections N] [--interval MS] [--probes N] [--bfd | --no-bfd] [--bfd-interval MS]
  --connections N  long-lived connections per experiment (default 300), each from its own address:port
  --interval MS    each connection exchanges a line every MS milliseconds (default 300)
  --probes N       new connections opened after a real server is drained (default 60)
  --bfd, --no-bfd  detect a dead director with BFD (bfdd, 100 ms x 3) or with OSPF's dead interval (4 s);
                   default: BFD natively, OSPF in the lab VM (an emulated bfdd on a busy machine flaps)
  --bfd-interval MS  BFD transmit/receive interval (default 100)
env: LVSKIT_EXAMPLE_WHERE=host|vm (default: host when its kernel has IPVS), LVSKIT_CLUSTER_TIMEOUT=seconds (600)
Needs root and FRR (apt-get install --no-install-recommends frr). See examples/cluster-lab/README.md.`);
  process.exit(0);
}
const env = process.env.LVSKIT_CLUSTER_TIMEOUT ? [`LVSKIT_CLUSTER_TIMEOUT=${process.env.LVSKIT_CLUSTER_TIMEOUT}`] : [];
await kernelFor('demo:cluster', { script: lab, args, setUp: true, timeoutSec: 900, env });
const r = spawnSync(process.execPath, [lab, ...args], { stdio: 'inherit' });
if (r.error) throw r.error;
process.exit(r.status ?? 128 + 2);
