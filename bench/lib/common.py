"""Shared helpers of the benchmarks: start/stop a server, seed users, mint tokens, tiny HTTP client.

Two servers ("targets"):
  ours      build/bench/bin/signaling-server (C++), Argon2id, SQLite
  baseline  $BASELINE_RUN (optional, outside this repository; default ../shared/baseline/seed_fastapi/run.sh)
            (FastAPI + uvicorn), bcrypt cost 12, SQLite
Each benchmark starts a fresh server with a fresh SQLite database in a temp directory. Ours runs
with its abuse limits off (OURS_LIMITS_OFF).
"""
import asyncio
import base64
import datetime
import hashlib
import hmac
import json
import os
import resource
import secrets
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OURS_BIN = Path(os.environ.get("OURS_BIN", ROOT / "build/bench/bin/signaling-server")).resolve()
# The FastAPI baseline is optional input from outside this repository: BASELINE_RUN names its
# run.sh; unset, BASELINE_RUN is a checkout beside this repository (../shared/baseline/seed_fastapi).
BASELINE_RUN = Path(os.environ.get("BASELINE_RUN", ROOT.parent / "shared/baseline/seed_fastapi/run.sh"))
RESULTS = Path(os.environ.get("BENCH_RESULTS", ROOT / "bench/results"))


def repo_path(path):
    """How a result file names a path: relative to the repository when inside it, else the bare
    file name (results are committed: no path of the machine that measured them)."""
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


SECRET_KEY = "bench-secret-key-0123456789abcdef0123456789abcdef"
PASSWORD = "password123"
TARGETS = ("ours", "baseline")
# A benchmark's whole load comes from one address (127.0.0.1) and one machine: thousands of
# registrations, connections and WebSockets that ours' per-address/per-user abuse limits would
# refuse. 0 turns each off; the limits themselves are measured by tests/e2e/test_abuse_limits.py.
OURS_LIMITS_OFF = {"AUTH_RATE_PER_ADDRESS_PER_MINUTE": "0", "AUTH_RATE_PER_ACCOUNT_PER_MINUTE": "0",
                   "MAX_CONNECTIONS_PER_ADDRESS": "0", "MAX_PENDING_HANDSHAKES": "0",
                   "MAX_WEBSOCKETS_PER_USER": "0"}

# 1,000 agents need > 2,000 descriptors in server and client; children inherit the limit.
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (_hard, _hard))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_serving(url, proc, failure, timeout=30):
    """Waits until `url` answers 200; raises RuntimeError(failure) if `proc` exits first or
    `timeout` seconds pass."""
    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError(failure)
        time.sleep(0.05)


