#!/usr/bin/env node
// Runs the leak soak (test/soak/soak.mjs) with --expose-gc so samples are taken after a full GC.
//   node scripts/soak.mjs            short form for CI: 50,000 operations, 1,000 open/close cycles
//   node scripts/soak.mjs --long     1,000,000 operations, 10,000 open/close cycles
//   node scripts/soak.mjs --ops N --cycles M
// Extra node flags can come through SOAK_NODE_FLAGS (e.g. under valgrind, see scripts/sanitize.sh).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const flags = (process.env.SOAK_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const r = spawnSync(process.execPath, ['--expose-gc', ...flags, join(root, 'test/soak/soak.mjs'), ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
