"""Autobahn group 5 (fragmentation), RFC 6455 5.4: a message may be split into a first frame and
continuation frames; control frames may be injected between fragments but "MUST NOT be
fragmented"; fragments of one message are never interleaved with another data message; a
continuation with nothing to continue is a protocol error. Failures close with 1002, before
registration too."""

from __future__ import annotations

import time

import pytest

from wsframes import BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT, build_frame, close_payload


def split(data: bytes, parts: int) -> list[bytes]:
    size = -(-len(data) // parts)
    return [data[i * size:(i + 1) * size] for i in range(parts)]


def fragmented(opcode: int, pieces: list[bytes]) -> bytes:
    return b"".join(build_frame(opcode if i == 0 else CONTINUATION, piece, fin=i == len(pieces) - 1)
                    for i, piece in enumerate(pieces))


@pytest.mark.parametrize("opcode", [PING, PONG, CLOSE], ids=["ping", "pong", "close"])
def test_5_1_5_2_fragmented_control_frame(conv, opcode):
    """5.1 (ping), 5.2 (pong) in two fragments; likewise a close."""
    payload = close_payload(1000, b"fragmented") if opcode == CLOSE else b"fragmented control"
    conv.ws.send_raw(build_frame(opcode, payload[:5], fin=False) + build_frame(CONTINUATION, payload[5:]))
    conv.expect_fail(1002)


@pytest.mark.parametrize("chop", [None, "frame", 1], ids=["one-write", "frame-wise", "byte-wise"])
@pytest.mark.parametrize("opcode", [TEXT, BINARY], ids=["text", "binary"])
def test_5_3_5_5_message_in_two_fragments(conv, opcode, chop):
    pieces = split(conv.probe(), 2)
    if chop == "frame":
        conv.ws.send_raw(build_frame(opcode, pieces[0], fin=False))
        time.sleep(0.05)
        conv.ws.send_raw(build_frame(CONTINUATION, pieces[1]))
    else:
        conv.ws.send_raw(fragmented(opcode, pieces), chop=chop)
    conv.expect_answer()
    conv.finish()


@pytest.mark.parametrize("chop", [None, "frame", 1], ids=["one-write", "frame-wise", "byte-wise"])
def test_5_6_5_8_ping_between_fragments(conv, chop):
    """The pong comes first (the message is not complete before the second fragment)."""
    first, second = split(conv.probe(), 2)
    frames = [build_frame(TEXT, first, fin=False), build_frame(PING, b"between"), build_frame(CONTINUATION, second)]
    if chop == "frame":
        for frame in frames:
            conv.ws.send_raw(frame)
            time.sleep(0.05)
    else:
        conv.ws.send_raw(b"".join(frames), chop=chop)
    assert conv.ws.recv_pong() == b"between"
    conv.expect_answer()
    conv.finish()


def test_5_pong_between_fragments_is_ignored(conv):
    first, second = split(conv.probe(), 2)
    conv.ws.send_raw(build_frame(TEXT, first, fin=False) + build_frame(PONG, b"x") + build_frame(CONTINUATION, second))
    conv.expect_answer()
    conv.finish()


@pytest.mark.parametrize("chop", [None, "frame", 1], ids=["one-write", "frame-wise", "byte-wise"])
@pytest.mark.parametrize("fin", [True, False], ids=["fin", "not-fin"])
def test_5_9_5_14_continuation_without_start(conv, fin, chop):
    """5.9-5.11 (FIN set) and 5.12-5.14 (FIN clear): a continuation frame first, then a valid
    message; nothing is answered."""
    frames = [build_frame(CONTINUATION, b"continuation with nothing to continue", fin=fin),
              build_frame(TEXT, conv.probe())]
    if chop == "frame":
        for frame in frames:
            conv.ws.try_send_raw(frame)
            time.sleep(0.05)
    else:
        conv.ws.send_raw(b"".join(frames), chop=chop, lenient=True)
    conv.expect_fail(1002)


def test_5_15_continuation_after_a_complete_fragmented_message(conv):
    """Two fragments (a complete message), a continuation with FIN clear, then a message: the
    first message may be answered, then 1002."""
    first, second = split(conv.probe(), 2)
    conv.ws.send_raw(fragmented(TEXT, [first, second]) + build_frame(CONTINUATION, b"x", fin=False)
                     + build_frame(TEXT, conv.probe()), lenient=True)
    conv.expect_fail(1002, answered_before=None)


@pytest.mark.parametrize("fin", [False, True], ids=["5.16-not-fin", "5.17-fin"])
def test_5_16_5_17_continuation_then_fragmented_message(conv, fin):
    first, second = split(conv.probe(), 2)
    conv.ws.send_raw(build_frame(CONTINUATION, b"x", fin=fin) + fragmented(TEXT, [first, second]), lenient=True)
    conv.expect_fail(1002)


@pytest.mark.parametrize("second", [TEXT, BINARY], ids=["text", "binary"])
def test_5_18_new_message_started_inside_a_fragmented_one(conv, second):
    """A text start (FIN clear), then a text (or binary) frame instead of a continuation."""
    first, rest = split(conv.probe(), 2)
    conv.ws.send_raw(build_frame(TEXT, first, fin=False) + build_frame(second, rest), lenient=True)
    conv.expect_fail(1002)


def test_5_19_5_20_five_fragments_with_pings_and_pauses(conv):
    """A message in 5 fragments, a ping after the first and the fourth, with pauses: the pongs
    arrive while the message is incomplete, then the answer."""
    pieces = split(conv.probe(), 5)
    for i, piece in enumerate(pieces):
        conv.ws.send_frame(TEXT if i == 0 else CONTINUATION, piece, fin=i == 4)
        if i in (0, 3):
            conv.ws.send_frame(PING, b"pong-%d" % i)
            assert conv.ws.recv_pong() == b"pong-%d" % i
        time.sleep(0.05)
    conv.expect_answer()
    conv.finish()


@pytest.mark.parametrize("layout", ["empty-first", "empty-middle", "empty-last", "all-1-byte"])
def test_5_empty_and_tiny_fragments(conv, layout):
    message = conv.probe()
    if layout == "empty-first":
        pieces = [b"", message]
    elif layout == "empty-middle":
        pieces = [message[:7], b"", b"", message[7:]]
    elif layout == "empty-last":
        pieces = [message, b""]
    else:
        pieces = [message[i:i + 1] for i in range(len(message))]
    conv.ws.send_raw(fragmented(TEXT, pieces))
    conv.expect_answer()
    conv.finish()


def test_5_close_between_fragments(conv):
    """A close frame may come between fragments (control frames may be injected): the closing
    handshake takes place, the unfinished message is dropped, nothing follows."""
    first, second = split(conv.probe(), 2)
    conv.ws.send_raw(build_frame(TEXT, first, fin=False) + build_frame(CLOSE, close_payload(1000)))
    closing = conv.ws.expect_close(1000, echo=False)
    assert closing.messages == [] and closing.pongs == []


def test_5_data_after_fragmented_message_is_a_new_message(conv):
    """After a complete fragmented message, a new text frame starts a new message."""
    first, second = split(conv.probe(), 2)
    conv.ws.send_raw(fragmented(TEXT, [first, second]))
    conv.expect_answer()
    conv.ws.send_raw(fragmented(TEXT, split(b'{"type":"ping"}', 3)))
    conv.expect_answer()
    conv.finish()
