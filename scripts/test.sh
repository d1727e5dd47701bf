#!/usr/bin/env bash
# Command (b) of the README, and what CI runs: installs the dependencies, then
#  1. the Release build and every test (unit, store, session, end-to-end on SQLite and PostgreSQL,
#     single processes and clusters, the RFC 6455 conformance suite, /docs and the seed's
#     JavaScript client in headless Chromium, the administration commands, ICE servers against a
#     real coturn, the self-contained-docs lint); the Debian package built, installed with
#     dpkg -i, run as its systemd unit says and purged; and a smoke run of the
#     native load generator's scenarios, single process and a cluster of three on PostgreSQL
#     (bench/native/run.py --smoke, cluster.py --smoke: functional failures only);
#  2. an AddressSanitizer + UndefinedBehaviorSanitizer build (Clang 19): the unit, store and session
#     tests, the end-to-end REST and WebSocket suites against the sanitized server (a leak or a
#     sanitizer report makes the server exit non-zero on SIGTERM, which fails the test), and the
#     libFuzzer targets of the same tree, each for a fixed time (scripts/fuzz.sh; a finding fails
#     the run);
#  3. a ThreadSanitizer build: the hub, cluster, store and session tests.
# The sanitizer builds (2, 3) compile while the tests before them run: in the background, one after
# the other, at the idle scheduling class (chrt --idle), so that they only take the CPU time the
# tests leave, and timing-sensitive tests see the same machine as without them. Their logs are
# printed when the phase that needs them waits for them.
# The PostgreSQL servers are throwaway ones that the tests start and remove themselves
# (scripts/test-postgres.sh, as the `postgres` user when run as root).
set -euo pipefail
cd "$(dirname "$0")/.."

# Each phase header carries the wall-clock time and the seconds since the start, so that a CI log
# shows where the time went.
start=$SECONDS
phase() {
  printf '== [%s +%ds] %s\n' "$(date -u +%H:%M:%S)" "$((SECONDS - start))" "$*" >&2
}

phase "dependencies"
scripts/install-deps.sh

phase "release build and all tests"
scripts/build.sh release
# The sanitizer builds, one after the other, in a process group of their own (removed if this
# script stops early); build/ci-builds/<preset>.rc holds each build's exit status once it is done.
builds="build/ci-builds"
rm -rf "$builds"
mkdir -p "$builds"
setsid chrt --idle 0 bash -c '
  for preset in asan tsan; do
    case "$preset" in
      asan) targets=(unit_tests store_tests ws_session_tests signaling-server fuzzers) ;;
      tsan) targets=(unit_tests store_tests ws_session_tests) ;;
    esac
    status=0
    scripts/build.sh "$preset" --target "${targets[@]}" >"$0/$preset.log" 2>&1 || status=$?
    echo "$status" >"$0/$preset.rc"
  done' "$builds" &
builds_pid=$!
trap 'kill -- -"$builds_pid" 2>/dev/null || true' EXIT

# wait_for_build <preset>: prints the build's log once it is done; fails if the build did.
wait_for_build() {
  while [ ! -e "$builds/$1.rc" ]; do
    if ! kill -0 "$builds_pid" 2>/dev/null && [ ! -e "$builds/$1.rc" ]; then
      echo "test.sh: the background builds stopped before the $1 build was done" >&2
      exit 1
    fi
    sleep 1
  done
  cat "$builds/$1.log"
  if [ "$(cat "$builds/$1.rc")" != 0 ]; then
    echo "test.sh: the $1 build failed" >&2
    exit 1
  fi
}

phase "release: ctest"
ctest --preset release -j 2

phase "the Debian package: build, install, run as its unit says, purge (tests/package)"
tests/package/test_deb.sh build/release

phase "the native load generator against the Release server: every scenario, tiny (bench/native)"
OURS_BIN="$PWD/build/release/bin/signaling-server" /usr/bin/python3 bench/native/run.py --smoke
OURS_BIN="$PWD/build/release/bin/signaling-server" /usr/bin/python3 bench/native/cluster.py --smoke

phase "ASan + UBSan: unit, store and session tests; the end-to-end suites against the sanitized server; fuzzing"
wait_for_build asan
phase "asan: unit, store and session tests"
ctest --preset asan -L 'unit|store|session' -j 2
phase "asan: end-to-end suites"
ctest --preset asan -R '^(e2e_rest|e2e_ws|ws_conformance)$' -j 2
phase "asan: fuzzing"
scripts/fuzz.sh "${SIG_FUZZ_SECONDS:-20}"

phase "ThreadSanitizer: hub, cluster, store and session tests"
wait_for_build tsan
phase "tsan: unit, store and session tests"
ctest --preset tsan -L 'unit|store|session' -j 2

phase "done"
