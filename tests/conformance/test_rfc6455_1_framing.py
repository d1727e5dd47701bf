"""Autobahn group 1 (framing): text and binary messages of the boundary payload lengths of the
7-, 16- and 64-bit length encodings, up to our 64 KiB message limit; beyond it close 1009. Plus
the framing rules Autobahn leaves to other groups: masking (RFC 6455 5.1, 5.3) and minimal length
encodings (5.2).

Binary messages: the server reads a binary message's payload as the UTF-8 JSON text of a
protocol message, exactly like a text message (the FastAPI baseline decoded binary frames as
UTF-8 too; a client that sends its JSON in binary frames keeps working), and always answers in
text frames. A binary payload that is not UTF-8 JSON is "Invalid JSON" — not 1007, which RFC
6455 reserves for text.
"""

from __future__ import annotations

import pytest

from conftest import MAX_MESSAGE
from wsframes import BINARY, CONTINUATION, TEXT, build_frame

LENGTHS = [125, 126, 127, 128, 65535, 65536]  # 1.1.2-1.1.7 / 1.2.2-1.2.7 (1.x.1, length 0, below)


@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("opcode", [TEXT, BINARY], ids=["text", "binary"])
def test_1_payload_length(conv, opcode, length):
    """1.1.2-1.1.7, 1.2.2-1.2.7: a message of exactly `length` bytes in one frame is answered."""
    conv.ws.send_frame(opcode, conv.probe(length))
    conv.expect_answer()
    conv.finish()


@pytest.mark.parametrize("opcode", [TEXT, BINARY], ids=["text", "binary"])
def test_1_empty_payload(conv, opcode):
    """1.1.1, 1.2.1: an empty message is a valid frame but not JSON."""
    conv.ws.send_frame(opcode, b"")
    conv.expect_invalid_json()


@pytest.mark.parametrize("opcode", [TEXT, BINARY], ids=["text", "binary"])
def test_1_64k_chopped_into_997_byte_writes(conv, opcode):
    """1.1.8, 1.2.8: 65536 bytes in one frame, written to TCP 997 bytes at a time."""
    conv.ws.send_frame(opcode, conv.probe(MAX_MESSAGE), chop=997)
    conv.expect_answer()
    conv.finish()


def test_1_binary_payload_that_is_not_utf8(conv):
    """Autobahn's binary payload (0xfe bytes): not JSON; no 1007 for binary data."""
    conv.ws.send_binary(b"\xfe" * 125)
    conv.expect_invalid_json()


def test_1_binary_answered_in_text_frames(open_conv):
    """The answer to a binary message is a text message (the protocol speaks JSON text)."""
    conv = open_conv("registered")
    conv.ws.send_binary(b'{"type":"ping"}')
    assert conv.ws.recv_message() == (TEXT, b'{"type":"pong"}')
    conv.finish()


@pytest.mark.parametrize("opcode", [TEXT, BINARY], ids=["text", "binary"])
def test_1_one_byte_over_the_limit(conv, opcode):
    """65537 bytes in one frame: close 1009 (message too big), nothing answered."""
    conv.ws.send_frame(opcode, conv.probe(MAX_MESSAGE + 1))
    conv.expect_fail(1009)


def test_1_fragments_adding_up_to_over_the_limit(conv):
    """Fragments of a message count together: 64 KiB + 1 in 17 frames is too big."""
    payload = conv.probe(MAX_MESSAGE + 1)
    conv.ws.send_fragments(TEXT, [payload[i:i + 4096] for i in range(0, len(payload), 4096)])
    conv.expect_fail(1009)


def test_1_frame_announcing_a_huge_length(conv):
    """A header announcing 2^63 - 1 bytes is refused at once (1009), without waiting for them."""
    conv.ws.send_frame(TEXT, b"", length=(1 << 63) - 1)
    conv.expect_fail(1009)


def test_1_64_bit_length_with_the_most_significant_bit_set(conv):
    """RFC 6455 5.2: the most significant bit of a 64-bit length MUST be 0. Either a protocol
    error or too big (the RFC names no code for it)."""
    conv.ws.send_frame(TEXT, b"", length=1 << 63)
    conv.expect_fail((1002, 1009))


@pytest.mark.parametrize("form,size", [("16", 10), ("16", 125), ("64", 10), ("64", 65535)],
                         ids=["16-bit-for-10", "16-bit-for-125", "64-bit-for-10", "64-bit-for-65535"])
def test_1_non_minimal_length_encoding(conv, form, size):
    """RFC 6455 5.2: "the minimal number of bytes MUST be used to encode the length"."""
    conv.ws.send_frame(TEXT, conv.probe(max(size, len(conv.probe()))), length_form=form)
    conv.expect_fail(1002)


@pytest.mark.parametrize("opcode", [TEXT, BINARY, 0x9, 0x8], ids=["text", "binary", "ping", "close"])
def test_1_unmasked_client_frame(conv, opcode):
    """RFC 6455 5.1: a server MUST close the connection on an unmasked client frame (1002)."""
    payload = b"\x03\xe8" if opcode == 0x8 else conv.probe() if opcode in (TEXT, BINARY) else b"x"
    conv.ws.send_raw(build_frame(opcode, payload, mask=False))
    conv.expect_fail(1002)


def test_1_zero_mask_key(conv):
    """A mask key of four zero bytes is a valid mask (the payload goes unchanged)."""
    conv.ws.send_raw(build_frame(TEXT, conv.probe(), mask_key=b"\0\0\0\0"))
    conv.expect_answer()
    conv.finish()


def test_1_header_and_payload_written_byte_by_byte(conv):
    conv.ws.send_frame(TEXT, conv.probe(200), chop=1)
    conv.expect_answer()
    conv.finish()


def test_1_several_messages_in_one_write(open_conv):
    """Three messages in one TCP segment: three answers, in order."""
    conv = open_conv("registered")
    conv.ws.send_raw(b"".join(build_frame(op, b'{"type":"ping"}') for op in (TEXT, BINARY, TEXT)))
    for _ in range(3):
        conv.expect_answer()
    conv.finish()


def test_1_empty_continuation_after_complete_message_is_refused(conv):
    """A lone continuation frame after a complete message continues nothing: 1002."""
    conv.ws.send_raw(build_frame(TEXT, conv.probe()) + build_frame(CONTINUATION, b""))
    conv.expect_fail(1002, answered_before=None)
