"""Machinery of the WebSocket end-to-end suite (test_ws_*.py), PROTOCOL.md §5.

- `WsServer`: one signaling-server process in its own directory with its own SQLite database,
  started with PORT=0 (or a fixed port) and stopped with SIGTERM (the contract wants exit code 0).
- `Rest`: the few REST calls that set users, organizations and addresses up (each asserts 200).
- `Agent`: a well-behaved WebSocket client (python-websockets) with receive-with-timeout helpers.
- `RawWs`: a hand-written WebSocket client over a plain socket, for clients that misbehave on
  purpose: never answer pings, never read, vanish without a close frame, answer a close late.
- `run()`: runs one asyncio scenario with an overall deadline (pytest-asyncio is not installed).

Waiting is always "until this message arrives, at most N seconds"; the only fixed waits are the
negative checks ("nothing else arrives within Q seconds"), kept short.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import re
import socket
import struct
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests
import websockets
from websockets.exceptions import ConnectionClosed

import harness

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
GENERATED_PEER_ID = re.compile(r"^peer-[0-9a-f]{12}$")

PEER_KEYS = {"peer_id", "user_id", "email", "agent_id", "public_ip", "public_port", "relay_ip",
             "relay_port", "virtual_ip"}
RESPONSE_KEYS = {"type", "status", "virtual_ip", "connection_id", "existing_peers", "peer_id",
                 "organization_id", "subnet"}
OFFLINE_KEYS = {"type", "peer_id", "user_id", "virtual_ip"}
SIGNAL_KEYS = {"type", "from", "from_virtual_ip", "from_user_id", "data"}

PASSWORD = "password123"
HTTP_TIMEOUT = 30
RECV_TIMEOUT = 5.0  # a message the server owes us arrives well within this on loopback


# -- the server process ----------------------------------------------------------------------------

class WsServer(harness.Server):
    """The suite's server process (harness.Server) in a temporary working directory, with the
    helpers of the WebSocket tests."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, env: dict | None = None,
                 workdir: Path | None = None):
        self._tmp = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="ws-e2e-")
            workdir = Path(self._tmp.name)
        super().__init__(harness.server_binary(), workdir, host=host, port=port,
                         env={k: str(v) for k, v in (env or {}).items()})

    def close(self) -> None:
        """Stops the process (asserting exit code 0) and removes the working directory."""
        try:
            code = self.stop()
            assert code == 0, f"signaling-server exited with {code} on SIGTERM; log:\n{self.log()}"
        finally:
            if self._tmp is not None:
                self._tmp.cleanup()

    def rss_kib(self) -> int:
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS line")

    @property
    def connect_host(self) -> str:
        return "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host

    def ws_url(self, path: str = "/ws") -> str:
        return f"ws://{self.connect_host}:{self.port}{path}"

    def rest(self) -> "Rest":
        return Rest(self.url)


@contextlib.contextmanager
def running_server(*, bind_retry_seconds: float | None = None, **options):
    """A started WsServer, stopped with SIGTERM (exit code 0 asserted) on exit. A fixed port that is
    busy is retried for a minute (another suite may be using 8000 at the same time)."""
    if bind_retry_seconds is None:
        bind_retry_seconds = 60 if options.get("port") else 0
    from cluster_harness import ClusterWsServer, cluster_size  # a cluster of processes instead of one

    server = ClusterWsServer(cluster_size(), **options) if cluster_size() > 1 else WsServer(**options)
    server.start(bind_retry_seconds=bind_retry_seconds)
    try:
        yield server
    finally:
        server.close()


# -- REST set-up -----------------------------------------------------------------------------------

@dataclass
class User:
    id: int
    email: str
    token: str

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


def _ok(response: requests.Response):
    assert response.status_code == 200, (
        f"{response.request.method} {response.request.url} -> {response.status_code} {response.text[:500]!r}")
    return response.json()


