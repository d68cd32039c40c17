"""The reading side of an upgraded connection: client frames in, events out, every frame logged.

Client frames are parsed by wsproto (the same parser ``twisted.web.websocket``
uses), so the echo is a strict RFC 6455 peer. wsproto does not say whether a
frame was masked, so a small header reader records each client frame (opcode,
FIN, RSV bits, mask bit, length) for the journal as the bytes pass. No Twisted
import here.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, Pong, TextMessage

from mockorigin.websocket.frames import OPCODES

MAX_MESSAGE = 1024 * 1024  # a bigger message is refused with 1009
MAX_FRAMES_KEPT = 1000  # per connection in the journal; the rest are only counted
MAX_PENDING = 256  # messages and pings held for a later receive or echo step
MAX_PENDING_BYTES = 4 * 1024 * 1024


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

