"""`signaling-server import --from <DATABASE_URL>`: migration from the FastAPI server.

- With the FastAPI baseline (its run.sh named by BASELINE_RUN, by default the checkout beside this
  repository that bench/lib/common.py uses too): data made through its REST API, imported,
  then used through ours: same passwords, same organizations, members and addresses, same ids.
- Without it (a clone of this repository alone): a database with the FastAPI server's tables
  (the DDL SQLAlchemy's create_all emits for its models) written by the test, on SQLite and, with
  E2E_DATABASE=postgres, in a PostgreSQL schema too.
- Refusals: a database that is not the FastAPI server's, rows this server cannot take.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

from harness import REPO_ROOT, Server, database_backend, expect_error, expect_ok, postgres_url

BASELINE_RUN = Path(os.environ.get("BASELINE_RUN", REPO_ROOT.parent / "shared/baseline/seed_fastapi/run.sh"))
BASELINE_MODULES = ("fastapi", "uvicorn", "sqlalchemy", "passlib", "bcrypt", "jose")

# bcrypt hashes (cost 4) made by Python's bcrypt, as passlib stores them.
ZED_PASSWORD, ZED_HASH = "zed-password-1", "$2b$04$hzFHFCHc6GvXwOSWiEsThepLYVK0EX.SKH7.xlwyY0L80wDOffHcO"
ANN_PASSWORD, ANN_HASH = "ann-password-2", "$2a$04$16Vuzd5VsEHpNp/jl47oIOwqWzI3wNHCF07DpHBYHjzk88FIB9X8u"


# -- running the import ----------------------------------------------------------------------------

def run_import(target: Server, source_url: str, *flags: str) -> subprocess.CompletedProcess:
    """The import into `target`'s database (the server not running), with --json."""
    return subprocess.run([str(target.binary), "import", "--from", source_url, "--json", *flags],
                          cwd=target.workdir, env=target.environment(), capture_output=True, text=True,
                          timeout=120)


def report_of(done: subprocess.CompletedProcess) -> dict:
    assert done.stdout.strip(), f"no report; stderr:\n{done.stderr}"
    return json.loads(done.stdout)


def tables(report: dict) -> dict[str, tuple[int, int, int]]:
    return {row["table"]: (row["before"], row["after"], row["imported"]) for row in report["tables"]}


def new_target(binary, tmp_path) -> Server:
    target = Server(binary, tmp_path / "ours")
    target.workdir.mkdir(parents=True, exist_ok=True)
    return target


def stored_hash(target: Server, email: str) -> str:
    """The password hash our database holds for `email` (the server stopped on SQLite)."""
    if database_backend() == "postgres":
        import psycopg2

        with psycopg2.connect(target.database_url) as db, db.cursor() as cursor:
            cursor.execute("SELECT password_hash FROM users WHERE email = %s", (email,))
            return cursor.fetchone()[0]
    db = sqlite3.connect(target.database)
    try:
        return db.execute("SELECT password_hash FROM users WHERE email = ?", (email,)).fetchone()[0]
    finally:
        db.close()


def login(client, email: str, password: str) -> dict:
    token = client.login(email, password)
    return {"Authorization": f"Bearer {token}"}


# -- a FastAPI database written by the test ----------------------------------------------------------

# What SQLAlchemy 1.4's create_all emits for the FastAPI server's models (app/models.py), per dialect.
def fastapi_ddl(serial: str, timestamp: str) -> list[str]:
    return [
        f"CREATE TABLE users (id {serial} NOT NULL, email VARCHAR(255) NOT NULL, hashed_password VARCHAR(255) NOT NULL,"
        f" created_at {timestamp} NOT NULL, PRIMARY KEY (id))",
        "CREATE UNIQUE INDEX ix_users_email ON users (email)",
        f"CREATE TABLE organizations (id {serial} NOT NULL, name VARCHAR(255) NOT NULL, subnet VARCHAR(64) NOT NULL,"
        f" owner_id INTEGER NOT NULL, created_at {timestamp} NOT NULL, PRIMARY KEY (id),"
        " FOREIGN KEY(owner_id) REFERENCES users (id))",
        f"CREATE TABLE organization_members (id {serial} NOT NULL, organization_id INTEGER NOT NULL,"
        f" user_id INTEGER NOT NULL, role VARCHAR(32) NOT NULL, joined_at {timestamp} NOT NULL, PRIMARY KEY (id),"
        " CONSTRAINT uq_org_member UNIQUE (organization_id, user_id),"
        " FOREIGN KEY(organization_id) REFERENCES organizations (id), FOREIGN KEY(user_id) REFERENCES users (id))",
        f"CREATE TABLE virtual_ips (id {serial} NOT NULL, organization_id INTEGER NOT NULL, user_id INTEGER NOT NULL,"
        f" virtual_ip VARCHAR(45) NOT NULL, allocated_at {timestamp} NOT NULL, PRIMARY KEY (id),"
        " CONSTRAINT uq_org_virtual_ip UNIQUE (organization_id, virtual_ip),"
        " CONSTRAINT uq_org_user_ip UNIQUE (organization_id, user_id),"
        " FOREIGN KEY(organization_id) REFERENCES organizations (id), FOREIGN KEY(user_id) REFERENCES users (id))",
    ]


