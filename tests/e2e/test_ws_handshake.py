"""Failed WebSocket handshakes (RFC 6455 §4.2.1, §4.4) are answered like every other HTTP error of
the server: {"detail": "..."} as application/json, with the status that says what is wrong (400
for a missing or malformed Sec-WebSocket-Key, 426 with "Sec-WebSocket-Version: 13" for another
version, 426 with "Upgrade: websocket" when the upgrade headers are missing, 405 for another
method). Raw sockets: a client library would not send these requests."""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket

import pytest

GOOD_KEY = base64.b64encode(os.urandom(16)).decode()

def handshake(server, method: str = "GET", path: str = "/ws", headers: dict[str, str | None] | None = None):
    """Sends one request on a fresh connection; returns (status, headers, body)."""
    fields = {
        "Host": f"127.0.0.1:{server.port}",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": GOOD_KEY,
        "Sec-WebSocket-Version": "13",
    }
    for name, value in (headers or {}).items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    request = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(request.encode())
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        body = b"" if response.status == 101 else response.read()
        return response.status, response.headers, body


def assert_json_detail(headers, body) -> str:
    assert headers["Content-Type"] == "application/json", headers
    parsed = json.loads(body)
    assert isinstance(parsed, dict) and isinstance(parsed.get("detail"), str) and parsed["detail"], parsed
    return parsed["detail"]


def test_a_good_handshake_is_accepted(server):
    status, headers, _ = handshake(server)
    assert status == 101
    assert headers["Upgrade"].lower() == "websocket"


@pytest.mark.parametrize("key", [None, "", "abc", "dGhlIHNhbXBsZSBub25jZQ", "!!!!!!!!!!!!!!!!!!!!!!==",
                                 base64.b64encode(os.urandom(20)).decode()],
                         ids=["missing", "empty", "short", "unpadded", "not-base64", "20-bytes"])
def test_a_bad_key_is_400_with_a_json_detail(server, key):
    status, headers, body = handshake(server, headers={"Sec-WebSocket-Key": key})
    assert status == 400
    assert "Sec-WebSocket-Key" in assert_json_detail(headers, body)


@pytest.mark.parametrize("version", [None, "8", "12", "14", "thirteen"])
def test_another_version_is_426_naming_13(server, version):
    status, headers, body = handshake(server, headers={"Sec-WebSocket-Version": version})
    assert status == 426
    assert headers["Sec-WebSocket-Version"] == "13"
    assert_json_detail(headers, body)


def test_the_server_stays_up_after_refusals(server):
    for _ in range(20):
        assert handshake(server, headers={"Sec-WebSocket-Key": "bad"})[0] == 400
    assert handshake(server)[0] == 101


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_another_method_is_405_with_a_json_detail(server, method):
    status, headers, body = handshake(server, method=method, headers={"Content-Length": "0"})
    assert status == 405
    assert headers["Allow"] == "GET"
    assert_json_detail(headers, body)


@pytest.mark.parametrize("headers", [{"Upgrade": None}, {"Connection": None}, {"Connection": "keep-alive"},
                                     {"Upgrade": "h2c"}],
                         ids=["no-upgrade", "no-connection", "connection-not-upgrade", "upgrade-not-websocket"])
def test_missing_upgrade_headers_are_426_with_a_json_detail(server, headers):
    status, response_headers, body = handshake(server, headers=headers)
    assert status == 426
    assert response_headers["Upgrade"].lower() == "websocket"
    assert_json_detail(response_headers, body)


@pytest.mark.parametrize("headers", [{"Upgrade": None}, {"Connection": None}], ids=["no-upgrade", "no-connection"])
def test_a_plain_request_to_ws_is_answered_in_json(server, headers):
    """Whoever answers it (the WebSocket layer or the router), the answer is a JSON error."""
    status, response_headers, body = handshake(server, headers=headers)
    assert 400 <= status < 500
    assert_json_detail(response_headers, body)
