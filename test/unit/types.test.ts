// Type tests of the public API as it ships: everything is imported from 'lvskit', which resolves
// (package self-reference, "exports") to dist/index.d.ts, the declarations tsc generates from lib/.
// `npm run typecheck` checks them; at run time expectTypeOf is a no-op, and the runtime checks at
// the bottom make sure the names documented in docs/api.md exist. The signatures asserted here are
// the ones README.md and docs/api.md show: a drift fails the typecheck.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as lvskit from 'lvskit';
import {
  BatchError,
  Ipvs,
  IpvsBatch,
  MultipathRoute,
  NetlinkError,
  NetlinkSocket,
  Rtnl,
  RtnlEventStream,
  SchedulerTable,
  ValidationError,
  apply,
  createNetns,
  deleteNetns,
  emitRules,
  listConnections,
  parseConnections,
  readConnectionTable,
  parseRules,
  probeKernel,
  readPcap,
  schedulerForService,
  servicesFromRules,
  type Address,
  type BatchReport,
  type Destination,
  type IpvsConnection,
  type KernelProbe,
  type Link,
  type LvsState,
  type Route,
  type RouteChoice,
  type RtnlEvent,
  type SchedulerDestination,
  type Service,
  type ServiceKey,
  type Stats,
} from 'lvskit';

const svc = { protocol: 'tcp', address: '192.0.2.10', port: 80 } as const;

// Never called: it only has to type-check.
async function readmeQuickStart(): Promise<void> {
  createNetns('lb');
  const net = Rtnl.open({ netns: 'lb' });
  await net.links.setUp('lo');
  await net.addresses.addVipOnLoopback('192.0.2.10');
  const ipvs = Ipvs.open({ netns: 'lb' });
  await ipvs.addService({ key: svc, scheduler: 'mh', flags: { schedPort: true } });
  await ipvs.addDestination(svc, { address: '10.0.0.11', port: 80, forward: 'route', weight: 100 });
  const report = await ipvs.batch()
    .editDestination(svc, { address: '10.0.0.12', port: 80 }, { weight: 50 })
    .deleteDestination(svc, { address: '10.0.0.13', port: 80 })
    .run({ rollback: true });
  expectTypeOf(report).toEqualTypeOf<BatchReport>();
  const [service] = await ipvs.listAll();
  if (service?.destinations) expectTypeOf(schedulerForService(service, service.destinations).pick('203.0.113.7', 40000)).toEqualTypeOf<SchedulerDestination | undefined>();
  ipvs.close();
  net.close();
  deleteNetns('lb');
}

// Never called: misuse the compiler must refuse.
async function misuse(ipvs: Ipvs, net: Rtnl): Promise<void> {
  // @ts-expect-error the weight goes in the changes (third argument), not in the destination's key
  await ipvs.editDestination(svc, { address: '10.0.0.12', port: 80, weight: 0 }, {});
  // @ts-expect-error no such scheduler
  await ipvs.addService({ key: svc, scheduler: 'roundrobin' });
  // @ts-expect-error no such forwarding method
  await ipvs.addDestination(svc, { address: '10.0.0.11', port: 80, forward: 'dr' });
  // @ts-expect-error a service key needs a protocol
  await ipvs.getService({ address: '192.0.2.10', port: 80 });
  // @ts-expect-error Ipvs has no public constructor: use Ipvs.open()
  new Ipvs();
  // @ts-expect-error the multipath seed is required (0 means random in the kernel)
  new MultipathRoute([1, 2], { policy: 3 });
  // @ts-expect-error sysctl values are strings, numbers or booleans
  await net.sysctl.set('net.ipv4.ip_forward', [1]);
}

