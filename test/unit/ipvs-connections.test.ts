// /proc/net/ip_vs_conn parsing (lib/ipvs/connections.ts) and the `lvskit -Lc` lines
// (lib/cli/list.ts) on text in the kernel's format (ip_vs_conn_seq_show: "%-3s %08X %04X %08X %04X
// %s %04X %-11s %7u%s", IPv6 as %pI6). The live comparison with ipvsadm is test/ipvs/ipvs-connections.test.ts.
import { describe, expect, it } from 'vitest';
import { parseConnections, ValidationError, type IpvsConnection } from '../../lib/index.js';
import { connectionsTitle, formatConnection } from '../../lib/cli/list.js';
import { filesResolver, type NameResolver } from '../../lib/format/index.js';

const HEADER = 'Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n';
const TABLE =
  HEADER +
  'TCP C0A81402 D431 C0A81401 0050 0A14000C 1F90 ESTABLISHED     899\n' +
  'TCP C0A81402 0000 C0A81401 0050 0A14000C 1F90 NONE            598\n' +
  'UDP C0A81402 8A3C C0A81401 0035 0A14000B 0035 UDP             299\n' +
  'UDP fd00:0000:0000:0000:0000:0000:0000:0002 13C4 fd00:0000:0000:0000:0000:0000:0000:0001 13C4 fd01:0000:0000:0000:0000:0000:0000:0013 13C4 NONE            119 sip a84b4c76e66710@pc33.example.com\n' +
  'IP  0A000002 0000 00000001 0000 0A010001 0000 NONE           3599\n' +
  'TCP 0A000002 0400 0A000001 0050 2001:0db8:0000:0000:0000:0000:0000:0009 0050 SYN_RECV         59\n' +
  'IP_50 0A000002 0000 0A000001 0000 0A010001 0000 ERR!             5\n' +
  'SCTP 0A000002 9C40 0A000001 0B59 0A010001 0B59 ESTABLISHED  10800\n';

describe('parseConnections', () => {
  it('reads every kind of entry the kernel writes', () => {
    const cs = [...parseConnections(TABLE)];
    expect(cs).toHaveLength(8);
    expect(cs[0]).toEqual({
      protocol: 'tcp', protocolNumber: 6, family: 'inet',
      clientAddress: '192.168.20.2', clientPort: 0xd431, virtualAddress: '192.168.20.1', virtualPort: 80,
      destinationFamily: 'inet', destinationAddress: '10.20.0.12', destinationPort: 8080,
      state: 'ESTABLISHED', expires: 899,
    } satisfies IpvsConnection);
    expect(cs[1]).toMatchObject({ clientPort: 0, state: 'NONE', expires: 598 });
    expect(cs[3]).toEqual({
      protocol: 'udp', protocolNumber: 17, family: 'inet6',
      clientAddress: 'fd00::2', clientPort: 5060, virtualAddress: 'fd00::1', virtualPort: 5060,
      destinationFamily: 'inet6', destinationAddress: 'fd01::13', destinationPort: 5060,
      state: 'NONE', expires: 119, persistenceEngine: 'sip', persistenceData: 'a84b4c76e66710@pc33.example.com',
    } satisfies IpvsConnection);
    // a firewall-mark template: protocol IP (0), the mark in the virtual address
    expect(cs[4]).toMatchObject({ protocol: 'ip', protocolNumber: 0, virtualAddress: '0.0.0.1', expires: 3599 });
    // an IPv4 service tunnelling to an IPv6 destination
    expect(cs[5]).toMatchObject({ family: 'inet', destinationFamily: 'inet6', destinationAddress: '2001:db8::9', state: 'SYN_RECV' });
    expect(cs[6]).toMatchObject({ protocol: 'other', protocolNumber: 50, state: 'ERR!' });
    expect(cs[7]).toMatchObject({ protocol: 'sctp', protocolNumber: 132, virtualPort: 2905, expires: 10800 });
  });

  it('an empty table is no entries; the text is read lazily', () => {
    expect([...parseConnections(HEADER)]).toEqual([]);
    expect([...parseConnections(HEADER.trimEnd())]).toEqual([]);
    const it = parseConnections(TABLE + 'garbage\n');
    expect(it.next().value).toMatchObject({ state: 'ESTABLISHED' });
  });

  it('a line that is not an entry is named, with its number', () => {
    const bad = (text: string) => () => [...parseConnections(text)];
    expect(bad('TCP C0A81402 D431 C0A81401 0050 0A14000C 1F90 ESTABLISHED 899\n')).toThrow(/ip_vs_conn line 1 must be the header/);
    expect(bad(HEADER + 'TCP C0A81402 D431 C0A81401 0050 0A14000C 1F90 ESTABLISHED     899\nTCP C0A8140 D431 C0A81401 0050 0A14000C 1F90 ESTABLISHED 1\n')).toThrow(
      /ip_vs_conn line 3 is not a connection entry .*got "TCP C0A8140 D431/,
    );
    expect(bad(HEADER + 'TCP C0A81402 D431 C0A81401 0050 0A14000C 1F90 ESTABLISHED\n')).toThrow(ValidationError);
    expect(bad(HEADER + 'TCP C0A81402 D431 C0A81401 0050 0A14000C 1F90 ESTABLISHED -1\n')).toThrow(ValidationError);
    // client and virtual addresses of different families
    expect(bad(HEADER + 'TCP C0A81402 D431 fd00:0000:0000:0000:0000:0000:0000:0001 0050 0A14000C 1F90 ESTABLISHED 1\n')).toThrow(ValidationError);
    expect(bad(HEADER + 'XYZ C0A81402 D431 C0A81401 0050 0A14000C 1F90 ESTABLISHED 1\n')).toThrow(ValidationError);
    expect(() => [...parseConnections(42 as unknown as string)]).toThrow(/text must be the text of \/proc\/net\/ip_vs_conn/);
  });
});

