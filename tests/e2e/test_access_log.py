"""The access log (ACCESS_LOG) and request ids (X-Request-Id): one line per HTTP request and per
WebSocket session end, on the logger "access", naming routes by their template; the client's request
id honoured when sane, else generated, and echoed on every answer. And a whole run's output, at
debug level, holds no password, token or invite code.
"""

from __future__ import annotations

import json
import re
import socket
import time

import pytest
import websockets

import ws_harness
from harness import expect_ok, unique_email

GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")
LINE_TIMEOUT = 5  # the line is written after the answer: the client may see the answer first


# -- reading the log -------------------------------------------------------------------------------

def text_fields(line: str) -> dict | None:
    """The fields of a text access line ("... info  access method=GET route=/me ..."), else None."""
    found = re.search(r" access (method=.*)$", line)
    if not found:
        return None
    return dict(field.split("=", 1) for field in found.group(1).split(" "))


def json_fields(line: str) -> dict | None:
    record = json.loads(line)
    return record if record.get("logger") == "access" else None


def access_lines(server, log_format: str = "text") -> list[dict]:
    parse = json_fields if log_format == "json" else text_fields
    return [fields for line in server.log().splitlines() if line.strip() and (fields := parse(line))]


def wait_line(server, request_id: str, log_format: str = "text") -> dict:
    """The access line of `request_id`, once written."""
    ending = f'"request_id":"{request_id}"}}' if log_format == "json" else f" request_id={request_id}"
    assert server.wait_for_log(re.compile(re.escape(ending) + "$"), LINE_TIMEOUT), server.log()[-5000:]
    lines = [fields for fields in access_lines(server, log_format) if fields["request_id"] == request_id]
    assert len(lines) == 1, lines
    return lines[0]


