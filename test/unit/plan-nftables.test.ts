// The planner's nftables section (pure, no kernel): a table equal in canonical form plans nothing
// whatever its spelling; a differing or partly unreadable one plans one replace; a table is
// deleted only when the current state holds it (the caller named it); the deletion guard counts
// tables; the ops sit after addresses/routes and before IPVS; simulatePlan follows them.
import { describe, expect, it } from 'vitest';
import { describeOp, planChanges, simulatePlan, PlanError } from '../../lib/apply/plan.js';
import type { LvsState } from '../../lib/format/state.js';
import type { NftTableDefinition } from '../../lib/nft/types.js';

const table = (dst: string, port: number): NftTableDefinition => ({
  family: 'inet',
  name: 'lvs',
  chains: [{ name: 'pre', hook: 'prerouting', priority: 'mangle' }],
  rules: [{ chain: 'pre', match: { destination: dst, protocol: 'tcp', destinationPort: port }, setMark: 1 }],
});

describe('planChanges: nftables', () => {
  it('an equal table in another spelling plans nothing; a changed rule one replace', () => {
    const cur: LvsState = { nftables: [{ ...table('192.0.2.1', 80), chains: [{ name: 'pre', hook: 'prerouting', type: 'filter', priority: -150, policy: 'accept' }] }] };
    expect(planChanges(cur, { nftables: [table('192.0.2.1/32', 80)] }).ops).toEqual([]);
    const p = planChanges(cur, { nftables: [table('192.0.2.1', 81)] });
    expect(p.ops).toEqual([{ op: 'replaceTable', table: table('192.0.2.1', 81) }]);
    expect(p.ops.map(describeOp)).toEqual(['replace nftables table inet lvs (1 chain(s), 0 set(s), 1 rule(s))']);
  });

  it('a current table with rules lvskit could not read is replaced', () => {
    const cur = { nftables: [Object.assign(table('192.0.2.1', 80), { skippedRules: 1 })] } as LvsState;
    expect(planChanges(cur, { nftables: [table('192.0.2.1', 80)] }).ops.map((o) => o.op)).toEqual(['replaceTable']);
  });

  it('deletes only what the current state holds; the guard counts tables', () => {
    expect(planChanges({}, { nftables: [] }).ops).toEqual([]);
    const one = planChanges({ nftables: [table('192.0.2.1', 80)] }, { nftables: [] });
    expect(one.ops.map(describeOp)).toEqual(['delete nftables table inet lvs']);
    const three: LvsState = { nftables: ['a', 'b', 'c'].map((name) => ({ family: 'ip', name })) };
    expect(() => planChanges(three, { nftables: [] })).toThrow(PlanError);
    expect(() => planChanges(three, { nftables: [] })).toThrow(/refusing to delete 3 of 3 nftables table\(s\)/);
    expect(planChanges(three, { nftables: [] }, { allowWipe: true }).ops).toHaveLength(3);
  });

  it('a bad desired rule is refused naming its field, with nothing current', () => {
    expect(() => planChanges({}, { nftables: [{ ...table('192.0.2.1', 80), rules: [{ chain: 'pre' }] }] })).toThrow(/^nftables\[0\]\.rules\[0\] matches everything and does nothing/);
    const bad: NftTableDefinition = { ...table('192.0.2.1', 80), rules: [{ chain: 'pre', verdict: 'accept' }, { chain: 'pre', match: { protocol: 'tcp', destinationPort: 70000 } }] };
    expect(() => planChanges({}, { nftables: [bad] })).toThrow(/^nftables\[0\]\.rules\[1\]\.match\.destinationPort must be/);
  });

  it('orders tables after addresses and routes and before IPVS; simulatePlan follows', () => {
    const want: LvsState = {
      addresses: [{ interface: 'lo', address: '192.0.2.1/32' }],
      nftables: [table('192.0.2.1', 80)],
      services: [{ key: { fwmark: 1 }, scheduler: 'rr' }],
    };
    const cur: LvsState = { addresses: [], nftables: [], services: [] };
    const p = planChanges(cur, want);
    expect(p.ops.map((o) => o.op)).toEqual(['addAddress', 'replaceTable', 'addService']);
    const after = simulatePlan(cur, p.ops);
    expect(after.nftables).toEqual([table('192.0.2.1', 80)]);
    expect(planChanges(after, want).ops).toEqual([]);
    expect(simulatePlan(after, [{ op: 'deleteTable', table: { family: 'inet', name: 'lvs' } }]).nftables).toEqual([]);
  });
});
