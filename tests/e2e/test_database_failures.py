"""The SQLite file attacked under a running server: deleted, replaced, its -shm file truncated or made
unreadable, its filesystem filled, another process opening it. The server must neither crash nor
answer as if all was well: requests that need the database answer 503 with Retry-After, /readyz
fails while the database cannot be used, and each failure is logged once, when it is noticed."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from harness import Server, expect_ok, expect_status_error

pytestmark = pytest.mark.sqlite_only

LOST_FILE_LOG = "was deleted or replaced while the server was running"
LOST_FILE_ONCE = "refusing every request that needs it"


def expect_unavailable(response) -> str:
    detail = expect_status_error(response, 503)
    assert response.headers.get("Retry-After"), response.headers
    return detail


def assert_ready(client) -> None:
    assert expect_ok(client.get("/readyz")) == {"status": "ready"}


def test_a_deleted_database_file_fails_writes_reads_and_readiness(start_server):
    server = start_server()
    client = server.client()
    user = client.new_user()
    assert_ready(client)

    server.database.unlink()
    # Before: 200, and the new user vanished with the file at the next start.
    expect_unavailable(client.post("/register", json={"email": "late@example.com", "password": "password123"}))
    expect_unavailable(client.get("/readyz"))
    expect_unavailable(client.get("/me", as_user=user))  # reads of the lost database too
    assert not server.database.exists(), "the database file was recreated"
    for _ in range(3):
        expect_unavailable(client.post("/organizations", as_user=user, json={"name": "x", "subnet": "10.0.0.0/24"}))
        expect_unavailable(client.get("/readyz"))
    assert server.running
    assert server.log().count(LOST_FILE_ONCE) == 1, server.log()


def test_a_replaced_database_file_is_refused_until_the_opened_one_is_back(start_server, tmp_path):
    server = start_server()
    client = server.client()
    owner = client.new_user()
    moved = tmp_path / "moved-away.db"
    shutil.move(server.database, moved)
    shutil.copy(moved, server.database)  # a restored backup, say: another file than the one open

    expect_unavailable(client.post("/organizations", as_user=owner, json={"name": "x", "subnet": "10.0.0.0/24"}))
    expect_unavailable(client.get("/readyz"))
    assert server.wait_for_log(LOST_FILE_LOG, timeout=1), server.log()

    server.database.unlink()
    shutil.move(moved, server.database)
    assert_ready(client)
    client.create_org(owner)
    assert len(client.organizations(owner)) == 1


@pytest.mark.parametrize("attack", ["truncate", "chmod"])
def test_a_truncated_or_unwritable_shm_file_does_not_kill_the_server(start_server, attack):
    server = start_server()
    client = server.client()
    owner = client.new_user()
    org = client.create_org(owner)
    shm = Path(f"{server.database}-shm")
    if attack == "truncate":
        subprocess.run(["truncate", "-s", "0", str(shm)], check=True)
    else:
        shm.touch()
        shm.chmod(0)
    # Before: the next transaction died of SIGBUS (with the index in a shared -shm mapping), silently.
    # The WAL index is in the server's own memory: the -shm file is nothing to it.
    assert client.allocate(owner, org["id"])["virtual_ip"] == "10.0.0.1"
    assert len(client.members(owner, org["id"])) == 1
    assert_ready(client)
    assert server.running, server.log()


def test_another_process_cannot_open_the_live_database(start_server, binary):
    server = start_server()
    server.client().new_user()
    other = sqlite3.connect(server.database, timeout=0.2)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("SELECT COUNT(*) FROM users").fetchone()
    finally:
        other.close()
    # Nor can a second server: it would keep presence of its own and share nothing of it.
    second = Server(binary, server.workdir, database=server.database)
    with pytest.raises(RuntimeError):
        second.start()
    assert second.wait() != 0
    assert "locked" in second.log(), second.log()
    assert_ready(server.client())


# -- a full disk -----------------------------------------------------------------------------------

@pytest.fixture
def small_filesystem(tmp_path):
    """A 16 MiB tmpfs of the test's own (root only: CI runs as root)."""
    if os.geteuid() != 0:
        pytest.skip("filling a filesystem of its own needs root, to mount a small tmpfs")
    mountpoint = tmp_path / "small"
    mountpoint.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mountpoint)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (a container without CAP_SYS_ADMIN?): {mounted.stderr.strip()}")
    yield mountpoint
    if subprocess.run(["umount", str(mountpoint)]).returncode != 0:
        subprocess.run(["umount", "-l", str(mountpoint)])


def fill(directory: Path) -> Path:
    filler = directory / "filler"
    with open(filler, "wb", buffering=0) as out:  # unbuffered: closing has nothing left to write
        try:
            while True:
                out.write(b"\0" * 65536)
        except OSError:
            pass
    return filler


def test_a_full_disk_fails_writes_and_readiness_until_there_is_room_again(small_filesystem, start_server):
    server = start_server(workdir=small_filesystem)
    client = server.client()
    owner = client.new_user()
    org = client.create_org(owner)
    assert_ready(client)

    filler = fill(small_filesystem)
    expect_unavailable(client.post(f"/organizations/{org['id']}/allocate_ip", as_user=owner, json={}))
    # Before: /readyz answered ready, as SELECT 1 needs no room.
    expect_unavailable(client.get("/readyz"))
    expect_unavailable(client.get("/readyz"))
    assert len(client.members(owner, org["id"])) == 1  # reads need no room

    filler.unlink()
    assert_ready(client)
    assert client.allocate(owner, org["id"])["virtual_ip"] == "10.0.0.1"
    # The log is read from the server's stderr by another thread: wait for the line, not just look.
    assert server.wait_for_log("database writes succeed again", timeout=5), server.log()
    assert server.log().count("database writes fail") == 1, server.log()
    assert server.stop() == 0, server.log()
