// The ipvsadm rules format in a real kernel, against the real ipvsadm (reference only):
// a state that uses every option (test/fixtures/ipvsadm/full.commands) built by ipvsadm, saved by
// lvskit, must be byte for byte what `ipvsadm -Sn` and `ipvsadm -S` write; the real `ipvsadm -R`
// fed our text must rebuild the same state; our restore of ipvsadm's text must build what
// `ipvsadm -R` builds.
//
// What "the same state" means here:
//  - services form a set: the kernel dumps them in hash-bucket order (hashed with the netns
//    pointer on 6.1, newest first within a bucket), so their order differs per namespace and after
//    a rebuild, and ipvsadm -S's sort (wrapping 32-bit differences, not transitive) passes part of
//    that order on to the text: services are compared by key, and byte-identical text only
//    between lvskit and ipvsadm reading the same namespace at the same moment;
//  - destinations are a list: the kernel's order (newest first) is what sh and mh build their
//    tables from. A restore adds them in the text's order, so the rebuilt list is that order
//    reversed, which is asserted (it is not the original order: -S sorts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { Ipvs, emitRules, stateServicesOf, parseRules, servicesFromRules, normalizeService, type StateService } from '../../lib/index.js';
import { skipUnless, useNetns } from '../helpers/kernel.js';
import { commandLines } from '../helpers/ipvsadm-fixtures.js';

const skip = skipUnless('ipvs');

/** `ipvsadm ARGS` in namespace `ns`, asynchronous (a blocking child starves vitest's RPC in the VM). */
function ipvsadm(ns: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn('ip', ['netns', 'exec', ns, 'ipvsadm', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    c.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`ipvsadm ${args.join(' ')}: exit ${code}: ${err}`))));
    c.stdin.end(input ?? '');
  });
}

const keyOf = (s: StateService) => JSON.stringify(normalizeService(s).key);
/** Services as a set (sorted by key, a total order), each with its destinations in list order. */
const asSet = (s: readonly StateService[]) => s.slice().sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
/** What the rules format carries (no thresholds, ...), destinations kept in the order given. */
const carried = (s: readonly StateService[]) => servicesFromRules(parseRules(emitRules(s, { nosort: true })));
/** Destinations as a set too (for comparing with a state whose list order a restore cannot keep). */
const destSets = (s: readonly StateService[]) =>
  asSet(s).map((x) => ({ ...x, destinations: (x.destinations ?? []).slice().sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)) }));
/** The kernel's state after the text's commands ran in order: each new destination goes first. */
const restoredFrom = (text: string) => servicesFromRules(parseRules(text)).map((s) => ({ ...s, destinations: (s.destinations ?? []).slice().reverse() }));

describe.skipIf(skip)('ipvsadm rules format against the real ipvsadm', () => {
  const ns = useNetns('lvs-fmt');
  const ref = useNetns('lvs-fmt-ref');
  let ipvs: Ipvs;
  let ipvsRef: Ipvs;
  const state = async (i: Ipvs) => stateServicesOf(await i.listAll());
  /** lvskit's save and ipvsadm -Sn of one namespace at one moment: byte for byte the same. */
  const sameSaveAsIpvsadm = async (i: Ipvs, name: string) => {
    const s = await state(i);
    expect(emitRules(s)).toBe(await ipvsadm(name, ['-Sn']));
    return s;
  };

  beforeAll(async () => {
    ipvs = Ipvs.open({ netns: ns.name });
    ipvsRef = Ipvs.open({ netns: ref.name });
    for (const args of commandLines('full.commands')) await ipvsadm(ns.name, args);
  });
  afterAll(() => {
    ipvs?.close();
    ipvsRef?.close();
  });

  it('lvskit save is byte-identical to ipvsadm -Sn and -S on a state using every option', async () => {
    const s = await state(ipvs);
    expect(s.length).toBe(commandLines('full.commands').filter((a) => a[0] === '-A').length);
    expect(emitRules(s)).toBe(await ipvsadm(ns.name, ['-Sn']));
    expect(emitRules(s, { numeric: false })).toBe(await ipvsadm(ns.name, ['-S']));
  });

  it('the real ipvsadm -R fed our text rebuilds the same state (but thresholds, which -S drops)', async () => {
    const before = await state(ipvs);
    const text = emitRules(before);
    await ipvsadm(ns.name, ['-C']);
    expect(await state(ipvs)).toEqual([]);
    await ipvsadm(ns.name, ['-R'], text);
    const after = await sameSaveAsIpvsadm(ipvs, ns.name);
    // the same services and destinations with every attribute the format carries
    expect(destSets(carried(after))).toEqual(destSets(carried(before)));
    // each service's destination list in the order the restore made: the text's, reversed
    expect(asSet(carried(after))).toEqual(asSet(restoredFrom(text)));
  });

  it('our restore of ipvsadm -Sn text rebuilds what ipvsadm -R does', async () => {
    const text = await ipvsadm(ns.name, ['-Sn']);
    // reference: the real ipvsadm -R in a namespace of its own
    await ipvsadm(ref.name, ['-R'], text);
    // ours, here, from scratch
    await ipvs.flush();
    expect(await state(ipvs)).toEqual([]);
    const b = ipvs.batch();
    for (const c of parseRules(text)) {
      if (c.cmd === 'add-service') b.addService(c.service);
      else if (c.cmd === 'add-server') b.addDestination(c.key, c.destination);
    }
    const rep = await b.run({ rollback: true });
    expect(rep.ok).toBe(true);
    const ours = await sameSaveAsIpvsadm(ipvs, ns.name);
    const theirs = await sameSaveAsIpvsadm(ipvsRef, ref.name);
    // every attribute, destinations in kernel list order; services as a set
    expect(asSet(ours)).toEqual(asSet(theirs));
    expect(asSet(carried(ours))).toEqual(asSet(restoredFrom(text)));
  });
});
