// The nf_tables codec on bytes captured from nft 1.0.6 and kernel 6.18 (test/fixtures/nft/,
// captured with `strace -e write=3 / read=3` around `nft add rule ...` and `nft list chain ...`;
// kernel.txt says which): nft's own request and the kernel's dump reply decode into the typed
// rule; lvskit's encoding of that rule carries exactly nft's expressions; malformed input is
// refused with a RangeError, never a crash.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { native } from '../../lib/native.js';
import { compileRule, decompileRule, packExprs } from '../../lib/nft/compile.js';
import { canonicalTable, tablesEqual } from '../../lib/nft/state.js';
import type { NftRuleBody } from '../../lib/nft/types.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/nft/${name}`, import.meta.url));

function messages(b: Buffer): { type: number; flags: number; off: number; len: number }[] {
  const out = [];
  for (let off = 0; off + 16 <= b.length; ) {
    const len = b.readUInt32LE(off);
    out.push({ type: b.readUInt16LE(off + 4), flags: b.readUInt16LE(off + 6), off, len });
    off += (len + 3) & ~3;
  }
  return out;
}

// `nft add rule inet t c meta l4proto tcp ip saddr 10.0.0.0/8 th dport 80-90 iifname "eth0"
//  ct state established,related meta mark & 0xff == 0x10 counter meta mark set 7 accept`
const typed: NftRuleBody = {
  match: { protocol: 'tcp', source: '10.0.0.0/8', destinationPort: { start: 80, end: 90 }, iif: 'eth0', ctState: ['established', 'related'], mark: { value: 0x10, mask: 0xff } },
  counter: true,
  setMark: 7,
  verdict: 'accept',
};

describe('nf_tables codec (captured bytes)', () => {
  const req = fixture('add-rule-request.bin');
  const reply = fixture('list-rules-reply.bin');

  it('nft frames a rule in BATCH_BEGIN / NEWRULE / BATCH_END with res_id NFNL_SUBSYS_NFTABLES', () => {
    const m = messages(req);
    expect(m.map((x) => x.type)).toEqual([0x10, (10 << 8) | 6, 0x11]);
    expect(req.readUInt16BE(m[0]!.off + 18)).toBe(10); // nfgenmsg.res_id, big-endian
    expect(req[m[1]!.off + 16]).toBe(1); // NFPROTO_INET
  });

  it("decodes nft's request into the typed rule", () => {
    const rule = messages(req)[1]!;
    const d = native.nftDecode(req, rule.off);
    expect(d).toMatchObject({ msg: 6, family: 1, table: 't', chain: 'c' });
    const { packets: _p, bytes: _b, ...body } = decompileRule(d.exprs!, 'inet');
    expect(body).toEqual(typed);
  });

  it("lvskit's encoding of the same rule decodes to the same typed rule (nft shortens some loads: equal meaning, not equal bytes)", () => {
    const batch = new native.NativeBatch();
    native.nftEncodeRule(batch, 6, 0x400 | 0x800, 1, 't', 'c', -1, -1, packExprs(compileRule(typed, 'inet')));
    const bytes = batch.bytes();
    expect(messages(bytes)).toEqual([{ type: (10 << 8) | 6, flags: 0xc00, off: 0, len: bytes.length }]);
    const mine = native.nftDecode(bytes, 0);
    expect(mine).toMatchObject({ msg: 6, family: 1, table: 't', chain: 'c' });
    const { packets: _p, bytes: _b, ...body } = decompileRule(mine.exprs!, 'inet');
    expect(body).toEqual(typed);
    // The expression kinds nft used for the same statements, plus lvskit's explicit range.
    const kinds = (e: { kind: string }[]) => new Set(e.map((x) => x.kind));
    expect(kinds(mine.exprs!)).toEqual(new Set([...kinds(native.nftDecode(req, messages(req)[1]!.off).exprs!), 'bitwise', 'range']));
  });

  it("decodes the kernel's dump reply: handle, counter values, typed body", () => {
    const d = native.nftDecode(reply, 0);
    expect(d).toMatchObject({ msg: 6, family: 1, table: 't', chain: 'c', handle: expect.any(Number) });
    expect(d.handle).toBeGreaterThan(0);
    const r = decompileRule(d.exprs!, 'inet');
    expect(r).toMatchObject({ ...typed, packets: 0, bytes: 0 });
    expect(r.unknown).toBeUndefined();
  });

  it('every truncation and byte flip of the captured messages decodes or throws RangeError', () => {
    for (const b of [reply, req.subarray(messages(req)[1]!.off, messages(req)[2]!.off)]) {
      for (let n = 16; n < b.length; n += 3) {
        const cut = Buffer.from(b.subarray(0, n));
        cut.writeUInt32LE(n, 0);
        try {
          decompileRule(native.nftDecode(cut, 0).exprs ?? [], 'inet');
        } catch (e) {
          expect(e).toBeInstanceOf(RangeError);
        }
      }
      let seed = 12345;
      for (let i = 0; i < 2000; i++) {
        const m = Buffer.from(b);
        for (let k = 0; k < 3; k++) {
          seed = (seed * 1103515245 + 12345) >>> 0;
          const pos = 16 + (seed % (m.length - 16));
          m[pos] = (seed >>> 8) & 0xff;
        }
        try {
          const d = native.nftDecode(m, 0);
          decompileRule(d.exprs ?? [], 'inet');
        } catch (e) {
          expect(e).toBeInstanceOf(RangeError);
        }
      }
    }
  });

  it('refuses what is not an nf_tables message, naming it', () => {
    const b = Buffer.alloc(20);
    b.writeUInt32LE(20, 0);
    b.writeUInt16LE(16, 4);
    expect(() => native.nftDecode(b, 0)).toThrow(/nftDecode: message type 16 is not an nf_tables message/);
    expect(() => native.nftDecode(b, 8)).toThrow(RangeError);
    expect(() => native.nftEncodeRule(new native.NativeBatch(), 6, 0, 1, 't', 'c', -1, -1, packExprs([[99, 0, 0, 0, 0, 0, 0, 0, null, null, ''] as never]))).toThrow(/exprs\[0\] has unknown kind 99/);
    const good = packExprs(compileRule(typed, 'inet'));
    expect(() => native.nftEncodeRule(new native.NativeBatch(), 6, 0, 1, 't', 'c', -1, -1, good.subarray(0, good.length - 1))).toThrow(/nftEncodeRule: exprs\[\d+\] is truncated/);
  });
});

