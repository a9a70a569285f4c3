// Conntrack entries of real UDP flows in a namespace this file creates: listed and deleted by
// filter (protocol, original destination = VIP:port, reply source = the real server after DNAT),
// cross-checked against /proc/net/nf_conntrack read inside the namespace. The DNAT and the
// conntrack hooks come from an lvskit nf_tables table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { ip, skipUnless, useNetns } from '../helpers/kernel.js';
import { Conntrack } from '../../lib/conntrack/conntrack.js';
import { Nft } from '../../lib/nft/nft.js';
import { ValidationError } from '../../lib/errors.js';

const skip = skipUnless('netns');

describe.skipIf(skip)('conntrack (netns)', () => {
  const ns = useNetns('lvskit-ct');
  let ct: Conntrack;
  let nft: Nft;
  const proc = () => execFileSync('ip', ['netns', 'exec', ns.name, 'cat', '/proc/net/nf_conntrack'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(' udp '));
  const send = (pairs: [src: string, dst: string, port: number][]) => execFileSync('ip', ['netns', 'exec', ns.name, process.execPath, '-e', `
    const dgram = require('dgram'); const pairs = ${JSON.stringify(pairs)}; let left = pairs.length;
    for (const [src, dst, port] of pairs) {
      const s = dgram.createSocket('udp4');
      s.bind(0, src, () => s.send('x', port, dst, () => { s.close(); if (--left === 0) process.exit(0); }));
    }`]);

  beforeAll(async () => {
    for (const a of ['10.0.0.1/32', '10.0.0.2/32', '10.0.0.8/32', '10.0.0.9/32', '192.0.2.10/32', '192.0.2.11/32']) ip(ns.name, 'addr', 'add', a, 'dev', 'lo');
    nft = Nft.open({ netns: ns.name });
    // Locally generated packets to a VIP are DNATed to its real server (nat hook output).
    await nft.replaceTable({
      family: 'ip', name: 'lb',
      chains: [{ name: 'out', hook: 'output', type: 'nat', priority: 'dstnat' }],
      rules: [
        { chain: 'out', match: { destination: '192.0.2.10', protocol: 'udp', destinationPort: 53 }, nat: { type: 'dnat', address: '10.0.0.9', port: 5353 } },
        { chain: 'out', match: { destination: '192.0.2.11', protocol: 'udp', destinationPort: 53 }, nat: { type: 'dnat', address: '10.0.0.8', port: 5353 } },
      ],
    });
    ct = Conntrack.open({ netns: ns.name });
  });
  afterAll(() => {
    ct?.close();
    nft?.close();
  });

  it('an empty table lists as an empty list', async () => {
    expect(await ct.list({ protocol: 'udp' })).toEqual([]);
  });

  it('lists the UDP flows with original and reply tuples as /proc/net/nf_conntrack shows them', async () => {
    send([['10.0.0.1', '192.0.2.10', 53], ['10.0.0.2', '192.0.2.10', 53], ['10.0.0.1', '192.0.2.11', 53], ['10.0.0.2', '192.0.2.11', 53]]);
    const all = await ct.list({ protocol: 'udp' });
    expect(all).toHaveLength(4);
    expect(proc()).toHaveLength(4);
    const vip10 = await ct.list({ protocol: 'udp', originalDestination: '192.0.2.10', originalDestinationPort: 53 });
    expect(vip10.map((e) => e.original.source).sort()).toEqual(['10.0.0.1', '10.0.0.2']);
    for (const e of vip10) {
      expect(e).toMatchObject({ family: 4, protocol: 'udp', original: { destination: '192.0.2.10', destinationPort: 53 }, reply: { source: '10.0.0.9', sourcePort: 5353, destination: e.original.source } });
      expect(e.status).toEqual(expect.arrayContaining(['CONFIRMED', 'DST_NAT']));
      expect(e.timeout).toBeGreaterThan(0);
      const line = proc().find((l) => l.includes(`src=${e.original.source} dst=192.0.2.10 `))!;
      expect(line).toContain(`sport=${e.original.sourcePort} dport=53 `);
      expect(line).toContain(`src=10.0.0.9 dst=${e.original.source} sport=5353 dport=${e.original.sourcePort}`);
    }
  });

  it('deletes by reply source (the removed real server) and leaves the rest', async () => {
    const r = await ct.delete({ protocol: 'udp', replySource: '10.0.0.9' });
    expect(r).toMatchObject({ deleted: 2, vanished: 0 });
    expect(r.report.ok).toBe(true);
    const left = await ct.list({ protocol: 'udp' });
    expect(left.map((e) => e.reply.source)).toEqual(['10.0.0.8', '10.0.0.8']);
    const lines = proc();
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.includes('src=10.0.0.8 '))).toBe(true);
    expect(await ct.delete({ protocol: 'udp', replySource: '10.0.0.9' })).toMatchObject({ deleted: 0, vanished: 0 });
  });

  it('deletes by VIP:port', async () => {
    expect(await ct.delete({ originalDestination: '192.0.2.11', originalDestinationPort: 53, protocol: 'udp' })).toMatchObject({ deleted: 2 });
    expect(proc()).toEqual([]);
  });

  it('IPv6 flows: listed by family and deleted by their v6 tuple', async () => {
    ip(ns.name, '-6', 'addr', 'add', '2001:db8::1/128', 'dev', 'lo', 'nodad');
    ip(ns.name, '-6', 'addr', 'add', '2001:db8::53/128', 'dev', 'lo', 'nodad');
    // conntrack for IPv6 in this namespace: an lvskit ip6 table using ct state.
    await nft.replaceTable({ family: 'ip6', name: 'ct6', chains: [{ name: 'out', hook: 'output' }], rules: [{ chain: 'out', match: { ctState: ['invalid'] }, verdict: 'drop' }] });
    execFileSync('ip', ['netns', 'exec', ns.name, process.execPath, '-e', `
      const s = require('dgram').createSocket('udp6');
      s.bind(0, '2001:db8::1', () => s.send('x', 53, '2001:db8::53', () => s.close()));`]);
    const v6 = await ct.list({ family: 6, protocol: 'udp' });
    expect(v6).toHaveLength(1);
    expect(v6[0]).toMatchObject({ family: 6, original: { source: '2001:db8::1', destination: '2001:db8::53', destinationPort: 53 } });
    expect(await ct.delete({ family: 6, originalDestination: '2001:db8::53' })).toMatchObject({ deleted: 1, vanished: 0 });
    expect(await ct.list({ family: 6 })).toEqual([]);
  });

  it('validates filters naming field and value', async () => {
    await expect(ct.delete({})).rejects.toThrow(ValidationError);
    await expect(ct.list({ originalDestination: '192.0.2' })).rejects.toThrow(/filter\.originalDestination must be an IPv4 or IPv6 address, got "192\.0\.2"/);
    await expect(ct.list({ protocol: 'bogus' as 'udp' })).rejects.toThrow(/filter\.protocol must be one of/);
    await expect(ct.list({ family: 6, replySource: '10.0.0.9' })).rejects.toThrow(/filter\.replySource must be an IPv6 address like family/);
    await expect(ct.list({ vip: 1 } as never)).rejects.toThrow(/filter\.vip is not a filter field/);
  });
});
