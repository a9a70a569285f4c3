#!/bin/bash
# One-time setup of the IPVS lab: a throwaway QEMU (TCG) guest booting Debian 12's stock kernel,
# for machines whose own kernel has no IPVS. See test/lab/README.md.
#
# usage: bash test/lab/setup.sh [--refresh] [--check] [--packages] [--print-packages]
#   --refresh   re-resolve the kernel package (newest Debian stable ABI) and rebuild everything
#   --check     only report whether the lab is ready (exit 0) or not (exit 1); changes nothing
#   --packages  only install the missing apt packages (the lab's and the test tools'), then stop
#   --print-packages  print the apt packages it installs, one line, and stop
# env: LAB_WORK  work dir (default <repo>/.lab, gitignored)
#
# Idempotent: every step is skipped when its artifact exists and was built from the same inputs
# (kernel package, build-initramfs.sh, guest-init.sh, extract-vmlinux.sh). Nothing is installed
# into /boot or /lib/modules: the kernel .deb is only unpacked under the work dir.
# Needs root for apt-get (only when a package is missing); outside access: apt only.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORK=${LAB_WORK:-$REPO/.lab}
REFRESH=0; CHECK=0; PKGS_ONLY=0; PRINT=0
for a in "$@"; do
  case $a in
    --refresh) REFRESH=1;;
    --check) CHECK=1;;
    --packages) PKGS_ONLY=1;;
    --print-packages) PRINT=1;;
    -h|--help) sed -n '2,15p' "$0"; exit 0;;
    *) echo "setup.sh: unknown argument $a" >&2; exit 2;;
  esac
done
OUT=$WORK/out
KDIR=$WORK/kernel
log() { echo "lab setup: $*" >&2; }
T0=$(date +%s.%N)

# qemu-system-x86: the emulator (TCG; a PVM /dev/kvm cannot run a stock kernel)
# busybox-static: the guest's /init userland; ipvsadm + iproute2: CLIs the tests use in the guest
# kmod: modprobe --show-depends / depmod on the unpacked kernel; cpio: initramfs; xz-utils: vmlinux
# plus the tools the tests run on the host and, through its 9p root, in the guest
# (test/lab/test-tools.txt: nft, tcpdump, tshark, capsh, setpriv, python3, openssl, sysctl...)
TEST_PKGS=$(sed 's/#.*//' "$HERE/test-tools.txt" | awk 'NF >= 2 {print $2}' | sort -u | xargs)
PKGS=$(echo qemu-system-x86 busybox-static ipvsadm iproute2 kmod cpio xz-utils $TEST_PKGS | tr ' ' '\n' | awk '!seen[$0]++' | xargs)
[ $PRINT = 0 ] || { echo "$PKGS"; exit 0; }
missing_pkgs() {
  local p; for p in $PKGS; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
  done
}
# what the artifacts were built from; any change rebuilds the initramfs (cheap, ~2 s)
inputs_sum() {
  { cat "$KDIR/.package" 2>/dev/null; cat "$HERE/build-initramfs.sh" "$HERE/guest-init.sh" "$HERE/extract-vmlinux.sh"; } \
    | sha256sum | cut -c1-16
}
ready() {
  [ -z "$(missing_pkgs)" ] && [ -s "$KDIR/.package" ] && [ -s "$OUT/vmlinux" ] && [ -s "$OUT/initramfs.cpio" ] \
    && [ -s "$OUT/kernel-release" ] && [ "$(cat "$OUT/.inputs" 2>/dev/null)" = "$(inputs_sum)" ]
}

if [ $CHECK = 1 ]; then
  M=$(missing_pkgs | xargs)
  [ -z "$M" ] || echo "missing packages: $M"
  if ready; then echo "lab ready: Debian kernel $(cat "$OUT/kernel-release") ($WORK)"; exit 0; fi
  echo "lab not set up (run: bash test/lab/setup.sh)"; exit 1
fi

mkdir -p "$WORK"
# Two setups at once (e.g. two test runs) would clobber each other's files.
exec 9> "$WORK/.setup.lock"
flock -w 900 9 || { log "another setup holds $WORK/.setup.lock"; exit 1; }

if [ $PKGS_ONLY = 0 ] && [ $REFRESH = 0 ] && ready; then
  log "already done: Debian kernel $(cat "$OUT/kernel-release") in $WORK"
  exit 0
fi

