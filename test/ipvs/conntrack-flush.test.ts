// The drain and health-check paths leave no stale UDP conntrack entries (issue 19): with
// net.ipv4.vs.conntrack=1 every IPVS connection has a conntrack entry whose reply source is the
// real server. apply() deleting a UDP destination (directly, or after a drain) and the health
// monitor draining one delete exactly that server's entries of the VIP:port, and say how many;
// with flushConntrack: false they stay (so the flush is what removes them).
// Runs where the kernel has IPVS (the lab VM); the clients are UDP sockets of the namespace
// itself, scheduled by IPVS at LOCAL_OUT towards real servers behind a dummy device.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conntrack, Ipvs, Nft, apply, monitorHealth, type LvsState } from '../../lib/index.js';
import { createNetns, deleteNetns } from '../../lib/socket.js';
import { skipUnless } from '../helpers/kernel.js';
import { textChunks } from '../helpers/cli.js';
import { runCli } from '../../lib/cli/run.js';
import { Rtnl } from '../../lib/rtnl/handle.js';

const run = promisify(execFile);
const skip = skipUnless('ipvs');
const NS = `lvskit-ctflush-${process.pid}`;
const VIP = '192.0.2.53';
const REALS = ['10.9.0.1', '10.9.0.2'];
const CLIENTS = 8;
const svc = { protocol: 'udp', address: VIP, port: 53 } as const;

const inNs = async (cmd: string, ...args: string[]): Promise<string> =>
  (await run('ip', ['netns', 'exec', NS, cmd, ...args], { encoding: 'utf8', timeout: 60_000 })).stdout;

/** One datagram from each of CLIENTS source addresses (port `sport`) to VIP:53. */
async function sendFlows(sport: number): Promise<void> {
  const clients = Array.from({ length: CLIENTS }, (_, i) => `10.200.1.${i + 1}`);
  await inNs(process.execPath, '-e', `
    const dgram = require('dgram'); let left = ${CLIENTS};
    for (const src of ${JSON.stringify(clients)}) {
      const s = dgram.createSocket('udp4');
      s.bind(${sport}, src, () => s.send('q', 53, '${VIP}', () => { s.close(); if (--left === 0) process.exit(0); }));
    }`);
}

const state = (reals: string[]): LvsState => ({ services: [{ key: svc, scheduler: 'rr', destinations: reals.map((address) => ({ address, port: 53, forward: 'masq' as const })) }] });

