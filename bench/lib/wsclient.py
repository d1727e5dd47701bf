"""A minimal WebSocket client (RFC 6455) on asyncio.Protocol, for the load generator.

Why not the `websockets` library: with 1,000 agents in one process it costs ~50 us of client CPU
per received frame (a stream reader and a task wake-up per message), so the fan-out figures
measured the client, not the server. This protocol parses frames straight in data_received
(~10x cheaper). It does what an agent needs: text frames out (masked), text frames in, answers
pings (the server's liveness check), closes cleanly. No compression, no extensions.
"""
import asyncio
import base64
import hashlib
import os
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _mask(data, key):
    n = len(data)
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(k, "little")).to_bytes(n, "little")


def _frame(opcode, payload):
    n = len(payload)
    if n < 126:
        head = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        head = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + n.to_bytes(8, "big")
    key = os.urandom(4)
    return head + key + _mask(payload, key)


class WsProtocol(asyncio.Protocol):
    """on_text(text, receive_time) is called for each complete text message."""

    def __init__(self, host, port, path, on_text):
        self.key = base64.b64encode(os.urandom(16))
        self.request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                        f"Connection: Upgrade\r\nSec-WebSocket-Key: {self.key.decode()}\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n").encode()
        self.on_text = on_text
        self.buf = bytearray()
        self.fragments = None
        self.upgraded = False
        loop = asyncio.get_running_loop()
        self.opened, self.closed = loop.create_future(), loop.create_future()

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc):
        for f in (self.opened, self.closed):
            if not f.done():
                f.set_result(None) if f is self.closed else f.set_exception(ConnectionError(exc))

    def send_text(self, text):
        if not self.transport.is_closing():
            self.transport.write(_frame(0x1, text.encode()))

    def close(self):
        if not self.transport.is_closing():
            self.transport.write(_frame(0x8, (1000).to_bytes(2, "big")))

    def data_received(self, data):
        now = time.perf_counter()
        self.buf += data
        if not self.upgraded:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).decode("latin-1").lower()
            accept = base64.b64encode(hashlib.sha1(self.key + GUID).digest()).decode().lower()
            if not head.startswith("http/1.1 101") or accept not in head:
                self.opened.set_exception(ConnectionError(head.splitlines()[0]))
                self.transport.close()
                return
            del self.buf[:end + 4]
            self.upgraded = True
            self.opened.set_result(None)
        buf = self.buf
        while len(buf) >= 2:
            fin, opcode, n, off = buf[0] & 0x80, buf[0] & 0x0F, buf[1] & 0x7F, 2
            if n == 126:
                if len(buf) < 4:
                    return
                n, off = int.from_bytes(buf[2:4], "big"), 4
            elif n == 127:
                if len(buf) < 10:
                    return
                n, off = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < off + n:
                return
            payload = bytes(buf[off:off + n])  # server frames are not masked
            del buf[:off + n]
            if opcode in (0x1, 0x0):  # text, continuation
                self.fragments = payload if opcode == 0x1 else self.fragments + payload
                if fin:
                    text, self.fragments = self.fragments.decode(), None
                    self.on_text(text, now)
            elif opcode == 0x9:  # ping -> pong
                self.transport.write(_frame(0xA, payload))
            elif opcode == 0x8:  # close: echo it and let the server close the TCP connection
                if not self.transport.is_closing():
                    self.transport.write(_frame(0x8, payload[:2]))
                self.transport.close()
                return


async def connect(port, path, on_text, host="127.0.0.1"):
    loop = asyncio.get_running_loop()
    _, proto = await loop.create_connection(lambda: WsProtocol(host, port, path, on_text),
                                            host, port)
    await proto.opened
    return proto
