"""Autobahn group 9 (limits and performance), adapted to our limits: Autobahn sends messages of up
to 16 MiB and 1000 messages in a row; our cap is 64 KiB per message (WS_MAX_MESSAGE_BYTES, close
1009 beyond) and 50 messages per second with a burst of 100 (WS_RATE_LIMIT_*: the register counts
as one). Nothing is timed: every case asserts that everything owed arrives, in order."""

from __future__ import annotations

import time

import pytest

from conftest import MAX_MESSAGE
from wsframes import BINARY, CONTINUATION, PING, TEXT, build_frame


@pytest.mark.parametrize("size", [16 * 1024, 32 * 1024, MAX_MESSAGE - 1, MAX_MESSAGE])
@pytest.mark.parametrize("opcode", [TEXT, BINARY], ids=["9.1-text", "9.2-binary"])
def test_9_1_9_2_large_message_in_one_frame(conv, opcode, size):
    conv.ws.send_frame(opcode, conv.probe(size))
    conv.expect_answer()
    conv.finish()


@pytest.mark.parametrize("fragment", [64, 256, 1024, 4096, 16384, 65536])
@pytest.mark.parametrize("opcode", [TEXT, BINARY], ids=["9.3-text", "9.4-binary"])
def test_9_3_9_4_64k_message_in_fragments(conv, opcode, fragment):
    """9.3.x/9.4.x: a 64 KiB message in fragments of 64 bytes to 64 KiB."""
    payload = conv.probe(MAX_MESSAGE)
    conv.ws.send_fragments(opcode, [payload[i:i + fragment] for i in range(0, len(payload), fragment)])
    conv.expect_answer()
    conv.finish()


@pytest.mark.parametrize("chop", [64, 128, 256, 1024, 4096, 16384])
def test_9_5_9_6_64k_message_chopped(conv, chop):
    """9.5.x/9.6.x: one 64 KiB frame written to TCP in pieces of `chop` bytes."""
    conv.ws.send_frame(TEXT, conv.probe(MAX_MESSAGE), chop=chop)
    conv.expect_answer()
    conv.finish()


@pytest.mark.parametrize("size,fragment", [(MAX_MESSAGE + 1, None), (MAX_MESSAGE + 1, 1024), (4 * MAX_MESSAGE, None),
                                           (4 * MAX_MESSAGE, 16384)],
                         ids=["64k+1", "64k+1-fragmented", "256k", "256k-fragmented"])
def test_9_over_the_limit_is_1009(conv, size, fragment):
    """Autobahn's larger sizes (256 KiB and up): close 1009, nothing answered."""
    payload = conv.probe(size)
    if fragment:
        conv.ws.send_raw(b"".join(build_frame(TEXT if i == 0 else CONTINUATION, payload[i:i + fragment],
                                              fin=i + fragment >= len(payload))
                                  for i in range(0, len(payload), fragment)), lenient=True)
    else:
        conv.ws.send_raw(build_frame(TEXT, payload), lenient=True)
    conv.expect_fail(1009)


@pytest.mark.parametrize("opcode,size", [(TEXT, 15), (TEXT, 1024), (BINARY, 15), (BINARY, 1024)],
                         ids=["9.7-text-small", "9.7-text-1k", "9.8-binary-small", "9.8-binary-1k"])
def test_9_7_9_8_many_messages_within_the_burst(open_conv, opcode, size):
    """9.7.x/9.8.x: 99 messages in a row (with the register, the burst of 100): 99 answers, in order."""
    conv = open_conv("registered")
    message = conv.probe(size)
    conv.ws.send_raw(b"".join(build_frame(opcode, message) for _ in range(99)))
    for _ in range(99):
        conv.expect_answer()
    conv.ws.expect_nothing(0.2)
    conv.ws.send_raw(build_frame(0x8, b"\x03\xe8"))
    conv.ws.expect_close(1000, echo=False)


def test_9_many_fragmented_messages_within_the_burst(open_conv):
    conv = open_conv("registered")
    message = conv.probe(300)
    one = b"".join(build_frame(TEXT if i == 0 else CONTINUATION, message[i:i + 50], fin=i + 50 >= len(message))
                   for i in range(0, len(message), 50))
    conv.ws.send_raw(one * 99 + build_frame(PING, b"last"))
    for _ in range(99):
        conv.expect_answer()
    # The pong is the WebSocket layer's, the answers the protocol's: either may come first.
    pongs = conv.ws.received_pongs or [conv.ws.recv_pong()]
    assert pongs == [b"last"], pongs
    conv.ws.send_raw(build_frame(0x8, b"\x03\xe8"))
    conv.ws.expect_close(1000, echo=False)


def test_9_sustained_traffic_within_the_rate(open_conv):
    """A burst of 90, then 60 more at 25 per second (half the sustained rate): all 150 answered."""
    conv = open_conv("registered")
    conv.ws.send_raw(b"".join(build_frame(TEXT, b'{"type":"ping"}') for _ in range(90)))
    for _ in range(90):
        conv.expect_answer()
    for _ in range(60):
        conv.ws.send_text(b'{"type":"ping"}')
        conv.expect_answer()
        time.sleep(0.04)
    conv.finish()


def test_9_over_the_rate_keeps_the_connection(open_conv):
    """Beyond the burst, messages are dropped with an error, not the connection."""
    conv = open_conv("registered")
    conv.ws.send_raw(b"".join(build_frame(TEXT, b'{"type":"ping"}') for _ in range(200)))
    answers = [conv.ws.recv_json() for _ in range(200)]
    assert answers[:99] == [{"type": "pong"}] * 99, answers[:99]
    assert set(map(str, answers)) <= {str({"type": "pong"}), str({"error": "Rate limit exceeded"})}, answers
    assert {"error": "Rate limit exceeded"} in answers
    time.sleep(1.0)  # the bucket refills (50 per second)
    conv.finish()
