#!/bin/bash
# Build the lab guest's initramfs: static busybox, /init (guest-init.sh) and the modules of the
# unpacked Debian kernel that the guest needs (IPVS + schedulers + persistence engines, 9p/virtio
# to reach the host's root, veth/dummy/tunnels for the tests).
# usage: KDIR=<unpacked linux-image .deb> build-initramfs.sh OUT_DIR
#   writes OUT_DIR/{initramfs.cpio,vmlinuz,kernel-release,modules.txt}
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:?usage: KDIR=dir build-initramfs.sh OUT_DIR}
KDIR=$(cd "${KDIR:?KDIR: root of an unpacked linux-image .deb}" && pwd); KDIR=${KDIR%/}
K=$(ls "$KDIR/lib/modules" | sort -V | tail -1)
[ -n "$K" ] && [ -f "$KDIR/boot/vmlinuz-$K" ] || { echo "no kernel found under $KDIR" >&2; exit 1; }
MODPROBE=$(command -v modprobe || echo /sbin/modprobe)
DEPMOD=$(command -v depmod || echo /sbin/depmod)
BUSYBOX=$(command -v busybox || echo /bin/busybox)
# busybox must be static: it runs in the initramfs before the host's root (and libc) is mounted
if ldd "$BUSYBOX" >/dev/null 2>&1; then echo "$BUSYBOX is dynamic: install busybox-static" >&2; exit 1; fi

# an unpacked .deb has no modules.dep (the package's postinst runs depmod): make it
[ -s "$KDIR/lib/modules/$K/modules.dep" ] || "$DEPMOD" -b "$KDIR" "$K"

mkdir -p "$OUT"
ROOT=$OUT/root
rm -rf "$ROOT"; mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,lib/modules/"$K",proc,sys,dev,tmp,run,etc,root,newroot,var}
ln -s ../run "$ROOT/var/run"
cp "$KDIR/boot/vmlinuz-$K" "$OUT/vmlinuz"
echo "$K" > "$OUT/kernel-release"
cp "$BUSYBOX" "$ROOT/bin/busybox"
echo 'root:x:0:0:root:/root:/bin/sh' > "$ROOT/etc/passwd"; echo 'root:x:0:' > "$ROOT/etc/group"

# Modules loaded at boot, in this order after their dependency closure. busybox modprobe ignores
# softdeps (libcrc32c needs crc32c), so kmod computes the insmod order here, on the host.
# A module this kernel does not have (ip_vs_twos is 6.7+) is reported and skipped.
PRELOAD="nf_conntrack
  ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_sh ip_vs_mh ip_vs_dh ip_vs_sed ip_vs_nq ip_vs_fo
  ip_vs_ovf ip_vs_lblc ip_vs_lblcr ip_vs_twos ip_vs_ftp nf_conntrack_sip ip_vs_pe_sip
  9p 9pnet_virtio virtio_pci overlay veth dummy fou"
# Modules copied but not loaded: the kernel autoloads them on first use (ip link add ... type ipip,
# ...) through busybox modprobe, or a test runs modprobe. Not preloaded on purpose: ipip, ip_gre,
# ip6_tunnel, sit (and fou6, which needs ip6_tunnel) add fallback devices (tunl0, gre0, ip6tnl0...)
# to every new netns. fou is preloaded: 6.1's has no genetlink alias, so `ip fou add` cannot
# autoload it (GUE real servers need it), and it adds no device.
EXTRA="ipip fou fou6 ip_gre gre ip6_tunnel ip6_gre sit tunnel4 tunnel6 ip_tunnel udp_tunnel ip6_udp_tunnel
  bridge macvlan ipvlan vrf vxlan geneve tun 8021q bonding nlmon
  nf_tables nft_chain_nat nft_ct nft_nat nft_masq xt_ipvs xt_MASQUERADE xt_conntrack xt_mark nf_conntrack_netlink
  iptable_nat iptable_filter iptable_mangle ip6table_filter ip6table_nat sch_netem sch_fq_codel"
closure() { # MOD... -> .ko paths (relative to KDIR, leading /) in insmod order, each once
  local m
  for m in "$@"; do
    if ! "$MODPROBE" -d "$KDIR" -S "$K" --show-depends "$m" > "$OUT/.dep" 2>/dev/null; then
      echo "  module $m: not in kernel $K, skipped" >&2; continue
    fi
    awk '$1=="insmod"{print $2}' "$OUT/.dep"   # "builtin X" lines: nothing to load
  done | sed "s|^$KDIR||; s|^/*|/|" | awk '!seen[$0]++'
  rm -f "$OUT/.dep"
}
# shellcheck disable=SC2086
closure $PRELOAD > "$ROOT/etc/lab-modules"
# shellcheck disable=SC2086
closure $EXTRA > "$OUT/.extra"
sort -u "$ROOT/etc/lab-modules" "$OUT/.extra" | while read -r ko; do
  mkdir -p "$ROOT$(dirname "$ko")"; cp "$KDIR$ko" "$ROOT$ko"
done
rm -f "$OUT/.extra"
for f in modules.builtin modules.builtin.modinfo modules.order; do
  cp "$KDIR/lib/modules/$K/$f" "$ROOT/lib/modules/$K/" 2>/dev/null || true
done
"$DEPMOD" -b "$ROOT" "$K"
( cd "$ROOT/lib/modules/$K" && find . -name '*.ko*' | sed 's|.*/||; s|\.ko.*||' | sort ) > "$OUT/modules.txt"

cp "$HERE/guest-init.sh" "$ROOT/init"; chmod 755 "$ROOT/init"
( cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet --reproducible ) > "$OUT/initramfs.cpio"
echo "lab: kernel $K, initramfs $(du -h "$OUT/initramfs.cpio" | cut -f1): $(wc -l < "$OUT/modules.txt") modules," \
  "$(wc -l < "$ROOT/etc/lab-modules") loaded at boot" >&2
rm -rf "$ROOT"
