// rtnetlink events from the host kernel, in namespaces this file creates. Changes are made by
// another process (`ip -n NS ...`), so delivery does not depend on this process's own requests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { ip, skipUnless, useNetns } from '../helpers/kernel.js';
import { Rtnl, type RtnlEvent, type RtnlEventStream } from '../../lib/rtnl/index.js';
import { ValidationError } from '../../lib/errors.js';

/** Runs `ip -n NS ARGS` as a separate process without blocking the event loop. */
function ipAsync(ns: string, args: string[], stdin?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('ip', ['-n', ns, ...args], { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ip ${args.join(' ')}: exit ${code}: ${err}`))));
    if (stdin !== undefined) p.stdin!.end(stdin);
  });
}

/** Reads events until `until` matches one; returns everything read, that one included. */
async function readUntil(stream: RtnlEventStream, until: (e: RtnlEvent) => boolean): Promise<RtnlEvent[]> {
  const seen: RtnlEvent[] = [];
  for (;;) {
    const r = await stream.next();
    if (r.done) throw new Error(`stream ended after ${seen.length} events`);
    seen.push(r.value);
    if (until(r.value)) return seen;
  }
}

const isLink = (e: RtnlEvent, name: string, action: 'new' | 'del') => e.type === 'link' && e.action === action && e.value.name === name;

describe.skipIf(skipUnless('netns'))('rtnetlink events (host kernel, own namespaces)', () => {
  const ns = useNetns('lvskit-ev');
  const other = useNetns('lvskit-ev2');
  let rtnl: Rtnl;
  beforeAll(() => {
    rtnl = Rtnl.open({ netns: ns.name });
  });
  afterAll(() => rtnl?.close());

  it('delivers link, address, route, nexthop and rule changes made by another process', async () => {
    const stream = rtnl.events();
    try {
      const made = ipAsync(ns.name, ['link', 'add', 'ev0', 'type', 'veth', 'peer', 'name', 'ev1']);
      const links = await readUntil(stream, (e) => isLink(e, 'ev0', 'new'));
      await made;
      const ev0 = links.at(-1)!;
      expect(ev0.type === 'link' && ev0.value.kind).toBe('veth');

      await ipAsync(ns.name, ['link', 'set', 'ev1', 'up']);
      await ipAsync(ns.name, ['link', 'set', 'ev0', 'up']);
      const up = await readUntil(stream, (e) => e.type === 'link' && e.value.name === 'ev0' && e.value.up);
      expect(up.at(-1)).toMatchObject({ type: 'link', action: 'new' });

      await ipAsync(ns.name, ['addr', 'add', '10.77.0.1/24', 'dev', 'ev0']);
      const addr = await readUntil(stream, (e) => e.type === 'address' && e.action === 'new' && e.value.address === '10.77.0.1');
      const a = addr.at(-1)!;
      expect(a.type === 'address' && [a.value.prefixLength, a.value.index]).toEqual([24, (await rtnl.links.get('ev0')).index]);
      // The kernel adds the prefix route for it in the same change, decoded as a Route.
      const route = await readUntil(stream, (e) => e.type === 'route' && e.value.dst === '10.77.0.0/24');
      expect(route.at(-1)).toMatchObject({ type: 'route', action: 'new', value: { table: 254, family: 4 } });

      await ipAsync(ns.name, ['nexthop', 'add', 'id', '77', 'via', '10.77.0.2', 'dev', 'ev0']);
      const nh = await readUntil(stream, (e) => e.type === 'nexthop' && e.value.id === 77);
      expect(nh.at(-1)).toMatchObject({ action: 'new', value: { gateway: '10.77.0.2' } });
      await ipAsync(ns.name, ['nexthop', 'del', 'id', '77']);
      await readUntil(stream, (e) => e.type === 'nexthop' && e.action === 'del' && e.value.id === 77);

      await ipAsync(ns.name, ['rule', 'add', 'pref', '777', 'from', '10.77.0.0/24', 'table', '77']);
      const rule = await readUntil(stream, (e) => e.type === 'rule' && e.value.priority === 777);
      expect(rule.at(-1)).toMatchObject({ action: 'new', value: { from: '10.77.0.0/24' } });
      await ipAsync(ns.name, ['rule', 'del', 'pref', '777']);

      await ipAsync(ns.name, ['addr', 'del', '10.77.0.1/24', 'dev', 'ev0']);
      await readUntil(stream, (e) => e.type === 'address' && e.action === 'del' && e.value.address === '10.77.0.1');

      await ipAsync(ns.name, ['link', 'del', 'ev0']);
      await readUntil(stream, (e) => isLink(e, 'ev0', 'del'));
    } finally {
      stream.close();
    }
    expect((await stream.next()).done).toBe(true);
  });

  it('sees only its own namespace', async () => {
    const stream = rtnl.events({ types: ['link'] });
    try {
      await ipAsync(other.name, ['link', 'add', 'elsewhere0', 'type', 'veth', 'peer', 'name', 'elsewhere1']);
      await ipAsync(ns.name, ['link', 'add', 'marker0', 'type', 'veth', 'peer', 'name', 'marker1']);
      // The other namespace's change happened first: had it leaked, it would come before the marker.
      const seen = await readUntil(stream, (e) => isLink(e, 'marker0', 'new'));
      expect(seen.every((e) => e.type === 'link')).toBe(true);
      expect(seen.some((e) => e.type === 'link' && e.value.name.startsWith('elsewhere'))).toBe(false);
      ip(ns.name, 'link', 'del', 'marker0');
    } finally {
      stream.close();
    }
  });

  it('filters by type', async () => {
    const stream = rtnl.events({ types: ['address'] });
    try {
      await ipAsync(ns.name, ['link', 'add', 'ft0', 'type', 'veth', 'peer', 'name', 'ft1']);
      await ipAsync(ns.name, ['addr', 'add', '10.78.0.1/24', 'dev', 'ft0']);
      const seen = await readUntil(stream, (e) => e.type === 'address' && e.value.address === '10.78.0.1');
      expect(seen.every((e) => e.type === 'address')).toBe(true);
      ip(ns.name, 'link', 'del', 'ft0');
    } finally {
      stream.close();
    }
    expect(() => rtnl.events({ types: ['bogus' as never] })).toThrow(ValidationError);
  });

  it('tells a slow consumer that the kernel dropped events (ENOBUFS) instead of missing them silently', async () => {
    // A tiny receive buffer and a small queue: while the consumer does not read, the stream stops
    // reading and the kernel must drop.
    const stream = rtnl.events({ types: ['address', 'route'], receiveBufferBytes: 4096, highWaterMark: 8 });
    try {
      await ipAsync(ns.name, ['link', 'add', 'ob0', 'type', 'veth', 'peer', 'name', 'ob1']);
      await ipAsync(ns.name, ['link', 'set', 'ob0', 'up']);
      const cmds = Array.from({ length: 400 }, (_, i) => `addr add 10.79.${i >> 7}.${(i & 127) + 1}/32 dev ob0`).join('\n') + '\n';
      await ipAsync(ns.name, ['-batch', '-'], cmds); // another process; we read nothing meanwhile
      // Now consume. Each time the queue runs dry, make a marker change; stop at a marker.
      let markers = 0;
      const seen: RtnlEvent[] = [];
      for (;;) {
        if (stream.queued === 0) ip(ns.name, 'addr', 'add', `10.80.0.${++markers}/32`, 'dev', 'ob0');
        const r = await stream.next();
        if (r.done) throw new Error('stream ended');
        seen.push(r.value);
        if (r.value.type === 'address' && r.value.value.address.startsWith('10.80.0.')) break;
      }
      const overruns = seen.filter((e) => e.type === 'overrun');
      expect(overruns.length).toBeGreaterThan(0);
      expect(stream.overruns).toBeGreaterThan(0);
      // Events were really lost: fewer than the 400 address additions arrived.
      expect(seen.filter((e) => e.type === 'address' && e.value.address.startsWith('10.79.')).length).toBeLessThan(400);
    } finally {
      stream.close();
      ip(ns.name, 'link', 'del', 'ob0');
    }
  });

  it('closing the handle ends its streams', async () => {
    const h = Rtnl.open({ netns: ns.name });
    const stream = h.events({ types: ['link'] });
    const pending = stream.next();
    h.close();
    expect((await pending).done).toBe(true);
    expect(stream.closed).toBe(true);
  });
});