class Rest:
    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = requests.Session()

    def call(self, method: str, path: str, user: User | None = None, **kwargs) -> requests.Response:
        headers = user.headers if user else {}
        return self.http.request(method, self.base_url + path, headers=headers, timeout=HTTP_TIMEOUT, **kwargs)

    def new_user(self, tag: str = "user") -> User:
        email = f"{tag}-{uuid.uuid4().hex[:12]}@example.com"
        created = _ok(self.call("POST", "/register", json={"email": email, "password": PASSWORD}))
        token = _ok(self.call("POST", "/login", json={"email": email, "password": PASSWORD}))["access_token"]
        return User(created["id"], created["email"], token)

    def create_org(self, owner: User, subnet: str = "10.0.0.0/24", name: str | None = None) -> dict:
        body = {"name": name or f"org-{uuid.uuid4().hex[:8]}", "subnet": subnet}
        return _ok(self.call("POST", "/organizations", owner, json=body))

    def join(self, user: User, org_id: int) -> dict:
        return _ok(self.call("POST", f"/organizations/{org_id}/join", user, json={}))

    def allocate(self, user: User, org_id: int, **body) -> str:
        return _ok(self.call("POST", f"/organizations/{org_id}/allocate_ip", user, json=body))["virtual_ip"]

    def remove_member(self, by: User, org_id: int, user_id: int) -> dict:
        return _ok(self.call("DELETE", f"/organizations/{org_id}/members/{user_id}", by))

    def release(self, by: User, org_id: int, virtual_ip: str) -> dict:
        return _ok(self.call("DELETE", f"/organizations/{org_id}/ips/{virtual_ip}", by))

    def peers(self, user: User, org_id: int) -> list:
        return _ok(self.call("GET", f"/organizations/{org_id}/peers", user))

    def ips(self, user: User, org_id: int) -> list:
        return _ok(self.call("GET", f"/organizations/{org_id}/ips", user))

    def online(self, user: User, org_id: int) -> dict:
        """virtual_ip -> online flag, from GET /ips."""
        return {row["virtual_ip"]: row["online"] for row in self.ips(user, org_id)}

    def member_with_ip(self, org_id: int, owner: User | None = None, tag: str = "member",
                       **allocate) -> tuple[User, str]:
        """A new user that joined `org_id` (unless it is `owner`) and holds an address there."""
        user = owner or self.new_user(tag)
        if owner is None:
            self.join(user, org_id)
        return user, self.allocate(user, org_id, **allocate)


# -- message shapes ----------------------------------------------------------------------------------

def register_msg(public_ip: str = "203.0.113.1", public_port: int = 50000, **extra) -> dict:
    return {"type": "register", "public_ip": public_ip, "public_port": public_port, **extra}


def peer_object(user: User, virtual_ip: str, *, peer_id: str | None = None, agent_id: str | None = None,
                public_ip: str = "203.0.113.1", public_port: int = 50000, relay_ip: str | None = None,
                relay_port: int | None = None) -> dict:
    """The peer object the contract says the server sends for this registration."""
    return {"peer_id": peer_id if peer_id is not None else agent_id, "user_id": user.id, "email": user.email,
            "agent_id": agent_id, "public_ip": public_ip, "public_port": public_port, "relay_ip": relay_ip,
            "relay_port": relay_port, "virtual_ip": virtual_ip}


def offline_msg(peer: dict) -> dict:
    return {"type": "peer_offline", "peer_id": peer["peer_id"], "user_id": peer["user_id"],
            "virtual_ip": peer["virtual_ip"]}


def ip_key(address: str) -> tuple:
    return tuple(int(part) for part in address.split("."))


# -- a well-behaved client ---------------------------------------------------------------------------