def raw_exchange(server, head: bytes, body: bytes = b"") -> tuple[int, dict]:
    """Sends one request as bytes (for headers a client library would refuse); the status and the
    headers of the answer (lower-case names)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head + b"\r\n" + body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    status_line, *header_lines = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, value in (h.split(":", 1) for h in header_lines)}
    return int(status_line.split(" ")[1]), headers


def get_head(path: str, request_id: bytes | None) -> bytes:
    head = b"GET " + path.encode() + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    if request_id is not None:
        head += b"X-Request-Id: " + request_id + b"\r\n"
    return head


# -- request ids -----------------------------------------------------------------------------------

def test_a_request_id_is_honoured_and_echoed_on_success_errors_and_404(api):
    for method, path, status in (("GET", "/healthz", 200), ("GET", "/no/such/route", 404), ("GET", "/me", 401),
                                 ("POST", "/organizations/1/members", 405), ("POST", "/register", 422)):
        request_id = f"client-{method}-{status}-{time.monotonic_ns()}"
        answer = api.request(method, path, json={}, headers={"X-Request-Id": request_id})
        assert answer.status_code == status, answer.text
        assert answer.headers["X-Request-Id"] == request_id, (path, answer.headers)


def test_a_request_id_is_generated_when_absent(api):
    first, second = api.get("/healthz"), api.get("/no/such/route")
    assert GENERATED_ID.match(first.headers["X-Request-Id"]), first.headers
    assert GENERATED_ID.match(second.headers["X-Request-Id"]), second.headers
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]


@pytest.mark.parametrize("request_id", [b"x" * 129, b"has space", b"tab\there", b"ctl\x01char", b"caf\xc3\xa9", b""],
                         ids=["too-long", "space", "tab", "control", "non-ascii", "empty"])
def test_an_unusable_request_id_is_replaced(server, request_id):
    for path, status in (("/healthz", 200), ("/no/such/route", 404)):
        got_status, headers = raw_exchange(server, get_head(path, request_id))
        # A control character other than a tab makes the whole request malformed (400).
        assert got_status == (400 if b"\x01" in request_id else status)
        assert GENERATED_ID.match(headers["x-request-id"]), headers


def test_the_longest_request_id_and_every_printable_character_are_honoured(server):
    longest = b"a" * 128
    printable = bytes(range(0x21, 0x7F))
    for request_id in (longest, printable):
        status, headers = raw_exchange(server, get_head("/healthz", request_id))
        assert status == 200 and headers["x-request-id"] == request_id.decode(), headers


def test_request_ids_on_answers_made_before_routing(server):
    # 413: the body is over the limit; 400: a malformed request; 501: an unknown transfer coding.
    status, headers = raw_exchange(server, b"POST /register HTTP/1.1\r\nHost: x\r\nX-Request-Id: big-1\r\n"
                                           b"Content-Type: application/json\r\nContent-Length: 70000\r\n",
                                   b"{" * 70000)
    assert (status, headers["x-request-id"]) == (413, "big-1"), headers
    status, headers = raw_exchange(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: chunky-1\r\n"
                                           b"Transfer-Encoding: gzip\r\n")
    assert (status, headers["x-request-id"]) == (501, "chunky-1"), headers
    status, headers = raw_exchange(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nBroken header line\r\n")
    assert status == 400 and GENERATED_ID.match(headers["x-request-id"]), headers


def test_request_ids_on_429(start_server):
    server = start_server(env={"AUTH_RATE_PER_ADDRESS_PER_MINUTE": "1", "AUTH_BURST_PER_ADDRESS": "1"})
    client = server.client()
    body = {"email": unique_email(), "password": "Wrong-Password-1"}
    client.post("/login", json=body)
    answer = client.post("/login", json=body, headers={"X-Request-Id": "throttled-1"})
    assert answer.status_code == 429 and answer.headers["X-Request-Id"] == "throttled-1"


def test_the_websocket_upgrade_and_its_refusals_echo_the_request_id(server):
    status, headers = raw_exchange(server, b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                                           b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                                           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Request-Id: up-1\r\n")
    assert (status, headers["x-request-id"]) == (101, "up-1"), headers
    status, headers = raw_exchange(server, b"POST /ws HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                                           b"X-Request-Id: up-2\r\n")
    assert (status, headers["x-request-id"]) == (405, "up-2"), headers


# -- access log lines ------------------------------------------------------------------------------

@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_rest_call_is_one_line_with_its_route_template(start_server, log_format):
    server = start_server(env={"LOG_FORMAT": log_format, "TRUSTED_PROXIES": "127.0.0.1"})
    client = server.client()
    user = client.new_user()
    org = client.create_org(user)
    request_id = f"rest-{log_format}"
    answer = client.get(f"/organizations/{org['id']}/members", as_user=user,
                        headers={"X-Request-Id": request_id, "X-Forwarded-For": "203.0.113.9"})
    expect_ok(answer)
    line = wait_line(server, request_id, log_format)
    null = None if log_format == "json" else "-"
    number = int if log_format == "json" else str
    assert line["method"] == "GET"
    assert line["route"] == "/organizations/{org_id}/members"
    assert line["status"] == number(200)
    assert line["user_id"] == number(user.id)
    assert line["client"] == "203.0.113.9"  # TRUSTED_PROXIES: the address the proxy vouches for
    assert float(line["duration_ms"]) >= 0
    assert int(line["bytes_out"]) >= len(answer.content) and int(line["bytes_in"]) > 0
    if log_format == "json":
        assert line["message"] == "GET /organizations/{org_id}/members 200"
        assert {"time", "level"} <= set(line) and line["level"] == "info"

    # A password route: nobody authenticated. An unknown path: the path, without its query.
    client.post("/login", json={"email": user.email, "password": "Wrong-Password-9"},
                headers={"X-Request-Id": f"login-{log_format}"})
    line = wait_line(server, f"login-{log_format}", log_format)
    assert (line["route"], line["status"], line["user_id"]) == ("/login", number(401), null)
    client.get("/no/such/thing?token=query-secret-1", headers={"X-Request-Id": f"missing-{log_format}"})
    line = wait_line(server, f"missing-{log_format}", log_format)
    assert (line["route"], line["status"]) == ("/no/such/thing", number(404))
    client.get("/me", headers={"Authorization": "Bearer forged.token.value", "X-Request-Id": f"forged-{log_format}"})
    line = wait_line(server, f"forged-{log_format}", log_format)
    assert (line["route"], line["status"], line["user_id"]) == ("/me", number(401), null)
    assert "query-secret-1" not in server.log()


def test_access_log_off_writes_no_line_but_still_echoes_ids(start_server):
    server = start_server(env={"ACCESS_LOG": "off"})
    answer = server.client().get("/healthz", headers={"X-Request-Id": "quiet-1"})
    assert answer.headers["X-Request-Id"] == "quiet-1"
    server.client().new_user()
    assert server.stop() == 0
    assert access_lines(server) == [], server.log()


def test_a_websocket_session_end_is_one_line(start_server):
    server = start_server(env={"LOG_FORMAT": "json"})
    rest = ws_harness.Rest(server.url)
    owner = rest.new_user()
    org = rest.create_org(owner)
    rest.allocate(owner, org["id"])
    url = f"ws://127.0.0.1:{server.port}/ws"

    async def scenario():
        async with websockets.connect(f"{url}?token={owner.token}",
                                      extra_headers={"X-Request-Id": "ws-session-1"}) as ws:
            assert ws.response_headers["X-Request-Id"] == "ws-session-1"
            await ws.send(json.dumps(ws_harness.register_msg(agent_id="agent-logged")))
            assert json.loads(await ws.recv())["type"] == "register_agent_response"
        # Refused by the server (no token): closed with 1008.
        async with websockets.connect(url, extra_headers={"X-Request-Id": "ws-session-2"}) as ws:
            await ws.wait_closed()
            assert ws.close_code == 1008

    ws_harness.run(scenario())
    line = wait_line(server, "ws-session-1", "json")
    assert (line["method"], line["route"], line["status"]) == ("GET", "/ws", 101)
    assert line["close_code"] == 1000 and line["user_id"] == owner.id
    assert line["peer_id"] == "agent-logged" and line["agent_id"] == "agent-logged"
    assert line["messages_in"] == 1 and line["messages_out"] == 1
    assert line["bytes_in"] > 0 and line["bytes_out"] > 0 and line["duration_ms"] > 0
    assert line["client"] == "127.0.0.1"
    refused = wait_line(server, "ws-session-2", "json")
    assert (refused["status"], refused["close_code"], refused["user_id"]) == (101, 1008, None)
    assert refused["peer_id"] is None


# -- no secret in any line -------------------------------------------------------------------------

def test_a_whole_run_at_debug_level_logs_no_password_token_or_invite_code(start_server):
    """Every secret a run handles, looked for in everything the server wrote (both formats)."""
    for log_format in ("text", "json"):
        server = start_server(env={"LOG_LEVEL": "debug", "LOG_FORMAT": log_format, "TRUSTED_PROXIES": "127.0.0.1"})
        secrets = run_everything(server)
        assert server.stop() == 0
        log = server.log()
        assert access_lines(server, log_format), "no access line at all: the run was not logged"
        for secret in secrets:
            assert secret not in log, f"{secret!r} is in the log:\n" + "\n".join(
                line for line in log.splitlines() if secret in line)


def run_everything(server) -> list[str]:
    """Registers, logs in (also wrongly), creates an organization, invites and joins, allocates,
    connects WebSockets (token in the query and in the header) and signals. Returns the secrets."""
    client = server.client()
    owner_password, member_password = "Owner-Secret-Pass-0x5eed", "Member-Secret-Pass-0xbeef"
    wrong_password = "Wrong-Secret-Pass-0xdead"
    owner_email, member_email = unique_email("owner"), unique_email("member")
    client.register(owner_email, owner_password)
    client.register(member_email, member_password)
    owner_token = client.login(owner_email, owner_password)
    member_token = client.login(member_email, member_password)
    assert client.post("/login", json={"email": owner_email, "password": wrong_password}).status_code == 401
    assert client.post("/register", json={"email": owner_email, "password": wrong_password}).status_code in (400, 409)
    auth = lambda token: {"Authorization": f"Bearer {token}"}  # noqa: E731
    org = expect_ok(client.post("/organizations", headers=auth(owner_token),
                                json={"name": "logged-org", "subnet": "10.77.0.0/24", "join_policy": "invite"}))
    invite_code = expect_ok(client.post(f"/organizations/{org['id']}/invites", headers=auth(owner_token)))["code"]
    unused_code = expect_ok(client.post(f"/organizations/{org['id']}/invites", headers=auth(owner_token)))["code"]
    # A code in a query string, where it does not belong: the target is never logged.
    client.post(f"/organizations/{org['id']}/join?invite_code={unused_code}", headers=auth(member_token),
                json={"invite_code": "not-the-code"})
    expect_ok(client.post(f"/organizations/{org['id']}/join", headers=auth(member_token),
                          json={"invite_code": invite_code}))
    expect_ok(client.post(f"/organizations/{org['id']}/allocate_ip", headers=auth(owner_token), json={}))
    expect_ok(client.post(f"/organizations/{org['id']}/allocate_ip", headers=auth(member_token), json={}))
    signature = owner_token.rsplit(".", 1)[1]
    forged = owner_token.rsplit(".", 1)[0] + "." + "A" * len(signature)
    assert client.get("/me", headers=auth(forged)).status_code == 401
    assert client.get(f"/me?token={member_token}").status_code == 401
    url = f"ws://127.0.0.1:{server.port}/ws"

    async def agents():
        owner_ws = await websockets.connect(f"{url}?token={owner_token}")
        member_ws = await websockets.connect(url, extra_headers=auth(member_token))
        for ws, agent in ((owner_ws, "owner-agent"), (member_ws, "member-agent")):
            await ws.send(json.dumps(ws_harness.register_msg(agent_id=agent)))
            assert json.loads(await ws.recv())["type"] == "register_agent_response"
        await owner_ws.send(json.dumps({"type": "signal", "to": "member-agent", "data": {"sdp": "offer"}}))
        while json.loads(await member_ws.recv())["type"] != "signal":
            pass
        forged_ws = await websockets.connect(f"{url}?token={forged}")
        await forged_ws.wait_closed()
        for ws in (owner_ws, member_ws):
            await ws.close()

    ws_harness.run(agents())
    return [owner_password, member_password, wrong_password, owner_token, member_token, signature,
            member_token.rsplit(".", 1)[1], forged, invite_code, unused_code, server.secret_key]
