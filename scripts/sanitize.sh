#!/usr/bin/env bash
# AddressSanitizer + UBSan (+ LeakSanitizer) build of the addon, and the test suites run against it.
#
#   scripts/sanitize.sh                 build build-asan/build/Release/lvskit.node, run the unit + netns suites on it
#   scripts/sanitize.sh --build-only
#   scripts/sanitize.sh -- <files>      only these vitest files
#   scripts/sanitize.sh --valgrind      valgrind memcheck of a focused script (the soak, short) on the
#                                       normal build/Release addon instead
#
# The addon is built by native/CMakeLists.txt (LVSKIT_ADDON=ON) with plain cmake and the system node
# headers (/usr/include/node): cmake-js 7.4 fits node 20 but fetches headers from the network unless
# pointed at a local directory, so it is not needed here. node itself is not instrumented, so the
# ASan runtime is preloaded; node-gyp-build is pointed at the sanitized addon by LVSKIT_PREBUILD.
# LeakSanitizer reports only leaks whose stack goes through lvskit.node (V8/node keep memory
# reachable at exit by design); the suppressions file below names what is theirs.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=asan
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build-only) mode=build ;;
    --valgrind) mode=valgrind ;;
    --) shift; files=("$@"); break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [ "$mode" = valgrind ]; then
  command -v valgrind >/dev/null || { echo "apt-get install valgrind" >&2; exit 2; }
  exec valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
    --suppressions=/dev/null node --expose-gc test/soak/soak.mjs --ops 2000 --cycles 100
fi

CXX=${CXX:-clang++}
build=build-asan
cmake -S native -B "$build" -DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_BUILD_TYPE=Debug -DLVSKIT_FUZZ=OFF -DLVSKIT_ADDON=ON >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
echo "built $build/build/Release/lvskit.node"
[ "$mode" = build ] && exit 0

runtime=$("$CXX" -print-file-name=libclang_rt.asan-x86_64.so)
supp="$build/lsan.supp"
# Memory node and V8 keep until exit, allocated outside lvskit; and the tools the tests run
# (LD_PRELOAD reaches them too: iproute2 does not free its buffers before exiting).
printf 'leak:libnode\nleak:node::\nleak:v8::\nleak:uv_\nleak:/usr/bin/ip\nleak:/usr/sbin/ip\nleak:/usr/sbin/capsh\nleak:/usr/bin/setpriv\n' >"$supp"
# The tests run iproute2 as the reference; it must not inherit the ASan runtime (it has its own
# overlapping strncpy and unfreed buffers). A shim first in PATH drops LD_PRELOAD for it.
mkdir -p "$build/shim"
printf '#!/bin/sh\nunset LD_PRELOAD\nexec %s "$@"\n' "$(command -v ip)" >"$build/shim/ip"
chmod +x "$build/shim/ip"
export PATH="$PWD/$build/shim:$PATH"
export LD_PRELOAD="$runtime"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_odr_violation=0:allow_user_segv_handler=1"
export LSAN_OPTIONS="suppressions=$PWD/$supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LVSKIT_PREBUILD="$PWD/$build"  # node-gyp-build looks in <dir>/build/Release
if [ ${#files[@]} -eq 0 ]; then
  npx vitest run --project unit --project netns
else
  npx vitest run "${files[@]}"
fi