def fastapi_rows(*, subnet: str = "10.50.0.0/24", zed_ip: str = "10.50.0.5") -> list[tuple[str, tuple]]:
    """Two users (one email in capitals, as the FastAPI server keeps it), one organization whose
    addresses leave holes: .1 and .5 held, .2-.4 free."""
    at = "2026-11-30 08:15:42.123456"
    return [
        ("INSERT INTO users VALUES (%s, %s, %s, %s)", (4, "Zed@Example.com", ZED_HASH, at)),
        ("INSERT INTO users VALUES (%s, %s, %s, %s)", (7, "ann@example.com", ANN_HASH, "2026-11-30 08:16:00")),
        ("INSERT INTO organizations VALUES (%s, %s, %s, %s, %s)", (3, "imported-org", subnet, 7, at)),
        ("INSERT INTO organization_members VALUES (%s, %s, %s, %s, %s)", (10, 3, 7, "owner", at)),
        ("INSERT INTO organization_members VALUES (%s, %s, %s, %s, %s)", (11, 3, 4, "member", at)),
        ("INSERT INTO virtual_ips VALUES (%s, %s, %s, %s, %s)", (20, 3, 7, "10.50.0.1", at)),
        ("INSERT INTO virtual_ips VALUES (%s, %s, %s, %s, %s)", (21, 3, 4, zed_ip, at)),
    ]


def make_fastapi_database(kind: str, directory: Path, rows: list[tuple[str, tuple]]) -> str:
    """A FastAPI database holding `rows`; its DATABASE_URL."""
    if kind == "postgres":
        import psycopg2

        url = postgres_url("fastapi_" + uuid.uuid4().hex[:12])
        with psycopg2.connect(url) as db, db.cursor() as cursor:
            for statement in fastapi_ddl("SERIAL", "TIMESTAMP WITHOUT TIME ZONE"):
                cursor.execute(statement)
            for statement, values in rows:
                cursor.execute(statement, values)
        return url
    path = directory / f"fastapi-{uuid.uuid4().hex[:8]}.db"
    db = sqlite3.connect(path)
    try:
        with db:
            for statement in fastapi_ddl("INTEGER", "DATETIME"):
                db.execute(statement)
            for statement, values in rows:
                db.execute(statement.replace("%s", "?"), values)
    finally:
        db.close()
    return f"sqlite:///{path}"


SOURCES = ["sqlite"] + (["postgres"] if database_backend() == "postgres" else [])


# -- the baseline ----------------------------------------------------------------------------------

