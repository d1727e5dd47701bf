"""Autobahn group 6 (UTF-8 handling): "When an endpoint is to interpret a byte stream as UTF-8 but
finds that the byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the
WebSocket Connection_" (RFC 6455 8.1) with 1007 (7.4.1), before registration too; whether the
invalid bytes come in one frame or across fragments, whatever the fragment boundaries. Valid
UTF-8 — including noncharacters such as U+FFFE and the extremes U+10FFFF, U+D7FF, U+E000 — is
accepted.

The sequences of the Autobahn cases (Markus Kuhn's UTF-8 decoder stress test) are carried as the
value of a string field of a valid protocol message. A valid sequence that JSON forbids raw in a
string (U+0000) is "Invalid JSON", not 1007.
"""

from __future__ import annotations

import json
import time

import pytest

from wsframes import BINARY, CONTINUATION, TEXT, build_frame

KOSME = "κόσμε".encode()  # 6.5.1

VALID = {
    "6.1-empty-string": b"",
    "6.5.1-kosme": KOSME,
    "6.5-ascii": b"Hello-<@\xc2\xa3\xe2\x82\xac>",
    "6.7.1-U+0000": b"\x00",  # valid UTF-8, not allowed raw in a JSON string
    "6.7.2-U+0080": b"\xc2\x80",
    "6.7.3-U+0800": b"\xe0\xa0\x80",
    "6.7.4-U+10000": b"\xf0\x90\x80\x80",
    "6.9.1-U+007F": b"\x7f",
    "6.9.2-U+07FF": b"\xdf\xbf",
    "6.9.3-U+FFFF": b"\xef\xbf\xbf",
    "6.10.1-U+D7FF": b"\xed\x9f\xbf",
    "6.10.2-U+E000": b"\xee\x80\x80",
    "6.10.3-U+FFFD": b"\xef\xbf\xbd",
    "6.10.4-U+10FFFF": b"\xf4\x8f\xbf\xbf",
    "6.22-U+FFFE": b"\xef\xbf\xbe",
    "6.22-U+FDD0-U+FDEF": b"\xef\xb7\x90\xef\xb7\xaf",
    "6.22-U+1FFFE-U+10FFFE": b"\xf0\x9f\xbf\xbe\xf4\x8f\xbf\xbe",
    "6.23-BOM-U+FEFF": b"\xef\xbb\xbf",
    "6.23-replacement-char": b"\xef\xbf\xbd" * 3,
}

INVALID = {
    "6.4-kosme-U+110000-kosme": KOSME + b"\xf4\x90\x80\x80" + KOSME,
    "6.8.1-5-byte-U+200000": b"\xf8\x88\x80\x80\x80",
    "6.8.2-6-byte-U+4000000": b"\xfc\x84\x80\x80\x80\x80",
    "6.9.4-U+1FFFFF": b"\xf7\xbf\xbf\xbf",
    "6.10.5-U+110000": b"\xf4\x90\x80\x80",
    "over-U+10FFFF-f5": b"\xf5\x80\x80\x80",
    "6.11.1-continuation-80": b"\x80",
    "6.11.2-continuation-bf": b"\xbf",
    "6.11.3-continuation-80bf": b"\x80\xbf",
    "6.11.4-continuation-80bf80bf": b"\x80\xbf\x80\xbf",
    "6.11.5-all-continuations": bytes(range(0x80, 0xC0)),
    "6.12.1-lonely-2-byte-starts": b"".join(bytes([b, 0x20]) for b in range(0xC0, 0xE0)),
    "6.12.2-lonely-3-byte-starts": b"".join(bytes([b, 0x20]) for b in range(0xE0, 0xF0)),
    "6.12.3-lonely-4-byte-starts": b"".join(bytes([b, 0x20]) for b in range(0xF0, 0xF8)),
    "6.13.1-last-byte-missing-2": b"\xdf",
    "6.13.2-last-byte-missing-3": b"\xef\xbf",
    "6.13.3-last-byte-missing-4": b"\xf4\x8f\xbf",
    "6.14-incomplete-concatenated": b"\xc0\xe0\x80\xf0\x80\x80\xf8\x80\x80\x80\xdf\xef\xbf\xf7\xbf\xbf",
    "6.15.1-impossible-fe": b"\xfe",
    "6.15.2-impossible-ff": b"\xff",
    "6.15.3-impossible-fefeffff": b"\xfe\xfe\xff\xff",
    "6.16.1-overlong-slash-2": b"\xc0\xaf",
    "6.16.2-overlong-slash-3": b"\xe0\x80\xaf",
    "6.16.3-overlong-slash-4": b"\xf0\x80\x80\xaf",
    "6.16.4-overlong-slash-5": b"\xf8\x80\x80\x80\xaf",
    "6.17.1-max-overlong-2": b"\xc1\xbf",
    "6.17.2-max-overlong-3": b"\xe0\x9f\xbf",
    "6.17.3-max-overlong-4": b"\xf0\x8f\xbf\xbf",
    "6.18.1-overlong-nul-2": b"\xc0\x80",
    "6.18.2-overlong-nul-3": b"\xe0\x80\x80",
    "6.18.3-overlong-nul-4": b"\xf0\x80\x80\x80",
    "6.19.1-surrogate-D800": b"\xed\xa0\x80",
    "6.19.2-surrogate-DB7F": b"\xed\xad\xbf",
    "6.19.3-surrogate-DB80": b"\xed\xae\x80",
    "6.19.4-surrogate-DBFF": b"\xed\xaf\xbf",
    "6.19.5-surrogate-DC00": b"\xed\xb0\x80",
    "6.19.6-surrogate-DF80": b"\xed\xbe\x80",
    "6.19.7-surrogate-DFFF": b"\xed\xbf\xbf",
    "6.20.1-pair-D800-DC00": b"\xed\xa0\x80\xed\xb0\x80",
    "6.20.2-pair-DBFF-DFFF": b"\xed\xaf\xbf\xed\xbf\xbf",
}


