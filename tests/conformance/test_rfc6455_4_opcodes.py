"""Autobahn group 4 (opcodes): "If an unknown opcode is received, the receiving endpoint MUST _Fail
the WebSocket Connection_" (RFC 6455 5.2): the reserved non-control opcodes 0x3-0x7 (4.1.x) and
control opcodes 0xB-0xF (4.2.x) close with 1002, before registration too."""

from __future__ import annotations

import pytest

from wsframes import PING, TEXT, build_frame

RESERVED = [0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF]


@pytest.mark.parametrize("opcode", RESERVED, ids=[f"{op:#x}" for op in RESERVED])
@pytest.mark.parametrize("variant", ["empty", "payload", "after-message", "fragment-start"])
def test_4_reserved_opcode_fails_the_connection(conv, opcode, variant):
    """4.1.1/4.2.1 (empty), 4.1.2/4.2.2 (payload), 4.1.3-5/4.2.3-5 (after a valid message, followed
    by a ping that must not be answered); and a reserved opcode starting a fragmented message."""
    answered = False
    if variant == "empty":
        data = build_frame(opcode, b"")
    elif variant == "payload":
        data = build_frame(opcode, b"reserved opcode payload")
    elif variant == "after-message":
        data = build_frame(TEXT, conv.probe()) + build_frame(opcode, b"reserved") + build_frame(PING, b"")
        answered = None  # the RFC does not say whether the first message must still be answered
    else:
        data = build_frame(opcode, b"reserved", fin=False)
    conv.ws.send_raw(data, lenient=True)
    conv.expect_fail(1002, answered_before=answered)
