// Packets really forwarded by a router namespace under fib_multipath_hash_policy 1, sent by
// ordinary sockets in a client namespace: which nexthop did each flow take, and could lvskit have
// said so? The kernel routes a packet that already carries an L4 hash (skb->l4_hash) by that hash
// >> 1 (fib_multipath_hash, net/ipv4/route.c; rt6_multipath_hash, net/ipv6/route.c) and hashes
// the headers only when it carries none. Across a veth the sender's skb hash survives:
//  - unconnected IPv4 UDP carries no hash (sk_txhash is 0): the header hash decides, and
//    MultipathRoute.predict(flow) is exact; so does IPv6 UDP with net.ipv6.auto_flowlabels=0;
//  - IPv4 TCP and connected UDP carry the socket's random txhash, and IPv6 UDP with an auto flow
//    label carries the hash the sender set to make the label: the header hash predicts about 1/n;
//  - policy 3 (custom fields) always hashes the headers: the same TCP flows are predicted exactly;
//  - a TCP SYN that times out is re-sent with a new txhash (sk_rethink_txhash): the same
//    connection hops links;
//  - tc BPF on the router's input link: one program writes the skb->hash the router sees into the
//    frame (predict(flow, { l4Hash }) with it is exact; the IPv6 auto flow label is
//    bswap32(rol32(hash, 16)) & 0xfffff on little-endian machines: it lacks the top bits); another
//    sets skb->hash (bpf_set_hash, an L4 hash, as a NIC's RSS does) from the datagram's last 4
//    bytes: predict(flow, { l4Hash }) and predict(flow, { rss }) (Toeplitz) are exact.
//    The programs are loaded with bpf(2) from python3 and pinned in a bpffs mounted inside `ip netns
//    exec`'s private mount namespace (gone when it exits: nothing is pinned on the host).
// Three namespaces this file creates (and deletes): client, router (3 equal nexthops), sink (the
// VIPs on lo; an AF_PACKET sniffer, python3, reports the arrival link and the headers).
import { execFileSync, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MultipathRoute, ToeplitzHasher, ipv4ToNumber, ipv6ToWords } from '../../lib/hash/index.js';
import { afPacketWhy, skipWithoutTools } from '../helpers/tools.js';

const TAG = `${process.pid}`;
const NS_C = `lvskit-l4c-${TAG}`, NS_R = `lvskit-l4r-${TAG}`, NS_K = `lvskit-l4k-${TAG}`;
const SEED = 0x5eed9753;
const NH = 3;
const VIP4 = '198.51.100.1', DEAD4 = '198.51.100.2', VIP6 = '2001:db8:aaaa::1', DEAD6 = '2001:db8:aaaa::2';
const N = 240;

function probe(): { ok: boolean; why: string } {
  // Under CI=true a missing python3 fails the file instead of skipping it (helpers/tools.ts).
  if (skipWithoutTools('packet-l4hash', ['python3'], afPacketWhy('python3 with AF_PACKET sockets is needed to see which link each packet arrived on')))
    return { ok: false, why: 'python3 with AF_PACKET sockets is missing' };
  try {
    for (const ns of [NS_C, NS_R, NS_K]) execFileSync('ip', ['netns', 'add', ns], { stdio: 'pipe' });
    return { ok: true, why: '' };
  } catch (e) {
    return { ok: false, why: `cannot create network namespaces: ${(e as Error).message.split('\n')[0]}` };
  }
}
const caps = probe();
if (!caps.ok) console.warn(`\n*** SKIPPED packet-l4hash: ${caps.why} ***\n`);

const ipn = (ns: string, ...a: string[]) => execFileSync('ip', ['-n', ns, ...a], { encoding: 'utf8', stdio: 'pipe' });
const sysctl = (ns: string, kv: string) => execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', kv], { stdio: 'pipe' });

