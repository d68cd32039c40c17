"""WebSocket endings found by the stress suite (W2), in-process where the fault shows there.

``python -m stress --only W2`` checks the rest over real sockets (#10 defect 12 needs a real
TCP buffer to show).
"""

from __future__ import annotations

import struct

import pytest

from stress.catalogue import WS_KEY, client_frame

from tests.helpers import HalfClosingTransport

ECHO = "match: {path: /ws}\nscript: [{upgrade: {}}]"
HANDSHAKE = (
    f"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
).encode()
CLOSE_1000 = client_frame(8, struct.pack("!H", 1000))


@pytest.mark.parametrize(
    "writes",
    [
        pytest.param([HANDSHAKE, CLOSE_1000], id="close-after-the-101"),
        pytest.param([HANDSHAKE, client_frame(1, b"hi") + CLOSE_1000], id="message-and-close-in-one-write"),
        pytest.param(
            [HANDSHAKE + CLOSE_1000],
            id="close-in-the-handshake-write",
        ),
        pytest.param(
            [HANDSHAKE + client_frame(1, b"hi") + CLOSE_1000],
            id="message-and-close-in-the-handshake-write",
        ),
    ],
)
def test_the_close_handshake_completes_and_tcp_closes_however_the_frames_arrive(harness, writes):
    h = harness(ECHO, transport=HalfClosingTransport())
    for data in writes:
        h.send(data)
    out = h.take().partition(b"\r\n\r\n")[2]
    assert out.endswith(b"\x88\x02" + struct.pack("!H", 1000)), out[-20:]
    assert h.transport.write_closed or h.transport.disconnecting
