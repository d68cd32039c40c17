"""WebSocket: the handshake check, a session that reads client frames, and a frame writer.

Client frames are parsed by wsproto (the same parser ``twisted.web.websocket``
uses), so the echo is a strict RFC 6455 peer. wsproto does not say whether a
frame was masked, so a small header reader records each client frame (opcode,
FIN, RSV bits, mask bit, length) for the journal as the bytes pass. Frames the
server sends come from ``frame()``, our own writer, because a script may ask for
frames no correct library would send: a mask on a server frame, reserved bits,
reserved opcodes, a length field that lies. No Twisted import here.
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, Pong, TextMessage
from wsproto.utilities import generate_accept_token

from mockorigin import wire

MAX_MESSAGE = 1024 * 1024  # a bigger message is refused with 1009
MAX_FRAMES_KEPT = 1000  # per connection in the journal; the rest are only counted
MAX_PENDING = 256  # messages and pings held for a later receive or echo step
MAX_PENDING_BYTES = 4 * 1024 * 1024

OPCODES = {0: "continuation", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}


# --- the handshake (RFC 6455 §4.2.1) ----------------------------------------------


def check_handshake(request) -> tuple[int, str, list[tuple[str, str]]] | None:
    """Why this request cannot be upgraded, as (status, reason, extra headers); None if it can."""
    tokens = {t.strip().lower() for t in (request.header("connection") or "").split(",")}
    if request.method != "GET" or request.version != "1.1":
        return 400, "a WebSocket handshake is a GET over HTTP/1.1", []
    if (request.header("upgrade") or "").strip().lower() != "websocket":
        return 400, "Upgrade: websocket is missing", []
    if "upgrade" not in tokens:
        return 400, "Connection: upgrade is missing", []
    if request.has_body:
        return 400, "a WebSocket handshake has no body", []
    if (request.header("sec-websocket-version") or "").strip() != "13":
        return 426, "only Sec-WebSocket-Version 13 is supported", [("Sec-WebSocket-Version", "13")]
    key = (request.header("sec-websocket-key") or "").strip()
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            raise ValueError
    except (ValueError, binascii.Error):
        return 400, "Sec-WebSocket-Key must be 16 bytes in base64", []
    return None


def accept_token(key: str, how: str | None) -> str:
    """The Sec-WebSocket-Accept for ``key``: correct, ``wrong`` (well-formed, for another key), or a literal."""
    if how is None or how == "correct":
        return generate_accept_token(key.encode()).decode()
    if how == "wrong":
        return generate_accept_token(key[::-1].encode()).decode()
    return how


def refusal(status: int, reason: str, headers: list[tuple[str, str]]) -> bytes:
    body = f"mockorigin: {reason}\n".encode()
    head = [("Content-Type", "text/plain"), ("Content-Length", str(len(body))), ("Connection", "close"), *headers]
    return wire.status_line(status, None) + wire.header_block(head) + body


# --- frames we send ---------------------------------------------------------------


def frame(
    opcode: int,
    payload: bytes = b"",
    fin: bool = True,
    rsv: tuple[bool, bool, bool] = (False, False, False),
    mask: bytes | None = None,
    length: int | None = None,
) -> bytes:
    """One frame, exactly as asked: ``length`` may lie, ``mask`` may be set on a server frame."""
    first = (0x80 if fin else 0) | (0x40 if rsv[0] else 0) | (0x20 if rsv[1] else 0) | (0x10 if rsv[2] else 0) | (opcode & 0x0F)
    declared = len(payload) if length is None else length
    mask_bit = 0x80 if mask is not None else 0
    if declared < 126:
        header = struct.pack("!BB", first, mask_bit | declared)
    elif declared < 1 << 16:
        header = struct.pack("!BBH", first, mask_bit | 126, declared)
    else:
        header = struct.pack("!BBQ", first, mask_bit | 127, declared)
    if mask is not None:
        header += mask
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + payload


def close_payload(code: int | None, reason: str = "") -> bytes:
    return b"" if code is None else struct.pack("!H", code) + reason.encode("utf-8")


def fragment(payload: bytes, fragments: int = 1) -> list[bytes]:
    """A message's payload in ``fragments`` nearly equal pieces (one empty piece for an empty message)."""
    fragments = max(1, min(fragments, max(len(payload), 1)))
    size = -(-len(payload) // fragments) if payload else 0
    return [payload[i : i + size] for i in range(0, len(payload), size)] if payload else [b""]


# --- the session ------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    kind: str  # text | binary
    data: bytes


@dataclass(frozen=True)
class PingReceived:
    payload: bytes


@dataclass(frozen=True)
class PongReceived:
    payload: bytes


@dataclass(frozen=True)
class CloseReceived:
    code: int | None
    reason: str


@dataclass(frozen=True)
class Failed:
    """The client broke the protocol: answer with a close frame of this code, then close TCP."""

    code: int
    reason: str


@dataclass
class FrameLog:
    """Every frame each way, for the journal (bounded), and what it says about the client."""

    now: Callable[[], float]
    frames: list[dict] = field(default_factory=list)
    counted: int = 0
    client_frames: int = 0
    client_unmasked: int = 0
    pings_sent: dict[bytes, float] = field(default_factory=dict)
    pong_delays: list[float] = field(default_factory=list)
    close_sent: int | None = None
    close_received: int | None = None
    close_received_at: float | None = None
    ended: str | None = None  # close handshake | server closed | client dropped | ...

    def record(self, direction: str, opcode: int, fin: bool, length: int, masked: bool, rsv: int = 0) -> None:
        self.counted += 1
        if direction == "in":
            self.client_frames += 1
            self.client_unmasked += not masked
        if len(self.frames) < MAX_FRAMES_KEPT:
            entry = {"dir": direction, "opcode": OPCODES.get(opcode, opcode), "fin": fin, "length": length, "masked": masked, "at": self.now()}
            if rsv:
                entry["rsv"] = rsv
            self.frames.append(entry)

    def summary(self) -> dict:
        pings = len(self.pings_sent) + len(self.pong_delays)
        return {
            "frames": self.frames,
            "frames_total": self.counted,
            "close_sent": self.close_sent,
            "close_received": self.close_received,
            "ended": self.ended,
            "facts": {
                "masked_all_frames": self.client_frames > 0 and self.client_unmasked == 0 if self.client_frames else None,
                "answered_pings": {"sent": pings, "answered": len(self.pong_delays), "max_delay": max(self.pong_delays, default=None)},
                "close_code_echoed": None if self.close_sent is None or self.close_received is None else self.close_sent == self.close_received,
            },
        }


def _frame_header(buffer: bytes) -> tuple[int, int, int, bool] | None:
    """(header length, first byte, payload length, masked) once the header is whole."""
    if len(buffer) < 2:
        return None
    first, second = buffer[0], buffer[1]
    masked = bool(second & 0x80)
    length = second & 0x7F
    size = 2
    if length == 126:
        if len(buffer) < 4:
            return None
        length = struct.unpack("!H", buffer[2:4])[0]
        size = 4
    elif length == 127:
        if len(buffer) < 10:
            return None
        length = struct.unpack("!Q", buffer[2:10])[0]
        size = 10
    size += 4 if masked else 0
    if len(buffer) < size:
        return None
    return size, first, length, masked


class Session:
    """One upgraded connection's reading side: bytes in, events out."""

    def __init__(self, now: Callable[[], float], max_message: int = MAX_MESSAGE):
        self.log = FrameLog(now)
        self.max_message = max_message
        self._wsproto = Connection(ConnectionType.SERVER)
        self._headers = bytearray()
        self._skip = 0
        self._partial: list[bytes] = []
        self._partial_size = 0
        self._partial_kind = ""
        self.failed = False

    def feed(self, data: bytes) -> list:
        if self.failed or self._wsproto.state is ConnectionState.CLOSED:
            return []
        self._read_headers(data)
        self._wsproto.receive_data(data)
        events: list = []
        for event in self._wsproto.events():
            if isinstance(event, (TextMessage, BytesMessage)):
                kind = "text" if isinstance(event, TextMessage) else "binary"
                chunk = event.data.encode("utf-8") if isinstance(event, TextMessage) else bytes(event.data)
                self._partial.append(chunk)
                self._partial_size += len(chunk)
                self._partial_kind = kind
                if self._partial_size > self.max_message:
                    self.failed = True
                    return events + [Failed(1009, f"message over {self.max_message} bytes")]
                if event.message_finished:
                    events.append(Message(kind, b"".join(self._partial)))
                    self._partial, self._partial_size = [], 0
            elif isinstance(event, Ping):
                events.append(PingReceived(bytes(event.payload)))
            elif isinstance(event, Pong):
                payload = bytes(event.payload)
                sent = self.log.pings_sent.pop(payload, None)
                if sent is not None:
                    self.log.pong_delays.append(round(self.log.now() - sent, 6))
                events.append(PongReceived(payload))
            elif isinstance(event, CloseConnection):
                if self._wsproto.state is ConnectionState.OPEN:  # a parse failure, not the client's close
                    self.failed = True
                    return events + [Failed(int(event.code), event.reason or "protocol error")]
                code = None if int(event.code) == 1005 else int(event.code)
                self.log.close_received = code
                self.log.close_received_at = self.log.now()
                events.append(CloseReceived(code, event.reason or ""))
        return events

    def _read_headers(self, data: bytes) -> None:
        """Record each client frame's header as the bytes pass (headers may split anywhere)."""
        position, end = 0, len(data)
        while position < end:
            if self._skip:
                taken = min(self._skip, end - position)
                self._skip -= taken
                position += taken
                continue
            before = len(self._headers)
            take = min(14 - before, end - position)  # a header is at most 14 bytes
            self._headers += data[position : position + take]
            parsed = _frame_header(bytes(self._headers))
            if parsed is None:
                position += take
                continue
            size, first, length, masked = parsed
            position += size - before
            self._headers.clear()
            self.log.record("in", first & 0x0F, bool(first & 0x80), length, masked, (first >> 4) & 0x07)
            self._skip = length

    def note_sent(self, opcode: int, fin: bool, length: int, masked: bool, rsv: int, payload: bytes) -> None:
        """Record a frame the server wrote, with what it really was (its length field may lie)."""
        if opcode == 8:
            self.log.close_sent = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
        elif opcode == 9:
            self.log.pings_sent[payload] = self.log.now()
        self.log.record("out", opcode, fin, length, masked, rsv)

