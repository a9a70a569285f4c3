#!/bin/busybox sh
# PID 1 of the lab guest (the initramfs' /init). Built by build-initramfs.sh, started by vm.sh.
#  - insmods IPVS (+ schedulers, persistence engines), 9p/virtio, veth, dummy (/etc/lab-modules,
#    in the dependency order kmod computed on the host)
#  - mounts 9p tag "hostroot" (the host's /, read-only) under an overlay with a tmpfs upper layer
#    at /newroot and chroots into it: the guest runs the host's node, node_modules, built addon,
#    ipvsadm and ip; writes outside the read-write shares vanish at poweroff
#  - mounts 9p tags rw0..rwN (read-write) at the host paths listed in lab.rw=path0,path1,...
#  - mounts 9p tag "ctl" at /run/lab: runs cmd.sh from there, writes its exit code to rc
#  - the command's stdout goes to ttyS1 and its stderr to ttyS2 (pipes in between, so the command
#    does not see a tty); the console (ttyS0: kernel + these LAB: lines) goes to vm.sh's log file
# kernel command line: lab.rw=<paths>  lab.rwcache=loose|none|mmap  lab.shell=1 (interactive)
#                      lab.err=ttyS1 (merge stderr into stdout)
/bin/busybox --install -s /bin
export PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
# the kernel's module autoload runs /sbin/modprobe by default; busybox's is /bin/modprobe, and the
# helper runs in this initramfs root (not in the chroot): the modules must be here
echo /bin/modprobe > /proc/sys/kernel/modprobe
up() { cut -d' ' -f1 /proc/uptime; }
say() { echo "LAB: $* uptime=$(up)" > /dev/console; }
# QEMU runs with -no-reboot: a reset ends it (works with or without ACPI, unlike poweroff)
off() { sync; reboot -f; poweroff -f; }
die() { say "FATAL: $*"; off; }
hostname lvskit-lab
say "init started"
RW=; SHELL1=0; RWCACHE=loose; ERRTTY=ttyS2
for a in $(cat /proc/cmdline); do
  case $a in
    lab.rw=*) RW=${a#*=};; lab.shell=*) SHELL1=${a#*=};; lab.rwcache=*) RWCACHE=${a#*=};;
    lab.err=*) ERRTTY=${a#*=};;
  esac
done
n=0; while read -r ko; do
  insmod "$ko" 2>/dev/console || say "insmod $ko failed"; n=$((n + 1))
done < /etc/lab-modules
say "$n modules loaded"
[ -e /proc/net/ip_vs ] || say "WARNING: no /proc/net/ip_vs after loading ip_vs"

O=trans=virtio,version=9p2000.L,msize=512000
R=/newroot
mkdir -p /hostro /ovl
mount -t 9p -o $O,cache=loose,ro hostroot /hostro || die "mount of the host root (9p) failed"
mount -t tmpfs -o mode=755 ovl /ovl; mkdir -p /ovl/upper /ovl/work
mount -t overlay overlay -o lowerdir=/hostro,upperdir=/ovl/upper,workdir=/ovl/work $R \
  || { say "overlay failed, using the read-only 9p root"; mount --bind /hostro $R; }
mount -t proc proc $R/proc; mount -t sysfs sys $R/sys; mount -t devtmpfs dev $R/dev
mkdir -p $R/dev/pts $R/dev/shm; mount -t devpts devpts $R/dev/pts; mount -t tmpfs shm $R/dev/shm
mount -t tmpfs -o mode=1777 tmp $R/tmp; mount -t tmpfs -o mode=755 run $R/run
mount -t tmpfs -o mode=700 roothome $R/root
mkdir -p $R/lib/modules; mount --bind /lib/modules $R/lib/modules   # the guest kernel's modules
i=0
for p in $(echo "$RW" | tr ',' ' '); do
  mkdir -p "$R$p" 2>/dev/null
  mount -t 9p -o $O,cache=$RWCACHE rw$i "$R$p" || say "mount of rw$i at $p failed"
  i=$((i + 1))
done
mkdir -p $R/run/lab $R/run/netns
ip link set lo up
mount -t 9p -o $O,cache=none ctl $R/run/lab || die "mount of ctl failed"
if [ "$SHELL1" = 1 ]; then
  # interactive: bash in the host's root with the command's environment and directory (cmd.sh)
  say "shell (exit to stop the VM; the initramfs is /, the host's root /newroot)"
  setsid cttyhack chroot $R /bin/bash --rcfile /run/lab/cmd.sh -i || setsid cttyhack sh
  off
fi
say "ready"

# stdout/stderr: through FIFOs and cat to the serial lines, so the command writes to pipes (no tty
# line discipline, no isatty surprises); raw mode = no \n -> \r\n translation
stty -F /dev/ttyS1 raw -echo 2>/dev/null
[ "$ERRTTY" = ttyS1 ] || stty -F /dev/$ERRTTY raw -echo 2>/dev/null
mkfifo /run/out /run/err
cat /run/out > /dev/ttyS1 & P1=$!
cat /run/err > /dev/$ERRTTY & P2=$!
chroot $R /bin/sh /run/lab/cmd.sh < /dev/null > /run/out 2> /run/err
rc=$?
say "command exited rc=$rc"
# let the cats drain; a background process the command left behind may hold the pipe: cap it
n=0; while [ $n -lt 50 ] && { kill -0 $P1 || kill -0 $P2; } 2>/dev/null; do sleep 0.1; n=$((n + 1)); done
echo $rc > $R/run/lab/rc
sync
say "LAB_EXIT=$rc"
off
