"""Operations (PROTOCOL.md §6): health, readiness, the API description, configuration sources, the
generated signing key, restarts and SIGTERM."""

from __future__ import annotations

import http.client
import json
import re
import stat
import subprocess
import threading

import jwt
import pytest

from harness import DEFAULT_PASSWORD, Server, expect_error, expect_ok, postgres_url, schema_for, unique_email

SLOW_HASHING = {"PASSWORD_HASH_MEMORY_KIB": "65536", "PASSWORD_HASH_ITERATIONS": "3"}

REST_ROUTES = {
    "/register": {"post"},
    "/login": {"post"},
    "/me": {"get"},
    "/logout": {"post"},
    "/organizations": {"get", "post"},
    "/organizations/{org_id}": {"get"},
    "/organizations/{org_id}/join": {"post"},
    "/organizations/{org_id}/invites": {"post"},
    "/organizations/{org_id}/members": {"get"},
    "/organizations/{org_id}/members/{user_id}": {"delete", "patch"},
    "/organizations/{org_id}/allocate_ip": {"post"},
    "/organizations/{org_id}/ips": {"get"},
    "/organizations/{org_id}/ips/{virtual_ip}": {"delete"},
    "/organizations/{org_id}/peers": {"get"},
    "/healthz": {"get"},
    "/readyz": {"get"},
    "/metrics": {"get"},
    "/openapi.json": {"get"},
}


# -- health and description ----------------------------------------------------------------------------

def expect_status_text(response) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain"), response.headers
    return response.text


def test_healthz(api):
    assert expect_ok(api.get("/healthz")) == {"status": "ok"}


def test_readyz(api):
    assert expect_ok(api.get("/readyz")) == {"status": "ready"}


def test_openapi_document_is_json(api):
    document = expect_ok(api.get("/openapi.json"))
    assert document["openapi"].startswith("3.1")


def test_openapi_document_describes_every_rest_route(api):
    paths = expect_ok(api.get("/openapi.json")).get("paths", {})
    described = {path: {m for m in operations if m in ("get", "post", "patch", "delete", "put")}
                 for path, operations in paths.items()}
    missing = {path: methods - described.get(path, set()) for path, methods in REST_ROUTES.items()
               if methods - described.get(path, set())}
    assert not missing, f"routes missing from /openapi.json: {missing}"


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_documentation_pages_work_offline(api, page):
    response = api.get(page)
    assert response.status_code == 200, (page, response.status_code, response.text[:200])
    assert response.headers["Content-Type"].startswith("text/html")
    external = re.findall(r"""(?:src|href)\s*=\s*["'](https?:)?//""", response.text)
    assert not external, f"{page} loads assets from another host"


def test_metrics_are_prometheus_text(api):
    api.get("/healthz")
    response = api.get("/metrics")
    assert response.status_code == 200, response.text[:200]
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = [line for line in response.text.splitlines() if line and not line.startswith("#")]
    label = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
    sample = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{(?:" + label + r")(?:," + label + r")*\})? "
                        r"(?:-?[0-9.eE+\-]+|NaN|[+-]Inf)(\s+\d+)?$")
    assert samples and all(sample.match(line) for line in samples), response.text[:500]


# -- configuration ---------------------------------------------------------------------------------------

def test_a_dotenv_file_in_the_working_directory_is_read(start_server, tmp_path):
    workdir = tmp_path / "with-dotenv"
    workdir.mkdir()
    (workdir / ".env").write_text("ACCESS_TOKEN_EXPIRE_MINUTES=5\n")
    server = start_server(workdir=workdir)
    client = server.client()
    user = client.register()
    body = expect_ok(client.post("/login", json={"email": user["email"], "password": DEFAULT_PASSWORD}))
    assert body["expires_in"] == 300


def test_command_line_flags_win_over_the_environment(start_server):
    server = start_server(env={"ACCESS_TOKEN_EXPIRE_MINUTES": "3"}, args=["--access-token-expire-minutes", "7"])
    client = server.client()
    user = client.register()
    body = expect_ok(client.post("/login", json={"email": user["email"], "password": DEFAULT_PASSWORD}))
    assert body["expires_in"] == 420


