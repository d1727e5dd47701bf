"""Autobahn group 2 (ping/pong): a ping is answered by a pong with the same payload (RFC 6455
5.5.2, 5.5.3); control frames carry at most 125 bytes (5.5) or fail the connection with 1002; an
unsolicited pong is ignored (5.5.3). Pings are control frames, handled by the WebSocket layer in
both phases: they are not protocol messages and count against neither registration nor the rate
limit."""

from __future__ import annotations

import pytest

from wsframes import PING, PONG, TEXT, build_frame


@pytest.mark.parametrize("payload", [b"", b"x", b"Hello, world!", b"*" * 124, b"*" * 125, bytes(range(125)),
                                     b"\xfe" * 125, b"\xff\x00\x80\xc0"],
                         ids=["empty", "1-byte", "text", "124-bytes", "125-bytes", "binary-0-124",
                              "binary-fe", "not-utf8"])
def test_2_ping_answered_with_same_payload(conv, payload):
    """2.1-2.4: pings of 0 to 125 bytes, text or binary payload."""
    conv.ws.send_frame(PING, payload)
    assert conv.ws.recv_pong() == payload
    conv.finish()


def test_2_5_ping_over_125_bytes(conv):
    conv.ws.send_frame(PING, b"*" * 126)
    conv.expect_fail(1002)


def test_2_5_ping_announcing_16_bit_length(conv):
    """A control frame with the 16-bit length form, whatever the value, is over 125 bytes."""
    conv.ws.send_frame(PING, b"*" * 200)
    conv.expect_fail(1002)


def test_2_6_ping_written_byte_by_byte(conv):
    conv.ws.send_frame(PING, b"*" * 125, chop=1)
    assert conv.ws.recv_pong() == b"*" * 125
    conv.finish()


@pytest.mark.parametrize("payload", [b"", b"unsolicited pong payload"], ids=["empty", "payload"])
def test_2_7_2_8_unsolicited_pong_is_ignored(conv, payload):
    conv.ws.send_frame(PONG, payload)
    conv.ws.expect_nothing()
    conv.finish()


def test_2_9_unsolicited_pong_then_ping(conv):
    """Exactly one pong, for the ping."""
    conv.ws.send_raw(build_frame(PONG, b"unsolicited") + build_frame(PING, b"solicited"))
    assert conv.ws.recv_pong() == b"solicited"
    conv.ws.expect_nothing()
    conv.finish()


@pytest.mark.parametrize("chop", [None, 1], ids=["one-write", "byte-by-byte"])
def test_2_10_2_11_ten_pings_in_a_row(conv, chop):
    """Every ping gets its pong, in order (Autobahn checks this though the RFC lets a busy
    endpoint answer only the latest)."""
    payloads = [f"payload-{i}".encode() for i in range(10)]
    conv.ws.send_raw(b"".join(build_frame(PING, p) for p in payloads), chop=chop)
    assert [conv.ws.recv_pong() for _ in payloads] == payloads
    conv.finish()


def test_2_ping_between_messages_keeps_order(open_conv):
    """message, ping, message: the pong may come before or after the first answer, but both
    answers and the pong arrive."""
    conv = open_conv("registered")
    conv.ws.send_raw(build_frame(TEXT, b'{"type":"ping"}') + build_frame(PING, b"p") + build_frame(TEXT, b'{"type":"ping"}'))
    frames = [conv.ws.recv_frame() for _ in range(3)]
    assert sorted((f.opcode, f.payload) for f in frames) == sorted(
        [(TEXT, b'{"type":"pong"}'), (TEXT, b'{"type":"pong"}'), (PONG, b"p")]), frames
    conv.finish()


def test_2_pings_do_not_count_against_the_rate_limit(open_conv):
    """150 control pings (over the burst of 100) are all answered and do not use up the message
    budget: the next protocol message is still answered."""
    conv = open_conv("registered")
    conv.ws.send_raw(b"".join(build_frame(PING, b"%d" % i) for i in range(150)))
    assert [conv.ws.recv_pong() for _ in range(150)] == [b"%d" % i for i in range(150)]
    conv.finish()
