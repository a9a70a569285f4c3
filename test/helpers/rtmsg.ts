// Minimal hand-built rtnetlink messages for transport tests, independent of lib/route so that the
// transport is tested on its own. Layouts: include/uapi/linux/rtnetlink.h (struct rtmsg, RTA_*).
const RTM_NEWROUTE = 24;
const NLM_F_REQUEST = 1;
const NLM_F_CREATE = 0x400;
const NLM_F_EXCL = 0x200;
const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_TABLE = 15;

/** One netlink attribute (struct nlattr + payload, padded to 4 bytes), host byte order. */
export function nla(type: number, payload: Buffer): Buffer {
  const len = 4 + payload.length;
  const b = Buffer.alloc((len + 3) & ~3);
  b.writeUInt16LE(len, 0);
  b.writeUInt16LE(type, 2);
  payload.copy(b, 4);
  return b;
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}

/** RTM_NEWROUTE for dst/plen via device `ifindex` in `table` (scope link, proto static). */
export function newRoute(dst: [number, number, number, number], plen: number, ifindex: number, table = 254): Buffer {
  const rtm = Buffer.from([2 /*AF_INET*/, plen, 0, 0, table < 256 ? table : 252, 4 /*RTPROT_STATIC*/, 253 /*RT_SCOPE_LINK*/, 1 /*RTN_UNICAST*/, 0, 0, 0, 0]);
  const body = Buffer.concat([rtm, nla(RTA_DST, Buffer.from(dst)), nla(RTA_OIF, u32(ifindex)), nla(RTA_TABLE, u32(table))]);
  const h = Buffer.alloc(16);
  h.writeUInt32LE(16 + body.length, 0);
  h.writeUInt16LE(RTM_NEWROUTE, 4);
  h.writeUInt16LE(NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL, 6);
  return Buffer.concat([h, body]);
}

/** RTM_GETROUTE dump of IPv4 routes. */
export function dumpRoutes(): Buffer {
  const h = Buffer.alloc(16 + 12);
  h.writeUInt32LE(28, 0);
  h.writeUInt16LE(26 /*RTM_GETROUTE*/, 4);
  h.writeUInt16LE(NLM_F_REQUEST | 0x300 /*NLM_F_DUMP*/, 6);
  h[16] = 2;
  return h;
}

/** Counts RTM_NEWROUTE replies in `table` (RTA_TABLE, which carries ids above 255). */
export function countRoutes(replies: Buffer, offsets: Uint32Array, table: number): number {
  let n = 0;
  for (const off of offsets) {
    if (replies.readUInt16LE(off + 4) !== RTM_NEWROUTE) continue;
    const end = off + replies.readUInt32LE(off);
    let t = replies[off + 16 + 4]!;
    for (let a = off + 16 + 12; a + 4 <= end; ) {
      const len = replies.readUInt16LE(a);
      if (len < 4) break;
      if ((replies.readUInt16LE(a + 2) & 0x3fff) === RTA_TABLE) t = replies.readUInt32LE(a + 4);
      a += (len + 3) & ~3;
    }
    if (t === table) n++;
  }
  return n;
}

/** Messages laid out as a reply set: one Buffer and each message's offset (what RawOutcome carries). */
export function replySet(msgs: Buffer[]): [Buffer, Uint32Array] {
  const offs = new Uint32Array(msgs.length);
  let o = 0;
  msgs.forEach((m, i) => {
    offs[i] = o;
    o += m.length;
  });
  return [Buffer.concat(msgs), offs];
}
