"""TLS (PROTOCOL.md §6): with TLS_CERT_FILE and TLS_KEY_FILE the port serves HTTPS and WSS only."""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess

import pytest
import requests
import websockets

from harness import DEFAULT_PASSWORD, Server, expect_ok, unique_email


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


@pytest.fixture
def tls_server(start_server, certificate):
    cert, key = certificate
    return start_server(env={"TLS_CERT_FILE": str(cert), "TLS_KEY_FILE": str(key)})


def https(server: Server, path: str) -> str:
    return f"https://127.0.0.1:{server.port}{path}"


def test_rest_over_https_with_the_configured_certificate(tls_server, certificate):
    cert, _ = certificate
    assert "listening on https://" in tls_server.log()
    email = unique_email()
    assert expect_ok(requests.post(https(tls_server, "/register"), json={"email": email, "password": DEFAULT_PASSWORD},
                                   verify=str(cert), timeout=10))["email"] == email
    token = expect_ok(requests.post(https(tls_server, "/login"), json={"email": email, "password": DEFAULT_PASSWORD},
                                    verify=str(cert), timeout=10))["access_token"]
    me = expect_ok(requests.get(https(tls_server, "/me"), headers={"Authorization": f"Bearer {token}"},
                                verify=str(cert), timeout=10))
    assert me["email"] == email


def test_plain_http_is_not_served_on_a_tls_port(tls_server):
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{tls_server.port}/healthz", timeout=10)
    # The server is unaffected.
    assert tls_server.running


def test_websocket_over_wss(tls_server, certificate):
    cert, _ = certificate
    email = unique_email()
    requests.post(https(tls_server, "/register"), json={"email": email, "password": DEFAULT_PASSWORD},
                  verify=str(cert), timeout=10)
    token = requests.post(https(tls_server, "/login"), json={"email": email, "password": DEFAULT_PASSWORD},
                          verify=str(cert), timeout=10).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    org = expect_ok(requests.post(https(tls_server, "/organizations"), json={"name": "tls", "subnet": "10.9.0.0/24"},
                                  headers=auth, verify=str(cert), timeout=10))
    expect_ok(requests.post(https(tls_server, f"/organizations/{org['id']}/allocate_ip"), json={}, headers=auth,
                            verify=str(cert), timeout=10))

    async def register() -> dict:
        context = ssl.create_default_context(cafile=str(cert))
        async with websockets.connect(f"wss://127.0.0.1:{tls_server.port}/ws?token={token}", ssl=context) as ws:
            await ws.send(json.dumps({"type": "register", "public_ip": "203.0.113.1", "public_port": 50000}))
            return json.loads(await asyncio.wait_for(ws.recv(), 10))

    response = asyncio.run(register())
    assert response["type"] == "register_agent_response"
    assert response["virtual_ip"] == "10.9.0.1"


def test_a_certificate_without_its_key_is_refused_at_start(binary, tmp_path, certificate):
    cert, _ = certificate
    server = Server(binary, tmp_path, env={"TLS_CERT_FILE": str(cert)})
    result = subprocess.run([str(binary)], cwd=tmp_path, env=server.environment(), capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 2
    assert "TLS_CERT_FILE and TLS_KEY_FILE go together" in result.stderr


def test_an_unreadable_certificate_stops_the_start(binary, tmp_path):
    server = Server(binary, tmp_path, env={"TLS_CERT_FILE": str(tmp_path / "missing.pem"),
                                           "TLS_KEY_FILE": str(tmp_path / "missing-key.pem")})
    result = subprocess.run([str(binary)], cwd=tmp_path, env=server.environment(), capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 1
    assert "cannot start" in result.stderr
