#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ in the asan preset's tree (Clang 19, ASan + UBSan, every
# library instrumented for libFuzzer) and runs each on a copy of its seed corpus
# (fuzz/corpus/<target>/) for a fixed time. Prints, per target, the executions and the coverage of
# its last status line, and exits 1 when any target found something (a crash, a leak, a timeout, a
# sanitizer report, a violated property); its input and log are kept in build/asan/fuzz-runs/<target>/.
#
# Usage: scripts/fuzz.sh [seconds-per-target]        (default 60)
# Environment: SIG_FUZZ_TARGETS (default: all four); SIG_FUZZ_JOBS, how many run at a time
# (default: the number of cores).
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build/asan"
read -r -a targets <<<"${SIG_FUZZ_TARGETS:-fuzz_http fuzz_jwt fuzz_domain fuzz_ws_message}"

echo "fuzz.sh: building ${targets[*]} in $build"
cd "$root"
scripts/build.sh asan --target "${targets[@]}"

# UBSan stops at the first report (-fno-sanitize-recover) with a stack; ASan reports leaks too.
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
# Stacks with function names and lines need a symbolizer; Clang 19's own is not always installed.
symbolizer="$(command -v llvm-symbolizer-19 || command -v llvm-symbolizer || true)"
[ -n "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH="${ASAN_SYMBOLIZER_PATH:-$symbolizer}"

# The targets run side by side, as many at a time as there are cores (SIG_FUZZ_JOBS), each for
# the same time as it would alone: each libFuzzer process is single-threaded.
jobs="${SIG_FUZZ_JOBS:-$(nproc)}"

# fuzz_one <target>: runs it; its one-line verdict goes to $build/fuzz-runs/<target>/summary, and
# the file `failed` appears beside it when it found something.
fuzz_one() {
  local target="$1"
  local work="$build/fuzz-runs/$target"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts" "$work/tmp"
  cp -r "$root/fuzz/corpus/$target/." "$work/corpus/"
  local options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
                 -artifact_prefix="$work/artifacts/")
  [ -f "$root/fuzz/$target.dict" ] && options+=(-dict="$root/fuzz/$target.dict")
  # The WebSocket target registers a new session after an input closed one; that session outlives
  # the input, which libFuzzer's per-input leak check takes for a leak and scans the heap for (30 ms
  # an input instead of 1). LeakSanitizer still checks the whole run when the target exits.
  [ "$target" = fuzz_ws_message ] && options+=(-detect_leaks=0)

  echo "fuzz.sh: $target for ${seconds}s (log: $work/log)"
  local status=0
  # TMPDIR: the targets' scratch files (fuzz_http's database) stay in the run's directory.
  TMPDIR="$work/tmp" nice -n 10 "$build/fuzz/$target" "${options[@]}" "$work/corpus" >"$work/log" 2>&1 || status=$?

  local executions last_status coverage findings verdict
  executions="$(awk '/^stat::number_of_executed_units:/ {print $2}' "$work/log" | tail -n 1)"
  last_status="$(grep -E '^#[0-9]+' "$work/log" | tail -n 1 || true)"
  coverage="$(grep -oE 'cov: [0-9]+ ft: [0-9]+' <<<"$last_status" || true)"
  findings="$(find "$work/artifacts" -type f | wc -l)"
  if [ "$status" -ne 0 ] || [ "$findings" -ne 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$work/log"; then
    touch "$work/failed"
    verdict="FINDING (exit $status; inputs: $(find "$work/artifacts" -type f -printf '%p ' 2>/dev/null))"
    grep -E 'ERROR:|runtime error:|property violated|SUMMARY:' "$work/log" | head -n 5 || true
  else
    verdict="ok"
  fi
  printf '%-16s executions: %-10s %-22s %s\n' "$target" "${executions:-?}" "${coverage:-cov: ?}" "$verdict" >"$work/summary"
}

running=0
for target in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  fuzz_one "$target" &
  running=$((running + 1))
done
wait

failed=0
echo
echo "fuzz.sh: ${seconds}s per target, ${jobs} at a time"
for target in "${targets[@]}"; do
  cat "$build/fuzz-runs/$target/summary" 2>/dev/null || echo "$target: no summary (the run did not finish)"
  if [ -e "$build/fuzz-runs/$target/failed" ] || [ ! -e "$build/fuzz-runs/$target/summary" ]; then
    failed=1
  fi
done
exit "$failed"
