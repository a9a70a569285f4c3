#!/usr/bin/env node
// The `lvskit` program (package.json bin). Everything is in run.ts; this file wires it to the process.
import { readFileSync } from 'node:fs';
import { Ipvs } from '../ipvs/client.js';
import { Rtnl } from '../rtnl/handle.js';
import { runCli } from './run.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const code = await runCli(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readStdin,
  readFile: (p) => readFileSync(p, 'utf8'),
  isTTY: process.stderr.isTTY === true,
  openIpvs: (netns) => Ipvs.open(netns ? { netns } : {}),
  openRtnl: (netns) => Rtnl.open(netns ? { netns } : {}),
});
process.exitCode = code;
