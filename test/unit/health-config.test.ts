// Health-monitor configuration and check specs are refused before anything runs, each error
// naming the field and the value; and the event fan-out's own rules (order, bound, end). No
// kernel: a monitor whose config is refused never touches its handle, so a stand-in object with
// the handle's shape serves (the kernel behaviour is proven in test/ipvs/health-monitor.test.ts).
import { describe, expect, it } from 'vitest';
import { monitorHealth, validateCheck, type HealthCheck, type HealthMonitorConfig } from '../../lib/health/index.js';
import { EventHub } from '../../lib/health/events.js';
import { VipAnnouncer } from '../../lib/cluster/announce.js';
import type { Ipvs } from '../../lib/ipvs/index.js';
import type { Rtnl } from '../../lib/rtnl/index.js';
import { ValidationError } from '../../lib/errors.js';

const ipvs = { listAll: () => Promise.resolve([]), netns: 'current' } as unknown as Ipvs;
const svc = { protocol: 'tcp', address: '192.0.2.10', port: 80 } as const;
const cfg = (over: Partial<HealthMonitorConfig> = {}, dest: Record<string, unknown> = {}): HealthMonitorConfig => ({
  services: [{ service: svc, destinations: [{ address: '10.0.0.11', port: 80, ...dest }] }],
  ...over,
});

function refuses(c: HealthMonitorConfig, field: RegExp): void {
  let err: unknown;
  try {
    monitorHealth(ipvs, c);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ValidationError);
  expect((err as ValidationError).message).toMatch(field);
}

describe('health monitor config', () => {
  it('names the field and value of a bad config', () => {
    expect(() => monitorHealth({} as Ipvs, cfg())).toThrow(/ipvs/);
    refuses({ services: [] }, /config\.services/);
    refuses(cfg({}, { address: 'rs1.example' }), /config\.services\[0\]\.destinations\[0\]\.address.*rs1\.example/);
    refuses(cfg({}, { port: 70000 }), /destinations\[0\]\.port/);
    refuses(cfg({}, { weight: 0 }), /destinations\[0\]\.weight.*above 0/);
    refuses(cfg({}, { rise: 0 }), /destinations\[0\]\.rise/);
    refuses(cfg({ fall: 1.5 }), /config\.fall/);
    refuses(cfg({ intervalMs: 5 }), /config\.intervalMs/);
    refuses(cfg({}, { check: { type: 'http', expectStatus: 99 } }), /destinations\[0\]\.check\.expectStatus/);
    refuses(cfg({ check: { type: 'smtp' } as unknown as HealthCheck }), /config\.check\.type/);
    refuses(cfg({ onFall: 'remove' as 'delete' }), /config\.onFall/);
    refuses(cfg({ deleteAfterMs: -1 }), /config\.deleteAfterMs/);
    refuses({ services: [{ service: svc, destinations: [] }, { service: { ...svc }, destinations: [] }] }, /config\.services\[1\]\.service.*listed twice/);
    refuses({ services: [{ service: svc, destinations: [{ address: '10.0.0.11', port: 80 }, { address: '10.0.0.11', port: 80 }] }] }, /destinations\[1\]\.address.*listed twice/);
    refuses({ services: [{ service: { fwmark: 1 }, destinations: [{ address: '10.0.0.11', port: 0 }] }] }, /destinations\[0\]\.check\.port/);
    refuses({ services: [{ service: { fwmark: 1 }, announce: { rtnl: {} as Rtnl }, destinations: [] }] }, /announce\.vip/);
  });

  it('a service-level setting is named at the service', () => {
    refuses({ services: [{ service: svc, timeoutMs: 0, destinations: [{ address: '10.0.0.11', port: 80 }] }] }, /config\.services\[0\]\.timeoutMs/);
  });
});

describe('check specs', () => {
  it('accepts each kind and refuses bad fields by name', () => {
    for (const c of [
      { type: 'tcp' },
      { type: 'http', path: '/health', expectStatus: [200, 204], bodyMatch: /ok/i },
      { type: 'https', insecure: true, servername: 'www.example' },
      { type: 'udp', payload: new Uint8Array([1, 2]), expect: 'x' },
      { type: 'module', module: '/opt/check.mjs' },
      { type: 'function', fn: () => true },
    ] as HealthCheck[])
      expect(validateCheck(c)).toBe(c);
    expect(() => validateCheck({ type: 'http', path: 'health' })).toThrow(/check\.path/);
    expect(() => validateCheck({ type: 'udp' } as unknown as HealthCheck)).toThrow(/check\.payload/);
    expect(() => validateCheck({ type: 'module', module: 'relative.mjs' })).toThrow(/check\.module/);
    expect(() => validateCheck({ type: 'function' } as unknown as HealthCheck)).toThrow(/check\.fn/);
    expect(() => validateCheck({ type: 'tcp', address: 'host.example' })).toThrow(/check\.address/);
    expect(() => validateCheck({ type: 'https', headers: { a: 1 } } as unknown as HealthCheck)).toThrow(/check\.headers\.a/);
  });
});

describe('VipAnnouncer options', () => {
  it('canonical VIP and prefix; bad fields named', () => {
    const rtnl = { addresses: {}, routes: {} } as unknown as Rtnl;
    expect(new VipAnnouncer({ vip: '2001:DB8::0:1', rtnl }).prefix).toBe('2001:db8::1/128');
    expect(new VipAnnouncer({ vip: '192.0.2.10', rtnl, method: 'route' }).method).toBe('route');
    expect(() => new VipAnnouncer({ vip: '192.0.2.10', rtnl, link: '' })).toThrow(/link/);
  });
});

describe('event fan-out', () => {
  it('every subscriber gets every later event in order; past the bound the oldest are dropped and counted; end() ends all', async () => {
    const hub = new EventHub<number>(3);
    const a = hub.subscribe();
    hub.publish(1);
    const b = hub.subscribe();
    for (let i = 2; i <= 6; i++) hub.publish(i);
    const got = async (s: AsyncIterator<number>, n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await s.next()).value as number);
      return out;
    };
    expect(await got(a, 3)).toEqual([4, 5, 6]);
    expect(a.dropped).toBe(3);
    expect(await got(b, 3)).toEqual([4, 5, 6]);
    expect(b.dropped).toBe(2);
    const waiting = a.next();
    hub.publish(7);
    expect(await waiting).toEqual({ value: 7, done: false });
    const pending = b.next();
    hub.end();
    expect(await pending).toEqual({ value: 7, done: false });
    expect(await b.next()).toEqual({ value: undefined, done: true });
    expect(await hub.subscribe().next()).toEqual({ value: undefined, done: true });
  });
});
