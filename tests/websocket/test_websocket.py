"""WebSocket on StringTransport + Clock: the handshake, a strict echo, and scripted misbehaviour.

Client frames are built here, byte by byte, in the spirit of the Autobahn test suite's
sections 1-7 and 9-10: framing, pings and pongs, reserved bits, opcodes,
fragmentation, UTF-8, close handling, sizes.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockorigin.websocket.frames import frame

KEY = base64.b64encode(b"0123456789abcdef").decode()
ACCEPT = base64.b64encode(hashlib.sha1((KEY + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
HANDSHAKE = (
    f"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
    f"Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
).encode()
ECHO = "match: {path: /ws}\nscript: [{upgrade: {}}]"


def client(opcode: int, payload: bytes = b"", fin: bool = True, rsv=(False, False, False), length=None) -> bytes:
    """A client frame: always masked, as RFC 6455 requires (unless the test says otherwise)."""
    return frame(opcode, payload, fin, rsv, os.urandom(4), length)


def close_frame(code: int | None, reason: bytes = b"") -> bytes:
    return b"" if code is None else struct.pack("!H", code) + reason


def server_frames(data: bytes) -> list[tuple[int, bool, bytes]]:
    """Parse unmasked server frames: (opcode, fin, payload)."""
    frames, position = [], 0
    while position < len(data):
        first, second = data[position], data[position + 1]
        length, position = second & 0x7F, position + 2
        if length == 126:
            length, position = struct.unpack("!H", data[position : position + 2])[0], position + 2
        elif length == 127:
            length, position = struct.unpack("!Q", data[position : position + 8])[0], position + 8
        frames.append((first & 0x0F, bool(first & 0x80), data[position : position + length]))
        position += length
    return frames


@pytest.fixture
def upgraded(harness):
    def make(source=ECHO, **limits):
        h = harness(source, **limits)
        h.send(HANDSHAKE)
        head = h.take_head()
        assert head.startswith(b"HTTP/1.1 101 Switching Protocols\r\n"), head
        assert f"Sec-WebSocket-Accept: {ACCEPT}\r\n".encode() in head
        return h

    return make


# --- the handshake -------------------------------------------------------------------

BAD_HANDSHAKES = [
    (HANDSHAKE.replace(f"Sec-WebSocket-Key: {KEY}\r\n".encode(), b""), 400),
    (HANDSHAKE.replace(KEY.encode(), base64.b64encode(b"short")), 400),
    (HANDSHAKE.replace(b"Version: 13", b"Version: 8"), 426),
    (HANDSHAKE.replace(b"Connection: keep-alive, Upgrade", b"Connection: keep-alive"), 400),
    (HANDSHAKE.replace(b"GET /ws", b"POST /ws"), 400),
    (HANDSHAKE.replace(b"\r\n\r\n", b"\r\nContent-Length: 3\r\n\r\nabc"), 400),
    (HANDSHAKE.replace(b"Upgrade: websocket\r\n", b"Upgrade: h2c\r\n"), 400),
]


@pytest.mark.parametrize("request_bytes,status", BAD_HANDSHAKES, ids=range(len(BAD_HANDSHAKES)))
def test_a_bad_handshake_never_gets_a_101(harness, request_bytes, status):
    h = harness(ECHO)
    h.send(request_bytes)
    out = h.take()
    assert out.startswith(b"HTTP/1.1 %d " % status) and b"101" not in out.split(b"\r\n")[0]
    if status == 426:
        assert b"Sec-WebSocket-Version: 13\r\n" in out


def test_wrong_and_literal_accept_values(harness):
    h = harness("match: {path: /ws}\nscript: [{upgrade: {accept: wrong, headers: {x-extra: 1}, then: [{hang: 1s}]}}]")
    h.send(HANDSHAKE)
    out = h.take()
    assert out.startswith(b"HTTP/1.1 101 ") and ACCEPT.encode() not in out and b"Sec-WebSocket-Accept: " in out and b"x-extra: 1\r\n" in out
    h = harness("match: {path: /ws}\nscript: [{upgrade: {accept: not-base64!, then: [{hang: 1s}]}}]")
    h.send(HANDSHAKE)
    assert b"Sec-WebSocket-Accept: not-base64!\r\n" in h.take()


def test_a_wait_before_the_upgrade_delays_the_101_and_early_frames_are_not_lost(harness):
    h = harness("match: {path: /ws}\nscript: [{wait: 1s}, {upgrade: {}}]")
    h.send(HANDSHAKE + client(1, b"early"))  # the client did not wait for the 101
    h.advance(0.999)
    assert h.take() == b""
    h.advance(0.001)
    out = h.take()
    head, _, frames = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 ") and server_frames(frames) == [(1, True, b"early")]


# --- the echo ------------------------------------------------------------------------


@pytest.mark.parametrize("byte_by_byte", [False, True])
@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536])
def test_messages_of_every_length_encoding_echo_byte_identical(upgraded, size, byte_by_byte):
    h = upgraded()
    payload = os.urandom(size)
    h.send(client(2, payload), byte_by_byte and size < 1000)
    assert server_frames(h.take()) == [(2, True, payload)]


@pytest.mark.parametrize("byte_by_byte", [False, True])
def test_fragments_with_a_ping_between_echo_as_one_message(upgraded, byte_by_byte):
    h = upgraded()
    h.send(client(1, b"Hel", fin=False) + client(9, b"p1") + client(0, b"lo ", fin=False) + client(0, b"", fin=False) + client(0, "wörld".encode(), fin=True), byte_by_byte)
    assert server_frames(h.take()) == [(10, True, b"p1"), (1, True, "Hello wörld".encode())]


def test_pings_get_their_payload_back_and_unsolicited_pongs_are_ignored(upgraded):
    h = upgraded()
    h.send(client(10, b"unsolicited") + client(9, b"x" * 125) + client(9, b""))
    assert server_frames(h.take()) == [(10, True, b"x" * 125), (10, True, b"")]


@pytest.mark.parametrize("code", [1000, 1001, 1011, 3000, 4999])
def test_the_close_handshake_echoes_the_clients_code_then_closes_tcp(upgraded, code):
    h = upgraded()
    h.send(client(8, close_frame(code, b"bye")))
    assert server_frames(h.take()) == [(8, True, struct.pack("!H", code))]
    assert h.transport.disconnecting
    h.lose()
    ws = h.journal[-1]["websocket"]
    assert ws["ended"] == "close handshake" and ws["close_received"] == code and ws["facts"]["close_code_echoed"] is True


def test_an_empty_close_gets_an_empty_close(upgraded):
    h = upgraded()
    h.send(client(8))
    assert server_frames(h.take()) == [(8, True, b"")]


PROTOCOL_ERRORS = {
    "unmasked frame": (frame(1, b"hi"), 1002),
    "rsv1 without an extension": (client(1, b"hi", rsv=(True, False, False)), 1002),
    "rsv2": (client(1, b"hi", rsv=(False, True, False)), 1002),
    "rsv3": (client(1, b"hi", rsv=(False, False, True)), 1002),
    "reserved opcode 3": (client(3, b"hi"), 1002),
    "reserved opcode 0xB": (client(0xB, b"hi"), 1002),
    "control frame over 125 bytes": (client(9, b"x" * 126), 1002),
    "fragmented control frame": (client(9, b"x", fin=False), 1002),
    "continuation with no start": (client(0, b"x"), 1002),
    "new message before FIN": (client(1, b"a", fin=False) + client(1, b"b"), 1002),
    "invalid UTF-8": (client(1, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"), 1007),
    "invalid UTF-8 split across fragments": (client(1, b"\xce", fin=False) + client(0, b"\xff"), 1007),
    "close code 999": (client(8, close_frame(999)), 1002),
    "close code 1005": (client(8, close_frame(1005)), 1002),
    "close code 1006": (client(8, close_frame(1006)), 1002),
    "close code 5000": (client(8, close_frame(5000)), 1002),
    "close with a 1-byte payload": (client(8, b"\x03"), 1002),
    "close reason not UTF-8": (client(8, close_frame(1000, b"\xff")), 1007),
    "64-bit length with the MSB set": (b"\x82\xff" + struct.pack("!Q", 1 << 63) + os.urandom(4), 1002),
}


@pytest.mark.parametrize("byte_by_byte", [False, True])
@pytest.mark.parametrize("name", list(PROTOCOL_ERRORS))
def test_protocol_errors_are_answered_as_the_rfc_says_then_tcp_closes(upgraded, name, byte_by_byte):
    data, code = PROTOCOL_ERRORS[name]
    h = upgraded()
    h.send(data, byte_by_byte)
    frames = server_frames(h.take())
    assert frames[-1][0] == 8 and struct.unpack("!H", frames[-1][2][:2])[0] == code, frames
    assert h.transport.disconnecting


def test_a_message_over_the_bound_gets_1009(upgraded):
    h = upgraded()
    h.send(client(2, b"x" * 600_000, fin=False) + client(0, b"y" * 600_000))
    frames = server_frames(h.take())
    assert frames == [(8, True, struct.pack("!H", 1009) + b"message over 1048576 bytes")]


def test_ten_thousand_pings_are_answered(upgraded):
    h = upgraded()
    h.send(b"".join(client(9, b"%d" % i) for i in range(10_000)))
    frames = server_frames(h.take())
    assert len(frames) == 10_000 and frames[-1] == (10, True, b"9999")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])  # harness is a factory
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=5), st.data())
def test_any_fragmentation_and_tcp_split_echoes_identically(harness, pieces, data):
    h = harness(ECHO)
    h.send(HANDSHAKE)
    h.take()
    stream = b"".join(client(2 if i == 0 else 0, p, fin=i == len(pieces) - 1) for i, p in enumerate(pieces))
    position = 0
    while position < len(stream):
        step = data.draw(st.integers(min_value=1, max_value=max(1, len(stream) - position)))
        h.send(stream[position : position + step])
        position += step
    assert server_frames(h.take()) == [(2, True, b"".join(pieces))]


# --- scripted steps and the journal ------------------------------------------------------


def test_scripted_steps_put_exactly_these_bytes_on_the_wire(upgraded):
    h = upgraded(
        """