class Server:
    """A fresh server process on 127.0.0.1 with its own SQLite file.

    fast_hash=True starts ours with the cheapest Argon2id cost (8 KiB, 1 pass) so that creating
    thousands of users for a non-login benchmark takes seconds; the login benchmark never uses it.
    The baseline's bcrypt cost cannot be changed, so its users are seeded straight into its
    database (see seed_users)."""

    def __init__(self, target, fast_hash=False, env=None):
        assert target in TARGETS
        wait_quiet()
        self.target = target
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = Path(tempfile.mkdtemp(prefix=f"bench-{target}-"))
        self.db = self.dir / "signaling.db"
        e = dict(os.environ, HOST="127.0.0.1", PORT=str(self.port), SECRET_KEY=SECRET_KEY,
                 DATABASE_URL=f"sqlite:///{self.db}")  # absolute path: sqlite:////tmp/...
        if target == "ours":
            e.update(OURS_LIMITS_OFF)  # one address, one machine: see OURS_LIMITS_OFF
        if target == "ours" and fast_hash:
            e.update(PASSWORD_HASH_MEMORY_KIB="8", PASSWORD_HASH_ITERATIONS="1")
        e.update(env or {})
        cmd = [str(OURS_BIN)] if target == "ours" else [str(BASELINE_RUN), str(self.port)]
        self.log = open(self.dir / "server.log", "wb")
        self.proc = subprocess.Popen(cmd, env=e, stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=self.dir)
        self.pid = self.proc.pid  # run.sh execs python: same pid
        wait_serving(self.url + "/openapi.json", self.proc, f"{target} did not start, see {self.dir}/server.log")

    def rss_kib(self):
        for line in open(f"/proc/{self.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def cpu_seconds(self):
        fields = open(f"/proc/{self.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wait_idle(self, timeout=120):
        """Wait until the server uses < 5% CPU over 0.5 s (e.g. the baseline still hashing
        requests that a warm-up left behind)."""
        end = time.time() + timeout
        while time.time() < end:
            c0 = self.cpu_seconds()
            time.sleep(0.5)
            if self.cpu_seconds() - c0 < 0.025:
                return
        print(f"warning: {self.target} still busy after {timeout}s")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        if not os.environ.get("BENCH_KEEP"):  # BENCH_KEEP=1 keeps the database and server.log
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# ---------------------------------------------------------------- other work on the machine

def _busy_seconds():
    """CPU seconds the whole machine has spent busy (user, nice, system, irq, softirq)."""
    v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / os.sysconf("SC_CLK_TCK")


def _own_seconds():
    """CPU seconds of this process and of its finished children (wrk)."""
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def wait_quiet(limit=float(os.environ.get("BENCH_QUIET_WAIT", 600))):
    """Before a measurement: wait (at most `limit` s) until other processes use < 10% of one
    core over 2 s, e.g. until somebody's compilation is over."""
    end = time.time() + limit
    while True:
        b0, o0 = _busy_seconds(), _own_seconds()
        time.sleep(2)
        other = (_busy_seconds() - b0 - (_own_seconds() - o0)) / 2
        if other < 0.10:
            return
        if time.time() > end:
            print(f"warning: machine still busy ({other:.0%} of a core used by others); measuring anyway")
            return


class CpuMeter:
    """Splits the CPU time spent during a measurement into server, load generator (this process
    and wrk) and other processes of the machine (others' compilations...): in seconds, and
    other_cpu_pct = the others' share in % of one core."""

    def __init__(self, server):
        self.server = server
        self.t, self.busy, self.own, self.srv = (time.perf_counter(), _busy_seconds(),
                                                 _own_seconds(), server.cpu_seconds())

    def read(self):
        wall = time.perf_counter() - self.t
        srv = self.server.cpu_seconds() - self.srv
        own = _own_seconds() - self.own
        other = max(0.0, _busy_seconds() - self.busy - srv - own)
        return {"server_cpu_s": round(srv, 2), "loadgen_cpu_s": round(own, 2),
                "other_cpu_pct": round(100 * other / wall)}


# ---------------------------------------------------------------- tokens and users

def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint_token(user_id, stamp=None, lifetime=3600):
    """An HS256 JWT signed with SECRET_KEY, as the servers issue: claims sub, iat, exp, jti, and
    with `stamp` also stm, the user's token stamp (users.token_stamp), without which ours refuses
    the token (401). The baseline has no token stamp: its tokens are minted with stamp=None.
    Minting avoids one hash-bound /login per seeded user; /login itself is benchmarked apart."""
    now = int(time.time())
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"sub": str(user_id), "iat": now, "exp": now + lifetime, "jti": secrets.token_hex(16)}
    if stamp is not None:
        claims["stm"] = stamp
    body = _b64(json.dumps(claims).encode())
    sig = hmac.new(SECRET_KEY.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(sig)}"


def token_claims(token):
    """The claims of a JWT (not verified)."""
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


async def login_stamps(port, users, password=PASSWORD):
    """{user id: token stamp} of ours' `users` [(id, email)], each from the stm of one POST /login.
    For ours on SQLite, whose database file the running server holds exclusively (another
    process reading it gets "database is locked"); PostgreSQL is read directly instead. Meant for
    servers at the fast hashing cost, where a login costs what the /register before it did."""
    stamps, queue = {}, list(users)[::-1]

    async def worker(conn):
        while queue:
            user_id, email = queue.pop()
            st, body = await conn.request("POST", "/login", body={"email": email, "password": password})
            assert st == 200, (st, body)
            claims = token_claims(json.loads(body)["access_token"])
            assert claims["sub"] == str(user_id) and claims.get("stm"), claims
            stamps[user_id] = claims["stm"]
    await run_workers(port, 8, worker)
    return stamps


def user_emails(n, prefix="user"):
    """The emails seed_users(server, n, prefix) registers, in order."""
    return [f"{prefix}{i}@bench.example.com" for i in range(n)]


def tokens_for(server, ids, emails):
    """A minted token for each of the users `ids` (with these `emails`): ours' carry the user's
    token stamp (see login_stamps), the baseline's have none."""
    if server.target == "ours":
        stamps = asyncio.run(login_stamps(server.port, zip(ids, emails)))
        return [mint_token(i, stamps[i]) for i in ids]
    return [mint_token(i) for i in ids]


def seed_users(server, n, prefix="user"):
    """Create n users; returns their ids. Ours: POST /register (the server must run with
    fast_hash). Baseline: rows inserted into its SQLite database with one real bcrypt cost-12
    hash of PASSWORD (what its POST /register would store), because 0.3 s of bcrypt per user
    would make set-up take minutes. Tokens for them: tokens_for(server, ids, user_emails(n, prefix))."""
    emails = user_emails(n, prefix)
    if server.target == "ours":
        async def register_all():
            async def worker(conns, queue, ids):
                while queue:
                    i, email = queue.pop()
                    st, body = await conns.request("POST", "/register",
                                                   body={"email": email, "password": PASSWORD})
                    assert st == 200, (st, body)
                    ids[i] = json.loads(body)["id"]
            queue, ids = list(enumerate(emails))[::-1], [None] * n
            await run_workers(server.port, 8, lambda c: worker(c, queue, ids))
            return ids
        return asyncio.run(register_all())
    import bcrypt
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(12)).decode()
    now = datetime.datetime.utcnow().isoformat(" ")
    with sqlite3.connect(server.db, timeout=30) as db:
        first = db.execute("SELECT COALESCE(MAX(id), 0) FROM users").fetchone()[0] + 1
        db.executemany("INSERT INTO users (email, hashed_password, created_at) VALUES (?, ?, ?)",
                       [(e, hashed, now) for e in emails])
    return list(range(first, first + n))


