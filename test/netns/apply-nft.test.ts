// apply() and the JSON state for the lvskit-owned nf_tables tables, on the host kernel, in
// namespaces this file creates: a state with a table installs it (read back with readState and
// compared, as `nft -j list ruleset` prints it, with what nft makes of the equivalent text in a
// reference namespace); a second apply plans nothing; a changed rule plans one replace; a table
// is deleted only when the caller names it as managed; a refused table is rolled back; a table
// nobody named is never touched; `lvskit apply FILE` with an nftables section does the same.
// Runs the built CLI (dist/cli/main.js: `npm run build:ts` after changing lib/).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { skipUnless, useNetns } from '../helpers/kernel.js';
import { Rtnl, apply, readState, ApplyError, type LvsState } from '../../lib/index.js';
import { Nft } from '../../lib/nft/nft.js';
import { tablesEqual } from '../../lib/nft/state.js';
import { ValidationError } from '../../lib/errors.js';
import type { NftTableDefinition } from '../../lib/nft/types.js';

const skip = skipUnless('netns');
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

function nft(ns: string, ...args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', ns, 'nft', ...args], { encoding: 'utf8' });
}
function nftScript(ns: string, text: string): void {
  execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: text, encoding: 'utf8' });
}
/** `nft -j list ruleset` without metainfo and handles: what two equal rulesets share. */
function ruleset(ns: string): unknown[] {
  const j = JSON.parse(nft(ns, '-j', 'list', 'ruleset')) as { nftables: Record<string, Record<string, unknown>>[] };
  return j.nftables.filter((o) => !('metainfo' in o)).map((o) => {
    const [[kind, body]] = Object.entries(o) as [[string, Record<string, unknown>]];
    const { handle: _h, ...rest } = body;
    return { [kind]: rest };
  });
}

/** The table of a state, and the same table as nft text (the reference), for HTTP port `port`. */
function lvsTable(port: number): { def: NftTableDefinition; text: string } {
  return {
    def: {
      family: 'inet',
      name: 'lvs',
      chains: [{ name: 'pre', hook: 'prerouting', priority: 'mangle' }],
      sets: [{ name: 'vips', type: 'ipv4_addr', elements: ['192.0.2.10', '192.0.2.11'] }],
      rules: [
        { chain: 'pre', match: { ipVersion: 4, destinationSet: 'vips', protocol: 'tcp', destinationPort: port }, setMark: 1 },
        { chain: 'pre', match: { ipVersion: 4, destinationSet: 'vips', protocol: 'tcp', destinationPort: 443 }, setMark: 1 },
      ],
    },
    text: `
      add table inet lvs
      add chain inet lvs pre { type filter hook prerouting priority mangle; policy accept; }
      add set inet lvs vips { type ipv4_addr; elements = { 192.0.2.10, 192.0.2.11 }; }
      add rule inet lvs pre ip daddr @vips meta l4proto tcp th dport ${port} meta mark set 0x1
      add rule inet lvs pre ip daddr @vips meta l4proto tcp th dport 443 meta mark set 0x1
    `,
  };
}

