// `lvskit apply --dry-run` says which share of the IPVS flows a change would move (issue 15 part 4):
// the handle answers from a state in memory here; the prediction itself is proven against the
// kernel in test/ipvs/cluster-consistency.test.ts and test/netns/cluster-ecmp.test.ts.
import { describe, expect, it } from 'vitest';
import { runCli } from '../../lib/cli/run.js';
import { predictDisruption } from '../../lib/cluster/disruption.js';
import type { LvsState, StateService } from '../../lib/format/state.js';
import { fakeCli } from '../helpers/cli.js';

const mh = (dests: string[]): StateService => ({
  key: { protocol: 'tcp', address: '192.0.2.10', port: 80 },
  scheduler: 'mh',
  destinations: dests.map((a) => ({ address: a, port: 80, weight: 1, forward: 'route' })),
});
const three = ['10.0.0.11', '10.0.0.12', '10.0.0.13'];

describe('apply --dry-run predicts the disruption of the IPVS side', () => {
  it('removing one of three mh servers: prints the share that moves, as predictDisruption says; nothing sent', async () => {
    const current: LvsState = { services: [mh(three)] };
    const desired = { services: [mh(three.slice(0, 2))] };
    const x = fakeCli(JSON.stringify(desired), current);
    expect(await runCli(['apply', '-', '--dry-run'], x.io)).toBe(0);
    expect(x.sent).toEqual([]);
    expect(x.out).toMatch(/^would delete destination .*10\.0\.0\.13/m);
    expect(x.out).toContain('predicted disruption (IPVS, new and re-scheduled connections):');
    const p = predictDisruption(current, desired);
    const s = p.services[0]!;
    expect(s.status).toBe('predicted');
    expect(s.movedSlots! / s.totalSlots!).toBeGreaterThan(0.3); // the removed server's slots, at least
    expect(x.out).toContain(`  ${s.note}\n`);
    // the lines docs/cli.md quotes
    expect(x.out).toContain('  tcp 192.0.2.10:80 mh: 1373 of 4093 slots change real server (33.55%)\n');
    expect(x.out).toContain('    moves: 10.0.0.13:80 -> 10.0.0.11:80 685, 10.0.0.13:80 -> 10.0.0.12:80 679, 10.0.0.11:80 -> 10.0.0.12:80 6, 10.0.0.12:80 -> 10.0.0.11:80 3\n');

    const j = fakeCli(JSON.stringify(desired), current);
    expect(await runCli(['apply', '-', '--dry-run', '--json'], j.io)).toBe(0);
    expect(JSON.parse(j.out).disruption).toEqual(JSON.parse(JSON.stringify(p)));
  });

  it('a round-robin service is reported as not predictable, and no change prints no prediction', async () => {
    const rr = { services: [{ ...mh(three), scheduler: 'rr' as const }] };
    const x = fakeCli(JSON.stringify({ services: [{ ...mh(three.slice(0, 2)), scheduler: 'rr' as const }] }), rr);
    expect(await runCli(['apply', '-', '--dry-run'], x.io)).toBe(0);
    expect(x.out).toMatch(/not predictable/i);
    const same = fakeCli(JSON.stringify(rr), rr);
    expect(await runCli(['apply', '-', '--dry-run'], same.io)).toBe(0);
    expect(same.out).toBe('no differences\n');
  });
});
