#!/usr/bin/env node
// The `lvskit` program (package.json bin). Everything is in run.ts; this file wires it to the process.
import { createReadStream } from 'node:fs';
import { Ipvs } from '../ipvs/client.js';
import { Rtnl } from '../rtnl/handle.js';
import { runCli } from './run.js';

const code = await runCli(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  // streams, so run.ts's readBounded can stop reading /dev/zero at its limit
  input: (p) => (p === '-' ? process.stdin : createReadStream(p)),
  isTTY: process.stderr.isTTY === true,
  openIpvs: (netns) => Ipvs.open(netns ? { netns } : {}),
  openRtnl: (netns) => Rtnl.open(netns ? { netns } : {}),
});
process.exitCode = code;
