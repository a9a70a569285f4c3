import { describe, expect, it } from 'vitest';
import { explainMissingSysctl, sysctlPath } from '../../lib/rtnl/sysctl.js';
import { NetlinkError, ValidationError } from '../../lib/errors.js';

const enoent = (op: string) => new NetlinkError({ op, errno: 2, code: 'ENOENT' });

describe('sysctl keys', () => {
  it('maps dotted and slashed keys to /proc/sys paths', () => {
    expect(sysctlPath('net.ipv4.ip_forward')).toBe('/proc/sys/net/ipv4/ip_forward');
    expect(sysctlPath('net/ipv4/conf/eth0.100/rp_filter')).toBe('/proc/sys/net/ipv4/conf/eth0.100/rp_filter');
  });
  it.each(['', 'ip_forward', 'net..ipv4', 'net/../../etc/passwd', 'net.ipv4.ip forward', 42])('refuses %j', (k) => {
    expect(() => sysctlPath(k)).toThrow(ValidationError);
  });
});

describe('missing sysctls', () => {
  it('say which release added them', () => {
    const e = explainMissingSysctl('sysctl get', '/proc/sys/net/ipv4/fib_multipath_hash_seed', enoent('x')) as NetlinkError;
    expect(e.code).toBe('ENOENT');
    expect(e.message).toContain('this kernel has no net.ipv4.fib_multipath_hash_seed (added in 6.11)');
  });
  it('say IPVS tunables need ip_vs', () => {
    const e = explainMissingSysctl('sysctl get', '/proc/sys/net/ipv4/vs/conn_reuse_mode', enoent('x')) as NetlinkError;
    expect(e.message).toContain('net.ipv4.vs.conn_reuse_mode (added in 4.2); IPVS sysctls exist only once the ip_vs module is loaded');
  });
  it('name a missing link', () => {
    const e = explainMissingSysctl('sysctl get', '/proc/sys/net/ipv4/conf/eth9/rp_filter', enoent('x')) as NetlinkError;
    expect(e.message).toContain('no link eth9 in this namespace');
  });
  it('leave other errors and a vanished namespace alone', () => {
    const eacces = new NetlinkError({ op: 'x', errno: 13, code: 'EACCES' });
    expect(explainMissingSysctl('op', '/proc/sys/net/ipv4/ip_forward', eacces)).toBe(eacces);
    const gone = new NetlinkError({ op: 'x', errno: 2, code: 'ENOENT' }, 'x failed: namespace lab was deleted or replaced after this handle was opened');
    expect(explainMissingSysctl('op', '/proc/sys/net/ipv4/ip_forward', gone)).toBe(gone);
  });
});
