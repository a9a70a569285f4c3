// `lvskit nft ...`: nf_tables tables owned by lvskit, as JSON definitions (no rule language).
// A verb of lib/cli/run.ts: (args, netns, io) -> exit code.
import { Nft } from '../nft/nft.js';
import type { NftFamily, NftTableDefinition } from '../nft/types.js';
import { BatchError } from '../batch.js';
import { LvskitError } from '../errors.js';
import { MAX_INPUT_BYTES, readBounded } from './input.js';
import type { CliIO } from './io.js';

export const NFT_HELP = `usage: lvskit [--netns NS] nft COMMAND
  nft list [tables|chains|rules|sets] [--family F] [--table T] [--chain C]
                                   JSON of what the kernel holds (rules in lvskit's typed form, with handles)
  nft get FAMILY TABLE             one table as a definition (JSON) that apply accepts
  nft apply FILE|-                 install each table definition of FILE (one object or an array),
                                   each replaced atomically (nft -f "table T; delete table T; table T {...}")
  nft delete table FAMILY TABLE    nft delete table FAMILY TABLE
  nft delete rule FAMILY TABLE CHAIN HANDLE
                                   nft delete rule FAMILY TABLE CHAIN handle HANDLE
A definition: { "family": "inet", "name": "lvs", "chains": [{ "name": "pre", "hook": "prerouting",
"priority": "mangle" }], "sets": [...], "rules": [{ "chain": "pre", "match": { "protocol": "tcp",
"destinationPort": 443 }, "setMark": 1 }] } (docs/netfilter.md).
`;

const FAMILIES = ['ip', 'ip6', 'inet'];

function family(v: string | undefined): NftFamily {
  if (v === undefined || !FAMILIES.includes(v)) throw new LvskitError(`family must be ip, ip6 or inet, got ${JSON.stringify(v)}`);
  return v as NftFamily;
}

function options(args: readonly string[]): { family?: NftFamily; table?: string; chain?: string } {
  const out: { family?: NftFamily; table?: string; chain?: string } = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = args[++i];
    if (a === '--family') out.family = family(v);
    else if (a === '--table' && v !== undefined) out.table = v;
    else if (a === '--chain' && v !== undefined) out.chain = v;
    else throw new LvskitError(`unknown or incomplete option ${JSON.stringify(a)}`);
  }
  return out;
}

/** `lvskit nft ...`: 0 on success, 1 when the kernel refused, 2 on a usage or validation error. */
export async function nftCommand(args: readonly string[], netns: string | undefined, io: CliIO): Promise<number> {
  const [cmd, ...rest] = args;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    io.stdout(NFT_HELP);
    return cmd === undefined ? 2 : 0;
  }
  let nft: Nft | undefined;
  const out = (v: unknown) => io.stdout(`${JSON.stringify(v, null, 2)}\n`);
  try {
    switch (cmd) {
      case 'list': {
        const what = rest[0] && !rest[0].startsWith('--') ? rest.shift()! : 'tables';
        const o = options(rest);
        nft = Nft.open({ netns });
        if (what === 'tables') out(await nft.listTables(o.family ? { family: o.family } : {}));
        else if (what === 'chains') out(await nft.listChains(o));
        else if (what === 'rules') out(await nft.listRules(o));
        else if (what === 'sets') out(await nft.listSets(o));
        else throw new LvskitError(`nft list takes tables, chains, rules or sets, got ${JSON.stringify(what)}`);
        return 0;
      }
      case 'get': {
        if (rest.length !== 2) throw new LvskitError('nft get needs FAMILY TABLE');
        nft = Nft.open({ netns });
        out(await nft.getTable({ family: family(rest[0]), name: rest[1]! }));
        return 0;
      }
      case 'apply': {
        if (rest.length !== 1) throw new LvskitError('nft apply needs one FILE (- for standard input)');
        const file = rest[0]!;
        const text = await readBounded(io.input(file), file === '-' ? 'stdin' : file, { maxLineBytes: MAX_INPUT_BYTES }); // JSON: one long line is fine
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch (e) {
          throw new LvskitError(`${file}: not JSON: ${(e as Error).message}`);
        }
        const defs = (Array.isArray(parsed) ? parsed : [parsed]) as NftTableDefinition[];
        nft = Nft.open({ netns });
        for (const d of defs) {
          const r = await nft.replaceTable(d);
          io.stderr(`lvskit nft: table ${d.family} ${d.name}: ${r.items.length} changes applied in one transaction\n`);
        }
        return 0;
      }
      case 'delete': {
        const [kind, ...ids] = rest;
        nft = Nft.open({ netns });
        if (kind === 'table' && ids.length === 2) await nft.deleteTable({ family: family(ids[0]), name: ids[1]! });
        else if (kind === 'rule' && ids.length === 4) {
          if (!/^\d+$/.test(ids[3]!)) throw new LvskitError(`handle must be a number, got ${JSON.stringify(ids[3])}`);
          await nft.deleteRule({ family: family(ids[0]), table: ids[1]!, chain: ids[2]!, handle: Number(ids[3]) });
        } else throw new LvskitError('nft delete takes: table FAMILY TABLE | rule FAMILY TABLE CHAIN HANDLE');
        return 0;
      }
      default:
        throw new LvskitError(`unknown nft command ${JSON.stringify(cmd)} (see lvskit nft --help)`);
    }
  } catch (e) {
    if (e instanceof BatchError) {
      for (const i of e.report.failed) io.stderr(`lvskit nft: item ${i}: ${e.report.items[i]!.error?.message}\n`);
      io.stderr(`lvskit nft: nothing was applied (${e.report.notSent.length} other changes rolled back with the transaction)\n`);
      return 1;
    }
    io.stderr(`lvskit nft: ${(e as Error).message}\n`);
    return e instanceof LvskitError && (e.name === 'LvskitError' || e.name === 'ValidationError') ? 2 : 1;
  } finally {
    nft?.close();
  }
}
