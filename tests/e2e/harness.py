"""Shared machinery of the end-to-end suite: running the real signaling-server binary, a small HTTP
client bound to one server, and the assertions every test file uses for the contract's response
shapes (PROTOCOL.md §1).

Nothing here knows about individual endpoints beyond the few calls that set up state (register,
log in, create or join an organization); the tests spell out what they check.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
import signal
import sqlite3
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BINARY = REPO_ROOT / "build" / "release" / "bin" / "signaling-server"

# Variables the server reads; scrubbed from the inherited environment so that a developer's shell
# cannot change what a test runs against.
SERVER_VARIABLES = (
    "HOST", "PORT", "DATABASE_URL", "SECRET_KEY", "ACCESS_TOKEN_EXPIRE_MINUTES", "CORS_ORIGINS",
    "PASSWORD_HASH_MEMORY_KIB", "PASSWORD_HASH_ITERATIONS", "HASH_THREADS", "HASH_QUEUE_LIMIT",
    "DATABASE_THREADS", "DATABASE_QUEUE_LIMIT", "IO_THREADS", "HTTP_READ_TIMEOUT_SECONDS",
    "LOG_LEVEL", "LOG_FORMAT", "TLS_CERT_FILE", "TLS_KEY_FILE", "REGISTER_TIMEOUT_SECONDS",
    "WS_PING_INTERVAL_SECONDS", "WS_IDLE_TIMEOUT_SECONDS", "WS_SEND_TIMEOUT_SECONDS",
    "WS_MAX_MESSAGE_BYTES", "WS_QUEUE_LIMIT_BYTES", "WS_RATE_LIMIT_PER_SECOND", "WS_RATE_LIMIT_BURST",
    "CLUSTER_DEAD_AFTER_SECONDS", "JWT_ISSUER", "JWT_AUDIENCE", "MAX_ADDRESSES_PER_MEMBER",
    "AUTH_RATE_PER_ADDRESS_PER_MINUTE", "AUTH_BURST_PER_ADDRESS", "AUTH_RATE_PER_ACCOUNT_PER_MINUTE",
    "AUTH_BURST_PER_ACCOUNT", "MAX_CONNECTIONS_PER_ADDRESS", "MAX_PENDING_HANDSHAKES", "MAX_WEBSOCKETS_PER_USER",
    "TRUSTED_PROXIES", "ACCESS_LOG", "STUN_URLS", "TURN_URLS", "TURN_SECRET", "TURN_CREDENTIAL_TTL_SECONDS",
    "METRICS_TOKEN",
)

# Fast Argon2id: the contract's hashing is exercised, only at a cost fit for tests.
FAST_HASHING = {"PASSWORD_HASH_MEMORY_KIB": "8", "PASSWORD_HASH_ITERATIONS": "1"}

# Every client of a test comes from 127.0.0.1 and the suites create hundreds of users and
# connections in seconds: the abuse limits are off unless a test sets them (test_abuse_limits.py
# does, and also runs the server with its defaults: env={name: None for name in ABUSE_LIMITS_OFF}).
ABUSE_LIMITS_OFF = {"AUTH_RATE_PER_ADDRESS_PER_MINUTE": "0", "AUTH_RATE_PER_ACCOUNT_PER_MINUTE": "0",
                    "MAX_CONNECTIONS_PER_ADDRESS": "0", "MAX_PENDING_HANDSHAKES": "0", "MAX_WEBSOCKETS_PER_USER": "0"}

HTTP_TIMEOUT = 30  # seconds; only a guard against a hung server, never a synchronisation device
START_TIMEOUT = 20
STOP_TIMEOUT = 20

LISTENING = re.compile(r"listening on https?://(?P<host>[^\s:]+):(?P<port>\d+)")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


class ServerBinaryMissing(RuntimeError):
    pass


# -- the database under test -----------------------------------------------------------------------
# E2E_DATABASE=postgres runs every server of the suite on PostgreSQL (the test PostgreSQL of
# scripts/test-postgres.sh, named by E2E_POSTGRES_URL or the file E2E_POSTGRES_URL_FILE), each in
# a schema of its own; anything else (the default) on SQLite files.

def database_backend() -> str:
    return "postgres" if os.environ.get("E2E_DATABASE") == "postgres" else "sqlite"


def postgres_server_url() -> str:
    url = os.environ.get("E2E_POSTGRES_URL")
    if not url and os.environ.get("E2E_POSTGRES_URL_FILE"):
        url = Path(os.environ["E2E_POSTGRES_URL_FILE"]).read_text().strip()
    if not url:
        raise RuntimeError("E2E_DATABASE=postgres needs E2E_POSTGRES_URL or E2E_POSTGRES_URL_FILE")
    return url


def postgres_url(schema: str) -> str:
    """The test server's URL with `schema` as the search_path (created if missing)."""
    import psycopg2  # Debian's python3-psycopg2; only needed on PostgreSQL

    server = postgres_server_url()
    with psycopg2.connect(server) as db, db.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    return server + ("&" if "?" in server else "?") + f"options=-csearch_path%3D{schema}"


