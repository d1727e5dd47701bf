"""A raw RFC 6455 client for the conformance suite: frames are built byte by byte (masking, length
encodings, RSV bits, any opcode), sent in one TCP write or chopped into pieces, and the server's
frames are parsed and checked as they arrive. Only the standard library.

The client is deliberately passive: it never answers the server's pings on its own and echoes a
close frame only when the test asks for it (`expect_close` does, as a conformant client would).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import socket
import struct
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
RECV_TIMEOUT = 5.0  # a frame the server owes us arrives well within this on loopback
EOF_TIMEOUT = 10.0  # the server closes TCP after a close frame; guard only (its close timeout is 5 s)

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def build_frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0, mask: bool = True,
                mask_key: bytes | None = None, length: int | None = None, length_form: str | None = None) -> bytes:
    """One frame. `length` overrides the announced payload length (the payload sent stays as
    given); `length_form` forces the encoding: "7", "16" or "64" bits (default: the minimal one)."""
    announced = len(payload) if length is None else length
    first = (0x80 if fin else 0) | ((rsv & 0x7) << 4) | (opcode & 0x0F)
    form = length_form or ("7" if announced < 126 else "16" if announced < 65536 else "64")
    mask_bit = 0x80 if mask else 0
    if form == "7":
        header = bytes([first, mask_bit | announced])
    elif form == "16":
        header = bytes([first, mask_bit | 126]) + struct.pack("!H", announced)
    else:
        header = bytes([first, mask_bit | 127]) + struct.pack("!Q", announced)
    if not mask:
        return header + payload
    key = mask_key if mask_key is not None else os.urandom(4)
    return header + key + apply_mask(payload, key)


def apply_mask(payload: bytes, key: bytes) -> bytes:
    if not payload:
        return b""
    repeated = (key * (len(payload) // 4 + 1))[: len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(len(payload), "big")


def close_payload(code: int | None = None, reason: bytes = b"") -> bytes:
    return b"" if code is None else struct.pack("!H", code) + reason


@dataclasses.dataclass
class Frame:
    fin: bool
    rsv: int
    opcode: int
    payload: bytes

    @property
    def close_code(self) -> int | None:
        assert self.opcode == CLOSE
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else None

    @property
    def close_reason(self) -> bytes:
        return self.payload[2:]

    def __repr__(self) -> str:
        shown = self.payload if len(self.payload) <= 80 else self.payload[:80] + b"..."
        return f"Frame(fin={self.fin}, rsv={self.rsv}, opcode={self.opcode:#x}, {len(self.payload)} bytes {shown!r})"


class ConnectionEnded(AssertionError):
    """The server closed TCP (or reset it) while a frame was expected."""


@dataclasses.dataclass
class Closing:
    """What arrived up to and including the server's close frame."""
    code: int | None
    reason: bytes
    messages: list  # (opcode, payload) of the data messages before the close
    pongs: list  # payloads of the pongs before the close