// Prints one line per packet to a VIP arriving in the sink: link, family, proto, src, sport, flow label.
const SNIFF = `
import socket, sys, select, time
n = int(sys.argv[1]); idle = float(sys.argv[2])
vip4 = socket.inet_pton(socket.AF_INET, sys.argv[3]); dead4 = socket.inet_pton(socket.AF_INET, sys.argv[6]); vip6 = socket.inet_pton(socket.AF_INET6, sys.argv[4]); dead6 = socket.inet_pton(socket.AF_INET6, sys.argv[5])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.setsockopt(socket.SOL_SOCKET, 33, 1 << 24)
print("ready", flush=True)
seen = 0; last = time.time(); out = []
while seen < n and time.time() - last < idle:
    r, _, _ = select.select([s], [], [], 0.2)
    if not r:
        continue
    data, addr = s.recvfrom(65535)
    if addr[2] == 4 or len(data) < 14:
        continue
    et = int.from_bytes(data[12:14], "big"); p = data[14:]
    if et == 0x0800 and len(p) >= 24 and p[16:20] in (vip4, dead4):
        ihl = (p[0] & 15) * 4
        out.append("%s 4 %d %s %d 0 %s %d" % (addr[0], p[9], socket.inet_ntop(socket.AF_INET, p[12:16]), int.from_bytes(p[ihl:ihl + 2], "big"), socket.inet_ntop(socket.AF_INET, p[16:20]), int.from_bytes(p[-4:], "little")))
    elif et == 0x86dd and len(p) >= 44 and p[24:40] in (vip6, dead6):
        out.append("%s 6 %d %s %d %d %s %d" % (addr[0], p[6], socket.inet_ntop(socket.AF_INET6, p[8:24]), int.from_bytes(p[40:42], "big"), int.from_bytes(p[0:4], "big") & 0xfffff, socket.inet_ntop(socket.AF_INET6, p[24:40]), int.from_bytes(p[-4:], "little")))
    else:
        continue
    seen += 1; last = time.time()
print("\\n".join(out), flush=True)
`;

// Sends from the client namespace with ordinary sockets. argv: mode count.
const CLIENT = `
const dgram = require('node:dgram'), net = require('node:net');
const [mode, count] = [process.argv[1], Number(process.argv[2])];
const tags = (process.argv[3] ?? '').split(',').filter(Boolean).map(Number);
const payload = (i) => { const b = Buffer.alloc(4); b.writeUInt32LE(tags[i] ?? 0); return b; };
const vip = mode.endsWith('6') ? '${VIP6}' : '${VIP4}';
const one = (i) => new Promise((resolve) => {
  if (mode.startsWith('udp')) {
    const s = dgram.createSocket(mode.endsWith('6') ? 'udp6' : 'udp4');
    const done = () => s.close(resolve);
    const port = 20000 + i;
    s.bind(port, () => {
      if (mode.startsWith('udpc')) s.connect(9000, vip, () => s.send(payload(i), done));
      else s.send(payload(i), 9000, vip, done);
    });
  } else {
    const c = net.connect({ host: mode === 'syn4' ? '${DEAD4}' : vip, port: 9001 });
    c.on('error', () => resolve());
    c.on('connect', () => { c.destroy(); resolve(); });
    if (mode === 'syn4') setTimeout(() => { c.destroy(); resolve(); }, 3500);
  }
});
(async () => {
  if (mode === 'syn4') await Promise.all(Array.from({ length: count }, (_, i) => one(i)));
  else for (let i = 0; i < count; i++) await one(i);
})();
`;