def schema_for(database: Path) -> str:
    """A PostgreSQL schema standing for the SQLite file `database` would be: same path, same data."""
    return "e2e_" + hashlib.sha1(str(database).encode()).hexdigest()[:16]


class PortBusy(RuntimeError):
    pass


def server_binary() -> Path:
    """The binary under test: $SIGNALING_SERVER_BINARY, else the release build of this checkout."""
    configured = os.environ.get("SIGNALING_SERVER_BINARY")
    binary = Path(configured) if configured else DEFAULT_BINARY
    if not binary.is_file() or not os.access(binary, os.X_OK):
        how = (f"SIGNALING_SERVER_BINARY={configured!r} is not an executable file" if configured else
               f"SIGNALING_SERVER_BINARY is not set and {DEFAULT_BINARY} does not exist")
        raise ServerBinaryMissing(
            f"{how}. Build the server (cmake --preset release && cmake --build build/release "
            f"--target signaling-server) or point SIGNALING_SERVER_BINARY at it.")
    return binary.resolve()


class Server:
    """One signaling-server process with its own working directory and database (a SQLite file,
    or a PostgreSQL schema named after that file's path: see database_backend)."""

    def __init__(self, binary: Path, workdir: Path, *, host: str = "127.0.0.1", port: int = 0,
                 secret_key: str | None = "generate", env: dict[str, str] | None = None,
                 database: Path | None = None, args: list[str] | None = None):
        self.binary = binary
        self.workdir = Path(workdir)
        self.database = Path(database) if database else self.workdir / "test.db"
        self.host = host
        self.requested_port = port
        self.secret_key = secrets.token_hex(32) if secret_key == "generate" else secret_key
        self.extra_env = dict(env or {})  # a None value unsets the variable
        self.args = list(args or [])
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        self._lines: list[str] = []
        self._lines_changed = threading.Condition()
        self._reader: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def database_url(self) -> str:
        if database_backend() == "postgres":
            return postgres_url(schema_for(self.database))
        return f"sqlite:///{self.database}"

    def sql(self, statement: str, parameters: tuple = ()) -> int:
        """Runs one statement on the server's database, as an operator would; the row count.
        Placeholders are %s (converted for SQLite). On SQLite a running server is restarted around
        it (on the same port)."""
        if database_backend() == "postgres":
            import psycopg2

            with psycopg2.connect(self.database_url) as db, db.cursor() as cursor:
                cursor.execute(statement, parameters)
                return cursor.rowcount
        # A running server holds its SQLite file exclusively (docs/SECURITY.md: the -shm file cannot
        # be tampered with): the operator stops it, changes the file, and starts it again, on the
        # same port so that the test's clients keep working.
        running = self.running
        if running:
            code = self.stop()
            assert code == 0, f"exit code {code} on SIGTERM; log:\n{self.log()}"
        try:
            db = sqlite3.connect(self.database, timeout=30)
            try:
                with db:  # commits
                    return db.execute(statement.replace("%s", "?"), parameters).rowcount
            finally:
                db.close()  # a connection left open would keep the restarted server out
        finally:
            if running:
                requested, self.requested_port = self.requested_port, self.port
                try:
                    self.start(bind_retry_seconds=10)
                finally:
                    self.requested_port = requested

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in SERVER_VARIABLES}
        env.update({"HOST": self.host, "PORT": str(self.requested_port),
                    "DATABASE_URL": self.database_url, "LOG_LEVEL": "info"})
        env.update(FAST_HASHING)
        env.update(ABUSE_LIMITS_OFF)
        if self.secret_key is not None:
            env["SECRET_KEY"] = self.secret_key
        for name, value in self.extra_env.items():  # None: leave the variable unset
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def start(self, bind_retry_seconds: float = 0) -> "Server":
        """Starts the process and waits for its "listening on" line. A fixed port that is busy
        (another suite's server on 8000, say) is retried for up to `bind_retry_seconds`."""
        deadline = time.monotonic() + bind_retry_seconds
        while True:
            try:
                return self._start_once()
            except PortBusy:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.5)  # waiting for another process to free the port

    def _start_once(self) -> "Server":
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._lines = []
        self.process = subprocess.Popen([str(self.binary), *self.args], cwd=self.workdir, env=self.environment(),
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT)
        self._reader = threading.Thread(target=self._read_output, args=(self.process,), daemon=True)
        self._reader.start()
        match = self.wait_for_log(LISTENING, timeout=START_TIMEOUT)
        if match is None:
            self.kill()
            if "Address already in use" in self.log():
                raise PortBusy(f"port {self.requested_port} is busy; log:\n{self.log()}")
            raise RuntimeError(f"signaling-server did not start; its log:\n{self.log()}")
        self.port = int(match.group("port"))
        if self.requested_port:
            assert self.port == self.requested_port, self.log()
        return self

    def _read_output(self, process: subprocess.Popen) -> None:
        """Standard output and error, in one stream: log() is everything the process wrote."""
        for raw in iter(process.stdout.readline, b""):
            with self._lines_changed:
                self._lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._lines_changed.notify_all()
        with self._lines_changed:  # EOF: the process is gone; wake up waiters
            self._lines_changed.notify_all()

    def wait_for_log(self, pattern: re.Pattern | str, timeout: float) -> re.Match | None:
        """The first log line matching `pattern`; None when the process ends or `timeout` passes."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        seen = 0
        with self._lines_changed:
            while True:
                for line in self._lines[seen:]:
                    if found := regex.search(line):
                        return found
                seen = len(self._lines)
                remaining = deadline - time.monotonic()
                reader_done = self._reader is not None and not self._reader.is_alive()
                if remaining <= 0 or reader_done:
                    return None
                self._lines_changed.wait(min(remaining, 0.5))

    def log(self) -> str:
        with self._lines_changed:
            return "\n".join(self._lines)

    def terminate(self) -> None:
        """Sends SIGTERM without waiting."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = STOP_TIMEOUT) -> int:
        assert self.process is not None
        code = self.process.wait(timeout=timeout)
        if self._reader is not None:
            self._reader.join(timeout=5)
        return code

    def stop(self) -> int:
        """SIGTERM, then the exit code (the contract wants 0)."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.terminate()
        try:
            return self.wait()
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"signaling-server ignored SIGTERM; its log:\n{self.log()}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"

    def client(self) -> "Client":
        return Client(self.url)


# -- HTTP client ---------------------------------------------------------------------------------

DEFAULT_PASSWORD = "password123"
_MISSING = object()


def unique_email(tag: str = "user") -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


def unique_name(tag: str = "org") -> str:
    return f"{tag}-{uuid.uuid4().hex[:8]}"


@dataclass
class User:
    id: int
    email: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Client:
    """requests bound to one server; `as_user` adds the bearer token."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = requests.Session()

    def request(self, method: str, path: str, *, as_user: User | None = None, json=_MISSING,
                headers: dict[str, str] | None = None, **kwargs) -> requests.Response:
        all_headers = dict(as_user.headers) if as_user else {}
        all_headers.update(headers or {})
        if json is not _MISSING:
            kwargs["json"] = json
        return self.http.request(method, self.base_url + path, headers=all_headers,
                                 timeout=HTTP_TIMEOUT, **kwargs)

    def get(self, path, **kw): return self.request("GET", path, **kw)
    def post(self, path, **kw): return self.request("POST", path, **kw)
    def patch(self, path, **kw): return self.request("PATCH", path, **kw)
    def delete(self, path, **kw): return self.request("DELETE", path, **kw)

    # -- set-up helpers (each asserts success, so a broken set-up fails loudly) -----------------

    def register(self, email: str | None = None, password: str = DEFAULT_PASSWORD) -> dict:
        return expect_ok(self.post("/register", json={"email": email or unique_email(), "password": password}))

    def login(self, email: str, password: str = DEFAULT_PASSWORD) -> str:
        return expect_ok(self.post("/login", json={"email": email, "password": password}))["access_token"]

    def new_user(self, tag: str = "user", password: str = DEFAULT_PASSWORD) -> User:
        created = self.register(unique_email(tag), password)
        return User(created["id"], created["email"], password, self.login(created["email"], password))

    def create_org(self, owner: User, subnet: str = "10.0.0.0/24", name: str | None = None,
                   join_policy: str | None = None) -> dict:
        body = {"name": name or unique_name(), "subnet": subnet}
        if join_policy is not None:
            body["join_policy"] = join_policy
        return expect_ok(self.post("/organizations", as_user=owner, json=body))

    def join(self, user: User, org_id: int, invite_code: str | None = None) -> dict:
        body = {} if invite_code is None else {"invite_code": invite_code}
        return expect_ok(self.post(f"/organizations/{org_id}/join", as_user=user, json=body))

    def allocate(self, user: User, org_id: int, **body) -> dict:
        return expect_ok(self.post(f"/organizations/{org_id}/allocate_ip", as_user=user, json=body))

    def members(self, user: User, org_id: int) -> list[dict]:
        return expect_ok(self.get(f"/organizations/{org_id}/members", as_user=user))

    def ips(self, user: User, org_id: int) -> list[dict]:
        return expect_ok(self.get(f"/organizations/{org_id}/ips", as_user=user))

    def organizations(self, user: User) -> list[dict]:
        return expect_ok(self.get("/organizations", as_user=user))

    def set_role(self, owner: User, org_id: int, user_id: int, role: str) -> dict:
        return expect_ok(self.patch(f"/organizations/{org_id}/members/{user_id}", as_user=owner,
                                    json={"role": role}))


