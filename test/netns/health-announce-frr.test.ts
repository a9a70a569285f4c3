// VIP announcement through the kernel, followed by a real routing daemon: a router namespace and a
// director namespace each run FRR (zebra + ospfd + bgpd, Debian's frr); lvskit adds or removes the
// VIP in the director (VipAnnouncer, over rtnetlink, no fork) and the router's kernel routing
// table, read with lvskit's Rtnl in the router's namespace, gains or loses the VIP route. Waits are
// bounded polls (generous); the times they took are printed, not asserted. The daemons are killed
// and the namespaces deleted on exit, also on failure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ip, skipUnless, useNetns } from '../helpers/kernel.js';
import { frrMissing, removeFrrRoot, startFrr, type FrrInstance } from '../helpers/frr.js';
import { skipWithoutTools } from '../helpers/tools.js';
import { Rtnl } from '../../lib/rtnl/index.js';
import type { Route } from '../../lib/rtnl/route-types.js';
import { VipAnnouncer, announceVip, withdrawVip } from '../../lib/cluster/announce.js';
import { ValidationError } from '../../lib/errors.js';

// Outside CI a missing FRR skips loudly; under CI=true it fails (test/helpers/tools.ts).
const noFrr = skipWithoutTools('VIP announcement with FRR', ['vtysh'], frrMissing);

const VIP_OSPF = '198.51.100.10'; // method 'address', OSPF `network VIP/32 area 0`
const VIP_KERNEL = '198.51.100.20'; // method 'route', OSPF `redistribute kernel route-map VIPS`
const VIP_BGP = '203.0.113.10'; // method 'address', BGP `network VIP/32`
const VIP_BGP_CONNECTED = '203.0.113.130'; // method 'address', BGP `redistribute connected route-map BGPLO`
const VIP_BGP_KERNEL = '203.0.113.20'; // method 'route', BGP `redistribute kernel route-map BGPKERNEL`
const BOUND_MS = 45_000;

const ROUTER_OSPF = `
interface r1
 ip ospf network point-to-point
 ip ospf hello-interval 1
 ip ospf dead-interval 4
router ospf
 ospf router-id 10.31.0.1
 maximum-paths 8
 timers lsa min-arrival 0
 timers throttle spf 0 50 1000
 network 10.31.0.0/30 area 0
`;

const ROUTER_BGP = `
router bgp 65000
 bgp router-id 10.31.0.1
 no bgp ebgp-requires-policy
 bgp bestpath as-path multipath-relax
 neighbor 10.31.0.2 remote-as 65001
 neighbor 10.31.0.2 timers 1 3
 neighbor 10.31.0.2 timers connect 1
 address-family ipv4 unicast
  maximum-paths 8
 exit-address-family
`;

const DIRECTOR_OSPF = `
ip prefix-list VIPS seq 5 permit 198.51.100.0/24 ge 32
route-map VIPS permit 10
 match ip address prefix-list VIPS
interface d1
 ip ospf network point-to-point
 ip ospf hello-interval 1
 ip ospf dead-interval 4
router ospf
 ospf router-id 10.31.0.2
 timers throttle lsa all 0
 timers throttle spf 0 50 1000
 network 10.31.0.0/30 area 0
 network ${VIP_OSPF}/32 area 0
 redistribute kernel route-map VIPS
`;

const DIRECTOR_BGP = `
ip prefix-list BGPLO seq 5 permit 203.0.113.128/25 ge 32
route-map BGPLO permit 10
 match ip address prefix-list BGPLO
ip prefix-list BGPKERNEL seq 5 permit 203.0.113.0/25 ge 32
route-map BGPKERNEL permit 10
 match ip address prefix-list BGPKERNEL
router bgp 65001
 bgp router-id 10.31.0.2
 no bgp ebgp-requires-policy
 neighbor 10.31.0.1 remote-as 65000
 neighbor 10.31.0.1 timers 1 3
 neighbor 10.31.0.1 timers connect 1
 address-family ipv4 unicast
  network ${VIP_BGP}/32
  redistribute connected route-map BGPLO
  redistribute kernel route-map BGPKERNEL
 exit-address-family
`;