@pytest.mark.sqlite_only
def test_the_database_defaults_to_signaling_db_in_the_working_directory(start_server, tmp_path):
    workdir = tmp_path / "defaults"
    server = start_server(workdir=workdir, env={"DATABASE_URL": None}, secret_key=None)
    user = server.client().new_user()
    assert expect_ok(server.client().get("/me", as_user=user))["id"] == user.id
    assert (workdir / "signaling.db").is_file()
    assert stat.S_IMODE((workdir / "signaling.db.secret").stat().st_mode) == 0o600


def test_json_logs_are_one_object_per_line(start_server):
    server = start_server(env={"LOG_FORMAT": "json"})
    server.client().new_user()
    assert server.stop() == 0
    lines = [line for line in server.log().splitlines() if line.strip()]
    assert lines
    for line in lines:
        record = json.loads(line)
        assert {"time", "level", "message"} <= set(record), line


def test_the_log_never_shows_passwords_tokens_or_the_secret_key(start_server):
    server = start_server(env={"LOG_LEVEL": "trace"})
    client = server.client()
    password = "Very-Distinctive-Password-4711"
    user = client.new_user(password=password)
    client.post("/login", json={"email": user.email, "password": "Wrong-Distinctive-Password-4712"})
    client.get("/me", headers={"Authorization": "Bearer " + user.token[:-4] + "AAAA"})
    client.get("/me", as_user=user)
    assert server.stop() == 0
    log = server.log()
    for secret in (password, "Wrong-Distinctive-Password-4712", user.token, user.token.split(".")[2],
                   server.secret_key):
        assert secret not in log


@pytest.mark.sqlite_only
def test_with_a_secret_key_no_key_file_is_written(server):
    assert not server.database.with_name(server.database.name + ".secret").exists()


# -- generated signing key and restarts ------------------------------------------------------------------

@pytest.mark.sqlite_only
def test_a_generated_secret_is_private_and_survives_a_restart(start_server, tmp_path):
    workdir = tmp_path / "keyless"
    first = start_server(workdir=workdir, secret_key=None)
    key_file = first.database.with_name(first.database.name + ".secret")
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert key
    assert re.search(r"SECRET_KEY is not set", first.log())

    client = first.client()
    user = client.register()
    token = client.login(user["email"])
    assert jwt.decode(token, key, algorithms=["HS256"])["sub"] == str(user["id"])
    owner = client.new_user()
    org = client.create_org(owner)
    allocation = client.allocate(owner, org["id"])
    assert first.stop() == 0

    second = start_server(workdir=workdir, secret_key=None)
    assert key_file.read_text().strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    client = second.client()
    assert expect_ok(client.get("/me", headers={"Authorization": f"Bearer {token}"})) == user
    # The data survived too: the organization and its allocation are still there.
    assert client.organizations(owner) == [org]
    assert client.allocate(owner, org["id"]) == allocation


@pytest.mark.postgres_only
def test_without_a_secret_key_every_process_uses_the_one_kept_in_the_database(start_server, tmp_path):
    workdir = tmp_path / "shared-key"
    first = start_server(workdir=workdir, secret_key=None)
    assert "kept in the database" in first.log()
    client = first.client()
    user = client.register()
    token = client.login(user["email"])
    # Another process on the same database, and the first one restarted: the same key, no files.
    second = start_server(workdir=workdir, secret_key=None)
    assert expect_ok(second.client().get("/me", headers={"Authorization": f"Bearer {token}"})) == user
    assert first.stop() == 0
    again = start_server(workdir=workdir, secret_key=None)
    assert expect_ok(again.client().get("/me", headers={"Authorization": f"Bearer {token}"})) == user
    assert not list(workdir.glob("*.secret"))


@pytest.mark.postgres_only
def test_metrics_of_a_cluster_process(api):
    api.new_user()  # a registration: nothing to publish yet, but the process is in step
    text = expect_status_text(api.get("/metrics"))
    values = {line.split()[0]: float(line.split()[1]) for line in text.splitlines() if line.startswith("signaling_cluster")}
    assert values["signaling_cluster_ready"] == 1
    assert values["signaling_cluster_reconciliations_total"] >= 1
    for name in ("events_received", "publish_batches", "notifications_sent", "publish_failures", "peers_reaped"):
        assert f"signaling_cluster_{name}_total" in values, name


