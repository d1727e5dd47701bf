"""Fixtures of the RFC 6455 conformance suite (the Autobahn "fuzzingclient" case list, adapted).

The server under test is the real binary (SIGNALING_SERVER_BINARY, else the release build),
started once for the session by tests/e2e/harness.py on a free port, on SQLite, with the default
limits (64 KiB messages, 50 messages/s with a burst of 100).

The server is not an echo server: where Autobahn expects its message echoed, a case sends a valid
protocol message framed the way the case says and expects the protocol's answer:

- phase "unregistered": the message is a `register` (the only valid first message), answered by
  `register_agent_response`; any protocol-level error is `{"error"}` then close 1008.
- phase "registered": the connection registered first; the message is `{"type":"ping"}`,
  answered by `{"type":"pong"}`; protocol-level errors are answered and the connection stays.

Failures of the WebSocket layer itself (framing, UTF-8, size) close with the RFC's code (1002,
1007, 1009) in both phases, and the server then closes TCP.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))  # harness.py, unmodified
sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
from wsframes import CLOSE, TEXT, WsClient, build_frame, close_payload  # noqa: E402

PHASES = ("unregistered", "registered")
MAX_MESSAGE = 64 * 1024  # WS_MAX_MESSAGE_BYTES (default)
PONG = {"type": "pong"}
INVALID_JSON = {"error": "Invalid JSON"}
RESPONSE_KEYS = {"type", "status", "virtual_ip", "connection_id", "existing_peers", "peer_id",
                 "organization_id", "subnet"}


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    try:
        binary = harness.server_binary()
    except harness.ServerBinaryMissing as missing:
        pytest.exit(str(missing), returncode=4)
    if harness.database_backend() != "sqlite":
        pytest.exit("the conformance suite runs on SQLite only (unset E2E_DATABASE)", returncode=4)
    instance = harness.Server(binary, tmp_path_factory.mktemp("conformance-server")).start()
    yield instance
    code = instance.stop()
    assert code == 0, f"the server exited with {code} on SIGTERM; its log:\n{instance.log()}"


@pytest.fixture(scope="session")
def api(server) -> harness.Client:
    return server.client()


class Peer:
    """A user of an organization of its own holding a virtual IP: its connections see no one else."""

    def __init__(self, server: harness.Server, api: harness.Client):
        self.server = server
        self.user = api.new_user("conformance")
        self.org = api.create_org(self.user, "10.0.0.0/29")
        self.virtual_ip = api.allocate(self.user, self.org["id"])["virtual_ip"]

    def connect(self, token: str | None = "own") -> WsClient:
        return WsClient.connect("127.0.0.1", self.server.port, self.user.token if token == "own" else token)


@pytest.fixture
def peer(server, api) -> Peer:
    return Peer(server, api)


def pad(message: dict, size: int | None) -> bytes:
    """The JSON text of `message`, padded with trailing spaces to exactly `size` bytes."""
    text = json.dumps(message, separators=(",", ":")).encode()
    if size is None:
        return text
    assert len(text) <= size, (len(text), size)
    return text + b" " * (size - len(text))


class Conversation:
    """A connection in one phase, with what that phase sends and expects."""

    def __init__(self, peer: Peer, phase: str):
        assert phase in PHASES
        self.peer = peer
        self.phase = phase
        self.ws = peer.connect()
        if phase == "registered":
            self.ws.send_text(self.register_message())
            self.check_registered(self.ws.recv_json())

    # what to send

    def register_message(self, extra: dict | None = None) -> bytes:
        return pad({"type": "register", "public_ip": "1.2.3.4", "public_port": 5000, **(extra or {})}, None)

    def probe(self, size: int | None = None) -> bytes:
        """The phase's valid message, padded with JSON whitespace to `size` bytes."""
        if self.phase == "unregistered":
            return pad({"type": "register", "public_ip": "1.2.3.4", "public_port": 5000}, size)
        return pad({"type": "ping"}, size)

    def wrap(self, content: bytes) -> bytes:
        """The phase's valid message with `content` (raw bytes) as the value of an extra string
        field "x" (unknown fields are ignored)."""
        return self.probe()[:-1] + b',"x":"' + content + b'"}'

    # what to expect

    def check_registered(self, response: dict) -> None:
        assert response.get("type") == "register_agent_response", response
        assert set(response) == RESPONSE_KEYS, response
        assert response["virtual_ip"] == self.peer.virtual_ip, response

    def expect_answer(self, timeout: float | None = None) -> None:
        """The answer to probe()/wrap(): the registration (which moves the conversation to the
        registered phase) or a pong."""
        answer = self.ws.recv_json(**({"timeout": timeout} if timeout else {}))
        if self.phase == "unregistered":
            self.check_registered(answer)
            self.phase = "registered"
        else:
            assert answer == PONG, answer

    def check_answer_message(self, message: tuple) -> None:
        """`message` (opcode, payload) from a Closing is the answer to probe()/wrap()."""
        opcode, payload = message
        assert opcode == TEXT, message
        answer = json.loads(payload)
        if self.phase == "unregistered":
            self.check_registered(answer)
        else:
            assert answer == PONG, answer

    def expect_error(self, error: dict) -> None:
        """A protocol-level error: before registration the error then close 1008; after, the error
        and the connection stays (checked with a ping)."""
        if self.phase == "unregistered":
            closing = self.ws.expect_close(1008)
            assert [json.loads(p) for _, p in closing.messages] == [error], closing.messages
            assert all(opcode == TEXT for opcode, _ in closing.messages), closing.messages
            return
        assert self.ws.recv_json() == error
        self.still_alive()

    def expect_invalid_json(self) -> None:
        self.expect_error(INVALID_JSON)

    def expect_fail(self, code: int | tuple, answered_before: bool | None = False, pongs: list = ()) -> None:
        """The WebSocket layer fails the connection: close `code`, then TCP closes. What arrives
        before the close: nothing (answered_before False), exactly the answer to one probe (True),
        or either (None: the RFC allows a server to fail before answering what preceded); and
        exactly the pongs `pongs`."""
        closing = self.ws.expect_close(code)
        assert closing.pongs == list(pongs), f"pongs before the close: {closing.pongs}"
        if answered_before is None:
            assert len(closing.messages) <= 1, closing.messages
        else:
            assert len(closing.messages) == (1 if answered_before else 0), closing.messages
        for message in closing.messages:
            self.check_answer_message(message)

    def still_alive(self) -> None:
        """The connection still works: a ping message is answered (registered phase only)."""
        assert self.phase == "registered"
        self.ws.send_text(b'{"type":"ping"}')
        assert self.ws.recv_json() == PONG

    def finish(self) -> None:
        """Ends a conversation that went well: one more exchange in the registered phase, then the
        closing handshake initiated by the client (close 1000 echoed, TCP closed by the server)."""
        if self.phase == "unregistered":
            self.ws.send_text(self.probe())
            self.expect_answer()
        self.still_alive()
        self.ws.send_raw(build_frame(CLOSE, close_payload(1000)))
        self.ws.expect_close(1000, echo=False)

    def close(self) -> None:
        self.ws.close()


@pytest.fixture(params=PHASES)
def conv(request, peer):
    """A Conversation in each phase."""
    conversation = Conversation(peer, request.param)
    yield conversation
    conversation.close()


@pytest.fixture
def open_conv(peer):
    """open_conv(phase) -> a Conversation, for tests that choose their phases themselves."""
    made = []

    def make(phase: str) -> Conversation:
        made.append(Conversation(peer, phase))
        return made[-1]

    yield make
    for conversation in made:
        conversation.close()
