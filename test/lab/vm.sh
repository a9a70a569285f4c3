#!/bin/bash
# Run one command inside the lab VM: QEMU (TCG) booting Debian's stock kernel with IPVS loaded.
# The guest chroots into the host's / (read-only 9p + a tmpfs overlay), so it runs the host's
# node, node_modules and built addon; the checkout (and each --rw DIR) is shared read-write at the
# same path. The command runs as root in the current directory; its exit code comes back.
# Only the command's own stdout/stderr are shown; the guest console (kernel, init) goes to a log
# under .lab/logs/ (.lab/guest.log = the latest), whose tail is printed when something fails.
#
# usage: bash test/lab/vm.sh [options] -- CMD [ARGS...]
#   --mem MiB         guest memory (default 2048)
#   --smp N           guest CPUs (default: nproc)
#   --timeout SEC     kill the VM after SEC seconds (default 3000) -> exit 124
#   --env NAME=VALUE  export in the guest (repeatable)
#   --rw DIR          also share DIR read-write at the same path (repeatable; the checkout always is)
#   --status FILE     write a JSON status (booted, rc, boot and wall times, log path) to FILE
#   --shell           interactive shell on the guest console instead of a command
# exit: the command's exit code; 124 timeout; 125 the VM did not boot / QEMU failed / setup failed;
#       2 usage. The lab is set up (test/lab/setup.sh) on first use and when its scripts changed.
# env: LAB_WORK (default <repo>/.lab), LAB_CPU (default max), LAB_KARGS (extra kernel args),
#      LAB_RWCACHE (9p cache mode of the read-write shares, default loose)
# The guest gets: LVSKIT_IN_LAB_VM=1, LVSKIT_HOST_KERNEL=<host uname -r>, PATH, CI, NO_COLOR,
# FORCE_COLOR (set to 1 when our stdout is a terminal) and HOME=/root (a tmpfs).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORK=${LAB_WORK:-$REPO/.lab}
OUT=$WORK/out
MEM=2048; SMP=$(nproc); TMO=3000; RWS=("$REPO"); ENVS=(); STATUS=; SHELL1=0
usage() { sed -n '7,17p' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --mem) MEM=$2; shift 2;;
    --smp) SMP=$2; shift 2;;
    --timeout) TMO=$2; shift 2;;
    --env) [[ $2 == [A-Za-z_]*=* ]] || { echo "vm.sh: --env wants NAME=VALUE, got '$2'" >&2; exit 2; }
           ENVS+=("$2"); shift 2;;
    --rw) RWS+=("$(cd "$2" && pwd)"); shift 2;;
    --status) STATUS=$2; shift 2;;
    --shell) SHELL1=1; shift;;
    -h|--help) usage;;
    --) shift; break;;
    -*) echo "vm.sh: unknown option $1" >&2; usage;;
    *) break;;
  esac
