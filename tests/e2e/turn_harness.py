"""A real TURN server for the ICE tests (test_ws_ice_servers.py): coturn's `turnserver` on loopback,
started by the test with the TURN REST secret (use-auth-secret), and a small TURN client that makes
one Allocate with long-term credentials (RFC 5389 §10.2, RFC 5766 §6).

The client is written here rather than driving coturn's turnutils_uclient: its outcome is a plain
value (the relayed address, or the error code), not a log to parse.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

MAGIC_COOKIE = 0x2112A442
ALLOCATE_REQUEST, ALLOCATE_SUCCESS, ALLOCATE_ERROR = 0x0003, 0x0103, 0x0113
BINDING_REQUEST = 0x0001
USERNAME, MESSAGE_INTEGRITY, ERROR_CODE, REALM, NONCE = 0x0006, 0x0008, 0x0009, 0x0014, 0x0015
REQUESTED_TRANSPORT, XOR_RELAYED_ADDRESS = 0x0019, 0x0016
UDP = 17
REALM_NAME = "test"
START_TIMEOUT = 10.0


def free_udp_and_tcp_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (turnserver listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port for turnserver")


def turnserver_binary() -> str | None:
    return shutil.which("turnserver") or (
        "/usr/bin/turnserver" if os.access("/usr/bin/turnserver", os.X_OK) else None)


class Coturn:
    """One turnserver process in the foreground on 127.0.0.1 (no daemon, no TLS, no CLI, no
    configuration file), accepting TURN REST credentials made with `secret`."""

    def __init__(self, secret: str):
        self.secret = secret
        self.port = free_udp_and_tcp_port()
        self._dir = tempfile.TemporaryDirectory(prefix="coturn-e2e-")
        self.process: subprocess.Popen | None = None
        self.log_path = Path(self._dir.name) / "turnserver.log"

    def start(self) -> "Coturn":
        binary = turnserver_binary()
        assert binary, "turnserver is missing: scripts/install-deps.sh installs Debian's coturn"
        relay_low = 49152 + (self.port % 100) * 100  # a range of its own, away from other instances
        args = [binary, "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", f"--listening-port={self.port}",
                f"--min-port={relay_low}", f"--max-port={relay_low + 99}", "--use-auth-secret",
                f"--static-auth-secret={self.secret}", f"--realm={REALM_NAME}", "--no-cli", "--no-tls", "--no-dtls",
                "--allow-loopback-peers", "--no-software-attribute", f"--userdb={self._dir.name}/turndb",
                f"--pidfile={self._dir.name}/turnserver.pid", f"--log-file={self.log_path}", "--simple-log",
                "--no-stdout-log"]
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:  # serving when it answers a STUN Binding request
            assert self.process.poll() is None, f"turnserver exited with {self.process.returncode}:\n{self.log()}"
            if binding_answered(self.port):
                return self
            time.sleep(0.1)
        raise AssertionError(f"turnserver did not answer on port {self.port} within {START_TIMEOUT} s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._dir.cleanup()

    @property
    def stun_url(self) -> str:
        return f"stun:127.0.0.1:{self.port}"

    @property
    def turn_url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"


# -- STUN/TURN messages --------------------------------------------------------------------------

def _attribute(kind: int, value: bytes) -> bytes:
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * (-len(value) % 4)


def _message(kind: int, transaction: bytes, attributes: bytes) -> bytes:
    return struct.pack("!HHI", kind, len(attributes), MAGIC_COOKIE) + transaction + attributes


def _with_integrity(kind: int, transaction: bytes, attributes: bytes, key: bytes) -> bytes:
    # RFC 5389 §15.4: the HMAC covers the message up to the attribute, its length field already
    # counting the attribute (4 + 20 bytes).
    header = struct.pack("!HHI", kind, len(attributes) + 24, MAGIC_COOKIE) + transaction
    digest = hmac.new(key, header + attributes, hashlib.sha1).digest()
    return _message(kind, transaction, attributes + _attribute(MESSAGE_INTEGRITY, digest))


def _parse(data: bytes) -> tuple[int, bytes, dict[int, bytes]]:
    kind, length, cookie = struct.unpack("!HHI", data[:8])
    assert cookie == MAGIC_COOKIE, "not a STUN message"
    attributes, offset = {}, 20
    while offset + 4 <= 20 + length:
        attr, size = struct.unpack("!HH", data[offset:offset + 4])
        attributes.setdefault(attr, data[offset + 4:offset + 4 + size])
        offset += 4 + size + (-size % 4)
    return kind, data[8:20], attributes


def _exchange(sock: socket.socket, port: int, request: bytes, transaction: bytes) -> tuple[int, dict[int, bytes]]:
    for _ in range(3):  # UDP: retransmit a lost request
        sock.sendto(request, ("127.0.0.1", port))
        try:
            while True:
                data, _ = sock.recvfrom(2048)
                kind, answered, attributes = _parse(data)
                if answered == transaction:
                    return kind, attributes
        except socket.timeout:
            continue
    raise AssertionError(f"no answer from the TURN server on port {port}")


def binding_answered(port: int) -> bool:
    transaction = os.urandom(12)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.3)
        sock.sendto(_message(BINDING_REQUEST, transaction, b""), ("127.0.0.1", port))
        try:
            data, _ = sock.recvfrom(2048)
        except (socket.timeout, ConnectionRefusedError):
            return False
    return _parse(data)[1] == transaction


@dataclass
class AllocateOutcome:
    relayed: tuple[str, int] | None = None  # the XOR-RELAYED-ADDRESS of a success
    error_code: int | None = None  # else the error of the authenticated attempt (401, 438, ...)
    reason: str = ""


def _xor_address(value: bytes) -> tuple[str, int]:
    family, xport = struct.unpack("!xBH", value[:4])
    assert family == 1, "IPv4 expected on loopback"
    port = xport ^ (MAGIC_COOKIE >> 16)
    address = struct.unpack("!I", value[4:8])[0] ^ MAGIC_COOKIE
    return socket.inet_ntoa(struct.pack("!I", address)), port


def allocate(port: int, username: str, password: str, timeout: float = 2.0) -> AllocateOutcome:
    """A UDP relay Allocate on 127.0.0.1:`port` with long-term credentials: the first request is
    refused with 401 and the server's REALM and NONCE, the second carries USERNAME, REALM, NONCE
    and MESSAGE-INTEGRITY keyed with MD5(username:realm:password)."""
    transport = _attribute(REQUESTED_TRANSPORT, bytes([UDP, 0, 0, 0]))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:  # a new 5-tuple: a new allocation
        sock.settimeout(timeout)
        transaction = os.urandom(12)
        kind, attributes = _exchange(sock, port, _message(ALLOCATE_REQUEST, transaction, transport), transaction)
        assert kind == ALLOCATE_ERROR and REALM in attributes and NONCE in attributes, (
            f"an unauthenticated Allocate must be refused with REALM and NONCE, got {kind:#06x} {attributes}")
        realm = attributes[REALM]
        key = hashlib.md5(username.encode() + b":" + realm + b":" + password.encode()).digest()
        body = (transport + _attribute(USERNAME, username.encode()) + _attribute(REALM, realm)
                + _attribute(NONCE, attributes[NONCE]))
        transaction = os.urandom(12)
        kind, attributes = _exchange(sock, port, _with_integrity(ALLOCATE_REQUEST, transaction, body, key),
                                     transaction)
    if kind == ALLOCATE_SUCCESS:
        return AllocateOutcome(relayed=_xor_address(attributes[XOR_RELAYED_ADDRESS]))
    assert kind == ALLOCATE_ERROR, f"unexpected answer {kind:#06x}"
    code = attributes[ERROR_CODE]
    return AllocateOutcome(error_code=(code[2] & 0x7) * 100 + code[3], reason=code[4:].decode(errors="replace"))