describe('lvskit -Lc lines (ipvsadm 1.31 print_conn)', () => {
  const numeric = { numeric: true, persistentConn: false };
  const noNames = filesResolver({ disabled: true });
  const cs = [...parseConnections(TABLE)];

  it('-Lnc: "%-3s %-6s %-11s %-18s %-18s %s"', () => {
    expect(connectionsTitle(numeric)).toBe('IPVS connection entries\npro expire state       source             virtual            destination\n');
    expect(formatConnection(cs[0]!, numeric, noNames)).toBe('TCP 14:59  ESTABLISHED 192.168.20.2:54321 192.168.20.1:80    10.20.0.12:8080\n');
    expect(formatConnection(cs[1]!, numeric, noNames)).toBe('TCP 09:58  NONE        192.168.20.2:0     192.168.20.1:80    10.20.0.12:8080\n');
    expect(formatConnection(cs[3]!, numeric, noNames)).toBe('UDP 01:59  NONE        [fd00::2]:5060     [fd00::1]:5060     [fd01::13]:5060\n');
    expect(formatConnection(cs[4]!, numeric, noNames)).toBe('IP  59:59  NONE        10.0.0.2:0         0.0.0.1:0          10.1.0.1:0\n');
    // minutes past 99 widen the column, as %02d does
    expect(formatConnection(cs[7]!, numeric, noNames)).toBe('SCTP 180:00 ESTABLISHED 10.0.0.2:40000     10.0.0.1:2905      10.1.0.1:2905\n');
    expect(formatConnection(cs[6]!, numeric, noNames)).toBe('IP_50 00:05  ERR!        10.0.0.2:0         10.0.0.1:0         10.1.0.1:0\n');
  });

  it('--persistent-conn: the engine columns only for an entry with engine data', () => {
    const o = { numeric: true, persistentConn: true };
    expect(connectionsTitle(o)).toBe('IPVS connection entries\npro expire state       source             virtual            destination        pe name          pe_data\n');
    expect(formatConnection(cs[3]!, o, noNames)).toBe('UDP 01:59  NONE        [fd00::2]:5060     [fd00::1]:5060     [fd01::13]:5060  sip                a84b4c76e66710@pc33.example.com\n');
    expect(formatConnection(cs[0]!, o, noNames)).toBe(formatConnection(cs[0]!, numeric, noNames));
  });

  it('without -n: host and service names from the resolver', () => {
    const r: NameResolver = {
      hostToAddress: () => undefined,
      serviceToPort: () => undefined,
      addressToHost: (a) => ({ '192.168.20.1': 'vip', '10.20.0.12': 'rs1' })[a],
      portToService: (p, proto) => (proto === 'tcp' ? { 80: 'http', 8080: 'http-alt' }[p] : undefined),
    };
    expect(formatConnection(cs[0]!, { numeric: false, persistentConn: false }, r)).toBe('TCP 14:59  ESTABLISHED 192.168.20.2:54321 vip:http           rs1:http-alt\n');
  });
});
