// The stale-UDP problem IPVS users hit (kube-proxy, kube-router): with net.ipv4.vs.conntrack=1
// every IPVS connection has a conntrack entry whose reply source is the real server; when that
// server is removed, its entries keep the flows pinned until they time out. lvskit lists them by
// VIP:port and deletes exactly the removed server's (reply source), with no `conntrack -D`.
// Runs where the kernel has IPVS (the lab VM via `npm test`); the clients are UDP sockets of the
// namespace itself, scheduled by IPVS at LOCAL_OUT towards real servers behind a dummy device.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conntrack, Ipvs, Nft } from '../../lib/index.js';
import { createNetns, deleteNetns } from '../../lib/socket.js';
import { skipUnless } from '../helpers/kernel.js';

const run = promisify(execFile);
const skip = skipUnless('ipvs');
const NS = `lvskit-ctdrain-${process.pid}`;
const VIP = '192.0.2.53';
const REALS = ['10.9.0.1', '10.9.0.2'];
const CLIENTS = 8;

const inNs = async (cmd: string, ...args: string[]): Promise<string> =>
  (await run('ip', ['netns', 'exec', NS, cmd, ...args], { encoding: 'utf8', timeout: 60_000 })).stdout;

describe.skipIf(skip)('conntrack entries of a removed real server, deleted by lvskit', () => {
  let ipvs: Ipvs;
  let ct: Conntrack;

  beforeAll(async () => {
    createNetns(NS);
    await inNs('ip', 'link', 'set', 'lo', 'up');
    await inNs('ip', 'addr', 'add', '10.200.0.1/16', 'dev', 'lo');
    await inNs('ip', 'addr', 'add', `${VIP}/32`, 'dev', 'lo');
    await inNs('ip', 'link', 'add', 'rs0', 'type', 'dummy');
    await inNs('ip', 'addr', 'add', '10.9.0.254/24', 'dev', 'rs0');
    await inNs('ip', 'link', 'set', 'rs0', 'up');
    await inNs('sysctl', '-qw', 'net.ipv4.vs.conntrack=1');
    // Conntrack runs in a namespace once something needs it: an lvskit rule matching ct state.
    const nft = Nft.open({ netns: NS });
    try {
      await nft.replaceTable({ family: 'ip', name: 'ct', chains: [{ name: 'out', hook: 'output' }], rules: [{ chain: 'out', match: { ctState: ['invalid'] }, verdict: 'drop' }] });
    } finally {
      nft.close();
    }
    ipvs = Ipvs.open({ netns: NS });
    ct = Conntrack.open({ netns: NS });
  });

  afterAll(() => {
    ipvs?.close();
    ct?.close();
    deleteNetns(NS);
  });

  it('lists the UDP flows of VIP:53 by real server and deletes only the removed one', async () => {
    const svc = { protocol: 'udp', address: VIP, port: 53 } as const;
    await ipvs.addService({ key: svc, scheduler: 'rr' });
    for (const rs of REALS) await ipvs.addDestination(svc, { address: rs, port: 53, forward: 'masq' });
    const clients = Array.from({ length: CLIENTS }, (_, i) => `10.200.1.${i + 1}`);
    await inNs(process.execPath, '-e', `
      const dgram = require('dgram'); let left = ${CLIENTS};
      for (const src of ${JSON.stringify(clients)}) {
        const s = dgram.createSocket('udp4');
        s.bind(5000, src, () => s.send('q', 53, '${VIP}', () => { s.close(); if (--left === 0) process.exit(0); }));
      }`);
    const flows = await ct.list({ protocol: 'udp', originalDestination: VIP, originalDestinationPort: 53 });
    expect(flows).toHaveLength(CLIENTS);
    const by = (rs: string) => flows.filter((f) => f.reply.source === rs).map((f) => f.original.source).sort();
    expect(by(REALS[0]!).length + by(REALS[1]!).length).toBe(CLIENTS);
    expect(by(REALS[0]!).length).toBe(CLIENTS / 2); // rr

    // The real server goes: IPVS first, then its conntrack entries.
    await ipvs.deleteDestination(svc, { address: REALS[0]!, port: 53 });
    const r = await ct.delete({ protocol: 'udp', originalDestination: VIP, originalDestinationPort: 53, replySource: REALS[0]! });
    expect(r).toMatchObject({ deleted: CLIENTS / 2, vanished: 0 });
    const left = await ct.list({ protocol: 'udp', originalDestination: VIP });
    expect(left.map((f) => f.reply.source)).toEqual(Array(CLIENTS / 2).fill(REALS[1]));
    expect(left.map((f) => f.original.source).sort()).toEqual(by(REALS[1]!));
  });
});