describe.skipIf(skip)('conntrack entries of a removed UDP real server: apply() and the health monitor delete them', () => {
  let ipvs: Ipvs;
  let ct: Conntrack;
  const flowsOf = async (rs: string) => (await ct.list({ protocol: 'udp', originalDestination: VIP, originalDestinationPort: 53 })).filter((f) => f.reply.source === rs);

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

  it('apply() deleting a UDP destination deletes its entries, and only its', async () => {
    await apply(ipvs, state(REALS));
    await sendFlows(5000);
    const kept = (await flowsOf(REALS[1]!)).map((f) => f.original.source).sort();
    expect((await flowsOf(REALS[0]!)).length).toBe(CLIENTS / 2); // rr
    const r = await apply(ipvs, state([REALS[1]!]));
    expect(r.changes).toEqual([`delete destination ${REALS[0]}:53 from udp ${VIP}:53`]);
    expect(r.conntrack).toEqual([{ service: { ...svc, family: 'inet' }, dest: { address: REALS[0], port: 53 }, deleted: CLIENTS / 2 }]);
    expect(await flowsOf(REALS[0]!)).toEqual([]);
    expect((await flowsOf(REALS[1]!)).map((f) => f.original.source).sort()).toEqual(kept);
  });

  it('after a drain too; and flushConntrack: false leaves them', async () => {
    await ct.delete({ protocol: 'udp', originalDestination: VIP });
    await apply(ipvs, state(REALS));
    await sendFlows(5001);
    expect((await flowsOf(REALS[0]!)).length).toBeGreaterThan(0);
    const off = await apply(ipvs, state([REALS[1]!]), { flushConntrack: false });
    expect(off.conntrack).toBeUndefined();
    const stale = (await flowsOf(REALS[0]!)).length;
    expect(stale).toBeGreaterThan(0);

    await apply(ipvs, state(REALS));
    await sendFlows(5002);
    const before = (await flowsOf(REALS[0]!)).length;
    // UDP connections of IPVS stay until their timeout: the drain wait ends at drainTimeoutMs
    const r = await apply(ipvs, state([REALS[1]!]), { drain: true, drainTimeoutMs: 300, drainPollMs: 100 });
    expect(r.afterDrainReport?.ok).toBe(true);
    expect(r.conntrack).toHaveLength(1);
    expect(r.conntrack![0]!.deleted).toBe(before);
    expect(r.conntrack![0]!.error).toBeUndefined();
    expect(await flowsOf(REALS[0]!)).toEqual([]);
    expect((await flowsOf(REALS[1]!)).length).toBeGreaterThan(0);
  });

  it('deleting the UDP service deletes the entries of each of its destinations', async () => {
    await ct.delete({ protocol: 'udp', originalDestination: VIP });
    await apply(ipvs, state(REALS));
    await sendFlows(5005);
    const r = await apply(ipvs, { services: [] }, { allowWipe: true });
    expect(r.changes).toEqual([`delete service udp ${VIP}:53`]);
    expect(r.conntrack!.map((c) => [c.dest.address, c.deleted]).sort()).toEqual([[REALS[0], CLIENTS / 2], [REALS[1], CLIENTS / 2]]);
    expect(await ct.list({ protocol: 'udp', originalDestination: VIP })).toEqual([]);
  });

  it('a conntrack failure is reported on the result, the apply stands', async () => {
    await apply(ipvs, state(REALS));
    const closed = Conntrack.open({ netns: NS });
    closed.close();
    const r = await apply(ipvs, state([REALS[1]!]), { conntrack: closed });
    expect(r.report?.ok).toBe(true);
    expect(r.conntrack).toHaveLength(1);
    expect(r.conntrack![0]!.deleted).toBe(0);
    expect((r.conntrack![0]!.error as { code?: string }).code).toBe('EBADF');
    expect((await ipvs.listDestinations(svc)).map((d) => d.address)).toEqual([REALS[1]]);
  });

  it('lvskit apply says how many entries it deleted (text and --json)', async () => {
    await ct.delete({ protocol: 'udp', originalDestination: VIP });
    await apply(ipvs, state(REALS));
    await sendFlows(5004);
    const n = (await flowsOf(REALS[0]!)).length;
    const cli = async (stdin: string, ...args: string[]) => {
      const x = { out: '', err: '' };
      const code = await runCli(['--netns', NS, ...args], {
        stdout: (s) => void (x.out += s), stderr: (s) => void (x.err += s), input: () => textChunks(stdin), isTTY: false,
        openIpvs: (ns) => Ipvs.open({ netns: ns! }), openRtnl: (ns) => Rtnl.open({ netns: ns! }),
      });
      return { code, ...x };
    };
    const r = await cli(JSON.stringify(state([REALS[1]!])), 'apply', '-');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`conntrack: deleted ${n} UDP entries of ${REALS[0]}:53\n`);
    await apply(ipvs, state(REALS));
    const j = await cli(JSON.stringify(state([REALS[1]!])), 'apply', '--json', '-');
    expect(j.code, j.err).toBe(0);
    expect(JSON.parse(j.out).conntrack).toEqual([{ dest: `${REALS[0]}:53`, deleted: 0 }]);
  });

  it('the health monitor draining a UDP destination deletes its entries (conntrackDeleted)', async () => {
    await ct.delete({ protocol: 'udp', originalDestination: VIP });
    await apply(ipvs, state(REALS));
    await sendFlows(5003);
    const expected = (await flowsOf(REALS[0]!)).length;
    expect(expected).toBe(CLIENTS / 2);
    const monitor = monitorHealth(ipvs, {
      intervalMs: 100,
      fall: 1,
      rise: 1,
      check: { type: 'function', fn: (c) => c.address !== REALS[0] },
      services: [{ service: svc, destinations: REALS.map((address) => ({ address, port: 53 })) }],
    });
    try {
      const events = monitor.events();
      let drained: { conntrackDeleted?: number } | undefined;
      for await (const e of events) {
        if (e.type === 'error') throw e.error;
        if (e.type === 'drained' && e.address === REALS[0]) {
          drained = e;
          break;
        }
      }
      events.close();
      expect(drained?.conntrackDeleted).toBe(expected);
      expect(await flowsOf(REALS[0]!)).toEqual([]);
      expect((await flowsOf(REALS[1]!)).length).toBe(CLIENTS / 2);
    } finally {
      await monitor.stop();
    }
  });
});