# -- assertions ----------------------------------------------------------------------------------

def _describe(response: requests.Response) -> str:
    return f"{response.request.method} {response.request.url} -> {response.status_code} {response.text[:500]!r}"


def expect_json(response: requests.Response, status: int):
    assert response.status_code == status, _describe(response)
    assert response.headers.get("Content-Type", "").startswith("application/json"), _describe(response)
    return response.json()


def expect_ok(response: requests.Response):
    return expect_json(response, 200)


def expect_error(response: requests.Response, status: int, detail: str) -> None:
    """{"detail": "<detail>"} with the status and the headers the contract ties to it."""
    assert expect_json(response, status) == {"detail": detail}, _describe(response)
    if status == 401:
        assert response.headers.get("WWW-Authenticate") == "Bearer", _describe(response)
    if status in (429, 503):
        assert response.headers.get("Retry-After"), _describe(response)


def expect_status_error(response: requests.Response, status: int) -> str:
    """An error of `status` whose message is not part of the contract: returns it."""
    body = expect_json(response, status)
    assert set(body) == {"detail"} and isinstance(body["detail"], str) and body["detail"], _describe(response)
    return body["detail"]


def expect_validation(response: requests.Response, *errors) -> list[dict]:
    """A 422 carrying exactly `errors`, each (loc, msg, type); msg or type None: not compared."""
    detail = expect_json(response, 422).get("detail")
    assert isinstance(detail, list), _describe(response)
    assert len(detail) == len(errors), _describe(response)
    for got, (loc, msg, kind) in zip(detail, errors):
        assert set(got) == {"loc", "msg", "type"}, _describe(response)
        assert got["loc"] == list(loc), _describe(response)
        if msg is not None:
            assert got["msg"] == msg, _describe(response)
        if kind is not None:
            assert got["type"] == kind, _describe(response)
    return detail


def parse_timestamp(text: str) -> dt.datetime:
    assert isinstance(text, str) and TIMESTAMP.match(text), f"not an RFC 3339 UTC timestamp with microseconds: {text!r}"
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)


def assert_recent(text: str, before: dt.datetime, after: dt.datetime) -> None:
    """`text` is a contract timestamp taken between `before` and `after` (same host clock; one
    second of slack for the two clocks' rounding)."""
    stamp = parse_timestamp(text)
    slack = dt.timedelta(seconds=1)
    assert before - slack <= stamp <= after + slack, (text, before, after)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
