#!/usr/bin/env bash
# Checks the dependency rules of docs/architecture.md on #include lines: pure layers stay free of
# Asio/Beast, databases stay inside store/, and inner layers never include outer ones.
# Exit status 1 lists every violation.
set -euo pipefail
cd "$(dirname "$0")/../src"

violations=0
forbid() {  # forbid <folder> <regex> <why>
  local folder="$1" pattern="$2" why="$3" hits
  hits="$(grep -RnE "^#include [<\"]($pattern)" "$folder" || true)"
  if [ -n "$hits" ]; then
    echo "$folder: $why" >&2
    echo "$hits" >&2
    violations=1
  fi
}

transport='boost/(asio|beast)'
databases='sqlite3\.h|libpq-fe\.h|store/sqlite/|store/postgres/'
forbid core "$transport|domain/|auth/|store/|service/|signaling/|api/|http/|ws/|app/|admin/" "core uses nothing of the project"
forbid domain "$transport|$databases|auth/|store/|service/|signaling/|api/|http/|ws/|app/" "domain is pure"
forbid auth "$transport|$databases|store/|service/|signaling/|api/|http/|ws/|app/" "auth depends on core only"
forbid store "$transport|service/|signaling/|cluster/|api/|http/|ws/|app/" "store must not reach outer layers"
forbid service "$transport|$databases|signaling/|api/|http/|ws/|app/" "service blocks but has no transport"
forbid signaling "$transport|$databases|store/|service/|cluster/|api/|http/|ws/|app/" "the hub is transport-free"
forbid cluster "$transport|$databases|service/|api/|http/|ws/|app/" "the cluster talks to the store's interface only"
forbid admin "$transport|$databases|signaling/|cluster/|api/|http/|ws/|app/" "administration goes through the store's interface"
forbid telemetry "$transport|$databases|domain/|store/|service/|signaling/|api/|http/|ws/|app/" "telemetry is generic"
forbid api "$transport|$databases|cluster/|http/|ws/|app/" "handlers are plain functions: no sockets, no SQL"
forbid http "$databases|ws/|app/" "the transport never touches the database"
forbid ws "$databases|app/" "the transport never touches the database"
exit $violations