def json_accepts(content: bytes) -> bool:
    """Whether the string `"<content>"` is valid JSON (content being valid UTF-8)."""
    try:
        json.loads(b'"' + content + b'"')
        return True
    except ValueError:
        return False


@pytest.mark.parametrize("content", list(VALID.values()), ids=list(VALID))
def test_6_valid_utf8_is_accepted(conv, content):
    content.decode("utf-8")  # the table is right
    conv.ws.send_text(conv.wrap(content))
    if json_accepts(content):
        conv.expect_answer()
        conv.finish()
    else:
        conv.expect_invalid_json()


@pytest.mark.parametrize("content", list(INVALID.values()), ids=list(INVALID))
def test_6_invalid_utf8_fails_with_1007(conv, content):
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")  # the table is right
    conv.ws.send_text(conv.wrap(content))
    conv.expect_fail(1007)


@pytest.mark.parametrize("split", ["code-points", "every-byte"], ids=["6.2-on-code-points", "6.3-in-code-points"])
def test_6_2_6_3_valid_text_fragmented(conv, split):
    """6.2: fragmented on code-point boundaries; 6.3: one byte per frame, so that most fragments
    on their own are incomplete UTF-8."""
    message = conv.wrap(KOSME + "\U0010ffff\u0800\u00e9".encode())
    if split == "every-byte":
        pieces = [message[i:i + 1] for i in range(len(message))]
    else:
        text = message.decode()
        pieces = [c.encode() for c in text]
    conv.ws.send_fragments(TEXT, pieces)
    conv.expect_answer()
    conv.finish()


@pytest.mark.parametrize("cut", range(1, len(KOSME)))
def test_6_6_kosme_fragmented_at_each_byte(conv, cut):
    """6.6.x: the message in two fragments, cut at every position of "κόσμε"."""
    message = conv.wrap(KOSME)
    at = message.index(KOSME) + cut
    conv.ws.send_fragments(TEXT, [message[:at], message[at:]])
    conv.expect_answer()
    conv.finish()


@pytest.mark.parametrize("content", [b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\xe0\x9f\xbf"],
                         ids=["surrogate", "over-U+10FFFF", "overlong-2", "overlong-3"])
def test_6_invalid_sequence_split_across_fragments(conv, content):
    """The invalid sequence starts in one fragment and ends in the next: still 1007."""
    message = conv.wrap(content)
    at = message.index(content) + 1
    conv.ws.send_fragments(TEXT, [message[:at], message[at:]], chop=None)
    conv.expect_fail(1007)


@pytest.mark.parametrize("chop", [None, 1], ids=["6.4.1-6.4.2-frame-wise", "6.4.3-6.4.4-byte-wise"])
def test_6_4_fail_fast_on_invalid_fragment(conv, chop):
    """6.4.x: three fragments, the second holds U+110000 (invalid). The server may fail as soon as
    it sees the second fragment; if it has not within a second, the third is sent. Either way the
    connection fails with 1007 and nothing is answered."""
    message = conv.wrap(KOSME + b"\xf4\x90\x80\x80" + KOSME)
    start = message.index(b"\xf4\x90")
    parts = [message[:start], message[start:start + 4], message[start + 4:]]
    conv.ws.send_raw(build_frame(TEXT, parts[0], fin=False), chop=chop)
    conv.ws.send_raw(build_frame(CONTINUATION, parts[1], fin=False), chop=chop, lenient=True)
    conv.ws.sock.settimeout(1.0)
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline and not conv.ws.buffer:
        try:
            chunk = conv.ws.sock.recv(4096)
        except OSError:
            break
        if not chunk:
            break
        conv.ws.buffer += chunk
    if not conv.ws.buffer:
        conv.ws.send_raw(build_frame(CONTINUATION, parts[2]), chop=chop, lenient=True)
    conv.expect_fail(1007)


@pytest.mark.parametrize("how", ["one-frame", "final-fragment-empty"])
def test_6_message_ending_inside_a_code_point(conv, how):
    """A message whose last bytes are an incomplete sequence (the JSON before is complete): 1007,
    also when the truncation is only visible at the end of the last fragment."""
    message = conv.probe() + b" \xce"
    if how == "one-frame":
        conv.ws.send_text(message)
    else:
        conv.ws.send_fragments(TEXT, [message, b""])
    conv.expect_fail(1007)


def test_6_incomplete_sequence_completed_by_next_fragment(conv):
    message = conv.wrap("é€😀".encode())
    at = message.index(b"\xe2") + 2  # inside the euro sign
    conv.ws.send_fragments(TEXT, [message[:at], message[at:]])
    conv.expect_answer()
    conv.finish()


@pytest.mark.parametrize("content", [b"\xed\xa0\x80", b"\xc0\xaf", b"\xff"], ids=["surrogate", "overlong", "ff"])
def test_6_invalid_utf8_in_a_binary_message_is_not_1007(conv, content):
    """Binary data has no UTF-8 requirement in RFC 6455: the JSON reader refuses it instead."""
    conv.ws.send_frame(BINARY, conv.wrap(content))
    conv.expect_invalid_json()