done
[ $# -gt 0 ] || [ $SHELL1 = 1 ] || usage
# set up on first use, rebuilt when guest-init.sh/build-initramfs.sh changed (setup.sh: 0.1 s when done)
if ! bash "$HERE/setup.sh" --check >/dev/null 2>&1; then
  echo "vm.sh: the lab is not set up or out of date: running test/lab/setup.sh" >&2
  bash "$HERE/setup.sh" >&2 || { echo "vm.sh: lab setup failed" >&2; exit 125; }
fi
[ ${#RWS[@]} -le 8 ] || { echo "vm.sh: at most 7 --rw dirs" >&2; exit 2; }
KREL=$(cat "$OUT/kernel-release")

mkdir -p "$WORK/logs"
LOG=$WORK/logs/vm-$(date +%Y%m%d-%H%M%S)-$$.log
ln -sfn "logs/$(basename "$LOG")" "$WORK/guest.log"
ls -1t "$WORK"/logs/vm-*.log 2>/dev/null | tail -n +21 | xargs -r rm -f || true   # keep the last 20
CTL=$(mktemp -d "$WORK/ctl.XXXXXX")
RELAYS=()
cleanup() {
  local p; for p in ${RELAYS[@]+"${RELAYS[@]}"}; do kill "$p" 2>/dev/null || true; done
  rm -rf "$CTL"
}
trap cleanup EXIT

# the guest's command: the host's PATH and the caller's cwd; stdin is /dev/null
{
  echo "export PATH=$(printf %q "$PATH") HOME=/root TERM=dumb LANG=C.UTF-8 LC_ALL=C.UTF-8"
  echo "export LVSKIT_IN_LAB_VM=1 LVSKIT_HOST_KERNEL=$(printf %q "$(uname -r)")"
  for v in CI NO_COLOR FORCE_COLOR; do
    [ -z "${!v+x}" ] || echo "export $v=$(printf %q "${!v}")"
  done
  if [ -z "${FORCE_COLOR+x}${NO_COLOR+x}" ] && [ -t 1 ]; then echo "export FORCE_COLOR=1"; fi
  for e in ${ENVS[@]+"${ENVS[@]}"}; do echo "export $(printf %q "$e")"; done
  echo "cd $(printf %q "$PWD") || exit 125"
  if [ $# -gt 0 ]; then printf 'exec'; printf ' %q' "$@"; echo; fi
} > "$CTL/cmd.sh"
echo 255 > "$CTL/rc"

SHARES=(); RWLIST=; i=0
for d in "${RWS[@]}"; do
  case ",$RWLIST," in *",$d,"*) continue;; esac
  SHARES+=(-virtfs "local,path=$d,mount_tag=rw$i,security_model=none,multidevs=remap,id=rw$i")
  RWLIST="$RWLIST${RWLIST:+,}$d"; i=$((i + 1))
done
KARGS="console=ttyS0 quiet loglevel=3 panic=-1 ${LAB_KARGS-mitigations=off cryptomgr.notests nowatchdog} lab.rw=$RWLIST lab.rwcache=${LAB_RWCACHE:-loose}"

if [ $SHELL1 = 1 ]; then
  SERIAL=(-serial stdio); KARGS="$KARGS lab.shell=1"
else
  # ttyS0: console -> log file; ttyS1/ttyS2: the command's stdout/stderr, relayed through FIFOs
  # (works whatever our stdout/stderr are: tty, pipe, file, socket)
  mkfifo "$CTL/out" "$CTL/err"
  cat "$CTL/out" & RELAYS+=($!)
  cat "$CTL/err" >&2 & RELAYS+=($!)
  SERIAL=(-chardev "file,id=con,path=$LOG" -serial chardev:con
          -chardev "file,id=out,path=$CTL/out" -serial chardev:out
          -chardev "file,id=err,path=$CTL/err" -serial chardev:err)
fi

T0=$(date +%s.%N)
QRC=0
# PVH boot of the uncompressed vmlinux; no firmware ROMs, no NIC, no disks: serial + 9p only.
# -accel tcg: a PVM /dev/kvm cannot run a stock kernel. timeout: QEMU can hang on internal errors.
QEMU=(qemu-system-x86_64
  -accel tcg,thread=multi -cpu "${LAB_CPU:-max}" -smp "$SMP" -m "$MEM"
  -nodefaults -no-user-config -display none -no-reboot
  "${SERIAL[@]}"
  -kernel "$OUT/vmlinux" -initrd "$OUT/initramfs.cpio" -append "$KARGS"
  -virtfs "local,path=/,mount_tag=hostroot,security_model=none,id=hostroot,readonly=on,multidevs=remap"
  -virtfs "local,path=$CTL,mount_tag=ctl,security_model=none,id=ctl"
  "${SHARES[@]}")
if [ $SHELL1 = 1 ]; then
  timeout --foreground "$TMO" "${QEMU[@]}" || QRC=$?
  exit $QRC
fi
# timeout runs in its own process group: forward our death to it (it passes it on to QEMU)
timeout -k 10 "$TMO" "${QEMU[@]}" < /dev/null & QPID=$!
trap 'kill -TERM $QPID 2>/dev/null; wait $QPID 2>/dev/null; exit 143' TERM HUP
trap 'kill -TERM $QPID 2>/dev/null; wait $QPID 2>/dev/null; exit 130' INT
wait $QPID || QRC=$?
trap - TERM HUP INT
WALL=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}')
# let the relays flush what QEMU wrote before it exited (they end at EOF); a relay still blocked
# in open() (QEMU died before opening its FIFO) is released by a read-write open + close
for f in out err; do [ -p "$CTL/$f" ] && { exec 7<>"$CTL/$f"; exec 7>&-; }; done
for p in ${RELAYS[@]+"${RELAYS[@]}"}; do wait "$p" 2>/dev/null || true; done
RELAYS=()

uptime_of() { sed -n "s/.*LAB: $1 uptime=\([0-9.]*\).*/\1/p" "$LOG" 2>/dev/null | head -1; }
READY=$(uptime_of ready)
RC=$(cat "$CTL/rc" 2>/dev/null || echo 255)
BOOTED=false; [ -n "$READY" ] && BOOTED=true
RAN=false; grep -q 'LAB: LAB_EXIT=' "$LOG" 2>/dev/null && RAN=true
if [ $QRC = 124 ] || [ $QRC = 137 ]; then WHY="timed out after ${TMO}s"; EXIT=124
elif [ $BOOTED = false ]; then WHY="the VM did not boot (qemu exit $QRC)"; EXIT=125
elif [ $RAN = false ]; then WHY="the guest stopped before the command finished (qemu exit $QRC)"; EXIT=125
else WHY=; EXIT=$RC
fi
if [ -n "$STATUS" ]; then
  printf '{"booted":%s,"ran":%s,"rc":%s,"exit":%s,"qemuExit":%s,"readyUptime":%s,"wallSeconds":%s,"kernel":"%s","mem":%s,"smp":%s,"log":"%s","why":"%s"}\n' \
    $BOOTED $RAN "$RC" "$EXIT" "$QRC" "${READY:-null}" "$WALL" "$KREL" "$MEM" "$SMP" "$LOG" "$WHY" > "$STATUS"
fi
if [ "$EXIT" != 0 ]; then
  {
    echo "vm.sh: ${WHY:-command exited $EXIT} (wall ${WALL}s, guest ready at $([ -n "$READY" ] && echo "${READY}s" || echo never)); guest log $LOG, tail:"
    tail -n 25 "$LOG" 2>/dev/null | sed 's/^/  | /'
  } >&2
fi
exit "$EXIT"
