#!/usr/bin/env bash
# Installs what the benchmarks need, from Debian 12 packages only: the server's own build
# dependencies (scripts/install-deps.sh), wrk, gnuplot, and the FastAPI baseline's packages.
# Idempotent: installs only what dpkg does not already list as installed. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh

packages=(
  wrk procps
  # bench/native/sweep.py draws its PNG plots with gnuplot (no X11)
  gnuplot-nox
  # load generators (Debian's /usr/bin/python3; psycopg2: cluster/run.py reads token stamps)
  python3 python3-websockets python3-psycopg2
  # the FastAPI baseline (optional input: $BASELINE_RUN, see bench/README.md)
  python3-fastapi python3-uvicorn python3-sqlalchemy python3-jose python3-passlib python3-bcrypt
  python3-psycopg2 python3-websockets python3-dotenv python3-uvloop python3-httptools
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "bench/install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
