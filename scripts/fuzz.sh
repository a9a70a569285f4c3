#!/usr/bin/env bash
# Builds lvskit's libFuzzer targets (native/CMakeLists.txt, clang with ASan+UBSan) and runs each
# one for a while, starting from the seeds in test/fuzz-corpus/<target>/. Findings go to
# test/fuzz-out/crashes/ and make the script fail.
#
#   scripts/fuzz.sh                 short run: 30 s per target (CI)
#   scripts/fuzz.sh --long          long run: 1 h per target, 4 workers each
#   scripts/fuzz.sh --seconds 300 nlattr transport_answers
#   scripts/fuzz.sh --replay        run every seed and every kept crash reproducer once, no fuzzing
#   scripts/fuzz.sh --merge         after a run: add to test/fuzz-corpus/<target>/ only the inputs
#                                   of test/fuzz-out/<target>/ that add coverage (libFuzzer -set_cover_merge=1:
#                                   a near-minimal set with the same coverage)
#   scripts/fuzz.sh --build-only
#
# Needs Debian's clang and libclang-rt-14-dev (libFuzzer and the sanitizer runtimes), and cmake.
# The growing corpus lives in test/fuzz-out/<target>/ (ignored by git); seeds worth keeping are
# added to test/fuzz-corpus/<target>/ with --merge (only inputs that add coverage to the seeds).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=30
jobs=1
mode=fuzz
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --long) seconds=3600; jobs=4 ;;
    --seconds) seconds="$2"; shift ;;
    --jobs) jobs="$2"; shift ;;
    --replay) mode=replay ;;
    --merge) mode=merge ;;
    --build-only) mode=build ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done

CXX=${CXX:-clang++}
if ! command -v "$CXX" >/dev/null; then
  echo "fuzz.sh: $CXX not found; apt-get install clang libclang-rt-14-dev" >&2
  exit 2
fi
build=build-fuzz
cmake -S native -B "$build" -DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLVSKIT_FUZZ=ON >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
[ "$mode" = build ] && { echo "built: $(cat "$build/fuzz-targets.txt")"; exit 0; }

if [ ${#targets[@]} -eq 0 ]; then
  read -r -a targets <<<"$(tr ';' ' ' <"$build/fuzz-targets.txt")"
fi

out=test/fuzz-out
mkdir -p "$out/crashes"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
summary="$out/summary.txt"
: >"$summary"
failed=0

for t in "${targets[@]}"; do
  bin="$build/fuzz_$t"
  [ -x "$bin" ] || { echo "fuzz.sh: no target $t (skipped at configure time?)" >&2; failed=1; continue; }
  seeds="test/fuzz-corpus/$t"
  mkdir -p "$seeds"
  if [ "$mode" = replay ]; then
    files=("$seeds"/*)
    [ -d "test/fuzz-corpus/crashes/$t" ] && files+=("test/fuzz-corpus/crashes/$t"/*)
    if "$bin" -runs=1 "${files[@]}" >"$out/$t.replay.log" 2>&1; then
      printf '%-22s replayed %d inputs: ok\n' "$t" "${#files[@]}" | tee -a "$summary"
    else
      printf '%-22s replay FAILED, see %s\n' "$t" "$out/$t.replay.log" | tee -a "$summary"
      failed=1
    fi
    continue
  fi
  corpus="$out/$t"
  mkdir -p "$corpus"
  if [ "$mode" = merge ]; then
    before=$(find "$seeds" -type f | wc -l)
    if "$bin" -set_cover_merge=1 -max_len=65536 -timeout=10 -rss_limit_mb=2048 "$seeds" "$corpus" >"$out/$t.merge.log" 2>&1; then
      after=$(find "$seeds" -type f | wc -l)
      printf '%-22s merged: %d -> %d seeds (%s)\n' "$t" "$before" "$after" "$(du -sh "$seeds" | cut -f1)" | tee -a "$summary"
    else
      printf '%-22s merge FAILED, see %s\n' "$t" "$out/$t.merge.log" | tee -a "$summary"
      failed=1
    fi
    continue
  fi
  log="$out/$t.log"
  args=(-max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$out/crashes/$t-"
        -max_len=65536 -timeout=10 -rss_limit_mb=2048)
  dict="native/fuzz/$t.dict"
  [ -f "$dict" ] && args+=(-dict="$dict")
  if [ "$jobs" -gt 1 ]; then
    args+=(-fork="$jobs" -ignore_crashes=0)
  fi
  set +e
  "$bin" "${args[@]}" "$corpus" "$seeds" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{s+=$2} END {print s+0}')
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
  ncorp=$(find "$corpus" -type f | wc -l)
  if [ $rc -eq 0 ]; then
    printf '%-22s ok    %5ss  execs %-10s cov %-5s ft %-6s corpus %s\n' "$t" "$seconds" "$execs" "${cov:-?}" "${ft:-?}" "$ncorp" | tee -a "$summary"
  else
    printf '%-22s FAIL  rc=%s, see %s and %s/crashes/\n' "$t" "$rc" "$log" "$out" | tee -a "$summary"
    grep -m5 -E 'ERROR: |runtime error|property failed|SUMMARY' "$log" | tee -a "$summary" || true
    failed=1
  fi
done

exit $failed
