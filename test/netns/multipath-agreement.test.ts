// Multipath predictions against the host kernel's own choice, inside a namespace this file
// creates (and deletes in afterAll). Ground truth: `ip route get ... iif IN ipproto P sport S
// dport D` (RTM_GETROUTE on the input path, as a forwarded packet), batched through `ip -batch`.
// Kernel facts this pins down (6.18): IPv4 route queries hash a dummy packet (policy 3 ->
// jhash_2words(outer, 0)), IPv6 route queries hash the flow key only (path: 'flow').
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MultipathRoute, multipathHashV4, numberToIpv4, resilientSelect, wordsToIpv6 } from '../../lib/hash/index.js';

const NS = `lvskit-mp-${process.pid}`;
const SEED = 0x5eed1234;
const FLOWS = 2000;

function probe(): { ok: boolean; why: string } {
  try {
    execFileSync('ip', ['netns', 'add', NS], { stdio: 'pipe' });
    return { ok: true, why: '' };
  } catch (e) {
    return { ok: false, why: `cannot create a network namespace: ${(e as Error).message.split('\n')[0]}` };
  }
}
const caps = probe();
if (!caps.ok) console.warn(`SKIPPED multipath-agreement: ${caps.why}`);

const ip = (...args: string[]) => execFileSync('ip', ['-n', NS, ...args], { encoding: 'utf8', stdio: 'pipe' });
const sysctl = (kv: string) => execFileSync('ip', ['netns', 'exec', NS, 'sysctl', '-qw', kv], { stdio: 'pipe' });
const ipBatch = (v6: boolean, lines: string[]) =>
  execFileSync('ip', [...(v6 ? ['-6'] : []), '-n', NS, '-j', '-batch', '-'], { input: lines.join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 26 })
    .trim().split('\n').map((l) => (JSON.parse(l) as Array<{ dev: string; nhid?: number }>)[0]!);

let rng = 0x12345678;
const rnd = (k: number) => {
  rng ^= rng << 13; rng >>>= 0; rng ^= rng >>> 17; rng ^= rng << 5; rng >>>= 0;
  return rng % k;
};

function randomFlows(v6: boolean, n: number) {
  const aw = v6 ? 4 : 1;
  const f = { saddr: new Uint32Array(n * aw), daddr: new Uint32Array(n * aw), sport: new Uint16Array(n), dport: new Uint16Array(n), proto: new Uint8Array(n) };
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    f.sport[i] = 1 + rnd(65535); f.dport[i] = 1 + rnd(65535); f.proto[i] = rnd(2) ? 6 : 17;
    const p = `ipproto ${f.proto[i] === 6 ? 'tcp' : 'udp'} sport ${f.sport[i]} dport ${f.dport[i]}`;
    if (v6) {
      f.saddr.set([0x20010db8, (0x77000000 | rnd(0xffffff)) >>> 0, rnd(2 ** 32), rnd(2 ** 32)], 4 * i);
      f.daddr.set([0x20010db8, (0xaaaa0000 | rnd(0x10000)) >>> 0, rnd(2 ** 32), rnd(2 ** 32)], 4 * i);
      lines.push(`route get ${wordsToIpv6(f.daddr.subarray(4 * i))} from ${wordsToIpv6(f.saddr.subarray(4 * i))} iif vin ${p}`);
    } else {
      f.saddr[i] = ((rnd(2) ? 0x05000000 : 0x64000000) | rnd(1 << 24)) >>> 0; // 5/8 and 100/8: never local or martian
      f.daddr[i] = (0xc6336400 | rnd(256)) >>> 0;
      lines.push(`route get ${numberToIpv4(f.daddr[i]!)} from ${numberToIpv4(f.saddr[i]!)} iif vin ${p}`);
    }
  }
  return { f, lines };
}

