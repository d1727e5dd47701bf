"""Autobahn group 7 (close handling), RFC 6455 5.5.1 and 7.4: a close frame is answered by a close
frame (echoing the status code) and the server then closes TCP; a close payload is empty or a
2-byte status code plus a UTF-8 reason, 125 bytes at most; status codes outside the ranges the RFC
allows fail the connection with 1002, a reason that is not UTF-8 with 1007; nothing sent after a
close frame is processed. In both phases (a close is not a protocol message)."""

from __future__ import annotations

import struct

import pytest

from wsframes import CLOSE, PING, TEXT, build_frame, close_payload

VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999]
INVALID_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]


def test_7_1_1_message_then_clean_close(conv):
    conv.ws.send_text(conv.probe())
    conv.expect_answer()
    conv.ws.send_close(1000)
    closing = conv.ws.expect_close(1000, echo=False)
    assert closing.messages == []


def test_7_1_2_two_closes(conv):
    """The second close frame is ignored: one close answered, then TCP closed."""
    conv.ws.send_raw(build_frame(CLOSE, close_payload(1000)) + build_frame(CLOSE, close_payload(1001)))
    conv.ws.expect_close(1000, echo=False)


def test_7_1_3_ping_after_close(conv):
    """A ping after the close frame is not answered."""
    conv.ws.send_raw(build_frame(CLOSE, close_payload(1000)) + build_frame(PING, b"after close"))
    closing = conv.ws.expect_close(1000, echo=False)
    assert closing.pongs == []


def test_7_1_4_message_after_close(conv):
    """A message after the close frame is not processed (no answer, no registration)."""
    conv.ws.send_raw(build_frame(CLOSE, close_payload(1000)) + build_frame(TEXT, conv.probe()))
    closing = conv.ws.expect_close(1000, echo=False)
    assert closing.messages == []


def test_7_1_5_fragment_then_close_then_continuation(conv):
    message = conv.probe()
    conv.ws.send_raw(build_frame(TEXT, message[:5], fin=False) + build_frame(CLOSE, close_payload(1000))
                     + build_frame(0x0, message[5:]))
    closing = conv.ws.expect_close(1000, echo=False)
    assert closing.messages == []


def test_7_1_6_messages_then_close_in_one_write(open_conv):
    """Answers owed before the close frame may be sent (or dropped) but nothing after the close."""
    conv = open_conv("registered")
    conv.ws.send_raw(b"".join(build_frame(TEXT, b'{"type":"ping"}') for _ in range(10))
                     + build_frame(CLOSE, close_payload(1000)))
    closing = conv.ws.expect_close(1000, echo=False)
    assert all(m == (TEXT, b'{"type":"pong"}') for m in closing.messages), closing.messages


def test_7_3_1_close_without_payload(conv):
    """Answered by a close frame without status code or with 1000."""
    conv.ws.send_close(None)
    conv.ws.expect_close((None, 1000), echo=False)


def test_7_3_2_close_with_one_byte_payload(conv):
    conv.ws.send_frame(CLOSE, b"\x03")
    conv.expect_fail(1002)


def test_7_3_3_close_with_code_only(conv):
    conv.ws.send_close(1000)
    conv.ws.expect_close(1000, echo=False)


@pytest.mark.parametrize("reason", [b"Hello World!", "κόσμε".encode(), b"r" * 123],
                         ids=["7.3.4-reason", "utf8-reason", "7.3.5-123-byte-reason"])
def test_7_3_4_7_3_5_close_with_reason(conv, reason):
    """The payload may be 125 bytes: code and a reason of 123."""
    conv.ws.send_close(1000, reason)
    conv.ws.expect_close(1000, echo=False)


def test_7_3_6_close_with_124_byte_reason(conv):
    """126 bytes: a control frame over 125 bytes."""
    conv.ws.send_close(1000, b"r" * 124)
    conv.expect_fail(1002)


@pytest.mark.parametrize("reason", [b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",
                                    b"\xff", b"\xc0\xaf", b"\xce"],
                         ids=["7.5.1-surrogate", "ff", "overlong", "truncated"])
def test_7_5_1_close_reason_not_utf8(conv, reason):
    """The reason is UTF-8 text (5.5.1): invalid UTF-8 fails the connection. 1007 (invalid payload
    data, 7.4.1) or 1002 (a malformed close frame): Autobahn's case 7.5.1 accepts either, and
    Beast reports every malformed close frame as a protocol error."""
    conv.ws.send_close(1000, reason)
    conv.expect_fail((1002, 1007))


@pytest.mark.parametrize("code", VALID_CODES)
def test_7_7_valid_close_code_is_echoed(conv, code):
    conv.ws.send_close(code)
    conv.ws.expect_close(code, echo=False)


@pytest.mark.parametrize("code", INVALID_CODES)
def test_7_9_invalid_close_code_fails_with_1002(conv, code):
    """0-999 are not used, 1004-1006 and 1015 may not be sent, 1016-2999 are reserved for the
    protocol, and nothing is defined above 4999."""
    conv.ws.send_frame(CLOSE, struct.pack("!H", code))
    conv.expect_fail(1002)

