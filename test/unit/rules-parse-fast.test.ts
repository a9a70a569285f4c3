// The rules parser's fast paths (issue 17: parsing was half of `lvskit -R`'s time in the VM
// profile): a plain dotted quad is returned as written without splitting, and a host with fewer
// than two colons is not tried as IPv6. Both must give exactly what the general path gives.
import { describe, expect, it } from 'vitest';
import { inetAton, parseRules } from '../../lib/format/ipvsadm.js';

let x = 2463534242;
const rnd = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), x >>> 0);

describe('inetAton fast path', () => {
  it('a plain quad reads as the same quad written in hex (the general path)', () => {
    for (let k = 0; k < 20_000; k++) {
      const b = [rnd() & 255, rnd() & 255, rnd() & 255, rnd() & 255];
      expect(inetAton(b.join('.'))).toBe(inetAton(b.map((v) => `0x${v.toString(16)}`).join('.')));
      expect(inetAton(b.join('.'))).toBe(b.join('.'));
    }
  });

  it('what is not a plain quad still goes the general way', () => {
    expect(inetAton('010.1.2.3')).toBe('8.1.2.3'); // a leading zero is octal
    expect(inetAton('0.0.0.0')).toBe('0.0.0.0');
    expect(inetAton('1.2.3.256')).toBeUndefined();
    expect(inetAton('1.2.3')).toBe('1.2.0.3');
    expect(inetAton('1.2.3.4.')).toBeUndefined();
    expect(inetAton('.1.2.3')).toBeUndefined();
    expect(inetAton('1..2.3')).toBeUndefined();
    expect(inetAton('1.2.3.4 ')).toBeUndefined();
    expect(inetAton('')).toBeUndefined();
  });

  it('rules with IPv4 and IPv6 services and real servers parse as before', () => {
    const cmds = parseRules('-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 192.168.1.2:8080 -m\n-A -t [2001:db8::1]:443\n-a -t [2001:db8::1]:443 -r [2001:db8::2]:443\n-A -u 0x0a000002:53\n');
    expect(cmds.map((c) => ('key' in c ? c.key : 'service' in c ? (c as { service: { key: unknown } }).service.key : undefined))).toMatchObject([
      { protocol: 'tcp', address: '10.0.0.1', port: 80 },
      { protocol: 'tcp', address: '10.0.0.1', port: 80 },
      { protocol: 'tcp', address: '2001:db8::1', port: 443 },
      { protocol: 'tcp', address: '2001:db8::1', port: 443 },
      { protocol: 'udp', address: '10.0.0.2', port: 53 },
    ]);
  });
});
