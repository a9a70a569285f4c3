// Summarises a .cpuprofile (node --cpu-prof): self time by function, then inclusive time.
//   node bench/profile/summary.mjs FILE [N]
import { readFileSync } from 'node:fs';
const p = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const N = Number(process.argv[3] ?? 25);
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = p.timeDeltas; const samples = p.samples;
const cnt = new Map();
for (let i = 0; i < samples.length; i++) cnt.set(samples[i], (cnt.get(samples[i]) ?? 0) + (dt[i] ?? 0));
let total = 0;
for (const [id, us] of cnt) { total += us; const n = byId.get(id); const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*\/(dist|lib|node_modules)\//, '$1/')}:${n.callFrame.lineNumber + 1}`; self.set(k, (self.get(k) ?? 0) + us); }
console.log(`total ${(total / 1000).toFixed(1)} ms`);
for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, N)) console.log(`${(us / 1000).toFixed(1).padStart(8)} ms  ${k}`);
// inclusive per function name (parent map)
const parent = new Map();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const incl = new Map();
for (const [id, us] of cnt) { const seen = new Set(); for (let x = id; x !== undefined; x = parent.get(x)) { const n = byId.get(x); const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*\/(dist|lib)\//, '$1/')}:${n.callFrame.lineNumber + 1}`; if (seen.has(k)) continue; seen.add(k); incl.set(k, (incl.get(k) ?? 0) + us); } }
console.log('--- inclusive');
for (const [k, us] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, N)) console.log(`${(us / 1000).toFixed(1).padStart(8)} ms  ${k}`);
