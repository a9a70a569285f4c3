// The lossless JSON state: validation with paths, the published JSON Schema (one file, copied to
// docs/), and the round trip through text.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseStateJson, stringifyState, validateState, stateServicesOf, type LvsState } from '../../lib/format/index.js';
import type { Service } from '../../lib/ipvs/types.js';

const read = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');
const schema = JSON.parse(read('lib/format/schema.json'));

/** A small JSON Schema (2020-12 subset: the keywords schema.json uses) validator, for the tests only. */
function check(s: any, v: unknown, root = schema): boolean {
  if (s.$ref) return check(root.$defs[s.$ref.replace('#/$defs/', '')], v, root);
  if (s.const !== undefined && v !== s.const) return false;
  if (s.if && check(s.if, v, root) && !check(s.then, v, root)) return false;
  if (s.enum && !s.enum.includes(v)) return false;
  if (s.oneOf && s.oneOf.filter((x: any) => check(x, v, root)).length !== 1) return false;
  const isObject = typeof v === 'object' && v !== null && !Array.isArray(v);
  if (s.type === 'object' && !isObject) return false;
  if (isObject && (s.type === 'object' || s.properties || s.required)) {
    const o = v as Record<string, unknown>;
    for (const r of s.required ?? []) if (!(r in o)) return false;
    for (const [k, x] of Object.entries(o)) {
      if (s.properties?.[k]) {
        if (!check(s.properties[k], x, root)) return false;
      } else if (s.additionalProperties === false) return false;
    }
  }
  if (s.type === 'array') {
    if (!Array.isArray(v)) return false;
    if (s.minItems !== undefined && v.length < s.minItems) return false;
    if (s.maxItems !== undefined && v.length > s.maxItems) return false;
    if (s.items && !v.every((x) => check(s.items, x, root))) return false;
  }
  if (s.type === 'integer' && !(typeof v === 'number' && Number.isInteger(v))) return false;
  if (s.type === 'string' && typeof v !== 'string') return false;
  if (s.type === 'boolean' && typeof v !== 'boolean') return false;
  if (typeof v === 'number' && ((s.minimum !== undefined && v < s.minimum) || (s.maximum !== undefined && v > s.maximum))) return false;
  if (typeof v === 'string' && s.pattern && !new RegExp(s.pattern).test(v)) return false;
  return true;
}

const full: LvsState = {
  format: 'lvskit-state',
  version: 1,
  services: [
    {
      key: { protocol: 'tcp', address: '10.0.0.1', port: 80 },
      scheduler: 'mh',
      flags: { schedPort: true },
      persistence: { timeout: 300, netmask: '255.255.255.0' },
      destinations: [
        { address: '10.1.0.1', port: 80, forward: 'route', weight: 3, upperThreshold: 100, lowerThreshold: 10 },
        { address: '10.1.0.2', port: 80, forward: 'tunnel', tunnel: { type: 'gue', port: 6080, remoteChecksum: true } },
      ],
    },
    { key: { fwmark: 7, family: 'inet6' }, scheduler: 'sh', persistence: { timeout: 60, netmask: 64 }, persistenceEngine: 'sip', destinations: [{ address: '2001:db8::1', port: 0, forward: 'masq' }] },
  ],
  timeouts: { tcp: 900, tcpFin: 120, udp: 300 },
  syncDaemons: [{ state: 'master', interface: 'eth0', syncId: 5, group: '239.1.1.1', port: 8848, ttl: 2, maxLength: 1400 }],
  addresses: [{ interface: 'lo', address: '10.0.0.1/32' }],
  routes: [{ destination: '10.1.0.0/24', gateway: '192.0.2.1', table: 100 }, { destination: 'default', nexthops: [{ gateway: '192.0.2.1', weight: 2 }, { gateway: '192.0.2.2' }] }],
  nftables: [
    {
      family: 'inet',
      name: 'lvs',
      dormant: false,
      chains: [{ name: 'pre', hook: 'prerouting', type: 'filter', priority: 'mangle', policy: 'accept' }, { name: 'sub' }],
      sets: [{ name: 'vips', type: 'ipv4_addr', elements: ['192.0.2.10'] }, { name: 'ports', type: 'inet_service', elements: [80, 443] }],
      rules: [
        { chain: 'pre', match: { ipVersion: 4, destinationSet: 'vips', protocol: 'tcp', destinationPortSet: 'ports' }, counter: true, setMark: 1, verdict: { jump: 'sub' } },
        { chain: 'sub', verdict: 'return' },
      ],
    },
  ],
};

