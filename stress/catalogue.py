"""A request for every catalogue behaviour, and the stages at which a client can leave.

The disconnect matrix (F1 of reliability.md) runs each behaviour to each stage and then
drops the connection; the in-process test and the real-socket case use the same table.
A behaviour this module does not know gets a request derived from its match (first
method, exact path), so a new catalogue entry is covered without an edit here.
"""

from __future__ import annotations

import base64
import os
import struct
from dataclasses import dataclass

WS_KEY = base64.b64encode(b"stress-suite-key").decode()
BODY = b"0123456789"

# Query strings that keep a case short but still give it a timeline to interrupt.
QUERIES = {
    "continue-delayed": "?delay=300ms",
    "processing": "?count=3&every=200ms",
    "drip": "?bytes=10&every=100ms",
    "ws-ping": "?count=3&every=200ms",
}


@dataclass(frozen=True)
class CatalogueRequest:
    behaviour: str
    head: bytes  # ends with the empty line
    body: bytes
    websocket: bool

    @property
    def whole(self) -> bytes:
        return self.head + self.body


@dataclass(frozen=True)
class Stage:
    """Where the client stands when it leaves: ``sent`` bytes written, then ``wait`` seconds."""

    name: str
    sent: bytes
    wait: float = 0.0


def request_for(description: dict) -> CatalogueRequest:
    """``description`` is ``mockorigin.interpreter.answers.describe(behaviour)``."""
    name, path = description["name"], description["path"] or "/"
    methods = description["methods"]
    target = path + QUERIES.get(name, "")
    websocket = methods == ["GET"] and path.startswith("/ws/")
    if websocket:
        head = (
            f"GET {target} HTTP/1.1\r\nHost: stress\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        return CatalogueRequest(name, head, b"", True)
    if methods and "POST" not in methods:
        head = f"{methods[0]} {target} HTTP/1.1\r\nHost: stress\r\n\r\n".encode()
        return CatalogueRequest(name, head, b"", False)
    head = f"POST {target} HTTP/1.1\r\nHost: stress\r\nExpect: 100-continue\r\nContent-Length: {len(BODY)}\r\n\r\n".encode()
    return CatalogueRequest(name, head, BODY, False)


def client_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    """A masked client frame (RFC 6455 §5.2)."""
    mask = os.urandom(4)
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", (0x80 if fin else 0) | opcode, 0x80 | length)
    elif length < 65536:
        header = struct.pack("!BBH", (0x80 if fin else 0) | opcode, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", (0x80 if fin else 0) | opcode, 0x80 | 127, length)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def stages(request: CatalogueRequest) -> list[Stage]:
    """Every point of this exchange at which the client can go away."""
    head, whole = request.head, request.whole
    line_end = head.index(b"\r\n")
    result = [
        Stage("connected", b""),
        Stage("mid line", head[: line_end // 2]),
        Stage("mid headers", head[: line_end + 2 + 8]),
        Stage("head sent", head),
    ]
    if request.body:
        result.append(Stage("mid body", head + request.body[: len(request.body) // 2]))
    result += [Stage("running 0.35s", whole, 0.35), Stage("running 3s", whole, 3.0)]
    if request.websocket:
        text = client_frame(1, b"hello, stress")
        result += [
            Stage("mid ws frame", whole + text[:5], 0.1),
            Stage("after ws close", whole + client_frame(8, struct.pack("!H", 1000)), 0.1),
        ]
    return result


ENDINGS = ("FIN", "RST", "half-close")
JOURNAL_ENDINGS = {"completed", "client closed", "client reset", "server closed", "server reset", "hang cut"}
