#!/usr/bin/env bash
# The Debian package, end to end: builds it with cpack in a release build directory, installs it
# with dpkg, starts the server the way its installed systemd unit would (same user, working
# directory, environment file, command line and limits; systemd itself is not needed, CI
# containers do not run it), registers and logs in a user, stops the server with SIGTERM, then
# removes and purges the package. It really installs on this machine: run it as root, on a
# machine where signaling-server is not installed otherwise.
#
#   tests/package/test_deb.sh build/release      (after scripts/build.sh release)
#
# The port is the only setting not taken from the installed environment file: another server (an
# end-to-end test, a developer's) may hold 8000, so PORT is appended after the file's variables,
# as a second EnvironmentFile= in a drop-in would do. The file itself is tested unmodified.
set -euo pipefail

port=${SIG_DEB_TEST_PORT:-18080}

say() { echo "test_deb: $*"; }
fail() {
  echo "test_deb: FAIL: $*" >&2
  exit 1
}

[ $# -eq 1 ] || fail "usage: $0 <release build directory>"
[ -f "$1/CMakeCache.txt" ] || fail "$1 is not a configured build directory (run scripts/build.sh release)"
build_dir=$(cd "$1" && pwd)
[ "$(id -u)" -eq 0 ] || fail "must run as root: it installs and purges the package with dpkg"
for tool in cpack dpkg dpkg-deb dpkg-shlibdeps file curl setpriv systemd-analyze; do
  command -v "$tool" >/dev/null || fail "$tool is missing (scripts/install-deps.sh installs it)"
done
# installed, config-files (removed, not purged), …; empty or not-installed when absent.
package_state() { dpkg-query -W -f='${db:Status-Status}' signaling-server 2>/dev/null || true; }
case $(package_state) in
  '' | not-installed) ;;
  *) fail "signaling-server is on this machine ($(package_state)): this test would replace and purge it" ;;
esac
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  fail "port $port is in use (choose another with SIG_DEB_TEST_PORT)"
fi

work=$(mktemp -d)
server_pid=
cleanup() {
  local status=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ $status -ne 0 ] && [ -s "$work/server.log" ]; then
    echo "--- server log ---" >&2
    cat "$work/server.log" >&2
  fi
  if [ -n "$(package_state)" ] && [ "$(package_state)" != not-installed ]; then
    dpkg --purge signaling-server >/dev/null 2>&1 || echo "test_deb: could not purge signaling-server" >&2
  fi
  rm -rf "$work"
  exit $status
}
trap cleanup EXIT

# --- build ---
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build_dir/CMakeCache.txt")
[ -n "$version" ] || fail "no CMAKE_PROJECT_VERSION in $build_dir/CMakeCache.txt"
deb="$work/signaling-server_${version}_$(dpkg --print-architecture).deb"
say "cpack -G DEB in $build_dir"
(cd "$build_dir" && cpack -G DEB -B "$work/out") >"$work/cpack.log" 2>&1 || {
  cat "$work/cpack.log" >&2
  fail "cpack -G DEB failed"
}
mv "$work/out/$(basename "$deb")" "$deb" 2>/dev/null || {
  ls -l "$work/out" >&2
  fail "cpack did not write $(basename "$deb")"
}
say "built $(basename "$deb")"
dpkg-deb --info "$deb"
dpkg-deb --contents "$deb"

# Only the server is packaged: no test or benchmark binary.
binaries=$(dpkg-deb --contents "$deb" | awk '{print $NF}' | grep -E '^\./usr/s?bin/.' || true)
[ "$binaries" = "./usr/bin/signaling-server" ] || fail "unexpected binaries in the package: $binaries"
dpkg-deb --field "$deb" Depends | grep -q 'adduser' || fail "Depends lacks adduser"
dpkg-deb --field "$deb" Depends | grep -q 'libssl' || fail "Depends lacks the shared libraries (dpkg-shlibdeps)"

# --- install ---
say "dpkg -i"
dpkg -i "$deb"
unit=/lib/systemd/system/signaling-server.service
[ -x /usr/bin/signaling-server ] || fail "/usr/bin/signaling-server is not installed"
[ -f "$unit" ] || fail "$unit is not installed"
systemd-analyze verify "$unit" || fail "systemd-analyze verify $unit"
systemd-analyze security --offline=true "$unit" | tail -1

# The unit's settings; the test runs what they say rather than repeating it.
setting() { sed -n "s/^$1=//p" "$unit" | tail -1; }
exec_start=$(setting ExecStart)
env_file=$(setting EnvironmentFile)
workdir=$(setting WorkingDirectory)
user=$(setting User)
group=$(setting Group)
state=$(setting StateDirectory)
state_mode=$(setting StateDirectoryMode)
umask_value=$(setting UMask)
nofile=$(setting LimitNOFILE)
for name in exec_start env_file workdir user group state state_mode umask_value nofile; do
  [ -n "${!name}" ] || fail "the unit sets no $name"
done
[[ $exec_start != [-@:+!]* ]] || fail "ExecStart prefixes are not handled by this test: $exec_start"
[[ $env_file != -* ]] || fail "EnvironmentFile must not be optional (-): the package ships it"
say "unit: User=$user ExecStart=$exec_start EnvironmentFile=$env_file WorkingDirectory=$workdir"