class Agent:
    """A python-websockets client. recv() waits for the next message with a timeout; the
    connection's close code is observed through expect_close()."""

    def __init__(self, ws, name: str):
        self.ws = ws
        self.name = name
        self.response: dict | None = None
        self.unread: list[dict] = []  # received while catching up (catch_up), not yet looked at

    @classmethod
    async def open(cls, server: WsServer, token: str | None = None, *, path: str = "/ws", via: str = "query",
                   name: str = "agent", **options) -> "Agent":
        uri = server.ws_url(path)
        headers = {}
        if token is not None and via == "query":
            uri += f"?token={token}"
        elif token is not None and via == "header":
            headers["Authorization"] = f"Bearer {token}"
        options.setdefault("open_timeout", 20)
        options.setdefault("close_timeout", 5)
        ws = await websockets.connect(uri, extra_headers=headers, **options)
        return cls(ws, name)

    async def send(self, message) -> None:
        await self.ws.send(message if isinstance(message, (str, bytes)) else json.dumps(message))

    async def recv(self, timeout: float = RECV_TIMEOUT) -> dict:
        if self.unread:
            return self.unread.pop(0)
        try:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"{self.name}: no message within {timeout}s") from None
        except ConnectionClosed:
            raise AssertionError(f"{self.name}: connection closed ({self.ws.close_code} "
                                 f"{self.ws.close_reason!r}) while a message was expected") from None
        return json.loads(raw)

    async def expect(self, expected: dict, timeout: float = RECV_TIMEOUT) -> dict:
        got = await self.recv(timeout)
        assert got == expected, f"{self.name}: expected {expected}, got {got}"
        return got

    async def request(self, message, timeout: float = RECV_TIMEOUT) -> dict:
        await self.send(message)
        return await self.recv(timeout)

    async def register(self, message: dict | None = None, timeout: float = RECV_TIMEOUT, **fields) -> dict:
        response = await self.request(message if message is not None else register_msg(**fields), timeout)
        assert response.get("type") == "register_agent_response", f"{self.name}: {response}"
        assert set(response) == RESPONSE_KEYS, response
        self.response = response
        return response

    @property
    def virtual_ip(self) -> str:
        return self.response["virtual_ip"]

    @property
    def peer_id(self) -> str:
        return self.response["peer_id"]

    async def barrier(self, timeout: float = RECV_TIMEOUT) -> list:
        """Sends a ping and returns every message that arrived before its pong."""
        await self.send({"type": "ping"})
        before = []
        while True:
            message = await self.recv(timeout)
            if message == {"type": "pong"}:
                return before
            before.append(message)

    async def expect_quiet(self, seconds: float = 0.3) -> None:
        """Nothing arrives within `seconds` (a negative check), then the connection answers a ping."""
        assert not self.unread, f"{self.name}: unexpected messages {self.unread}"
        try:
            raw = await asyncio.wait_for(self.ws.recv(), seconds)
        except asyncio.TimeoutError:
            assert await self.barrier() == [], self.name
            return
        except ConnectionClosed:
            raise AssertionError(f"{self.name}: closed ({self.ws.close_code}) instead of staying quiet") from None
        raise AssertionError(f"{self.name}: unexpected message {raw}")

    async def expect_close(self, code: int, timeout: float = RECV_TIMEOUT, reason: str | None = None,
                           before: list | None = None, before_options: tuple | None = None) -> None:
        """The server closes with `code`; the messages still unread must be exactly `before` (or
        one of `before_options`)."""
        received, self.unread = self.unread, []
        try:
            while True:
                received.append(json.loads(await asyncio.wait_for(self.ws.recv(), timeout)))
        except asyncio.TimeoutError:
            raise AssertionError(f"{self.name}: not closed within {timeout}s; got {received}") from None
        except ConnectionClosed:
            pass
        if before_options is not None:
            assert received in before_options, f"{self.name}: before the close got {received}"
        else:
            assert received == (before or []), f"{self.name}: before the close got {received}"
        assert self.ws.close_code == code, (f"{self.name}: close code {self.ws.close_code} "
                                            f"({self.ws.close_reason!r}), expected {code}")
        if reason is not None:
            assert self.ws.close_reason == reason, self.ws.close_reason

    async def expect_error_close(self, error: str, timeout: float = RECV_TIMEOUT) -> None:
        """Before registration: {"error": error} then close 1008."""
        await self.expect_close(1008, timeout, before=[{"error": error}])

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 10)


async def open_registered(server: WsServer, user: User, name: str = "agent", *, connect: dict | None = None,
                          **fields) -> Agent:
    """A connection of `user` that registered with register_msg(**fields); `connect` holds
    options for websockets.connect."""
    agent = await Agent.open(server, user.token, name=name, **(connect or {}))
    await agent.register(**fields)
    if hasattr(server, "members"):  # several processes (cluster_harness.ClusterWsServer)
        await catch_up(server, user, agent)
    return agent


async def catch_up(server, user: User, agent: Agent) -> None:
    """With several processes, the one an agent registered with may not have heard yet of a peer
    that came online on another one just before: that peer then arrives as peer_online right after
    the response instead of in existing_peers. Both are correct; the tests, written for one
    process, expect the second, so the peers that were online (the presence table, through REST)
    and came late are moved into the response, and anything else received meanwhile is kept for
    the test to read."""
    org_id = agent.response["organization_id"]
    online = await asyncio.to_thread(server.rest().peers, user, org_id)
    known = {p["virtual_ip"] for p in agent.response["existing_peers"]} | {agent.virtual_ip}
    late = {p["virtual_ip"] for p in online} - known
    if not late:
        return
    kept = []
    while late:
        message = await agent.recv()
        if message.get("type") == "peer_online" and message["peer"]["virtual_ip"] in late:
            late.discard(message["peer"]["virtual_ip"])
            agent.response["existing_peers"].append(message["peer"])
        else:
            kept.append(message)
    agent.response["existing_peers"].sort(key=lambda p: ip_key(p["virtual_ip"]))
    agent.unread = kept + agent.unread


async def close_all(*agents) -> None:
    await asyncio.gather(*(agent.close() for agent in agents if agent is not None))


# -- a misbehaving client on a plain socket ----------------------------------------------------------

class Closed(Exception):
    def __init__(self, code, reason=b""):
        super().__init__(f"close frame {code} {reason!r}")
        self.code = code
        self.reason = reason