describe('state JSON', () => {
  it('docs/state.schema.json is lib/format/schema.json', () => {
    expect(read('docs/state.schema.json')).toBe(read('lib/format/schema.json'));
  });

  it('a state using every field validates, by code and by the schema, and round-trips through text', () => {
    expect(validateState(full)).toBe(full);
    expect(check(schema, full)).toBe(true);
    expect(parseStateJson(stringifyState(full))).toEqual(full);
  });

  const bad: [string, (s: any) => void, string][] = [
    ['weight', (s) => (s.services[0].destinations[0].weight = -1), 'services[0].destinations[0].weight must be an integer in 0..2147483647, got -1'],
    ['unknown field', (s) => (s.services[0].sched = 'rr'), 'services[0].sched is not a known field'],
    ['protocol', (s) => (s.services[0].key.protocol = 'icmp'), 'services[0].key.protocol must be one of tcp, udp, sctp'],
    ['family mismatch', (s) => (s.services[1].destinations[0].address = '10.0.0.9'), "services[1].destinations[0].forward must be 'tunnel'"],
    ['gue port', (s) => delete s.services[0].destinations[1].tunnel.port, 'services[0].destinations[1].tunnel.port must be an integer in 1..65535'],
    ['duplicate service', (s) => s.services.push(s.services[0]), 'services[2].key is listed twice'],
    ['timeouts', (s) => (s.timeouts.tcp = 0), 'timeouts.tcp must be an integer in 1..2678400'],
    ['daemon state', (s) => (s.syncDaemons[0].state = 'boss'), "syncDaemons[0].state must be 'master' or 'backup'"],
    ['address', (s) => (s.addresses[0].address = '10.0.0.300/32'), 'addresses[0].address must be ADDR/LEN'],
    ['route', (s) => (s.routes[0] = { destination: '10.9.0.0/16' }), 'routes[0] needs a gateway, an interface or nexthops'],
    ['ipv6 netmask', (s) => (s.services[1].persistence.netmask = 200), 'services[1].persistence.netmask must be an integer in 1..128'],
    ['version', (s) => (s.version = 2), 'version must be 1'],
    ['nftables family', (s) => (s.nftables[0].family = 'arp'), "nftables[0].family must be 'ip', 'ip6' or 'inet'"],
    ['nftables field', (s) => (s.nftables[0].chains[0].hooks = 'input'), 'nftables[0].chains[0].hooks is not a known field'],
    ['nftables set type', (s) => (s.nftables[0].sets[0].type = 'ether_addr'), 'nftables[0].sets[0].type must be one of ipv4_addr'],
    ['nftables rule chain', (s) => (s.nftables[0].rules[1].chain = 'post'), 'nftables[0].rules[1].chain must name a chain of this table (pre, sub)'],
  ];
  for (const [name, mutate, message] of bad) {
    it(`refuses a bad ${name}, naming the path (and the schema refuses it where it can say so)`, () => {
      const s = structuredClone(full);
      mutate(s);
      expect(() => validateState(s)).toThrow(message);
      if (!['family mismatch', 'duplicate service', 'route', 'address', 'nftables rule chain'].includes(name)) expect(check(schema, s)).toBe(false);
    });
  }

  it('JSON syntax errors say where', () => {
    expect(() => parseStateJson('{\n  "services": [\n    {,\n  ]\n}')).toThrow(/at line 3, column 6/);
  });

  it('state from a kernel listing drops counters, stats and defaults', () => {
    const svc: Service = {
      key: { protocol: 'tcp', address: '10.0.0.1', port: 80, family: 'inet' },
      family: 'inet',
      scheduler: 'wlc',
      flags: { persistent: false, hashed: true, onePacket: false, schedFallback: false, schedPort: false, sched3: false },
      destinations: [
        { address: '10.1.0.1', port: 80, family: 'inet', forward: 'tunnel', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip' }, activeConnections: 3, inactiveConnections: 1, persistentConnections: 0 },
      ],
    };
    expect(stateServicesOf([svc])).toEqual([
      { key: { protocol: 'tcp', address: '10.0.0.1', port: 80, family: 'inet' }, scheduler: 'wlc', destinations: [{ address: '10.1.0.1', port: 80, forward: 'tunnel', weight: 1, tunnel: { type: 'ipip' } }] },
    ]);
  });
});
