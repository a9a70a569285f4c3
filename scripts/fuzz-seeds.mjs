#!/usr/bin/env node
// Writes the seed corpora in test/fuzz-corpus/<target>/ for scripts/fuzz.sh.
//
// rtnetlink seeds are real kernel answers: the script makes a namespace of its own, builds links,
// addresses, routes, nexthops and rules in it with iproute2, dumps them through lvskit's own
// transport (build/Release/lvskit.node) and saves every reply message. IPVS seeds are built by
// hand from include/uapi/linux/ip_vs.h (the host kernel may have no IPVS); the transport seeds
// wrap real answers in the fake-kernel record format of native/fuzz/transport_answers.cc.
// Needs root (CAP_NET_ADMIN + CAP_SYS_ADMIN for the namespace) and iproute2. Run:
//   node scripts/fuzz-seeds.mjs [rtnetlink] [ipvs] [packets]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const native = createRequire(import.meta.url)('node-gyp-build')(root);
const corpus = join(root, 'test/fuzz-corpus');

const NLM_F_REQUEST = 1, NLM_F_MULTI = 2, NLM_F_DUMP = 0x300;
const NLMSG_ERROR = 2, NLMSG_DONE = 3;

function nlmsg(type, flags, body, seq = 1, pid = 0) {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(16 + body.length, 0);
  h.writeUInt16LE(type, 4);
  h.writeUInt16LE(flags, 6);
  h.writeUInt32LE(seq, 8);
  h.writeUInt32LE(pid, 12);
  return pad(Buffer.concat([h, body]));
}
function pad(b) {
  return b.length % 4 ? Buffer.concat([b, Buffer.alloc(4 - (b.length % 4))]) : b;
}
function attr(type, payload) {
  const b = Buffer.alloc(4);
  b.writeUInt16LE(4 + payload.length, 0);
  b.writeUInt16LE(type, 2);
  return pad(Buffer.concat([b, payload]));
}
const u8 = (v) => Buffer.from([v]);
const u16 = (v) => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; };
const be16 = (v) => { const b = Buffer.alloc(2); b.writeUInt16BE(v); return b; };
const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; };
const be32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32BE(v >>> 0); return b; };
const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); return b; };
const str = (s) => Buffer.from(`${s}\0`);
const nest = (type, ...attrs) => attr(type | 0x8000, Buffer.concat(attrs));

let written = 0;
function save(target, name, bytes) {
  const dir = join(corpus, target);
  mkdirSync(dir, { recursive: true });
  const h = createHash('sha1').update(bytes).digest('hex').slice(0, 12);
  writeFileSync(join(dir, `${name}-${h}`), bytes);
  written++;
}

/** Fake-kernel records for transport_answers: [u16 len][u8 flags][datagram]. */
function transportSeed(scenario, options, datagrams) {
  const parts = [Buffer.from([scenario, options])];
  for (const d of datagrams) {
    const h = Buffer.alloc(3);
    h.writeUInt16LE(d.length, 0);
    h[2] = 0;
    parts.push(h, d);
  }
  return Buffer.concat(parts);
}

function ack(seq, error = 0, extack = []) {
  const body = Buffer.alloc(4 + 16);
  body.writeInt32LE(error, 0);
  body.writeUInt32LE(16, 4); // the request's header (NETLINK_CAP_ACK: no payload copy)
  body.writeUInt32LE(seq, 12);
  const flags = extack.length ? 0x100 | 0x200 : 0x100; // NLM_F_CAPPED | NLM_F_ACK_TLVS
  return nlmsg(NLMSG_ERROR, flags, Buffer.concat([body, ...extack]), seq);
}

// ---------------------------------------------------------------------------------------------
// rtnetlink: real answers from a namespace of our own.

