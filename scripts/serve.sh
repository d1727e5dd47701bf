#!/usr/bin/env bash
# Command (a) of the README: installs the dependencies, builds the Release binary and runs the
# server in the foreground on 0.0.0.0:8000 with the embedded SQLite database (./signaling.db).
# Arguments are passed to the server (see `build/release/bin/signaling-server --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release --target signaling-server
exec build/release/bin/signaling-server "$@"
