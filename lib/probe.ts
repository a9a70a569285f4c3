// What the running kernel and this process can do, found by asking the kernel (never by uid).
import { native } from './native.js';
import { NetlinkSocket, type NetnsSpec } from './socket.js';

export interface Capability {
  ok: boolean;
  /** Why not (or what was found). */
  why: string;
}

export interface KernelProbe {
  /** Can this process create network namespaces (unshare(CLONE_NEWNET))? */
  netns: Capability;
  /** Can a NETLINK_ROUTE socket be opened? */
  route: Capability;
  /** Is the generic netlink family IPVS there (resolving it autoloads ip_vs on 5.16+)? */
  ipvs: Capability & { familyId?: number; version?: number; maxAttr?: number };
}

export function probeKernel(options: { netns?: NetnsSpec } = {}): KernelProbe {
  const netns = native.probeNetns();
  let route: Capability;
  try {
    NetlinkSocket.open('route', options).close();
    route = { ok: true, why: 'NETLINK_ROUTE socket opened' };
  } catch (e) {
    route = { ok: false, why: (e as Error).message };
  }
  let ipvs: KernelProbe['ipvs'];
  try {
    const s = NetlinkSocket.open('generic', options);
    try {
      const f = s.resolveFamily('IPVS');
      ipvs = { ok: true, why: `generic netlink family IPVS id ${f.id} version ${f.version}`, familyId: f.id, version: f.version, maxAttr: f.maxAttr };
    } finally {
      s.close();
    }
  } catch (e) {
    ipvs = { ok: false, why: (e as Error).message };
  }
  return { netns, route, ipvs };
}
