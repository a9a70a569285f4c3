#!/usr/bin/env node
// Bulk load from an ipvsadm rules file: what `ipvsadm -R < rules` does, checked before anything
// is sent and applied as one batch with rollback.
//
// Shows: parseRules() reads the file (ipvsadm -S output or hand-written -A/-a lines) and refuses
// the whole file on the first bad line (with line and column) instead of applying half of it, as
// ipvsadm -R would; servicesFromRules() turns it into lvskit's state; apply() diffs it against the
// kernel and sends only the changes, in one batch; emitRules() writes it back as ipvsadm -Sn would.
// --generate N loads N synthetic services of 4 real servers each instead, and times it.
// Everything happens in one namespace this script creates and deletes.
//
// Needs: Linux with IPVS, root, a built lvskit. Without IPVS it runs itself in the lab VM
// (examples/lib/in-lab.mjs).
//   node examples/bulk-load/run.mjs [RULES_FILE]      (default: rules.txt next to this script)
//   node examples/bulk-load/run.mjs --generate 2000
import { readFileSync } from 'node:fs';
import { Ipvs, Rtnl, apply, createNetns, deleteNetns, emitRules, parseRules, readState, servicesFromRules } from 'lvskit';
import { kernelFor } from '../lib/in-lab.mjs';

await kernelFor('bulk-load'); // no IPVS here: re-runs itself in the lab VM, or says what it needs (exit 2)

const args = process.argv.slice(2);
let text;
if (args[0] === '--generate') {
  const n = Number(args[1] ?? 1000);
  if (!Number.isInteger(n) || n < 1 || n > 50_000) throw new Error('--generate wants 1..50000');
  const lines = [];
  for (let i = 0; i < n; i++) {
    // spread VIPs over the low octet and the port: the kernel's service table before 7.x hashes
    // (proto ^ addr ^ port) into 256 buckets, and VIPs differing in high octets share one chain
    const vip = `10.${(i >> 8) & 255}.${(i >> 16) & 255}.${i & 255}:${1000 + (i % 50000)}`;
    lines.push(`-A -t ${vip} -s wrr`);
    for (let k = 1; k <= 4; k++) lines.push(`-a -t ${vip} -r 172.16.${k}.${(i % 250) + 1}:80 -g -w ${k}`);
  }
  text = lines.join('\n');
} else {
  text = readFileSync(args[0] ?? new URL('./rules.txt', import.meta.url), 'utf8');
}

const commands = parseRules(text, { source: args[0] ?? 'rules.txt' }); // throws RulesParseError on the first bad line
const services = servicesFromRules(commands);
const NS = `lvskit-bulk-${process.pid}`;
createNetns(NS);
const net = Rtnl.open({ netns: NS });
const ipvs = Ipvs.open({ netns: NS });
try {
  await net.links.setUp('lo');
  const t0 = performance.now();
  const result = await apply(ipvs, { services }, { rollback: true });
  const ms = performance.now() - t0;
  console.log(`applied ${result.changes.length} changes (${services.length} services) in ${ms.toFixed(1)} ms, ${result.report?.sendCalls ?? 0} sendmsg calls`);
  // a second apply of the same state is a no-op: nothing to change
  const again = await apply(ipvs, { services }, { dryRun: true });
  console.log(`second apply would change: ${again.changes.length} things`);
  if (services.length <= 20) process.stdout.write(emitRules((await readState(ipvs)).services ?? [], { numeric: true }));
} finally {
  ipvs.close();
  net.close();
  deleteNetns(NS);
}