describe.skipIf(!caps.ok)('multipath predictions agree with the kernel (netns)', () => {
  beforeAll(() => {
    sysctl('net.ipv4.ip_forward=1');
    sysctl('net.ipv6.conf.all.forwarding=1');
    sysctl(`net.ipv4.fib_multipath_hash_seed=${SEED}`);
    ip('link', 'set', 'lo', 'up');
    ip('link', 'add', 'vin', 'type', 'veth', 'peer', 'name', 'vinp');
    ip('link', 'set', 'vin', 'up'); ip('link', 'set', 'vinp', 'up');
    ip('addr', 'add', '192.0.2.1/24', 'dev', 'vin');
    for (let i = 0; i < 8; i++) {
      ip('link', 'add', `d${i}`, 'type', 'veth', 'peer', 'name', `p${i}`);
      ip('link', 'set', `d${i}`, 'up'); ip('link', 'set', `p${i}`, 'up');
      ip('addr', 'add', `10.${i}.0.1/24`, 'dev', `d${i}`);
      ip('-6', 'addr', 'add', `2001:db8:${i}::1/64`, 'dev', `d${i}`, 'nodad');
      ip('nexthop', 'add', 'id', String(i + 1), 'via', `10.${i}.0.2`, 'dev', `d${i}`);
    }
  });
  afterAll(() => {
    try { execFileSync('ip', ['netns', 'del', NS], { stdio: 'pipe' }); } catch { /* already gone */ }
  });

  let total = 0;
  for (const v6 of [false, true]) {
    for (const policy of [0, 1, 3] as const) {
      it(`IPv${v6 ? 6 : 4} policy ${policy}: ${FLOWS} random flows, 2..8 weighted nexthops`, () => {
        const fam = v6 ? 'ipv6' : 'ipv4';
        sysctl(`net.${fam}.fib_multipath_hash_policy=${policy}`);
        const fields = 0x01 | 0x02 | 0x04 | 0x10 | 0x20 | (v6 ? 0x08 : 0); // 5-tuple (+ flow label)
        if (policy === 3) sysctl(`net.${fam}.fib_multipath_hash_fields=${fields}`);
        const n = 2 + rnd(7);
        const weights = Array.from({ length: n }, () => 1 + rnd(v6 ? 100 : 256));
        const prefix = v6 ? '2001:db8:aaaa::/48' : '198.51.100.0/24';
        const hops = weights.flatMap((w, i) => ['nexthop', 'via', v6 ? `2001:db8:${i}::2` : `10.${i}.0.2`, 'dev', `d${i}`, 'weight', String(w)]);
        ip(...(v6 ? ['-6'] : []), 'route', 'replace', prefix, ...hops);
        const route = new MultipathRoute(weights, { policy, seed: SEED, fields, path: v6 ? 'flow' : 'packet' });
        const { f, lines } = randomFlows(v6, FLOWS);
        const kernel = ipBatch(v6, lines).map((r) => r.dev);
        const out = new Uint16Array(FLOWS);
        if (v6) route.predictV6(f, out);
        else route.predictV4(f, out);
        const mismatches = kernel.filter((dev, i) => dev !== `d${out[i]}`).length;
        total += FLOWS - mismatches;
        expect(mismatches).toBe(0);
      });
    }
  }

  it('IPv4 hash-threshold nexthop group (policy 1)', () => {
    sysctl('net.ipv4.fib_multipath_hash_policy=1');
    const weights = [3, 1, 7, 2];
    ip('nexthop', 'add', 'id', '100', 'group', weights.map((w, i) => `${i + 1},${w}`).join('/'));
    ip('route', 'replace', '198.51.100.0/24', 'nhid', '100');
    const route = new MultipathRoute(weights, { policy: 1, seed: SEED });
    const { f, lines } = randomFlows(false, FLOWS);
    const kernel = ipBatch(false, lines).map((r) => r.dev);
    const out = route.predictV4(f, new Uint16Array(FLOWS));
    expect(kernel.filter((dev, i) => dev !== `d${out[i]}`).length).toBe(0);
    total += FLOWS;
  });

  it('IPv4 resilient nexthop group from the kernel bucket table (policy 1)', () => {
    sysctl('net.ipv4.fib_multipath_hash_policy=1');
    ip('nexthop', 'add', 'id', '101', 'group', '1,2/2,1/3,5', 'type', 'resilient', 'buckets', '128');
    ip('route', 'replace', '198.51.100.0/24', 'nhid', '101');
    const rows = JSON.parse(ip('-j', 'nexthop', 'bucket', 'show', 'id', '101')) as Array<{ bucket: { index: number; nhid: number } }>;
    const buckets = new Uint32Array(rows.length);
    for (const r of rows) buckets[r.bucket.index] = r.bucket.nhid;
    expect(rows.length).toBe(128);
    const { f, lines } = randomFlows(false, FLOWS);
    const kernel = ipBatch(false, lines).map((r) => r.dev);
    const hashes = multipathHashV4(f, new Uint32Array(FLOWS), { policy: 1, seed: SEED });
    const ids = resilientSelect(hashes, buckets, new Uint32Array(FLOWS));
    expect(kernel.filter((dev, i) => dev !== `d${ids[i]! - 1}`).length).toBe(0);
    total += FLOWS;
    console.log(`multipath-agreement: ${total} flows agreed with the kernel`);
  });
});