describe.skipIf(skip)('apply() with nf_tables tables (netns)', () => {
  const a = useNetns('lvskit-applynft');
  const ref = useNetns('lvskit-applynftref');
  let rtnl: Rtnl;
  let h: Nft;
  const LVS = { family: 'inet', name: 'lvs' } as const;
  /** A table lvskit is never told about: it must survive every apply. */
  const OTHER = 'add table ip other\nadd chain ip other c { type filter hook input priority 0; policy accept; }\nadd rule ip other c tcp dport 22 accept\n';

  beforeAll(() => {
    rtnl = Rtnl.open({ netns: a.name });
    h = Nft.open({ netns: a.name });
    nftScript(a.name, OTHER);
  });
  afterAll(() => {
    rtnl?.close();
    h?.close();
  });

  it('installs the table, reads it back equal to nft, and plans nothing the second time', async () => {
    const { def, text } = lvsTable(80);
    const r = await apply(rtnl, { nftables: [def] }, { nft: h });
    expect(r.plan.ops.map((o) => o.op)).toEqual(['replaceTable']);
    expect(r.changes).toEqual(['replace nftables table inet lvs (1 chain(s), 1 set(s), 2 rule(s))']);
    expect(r.report!.items.map((i) => i.state)).toEqual(['applied']);
    nftScript(ref.name, OTHER + text);
    expect(ruleset(a.name)).toEqual(ruleset(ref.name));

    const back = await readState(rtnl, { nft: h, nftTables: [LVS, { family: 'ip', name: 'absent' }] });
    expect(back.nftables).toHaveLength(1);
    expect(tablesEqual(back.nftables![0]!, def)).toBe(true);

    const again = await apply(rtnl, { nftables: [def] }, { nft: h });
    expect(again.changes).toEqual([]);
    expect(again.report).toBeUndefined();
  });

  it('a changed rule plans one replace; --dry-run sends nothing', async () => {
    const { def, text } = lvsTable(8080);
    const before = ruleset(a.name);
    const dry = await apply(rtnl, { nftables: [def] }, { nft: h, dryRun: true });
    expect(dry.changes).toEqual(['replace nftables table inet lvs (1 chain(s), 1 set(s), 2 rule(s))']);
    expect(ruleset(a.name)).toEqual(before);

    const r = await apply(rtnl, { nftables: [def] }, { nft: h });
    expect(r.plan.ops).toHaveLength(1);
    expect(r.report!.applied).toEqual([0]);
    nftScript(ref.name, 'flush ruleset\n' + OTHER + text);
    expect(ruleset(a.name)).toEqual(ruleset(ref.name));
    expect((await apply(rtnl, { nftables: [def] }, { nft: h })).changes).toEqual([]);
  });

  it('validates the section before sending, naming the field', async () => {
    const before = ruleset(a.name);
    const bad = { nftables: [{ ...lvsTable(80).def, rules: [{ chain: 'pre', match: { protocol: 'tcp', destinationPort: 70000 } }] }] } as LvsState;
    await expect(apply(rtnl, bad, { nft: h })).rejects.toThrow(/^nftables\[0\]\.rules\[0\]\.match\.destinationPort /);
    await expect(apply(rtnl, { nftables: [{ family: 'inet', name: 'lvs', rules: [{ chain: 'nochain' }] }] }, { nft: h })).rejects.toThrow(/nftables\[0\]\.rules\[0\]\.chain must name a chain/);
    await expect(apply(rtnl, { nftables: [{ family: 'arp' as 'ip', name: 'x' }] }, { nft: h })).rejects.toThrow(/nftables\[0\]\.family/);
    const e = await apply(rtnl, { nftables: [lvsTable(80).def] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).field).toBe('options.nft');
    expect(ruleset(a.name)).toEqual(before);
  });

  it('a refused table rolls back the one applied before it', async () => {
    const before = ruleset(a.name);
    const fresh: NftTableDefinition = { family: 'ip', name: 'fresh', chains: [{ name: 'c' }] };
    // a jump to a chain that does not exist: the kernel refuses it (ENOENT)
    const broken: NftTableDefinition = { family: 'ip', name: 'broken', chains: [{ name: 'c' }], rules: [{ chain: 'c', verdict: { jump: 'nowhere' } }] };
    const e = await apply(rtnl, { nftables: [fresh, broken] }, { nft: h, rollback: true }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApplyError);
    const r = (e as ApplyError).result;
    expect(r.report!.items.map((i) => i.state)).toEqual(['applied', 'failed']);
    expect(r.report!.items[1]!.error?.code).toBe('ENOENT');
    expect((e as ApplyError).message).toContain('replace nftables table ip broken');
    expect(ruleset(a.name)).toEqual(before);
  });

  it('deletes a table only when the caller names it as managed', async () => {
    // nftables: [] alone reads no table, so it can delete none
    const none = await apply(rtnl, { nftables: [] }, { nft: h });
    expect(none.changes).toEqual([]);
    expect(ruleset(a.name).some((o) => JSON.stringify(o).includes('"lvs"'))).toBe(true);
    const r = await apply(rtnl, { nftables: [] }, { nft: h, nftTables: [LVS] });
    expect(r.changes).toEqual(['delete nftables table inet lvs']);
    nftScript(ref.name, 'flush ruleset\n' + OTHER);
    expect(ruleset(a.name)).toEqual(ruleset(ref.name));
  });

  it('lvskit apply FILE with an nftables section (and diff) on the built CLI', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvskit-applynft-'));
    try {
      const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, '--netns', a.name, ...args], { encoding: 'utf8', timeout: 30_000 });
      const { def, text } = lvsTable(80);
      const file = join(dir, 'state.json');
      writeFileSync(file, JSON.stringify({ format: 'lvskit-state', version: 1, nftables: [def] }));
      const dry = cli('apply', '--dry-run', file);
      expect(dry.status, dry.stderr).toBe(0);
      expect(dry.stdout).toContain('replace nftables table inet lvs');
      expect(ruleset(a.name).some((o) => JSON.stringify(o).includes('"lvs"'))).toBe(false);
      const r = cli('apply', file);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('replace nftables table inet lvs');
      nftScript(ref.name, 'flush ruleset\n' + OTHER + text);
      expect(ruleset(a.name)).toEqual(ruleset(ref.name));
      const d = cli('diff', file);
      expect(d.status, d.stdout + d.stderr).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