def setup_org(server, n_users, allocate=True, subnet="10.0.0.0/16", prefix="user"):
    """n_users users; user 0 creates organization 1, the others join it (POST .../join), and with
    allocate every user gets a virtual IP (POST .../allocate_ip). Returns (org_id, tokens)."""
    ids = seed_users(server, n_users, prefix)
    tokens = tokens_for(server, ids, user_emails(n_users, prefix))

    async def go():
        c = await HttpConn.open(server.port)
        st, body = await c.request("POST", "/organizations", tokens[0],
                                   {"name": "bench", "subnet": subnet})
        assert st == 200, (st, body)
        org = json.loads(body)["id"]
        await c.close()

        async def worker(conn, queue):
            while queue:
                t = queue.pop()
                if t is not tokens[0]:
                    st, body = await conn.request("POST", f"/organizations/{org}/join", t, {})
                    assert st == 200, (st, body)
                for _ in range(5 if allocate else 0):  # the baseline may fail under contention
                    st, body = await conn.request("POST", f"/organizations/{org}/allocate_ip", t, {})
                    if st == 200:
                        break
                else:
                    assert not allocate, (st, body)
        queue = tokens[::-1]
        await run_workers(server.port, 8, lambda conn: worker(conn, queue))
        return org
    return asyncio.run(go()), tokens


# ---------------------------------------------------------------- minimal HTTP/1.1 client

class HttpConn:
    """One keep-alive HTTP/1.1 connection (Content-Length and chunked bodies). When the server
    closes it (Connection: close, or a dropped socket: status 0), the next request reconnects."""

    @classmethod
    async def open(cls, port):
        self = cls()
        self.port, self.writer = port, None
        await self._connect()
        return self

    async def _connect(self):
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def request(self, method, path, token=None, body=None):
        # Like common HTTP clients, a request that finds its kept-alive connection closed by the
        # server is retried once on a new connection; a second failure is reported as status 0.
        for attempt in range(2):
            try:
                if self.writer is None:
                    await self._connect()
                return await self._request(method, path, token, body)
            except (asyncio.IncompleteReadError, ConnectionError):
                self.writer.close()
                self.writer = None
        return 0, b""

    async def _request(self, method, path, token, body):
        data = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(data)}\r\n"
        if body is not None:
            head += "Content-Type: application/json\r\n"
        if token:
            head += f"Authorization: Bearer {token}\r\n"
        self.writer.write(head.encode() + b"\r\n" + data)
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        headers = {}
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            k, _, v = line.decode().partition(":")
            headers[k.strip().lower()] = v.strip()
        if "content-length" in headers:
            payload = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            payload = b""
            while (size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)):
                payload += (await self.reader.readexactly(size + 2))[:-2]
            await self.reader.readuntil(b"\r\n")
        else:
            payload = b""
        if headers.get("connection", "").lower() == "close":
            self.writer.close()
            self.writer = None
        return status, payload

    async def close(self):
        if self.writer is not None:
            self.writer.close()


async def run_workers(port, n, make):
    """Open n connections and run make(conn) on each concurrently."""
    conns = [await HttpConn.open(port) for _ in range(n)]
    try:
        await asyncio.gather(*(make(c) for c in conns))
    finally:
        for c in conns:
            await c.close()


# ---------------------------------------------------------------- statistics and results

def percentile(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


def save(name, target, result):
    """Record one result in bench/results/<name>.<target>.json (read by bench/report.py)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = dict(result, benchmark=name, target=target,
                  date=datetime.datetime.now().isoformat(timespec="seconds"),
                  loadavg=open("/proc/loadavg").read().split()[:3])
    (RESULTS / f"{name}.{target}.json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"{name:14} {target:8} " + " ".join(f"{k}={v}" for k, v in result.items()
                                             if k not in ("benchmark", "target", "date")))
    return result
