// Timeouts, sync daemons (every option; the port's byte order proven by the socket the kernel
// binds), info, zero, flush, feature detection, and handle edge cases, in the kernel; each
// cross-checked against ipvsadm.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { Ipvs, NetlinkError, ValidationError } from '../../lib/index.js';
import { NetlinkSocket, createNetns, deleteNetns } from '../../lib/socket.js';
import { native } from '../../lib/native.js';
import { ip, skipUnless, useNetns } from '../helpers/kernel.js';
import { ipvsadm, nsExec } from './ipvs-helpers.js';

const skip = skipUnless('ipvs');

describe.skipIf(skip)('IPVS configuration in the kernel', () => {
  const ns = useNetns('lvs-cfg');
  let ipvs: Ipvs;
  beforeAll(() => {
    ip(ns.name, 'link', 'add', 'd0', 'type', 'dummy');
    ip(ns.name, 'link', 'set', 'd0', 'up', 'multicast', 'on');
    ip(ns.name, 'addr', 'add', '192.168.50.1/24', 'dev', 'd0');
    ipvs = Ipvs.open({ netns: ns.name });
  });
  afterAll(() => ipvs?.close());

  it('timeouts: get, set some, leave the others; ipvsadm agrees', async () => {
    const t0 = await ipvs.getTimeouts();
    expect(t0).toEqual({ tcp: 900, tcpFin: 120, udp: 300 }); // kernel defaults in a fresh namespace
    await ipvs.setTimeouts({ tcp: 1800, udp: 45 });
    expect(await ipvs.getTimeouts()).toEqual({ tcp: 1800, tcpFin: 120, udp: 45 });
    expect(ipvsadm(ns.name, '-L', '--timeout')).toContain('Timeout (tcp tcpfin udp): 1800 120 45');
    await ipvs.setTimeouts({ tcpFin: 30 });
    expect(await ipvs.getTimeouts()).toEqual({ tcp: 1800, tcpFin: 30, udp: 45 });
    await expect(ipvs.setTimeouts({ tcp: -1 })).rejects.toThrow(/timeouts.tcp must be an integer/);
  });

  it('sync daemons: start with every option, list, port in host order as the kernel binds it, stop', async () => {
    expect(await ipvs.listDaemons()).toEqual([]);
    await ipvs.startDaemon({ state: 'backup', interface: 'd0', syncId: 7, maxLength: 1400, group: '239.1.1.1', port: 8849, ttl: 2 });
    await ipvs.startDaemon({ state: 'master', interface: 'd0', syncId: 5 });
    const ds = await ipvs.listDaemons();
    expect(ds).toHaveLength(2);
    expect(ds.find((d) => d.state === 'backup')).toEqual({ state: 'backup', interface: 'd0', syncId: 7, maxLength: 1400, group: '239.1.1.1', port: 8849, ttl: 2 });
    expect(ds.find((d) => d.state === 'master')).toMatchObject({ state: 'master', interface: 'd0', syncId: 5, group: '224.0.0.81', port: 8848, ttl: 1 });
    const out = ipvsadm(ns.name, '-L', '--daemon');
    expect(out).toContain('backup sync daemon (mcast=d0, syncid=7, maxlen=1400, group=239.1.1.1, port=8849, ttl=2)');
    expect(out).toContain('master sync daemon (mcast=d0, syncid=5');
    // The backup thread binds a UDP socket to the port: /proc/net/udp shows it in hex. 8849 is
    // 0x2291; sent in the wrong order it would be 0x9122 (37154).
    const udp = nsExec(ns.name, 'cat', ['/proc/net/udp']);
    expect(udp).toMatch(/:2291 /);
    expect(udp).not.toMatch(/:9122 /);
    const dup = (await ipvs.startDaemon({ state: 'backup', interface: 'd0', syncId: 1 }).catch((e: unknown) => e)) as NetlinkError;
    expect(dup).toBeInstanceOf(NetlinkError);
    expect(dup.code).toBe('EEXIST');
    await ipvs.stopDaemon('backup');
    expect((await ipvs.listDaemons()).map((d) => d.state)).toEqual(['master']);
    await ipvs.stopDaemon('master');
    expect(await ipvs.listDaemons()).toEqual([]);
    // An IPv6 multicast group travels as MCAST_GROUP6.
    await ipvs.startDaemon({ state: 'master', interface: 'd0', syncId: 9, group: 'ff15::81', port: 9000 });
    expect(await ipvs.listDaemons()).toEqual([{ state: 'master', interface: 'd0', syncId: 9, maxLength: expect.any(Number), group: 'ff15::81', port: 9000, ttl: 1 }]);
    expect(ipvsadm(ns.name, '-L', '--daemon')).toContain('group=ff15::81, port=9000');
    await ipvs.stopDaemon('master');
    const none = (await ipvs.stopDaemon('master').catch((e: unknown) => e)) as NetlinkError;
    expect(none).toBeInstanceOf(NetlinkError);
    await expect(ipvs.startDaemon({ state: 'master', interface: 'nosuch0', syncId: 1 })).rejects.toThrow(/ENODEV/);
    await expect(ipvs.startDaemon({ state: 'master', interface: 'd0', syncId: 1, group: '10.0.0.1' })).rejects.toThrow(ValidationError);
  });

  it('info: version and connection table size, as ipvsadm prints them', async () => {
    const i = await ipvs.info();
    expect(i.versionCode).toBe(0x010201);
    expect(i.version).toBe('1.2.1');
    expect(ipvsadm(ns.name, '-Ln')).toContain(`IP Virtual Server version ${i.version} (size=${i.connectionTableSize})`);
  });

  it('zero one service and all; flush', async () => {
    const k = { protocol: 'tcp' as const, address: '127.0.0.1', port: 9 };
    await ipvs.addService({ key: k, scheduler: 'rr' });
    await ipvs.addService({ key: { fwmark: 3 }, scheduler: 'rr' });
    await ipvs.zero(k);
    await ipvs.zero();
    expect((await ipvs.getService(k))!.stats!.connections).toBe(0n);
    await ipvs.flush();
    expect(await ipvs.listAll()).toEqual([]);
    await ipvs.flush(); // flushing nothing is fine
  });

  it('features: read-only by default, observed from a destination or probed on request', async () => {
    const fresh = Ipvs.open({ netns: ns.name });
    try {
      const none = await fresh.features();
      expect(none).toMatchObject({ familyVersion: 1, maxAttr: 6, evidence: 'none', tunnelTypes: [], schedulersProbed: false });
      expect(await fresh.listAll()).toEqual([]); // nothing was created
      const probed = await fresh.features({ probe: true });
      expect(probed.evidence).toBe('probe');
      expect(probed.tunnelTypes).toEqual(['ipip', 'gue', 'gre']); // 6.1 has all three
      expect(probed.tunnelChecksumFlags).toBe(true);
      expect(probed.stats64).toBe(true);
      expect(probed.destinationAddressFamily).toBe(true);
      expect(probed.schedulers).toContain('mh');
      expect(await fresh.listAll()).toEqual([]); // the scratch service is gone
    } finally {
      fresh.close();
    }
    const svc = { protocol: 'udp' as const, address: '10.0.0.1', port: 5 };
    await ipvs.addService({ key: svc, scheduler: 'rr' });
    await ipvs.addDestination(svc, { address: '10.1.0.1', port: 5 });
    const other = Ipvs.open({ netns: ns.name });
    try {
      expect(await other.features()).toMatchObject({ evidence: 'observed', tunnelTypes: ['ipip', 'gue', 'gre'] });
    } finally {
      other.close();
      await ipvs.flush();
    }
  });

  it('a handle whose namespace was deleted refuses instead of acting on the invisible namespace', async () => {
    const name = `${ns.name}-gone`;
    createNetns(name);
    const h = Ipvs.open({ netns: name });
    try {
      await h.addService({ key: { fwmark: 5 }, scheduler: 'rr' });
      deleteNetns(name);
      const e = (await h.listServices().catch((x: unknown) => x)) as NetlinkError;
      expect(e).toBeInstanceOf(NetlinkError);
      expect(e.message).toMatch(/deleted or replaced/);
    } finally {
      h.close();
      try {
        deleteNetns(name);
      } catch {
        /* already gone */
      }
    }
  });

  it('a closed handle refuses with EBADF; concurrent calls queue and all complete', async () => {
    const h = Ipvs.open({ netns: ns.name });
    const ps = [];
    for (let i = 1; i <= 20; i++) ps.push(h.addService({ key: { fwmark: 100 + i }, scheduler: 'rr' }));
    ps.push(h.listServices().then((l) => expect(l.length).toBeGreaterThan(0)));
    await Promise.all(ps);
    expect(await h.listServices()).toHaveLength(20);
    h.close();
    expect(h.closed).toBe(true);
    await expect(h.listServices()).rejects.toMatchObject({ code: 'EBADF' });
    await expect(h.addService({ key: { fwmark: 1 } })).rejects.toMatchObject({ code: 'EBADF' });
    await ipvs.flush();
  });

  it('the sync daemon and destinations of another family exclude each other, with the reason in the error', async () => {
    const svc = { protocol: 'tcp' as const, address: '10.0.0.1', port: 80 };
    await ipvs.addService({ key: svc, scheduler: 'rr' });
    await ipvs.addDestination(svc, { address: '2001:db8:1::9', port: 80, forward: 'tunnel' });
    const e = (await ipvs.startDaemon({ state: 'master', interface: 'd0', syncId: 1 }).catch((x: unknown) => x)) as NetlinkError;
    expect(e.code).toBe('EINVAL');
    expect(e.message).toContain('another address family');
    await ipvs.flush();
  });

  it('captures the kernel\'s own reply bytes as fixtures for the unit tests (LVSKIT_CAPTURE=1)', async () => {
    // One of each reply kind, from this kernel. Written only when asked, then decoded by
    // test/unit/ipvs-fixtures.test.ts. The daemon first: the kernel refuses to run it while a
    // destination of another family than its service exists.
    const sock = NetlinkSocket.open('generic', { netns: ns.name });
    const fam = sock.resolveFamily('IPVS').id;
    const grab = async (build: (b: ReturnType<typeof sock.newBatch>) => void, n: number) => {
      const b = sock.newBatch();
      build(b);
      const raw = await sock.run(b, 'capture', { large: true });
      const out: Buffer[][] = [];
      for (let i = 0; i < n; i++) {
        expect(raw.status[i]).toBe(0);
        const msgs: Buffer[] = [];
        for (let r = raw.replyBegin[i]!; r < raw.replyBegin[i]! + raw.replyCount[i]!; r++) {
          const off = raw.replyOffsets[r]!;
          msgs.push(Buffer.from(raw.replies.subarray(off, off + raw.replies.readUInt32LE(off))));
        }
        out.push(msgs);
      }
      return out;
    };
    const files: Record<string, Buffer[]> = {};
    try {
      await ipvs.setTimeouts({ tcp: 901, tcpFin: 121, udp: 301 });
      await ipvs.startDaemon({ state: 'backup', interface: 'd0', syncId: 7, maxLength: 1400, group: '239.1.1.1', port: 8849, ttl: 2 });
      const g1 = await grab((b) => {
        native.ipvsEncodeBare(b, fam, 11, true);
        native.ipvsEncodeBare(b, fam, 13, false);
        native.ipvsEncodeBare(b, fam, 15, false);
      }, 3);
      files.daemons = g1[0]!;
      files.config = g1[1]!;
      files.info = g1[2]!;
      await ipvs.stopDaemon('backup');
      const svc = { protocol: 'tcp' as const, address: '10.0.0.1', port: 80 };
      await ipvs.addService({ key: svc, scheduler: 'wrr', persistence: { timeout: 600, netmask: '255.255.255.0' } });
      await ipvs.addService({ key: { protocol: 'udp', address: '2001:db8::1', port: 53 }, scheduler: 'sh', flags: { schedPort: true }, persistence: { timeout: 30, netmask: 64 } });
      await ipvs.addDestination(svc, { address: '10.1.0.2', port: 8080, forward: 'masq', weight: 2147483647, upperThreshold: 100, lowerThreshold: 10 });
      await ipvs.addDestination(svc, { address: '2001:db8:1::9', port: 80, forward: 'tunnel', tunnel: { type: 'gue', port: 6080, checksum: true } });
      const a = Buffer.alloc(16);
      a.set([10, 0, 0, 1]);
      const g2 = await grab((b) => {
        native.ipvsEncodeBare(b, fam, 4, true);
        native.ipvsEncodeServiceKey(b, fam, 8, 2, 6, a, 80, 0, true);
      }, 2);
      files.services = g2[0]!;
      files.dests = g2[1]!;
    } finally {
      sock.close();
      await ipvs.flush();
    }
    expect(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, v.length]))).toEqual({ daemons: 1, config: 1, info: 1, services: 2, dests: 2 });
    if (process.env.LVSKIT_CAPTURE === '1') {
      const dir = new URL('../fixtures/ipvs/', import.meta.url);
      for (const [n, msgs] of Object.entries(files)) {
        // Each file: u32 count, then each message whole (its nlmsg_len says how long).
        const c = Buffer.alloc(4);
        c.writeUInt32LE(msgs.length);
        writeFileSync(new URL(`${n}.bin`, dir), Buffer.concat([c, ...msgs]));
      }
      writeFileSync(new URL('kernel.txt', dir), readFileSync('/proc/version', 'utf8'));
    }
  });
});