describe('canonical table definitions', () => {
  it('equal meaning compares equal: defaults, priority names, address and port spellings, element order', () => {
    const a = {
      family: 'inet' as const, name: 't',
      chains: [{ name: 'pre', hook: 'prerouting' as const, priority: 'mangle' as const }, { name: 'sub' }],
      sets: [{ name: 's', type: 'ipv6_addr' as const, elements: ['2001:db8::2', '2001:DB8:0::1'] }],
      rules: [
        { chain: 'sub', match: { destination: '10.0.0.5/32', protocol: 6, destinationPort: { start: 80, end: 80 } }, verdict: 'accept' as const },
        { chain: 'pre', match: { mark: { value: 1, mask: 0xffffffff } }, counter: false, verdict: { jump: 'sub' } },
      ],
    };
    const b = {
      family: 'inet' as const, name: 't',
      chains: [{ name: 'sub' }, { name: 'pre', hook: 'prerouting' as const, type: 'filter' as const, priority: -150, policy: 'accept' as const }],
      sets: [{ name: 's', type: 'ipv6_addr' as const, elements: ['2001:db8::1', '2001:db8::2'] }],
      rules: [
        { chain: 'pre', match: { mark: 1 }, verdict: { jump: 'sub' } },
        { chain: 'sub', match: { protocol: 'tcp' as const, destination: '10.0.0.5', destinationPort: 80 }, verdict: 'accept' as const },
      ],
    };
    expect(tablesEqual(a, b)).toBe(true);
    expect(canonicalTable(a).rules![0]).toEqual({ chain: 'pre', match: { mark: 1 }, verdict: { jump: 'sub' } });
    expect(tablesEqual(a, { ...b, rules: [...b.rules].reverse() })).toBe(true); // order matters only within a chain
    expect(tablesEqual(a, { ...b, rules: [b.rules[0]!, b.rules[1]!, b.rules[1]!] })).toBe(false);
    expect(tablesEqual(a, { ...b, chains: [{ name: 'sub' }, { name: 'pre', hook: 'prerouting' as const, priority: -150, policy: 'drop' as const }] })).toBe(false);
  });
});
