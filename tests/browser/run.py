"""The browser test (ctest `browser_docs`): the Release server on a free loopback port with a
throwaway SQLite database, driven by Debian's headless Chromium through playwright-core.

    /usr/bin/python3 tests/browser/run.py [OUTPUT_DIR]     (default: build/browser)

1. installs playwright-core at the version pinned in package-lock.json (`npm ci` into
   OUTPUT_DIR/npm, skipped while the installed lock file is the same); Playwright's own browsers
   are never downloaded: the test uses /usr/bin/chromium (scripts/install-deps.sh);
2. starts the server (SIGNALING_SERVER_BINARY, else build/release/bin/signaling-server) as the
   end-to-end suite does (tests/e2e/harness.py: fast password hashing, abuse limits off);
3. through REST, as the seed README does: registers two users, the first creates an organization,
   the second joins it, each allocates a virtual IP (so that their WebSocket clients can register);
4. runs docs_and_ws.mjs under Node.js: /docs, "Authorize" with the OAuth2 password form,
   GET /organizations from the page, a screenshot (OUTPUT_DIR/docs-authorized.png); then the seed
   README's JavaScript WebSocket client (seed_ws_client.js) in the same page, and in a second one;
5. stops the server with SIGTERM, which must exit with code 0.

Exit code 0 on success; on failure the step that failed, the server's log and a failure
screenshot (OUTPUT_DIR/docs-failure.png) when the browser got that far.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "e2e"))

# The test's own database is a throwaway SQLite file, whatever the caller's shell says.
os.environ.pop("E2E_DATABASE", None)

from harness import Server, ServerBinaryMissing, server_binary  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
# Seconds; with the server's start and stop, within ctest's TIMEOUT (300). A run takes ~40 s here.
NODE_TIMEOUT = 170  # the whole browser part; each of its steps has its own, shorter one (60 s)
NPM_TIMEOUT = 100


def fail(message: str) -> "NoReturn":  # noqa: F821
    print(f"browser test: FAILED: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def install_playwright(out: Path) -> Path:
    """`npm ci` of package.json + package-lock.json into out/npm; the directory holding node_modules."""
    npm_dir = out / "npm"
    npm_dir.mkdir(parents=True, exist_ok=True)
    lock = (HERE / "package-lock.json").read_bytes()
    stamp = npm_dir / "installed-package-lock.json"
    if stamp.is_file() and stamp.read_bytes() == lock and (npm_dir / "node_modules" / "playwright-core").is_dir():
        return npm_dir
    npm = shutil.which("npm")
    if npm is None:
        fail("npm is not installed (scripts/install-deps.sh installs Node.js and npm)")
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(HERE / name, npm_dir / name)
    env = dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1")
    print(f"browser test: npm ci in {npm_dir}", flush=True)
    done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=npm_dir, env=env,
                          stdin=subprocess.DEVNULL, timeout=NPM_TIMEOUT)
    if done.returncode != 0:
        fail(f"npm ci exited with {done.returncode} in {npm_dir}")
    stamp.write_bytes(lock)
    return npm_dir


def set_up_accounts(server: Server) -> dict:
    """Two users in one organization, each with a virtual IP, through the REST API."""
    api = server.client()
    tag = uuid.uuid4().hex[:8]
    owner = api.new_user(f"docs-{tag}")
    peer = api.new_user(f"peer-{tag}")
    org = api.create_org(owner, subnet="10.77.0.0/24", name=f"Browser Test Org {tag}")
    api.join(peer, org["id"])
    owner_ip = api.allocate(owner, org["id"])["virtual_ip"]
    peer_ip = api.allocate(peer, org["id"])["virtual_ip"]
    return {
        "email": owner.email, "password": owner.password, "org_name": org["name"],
        "clients": [{"token": owner.token, "virtual_ip": owner_ip, "email": owner.email},
                    {"token": peer.token, "virtual_ip": peer_ip, "email": peer.email}],
    }


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO_ROOT / "build" / "browser"
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("docs-authorized.png", "docs-failure.png"):
        (out / stale).unlink(missing_ok=True)
    if not os.access(CHROMIUM, os.X_OK):
        fail(f"{CHROMIUM} is missing (Debian's package chromium; scripts/install-deps.sh installs it)")
    node = shutil.which("node")
    if node is None:
        fail("node is not installed (scripts/install-deps.sh installs Node.js and npm)")
    try:
        binary = server_binary()
    except ServerBinaryMissing as missing:
        fail(str(missing))
    npm_dir = install_playwright(out)

    with tempfile.TemporaryDirectory(prefix="browser-test-") as workdir:
        server = Server(binary, Path(workdir)).start()
        try:
            config = set_up_accounts(server)
            config.update({"base_url": server.url, "port": server.port, "out_dir": str(out),
                           "npm_dir": str(npm_dir), "chromium": str(CHROMIUM),
                           "seed_client": str(HERE / "seed_ws_client.js")})
            print(f"browser test: server {server.url} ({binary}); organization {config['org_name']!r}", flush=True)
            try:
                node_run = subprocess.run([node, str(HERE / "docs_and_ws.mjs")], input=json.dumps(config).encode(),
                                          timeout=NODE_TIMEOUT)
                node_code = node_run.returncode
            except subprocess.TimeoutExpired:
                node_code = None
        finally:
            stop_code = server.stop()
        if node_code != 0:
            print(f"browser test: the server's log:\n{server.log()}", file=sys.stderr)
            fail("the browser part timed out" if node_code is None else f"the browser part exited with {node_code}")
        if stop_code != 0:
            fail(f"the server exited with {stop_code} on SIGTERM; its log:\n{server.log()}")
    print("browser test: passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