class RawWs:
    """A minimal RFC 6455 client on a blocking socket. It never answers pings and reads only when
    told to, so it can play a dead, mute or stalled peer. Blocking calls are meant to be run with
    asyncio.to_thread from async tests."""

    def __init__(self, host: str, port: int, path: str = "/ws", token: str | None = None,
                 rcvbuf: int | None = None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(10)
        self.sock.connect((host, port))
        self.buffer = b""
        key = base64.b64encode(os.urandom(16)).decode()
        target = path + (f"?token={token}" if token else "")
        self.sock.sendall((f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            assert chunk, "connection closed during the handshake"
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        assert lines[0].startswith("HTTP/1.1 101"), lines[0]
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode())
                                  .digest()).decode()
        headers = {line.split(":", 1)[0].strip().lower(): line.split(":", 1)[1].strip() for line in lines[1:]}
        assert headers.get("sec-websocket-accept") == accept, headers

    @classmethod
    def for_server(cls, server: WsServer, token: str | None, **options) -> "RawWs":
        return cls(server.connect_host, server.port, token=token, **options)

    def send_frame(self, opcode: int, payload: bytes, fin: bool = True) -> None:
        header = bytes([(0x80 if fin else 0) | opcode])
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header += bytes([0x80 | length])
        elif length < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", length)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send_text(self, text) -> None:
        self.send_frame(0x1, text if isinstance(text, bytes) else text.encode())

    def send_json(self, message) -> None:
        self.send_text(json.dumps(message))

    def send_close(self, code: int = 1000) -> None:
        self.send_frame(0x8, struct.pack("!H", code))

    def _read(self, n: int, deadline: float) -> bytes:
        while len(self.buffer) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no frame in time")
            self.sock.settimeout(remaining)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed by the server")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def recv_frame(self, timeout: float = RECV_TIMEOUT) -> tuple[int, bytes]:
        deadline = time.monotonic() + timeout
        first, second = self._read(2, deadline)
        opcode, length = first & 0x0F, second & 0x7F
        self.last_fin = bool(first & 0x80)
        assert not second & 0x80, "server frames must not be masked"
        if length == 126:
            length = struct.unpack("!H", self._read(2, deadline))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._read(8, deadline))[0]
        return opcode, self._read(length, deadline)

    def recv_json(self, timeout: float = RECV_TIMEOUT) -> dict:
        """The next text message (its fragments joined), skipping (and never answering) pings; a
        close frame raises Closed."""
        deadline = time.monotonic() + timeout
        message = None
        while True:
            opcode, payload = self.recv_frame(max(deadline - time.monotonic(), 0.001))
            if opcode in (0x1, 0x0):
                assert (opcode == 0x1) == (message is None), "bad fragmentation"
                message = (message or b"") + payload
                if self.last_fin:
                    return json.loads(message)
                continue
            if opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                raise Closed(code, payload[2:])
            if opcode in (0x9, 0xA):
                continue
            raise AssertionError(f"unexpected opcode {opcode}")

    def recv_close(self, timeout: float = RECV_TIMEOUT) -> tuple[list, int]:
        """Reads up to the close frame: (messages before it, close code)."""
        messages = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                messages.append(self.recv_json(max(deadline - time.monotonic(), 0.001)))
            except Closed as closed:
                return messages, closed.code

    def wait_eof(self, timeout: float = RECV_TIMEOUT) -> None:
        """Reads (and discards) until the server closes the TCP connection."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the server did not close the TCP connection")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return
            if not chunk:
                return

    def abort(self) -> None:
        """Closes with a TCP reset (SO_LINGER 0): no close frame, no FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def drop(self) -> None:
        """Closes the TCP connection (FIN) without a close frame."""
        self.sock.close()


# -- running scenarios -------------------------------------------------------------------------------

def run(scenario, timeout: float = 60):
    """Runs the coroutine `scenario` with an overall deadline."""
    async def bounded():
        return await asyncio.wait_for(scenario, timeout)
    return asyncio.run(bounded())


async def eventually(predicate, timeout: float, what: str, interval: float = 0.02):
    """Polls a cheap local predicate (e.g. a REST call) until true."""
    deadline = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(predicate) if not asyncio.iscoroutinefunction(predicate) else await predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not true within {timeout}s")
        await asyncio.sleep(interval)


async def wait_offline(rest: Rest, user: User, org_id: int, virtual_ip: str, timeout: float = RECV_TIMEOUT) -> None:
    """Waits until GET /ips shows `virtual_ip` offline (a closed connection has been processed)."""
    await eventually(lambda: rest.online(user, org_id).get(virtual_ip) is False, timeout,
                     f"{virtual_ip} offline in organization {org_id}")
