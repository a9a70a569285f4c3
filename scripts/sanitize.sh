#!/usr/bin/env bash
# AddressSanitizer + UBSan (+ LeakSanitizer) build of the addon, and the test suites run against it.
#
#   scripts/sanitize.sh                 build build-asan/build/Release/lvskit.node, run the unit + netns suites on it
#   scripts/sanitize.sh --build-only
#   scripts/sanitize.sh -- <vitest args and files>   only these (e.g. -- --project netns test/netns/x.test.ts)
#   scripts/sanitize.sh --min-tests N   fail unless at least N tests passed (default 1; CI passes more)
#   scripts/sanitize.sh --soak [-- soak args]   the leak soak (test/soak/soak.mjs, short unless
#                                       given e.g. -- --long) on the sanitized addon: LSan at its exit
#   scripts/sanitize.sh --valgrind      valgrind memcheck of the leak soak (short) on the normal
#                                       build/Release addon, with scripts/valgrind-node.supp
#   SANITIZE_SOURCE=/copy/of/repo scripts/sanitize.sh ...   build the addon from another checkout's
#                                       native/ into build-asan-scratch/ (to prove the checks catch a
#                                       planted bug without touching this tree; see docs/hardening.md)
#
# Fails when a test fails, when fewer than --min-tests tests passed, when a file named on the command
# line ran no test, and when any process of the run (vitest's forks, node children the tests spawn)
# wrote an ASan, UBSan or LSan report: every report goes to a file under <build>/reports/ through
# log_path, so a report from a process whose exit code nobody checks still fails the run.
#
# The addon is built by native/CMakeLists.txt (LVSKIT_ADDON=ON) with plain cmake and the system node
# headers (/usr/include/node): cmake-js 7.4 fits node 20 but fetches headers from the network unless
# pointed at a local directory, so it is not needed here. node itself is not instrumented, so the
# ASan runtime is preloaded; node-gyp-build is pointed at the sanitized addon by LVSKIT_PREBUILD.
# LeakSanitizer reports only leaks whose stack goes through lvskit.node or other instrumented code
# (V8/node keep memory reachable at exit by design); the suppressions file below names what is
# theirs, and the tools the tests run as references, which inherit the preload.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=asan
files=()
min_tests=1
while [ $# -gt 0 ]; do
  case "$1" in
    --build-only) mode=build ;;
    --valgrind) mode=valgrind ;;
    --soak) mode=soak ;;
    --min-tests) min_tests="$2"; shift ;;
    --) shift; files=("$@"); break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [ "$mode" = valgrind ]; then
  command -v valgrind >/dev/null || { echo "apt-get install valgrind" >&2; exit 2; }
  # node is not built for valgrind: V8's JIT and its GC's conservative stack scan show up as
  # uninitialised reads and "possibly lost" blocks. Errors count only outside node/V8/libuv/ld.so
  # (scripts/valgrind-node.supp, each entry with its reason); definite leaks count wherever they are.
  exec valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
    --suppressions=scripts/valgrind-node.supp --num-callers=30 \
    node --expose-gc test/soak/soak.mjs --ops "${VALGRIND_OPS:-2000}" --cycles "${VALGRIND_CYCLES:-100}"
fi

CXX=${CXX:-clang++}
src=.
build=build-asan
if [ -n "${SANITIZE_SOURCE:-}" ]; then
  src=$SANITIZE_SOURCE
  build=build-asan-scratch
fi
cmake -S "$src/native" -B "$build" -DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_BUILD_TYPE=Debug -DLVSKIT_FUZZ=OFF -DLVSKIT_ADDON=ON >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
echo "built $build/build/Release/lvskit.node"
[ "$mode" = build ] && exit 0

runtime=$("$CXX" -print-file-name=libclang_rt.asan-x86_64.so)
[ -f "$runtime" ] || { echo "sanitize.sh: no ASan runtime ($runtime): apt-get install libclang-rt-14-dev" >&2; exit 2; }
supp="$build/lsan.supp"
# What is not ours. A suppression matches any frame of a leak's allocation stack, and every
# lvskit allocation made from JS has node and V8 frames below it, so allocation stacks are cut to
# their top $ctx frames (malloc_context_size): a leak allocated in lvskit.node has only lvskit,
# node-addon-api, libstdc++ and the sanitizer runtime in them and is never suppressed; a leak
# whose top frames are in node or V8 (memory they keep until exit by design), in libuv, or in an
# executable under /usr/bin, /usr/sbin, /bin, /sbin (node itself, and the tools the tests run as
# references, which inherit the preload and do not free everything before exiting: iproute2,
# capsh, setpriv, sort, bash, python3) is. Proved once with a planted leak: docs/hardening.md.
ctx=5
printf '%s\n' 'leak:node::' 'leak:v8::' 'leak:uv_' 'leak:libnode' \
  'leak:^/usr/bin/' 'leak:^/usr/sbin/' 'leak:^/bin/' 'leak:^/sbin/' 'leak:python3' >"$supp"