class WsClient:
    """One connection. `connect` performs the opening handshake and checks the server's answer."""

    def __init__(self, sock: socket.socket, buffer: bytes = b""):
        self.sock = sock
        self.buffer = buffer
        self.received_pongs: list[bytes] = []  # pongs skipped by recv_message

    # -- opening handshake ------------------------------------------------------------------------

    @classmethod
    def connect(cls, host: str, port: int, token: str | None = None, path: str = "/ws") -> "WsClient":
        sock = socket.create_connection((host, port), timeout=RECV_TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        target = path + (f"?token={token}" if token else "")
        sock.sendall((f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                      f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
        status, headers, _, rest = read_http_response(sock, body=False)
        assert status == 101, f"handshake answered {status} {headers}"
        assert headers.get("upgrade", "").lower() == "websocket", headers
        assert "upgrade" in headers.get("connection", "").lower(), headers
        expected = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        assert headers.get("sec-websocket-accept") == expected, headers
        assert "sec-websocket-extensions" not in headers, headers  # we offered none
        return cls(sock, rest)

    # -- sending ------------------------------------------------------------------------------------

    def send_raw(self, data: bytes, chop: int | None = None, pause: float = 0.0, lenient: bool = False) -> None:
        """Writes `data`, in one write or in pieces of `chop` bytes (each its own TCP segment:
        TCP_NODELAY is set), `pause` seconds apart. `lenient`: stop quietly when the server no
        longer takes data (it may fail the connection before the end of what a case sends)."""
        try:
            if chop is None:
                self.sock.sendall(data)
                return
            for start in range(0, len(data), chop):
                self.sock.sendall(data[start:start + chop])
                if pause:
                    time.sleep(pause)
        except OSError:
            if not lenient:
                raise

    def send_frame(self, opcode: int, payload: bytes = b"", chop: int | None = None, **options) -> None:
        self.send_raw(build_frame(opcode, payload, **options), chop)

    def send_text(self, text: str | bytes, **options) -> None:
        self.send_frame(TEXT, text.encode() if isinstance(text, str) else text, **options)

    def send_binary(self, data: bytes, **options) -> None:
        self.send_frame(BINARY, data, **options)

    def send_fragments(self, opcode: int, pieces: list[bytes], chop: int | None = None) -> None:
        """One message in len(pieces) frames (the first with `opcode`, the others continuations),
        all in one write (or chopped)."""
        frames = b"".join(build_frame(opcode if i == 0 else CONTINUATION, piece, fin=i == len(pieces) - 1)
                          for i, piece in enumerate(pieces))
        self.send_raw(frames, chop)

    def send_close(self, code: int | None = 1000, reason: bytes = b"", **options) -> None:
        self.send_frame(CLOSE, close_payload(code, reason), **options)

    def try_send_raw(self, data: bytes) -> None:
        """Sends if the server still takes data (it may have closed already)."""
        self.send_raw(data, lenient=True)

    # -- receiving ----------------------------------------------------------------------------------

    def _fill(self, n: int, deadline: float) -> None:
        while len(self.buffer) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no complete frame within the timeout ({len(self.buffer)} bytes pending)")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(1 << 16)
            except socket.timeout:
                continue
            except ConnectionResetError:
                raise ConnectionEnded("connection reset by the server") from None
            if not chunk:
                raise ConnectionEnded(f"the server closed TCP ({len(self.buffer)} bytes of a frame pending)")
            self.buffer += chunk

    def _take(self, n: int, deadline: float) -> bytes:
        self._fill(n, deadline)
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def recv_frame(self, timeout: float = RECV_TIMEOUT) -> Frame:
        """The next frame, checked against what RFC 6455 requires of a server's frames."""
        deadline = time.monotonic() + timeout
        first, second = self._take(2, deadline)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._take(2, deadline))[0]
            assert length >= 126, "16-bit length not minimal"
        elif length == 127:
            length = struct.unpack("!Q", self._take(8, deadline))[0]
            assert 65536 <= length < 1 << 63, "64-bit length not minimal or MSB set"
        frame = Frame(bool(first & 0x80), (first >> 4) & 0x7, first & 0x0F, self._take(length, deadline))
        assert not second & 0x80, f"a server frame must not be masked: {frame}"
        assert frame.rsv == 0, f"RSV bits set without a negotiated extension: {frame}"
        assert frame.opcode in (CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG), f"reserved opcode: {frame}"
        if frame.opcode >= CLOSE:
            assert frame.fin and len(frame.payload) <= 125, f"bad control frame: {frame}"
        return frame

    def recv_message(self, timeout: float = RECV_TIMEOUT) -> tuple[int, bytes]:
        """The next data message (opcode, payload) with its fragments joined; pongs are kept in
        received_pongs, a ping or close frame raises (the tests say what they expect)."""
        deadline = time.monotonic() + timeout
        opcode, parts = None, []
        while True:
            frame = self.recv_frame(max(deadline - time.monotonic(), 0.001))
            if frame.opcode == PONG:
                self.received_pongs.append(frame.payload)
                continue
            if frame.opcode in (CLOSE, PING):
                raise AssertionError(f"a data message was expected, got {frame}")
            assert (frame.opcode == CONTINUATION) == (opcode is not None), f"bad fragmentation: {frame}"
            opcode = opcode if opcode is not None else frame.opcode
            parts.append(frame.payload)
            if frame.fin:
                return opcode, b"".join(parts)

    def recv_json(self, timeout: float = RECV_TIMEOUT):
        """The next message, which must be a text message holding JSON."""
        opcode, payload = self.recv_message(timeout)
        assert opcode == TEXT, f"the server answered in a frame of opcode {opcode:#x}: {payload[:200]!r}"
        return json.loads(payload.decode("utf-8"))

    def recv_pong(self, timeout: float = RECV_TIMEOUT) -> bytes:
        frame = self.recv_frame(timeout)
        assert frame.opcode == PONG, f"a pong was expected, got {frame}"
        return frame.payload

    def expect_nothing(self, seconds: float = 0.3) -> None:
        """No frame arrives within `seconds` (and the connection stays open)."""
        try:
            frame = self.recv_frame(seconds)
        except TimeoutError:
            return
        raise AssertionError(f"nothing was expected, got {frame}")

    def read_until_close(self, timeout: float = RECV_TIMEOUT) -> Closing:
        """Everything up to the server's close frame."""
        deadline = time.monotonic() + timeout
        messages, pongs, opcode, parts = [], [], None, []
        while True:
            try:
                frame = self.recv_frame(max(deadline - time.monotonic(), 0.001))
            except TimeoutError:
                raise AssertionError(f"no close frame within {timeout}s; got {messages} (pongs {pongs})") from None
            except ConnectionEnded as ended:
                raise AssertionError(f"TCP closed without a close frame ({ended}); got {messages}") from None
            if frame.opcode == CLOSE:
                if len(frame.payload) >= 2:
                    reason = frame.close_reason
                    reason.decode("utf-8")  # a close reason must be UTF-8 (RFC 6455 5.5.1)
                else:
                    assert frame.payload == b"", f"a close payload of one byte: {frame}"
                return Closing(frame.close_code, frame.close_reason, messages, pongs)
            if frame.opcode == PONG:
                pongs.append(frame.payload)
            elif frame.opcode == PING:
                continue
            else:
                assert (frame.opcode == CONTINUATION) == (opcode is not None), f"bad fragmentation: {frame}"
                opcode = opcode if opcode is not None else frame.opcode
                parts.append(frame.payload)
                if frame.fin:
                    messages.append((opcode, b"".join(parts)))
                    opcode, parts = None, []

    def expect_close(self, code: int | tuple | None, timeout: float = RECV_TIMEOUT, echo: bool = True) -> Closing:
        """The server sends a close frame with `code` (one of them, for a tuple; None: no status
        code), then closes the TCP connection. Like a conformant client we echo the close (unless
        `echo` is false) before waiting for the server's end of TCP."""
        closing = self.read_until_close(timeout)
        codes = code if isinstance(code, tuple) else (code,)
        assert closing.code in codes, (f"close code {closing.code} ({closing.reason!r}), expected "
                                       f"{' or '.join(map(str, codes))}; before it: {closing.messages}")
        if echo:
            self.try_send_raw(build_frame(CLOSE, close_payload(closing.code)))
        self.expect_eof()
        return closing

    def expect_eof(self, timeout: float = EOF_TIMEOUT) -> None:
        """The server closes the TCP connection; whatever it still sends must not be a frame that
        follows its close (data read here is discarded only after being checked to be empty)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"the server did not close the TCP connection within {timeout}s")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(1 << 16)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return
            if not chunk:
                assert self.buffer == b"", f"bytes after the close frame: {self.buffer[:100]!r}"
                return
            self.buffer += chunk

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


# -- plain HTTP, for the opening handshake's failures ------------------------------------------------

def read_http_response(sock: socket.socket, body: bool = True, timeout: float = RECV_TIMEOUT):
    """(status, lower-cased headers, body, bytes after the head) of one response."""
    deadline = time.monotonic() + timeout
    data = b""
    while b"\r\n\r\n" not in data:
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        chunk = sock.recv(4096)
        assert chunk, f"connection closed during the HTTP response: {data!r}"
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if not body:
        return status, headers, b"", rest
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        chunk = sock.recv(4096)
        assert chunk, "connection closed during the HTTP body"
        rest += chunk
    return status, headers, rest[:length], rest[length:]


def http_exchange(host: str, port: int, request: bytes):
    """Sends a raw HTTP request; (status, headers, body)."""
    with socket.create_connection((host, port), timeout=RECV_TIMEOUT) as sock:
        sock.sendall(request)
        status, headers, body, _ = read_http_response(sock)
        return status, headers, body
