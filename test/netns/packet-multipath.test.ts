// Parse -> predict -> compare with the kernel, on real forwarded packets. Three namespaces this
// file creates (and deletes): a sender, a router with a weighted multipath route (veth links,
// permanent neighbours for the gateways), and a sink holding the far ends of the nexthop links.
// Frames are built here, parsed by lvskit, and written onto the sender's veth with an AF_PACKET
// socket (python3: tests may run tools; the library never does); a sniffer in the sink reports
// which link each tagged frame left the router by. Covers TCP/UDP, ICMP echo, ICMP and ICMPv6
// errors (whose hash must follow the quoted flow under policy 0), fragments, IPv6 hop-by-hop.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MultipathRoute } from '../../lib/hash/index.js';
import { multipathFlowsV4, multipathFlowsV6, packPackets, parsePackets, FlowFlag } from '../../lib/packet/index.js';
import { cat, eth, fragExt, icmp, icmpv6, ipv4, ipv6, tcp, udp } from '../helpers/packets.js';
import { afPacketWhy, skipWithoutTools } from '../helpers/tools.js';

const TAG = `${process.pid}`;
const NS_S = `lvskit-pks-${TAG}`, NS_R = `lvskit-pkr-${TAG}`, NS_K = `lvskit-pkk-${TAG}`;
const SEED = 0x5eed4321;
const NH = 8;
const PER_KIND = 60;

function probe(): { ok: boolean; why: string } {
  // Under CI=true a missing python3 fails the file instead of skipping it (helpers/tools.ts).
  if (skipWithoutTools('packet-multipath', ['python3'], afPacketWhy('python3 with AF_PACKET sockets is needed to inject frames')))
    return { ok: false, why: 'python3 with AF_PACKET sockets is missing' };
  try {
    execFileSync('ip', ['netns', 'add', NS_R], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'add', NS_S], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'add', NS_K], { stdio: 'pipe' });
    return { ok: true, why: '' };
  } catch (e) {
    return { ok: false, why: `cannot create network namespaces: ${(e as Error).message.split('\n')[0]}` };
  }
}
const caps = probe();
if (!caps.ok) console.warn(`\n*** SKIPPED packet-multipath: ${caps.why} ***\n`);

const ipn = (ns: string, ...a: string[]) => execFileSync('ip', ['-n', ns, ...a], { encoding: 'utf8', stdio: 'pipe' });
const sysctl = (ns: string, kv: string) => execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', kv], { stdio: 'pipe' });

const SNIFF = `
import socket, sys, select, time
n = int(sys.argv[1])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.setsockopt(socket.SOL_SOCKET, 33, 1 << 24)  # SO_RCVBUFFORCE
print("ready", flush=True)
seen = 0
last = time.time()
out = []
while seen < n and time.time() - last < 15:
    r, _, _ = select.select([s], [], [], 0.5)
    if not r:
        continue
    data, addr = s.recvfrom(65535)
    if addr[2] == 4 or len(data) < 8 or data[-8:-4] != b"LVSK":
        continue
    out.append("%s %d" % (addr[0], int.from_bytes(data[-4:], "big")))
    seen += 1
    last = time.time()
print("\\n".join(out), flush=True)
`;
const SEND = `
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
data = open(sys.argv[2], "rb").read()
i = k = 0
while i < len(data):
    l = int.from_bytes(data[i:i + 4], "big")
    s.send(data[i + 4:i + 4 + l])
    i += 4 + l
    k += 1
    if k % 32 == 0:
        time.sleep(0.002)
`;

let rng = 0x9e3779b9;
const rnd = (k: number) => {
  rng ^= rng << 13; rng >>>= 0; rng ^= rng >>> 17; rng ^= rng << 5; rng >>>= 0;
  return rng % k;
};
const v4 = (a: number, b: number) => `${a}.${b}.${rnd(256)}.${1 + rnd(254)}`;
const v6 = (prefix: string) => `${prefix}:${Array.from({ length: 4 }, () => rnd(0x10000).toString(16)).join(':')}:${(1 + rnd(0xfffe)).toString(16)}`;
const tag = (i: number) => cat([0x4c, 0x56, 0x53, 0x4b], [(i >>> 24) & 255, (i >>> 16) & 255, (i >>> 8) & 255, i & 255]);