# 1. packages (apt-get update only when something must be installed or resolved)
APT_UPDATED=0
apt_update() {
  [ $APT_UPDATED = 1 ] && return 0
  [ "$(id -u)" = 0 ] || { log "need root to run apt-get"; exit 1; }
  log "apt-get update"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  APT_UPDATED=1
}
MISSING=$(missing_pkgs | xargs)
if [ -n "$MISSING" ]; then
  apt_update
  # tshark's wireshark-common asks whether non-root users may capture: answer no, unasked
  case " $MISSING " in *" tshark "*)
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections;;
  esac
  log "installing $MISSING"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $MISSING >/dev/null
  M=$(missing_pkgs | xargs)
  [ -z "$M" ] || { log "still missing after apt-get install: $M"; exit 1; }
fi
if [ $PKGS_ONLY = 1 ]; then log "packages: all installed ($PKGS)"; exit 0; fi

# 2. kernel: resolve the current ABI package behind Debian's linux-image-amd64 meta package
#    (bookworm: linux-image-6.1.0-NN-amd64) and download it. It is never installed: only unpacked,
#    into a temporary dir, while the initramfs is built. The .deb (~70 MB) is kept for rebuilds.
if [ $REFRESH = 1 ] || [ ! -s "$KDIR/.package" ] || [ ! -s "$KDIR/$(cat "$KDIR/.package" 2>/dev/null)" ]; then
  resolve() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}'; }
  KPKG=$(resolve || true)
  if [ -z "$KPKG" ] || [ $REFRESH = 1 ]; then apt_update; KPKG=$(resolve); fi
  [ -n "$KPKG" ] || { log "cannot resolve linux-image-amd64 (apt sources?)"; exit 1; }
  DL=$WORK/download; rm -rf "$DL"; mkdir -p "$DL"
  log "downloading $KPKG"
  # apt-get download writes into the cwd, as user _apt when it can: let _apt write there
  chmod 777 "$DL"
  if ! ( cd "$DL" && apt-get download -qq "$KPKG" >/dev/null 2>&1 ); then
    apt_update   # stale lists name a version the mirror no longer has
    ( cd "$DL" && apt-get download -qq "$KPKG" >/dev/null )
  fi
  DEB=$(ls "$DL"/*.deb)
  basename "$DEB" > "$DL/.package"
  chmod 755 "$DL"
  rm -rf "$KDIR" && mv "$DL" "$KDIR"
fi

# 3. initramfs (busybox + the kernel's IPVS/9p/virtio/... modules) and the uncompressed vmlinux,
#    built into out-<inputs>/; out is a symlink swapped atomically, so a VM starting meanwhile
#    (another test run) boots either the old set or the new one, never half of each
SUM=$(inputs_sum)
if [ "$(cat "$OUT/.inputs" 2>/dev/null)" != "$SUM" ] || [ ! -s "$OUT/initramfs.cpio" ] || [ ! -s "$OUT/vmlinux" ]; then
  UNPACKED=$WORK/unpacked NEW=$WORK/out-$SUM
  rm -rf "$UNPACKED" "$NEW"; mkdir -p "$UNPACKED"
  log "unpacking $(cat "$KDIR/.package")"
  dpkg-deb -x "$KDIR/$(cat "$KDIR/.package")" "$UNPACKED"
  KDIR="$UNPACKED" bash "$HERE/build-initramfs.sh" "$NEW"
  rm -rf "$UNPACKED"
  # PVH entry into the uncompressed ELF: saves ~2.5 s of XZ decompression per boot under TCG
  bash "$HERE/extract-vmlinux.sh" "$NEW/vmlinuz" "$NEW/vmlinux"
  rm -f "$NEW/vmlinuz"
  echo "$SUM" > "$NEW/.inputs"
  [ -L "$OUT" ] || rm -rf "$OUT"                 # an out/ directory from an older setup.sh
  ln -sfn "out-$SUM" "$OUT.new" && mv -T "$OUT.new" "$OUT"
  # older sets: a VM already running has its files open, so they can go
  for d in "$WORK"/out-*; do [ "$d" = "$NEW" ] || rm -rf "$d"; done
fi
ready || { log "setup finished but the lab is not complete (bug)"; exit 1; }
log "done in $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s: Debian kernel $(cat "$OUT/kernel-release"), $WORK/out/{vmlinux,initramfs.cpio}"