def baseline_missing() -> str | None:
    if not BASELINE_RUN.is_file():
        return f"the FastAPI baseline is not here ({BASELINE_RUN}; set BASELINE_RUN to its run.sh)"
    python = os.environ.get("PYTHON", "/usr/bin/python3")
    check = subprocess.run([python, "-c", "import " + ", ".join(BASELINE_MODULES)], capture_output=True, text=True)
    if check.returncode != 0:
        return f"the FastAPI baseline needs {', '.join(BASELINE_MODULES)} for {python}: {check.stderr.strip()[-200:]}"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Baseline:
    def __init__(self, database: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, DATABASE_URL=f"sqlite:///{database}", HOST="127.0.0.1",
                   SECRET_KEY="baseline-secret-for-the-import-test")
        self.log = open(database.parent / "baseline.log", "wb")
        self.process = subprocess.Popen([str(BASELINE_RUN), str(self.port)], env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT, cwd=database.parent)
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(self.url + "/openapi.json", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            assert self.process.poll() is None, "the baseline exited at start"
            assert time.monotonic() < deadline, "the baseline did not start in 30 s"
            time.sleep(0.2)

    def call(self, method: str, path: str, headers=None, body=None) -> dict | list:
        return expect_ok(requests.request(method, self.url + path, headers=headers, json=body, timeout=30))

    def user(self, email: str, password: str) -> tuple[int, dict]:
        created = self.call("POST", "/register", body={"email": email, "password": password})
        token = self.call("POST", "/login", body={"email": email, "password": password})["access_token"]
        return created["id"], {"Authorization": f"Bearer {token}"}

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        self.log.close()


def comparable_orgs(organizations: list[dict]) -> list[tuple]:
    return [(o["id"], o["name"], o["subnet"], o["owner_id"]) for o in organizations]


def test_baseline_data_survives_the_import(binary, start_server, tmp_path):
    missing = baseline_missing()
    if missing:
        pytest.skip(missing)
    source_db = tmp_path / "baseline" / "fastapi.db"
    source_db.parent.mkdir()
    baseline = Baseline(source_db)
    passwords = {f"{name}-{uuid.uuid4().hex[:6]}@example.com": f"{name}-secret-{uuid.uuid4().hex[:6]}"
                 for name in ("alice", "bob", "carol")}
    alice, bob, carol = passwords
    try:
        ids, auth = {}, {}
        for email, password in passwords.items():
            ids[email], auth[email] = baseline.user(email, password)
        lan = baseline.call("POST", "/organizations", auth[alice], {"name": "lan", "subnet": "10.20.0.0/24"})
        wan = baseline.call("POST", "/organizations", auth[alice], {"name": "wan", "subnet": "10.30.0.0/16"})
        for email in (bob, carol):
            baseline.call("POST", f"/organizations/{lan['id']}/join", auth[email])
        baseline.call("POST", f"/organizations/{wan['id']}/join", auth[bob])
        for email, org in ((bob, lan), (carol, lan), (alice, lan), (bob, wan)):
            baseline.call("POST", f"/organizations/{org['id']}/allocate_ip", auth[email], {})
        seen = {
            "orgs": {email: comparable_orgs(baseline.call("GET", "/organizations", auth[email])) for email in passwords},
            "members": {org["id"]: sorted((m["user_id"], m["email"], m["role"]) for m in
                                          baseline.call("GET", f"/organizations/{org['id']}/members", auth[alice]))
                        for org in (lan, wan)},
            "ips": {org["id"]: sorted((a["user_id"], a["virtual_ip"]) for a in
                                      baseline.call("GET", f"/organizations/{org['id']}/ips", auth[alice]))
                    for org in (lan, wan)},
        }
    finally:
        baseline.stop()
    assert seen["ips"][lan["id"]] == sorted([(ids[bob], "10.20.0.1"), (ids[carol], "10.20.0.2"),
                                             (ids[alice], "10.20.0.3")])

    target = new_target(binary, tmp_path)
    source_url = f"sqlite:///{source_db}"
    dry = run_import(target, source_url, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert report_of(dry)["dry_run"] is True and report_of(dry)["written"] is False
    assert tables(report_of(dry)) == {"users": (0, 3, 3), "organizations": (0, 2, 2), "memberships": (0, 5, 5),
                                      "addresses": (0, 4, 4)}
    assert "nothing was written" in dry.stderr

    done = run_import(target, source_url)
    assert done.returncode == 0, done.stderr
    report = report_of(done)
    assert report["written"] is True and report["problems"] == [] and report["renumbered"] == []
    assert tables(report) == {"users": (0, 3, 3), "organizations": (0, 2, 2), "memberships": (0, 5, 5),
                              "addresses": (0, 4, 4)}  # before is 0: the dry run wrote nothing

    again = run_import(target, source_url)
    assert again.returncode == 0, again.stderr
    assert tables(report_of(again)) == {"users": (3, 3, 0), "organizations": (2, 2, 0), "memberships": (5, 5, 0),
                                        "addresses": (4, 4, 0)}
    assert len(report_of(again)["skipped"]) == 3 + 2 + 5 + 4
    assert "every row of the source is there already" in again.stderr

    assert stored_hash(target, alice).startswith("$2b$")
    ours = start_server(workdir=target.workdir)
    api = ours.client()
    expect_error(api.post("/login", json={"email": alice, "password": passwords[alice] + "x"}), 401,
                 "Incorrect email or password")
    headers = {email: login(api, email, password) for email, password in passwords.items()}
    for email in passwords:
        assert comparable_orgs(expect_ok(api.get("/organizations", headers=headers[email]))) == seen["orgs"][email]
    for org in (lan, wan):
        members = expect_ok(api.get(f"/organizations/{org['id']}/members", headers=headers[alice]))
        assert sorted((m["user_id"], m["email"], m["role"]) for m in members) == seen["members"][org["id"]]
        addresses = expect_ok(api.get(f"/organizations/{org['id']}/ips", headers=headers[alice]))
        assert sorted((a["user_id"], a["virtual_ip"]) for a in addresses) == seen["ips"][org["id"]]

    # A newcomer's address is not one of the imported ones.
    dave = api.new_user("dave")
    api.join(dave, lan["id"])
    assert api.allocate(dave, lan["id"])["virtual_ip"] == "10.20.0.4"

    # The first login replaced bcrypt with Argon2id; the password still works, a wrong one still fails.
    if database_backend() == "sqlite":
        ours.stop()
    assert stored_hash(target, alice).startswith("$argon2id$")
    if database_backend() == "sqlite":
        ours.start()
        api = ours.client()
    expect_error(api.post("/login", json={"email": alice, "password": "not-" + passwords[alice]}), 401,
                 "Incorrect email or password")
    login(api, alice, passwords[alice])


# -- without the baseline -------------------------------------------------------------------------

@pytest.mark.parametrize("source_kind", SOURCES)
def test_import_into_an_empty_database_keeps_ids_and_leaves_holes_free(binary, start_server, tmp_path, source_kind):
    source_url = make_fastapi_database(source_kind, tmp_path, fastapi_rows())
    target = new_target(binary, tmp_path)
    done = run_import(target, source_url)
    assert done.returncode == 0, done.stderr
    assert tables(report_of(done)) == {"users": (0, 2, 2), "organizations": (0, 1, 1), "memberships": (0, 2, 2),
                                       "addresses": (0, 2, 2)}
    assert run_import(target, source_url).returncode == 0  # idempotent
    assert tables(report_of(run_import(target, source_url)))["users"] == (2, 2, 0)

    ours = start_server(workdir=target.workdir)
    api = ours.client()
    zed = login(api, "zed@example.com", ZED_PASSWORD)  # the email is lower-cased; $2b$
    ann = login(api, "ann@example.com", ANN_PASSWORD)  # $2a$
    orgs = expect_ok(api.get("/organizations", headers=zed))
    assert [(o["id"], o["name"], o["subnet"], o["owner_id"]) for o in orgs] == [(3, "imported-org", "10.50.0.0/24", 7)]
    assert orgs[0]["created_at"] == "2026-11-30T08:15:42.123456Z"
    members = expect_ok(api.get("/organizations/3/members", headers=ann))
    assert sorted((m["user_id"], m["role"]) for m in members) == [(4, "member"), (7, "owner")]
    assert sorted(a["virtual_ip"] for a in expect_ok(api.get("/organizations/3/ips", headers=ann))) == [
        "10.50.0.1", "10.50.0.5"]
    # The free addresses between the imported ones are handed out, the imported ones never.
    newcomers = [api.new_user("newcomer") for _ in range(4)]
    given = []
    for user in newcomers:
        api.join(user, 3)
        given.append(api.allocate(user, 3)["virtual_ip"])
    assert given == ["10.50.0.2", "10.50.0.3", "10.50.0.4", "10.50.0.6"]


@pytest.mark.parametrize("source_kind", SOURCES)
def test_import_into_a_used_database_matches_emails_and_renumbers_taken_ids(binary, start_server, tmp_path,
                                                                            source_kind):
    target = new_target(binary, tmp_path)
    ours = start_server(workdir=target.workdir)
    api = ours.client()
    existing = api.register("ann@example.com", "ann-own-password")  # user 1; ann of the source is this one
    other = api.new_user("other")
    api.create_org(other, subnet="10.60.0.0/24")  # organization 1
    ours.stop()
    assert existing["id"] == 1

    source_url = make_fastapi_database(source_kind, tmp_path, fastapi_rows())
    done = run_import(target, source_url)
    assert done.returncode == 0, done.stderr
    report = report_of(done)
    assert tables(report) == {"users": (2, 3, 1), "organizations": (1, 2, 1), "memberships": (1, 3, 2),
                              "addresses": (0, 2, 2)}
    assert any("ann@example.com" in line and "already there as user 1" in line for line in report["skipped"])
    assert report["renumbered"] == []  # user 4 and organization 3 are free here

    ours.start()
    api = ours.client()
    ann = login(api, "ann@example.com", "ann-own-password")  # the account that was here keeps its password
    expect_error(api.post("/login", json={"email": "ann@example.com", "password": ANN_PASSWORD}), 401,
                 "Incorrect email or password")
    orgs = expect_ok(api.get("/organizations", headers=ann))
    assert [(o["id"], o["owner_id"]) for o in orgs] == [(3, 1)]
    zed = login(api, "zed@example.com", ZED_PASSWORD)
    members = expect_ok(api.get("/organizations/3/members", headers=zed))
    assert sorted((m["user_id"], m["role"]) for m in members) == [(1, "owner"), (4, "member")]


@pytest.mark.parametrize("source_kind", SOURCES)
def test_taken_ids_are_renumbered(binary, start_server, tmp_path, source_kind):
    target = new_target(binary, tmp_path)
    ours = start_server(workdir=target.workdir)
    api = ours.client()
    owners = [api.new_user("local") for _ in range(5)]  # users 1-5
    for owner in owners[:4]:
        api.create_org(owner)  # organizations 1-4
    ours.stop()

    source_url = make_fastapi_database(source_kind, tmp_path, fastapi_rows())
    done = run_import(target, source_url)
    assert done.returncode == 0, done.stderr
    report = report_of(done)
    assert sorted(report["renumbered"]) == sorted([
        "user 4 (zed@example.com) is user 8: its id is taken",
        "organization 3 (imported-org) is organization 5: its id is taken"])
    assert run_import(target, source_url).returncode == 0
    assert tables(report_of(run_import(target, source_url)))["organizations"] == (5, 5, 0)  # recognised, not copied

    ours.start()
    api = ours.client()
    zed = login(api, "zed@example.com", ZED_PASSWORD)
    orgs = expect_ok(api.get("/organizations", headers=zed))
    assert [(o["id"], o["name"], o["owner_id"]) for o in orgs] == [(5, "imported-org", 7)]
    members = expect_ok(api.get("/organizations/5/members", headers=zed))
    assert sorted((m["user_id"], m["role"]) for m in members) == [(7, "owner"), (8, "member")]
    # The id generators moved past the imported rows.
    assert api.register()["id"] == 9


# -- refusals --------------------------------------------------------------------------------------

def assert_nothing_written(target: Server) -> None:
    if database_backend() == "sqlite" and not target.database.exists():
        return
    check = run_import(target, make_fastapi_database("sqlite", target.workdir, []), "--dry-run")
    assert check.returncode == 0, check.stderr
    assert tables(report_of(check)) == {"users": (0, 0, 0), "organizations": (0, 0, 0), "memberships": (0, 0, 0),
                                        "addresses": (0, 0, 0)}


def test_a_database_that_is_not_the_fastapi_servers_is_refused(binary, tmp_path):
    target = new_target(binary, tmp_path)
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
    db.commit()
    db.close()
    done = run_import(target, f"sqlite:///{other}")
    assert done.returncode == 1
    assert "not a database of the FastAPI server: it has no table organizations" in done.stderr
    assert done.stdout == ""
    assert_nothing_written(target)

    missing = run_import(target, f"sqlite:///{tmp_path / 'missing.db'}")
    assert missing.returncode == 1 and "no database file" in missing.stderr
    assert not (tmp_path / "missing.db").exists()

    bad_url = run_import(target, "mysql://somewhere/db")
    assert bad_url.returncode == 2 and "--from" in bad_url.stderr


@pytest.mark.parametrize("source_kind", SOURCES)
def test_rows_this_server_cannot_take_refuse_the_whole_import(binary, tmp_path, source_kind):
    target = new_target(binary, tmp_path)
    banana = make_fastapi_database(source_kind, tmp_path, fastapi_rows(subnet="banana"))
    done = run_import(target, banana)
    assert done.returncode == 1
    problems = report_of(done)["problems"]
    assert any("organization 3: subnet 'banana' refused" in line for line in problems), problems
    assert "nothing was written" in done.stderr
    assert_nothing_written(target)

    outside = make_fastapi_database(source_kind, tmp_path, fastapi_rows(zed_ip="10.99.0.5"))
    done = run_import(target, outside)
    assert done.returncode == 1
    assert report_of(done)["problems"] == ["virtual IP 21 (10.99.0.5): not a host address of 10.50.0.0/24"]
    assert_nothing_written(target)

    broadcast = make_fastapi_database(source_kind, tmp_path, fastapi_rows(zed_ip="10.50.0.255"))
    assert run_import(target, broadcast).returncode == 1
    assert_nothing_written(target)


@pytest.mark.sqlite_only
def test_a_sqlite_target_in_use_by_its_server_is_refused(binary, start_server, tmp_path):
    target = new_target(binary, tmp_path)
    start_server(workdir=target.workdir)
    done = run_import(target, make_fastapi_database("sqlite", tmp_path, fastapi_rows()))
    assert done.returncode == 1
    assert "is in use" in done.stderr and "stop the server first" in done.stderr
