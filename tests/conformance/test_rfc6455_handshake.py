"""The opening handshake (RFC 6455 4.2): a valid upgrade is answered 101 with the right
Sec-WebSocket-Accept (every other case checks that); an invalid one gets an HTTP error whose body
is the contract's error shape, `{"detail": "..."}` with `Content-Type: application/json`
(PROTOCOL.md §1), like every other HTTP error of the server.

- `Sec-WebSocket-Version` other than 13: `426 Upgrade Required` with `Sec-WebSocket-Version: 13`
  (4.2.2, 4.4).
- `Sec-WebSocket-Key` missing, or not the base64 of 16 bytes (4.2.1 item 5): `400`.
- A request to /ws that is not a WebSocket upgrade (another method, no `Upgrade` header): an HTTP
  error as for any path that has no such HTTP route (today `404 {"detail": "Not Found"}`, which
  is the FastAPI baseline's answer too); never a 101.
"""

from __future__ import annotations

import base64
import json
import os

import pytest

from wsframes import http_exchange

GOOD_KEY = base64.b64encode(os.urandom(16)).decode()


def upgrade_request(path: str = "/ws", method: str = "GET", version: str | None = "13", key: str | None = GOOD_KEY,
                    upgrade: str | None = "websocket", connection: str | None = "Upgrade",
                    extra: str = "") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost"]
    if upgrade is not None:
        lines.append(f"Upgrade: {upgrade}")
    if connection is not None:
        lines.append(f"Connection: {connection}")
    if key is not None:
        lines.append(f"Sec-WebSocket-Key: {key}")
    if version is not None:
        lines.append(f"Sec-WebSocket-Version: {version}")
    if method in ("POST", "PUT", "PATCH"):
        lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


def json_error(status: int, headers: dict, body: bytes) -> str:
    """The body is {"detail": "<non-empty string>"} served as JSON; returns the detail."""
    assert headers.get("content-type", "").startswith("application/json"), (status, headers, body)
    parsed = json.loads(body)
    assert set(parsed) == {"detail"} and isinstance(parsed["detail"], str) and parsed["detail"], parsed
    return parsed["detail"]


@pytest.mark.parametrize("path", ["/ws", "/ws/"])
def test_handshake_accepted(server, path):
    status, headers, _ = http_exchange("127.0.0.1", server.port, upgrade_request(path))
    assert status == 101, (status, headers)


@pytest.mark.parametrize("version", ["12", "8", "14", "abc", ""])
def test_bad_version_is_426_with_supported_version(server, version):
    status, headers, body = http_exchange("127.0.0.1", server.port, upgrade_request(version=version))
    assert status == 426, (status, headers, body)
    assert headers.get("sec-websocket-version") == "13", headers
    json_error(status, headers, body)


def test_missing_version_is_an_error(server):
    """Without Sec-WebSocket-Version: 400 (not a valid handshake) or 426 (tell the version)."""
    status, headers, body = http_exchange("127.0.0.1", server.port, upgrade_request(version=None))
    assert status in (400, 426), (status, headers, body)
    if status == 426:
        assert headers.get("sec-websocket-version") == "13", headers
    json_error(status, headers, body)


@pytest.mark.parametrize("key", [None, "", "short", base64.b64encode(os.urandom(15)).decode(),
                                 base64.b64encode(os.urandom(17)).decode(), "!!!!!!!!!!!!!!!!!!!!!!==",
                                 "x" * 25],
                         ids=["missing", "empty", "not-base64-short", "15-bytes", "17-bytes", "not-base64-24-chars",
                              "too-long"])
def test_bad_key_is_400(server, key):
    status, headers, body = http_exchange("127.0.0.1", server.port, upgrade_request(key=key))
    assert status == 400, (status, headers, body)
    json_error(status, headers, body)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_non_get_upgrade_is_an_http_error(server, method):
    status, headers, body = http_exchange("127.0.0.1", server.port, upgrade_request(method=method))
    assert 400 <= status < 500, (status, headers, body)
    json_error(status, headers, body)


@pytest.mark.parametrize("variant", ["no-upgrade-header", "no-connection-header", "plain-get", "upgrade-h2c"])
def test_not_an_upgrade_is_an_http_error(server, variant):
    options = {"no-upgrade-header": {"upgrade": None}, "no-connection-header": {"connection": None},
               "plain-get": {"upgrade": None, "connection": None, "key": None, "version": None},
               "upgrade-h2c": {"upgrade": "h2c"}}[variant]
    status, headers, body = http_exchange("127.0.0.1", server.port, upgrade_request(**options))
    assert 400 <= status < 500, (status, headers, body)
    json_error(status, headers, body)