type Kind = string;
/** Frames of every kind for one family; each ends with its tag. */
function frames(family: 4 | 6, mac: number[], start: number): { kinds: Kind[]; frames: Uint8Array[] } {
  const kinds: Kind[] = [];
  const out: Uint8Array[] = [];
  const push = (kind: Kind, build: (t: Uint8Array) => Uint8Array) => {
    for (let n = 0; n < PER_KIND; n++) {
      kinds.push(kind);
      out.push(eth(family === 4 ? 0x0800 : 0x86dd, build(tag(start + out.length)), { dst: mac }));
    }
  };
  const sp = () => 1 + rnd(65535);
  if (family === 4) {
    const src = () => v4(rnd(2) ? 5 : 100, rnd(256)), dst = () => `198.51.100.${1 + rnd(254)}`;
    push('tcp', (t) => ipv4({ src: src(), dst: dst(), proto: 6, id: rnd(65536), payload: cat(tcp(sp(), sp()), t) }));
    push('udp', (t) => ipv4({ src: src(), dst: dst(), proto: 17, payload: cat(udp(sp(), sp()), t) }));
    push('icmp echo', (t) => ipv4({ src: src(), dst: dst(), proto: 1, payload: icmp(8, 0, [0, rnd(256), 0, 1], t) }));
    push('icmp error', (t) => {
      const origSrc = dst(), origDst = src();
      const quoted = ipv4({ src: origSrc, dst: origDst, proto: rnd(2) ? 6 : 17, totalLength: 1500, payload: udp(sp(), sp()) }).subarray(0, 28);
      return ipv4({ src: `100.64.${rnd(256)}.${1 + rnd(254)}`, dst: origSrc, proto: 1, payload: icmp([3, 11, 12, 5][rnd(4)]!, 0, [0, 0, 5, 0xdc], cat(quoted, t)) });
    });
    push('first fragment', (t) => ipv4({ src: src(), dst: dst(), proto: 17, mf: true, id: rnd(65536), payload: cat(udp(sp(), sp()), t) }));
    push('later fragment', (t) => ipv4({ src: src(), dst: dst(), proto: 6, fragOffset: 1 + rnd(100), id: rnd(65536), payload: cat(new Array(16).fill(0), t) }));
  } else {
    const src = () => v6('2001:db8:77'), dst = () => v6('2001:db8:aaaa');
    const fl = () => rnd(0x100000);
    push('tcp', (t) => ipv6({ src: src(), dst: dst(), proto: 6, flowLabel: fl(), payload: cat(tcp(sp(), sp()), t) }));
    push('udp', (t) => ipv6({ src: src(), dst: dst(), proto: 17, flowLabel: fl(), payload: cat(udp(sp(), sp()), t) }));
    push('udp behind hop-by-hop', (t) => ipv6({ src: src(), dst: dst(), proto: 17, flowLabel: fl(), ext: [{ type: 0 }], payload: cat(udp(sp(), sp()), t) }));
    push('icmpv6 echo', (t) => ipv6({ src: src(), dst: dst(), proto: 58, flowLabel: fl(), payload: icmpv6(128, 0, [0, 1, 0, 1], t) }));
    push('icmpv6 error', (t) => {
      const origSrc = dst(), origDst = src();
      const quoted = ipv6({ src: origSrc, dst: origDst, proto: 17, flowLabel: fl(), payloadLength: 1400, payload: udp(sp(), sp()) });
      return ipv6({ src: v6('2001:db8:fe'), dst: origSrc, proto: 58, flowLabel: fl(), payload: icmpv6([1, 2, 3, 4][rnd(4)]!, 0, [0, 0, 5, 0], cat(quoted, t)) });
    });
    push('first fragment', (t) => ipv6({ src: src(), dst: dst(), proto: 17, flowLabel: fl(), ext: [fragExt(0, true, rnd(1 << 30))], payload: cat(udp(sp(), sp()), t) }));
    push('later fragment', (t) => ipv6({ src: src(), dst: dst(), proto: 6, flowLabel: fl(), ext: [fragExt(1 + rnd(100), false, rnd(1 << 30))], payload: cat(new Array(16).fill(0), t) }));
  }
  return { kinds, frames: out };
}