describe('public types (dist/index.d.ts)', () => {
  it('kernel, namespaces, sockets', () => {
    expectTypeOf(probeKernel).returns.toEqualTypeOf<KernelProbe>();
    expectTypeOf<KernelProbe['ipvs']['ok']>().toEqualTypeOf<boolean>();
    expectTypeOf(createNetns).parameters.toEqualTypeOf<[string]>();
    expectTypeOf(createNetns).returns.toBeVoid();
    expectTypeOf(deleteNetns).parameters.toEqualTypeOf<[string]>();
    expectTypeOf(NetlinkSocket.open).parameter(0).toEqualTypeOf<'route' | 'generic' | 'netfilter'>();
    expectTypeOf<NetlinkSocket['readNamespaceFile']>().returns.toEqualTypeOf<string>();
  });

  it('errors', () => {
    expectTypeOf<NetlinkError['code']>().toEqualTypeOf<string>();
    expectTypeOf<NetlinkError['errno']>().toEqualTypeOf<number>();
    expectTypeOf<NetlinkError['kernelMessage']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<NetlinkError['batchIndex']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<ValidationError['field']>().toEqualTypeOf<string>();
    expectTypeOf<BatchError['report']>().toEqualTypeOf<BatchReport>();
    expectTypeOf<BatchError>().toMatchTypeOf<NetlinkError>();
  });

  it('Ipvs', () => {
    expectTypeOf(Ipvs.open).returns.toEqualTypeOf<Ipvs>();
    expectTypeOf<Ipvs['addService']>().returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf<Ipvs['editDestination']>().parameters.toMatchTypeOf<[ServiceKey, { address: string; port: number }, { weight?: number }]>();
    expectTypeOf<Ipvs['getService']>().returns.toEqualTypeOf<Promise<Service | undefined>>();
    expectTypeOf<Ipvs['listServices']>().returns.toEqualTypeOf<Promise<Service[]>>();
    expectTypeOf<Ipvs['listDestinations']>().returns.toEqualTypeOf<Promise<Destination[]>>();
    expectTypeOf<Ipvs['listAll']>().returns.toEqualTypeOf<Promise<Service[]>>();
    expectTypeOf<Ipvs['listConnections']>().returns.toEqualTypeOf<Promise<IpvsConnection[]>>();
    expectTypeOf(listConnections).returns.toEqualTypeOf<Promise<IpvsConnection[]>>();
    expectTypeOf(readConnectionTable).returns.toEqualTypeOf<string>();
    expectTypeOf(parseConnections).returns.toEqualTypeOf<Generator<IpvsConnection, void, undefined>>();
    expectTypeOf<Ipvs['batch']>().returns.toEqualTypeOf<IpvsBatch>();
    expectTypeOf<IpvsBatch['addDestination']>().returns.toEqualTypeOf<IpvsBatch>();
    expectTypeOf<IpvsBatch['run']>().returns.toEqualTypeOf<Promise<BatchReport>>();
    expectTypeOf<Stats['connections']>().toEqualTypeOf<bigint>();
    expectTypeOf<Destination['weight']>().toEqualTypeOf<number>();
  });

  it('Rtnl and its families', () => {
    expectTypeOf(Rtnl.open).returns.toEqualTypeOf<Rtnl>();
    expectTypeOf<Rtnl['links']['list']>().returns.toEqualTypeOf<Promise<Link[]>>();
    expectTypeOf<Rtnl['links']['createVeth']>().returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf<Rtnl['addresses']['list']>().returns.toEqualTypeOf<Promise<Address[]>>();
    expectTypeOf<Rtnl['addresses']['addVipOnLoopback']>().parameter(0).toEqualTypeOf<string>();
    expectTypeOf<Rtnl['routes']['list']>().returns.toEqualTypeOf<Promise<Route[]>>();
    expectTypeOf<Rtnl['routes']['query']>().returns.toEqualTypeOf<Promise<RouteChoice>>();
    expectTypeOf<Rtnl['sysctl']['get']>().returns.toEqualTypeOf<Promise<string>>();
    expectTypeOf<Rtnl['events']>().returns.toEqualTypeOf<RtnlEventStream>();
    expectTypeOf<RtnlEventStream>().toMatchTypeOf<AsyncIterable<RtnlEvent>>();
  });

  it('flow prediction', () => {
    expectTypeOf<MultipathRoute['predict']>().returns.toEqualTypeOf<number>();
    expectTypeOf<SchedulerTable['pick']>().returns.toEqualTypeOf<SchedulerDestination | undefined>();
    expectTypeOf(lvskit.multipathHash).returns.toEqualTypeOf<number>();
    expectTypeOf(lvskit.siphash24).returns.toEqualTypeOf<bigint>();
  });

  it('formats, apply, packets', () => {
    expectTypeOf(parseRules).parameter(0).toEqualTypeOf<string>();
    expectTypeOf(servicesFromRules).returns.toEqualTypeOf<NonNullable<LvsState['services']>>();
    expectTypeOf(emitRules).returns.toEqualTypeOf<string>();
    // apply(ipvs, desired, { rtnl? }) or apply(rtnl, desired) (addresses and routes only)
    expectTypeOf(apply).parameter(0).toEqualTypeOf<Ipvs | Rtnl>();
    expectTypeOf(apply).parameter(1).toEqualTypeOf<LvsState>();
    expectTypeOf(readPcap).parameter(0).toEqualTypeOf<Uint8Array>();
  });

  it('health checks and VIP announcement', () => {
    expectTypeOf(lvskit.monitorHealth).parameter(0).toEqualTypeOf<Ipvs>();
    expectTypeOf(lvskit.monitorHealth).returns.toEqualTypeOf<lvskit.HealthMonitor>();
    expectTypeOf<lvskit.HealthChecker['check']>().returns.toEqualTypeOf<Promise<lvskit.HealthCheckResult>>();
    expectTypeOf<ReturnType<lvskit.HealthMonitor['events']>>().toMatchTypeOf<AsyncIterable<lvskit.HealthEvent>>();
    expectTypeOf(lvskit.drainDirector).returns.toEqualTypeOf<Promise<lvskit.DirectorDrainReport>>();
    expectTypeOf<lvskit.VipAnnouncer['announce']>().returns.toEqualTypeOf<Promise<boolean>>();
  });

  it('docs/api.md mentions every function, class and constant the package exports', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'api.md'), 'utf8');
    const undocumented = Object.keys(lvskit).filter((n) => !new RegExp(`\\b${n}\\b`).test(doc));
    expect(undocumented).toEqual([]);
  });

  it('every name docs/api.md documents is exported at run time', () => {
    const documented = [
      'probeKernel', 'createNetns', 'deleteNetns', 'NetlinkSocket',
      'LvskitError', 'ValidationError', 'NetlinkError', 'BatchError', 'IpvsFeatureError', 'RulesParseError', 'IpvsadmArgsError', 'PlanError', 'ApplyError',
      'Ipvs', 'IpvsBatch', 'SCHEDULERS', 'listConnections', 'readConnectionTable', 'parseConnections',
      'Rtnl', 'Links', 'Addresses', 'Sysctl', 'RtnlEventStream', 'Routes', 'openRoutes', 'NextHops', 'Rules',
      'MultipathRoute', 'multipathHash', 'multipathHashV4', 'multipathHashV6', 'multipathUpperBounds', 'multipathSelect', 'resilientSelect', 'flowsFromObjects',
      'SchedulerTable', 'schedulerForService', 'NO_DESTINATION', 'ToeplitzHasher', 'rssQueue', 'MICROSOFT_RSS_KEY', 'MaglevTable',
      'siphash24', 'siphash13', 'sipKey', 'jhash', 'jhash2', 'jhash2Words', 'jhash3Words', 'hash32', 'addrKey',
      'ipv4ToNumber', 'numberToIpv4', 'ipv6ToWords', 'wordsToIpv6', 'addressFamily',
      'parsePackets', 'packPackets', 'PacketFlowBuffer', 'packetFlowObjects', 'readPcap', 'readPcapFile', 'multipathFlowsV4', 'multipathFlowsV6', 'PacketStatus', 'PACKET_STATUS_NAMES', 'FlowFlag', 'LinkType',
      'parseRules', 'servicesFromRules', 'emitRules', 'rulesLines', 'parseIpvsadmArgs', 'IPVSADM_OPTIONS',
      'validateState', 'parseStateJson', 'stringifyState', 'stateServicesOf', 'STATE_FORMAT', 'STATE_VERSION',
      'apply', 'readState', 'planChanges', 'simulatePlan', 'describeOp', 'compareCanonical',
      'LINK_FLAGS', 'ADDRESS_FLAGS', 'ROUTE_TYPES', 'RTNL_EVENT_TYPES', 'MULTIPATH_HASH_FIELDS', 'IPVS_SYSCTLS',
      'decodeRouteMessage', 'decodeNextHopMessage', 'decodeRuleMessage',
      'Nft', 'NftTransaction', 'compileRule', 'decompileRule', 'NFNL_SUBSYS_NFTABLES', 'Conntrack',
      'HealthChecker', 'HealthCheckerError', 'validateCheck', 'HealthMonitor', 'monitorHealth', 'VipAnnouncer', 'announceVip', 'withdrawVip', 'drainDirector',
    ];
    const missing = documented.filter((n) => !(n in lvskit));
    expect(missing).toEqual([]);
    // keep the never-called functions referenced (they exist for the compiler)
    expect(typeof readmeQuickStart).toBe('function');
    expect(typeof misuse).toBe('function');
  });
});
