#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: a fresh cluster in a temporary directory, on a free
# loopback port, without durability (fsync off: it is thrown away), run as the `postgres` user
# when started by root (PostgreSQL refuses to run as root), as the caller otherwise.
#
#   scripts/test-postgres.sh start   <state-dir>   starts it; writes <state-dir>/url (a database
#                                                  URL whose user may create schemas and databases)
#   scripts/test-postgres.sh restart <state-dir> [seconds-down]
#                                                  stops it (fast: connections are dropped), waits,
#                                                  and starts it again on the same port
#   scripts/test-postgres.sh stop    <state-dir>   stops it and removes its files
set -euo pipefail

command="${1:?usage: test-postgres.sh start|restart|stop <state-dir> [seconds-down]}"
state="${2:?usage: test-postgres.sh start|restart|stop <state-dir> [seconds-down]}"

bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [ -z "$bindir" ] || [ ! -x "$bindir/pg_ctl" ]; then
  echo "test-postgres: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
  exit 1
fi

as_owner() {  # runs a command as the user that owns the cluster
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_server() {  # start_server <data-dir> <port>
  as_owner "$bindir/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 60 \
    -o "-p $2 -k $1 -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
        -c full_page_writes=off -c max_connections=400 -c shared_buffers=64MB" start >/dev/null
}

case "$command" in
  start)
    mkdir -p "$state"
    if [ -f "$state/datadir" ] && [ -d "$(cat "$state/datadir")/data" ]; then
      "$0" stop "$state"
      mkdir -p "$state"
    fi
    dir="$(mktemp -d /tmp/signaling-test-postgres.XXXXXX)"
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null
    port="$(free_port)"
    start_server "$dir" "$port"
    as_owner "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -q -c "CREATE DATABASE signaling_test" >/dev/null
    echo "$dir" >"$state/datadir"
    echo "$port" >"$state/port"
    echo "postgresql://postgres@127.0.0.1:$port/signaling_test" >"$state/url"
    echo "test-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)" >&2
    ;;
  restart)
    dir="$(cat "$state/datadir")"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    sleep "${3:-0}"
    start_server "$dir" "$(cat "$state/port")"
    ;;
  stop)
    if [ -f "$state/datadir" ]; then
      dir="$(cat "$state/datadir")"
      if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
      fi
      rm -rf "$dir"
    fi
    rm -f "$state/datadir" "$state/port" "$state/url"
    ;;
  *)
    echo "test-postgres: unknown command $command" >&2
    exit 2
    ;;
esac
