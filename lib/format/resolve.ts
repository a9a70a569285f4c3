// Host and service names for the ipvsadm rules format, from /etc/hosts and /etc/services only.
// ipvsadm asks the C library (NSS: files, then DNS); lvskit never forks and does no DNS here, so a
// name only DNS knows is written numerically by `save` without -n and is an error when read.
import { readFileSync } from 'node:fs';
import { canonicalAddress } from '../rtnl/ip.js';
import type { Protocol } from '../ipvs/types.js';

export interface NameResolver {
  /** IPv4 address of a host name (gethostbyname), or undefined. */
  hostToAddress(name: string): string | undefined;
  /** Port of a service name for a protocol (getservbyname), or undefined. */
  serviceToPort(name: string, protocol: Protocol): number | undefined;
  /** Host name of an address (gethostbyaddr: the first name of the first matching line), or undefined. */
  addressToHost(address: string): string | undefined;
  /** Service name of a port for a protocol (getservbyport), or undefined. */
  portToService(port: number, protocol: Protocol): string | undefined;
}

interface HostLine {
  address: string;
  names: string[];
}
interface ServiceLine {
  name: string;
  aliases: string[];
  port: number;
  protocol: string;
}

function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim())
      .filter((l) => l !== '');
  } catch {
    return [];
  }
}

export interface FilesResolverOptions {
  hostsPath?: string;
  servicesPath?: string;
  /** A resolver that knows no names (for numeric output). */
  disabled?: boolean;
}

/** A resolver over /etc/hosts and /etc/services (read lazily, once per resolver). */
export function filesResolver(options: FilesResolverOptions = {}): NameResolver {
  if (options.disabled) return { hostToAddress: () => undefined, serviceToPort: () => undefined, addressToHost: () => undefined, portToService: () => undefined };
  let hosts: HostLine[] | undefined;
  let services: ServiceLine[] | undefined;
  const h = () =>
    (hosts ??= readLines(options.hostsPath ?? '/etc/hosts').flatMap((l) => {
      const [a, ...names] = l.split(/\s+/);
      const address = a ? canonicalAddress(a) : undefined;
      return address && names.length ? [{ address, names }] : [];
    }));
  const s = () =>
    (services ??= readLines(options.servicesPath ?? '/etc/services').flatMap((l) => {
      const [name, pp, ...aliases] = l.split(/\s+/);
      const m = pp ? /^(\d+)\/(\w+)$/.exec(pp) : null;
      return name && m ? [{ name, aliases, port: Number(m[1]), protocol: m[2]! }] : [];
    }));
  return {
    hostToAddress: (name) => h().find((x) => !x.address.includes(':') && x.names.includes(name))?.address,
    serviceToPort: (name, protocol) => s().find((x) => x.protocol === protocol && (x.name === name || x.aliases.includes(name)))?.port,
    addressToHost: (address) => {
      const a = canonicalAddress(address) ?? address;
      return h().find((x) => x.address === a)?.names[0];
    },
    portToService: (port, protocol) => s().find((x) => x.protocol === protocol && x.port === port)?.name,
  };
}