// Loads a small sched_cls program and pins it (python3 ctypes, bpf(2)). argv[2] 'set': reads the
// frame's last 4 bytes (little-endian) and calls bpf_set_hash(skb, them), an L4 software hash.
// 'read': writes the skb->hash the router sees into the frame's last 4 bytes (little-endian).
const LOADER = `
import ctypes, struct, sys, os
libc = ctypes.CDLL(None, use_errno=True)
def ins(code, dst=0, src=0, off=0, imm=0):
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)
read = b"".join([
    ins(0xbf, 6, 1),              # r6 = r1 (skb)
    ins(0x61, 7, 1, 68),          # r7 = skb->hash (struct __sk_buff, offset 68)
    ins(0x63, 10, 7, -4),         # *(u32 *)(fp - 4) = r7
    ins(0x61, 2, 1, 0),           # r2 = skb->len
    ins(0xa5, 2, 0, 7, 46),       # if r2 < 46 goto out
    ins(0x07, 2, 0, 0, -4),       # r2 -= 4
    ins(0xbf, 3, 10),             # r3 = fp
    ins(0x07, 3, 0, 0, -4),       # r3 = fp - 4
    ins(0xb7, 4, 0, 0, 4),        # r4 = 4
    ins(0xb7, 5, 0, 0, 0),        # r5 = 0 (flags)
    ins(0xbf, 1, 6),              # r1 = skb
    ins(0x85, 0, 0, 0, 9),        # bpf_skb_store_bytes(skb, off, fp - 4, 4, 0)
    ins(0xb7, 0, 0, 0, 0),        # out: r0 = TC_ACT_OK
    ins(0x95),                    # exit
])
prog = read if sys.argv[2] == "read" else b"".join([
    ins(0xbf, 6, 1),              # r6 = r1 (skb)
    ins(0x61, 2, 1, 0),           # r2 = skb->len
    ins(0xa5, 2, 0, 10, 46),      # if r2 < 46 goto out
    ins(0x07, 2, 0, 0, -4),       # r2 -= 4: offset of the last 4 bytes
    ins(0xbf, 3, 10),             # r3 = fp
    ins(0x07, 3, 0, 0, -4),       # r3 = fp - 4
    ins(0xb7, 4, 0, 0, 4),        # r4 = 4
    ins(0xbf, 1, 6),              # r1 = skb
    ins(0x85, 0, 0, 0, 26),       # bpf_skb_load_bytes(skb, off, fp - 4, 4)
    ins(0x55, 0, 0, 3, 0),        # if r0 != 0 goto out
    ins(0x61, 2, 10, -4),         # r2 = *(u32 *)(fp - 4)
    ins(0xbf, 1, 6),              # r1 = skb
    ins(0x85, 0, 0, 0, 48),       # bpf_set_hash(skb, r2)
    ins(0xb7, 0, 0, 0, 0),        # out: r0 = TC_ACT_OK
    ins(0x95),                    # exit
])
insns = ctypes.create_string_buffer(prog, len(prog)); lic = ctypes.create_string_buffer(b"GPL"); log = ctypes.create_string_buffer(65536)
attr = ctypes.create_string_buffer(struct.pack("<IIQQIIQ", 3, len(prog) // 8, ctypes.addressof(insns), ctypes.addressof(lic), 1, 65536, ctypes.addressof(log)).ljust(144, b"\\0"), 144)
fd = libc.syscall(321, 5, attr, 144)
if fd < 0:
    sys.exit("BPF_PROG_LOAD: %s %s" % (os.strerror(ctypes.get_errno()), log.value.decode(errors="replace")))
path = ctypes.create_string_buffer(sys.argv[1].encode())
pin = ctypes.create_string_buffer(struct.pack("<QI", ctypes.addressof(path), fd).ljust(16, b"\\0"), 16)
if libc.syscall(321, 6, pin, 16) < 0:
    sys.exit("BPF_OBJ_PIN: %s" % os.strerror(ctypes.get_errno()))
`;

interface Seen { dev: string; family: number; proto: number; src: string; sport: number; label: number; dst: string; tail: number }