# The tests run iproute2 as the reference; it must not inherit the ASan runtime (it has its own
# overlapping strncpy and unfreed buffers). A shim first in PATH drops LD_PRELOAD for it.
mkdir -p "$build/shim"
printf '#!/bin/sh\nunset LD_PRELOAD\nexec %s "$@"\n' "$(command -v ip)" >"$build/shim/ip"
chmod +x "$build/shim/ip"
reports="$PWD/$build/reports"
rm -rf "$reports"
mkdir -p "$reports"
export PATH="$PWD/$build/shim:$PATH"
export LD_PRELOAD="$runtime"
export ASAN_OPTIONS="detect_leaks=1:malloc_context_size=$ctx:abort_on_error=0:halt_on_error=1:detect_odr_violation=0:allow_user_segv_handler=1:log_path=$reports/asan"
export LSAN_OPTIONS="suppressions=$PWD/$supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan"
export LVSKIT_PREBUILD="$PWD/$build"  # node-gyp-build looks in <dir>/build/Release
# vitest ends its forks with SIGTERM, which skips LSan's check in exit(): the preload runs it then
# (scripts/sanitize-preload.cjs) and leaves a marker per fork, counted below.
markers="$PWD/$build/markers"
rm -rf "$markers"
mkdir -p "$markers/lsan-started" "$markers/lsan-checked"
export LVSKIT_LSAN_CHECK="$PWD/$build/lsan/lsan_check.node"
export LVSKIT_SAN_MARKERS="$markers"
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--require $PWD/scripts/sanitize-preload.cjs"
json="$reports/../vitest.json"
rm -f "$json"
set +e
if [ "$mode" = soak ]; then
  # ASan holds freed memory in a quarantine (256 MiB by default) to catch use after free; that
  # would read as RSS growth to the soak's bound, so it is kept small here.
  ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=8" node --expose-gc test/soak/soak.mjs "${files[@]}"
elif [ ${#files[@]} -eq 0 ]; then
  npx vitest run --project unit --project netns --reporter=default --reporter=json --outputFile.json="$json"
else
  npx vitest run --reporter=default --reporter=json --outputFile.json="$json" "${files[@]}"
fi
rc=$?
set -e
unset LD_PRELOAD NODE_OPTIONS

failed=0
[ $rc -eq 0 ] || { echo "sanitize.sh: the run exited $rc" >&2; failed=1; }
if [ "$mode" = soak ]; then
  :  # one node process that exits normally: LSan ran in exit()
elif [ ! -s "$json" ]; then
  echo "sanitize.sh: vitest wrote no results ($json)" >&2
  failed=1
else
  # Counts, and every *.test.ts named on the command line must have run at least one test.
  if ! node - "$json" "$min_tests" "${files[@]}" <<'EOF'
const [json, min, ...args] = process.argv.slice(2);
const r = JSON.parse(require('node:fs').readFileSync(json, 'utf8'));
console.log(`sanitize.sh: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped, in ${r.numTotalTestSuites} suites`);
let bad = false;
if (r.numPassedTests < Number(min)) { console.error(`sanitize.sh: only ${r.numPassedTests} tests passed, fewer than --min-tests ${min}`); bad = true; }
for (const f of args.filter((a) => a.endsWith('.test.ts'))) {
  const abs = require('node:path').resolve(f);
  const res = r.testResults.find((t) => t.name === abs);
  const ran = res ? res.assertionResults.filter((a) => a.status === 'passed' || a.status === 'failed').length : 0;
  if (!ran) { console.error(`sanitize.sh: ${f} ran no test`); bad = true; }
}
process.exit(bad ? 1 : 0);
EOF
  then failed=1; fi
fi
started=$(ls "$markers/lsan-started" | wc -l)
checked=$(ls "$markers/lsan-checked" | wc -l)
if [ "$mode" != soak ]; then
  echo "sanitize.sh: LeakSanitizer ran in $checked of $started vitest forks (and at exit in every other node process)"
  if [ "$started" -eq 0 ] || [ "$checked" -ne "$started" ]; then
    echo "sanitize.sh: the leak check did not run in every fork" >&2
    failed=1
  fi
fi
n=$(find "$reports" -type f | wc -l)
if [ "$n" -gt 0 ]; then
  echo "sanitize.sh: $n sanitizer report(s) in $reports:" >&2
  for f in "$reports"/*; do
    echo "---- $f" >&2
    grep -E 'ERROR: |runtime error|SUMMARY|^    #[0-9]+ ' "$f" | head -40 >&2
  done
  failed=1
else
  echo "sanitize.sh: no ASan, UBSan or LSan report"
fi
exit $failed
