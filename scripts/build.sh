#!/usr/bin/env bash
# Configures and builds one CMake preset (release, debug, asan); extra arguments go to the build,
# e.g. `scripts/build.sh release --target signaling-server`.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
shift || true
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" "$@"
