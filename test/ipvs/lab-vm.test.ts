// Proves the ipvs tier really runs on a kernel with IPVS: in the lab VM (LVSKIT_IN_LAB_VM=1, set by
// test/lab/vm.sh) that kernel is not the host's, /proc/net/ip_vs exists, and the real ipvsadm can
// program a virtual service inside a network namespace this file makes (and deletes). The
// namespace the process started in is only read, and only inside the VM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { release } from 'node:os';

const inVm = process.env.LVSKIT_IN_LAB_VM === '1';
const hasIpvs = existsSync('/proc/net/ip_vs');
const hasTools = ['ipvsadm', 'ip'].every((t) => {
  try {
    execFileSync(t, ['-h'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ENOENT';
  }
});
if (!inVm && !hasIpvs) console.warn('\n*** SKIPPING lab-vm tests: no /proc/net/ip_vs on this kernel and not in the lab VM ***\n');
if (!hasTools) console.warn('\n*** lab-vm: ipvsadm or ip is not installed: the ipvsadm checks are skipped ***\n');

const run = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' });

describe.skipIf(!inVm && !hasIpvs)('lab VM', () => {
  it('has IPVS: /proc/net/ip_vs exists', () => {
    expect(existsSync('/proc/net/ip_vs')).toBe(true);
    expect(run('cat', '/proc/net/ip_vs')).toMatch(/^IP Virtual Server version \d+\.\d+\.\d+/);
  });

  it.runIf(inVm)('runs a kernel other than the host\'s', () => {
    const host = process.env.LVSKIT_HOST_KERNEL;
    expect(host, 'LVSKIT_HOST_KERNEL (the host\'s uname -r) must be passed into the VM').toBeTruthy();
    const guest = run('uname', '-r').trim();
    expect(guest).toBe(release());
    expect(guest).not.toBe(host);
  });

  describe.runIf(hasTools)('ipvsadm in a namespace of its own', () => {
    const ns = `lvskit-lab-${process.pid}`;
    beforeAll(() => {
      run('ip', 'netns', 'add', ns);
      run('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    });
    afterAll(() => {
      if (existsSync(`/run/netns/${ns}`)) run('ip', 'netns', 'del', ns);
    });
    const ipvsadm = (...args: string[]): string => run('ip', 'netns', 'exec', ns, 'ipvsadm', ...args);

    it('adds a round-robin TCP service and lists it', () => {
      ipvsadm('-A', '-t', '10.1.2.3:80', '-s', 'rr');
      ipvsadm('-a', '-t', '10.1.2.3:80', '-r', '10.9.9.9:8080', '-m', '-w', '3');
      const out = ipvsadm('-Ln');
      expect(out).toMatch(/^TCP\s+10\.1\.2\.3:80 rr\s*$/m);
      expect(out).toMatch(/^\s+-> 10\.9\.9\.9:8080\s+Masq\s+3\s+0\s+0\s*$/m);
    });

    it.runIf(inVm)('keeps the service inside that namespace', () => {
      expect(run('ipvsadm', '-Ln')).not.toContain('10.1.2.3:80');
    });

    it.runIf(inVm)('has the SIP persistence engine (ip_vs_pe_sip)', () => {
      ipvsadm('-A', '-u', '10.1.2.3:5060', '-s', 'rr', '-p', '60', '--pe', 'sip');
      expect(ipvsadm('-Ln')).toMatch(/^UDP\s+10\.1\.2\.3:5060 rr persistent 60 pe sip\s*$/m);
    });

    it.runIf(inVm)('has fou (GUE real servers): ip fou add works without a modprobe', () => {
      run('ip', 'netns', 'exec', ns, 'ip', 'fou', 'add', 'port', '5555', 'ipproto', '4');
      expect(run('ip', 'netns', 'exec', ns, 'ip', 'fou', 'show')).toContain('port 5555 ipproto 4');
    });

    it('deletes what it added', () => {
      ipvsadm('-C');
      expect(ipvsadm('-Ln')).not.toContain('10.1.2.3');
    });
  });
});