async function sendAndSniff(mode: string, count: number, expected: number, idle = 4, tags: number[] = []): Promise<Seen[]> {
  const sniffer = spawn('ip', ['netns', 'exec', NS_K, 'python3', '-c', SNIFF, String(expected), String(idle), VIP4, VIP6, DEAD6, DEAD4], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '', err = '';
  sniffer.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  await new Promise<void>((resolve, reject) => {
    sniffer.stdout.on('data', (d: Buffer) => { text += d.toString(); if (text.startsWith('ready')) resolve(); });
    sniffer.on('exit', () => reject(new Error(`sniffer exited early: ${err}`)));
  });
  const closed = new Promise<void>((resolve) => sniffer.on('close', () => resolve()));
  execFileSync('ip', ['netns', 'exec', NS_C, process.execPath, '-e', CLIENT, mode, String(count), tags.join(',')], { stdio: 'pipe', timeout: 60_000 });
  await closed;
  return text.split('\n').slice(1).filter((l) => l.trim()).map((l) => {
    const [dev, family, proto, src, sport, label, dst, tail] = l.trim().split(' ');
    return { dev: dev!, family: Number(family), proto: Number(proto), src: src!, sport: Number(sport), label: Number(label), dst: dst!, tail: Number(tail) };
  });
}

describe.skipIf(!caps.ok)('forwarded packets under policy 1: the L4 hash they carry decides (netns)', () => {
  const route = new MultipathRoute([1, 1, 1], { policy: 1, seed: SEED, path: 'packet' });
  beforeAll(() => {
    for (const [ns, kv] of [[NS_R, 'net.ipv4.ip_forward=1'], [NS_R, 'net.ipv6.conf.all.forwarding=1'], [NS_R, `net.ipv4.fib_multipath_hash_seed=${SEED}`],
      [NS_R, 'net.ipv4.fib_multipath_hash_policy=1'], [NS_R, 'net.ipv6.fib_multipath_hash_policy=1'],
      [NS_R, 'net.ipv4.conf.all.rp_filter=0'], [NS_R, 'net.ipv4.conf.default.rp_filter=0'],
      [NS_K, 'net.ipv4.conf.all.rp_filter=0'], [NS_K, 'net.ipv4.conf.default.rp_filter=0']] as const) sysctl(ns, kv);
    for (const ns of [NS_C, NS_R, NS_K]) ipn(ns, 'link', 'set', 'lo', 'up');
    ipn(NS_R, 'link', 'add', 'rin', 'type', 'veth', 'peer', 'name', 'c0', 'netns', NS_C);
    ipn(NS_R, 'link', 'set', 'rin', 'up'); ipn(NS_C, 'link', 'set', 'c0', 'up');
    ipn(NS_R, 'addr', 'add', '192.0.2.1/24', 'dev', 'rin'); ipn(NS_R, '-6', 'addr', 'add', '2001:db8:c::1/64', 'dev', 'rin', 'nodad');
    ipn(NS_C, 'addr', 'add', '192.0.2.2/24', 'dev', 'c0'); ipn(NS_C, '-6', 'addr', 'add', '2001:db8:c::2/64', 'dev', 'c0', 'nodad');
    ipn(NS_C, 'route', 'add', 'default', 'via', '192.0.2.1'); ipn(NS_C, '-6', 'route', 'add', 'default', 'via', '2001:db8:c::1');
    for (let i = 0; i < NH; i++) {
      ipn(NS_R, 'link', 'add', `d${i}`, 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', NS_K);
      ipn(NS_R, 'link', 'set', `d${i}`, 'up'); ipn(NS_K, 'link', 'set', `p${i}`, 'up');
      ipn(NS_R, 'addr', 'add', `10.${i}.0.1/24`, 'dev', `d${i}`); ipn(NS_R, '-6', 'addr', 'add', `2001:db8:${i}::1/64`, 'dev', `d${i}`, 'nodad');
      ipn(NS_K, 'addr', 'add', `10.${i}.0.2/24`, 'dev', `p${i}`); ipn(NS_K, '-6', 'addr', 'add', `2001:db8:${i}::2/64`, 'dev', `p${i}`, 'nodad');
      sysctl(NS_K, `net.ipv4.conf.p${i}.rp_filter=0`);
    }
    ipn(NS_K, 'addr', 'add', `${VIP4}/32`, 'dev', 'lo'); ipn(NS_K, '-6', 'addr', 'add', `${VIP6}/128`, 'dev', 'lo', 'nodad');
    ipn(NS_K, 'route', 'add', 'default', 'via', '10.0.0.1'); ipn(NS_K, '-6', 'route', 'add', 'default', 'via', '2001:db8:0::1');
    const hops = (v6: boolean) => Array.from({ length: NH }, (_, i) => ['nexthop', 'via', v6 ? `2001:db8:${i}::2` : `10.${i}.0.2`, 'dev', `d${i}`]).flat();
    ipn(NS_R, 'route', 'add', '198.51.100.0/24', ...hops(false));
    ipn(NS_R, '-6', 'route', 'add', '2001:db8:aaaa::/64', ...hops(true));
  });
  afterAll(() => {
    for (const ns of [NS_C, NS_R, NS_K]) {
      try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'pipe' }); } catch { /* already gone */ }
    }
  });

  const plain = (p: Seen) => `p${route.predict({ src: p.src, dst: p.dst, sport: p.sport, dport: p.proto === 17 ? 9000 : 9001, proto: p.proto })}`;

  it('IPv4 UDP from an unconnected socket carries no hash: the 5-tuple hash predicts every packet', async () => {
    const seen = await sendAndSniff('udp4', N, N);
    expect(seen.length).toBe(N);
    expect(seen.filter((p) => p.dev !== plain(p))).toEqual([]);
    expect(new Set(seen.map((p) => p.dev)).size).toBe(NH);
    console.log(`packet-l4hash: IPv4 unconnected UDP: ${N} of ${N} datagrams on the predicted link`);
  });

  for (const mode of ['tcp4', 'udpc4'] as const) {
    it(`IPv4 ${mode === 'tcp4' ? 'TCP' : 'connected UDP'} carries the socket's random txhash: the 5-tuple hash does not predict it`, async () => {
      const seen = await sendAndSniff(mode, N, N);
      expect(seen.length).toBe(N);
      const wrong = seen.filter((p) => p.dev !== plain(p)).length;
      // by chance a third would agree; a kernel hashing the headers would make it 0 wrong
      expect(wrong).toBeGreaterThan(N / 3);
      expect(new Set(seen.map((p) => p.dev)).size).toBe(NH);
      console.log(`packet-l4hash: IPv4 ${mode}: the header hash predicted ${N - wrong} of ${N} (chance: 1/${NH}); the txhash decides and is not on the wire`);
    });
  }

  it('policy 3 with the 5-tuple fields hashes the headers whatever the packet carries: TCP from local sockets predicted exactly', async () => {
    const fields = 0x01 | 0x02 | 0x04 | 0x10 | 0x20;
    sysctl(NS_R, 'net.ipv4.fib_multipath_hash_policy=3');
    sysctl(NS_R, `net.ipv4.fib_multipath_hash_fields=${fields}`);
    try {
      const r3 = new MultipathRoute([1, 1, 1], { policy: 3, fields, seed: SEED, path: 'packet' });
      const seen = await sendAndSniff('tcp4', N, N);
      expect(seen.length).toBe(N);
      expect(seen.filter((p) => p.dev !== `p${r3.predict({ src: p.src, dst: p.dst, sport: p.sport, dport: 9001, proto: 6 })}`)).toEqual([]);
      expect(new Set(seen.map((p) => p.dev)).size).toBe(NH);
      console.log(`packet-l4hash: IPv4 TCP under policy 3 (5-tuple fields): ${N} of ${N} SYNs on the predicted link`);
    } finally {
      sysctl(NS_R, 'net.ipv4.fib_multipath_hash_policy=1');
    }
  });

  it('IPv6 UDP from an unconnected socket: no hash without auto flow labels (header hash exact); making the label gives it one', async () => {
    sysctl(NS_C, 'net.ipv6.auto_flowlabels=0');
    const off = await sendAndSniff('udp6', N, N);
    expect(off.length).toBe(N);
    expect(off.filter((p) => p.dev !== plain(p))).toEqual([]);
    sysctl(NS_C, 'net.ipv6.auto_flowlabels=1');
    const on = await sendAndSniff('udp6', N, N);
    expect(on.length).toBe(N);
    const wrong = on.filter((p) => p.dev !== plain(p)).length;
    expect(wrong).toBeGreaterThan(N / 3);
    console.log(`packet-l4hash: IPv6 unconnected UDP: auto_flowlabels=0: ${N} of ${N} on the header-hash link; auto_flowlabels=1: ${N - wrong} of ${N} (the hash set to make the label decides)`);
  });

  it('IPv4 TCP SYNs that time out are re-sent with a new txhash: connections hop links', async () => {
    const conns = 24;
    // SYN at 0 s, 1 s, 3 s to an address the sink does not answer (the client gives up at 3.5 s)
    const seen = (await sendAndSniff('syn4', conns, 3 * conns, 3)).filter((p) => p.dst === DEAD4 && p.proto === 6);
    expect(seen.length).toBeGreaterThanOrEqual(2 * conns);
    const bySport = new Map<number, Set<string>>();
    for (const p of seen) bySport.set(p.sport, (bySport.get(p.sport) ?? new Set()).add(p.dev));
    const hopped = [...bySport.values()].filter((d) => d.size > 1).length;
    // with one hash per connection no connection would ever change link
    expect(hopped).toBeGreaterThan(0);
    console.log(`packet-l4hash: IPv4 SYN retransmissions: ${seen.length} SYNs of ${bySport.size} connections; ${hopped} connections changed link between retransmissions`);
  });

  describe('tc BPF on the router input: the hash the router sees, read out; then a hash the test controls (bpf_set_hash, L4)', () => {
    let bpf = { ok: false, why: '' };
    /** Loads the 'read' or 'set' program and attaches it to the router's input link (replacing the other). */
    const attach = (kind: 'read' | 'set') => execFileSync('ip', ['netns', 'exec', NS_R, 'sh', '-c',
      `mount -t bpf bpf /sys/fs/bpf && python3 -c "$1" /sys/fs/bpf/lvskit-${kind} ${kind} && tc filter replace dev rin ingress pref 1 bpf da object-pinned /sys/fs/bpf/lvskit-${kind}`, 'sh', LOADER], { stdio: 'pipe' });
    beforeAll(() => {
      try {
        // the programs rewrite frames of 46 bytes and more, neighbour discovery included: fixed neighbours on the client link
        const mac = (ns: string, dev: string) => (JSON.parse(ipn(ns, '-j', 'link', 'show', dev)) as Array<{ address: string }>)[0]!.address;
        ipn(NS_C, '-6', 'neigh', 'replace', '2001:db8:c::1', 'lladdr', mac(NS_R, 'rin'), 'dev', 'c0', 'nud', 'permanent');
        ipn(NS_R, '-6', 'neigh', 'replace', '2001:db8:c::2', 'lladdr', mac(NS_C, 'c0'), 'dev', 'rin', 'nud', 'permanent');
        execFileSync('ip', ['netns', 'exec', NS_R, 'tc', 'qdisc', 'add', 'dev', 'rin', 'clsact'], { stdio: 'pipe' });
        attach('read');
        bpf = { ok: true, why: '' };
      } catch (e) {
        bpf = { ok: false, why: `cannot load the tc BPF programs: ${String((e as { stderr?: Buffer }).stderr ?? e).split('\n').slice(-3).join(' ')}` };
        console.warn(`\n*** SKIPPING the tc BPF tests: ${bpf.why} ***\n`);
      }
    });
    afterAll(() => {
      try { execFileSync('ip', ['netns', 'exec', NS_R, 'tc', 'qdisc', 'del', 'dev', 'rin', 'clsact'], { stdio: 'pipe' }); } catch { /* namespace gone */ }
    });

    it('UDP from local sockets (IPv4 connected: the txhash; IPv6): the router routes by the skb->hash it sees; the IPv6 auto flow label holds hash bits 0..15 and 24..27, not the top bits', async (ctx) => {
      if (!bpf.ok) ctx.skip();
      for (const mode of ['udpc4', 'udp6', 'udpc6'] as const) {
        const seen = await sendAndSniff(mode, N, N);
        expect(seen.length).toBe(N);
        // the router's own hash, read where it routes: predict(flow, { l4Hash }) is exact
        expect(seen.filter((p) => p.dev !== `p${route.predict({ src: p.src, dst: p.dst, sport: p.sport, dport: 9000, proto: 17 }, { l4Hash: p.tail })}`)).toEqual([]);
        // ip6_make_flowlabel: (__force __be32)rol32(hash, 16) & IPV6_FLOWLABEL_MASK, a host-order
        // value masked as if big-endian: on little-endian machines label = bswap32(rol32(h, 16)) & 0xfffff
        const bswap = (x: number) => (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
        const labelOf = (h: number) => bswap(((h << 16) | (h >>> 16)) >>> 0) & 0xfffff;
        if (mode === 'udpc4') {
          expect(new Set(seen.map((p) => p.tail)).size).toBeGreaterThan(N / 2); // one random txhash per socket
          console.log(`packet-l4hash: ${mode}: ${N} of ${N} routed by the skb->hash (the socket's txhash) read at the router`);
          continue;
        }
        expect(seen.filter((p) => p.label !== labelOf(p.tail))).toEqual([]);
        console.log(`packet-l4hash: ${mode}: ${N} of ${N} routed by the skb->hash read at the router; every auto flow label = bswap32(rol32(hash, 16)) & 0xfffff (hash bits 0..15 and 24..27: the top 4 bits, which pick the path, are not on the wire)`);
      }
    });

    const rand32 = () => (Math.random() * 2 ** 32) >>> 0;

    for (const family of [4, 6] as const) {
      it(`IPv${family} UDP: predict(flow, { l4Hash }) names the link of every datagram; the header hash does not`, async (ctx) => {
        if (!bpf.ok) ctx.skip();
        attach('set');
        const tags = Array.from({ length: N }, rand32);
        const seen = await sendAndSniff(family === 4 ? 'udp4' : 'udp6', N, N, 4, tags);
        expect(seen.length).toBe(N);
        const wrong = seen.filter((p) => p.dev !== `p${route.predict({ src: p.src, dst: p.dst, sport: p.sport, dport: 9000, proto: 17 }, { l4Hash: p.tail })}`);
        expect(wrong).toEqual([]);
        expect(new Set(seen.map((p) => p.tail))).toEqual(new Set(tags));
        const wrongPlain = seen.filter((p) => p.dev !== plain(p)).length;
        expect(wrongPlain).toBeGreaterThan(N / 3);
        console.log(`packet-l4hash: IPv${family} UDP with a known L4 hash: ${N} of ${N} on the link predict(flow, { l4Hash }) names (header hash: ${N - wrongPlain})`);
      });

      it(`IPv${family} UDP: a NIC's Toeplitz RSS hash (Microsoft key, 4-tuple): predict(flow, { rss }) is exact`, async (ctx) => {
        if (!bpf.ok) ctx.skip();
        const t = new ToeplitzHasher();
        const src = family === 4 ? '192.0.2.2' : '2001:db8:c::2', dst = family === 4 ? VIP4 : VIP6;
        const tags = Array.from({ length: N }, (_, i) => {
          const out = new Uint32Array(1);
          if (family === 4) t.hashV4(Uint32Array.of(ipv4ToNumber(src)), Uint32Array.of(ipv4ToNumber(dst)), out, Uint16Array.of(20000 + i), Uint16Array.of(9000));
          else t.hashV6(Uint32Array.from(ipv6ToWords(src)), Uint32Array.from(ipv6ToWords(dst)), out, Uint16Array.of(20000 + i), Uint16Array.of(9000));
          return out[0]!;
        });
        const seen = await sendAndSniff(family === 4 ? 'udp4' : 'udp6', N, N, 4, tags);
        expect(seen.length).toBe(N);
        const wrong = seen.filter((p) => p.dev !== `p${route.predict({ src: p.src, dst: p.dst, sport: p.sport, dport: 9000, proto: 17 }, { rss: { hashType: 'l4' } })}`);
        expect(wrong).toEqual([]);
        console.log(`packet-l4hash: IPv${family} UDP with the RSS hash a NIC would give: ${N} of ${N} on the predicted link`);
      });
    }
  });
});
