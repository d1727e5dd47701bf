"""The seed README's curl examples, run verbatim through curl against a server on localhost:8000
(PROTOCOL.md §0.1: a client written against the seed works unchanged).

Only `<your-jwt-token>` is replaced, by the token the seed's own login line returned. The commands
are run exactly as printed; the HTTP status is obtained through a curl config file (write-out),
not by editing them.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from harness import assert_recent, utcnow

# Copied character for character from the seed README ("Usage Examples").
REGISTER = r"""curl -X POST "http://localhost:8000/register" \
  -H "Content-Type: application/json" \
  -d '{"email": "user@example.com", "password": "password123"}'"""

LOGIN = r"""curl -X POST "http://localhost:8000/login" \
  -H "Content-Type: application/json" \
  -d '{"email": "user@example.com", "password": "password123"}'"""

CREATE_ORGANIZATION = r"""curl -X POST "http://localhost:8000/organizations" \
  -H "Authorization: Bearer <your-jwt-token>" \
  -H "Content-Type: application/json" \
  -d '{"name": "My Organization", "subnet": "10.0.0.0/24"}'"""

ALLOCATE_IP = r"""curl -X POST "http://localhost:8000/organizations/1/allocate_ip" \
  -H "Authorization: Bearer <your-jwt-token>" \
  -H "Content-Type: application/json" \
  -d '{}'"""

CURLRC = """silent
show-error
max-time = 30
write-out = "\\n%{http_code}"
"""


@pytest.fixture
def seed_server(start_server):
    """The seed's address: every interface, port 8000, a fresh database."""
    return start_server(host="0.0.0.0", port=8000)


@pytest.fixture
def curl(tmp_path):
    if shutil.which("curl") is None:
        pytest.fail("curl is not installed")
    home = tmp_path / "curl-home"
    home.mkdir()
    (home / ".curlrc").write_text(CURLRC)

    def run(command: str, token: str | None = None):
        if token is not None:
            command = command.replace("<your-jwt-token>", token)
        done = subprocess.run(["bash", "-c", command], env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        body, _, status = done.stdout.rpartition("\n")
        return int(status), json.loads(body)

    return run


def test_the_seed_readme_curl_examples_work_verbatim(seed_server, curl):
    before = utcnow()
    status, user = curl(REGISTER)
    assert status == 200, user
    assert set(user) == {"id", "email", "created_at"}
    assert (user["id"], user["email"]) == (1, "user@example.com")
    assert_recent(user["created_at"], before, utcnow())

    status, login = curl(LOGIN)
    assert status == 200, login
    assert login["token_type"] == "bearer" and login["expires_in"] == 1800
    token = login["access_token"]

    status, org = curl(CREATE_ORGANIZATION, token)
    assert status == 200, org
    assert {k: org[k] for k in ("id", "name", "subnet", "owner_id", "join_policy")} == \
        {"id": 1, "name": "My Organization", "subnet": "10.0.0.0/24", "owner_id": 1, "join_policy": "open"}

    status, allocation = curl(ALLOCATE_IP, token)
    assert status == 200, allocation
    assert {k: allocation[k] for k in ("organization_id", "user_id", "agent_id", "virtual_ip")} == \
        {"organization_id": 1, "user_id": 1, "agent_id": None, "virtual_ip": "10.0.0.1"}

    # Run again, each answers as the contract says for a repeat.
    assert curl(REGISTER) == (409, {"detail": "Email already registered"})
    assert curl(ALLOCATE_IP, token) == (200, allocation)
    status, second_org = curl(CREATE_ORGANIZATION, token)
    assert (status, second_org["id"], second_org["subnet"]) == (200, 2, "10.0.0.0/24")


def test_the_seed_examples_without_a_real_token_are_unauthorized(seed_server, curl):
    # The placeholder itself is not a token.
    assert curl(CREATE_ORGANIZATION) == (401, {"detail": "Could not validate credentials"})
    assert curl(ALLOCATE_IP) == (401, {"detail": "Could not validate credentials"})