match: {path: /ws}
script:
  - upgrade:
      then:
        - send: {text: abcdef, fragments: 3}
        - ping: {payload: "p${n}", count: 2, every: 1s}
        - pong: unsolicited
        - frame: {opcode: 3, rsv1: true, mask: "01020304", payload: hi, length: 200}
        - receive: 1
        - close: {code: 4000, reason: bye}
        - hang: 5s
"""
    )
    first = h.take()
    assert server_frames(first) == [(1, False, b"ab"), (0, False, b"cd"), (0, True, b"ef"), (9, True, b"p1")]
    h.advance(1)
    out = h.take()
    assert out.startswith(frame(9, b"p2") + frame(10, b"unsolicited"))
    crafted = out[len(frame(9, b"p2") + frame(10, b"unsolicited")) :]
    assert crafted == bytes([0x80 | 0x40 | 3, 0x80 | 126]) + struct.pack("!H", 200) + bytes([1, 2, 3, 4]) + bytes([ord("h") ^ 1, ord("i") ^ 2])
    h.send(client(10, b"p1") + client(10, b"p2"))  # the client answers the pings
    assert h.take() == b""  # receive is still waiting for a message
    h.send(client(1, b"go"))
    assert server_frames(h.take()) == [(8, True, struct.pack("!H", 4000) + b"bye")]
    h.send(client(8, close_frame(4000)))  # the client echoes the code
    assert h.transport.disconnecting
    h.lose()
    ws = h.journal[-1]["websocket"]
    assert ws["facts"]["masked_all_frames"] is True
    assert ws["facts"]["answered_pings"]["sent"] == 2 and ws["facts"]["answered_pings"]["answered"] == 2
    assert ws["facts"]["close_code_echoed"] is True and ws["ended"] == "close handshake"
    outgoing = [f for f in ws["frames"] if f["dir"] == "out"]
    assert [f["opcode"] for f in outgoing] == ["text", "continuation", "continuation", "ping", "ping", "pong", 3, "close"]
    assert outgoing[6] == {"dir": "out", "opcode": 3, "fin": True, "length": 200, "masked": True, "at": 1.0, "rsv": 4}


def test_scripted_mode_answers_nothing_on_its_own(upgraded):
    h = upgraded("match: {path: /ws}\nscript: [{upgrade: {then: [{hang: {}}]}}]")
    h.send(client(9, b"ping") + client(1, b"msg") + client(8, close_frame(1000)))
    assert h.take() == b""  # no pong, no echo, no close reply
    h.lose()
    ws = h.journal[-1]["websocket"]
    assert ws["close_received"] == 1000 and ws["ended"] == "client dropped TCP"


def test_an_unmasked_client_is_journaled(upgraded):
    h = upgraded("match: {path: /ws}\nscript: [{upgrade: {then: [{hang: {}}]}}]")
    h.send(frame(1, b"oops"))
    h.lose()
    ws = h.journal[-1]["websocket"]
    assert ws["facts"]["masked_all_frames"] is False


def test_when_the_steps_end_tcp_closes_with_no_close_frame(upgraded):
    h = upgraded("match: {path: /ws}\nscript: [{upgrade: {then: [{send: bye}]}}]")
    assert server_frames(h.take()) == [(1, True, b"bye")]
    assert h.transport.disconnecting


def test_messages_waiting_for_a_step_are_bounded(upgraded):
    h = upgraded("match: {path: /ws}\nscript: [{upgrade: {then: [{wait: 10s}, {echo: {}}]}}]")
    h.send(b"".join(client(1, b"%d" % i) for i in range(300)))  # nothing takes them for 10 s
    assert h.take() == b""
    h.advance(10)
    echoed = server_frames(h.take())
    assert len(echoed) == 256 and echoed[0] == (1, True, b"44") and echoed[-1] == (1, True, b"299")  # the oldest went first