getent passwd "$user" >/dev/null || fail "postinst did not create the user $user"
getent group "$group" >/dev/null || fail "postinst did not create the group $group"
[ "$(stat -c '%a %U %G' "$env_file")" = "640 root $group" ] ||
  fail "$env_file is $(stat -c '%a %U %G' "$env_file"), not 640 root $group"
dpkg-query -W -f='${Conffiles}\n' signaling-server | grep -q " $env_file " || fail "$env_file is not a conffile"

# What systemd would do before ExecStart: create the state directory for the user, then pass the
# environment file's variables (plain KEY=value lines; systemd would also accept quotes, which
# this reading would not, so they are refused).
state_dir=/var/lib/$state
install -d -m "$state_mode" -o "$user" -g "$group" "$state_dir"
[ "$workdir" = "$state_dir" ] || fail "WorkingDirectory=$workdir is not the state directory $state_dir"
env_args=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "USER=$user" "LOGNAME=$user"
  HOME=/nonexistent SHELL=/usr/sbin/nologin "STATE_DIRECTORY=$state_dir")
while IFS= read -r line || [ -n "$line" ]; do
  [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
  [[ $line =~ ^[A-Z_][A-Z0-9_]*=[^\"\']*$ ]] || fail "$env_file: not a plain KEY=value line: $line"
  env_args+=("$line")
done <"$env_file"
env_args+=("PORT=$port")

say "starting $exec_start as $user in $workdir on port $port"
read -ra command_line <<<"$exec_start"
(
  cd "$workdir"
  umask "$umask_value"
  # LimitNOFILE=. Some containers forbid even root to raise the hard limit: then the machine's.
  ulimit -n "$nofile" 2>/dev/null || echo "test_deb: LimitNOFILE=$nofile not possible here; open file limit $(ulimit -n)"
  # NoNewPrivileges=yes and an empty CapabilityBoundingSet=, as in the unit.
  exec setpriv --reuid="$user" --regid="$group" --init-groups --no-new-privs --bounding-set=-all \
    -- env -i "${env_args[@]}" "${command_line[@]}"
) >"$work/server.log" 2>&1 &
server_pid=$!

base="http://127.0.0.1:$port"
for _ in $(seq 1 300); do
  curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || fail "the server exited at start"
  sleep 0.1
done
curl -fsS -o /dev/null "$base/healthz" || fail "/healthz does not answer on port $port"
say "/healthz answers"

post() {
  curl -sS -o "$work/body" -w '%{http_code}' -X POST "$base$1" -H 'Content-Type: application/json' -d "$2"
}
credentials='{"email": "deb-test@example.com", "password": "password123"}'
status=$(post /register "$credentials")
[[ $status == 200 || $status == 201 ]] || fail "POST /register: $status $(cat "$work/body")"
status=$(post /login "$credentials")
[ "$status" = 200 ] || fail "POST /login: $status $(cat "$work/body")"
token=$(sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p' "$work/body")
[ -n "$token" ] || fail "POST /login gave no access_token: $(cat "$work/body")"
status=$(curl -sS -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $token" "$base/me")
[ "$status" = 200 ] || fail "GET /me with the token: $status $(cat "$work/body")"
say "registered and logged in: $(cat "$work/body")"

# systemctl stop: SIGTERM (KillSignal=), and a clean exit.
kill -TERM "$server_pid"
exit_status=0
wait "$server_pid" || exit_status=$?
server_pid=
[ "$exit_status" -eq 0 ] || fail "the server exited with $exit_status after SIGTERM"
grep -q 'stopped' "$work/server.log" || fail "the server did not log its shutdown"
say "SIGTERM: exit 0"
cat "$work/server.log"

# Its state went to the state directory, private to its user (UMask=).
for file in signaling.db signaling.db.secret; do
  [ -f "$state_dir/$file" ] || fail "$state_dir/$file is missing"
  [ "$(stat -c '%a %U' "$state_dir/$file")" = "600 $user" ] ||
    fail "$state_dir/$file is $(stat -c '%a %U' "$state_dir/$file"), not 600 $user"
done
ls -la "$state_dir"

# --- remove keeps the data, the configuration and the user; purge deletes them ---
say "dpkg --remove"
dpkg --remove signaling-server
[ ! -e /usr/bin/signaling-server ] || fail "dpkg --remove left the binary"
[ ! -e "$unit" ] || fail "dpkg --remove left the unit"
[ -f "$state_dir/signaling.db" ] || fail "dpkg --remove deleted the database"
[ -f "$env_file" ] || fail "dpkg --remove deleted $env_file (a conffile: only purge does)"
getent passwd "$user" >/dev/null || fail "dpkg --remove deleted the user"
say "dpkg --purge"
dpkg --purge signaling-server
for path in "$state_dir" "$env_file" "$(dirname "$env_file")" /usr/share/doc/signaling-server; do
  [ ! -e "$path" ] || fail "dpkg --purge left $path"
done
! getent passwd "$user" >/dev/null || fail "dpkg --purge left the user $user"
! getent group "$group" >/dev/null || fail "dpkg --purge left the group $group"
say "OK"
