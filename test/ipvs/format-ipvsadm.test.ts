// The ipvsadm rules format in a real kernel, against the real ipvsadm (reference only):
// a state that uses every option (test/fixtures/ipvsadm/full.commands) built by ipvsadm, saved by
// lvskit, must be byte for byte what `ipvsadm -Sn` and `ipvsadm -S` write; the real `ipvsadm -R`
// fed our text must rebuild the same state; our restore of ipvsadm's text too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { Ipvs, emitRules, stateServicesOf, parseRules, servicesFromRules } from '../../lib/index.js';
import { skipUnless, useNetns } from '../helpers/kernel.js';
import { commandLines } from '../helpers/ipvsadm-fixtures.js';

const skip = skipUnless('ipvs');
const ipvsadm = (ns: string, args: string[], input?: string) =>
  execFileSync('ip', ['netns', 'exec', ns, 'ipvsadm', ...args], { encoding: 'utf8', ...(input !== undefined ? { input } : {}) });

describe.skipIf(skip)('ipvsadm rules format against the real ipvsadm', () => {
  const ns = useNetns('lvs-fmt');
  let ipvs: Ipvs;
  beforeAll(() => {
    ipvs = Ipvs.open({ netns: ns.name });
    for (const args of commandLines('full.commands')) ipvsadm(ns.name, args);
  });
  afterAll(() => ipvs?.close());

  it('lvskit save is byte-identical to ipvsadm -Sn and -S on a state using every option', async () => {
    const state = stateServicesOf(await ipvs.listAll());
    expect(emitRules(state)).toBe(ipvsadm(ns.name, ['-Sn']));
    expect(emitRules(state, { numeric: false })).toBe(ipvsadm(ns.name, ['-S']));
  });

  it('the real ipvsadm -R fed our text rebuilds the same state (but thresholds, which -S drops)', async () => {
    const before = stateServicesOf(await ipvs.listAll());
    const text = emitRules(before);
    ipvsadm(ns.name, ['-C']);
    ipvsadm(ns.name, ['-R'], text);
    const after = stateServicesOf(await ipvs.listAll());
    const strip = (s: typeof before) => JSON.stringify(servicesFromRules(parseRules(emitRules(s))).map((x) => x.key).sort());
    expect(strip(after)).toBe(strip(before));
    expect(emitRules(after)).toBe(text);
  });

  it('our restore of ipvsadm -Sn text rebuilds the same state', async () => {
    const text = ipvsadm(ns.name, ['-Sn']);
    await ipvs.flush();
    const b = ipvs.batch();
    for (const c of parseRules(text)) {
      if (c.cmd === 'add-service') b.addService(c.service);
      else if (c.cmd === 'add-server') b.addDestination(c.key, c.destination);
    }
    const rep = await b.run({ rollback: true });
    expect(rep.ok).toBe(true);
    expect(ipvsadm(ns.name, ['-Sn'])).toBe(text);
  });
});
