#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ in the asan preset's tree (Clang 19, ASan + UBSan, every
# library instrumented for libFuzzer) and runs each on a copy of its seed corpus
# (fuzz/corpus/<target>/) for a fixed time. Prints, per target, the executions and the coverage of
# its last status line, and exits 1 when any target found something (a crash, a leak, a timeout, a
# sanitizer report, a violated property); its input and log are kept in build/asan/fuzz-runs/<target>/.
#
# Usage: scripts/fuzz.sh [seconds-per-target]        (default 60)
# Environment: SIG_FUZZ_TARGETS (default: all four).
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

failed=0
summary=()
for target in "${targets[@]}"; do
  work="$build/fuzz-runs/$target"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts" "$work/tmp"
  cp -r "$root/fuzz/corpus/$target/." "$work/corpus/"
  options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
           -artifact_prefix="$work/artifacts/")
  [ -f "$root/fuzz/$target.dict" ] && options+=(-dict="$root/fuzz/$target.dict")
  # The WebSocket target registers a new session after an input closed one; that session outlives
  # the input, which libFuzzer's per-input leak check takes for a leak and scans the heap for (30 ms
  # an input instead of 1). LeakSanitizer still checks the whole run when the target exits.
  [ "$target" = fuzz_ws_message ] && options+=(-detect_leaks=0)

  echo "fuzz.sh: $target for ${seconds}s (log: $work/log)"
  status=0
  # TMPDIR: the targets' scratch files (fuzz_http's database) stay in the run's directory.
  TMPDIR="$work/tmp" nice -n 10 "$build/fuzz/$target" "${options[@]}" "$work/corpus" >"$work/log" 2>&1 || status=$?

  executions="$(awk '/^stat::number_of_executed_units:/ {print $2}' "$work/log" | tail -n 1)"
  last_status="$(grep -E '^#[0-9]+' "$work/log" | tail -n 1 || true)"
  coverage="$(grep -oE 'cov: [0-9]+ ft: [0-9]+' <<<"$last_status" || true)"
  findings="$(find "$work/artifacts" -type f | wc -l)"
  if [ "$status" -ne 0 ] || [ "$findings" -ne 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$work/log"; then
    failed=1
    verdict="FINDING (exit $status; inputs: $(find "$work/artifacts" -type f -printf '%p ' 2>/dev/null))"
    grep -E 'ERROR:|runtime error:|property violated|SUMMARY:' "$work/log" | head -n 5 || true
  else
    verdict="ok"
  fi
  summary+=("$(printf '%-16s executions: %-10s %-22s %s' "$target" "${executions:-?}" "${coverage:-cov: ?}" "$verdict")")
done

echo
echo "fuzz.sh: ${seconds}s per target"
printf '%s\n' "${summary[@]}"
exit "$failed"
