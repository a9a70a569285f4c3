#!/usr/bin/env node
// Does the kernel this runs on have IPVS (and can this process make network namespaces)?
// Prints one JSON line: { ipvs: {ok, why}, netns: {ok, why}, source }. Always exits 0.
// Asks the library's probeKernel() (dist/, so `npm run build:ts` first); when the library or its
// addon is not built, falls back to looking for /proc/net/ip_vs and says so.
import { existsSync } from 'node:fs';

let result;
try {
  const lib = await import('../../dist/index.js');
  if (typeof lib.probeKernel !== 'function') throw new Error('dist/index.js has no probeKernel()');
  const p = await lib.probeKernel();
  result = {
    ipvs: { ok: Boolean(p.ipvs?.ok), why: String(p.ipvs?.why ?? '') },
    netns: { ok: Boolean(p.netns?.ok), why: String(p.netns?.why ?? '') },
    source: 'probeKernel()',
  };
} catch (e) {
  const ok = existsSync('/proc/net/ip_vs');
  const because = `probeKernel() unavailable (${String(e?.message ?? e).split('\n')[0]}): fell back to /proc/net/ip_vs`;
  result = {
    ipvs: { ok, why: `${because}, which ${ok ? 'exists' : 'does not exist'}` },
    netns: { ok: false, why: `${because}; netns not probed` },
    source: 'fallback',
  };
}
process.stdout.write(`${JSON.stringify(result)}\n`);