describe.skipIf(skipUnless('netns') || noFrr)('VIP announcement followed by FRR (host kernel, own namespaces)', () => {
  const router = useNetns('lvskit-frr-r');
  const director = useNetns('lvskit-frr-d');
  let frrRoot = '';
  const frr: FrrInstance[] = [];
  let rR: Rtnl;
  let rD: Rtnl;

  const stopAll = () => {
    for (const f of frr.splice(0)) f.stop();
    if (frrRoot) removeFrrRoot(frrRoot);
    frrRoot = '';
  };
  // A worker that dies before afterAll must not leave daemons behind (useNetns deletes the namespaces).
  process.once('exit', stopAll);

  /** Polls the router's main table until `pred` holds for the VIP's route; returns it and the time it took. */
  const until = async (vip: string, pred: (r: Route | undefined) => boolean, what: string) => {
    const t0 = performance.now();
    for (;;) {
      const r = (await rR.routes.list({ family: 4 })).find((x) => x.dst === `${vip}/32`);
      if (pred(r)) return { route: r, ms: performance.now() - t0 };
      if (performance.now() - t0 > BOUND_MS)
        throw new Error(`router: ${what} not seen within ${BOUND_MS} ms; router's route: ${JSON.stringify(r)}; director FRR:\n${frr[1]?.vtysh('show ip route')}\n${frr[1]?.vtysh('show ip ospf database')}\n${frr[1]?.vtysh('show route-map')}\n${frr[1]?.log().slice(-1500)}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  };

  beforeAll(async () => {
    ip(router.name, 'link', 'add', 'r1', 'type', 'veth', 'peer', 'name', 'd1', 'netns', director.name);
    ip(router.name, 'addr', 'add', '10.31.0.1/30', 'dev', 'r1');
    ip(director.name, 'addr', 'add', '10.31.0.2/30', 'dev', 'd1');
    ip(router.name, 'link', 'set', 'r1', 'up');
    ip(director.name, 'link', 'set', 'd1', 'up');
    frrRoot = mkdtempSync(join(tmpdir(), 'lvskit-frr-'));
    frr.push(await startFrr(router.name, frrRoot, `lvr${process.pid}`, { ospfd: ROUTER_OSPF, bgpd: ROUTER_BGP }));
    frr.push(await startFrr(director.name, frrRoot, `lvd${process.pid}`, { ospfd: DIRECTOR_OSPF, bgpd: DIRECTOR_BGP }));
    rR = Rtnl.open({ netns: router.name });
    rD = Rtnl.open({ netns: director.name });
  });

  afterAll(() => {
    rR?.close();
    rD?.close();
    stopAll();
  });

  it("method 'address' over OSPF: the router learns the VIP from the director's lo and loses it on withdraw", async () => {
    const a = new VipAnnouncer({ vip: VIP_OSPF, rtnl: rD });
    expect(await a.isAnnounced()).toBe(false);
    expect(await a.announce()).toBe(true);
    expect(await a.announce()).toBe(false); // idempotent
    expect(await a.isAnnounced()).toBe(true);
    expect((await rD.addresses.list({ link: 'lo', family: 4 })).map((x) => `${x.address}/${x.prefixLength}`)).toContain(`${VIP_OSPF}/32`);
    const learned = await until(VIP_OSPF, (r) => r?.protocol === 'ospf', 'an OSPF route to the VIP');
    expect(learned.route).toMatchObject({ gateway: '10.31.0.2', protocol: 'ospf' });
    const t0 = performance.now();
    expect(await a.withdraw()).toBe(true);
    expect(await a.withdraw()).toBe(false);
    const lost = await until(VIP_OSPF, (r) => r === undefined, 'the VIP route gone');
    console.log(`[announce] OSPF, address on lo: router learned the VIP after ${learned.ms.toFixed(0)} ms (the adjacency may still have been forming), lost it ${(lost.ms + 0).toFixed(0)} ms after the withdraw (${(performance.now() - t0).toFixed(0)} ms incl. the call) [host kernel, netns]`);
  });

  it("method 'route' over OSPF (redistribute kernel): announced and withdrawn by a route; the VIP stays local on the director until released", async () => {
    const a = new VipAnnouncer({ vip: VIP_KERNEL, rtnl: rD, method: 'route' });
    expect(await a.announce()).toBe(true);
    expect(await a.isLocal()).toBe(true);
    // No interface address: zebra would prefer a connected route to the kernel route and redistribute nothing.
    expect((await rD.addresses.list({ family: 4 })).map((x) => x.address)).not.toContain(VIP_KERNEL);
    const learned = await until(VIP_KERNEL, (r) => r?.protocol === 'ospf', 'an OSPF (external) route to the VIP');
    expect(learned.route).toMatchObject({ gateway: '10.31.0.2' });
    expect(await a.withdraw()).toBe(true);
    const lost = await until(VIP_KERNEL, (r) => r === undefined, 'the VIP route gone');
    expect(await a.isLocal()).toBe(true); // still accepted locally: a drain keeps serving what arrives
    expect(await a.withdraw({ keepLocal: false })).toBe(true);
    expect(await a.isLocal()).toBe(false);
    console.log(`[announce] OSPF, kernel route: learned after ${learned.ms.toFixed(0)} ms, lost ${lost.ms.toFixed(0)} ms after the withdraw [host kernel, netns]`);
  });

  it("BGP (network VIP/32): the router learns the VIP over eBGP and loses it on withdraw", async () => {
    expect(await announceVip(rD, VIP_BGP)).toBe(true);
    const learned = await until(VIP_BGP, (r) => r?.protocol === 'bgp', 'a BGP route to the VIP');
    expect(learned.route).toMatchObject({ gateway: '10.31.0.2', protocol: 'bgp' });
    expect(await withdrawVip(rD, VIP_BGP)).toBe(true);
    const lost = await until(VIP_BGP, (r) => r === undefined, 'the VIP route gone');
    console.log(`[announce] BGP, address on lo: learned after ${learned.ms.toFixed(0)} ms (the session may still have been starting), lost ${lost.ms.toFixed(0)} ms after the withdraw [host kernel, netns]`);
  });

  it("BGP with redistribution: method 'address' (redistribute connected) and method 'route' (redistribute kernel)", async () => {
    const lo = new VipAnnouncer({ vip: VIP_BGP_CONNECTED, rtnl: rD });
    const kernel = new VipAnnouncer({ vip: VIP_BGP_KERNEL, rtnl: rD, method: 'route' });
    expect(await lo.announce()).toBe(true);
    expect(await kernel.announce()).toBe(true);
    await until(VIP_BGP_CONNECTED, (r) => r?.protocol === 'bgp', 'a BGP route to the connected VIP');
    await until(VIP_BGP_KERNEL, (r) => r?.protocol === 'bgp', 'a BGP route to the kernel-route VIP');
    expect(await lo.withdraw()).toBe(true);
    expect(await kernel.withdraw({ keepLocal: false })).toBe(true);
    await until(VIP_BGP_CONNECTED, (r) => r === undefined, 'the connected VIP gone');
    await until(VIP_BGP_KERNEL, (r) => r === undefined, 'the kernel-route VIP gone');
  });

  it('bad input names the field', () => {
    expect(() => new VipAnnouncer({ vip: 'vip.example', rtnl: rD })).toThrow(ValidationError);
    expect(() => new VipAnnouncer({ vip: 'vip.example', rtnl: rD })).toThrow(/vip/);
    expect(() => new VipAnnouncer({ vip: VIP_OSPF, rtnl: {} as Rtnl })).toThrow(/rtnl/);
    expect(() => new VipAnnouncer({ vip: VIP_OSPF, rtnl: rD, method: 'bgp' as 'route' })).toThrow(/method/);
    expect(() => new VipAnnouncer({ vip: VIP_OSPF, rtnl: rD, table: 100 })).toThrow(/method.*'route'/);
  });
});

describe.skipIf(skipUnless('netns'))('IPv6 VIPs (host kernel, own namespace; no routing daemon)', () => {
  const ns = useNetns('lvskit-vip6');
  let rtnl: Rtnl;
  beforeAll(() => {
    rtnl = Rtnl.open({ netns: ns.name });
  });
  afterAll(() => rtnl?.close());

  it("method 'address' puts VIP/128 on lo; method 'route' makes it local by a local route and announces it by a main-table route", async () => {
    const a = new VipAnnouncer({ vip: '2001:db8:0:0::10', rtnl });
    expect(a.vip).toBe('2001:db8::10');
    expect(a.prefix).toBe('2001:db8::10/128');
    expect(await a.announce()).toBe(true);
    expect((await rtnl.addresses.list({ link: 'lo', family: 6 })).map((x) => `${x.address}/${x.prefixLength}`)).toContain('2001:db8::10/128');
    expect(await a.isLocal()).toBe(true);
    expect(await a.withdraw()).toBe(true);
    expect(await a.isAnnounced()).toBe(false);

    const r = new VipAnnouncer({ vip: '2001:db8::20', rtnl, method: 'route' });
    expect(await r.announce()).toBe(true);
    expect(await r.isAnnounced()).toBe(true);
    expect(await r.isLocal()).toBe(true);
    const main = (await rtnl.routes.list({ family: 6 })).find((x) => x.dst === '2001:db8::20/128');
    expect(main).toMatchObject({ protocol: 'static', type: 'unicast' });
    expect(await r.withdraw()).toBe(true);
    expect(await r.isAnnounced()).toBe(false);
    expect(await r.isLocal()).toBe(true);
    expect(await r.withdraw({ keepLocal: false })).toBe(true);
    expect(await r.isLocal()).toBe(false);
  });
});