async function sendAndSniff(dir: string, list: Uint8Array[]): Promise<Map<number, string>> {
  const file = join(dir, 'frames.bin');
  writeFileSync(file, cat(...list.flatMap((f) => [[(f.length >>> 24) & 255, (f.length >>> 16) & 255, (f.length >>> 8) & 255, f.length & 255], f])));
  const sniffer = spawn('ip', ['netns', 'exec', NS_K, 'python3', '-c', SNIFF, String(list.length)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  let err = '';
  sniffer.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  await new Promise<void>((resolve, reject) => {
    sniffer.stdout.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.startsWith('ready')) resolve();
    });
    sniffer.on('exit', () => reject(new Error(`sniffer exited early: ${err}`)));
  });
  execFileSync('ip', ['netns', 'exec', NS_S, 'python3', '-c', SEND, 'sin', file], { stdio: 'pipe' });
  await new Promise<void>((resolve) => sniffer.on('close', () => resolve()));
  const seen = new Map<number, string>();
  for (const line of text.split('\n').slice(1)) {
    const [dev, idx] = line.trim().split(' ');
    if (dev && idx) seen.set(Number(idx), dev);
  }
  return seen;
}

describe.skipIf(!caps.ok)('parsed packets: multipath predictions agree with the kernel forwarding real frames (netns)', () => {
  let dir = '';
  let mac: number[] = [];
  const weights = Array.from({ length: NH }, () => 1 + rnd(100));
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lvskit-pkmp-'));
    for (const [ns, kv] of [[NS_R, 'net.ipv4.ip_forward=1'], [NS_R, 'net.ipv6.conf.all.forwarding=1'], [NS_R, `net.ipv4.fib_multipath_hash_seed=${SEED}`],
      [NS_R, 'net.ipv4.conf.all.rp_filter=0'], [NS_R, 'net.ipv4.conf.default.rp_filter=0'], [NS_K, 'net.ipv6.conf.all.disable_ipv6=1'],
      [NS_K, 'net.ipv6.conf.default.disable_ipv6=1'], [NS_S, 'net.ipv6.conf.all.disable_ipv6=1'], [NS_S, 'net.ipv6.conf.default.disable_ipv6=1']] as const) sysctl(ns, kv);
    ipn(NS_R, 'link', 'add', 'vin', 'type', 'veth', 'peer', 'name', 'sin', 'netns', NS_S);
    ipn(NS_R, 'link', 'set', 'vin', 'up');
    ipn(NS_S, 'link', 'set', 'sin', 'up');
    sysctl(NS_R, 'net.ipv4.conf.vin.rp_filter=0');
    ipn(NS_R, 'addr', 'add', '192.0.2.1/24', 'dev', 'vin');
    for (let i = 0; i < NH; i++) {
      ipn(NS_R, 'link', 'add', `d${i}`, 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', NS_K);
      ipn(NS_R, 'link', 'set', `d${i}`, 'up');
      ipn(NS_K, 'link', 'set', `p${i}`, 'up');
      ipn(NS_R, 'addr', 'add', `10.${i}.0.1/24`, 'dev', `d${i}`);
      ipn(NS_R, '-6', 'addr', 'add', `2001:db8:${i}::1/64`, 'dev', `d${i}`, 'nodad');
      ipn(NS_R, 'neigh', 'replace', `10.${i}.0.2`, 'lladdr', `02:00:00:00:0${i}:02`, 'dev', `d${i}`, 'nud', 'permanent');
      ipn(NS_R, '-6', 'neigh', 'replace', `2001:db8:${i}::2`, 'lladdr', `02:00:00:00:0${i}:02`, 'dev', `d${i}`, 'nud', 'permanent');
    }
    const hops = (v6: boolean) => weights.flatMap((w, i) => ['nexthop', 'via', v6 ? `2001:db8:${i}::2` : `10.${i}.0.2`, 'dev', `d${i}`, 'weight', String(w)]);
    ipn(NS_R, 'route', 'replace', '198.51.100.0/24', ...hops(false));
    ipn(NS_R, '-6', 'route', 'replace', '2001:db8:aaaa::/48', ...hops(true));
    const link = JSON.parse(ipn(NS_R, '-j', 'link', 'show', 'vin')) as Array<{ address: string }>;
    mac = link[0]!.address.split(':').map((h) => parseInt(h, 16));
  });
  afterAll(() => {
    for (const ns of [NS_S, NS_R, NS_K]) {
      try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'pipe' }); } catch { /* already gone */ }
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let agreed = 0;
  for (const family of [4, 6] as const) {
    for (const policy of [0, 1, 3] as const) {
      it(`IPv${family} policy ${policy}: every kind of packet leaves by the predicted nexthop`, async () => {
        const fam = family === 4 ? 'ipv4' : 'ipv6';
        sysctl(NS_R, `net.${fam}.fib_multipath_hash_policy=${policy}`);
        const fields = 0x01 | 0x02 | 0x04 | 0x10 | 0x20;
        if (policy === 3) sysctl(NS_R, `net.${fam}.fib_multipath_hash_fields=${fields}`);
        const { kinds, frames: list } = frames(family, mac, 0);
        const { buffer, offsets, lengths } = packPackets(list);
        const parsed = parsePackets(buffer, offsets, lengths, 'ethernet');
        const flows = family === 4 ? parsed.v4 : parsed.v6;
        expect(flows.length).toBe(list.length);
        // The parser found what the test built: ICMP errors took the quoted header for policy 0.
        kinds.forEach((k, i) => {
          if (k.endsWith('error')) expect(flows.flags[i]! & FlowFlag.l3Inner).toBe(FlowFlag.l3Inner);
        });
        const route = new MultipathRoute(weights, { policy, seed: SEED, fields, path: 'packet' });
        const predicted = family === 4
          ? route.predictV4(multipathFlowsV4(parsed.v4, policy), new Uint16Array(list.length))
          : route.predictV6(multipathFlowsV6(parsed.v6, policy), new Uint16Array(list.length));
        const seen = await sendAndSniff(dir, list);
        expect(seen.size).toBe(list.length);
        const wrong: Record<string, number> = {};
        for (let i = 0; i < list.length; i++) {
          if (seen.get(i) !== `p${predicted[flows.index[i]!]}`) wrong[kinds[i]!] = (wrong[kinds[i]!] ?? 0) + 1;
        }
        expect(wrong).toEqual({});
        // The hash spreads the flows: a prediction that always said one link could not pass.
        expect(new Set(seen.values()).size).toBeGreaterThan(2);
        if (policy === 0) {
          // The quoted header matters: predicting ICMP errors from their outer header fails often.
          const outer = family === 4
            ? route.predictV4(multipathFlowsV4(parsed.v4, 1), new Uint16Array(list.length))
            : route.predictV6(multipathFlowsV6(parsed.v6, 1), new Uint16Array(list.length));
          const errs = kinds.map((k, i) => (k.endsWith('error') ? i : -1)).filter((i) => i >= 0);
          expect(errs.filter((i) => seen.get(i) !== `p${outer[i]}`).length).toBeGreaterThan(PER_KIND / 4);
        }
        agreed += list.length;
      });
    }
  }

  // Known disagreement, in lib/hash rather than in the parser: on the packet path the kernel's
  // custom hash takes the flow label from the flow dissector, ntohl(ip6_flowlabel()) (host
  // order), while lib/hash lays it out big-endian as the flow path (flowi6) does. Marked as
  // failing so that it turns red when lib/hash is fixed.
  it('IPv6 policy 3 with the flowLabel field on forwarded packets (lib/hash packet-path flow label byte order)', async () => {
    sysctl(NS_R, 'net.ipv6.fib_multipath_hash_policy=3');
    sysctl(NS_R, 'net.ipv6.fib_multipath_hash_fields=63');
    const { frames: list } = frames(6, mac, 0);
    const { buffer, offsets, lengths } = packPackets(list);
    const parsed = parsePackets(buffer, offsets, lengths, 'ethernet');
    const route = new MultipathRoute(weights, { policy: 3, seed: SEED, fields: 63, path: 'packet' });
    const predicted = route.predictV6(multipathFlowsV6(parsed.v6, 3), new Uint16Array(list.length));
    const seen = await sendAndSniff(dir, list);
    expect(seen.size).toBe(list.length);
    expect(list.filter((_, i) => seen.get(i) !== `p${predicted[i]}`).length).toBe(0);
  });
  it('summary', () => {
    console.log(`packet-multipath: ${agreed} forwarded frames left by the predicted nexthop`);
    expect(agreed).toBe(PER_KIND * (6 + 7) * 3);
  });
});
