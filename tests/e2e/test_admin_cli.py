"""The administration commands (docs/protocol.md §8): `signaling-server users|orgs|members|ips|peers
...`, `migrate`, `config check`, `secret rotate`, run as an operator would, with the server's own
environment and working directory, on the server's database. With PostgreSQL they run beside the
running server; a SQLite database belongs to its one server process, so there the server is
stopped for the command and started again (the test checks that a command refuses to run while
it holds the file). Each change is checked through the REST API afterwards, and each refusal
leaves the database as it was."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time

import pytest

import harness
from harness import DEFAULT_PASSWORD, expect_ok


def run_command(server, *args, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = server.environment()
    environment.update(env or {})
    return subprocess.run([str(server.binary), *args], cwd=server.workdir, env=environment, input=stdin,
                          capture_output=True, text=True, timeout=60)


def admin(server, *args, **kwargs) -> subprocess.CompletedProcess:
    """The command as an operator runs it: on SQLite, with the server stopped for it."""
    if harness.database_backend() == "postgres" or not server.running:
        return run_command(server, *args, **kwargs)
    assert server.stop() == 0
    try:
        return run_command(server, *args, **kwargs)
    finally:
        server.start()


class FollowingClient(harness.Client):
    """A client of `server` that follows it to the new port it gets when it is restarted."""

    def __init__(self, server):
        self.server = server
        super().__init__(server.url)

    @property
    def base_url(self):
        return self.server.url

    @base_url.setter
    def base_url(self, _):
        pass


def admin_json(server, *args, **kwargs):
    done = admin(server, *args, "--json", **kwargs)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def server(start_server):
    return start_server()


@pytest.fixture
def api(server):
    return FollowingClient(server)


@pytest.fixture
def org_with_member(api):
    owner = api.new_user("owner")
    member = api.new_user("member")
    org = api.create_org(owner, subnet="10.9.0.0/29")
    api.join(member, org["id"])
    owner_ip = api.allocate(owner, org["id"])["virtual_ip"]
    member_ip = api.allocate(member, org["id"])["virtual_ip"]
    return owner, member, org, owner_ip, member_ip


def test_users_list_as_table_and_json(server, api):
    alice, bob = api.new_user("alice"), api.new_user("bob")
    listed = admin_json(server, "users", "list")
    assert [(u["id"], u["email"]) for u in listed if u["id"] in (alice.id, bob.id)] == [
        (alice.id, alice.email), (bob.id, bob.email)]
    assert all(set(u) == {"id", "email", "created_at"} for u in listed)
    table = admin(server, "users", "list")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["ID", "EMAIL", "CREATED_AT"]
    assert any(line.split()[:2] == [str(alice.id), alice.email] for line in lines[1:])
    assert "password" not in table.stdout.lower() and "$argon2" not in table.stdout


def test_users_show_by_email_and_id(server, api, org_with_member):
    owner, member, org, owner_ip, member_ip = org_with_member
    by_email = admin_json(server, "users", "show", member.email.upper())
    assert by_email["id"] == member.id
    assert by_email["organizations"] == [{"organization_id": org["id"], "name": org["name"], "role": "member"}]
    assert [a["virtual_ip"] for a in by_email["addresses"]] == [member_ip]
    assert admin_json(server, "users", "show", str(member.id)) == by_email
    missing = admin(server, "users", "show", "nobody@example.com")
    assert missing.returncode == 1 and "no user" in missing.stderr


def test_set_password_reads_stdin_and_revokes_tokens(server, api):
    user = api.new_user("reset")
    done = admin(server, "users", "set-password", user.email, stdin="a-new-password\n")
    assert done.returncode == 0, done.stderr
    assert api.get("/organizations", as_user=user).status_code == 401  # the old token is revoked
    assert api.post("/login", json={"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 401
    assert api.login(user.email, "a-new-password")


def test_set_password_refuses_a_bad_password_and_changes_nothing(server, api):
    user = api.new_user("weak")
    for bad in ("", "short\n", "x" * 200 + "\n"):
        done = admin(server, "users", "set-password", str(user.id), stdin=bad)
        assert done.returncode == 2, (bad, done.stdout, done.stderr)
    assert api.get("/organizations", as_user=user).status_code == 200
    assert api.login(user.email, DEFAULT_PASSWORD)


def test_users_delete(server, api, org_with_member):
    owner, member, org, owner_ip, member_ip = org_with_member
    refused = admin(server, "users", "delete", str(owner.id))
    assert refused.returncode == 1 and f"owns organizations {org['id']}" in refused.stderr
    assert api.login(owner.email)

    deleted = admin_json(server, "users", "delete", member.email)
    assert deleted == {"deleted_user": member.id, "email": member.email, "released_addresses": 1}
    assert api.post("/login", json={"email": member.email, "password": DEFAULT_PASSWORD}).status_code == 401
    assert api.get("/organizations", as_user=member).status_code == 401
    assert [m["user_id"] for m in api.members(owner, org["id"])] == [owner.id]
    # The freed address goes to the next one who asks.
    newcomer = api.new_user("newcomer")
    api.join(newcomer, org["id"])
    assert api.allocate(newcomer, org["id"])["virtual_ip"] == member_ip
    assert admin(server, "users", "delete", member.email).returncode == 1


def test_orgs_list_show_delete(server, api, org_with_member):
    owner, member, org, owner_ip, member_ip = org_with_member
    listed = {o["id"]: o for o in admin_json(server, "orgs", "list")}
    assert listed[org["id"]]["name"] == org["name"]
    assert listed[org["id"]]["subnet"] == "10.9.0.0/29"
    assert (listed[org["id"]]["members"], listed[org["id"]]["addresses"]) == (2, 2)
    shown = admin_json(server, "orgs", "show", str(org["id"]))
    assert [m["user_id"] for m in shown["members"]] == [owner.id, member.id]
    assert [a["virtual_ip"] for a in shown["addresses"]] == [owner_ip, member_ip]
    human = admin(server, "orgs", "show", str(org["id"]))
    assert human.returncode == 0 and f"name:" in human.stdout and member.email in human.stdout

    assert admin_json(server, "orgs", "delete", str(org["id"])) == {
        "deleted_organization": org["id"], "released_addresses": 2}
    assert api.get(f"/organizations/{org['id']}", as_user=owner).status_code == 404
    assert api.organizations(member) == []
    assert admin(server, "orgs", "show", str(org["id"])).returncode == 1
    assert admin(server, "orgs", "delete", str(org["id"])).returncode == 1
    # The owner owns nothing now: they can be deleted.
    assert admin(server, "users", "delete", str(owner.id)).returncode == 0


def test_members_list_set_role_remove(server, api, org_with_member):
    owner, member, org, owner_ip, member_ip = org_with_member
    assert [(m["user_id"], m["role"]) for m in admin_json(server, "members", "list", str(org["id"]))] == [
        (owner.id, "owner"), (member.id, "member")]
    assert admin_json(server, "members", "set-role", str(org["id"]), member.email, "admin")[0]["role"] == "admin"
    assert {m["user_id"]: m["role"] for m in api.members(owner, org["id"])}[member.id] == "admin"
    assert admin(server, "members", "set-role", str(org["id"]), str(owner.id), "member").returncode == 1
    assert admin(server, "members", "set-role", str(org["id"]), str(member.id), "owner").returncode != 0
    assert admin(server, "members", "remove", str(org["id"]), str(owner.id)).returncode == 1

    removed = admin_json(server, "members", "remove", str(org["id"]), str(member.id))
    assert removed == {"organization_id": org["id"], "removed_user": member.id, "released_addresses": 1}
    assert [m["user_id"] for m in api.members(owner, org["id"])] == [owner.id]
    assert [a["virtual_ip"] for a in api.ips(owner, org["id"])] == [owner_ip]
    assert admin(server, "members", "remove", str(org["id"]), str(member.id)).returncode == 1


def test_ips_list_and_release(server, api, org_with_member):
    owner, member, org, owner_ip, member_ip = org_with_member
    listed = admin_json(server, "ips", "list", str(org["id"]))
    assert [(a["virtual_ip"], a["user_id"], a["agent_id"]) for a in listed] == [
        (owner_ip, owner.id, None), (member_ip, member.id, None)]
    released = admin_json(server, "ips", "release", str(org["id"]), member_ip)
    assert released[0]["virtual_ip"] == member_ip and released[0]["user_id"] == member.id
    assert [a["virtual_ip"] for a in api.ips(owner, org["id"])] == [owner_ip]
    assert admin(server, "ips", "release", str(org["id"]), member_ip).returncode == 1
    for bad in ("10.9.0.300", "not-an-ip", "10.9.0.2; DROP TABLE users"):
        done = admin(server, "ips", "release", str(org["id"]), bad)
        assert done.returncode == 2 and "not an IPv4 address" in done.stderr
    assert admin(server, "ips", "list", "999999").returncode == 1
    assert [a["virtual_ip"] for a in api.ips(owner, org["id"])] == [owner_ip]


def test_bad_command_lines_are_refused(server):
    for args in (["users"], ["users", "frobnicate"], ["orgs", "show", "abc"], ["orgs", "show"],
                 ["members", "set-role", "1", "2", "superuser"], ["no-such-command"]):
        done = admin(server, *args)
        assert done.returncode != 0, args
        assert done.stdout == "" or "Usage" in done.stdout or "usage" in done.stdout.lower(), args


async def _online_agent(server, user, org_id):
    import websockets
    ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/ws?token={user.token}")
    await ws.send(json.dumps({"type": "register", "public_ip": "203.0.113.7", "public_port": 41000,
                              "organization_id": org_id}))
    answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert answer["status"] == "registered", answer
    return ws


def test_peers_list(server, api, org_with_member):
    owner, member, org, owner_ip, member_ip = org_with_member
    if harness.database_backend() != "postgres":
        done = admin(server, "peers", "list")
        assert done.returncode == 1 and "PostgreSQL" in done.stderr
        return

    async def scenario():
        ws = await _online_agent(server, member, org["id"])
        try:
            # The process writes its presence rows just after answering the registration.
            deadline = time.monotonic() + 10
            while not (listed := admin_json(server, "peers", "list")) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert [(p["organization_id"], p["virtual_ip"], p["user_id"], p["public_port"]) for p in listed] == [
                (org["id"], member_ip, member.id, 41000)]
            assert admin_json(server, "peers", "list", "--organization", str(org["id"] + 1000)) == []
            human = admin(server, "peers", "list")
            assert human.returncode == 0 and member_ip in human.stdout
            # A removal would end a registration the CLI cannot close: refused, nothing changed.
            for args in (["members", "remove", str(org["id"]), str(member.id)],
                         ["ips", "release", str(org["id"]), member_ip],
                         ["users", "delete", str(member.id)],
                         ["orgs", "delete", str(org["id"])]):
                done = admin(server, *args)
                assert done.returncode == 1 and f"Online: {member_ip}" in done.stderr, (args, done.stderr)
            assert [a["virtual_ip"] for a in api.ips(owner, org["id"])] == [owner_ip, member_ip]
            assert len(api.members(owner, org["id"])) == 2
        finally:
            await ws.close()

    asyncio.run(scenario())


def test_migrate_creates_a_database_the_server_then_uses(start_server, tmp_path):
    server = harness.Server(harness.server_binary(), tmp_path)
    done = admin(server, "migrate", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["migrated"] is True
    assert admin(server, "migrate").returncode == 0  # again: nothing to do
    started = start_server(workdir=tmp_path)
    assert started.client().new_user("after-migrate")


def test_config_check_masks_secrets_and_fails_on_errors(server):
    secret = server.environment()["SECRET_KEY"]
    done = admin(server, "config", "check")
    assert done.returncode == 0, done.stderr
    assert secret not in done.stdout and secret not in done.stderr
    settings = {row["setting"]: row["value"] for row in admin_json(server, "config", "check")["settings"]}
    assert settings["SECRET_KEY"] == "********"
    assert settings["PORT"] == server.environment()["PORT"]
    assert settings["DATABASE_URL"] == server.database_url or ":********@" in settings["DATABASE_URL"]
    broken = admin(server, "config", "check", env={"DATABASE_URL": "sqlite:////no/such/directory/x.db"})
    assert broken.returncode == 1 and "DATABASE_URL" in broken.stderr
    invalid = admin(server, "config", "check", env={"PORT": "70000"})
    assert invalid.returncode != 0


def test_secret_rotate(start_server, tmp_path):
    with_key = start_server(workdir=tmp_path / "with-key")
    refused = admin(with_key, "secret", "rotate")
    assert refused.returncode == 1 and "SECRET_KEY is set" in refused.stderr

    generated = start_server(workdir=tmp_path / "generated", secret_key=None)
    api = FollowingClient(generated)
    user = api.new_user("rotate")
    done = admin(generated, "secret", "rotate", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rotated"] is True
    assert "restart every server process" in done.stderr
    assert generated.stop() == 0
    generated.start()
    assert api.get("/organizations", as_user=user).status_code == 401  # signed with the old key
    assert api.login(user.email)


def test_sqlite_commands_refuse_a_database_in_use(server, api):
    if harness.database_backend() == "postgres":
        pytest.skip("PostgreSQL is shared: the commands run beside the servers")
    user = api.new_user("busy")
    done = run_command(server, "users", "delete", str(user.id))
    assert done.returncode == 1 and "stop the server first" in done.stderr
    assert api.get("/organizations", as_user=user).status_code == 200