@pytest.mark.sqlite_only
def test_a_single_process_has_no_cluster_metrics(api):
    assert "signaling_cluster" not in expect_status_text(api.get("/metrics"))


@pytest.mark.postgres_only
@pytest.mark.parametrize("scheme", ["postgres://", "postgresql+psycopg2://"])
def test_the_other_spellings_of_a_postgresql_url_work(start_server, tmp_path, scheme):
    workdir = tmp_path / "spelling"
    database_url = postgres_url(schema_for(workdir / "test.db")).replace("postgresql://", scheme, 1)
    server = start_server(workdir=workdir, env={"DATABASE_URL": database_url})
    client = server.client()
    user = client.new_user()
    assert expect_ok(client.get("/me", as_user=user))["id"] == user.id


@pytest.mark.sqlite_only
def test_a_key_file_readable_by_others_is_refused(binary, start_server, tmp_path):
    workdir = tmp_path / "leaky"
    first = start_server(workdir=workdir, secret_key=None)
    assert first.stop() == 0
    key_file = first.database.with_name(first.database.name + ".secret")
    key_file.chmod(0o644)
    second = Server(binary, workdir, secret_key=None)
    with pytest.raises(RuntimeError):
        second.start()
    assert second.wait() != 0
    assert "readable by others" in second.log()


def test_passwords_hashed_at_an_older_cost_still_log_in(start_server, tmp_path):
    workdir = tmp_path / "rehash"
    first = start_server(workdir=workdir, secret_key="k" * 40)
    email = first.client().register()["email"]
    assert first.stop() == 0
    stronger = start_server(workdir=workdir, secret_key="k" * 40,
                            env={"PASSWORD_HASH_MEMORY_KIB": "16", "PASSWORD_HASH_ITERATIONS": "2"})
    client = stronger.client()
    assert client.login(email)
    assert client.login(email)  # after the re-hash too
    expect_error(client.post("/login", json={"email": email, "password": "wrong-password"}), 401,
                 "Incorrect email or password")


def test_a_token_of_a_server_with_another_secret_is_refused_after_restart(start_server, tmp_path):
    workdir = tmp_path / "rotated"
    first = start_server(workdir=workdir, secret_key="first-secret-" * 4)
    client = first.client()
    user = client.register()
    token = client.login(user["email"])
    assert first.stop() == 0
    second = start_server(workdir=workdir, secret_key="second-secret-" * 4)
    expect_error(second.client().get("/me", headers={"Authorization": f"Bearer {token}"}), 401,
                 "Could not validate credentials")
    assert second.client().login(user["email"])  # the account itself is still there


# -- SIGTERM -----------------------------------------------------------------------------------------------

def test_sigterm_exits_0_and_closes_idle_connections(start_server):
    server = start_server()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("GET", "/healthz")
    assert json.loads(conn.getresponse().read()) == {"status": "ok"}
    server.terminate()
    assert server.wait() == 0, server.log()
    conn.sock.settimeout(10)
    assert conn.sock.recv(1) == b""
    conn.close()


def test_sigterm_lets_an_in_flight_request_finish(start_server):
    """A login is known to be in flight when a second one is turned away with 503 by a hashing
    pool that takes one at a time; SIGTERM then must still let the first one answer."""
    server = start_server(env={**SLOW_HASHING, "HASH_THREADS": "1", "HASH_QUEUE_LIMIT": "1"})
    client = server.client()
    email = unique_email()
    client.register(email)
    login = {"email": email, "password": DEFAULT_PASSWORD}

    for attempt in range(20):
        in_flight: dict = {}
        done = threading.Event()

        def first_login():
            try:
                in_flight["response"] = server.client().post("/login", json=login)
            except Exception as failure:  # reported below
                in_flight["error"] = failure
            done.set()

        thread = threading.Thread(target=first_login)
        thread.start()
        seen_busy = False
        while not done.is_set():
            probe = server.client().post("/login", json=login)
            if probe.status_code == 503:
                seen_busy = not done.is_set()
                break
        if seen_busy:
            server.terminate()
            thread.join(timeout=60)
            assert "error" not in in_flight, f"the in-flight login failed: {in_flight['error']!r}\n{server.log()}"
            response = in_flight["response"]
            assert response.status_code == 200, response.text
            assert response.json()["token_type"] == "bearer"
            assert server.wait() == 0, server.log()
            return
        thread.join(timeout=60)
    pytest.fail("never caught a login in flight (the probe logins always got through)")