function ip(ns, ...args) {
  execFileSync('ip', ['-n', ns, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function buildNamespace(ns) {
  const steps = [
    ['link', 'set', 'lo', 'up'],
    // veth pairs stand in for dummy devices: not every kernel has the dummy driver.
    ['link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd0p'],
    ['link', 'set', 'd0p', 'up'],
    ['link', 'set', 'd0', 'up', 'mtu', '9000', 'address', '02:00:00:00:00:01'],
    ['link', 'add', 'd1', 'type', 'veth', 'peer', 'name', 'd1p'],
    ['link', 'set', 'd1p', 'up'],
    ['link', 'set', 'd1', 'up'],
    ['link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1'],
    ['link', 'add', 'link', 'd0', 'name', 'd0.100', 'type', 'vlan', 'id', '100'],
    ['link', 'add', 'br0', 'type', 'bridge'],
    ['link', 'set', 'd1', 'master', 'br0'],
    ['link', 'set', 'd0', 'alias', 'uplink with a long alias'],
    ['addr', 'add', '10.0.0.1/24', 'dev', 'd0'],
    ['addr', 'add', '10.0.0.2/32', 'dev', 'd0', 'label', 'd0:vip'],
    ['addr', 'add', '2001:db8::1/64', 'dev', 'd0', 'nodad'],
    ['addr', 'add', '192.0.2.1/24', 'dev', 'd1', 'valid_lft', '300', 'preferred_lft', '100'],
    ['addr', 'add', 'fe80::1234/64', 'dev', 'd1', 'nodad'],
    ['route', 'add', '198.51.100.0/24', 'via', '10.0.0.254', 'dev', 'd0', 'metric', '10'],
    ['route', 'add', '203.0.113.0/24', 'nexthop', 'via', '10.0.0.253', 'weight', '3', 'nexthop', 'via', '192.0.2.254', 'weight', '1'],
    ['route', 'add', 'blackhole', '198.18.0.0/15'],
    ['route', 'add', '10.9.0.0/16', 'dev', 'd0', 'table', '1000', 'proto', 'static', 'src', '10.0.0.1'],
    ['route', 'add', '2001:db8:1::/48', 'via', '2001:db8::fe', 'dev', 'd0'],
    ['route', 'add', '2001:db8:2::/48', 'nexthop', 'via', '2001:db8::fd', 'dev', 'd0', 'nexthop', 'via', '2001:db8::fc', 'dev', 'd0'],
    ['route', 'add', '172.16.0.0/12', 'via', 'inet6', 'fe80::1', 'dev', 'd0'],
    ['nexthop', 'add', 'id', '1', 'via', '10.0.0.250', 'dev', 'd0'],
    ['nexthop', 'add', 'id', '2', 'via', '10.0.0.251', 'dev', 'd0'],
    ['nexthop', 'add', 'id', '3', 'blackhole'],
    ['nexthop', 'add', 'id', '10', 'group', '1,5/2'],
    ['nexthop', 'add', 'id', '11', 'group', '1/2', 'type', 'resilient', 'buckets', '8', 'idle_timer', '60'],
    ['route', 'add', '100.64.0.0/10', 'nhid', '10'],
    ['rule', 'add', 'from', '10.0.0.0/8', 'table', '1000', 'priority', '100'],
    ['rule', 'add', 'fwmark', '0x10/0xff', 'iif', 'd0', 'table', '200', 'priority', '101'],
    ['rule', 'add', 'ipproto', 'tcp', 'dport', '80-443', 'sport', '1024', 'lookup', '300', 'priority', '102'],
    ['rule', 'add', 'uidrange', '1000-2000', 'goto', '200', 'priority', '103'],
    ['rule', 'add', 'not', 'to', '192.0.2.0/24', 'tos', '0x10', 'prohibit', 'priority', '104'],
    ['-6', 'rule', 'add', 'from', '2001:db8::/32', 'table', '1000', 'priority', '100'],
  ];
  for (const s of steps) {
    try {
      ip(ns, ...s);
    } catch {
      console.warn(`seed setup step skipped: ip ${s.join(' ')}`);
    }
  }
}

function dumpRequest(type, body) {
  return nlmsg(type, NLM_F_REQUEST | NLM_F_DUMP, body);
}

function collect(sock, request) {
  const batch = new native.NativeBatch();
  batch.appendRaw(request);
  // The raw native outcome is positional: [items, failures, interrupted, replies, replyOffsets,
  // sendCalls, fatal] (socket_binding.cc OutcomeToJs); lib/socket.ts names the fields.
  const o = sock.executeSync(batch, {});
  const replies = o[3];
  const offsets = o[4] ?? [];
  const msgs = [];
  for (const off of offsets) msgs.push(replies.subarray(off, off + replies.readUInt32LE(off)));
  return msgs;
}

function rtnetlinkSeeds() {
  const ns = `lvskit-seeds-${process.pid}`;
  native.createNetns(ns);
  try {
    buildNamespace(ns);
    const sock = new native.NativeSocket(0, 1, `/run/netns/${ns}`, 0, 0);
    const ifinfo = Buffer.alloc(16);
    const ifaddr = Buffer.alloc(8);
    const rtm = (fam) => Buffer.from([fam, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const nhmsg = Buffer.alloc(8);
    const dumps = {
      link: [dumpRequest(18, ifinfo)],
      addr: [dumpRequest(22, ifaddr)],
      route: [dumpRequest(26, rtm(2)), dumpRequest(26, rtm(10))],
      rule: [dumpRequest(34, rtm(2)), dumpRequest(34, rtm(10))],
      nexthop: [dumpRequest(106, nhmsg), dumpRequest(118, Buffer.concat([nhmsg, attr(1 /*NHA_ID*/, u32(11))]))],
    };
    const transportDatagrams = [];
    for (const [target, reqs] of Object.entries(dumps)) {
      for (const req of reqs) {
        const msgs = collect(sock, req);
        msgs.forEach((m, i) => save(target, `kernel-${m.readUInt16LE(4)}-${i}`, m));
        // A dump answer as one datagram for the codec, and as fake-kernel records for the
        // transport (each message its own datagram, then NLMSG_DONE).
        const datagram = Buffer.concat(msgs.map((m) => {
          const c = Buffer.from(m);
          c.writeUInt16LE(c.readUInt16LE(6) | NLM_F_MULTI, 6);
          return c;
        }));
        save('nlattr', `dump-${target}`, datagram.subarray(0, 16384));
        const done = nlmsg(NLMSG_DONE, NLM_F_MULTI, u32(0));
        transportDatagrams.push(msgs.slice(0, 6));
        save('transport_answers', `dump-${target}`, transportSeed(1, 0, [...msgs.slice(0, 6), done]));
      }
    }
    sock.close();
    // The generic netlink controller's own answer (CTRL_CMD_GETFAMILY "nlctrl"), real bytes.
    const g = new native.NativeSocket(16, 1, `/run/netns/${ns}`, 0, 0);
    const getFamily = nlmsg(0x10, NLM_F_REQUEST, Buffer.concat([Buffer.from([3, 1, 0, 0]), attr(2, str('nlctrl'))]));
    const fam = collect(g, getFamily);
    g.close();
    for (const m of fam) {
      save('nlattr', 'ctrl-getfamily', m);
      save('transport_answers', 'ctrl-getfamily', transportSeed(3, 0, [m, ack(1)]));
    }
    // Acks and errors: a plain ack, an error with an extended ack (message, offset, missing type),
    // a mixed datagram of a reply, an error and the final ack.
    const extack = [attr(1, str('Nexthop device required')), attr(2, u32(20)), attr(5, u32(4))];
    save('transport_answers', 'acks', transportSeed(0, 0x30, [Buffer.concat([ack(1), ack(2, -17, extack), ack(3), ack(4, -22), ack(4)])]));
    save('transport_answers', 'ack-each', transportSeed(0, 0x11, [ack(1), ack(2, -1, [attr(1, str('Operation not permitted'))])]));
    save('transport_answers', 'stop-on-error', transportSeed(2, 0x12, [ack(1, -17), ack(1)]));
    save('transport_answers', 'dump-error', transportSeed(1, 0, [ack(1, -95, [attr(1, str('dump not supported'))])]));
    save('transport_answers', 'dump-intr', transportSeed(1, 0x04, [nlmsg(NLMSG_DONE, NLM_F_MULTI | 0x10 /*DUMP_INTR*/, u32(0)), nlmsg(NLMSG_DONE, NLM_F_MULTI, u32(0))]));
    save('transport_answers', 'dump-done-error', transportSeed(1, 0, [nlmsg(NLMSG_DONE, NLM_F_MULTI | 0x200, Buffer.concat([u32(-16 >>> 0), attr(1, str('busy'))]))]));
    save('transport_answers', 'events', transportSeed(4, 0, transportDatagrams.flat().slice(0, 8)));
    save('nlattr', 'error-extack', ack(2, -17, extack));
  } finally {
    native.deleteNetns(ns);
  }
}

// ---------------------------------------------------------------------------------------------
// IPVS (include/uapi/linux/ip_vs.h), hand-built: genlmsghdr { cmd, version 1 }.

function genl(cmd, ...attrs) {
  return nlmsg(0x24, NLM_F_MULTI, Buffer.concat([Buffer.from([cmd, 1, 0, 0]), ...attrs]));
}
function ipvsStats(type, wide) {
  const put = wide ? u64 : u32;
  return nest(type, ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((t, i) => attr(t, put(1000 * (i + 1)))));
}
const v4 = (a, b, c, d) => Buffer.concat([Buffer.from([a, b, c, d]), Buffer.alloc(12)]);
const v6 = Buffer.from('20010db8000000000000000000000001', 'hex');

function ipvsSeeds() {
  const flags = Buffer.concat([u32(1), u32(0xffffffff)]); // struct ip_vs_flags { flags, mask }
  const svc = (af, addr, port, extra = []) =>
    genl(1, nest(1, attr(1, u16(af)), attr(2, u16(6)), attr(3, addr), attr(4, be16(port)), attr(6, str('wrr')), attr(7, flags), attr(8, u32(300)),
      attr(9, af === 10 ? u32(128) : be32(0xffffffff)), ipvsStats(10, false), ipvsStats(12, true), ...extra));
  save('ipvs', 'service-v4', svc(2, v4(10, 0, 0, 1), 80));
  save('ipvs', 'service-v6', svc(10, v6, 443, [attr(11, str('sip'))]));
  save('ipvs', 'service-fwmark', genl(1, nest(1, attr(1, u16(2)), attr(5, u32(42)), attr(6, str('mh')), attr(7, flags), attr(8, u32(0)), attr(9, be32(0xffffffff)), ipvsStats(10, false))));
  const dest = (addr, af, extra = []) =>
    genl(5, nest(2, attr(1, addr), attr(2, be16(8080)), attr(3, u32(2)), attr(4, u32(5)), attr(5, u32(100)), attr(6, u32(10)),
      attr(7, u32(3)), attr(8, u32(4)), attr(9, u32(0)), ipvsStats(10, false), ...(af ? [attr(11, u16(af))] : []), ipvsStats(12, true), ...extra));
  save('ipvs', 'dest-v4', dest(v4(192, 0, 2, 10), 2));
  save('ipvs', 'dest-v6-tun', dest(v6, 10, [attr(13, u8(1)), attr(14, be16(6081)), attr(15, u16(1))]));
  save('ipvs', 'dest-old-kernel', dest(v4(192, 0, 2, 11), 0));
  save('ipvs', 'daemon-v4', genl(9, nest(3, attr(1, u32(1)), attr(2, str('eth0')), attr(3, u32(7)), attr(4, u16(1472)), attr(5, Buffer.from([224, 0, 0, 81])), attr(7, u16(8848)), attr(8, u8(1)))));
  save('ipvs', 'daemon-v6', genl(9, nest(3, attr(1, u32(2)), attr(2, str('eth1')), attr(3, u32(0)), attr(6, Buffer.from('ff020000000000000000000000000051', 'hex')))));
  save('ipvs', 'config', genl(12, attr(4, u32(900)), attr(5, u32(120)), attr(6, u32(300))));
  save('ipvs', 'info', genl(14, attr(1, u32(0x010207)), attr(2, u32(4096))));
  const dumpOfServices = Buffer.concat([svc(2, v4(10, 0, 0, 1), 80), svc(10, v6, 443), nlmsg(NLMSG_DONE, NLM_F_MULTI, u32(0))]);
  save('ipvs', 'dump-services', dumpOfServices);
  save('nlattr', 'ipvs-services', dumpOfServices);
}

// ---------------------------------------------------------------------------------------------
// Packets and captures, hand-built: Ethernet/VLAN/SLL/SLL2/raw framing around IPv4/IPv6 with
// TCP, UDP, ICMP errors quoting a packet, extension headers and fragments.

function ipv4(proto, l4, { frag = 0, src = [10, 0, 0, 1], dst = [10, 0, 0, 2], options = Buffer.alloc(0) } = {}) {
  const ihl = 5 + options.length / 4;
  const h = Buffer.alloc(20);
  h[0] = 0x40 | ihl;
  h.writeUInt16BE(ihl * 4 + l4.length, 2);
  h.writeUInt16BE(frag, 6);
  h[8] = 64;
  h[9] = proto;
  Buffer.from(src).copy(h, 12);
  Buffer.from(dst).copy(h, 16);
  return Buffer.concat([h, options, l4]);
}
function ipv6(next, payload, flow = 0x12345) {
  const h = Buffer.alloc(40);
  h.writeUInt32BE((6 << 28) | flow, 0);
  h.writeUInt16BE(payload.length, 4);
  h[6] = next;
  h[7] = 64;
  Buffer.from('20010db8000000000000000000000001', 'hex').copy(h, 8);
  Buffer.from('20010db8000000000000000000000002', 'hex').copy(h, 24);
  return Buffer.concat([h, payload]);
}
const ports = (s, d, rest = 16) => Buffer.concat([be16(s), be16(d), Buffer.alloc(rest)]);
const eth = (type, payload, vlan) => Buffer.concat([Buffer.from('020000000002020000000001', 'hex'),
  ...(vlan ? [be16(0x8100), be16(vlan)] : []), be16(type), payload]);
const sll = (type, payload) => Buffer.concat([be16(0), be16(1), be16(6), Buffer.from('020000000001', 'hex'), Buffer.alloc(2), be16(type), payload]);
const sll2 = (type, payload) => Buffer.concat([be16(type), Buffer.alloc(2), be32(2), be16(1), Buffer.from([0, 6]), Buffer.from('0200000000010000', 'hex'), payload]);

function packetSeeds() {
  const tcp4 = ipv4(6, ports(40000, 80));
  const udp6 = ipv6(17, ports(5353, 53, 4));
  const icmpErr = ipv4(1, Buffer.concat([Buffer.from([3, 3, 0, 0, 0, 0, 0, 0]), ipv4(17, ports(1234, 53, 4))]));
  const icmp6Err = ipv6(58, Buffer.concat([Buffer.from([1, 4, 0, 0, 0, 0, 0, 0]), ipv6(6, ports(443, 50000))]));
  const ext6 = ipv6(0, Buffer.concat([Buffer.from([43, 0, 0, 0, 0, 0, 0, 0]), Buffer.from([44, 0, 0, 0, 0, 0, 0, 0]), Buffer.from([6, 0, 0, 1, 0, 0, 0, 7]), ports(1, 2)]));
  const frag4 = ipv4(17, ports(1, 2), { frag: 0x2000 });
  const opts4 = ipv4(6, ports(3, 4), { options: Buffer.from([1, 1, 1, 0]) });
  const esp6 = ipv6(50, Buffer.from('0000abcd00000001', 'hex'));
  const ipip = ipv4(4, tcp4);
  const links = { null: 0, eth: 1, raw: 101, sll: 113, ipv4: 228, ipv6: 229, sll2: 276 };
  const cases = [
    ['eth-tcp4', 1, eth(0x0800, tcp4)], ['eth-vlan-udp6', 1, eth(0x86dd, udp6, 100)], ['eth-icmp-err', 1, eth(0x0800, icmpErr)],
    ['eth-icmp6-err', 1, eth(0x86dd, icmp6Err)], ['raw-ext6', 2, ext6], ['raw-frag4', 2, frag4], ['ipv4-opts', 4, opts4],
    ['ipv6-esp', 5, esp6], ['sll-ipip', 3, sll(0x0800, ipip)], ['sll2-udp6', 6, sll2(0x86dd, udp6)],
    ['null-tcp4', 0, Buffer.concat([u32(2), tcp4])], ['eth-arp', 1, eth(0x0806, Buffer.alloc(28))],
  ];
  // native/fuzz/packet.cc: [link type index][batch cut count][packet]; index into its kLinkTypes.
  for (const [name, linkIndex, bytes] of cases) save('packet', name, Buffer.concat([Buffer.from([linkIndex, 0]), bytes]));
  save('packet', 'batch-eth', Buffer.concat([Buffer.from([1, 3]), eth(0x0800, tcp4), eth(0x86dd, udp6), eth(0x0800, icmpErr)]));

  const packets = cases.filter(([, li]) => li === 1).map(([, , b]) => b);
  // pcap: 24-byte header + 16-byte records; microsecond LE, nanosecond BE.
  const pcap = (le, nano, link, pkts) => {
    const w32 = (v) => { const b = Buffer.alloc(4); le ? b.writeUInt32LE(v >>> 0) : b.writeUInt32BE(v >>> 0); return b; };
    const w16 = (v) => { const b = Buffer.alloc(2); le ? b.writeUInt16LE(v) : b.writeUInt16BE(v); return b; };
    const head = Buffer.concat([w32(nano ? 0xa1b23c4d : 0xa1b2c3d4), w16(2), w16(4), w32(0), w32(0), w32(65535), w32(link)]);
    return Buffer.concat([head, ...pkts.flatMap((p, i) => [w32(1700000000 + i), w32(i * 1000), w32(p.length), w32(p.length + 4), p])]);
  };
  save('pcap', 'pcap-us-le-eth', pcap(true, false, 1, packets));
  save('pcap', 'pcap-ns-be-eth', pcap(false, true, 1, packets));
  save('pcap', 'pcap-raw', pcap(true, false, 101, [tcp4, udp6, ext6]));
  save('pcap', 'pcap-sll2', pcap(true, false, 276, [sll2(0x0800, tcp4)]));
  // pcapng: SHB, IDB (with if_tsresol), EPB, SPB, an unknown block, a second section.
  const block = (type, body) => {
    const len = 12 + body.length + ((4 - (body.length % 4)) % 4);
    return Buffer.concat([u32(type), u32(len), pad(body), u32(len)]);
  };
  const shb = () => block(0x0a0d0d0a, Buffer.concat([u32(0x1a2b3c4d), u16(1), u16(0), Buffer.from('ffffffffffffffff', 'hex')]));
  const idb = (link, tsresol) => block(1, Buffer.concat([u16(link), u16(0), u32(0), ...(tsresol !== undefined ? [u16(9), u16(1), pad(Buffer.from([tsresol])), u16(0), u16(0)] : [])]));
  const epb = (iface, p) => block(6, Buffer.concat([u32(iface), u32(0), u32(1000), u32(p.length), u32(p.length), pad(p)]));
  const spb = (p) => block(3, Buffer.concat([u32(p.length), pad(p)]));
  save('pcap', 'pcapng', Buffer.concat([shb(), idb(1, 9), idb(101), ...packets.map((p) => epb(0, p)), epb(1, udp6), block(0x99, Buffer.alloc(8)), spb(packets[0]), shb(), idb(113), epb(0, sll(0x0800, tcp4))]));
}

// `node scripts/fuzz-seeds.mjs [rtnetlink] [ipvs] [packets]`: which groups to (re)write; all by
// default. Kernel answers carry timers and counters, so rewriting the rtnetlink group changes
// bytes: do it when a decoder learns new attributes, not on every run.
const groups = process.argv.slice(2);
const want = (g) => groups.length === 0 || groups.includes(g);
const clear = (...targets) => targets.forEach((t) => rmSync(join(corpus, t), { recursive: true, force: true }));
if (want('rtnetlink')) {
  clear('nlattr', 'transport_answers', 'link', 'addr', 'route', 'rule', 'nexthop');
  rtnetlinkSeeds();
}
if (want('ipvs')) {
  clear('ipvs');
  ipvsSeeds();
}
if (want('packets')) {
  clear('packet', 'pcap');
  packetSeeds();
}
console.log(`wrote ${written} seeds under ${corpus}`);
