#!/usr/bin/env bash
# Installs everything needed to build, run and test the server, from Debian 12 packages only.
# Idempotent: does nothing when every package is already installed. Run as root.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build ccache pkg-config git
  # libraries: Beast/Asio, Boost.JSON and Boost.URL, OpenSSL, libsodium, SQLite, libpq, spdlog, CLI11
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libssl-dev libsodium-dev
  libsqlite3-dev libpq-dev libspdlog-dev libcli11-dev
  # bcrypt of accounts imported from the FastAPI server (crypt_r)
  libcrypt-dev
  # the server's allocator (SIG_ALLOCATOR, src/CMakeLists.txt)
  libjemalloc-dev
  # tests: GoogleTest, Debian's Python with the end-to-end clients, a PostgreSQL server the tests
  # start themselves (scripts/test-postgres.sh), nginx as the cluster's load balancer
  libgtest-dev libgmock-dev python3 python3-pytest python3-requests python3-websockets python3-jwt
  python3-psycopg2 postgresql nginx-light curl openssl
  # the Debian package (tests/package/test_deb.sh): cpack's DEB generator runs dpkg-shlibdeps
  # (dpkg-dev) and file; postinst runs adduser; systemd-analyze checks the unit
  dpkg-dev file adduser systemd
  # the browser test (tests/browser): Debian's headless Chromium, driven by playwright-core from npm
  chromium
  # a TURN server the ICE tests start themselves (tests/e2e/turn_harness.py)
  coturn
  # fuzzing: libFuzzer with ASan + UBSan (scripts/fuzz.sh; Clang 14 cannot compile std::expected)
  clang-19 libclang-rt-19-dev llvm-19
  # LLVM's linker, for the sanitizer builds (cmake/sanitizers.cmake)
  lld
)
# npm fetches the Swagger UI and ReDoc files at build time (scripts/fetch-web-assets.sh); Debian's
# nodejs + npm unless a Node.js with npm is installed already.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
