"""Autobahn group 3 (reserved bits): "RSV1, RSV2, RSV3: MUST be 0 unless an extension is
negotiated that defines meanings for non-zero values. If a nonzero value is received and none of
the negotiated extensions defines the meaning of such a nonzero value, the receiving endpoint
MUST _Fail the WebSocket Connection_" (RFC 6455 5.2). We negotiate no extension, so any RSV bit on
any frame closes with 1002, before registration too."""

from __future__ import annotations

import pytest

from wsframes import BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT, build_frame, close_payload


def frames_with_rsv(conv, kind: str, rsv: int) -> bytes:
    if kind == "text":
        return build_frame(TEXT, conv.probe(), rsv=rsv)
    if kind == "binary":
        return build_frame(BINARY, conv.probe(), rsv=rsv)
    if kind == "ping":
        return build_frame(PING, b"ping", rsv=rsv)
    if kind == "pong":
        return build_frame(PONG, b"pong", rsv=rsv)
    if kind == "close":
        return build_frame(CLOSE, close_payload(1000), rsv=rsv)
    if kind == "continuation":  # RSV on the second frame of a fragmented message
        message = conv.probe()
        return build_frame(TEXT, message[:10], fin=False) + build_frame(CONTINUATION, message[10:], rsv=rsv)
    raise AssertionError(kind)


@pytest.mark.parametrize("rsv", range(1, 8))
@pytest.mark.parametrize("kind", ["text", "binary", "ping", "pong", "close", "continuation"])
def test_3_reserved_bits_fail_the_connection(conv, kind, rsv):
    """3.1 (text, RSV1), 3.5 (binary, RSV 5), 3.6 (ping, RSV 6), 3.7 (close, RSV 7), and every
    other combination."""
    conv.ws.send_raw(frames_with_rsv(conv, kind, rsv))
    conv.expect_fail(1002)


@pytest.mark.parametrize("rsv,chop", [(2, None), (3, "frame"), (4, 1)], ids=["3.2", "3.3-frame-wise", "3.4-byte-wise"])
def test_3_reserved_bits_after_a_valid_message(conv, rsv, chop):
    """3.2-3.4: a valid message, then one with RSV bits, then a ping. The first message may be
    answered (or not: the server may fail at once); the ping is never answered."""
    frames = [build_frame(TEXT, conv.probe()), build_frame(TEXT, conv.probe(), rsv=rsv), build_frame(PING, b"")]
    if chop == "frame":
        for frame in frames:
            conv.ws.try_send_raw(frame)
    else:
        conv.ws.send_raw(b"".join(frames), chop=chop, lenient=True)
    conv.expect_fail(1002, answered_before=None)
