#!/usr/bin/env bash
# Installs what the benchmarks need, builds our server (build/bench), runs the benchmarks one
# after another, ours and the baseline each on a fresh server, and prints the results table.
#
#   bench/run-all.sh                 # everything (about 15 minutes)
#   bench/run-all.sh read ws-200     # some: read write ips login login-overload login-timing
#                                    #       alloc ws-200 ws-1000 signal cluster
#   bench/run-all.sh cluster         # the cluster benchmarks (several processes on PostgreSQL)
# Results: bench/results/<benchmark>.<target>.json; table: /usr/bin/python3 bench/report.py
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3  # Debian's python, with the python3-* packages

./bench/install-deps.sh
cmake --preset release -B build/bench -DSIG_BUILD_TESTS=OFF >/dev/null
cmake --build build/bench --target signaling-server >/dev/null

names=("$@")
[ ${#names[@]} -eq 0 ] && names=(read write ips login login-overload login-timing alloc ws-200 ws-1000 signal cluster)

echo "== $(date -Is) $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== busiest processes (other work on the machine skews the figures):"
ps -eo pcpu,comm --sort=-pcpu | sed -n 2,4p

for name in "${names[@]}"; do
  case "$name" in
    ws-*) $PY bench/ws/run.py mesh -n "${name#ws-}" ;;
    signal) $PY bench/ws/run.py signal ;;
    cluster) $PY bench/cluster/run.py ;;
    login-timing)
      $PY bench/rest/login_timing.py --target ours -n 60
      $PY bench/rest/login_timing.py --target baseline -n 20 ;;
    *) $PY bench/rest/run.py "$name" ;;
  esac
done

echo
$PY bench/report.py
