#!/usr/bin/env bash
# Command (b) of the README, and what CI runs: installs the dependencies, builds and runs every
# test (unit, store and end-to-end, on SQLite and on PostgreSQL, single processes and clusters) on
# the Release build, then builds with AddressSanitizer + UndefinedBehaviorSanitizer and runs the
# unit and store tests there too. The PostgreSQL servers are throwaway ones that the tests start
# and remove themselves (scripts/test-postgres.sh, as the `postgres` user when run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

echo "== release build and all tests" >&2
scripts/build.sh release
ctest --preset release -j 2

echo "== sanitizer build (ASan + UBSan): unit and store tests" >&2
scripts/build.sh asan --target unit_tests store_tests
ctest --preset asan -L 'unit|store' -j 2