def test_sigterm_right_after_connections_were_accepted_answers_every_request(start_server):
    """20 clients connect and send a request; SIGTERM arrives at once. Each must get its answer,
    whether the server had read its request yet or not, in every one of 15 rounds."""
    import socket

    for round_ in range(15):
        server = start_server()
        sockets = [socket.create_connection(("127.0.0.1", server.port), timeout=30) for _ in range(20)]
        for i, sock in enumerate(sockets):
            path = "/healthz" if i % 2 else "/openapi.json"
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        server.terminate()
        unanswered = []
        for i, sock in enumerate(sockets):
            received = b""
            try:
                while chunk := sock.recv(1 << 20):
                    received += chunk
            except (ConnectionResetError, socket.timeout) as failure:
                unanswered.append(f"connection {i}: {failure!r} after {received[:80]!r}")
                continue
            finally:
                sock.close()
            if not received.startswith(b"HTTP/1.1 200 "):
                unanswered.append(f"connection {i}: {received[:80]!r}")
        assert server.wait() == 0, server.log()
        assert not unanswered, f"round {round_}: " + "; ".join(unanswered)


# -- bad configuration ------------------------------------------------------------------------------

@pytest.mark.parametrize("variable, value, says", [
    ("PORT", "70000", "--port: Value 70000 not in range 0 to 65535"),
    ("LOG_FORMAT", "xml", "--log-format: xml not in {text,json}"),
    ("WS_IDLE_TIMEOUT_SECONDS", "-1", "--ws-idle-timeout-seconds: Value -1 not in range"),
    ("PASSWORD_HASH_MEMORY_KIB", "abc", "--password-hash-memory-kib: Value abc not in range"),
    ("DATABASE_URL", "mysql://x", "cannot start: DATABASE_URL must start with sqlite:///, postgresql:// or postgres://"),
    ("DATABASE_URL", "postgresql://127.0.0.1:1/nothing-listens-here?connect_timeout=2",
     "cannot start: cannot connect to PostgreSQL"),
    ("CLUSTER_DEAD_AFTER_SECONDS", "0.1", "--cluster-dead-after-seconds: Value 0.1 not in range"),
    ("STUN_URLS", "stun.example.org:3478", "STUN_URLS: not a stun: or stuns: URI"),
    ("STUN_URLS", "stun:ok.example.org, turn:turn.example.org", "STUN_URLS: not a stun: or stuns: URI"),
    ("TURN_URLS", "turn:turn.example.org?transport=sctp", "TURN_URLS: not a turn: or turns: URI"),
    ("TURN_URLS", "turn:turn.example.org", "TURN_URLS needs TURN_SECRET"),
    ("TURN_SECRET", "a-secret-without-servers", "TURN_SECRET is set but TURN_URLS is not"),
    ("TURN_CREDENTIAL_TTL_SECONDS", "0", "--turn-credential-ttl-seconds: Value 0 not in range"),
    ("METRICS_TOKEN", "short", "METRICS_TOKEN is too short: 5 bytes"),
])
def test_a_bad_setting_stops_the_start_with_a_clear_message_and_creates_nothing(binary, tmp_path, variable, value,
                                                                                 says):
    server = Server(binary, tmp_path, env={variable: value})
    result = subprocess.run([str(binary)], cwd=tmp_path, env=server.environment(), capture_output=True, text=True,
                            timeout=30)
    assert result.returncode != 0
    assert says in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []
