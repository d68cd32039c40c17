"""The byte-exact client: plain sockets, every read recorded with its time.

It sends HTTP/1.0 or 1.1, with a body at once, after waiting for a 100 (for at
most ``expect_wait``, as curl does), or never when a final response comes first;
it can ask for a WebSocket upgrade and, after a 101, send one masked message and a
close. Every wait is bounded by the plan's ``wait``.
"""

from __future__ import annotations

import base64
import os
import select
import socket
import struct
import time
from dataclasses import dataclass, field

from mockorigin.compat.wire import ResponseReader


@dataclass(frozen=True)
class RequestPlan:
    method: str
    target: str
    host: str  # the Host header
    version: str = "1.1"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    expect_wait: float | None = None  # with a body: wait this long for a 100 (or a final response) first
    upgrade: bool = False  # ask for a WebSocket; after a 101, one echo and a close
    wait: float = 10.0  # the whole exchange, from the request's first byte

    def head_bytes(self) -> bytes:
        lines = [f"{self.method} {self.target} HTTP/{self.version}", f"Host: {self.host}"]
        lines += [f"{k}: {v}" for k, v in self.headers]
        if self.upgrade:
            key = base64.b64encode(os.urandom(16)).decode()
            lines += ["Connection: Upgrade", "Upgrade: websocket", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if self.body or self.method in ("POST", "PUT"):
            lines.append(f"Content-Length: {len(self.body)}")
        if self.expect_wait is not None and self.body:
            lines.append("Expect: 100-continue")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass
class ClientRecord:
    """What the client sent and got, times in seconds since the request's first byte left."""

    reader: ResponseReader
    sent_head: str = ""
    connect_error: str | None = None
    connected_in: float | None = None
    body_sent_at: float | None = None
    body_sent_because: str | None = None  # at once | after 100 | after waiting | never (final first) | never (ended)
    reads: list[tuple[float, int]] = field(default_factory=list)
    eof_at: float | None = None
    reset_at: float | None = None
    gave_up_at: float | None = None  # the plan's wait ran out
    ws_echo_at: float | None = None
    ws_echo_ok: bool | None = None
    ws_close_code: int | None = None

    @property
    def sent_headers(self) -> list[tuple[str, str]]:
        lines = self.sent_head.split("\r\n")[1:]
        return [(n.strip(), v.strip()) for n, _, v in (line.partition(":") for line in lines if ":" in line)]

    @property
    def ended_at(self) -> float | None:
        return next((t for t in (self.eof_at, self.reset_at, self.gave_up_at) if t is not None), None)

    def ending(self) -> str:
        if self.connect_error:
            return "could not connect"
        if self.reader.error:
            return "unreadable response"
        if self.reset_at is not None:
            return "reset"
        if self.eof_at is not None:
            return "closed"
        if self.gave_up_at is not None:
            return "client gave up"
        return "complete"

    def as_json(self) -> dict:
        def r(value):
            return None if value is None else round(value, 4)

        return {
            "sent_head": self.sent_head,
            "connect_error": self.connect_error,
            "connected_in": r(self.connected_in),
            "body_sent_at": r(self.body_sent_at),
            "body_sent_because": self.body_sent_because,
            "reads": [[r(a), n] for a, n in self.reads],
            "eof_at": r(self.eof_at),
            "reset_at": r(self.reset_at),
            "gave_up_at": r(self.gave_up_at),
            "ending": self.ending(),
            "websocket": None if self.ws_echo_ok is None else {"echo_ok": self.ws_echo_ok, "echo_at": r(self.ws_echo_at), "close_code": self.ws_close_code},
            "response": self.reader.as_json(),
        }


def run(address: tuple[str, int], plan: RequestPlan) -> ClientRecord:
    """One exchange over a new connection, bounded by ``plan.wait``."""
    record = ClientRecord(ResponseReader(method=plan.method))
    started = time.monotonic()
    try:
        sock = socket.create_connection(address, timeout=min(5.0, plan.wait))
    except OSError as error:
        record.connect_error = error.strerror or str(error)
        return record
    with sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        record.connected_in = time.monotonic() - started
        _exchange(sock, plan, record)
    return record


def _exchange(sock: socket.socket, plan: RequestPlan, record: ClientRecord) -> None:
    reader = record.reader
    t0 = time.monotonic()
    deadline = t0 + plan.wait

    def now() -> float:
        return time.monotonic() - t0

    pending = plan.body if plan.body and plan.expect_wait is not None else None
    head = plan.head_bytes()
    record.sent_head = head.decode("latin-1")
    sock.sendall(head if pending is not None else head + plan.body)
    if plan.body and pending is None:
        record.body_sent_at, record.body_sent_because = 0.0, "at once"
    expect_until = t0 + (plan.expect_wait or 0)
    while not (reader.done and not (plan.upgrade and reader.framing == "tunnel")):
        if pending is not None:
            if reader.final is not None:
                record.body_sent_because, pending = "never (final response first)", None
            elif any(h.status == 100 for h in reader.interims) or time.monotonic() >= expect_until:
                because = "after 100" if any(h.status == 100 for h in reader.interims) else "after waiting"
                if not _send(sock, pending, record, now):
                    return
                record.body_sent_at, record.body_sent_because, pending = now(), because, None
        if reader.framing == "tunnel" and plan.upgrade:
            _websocket(sock, record, now, deadline)
            return
        until = deadline if pending is None else min(deadline, expect_until)
        left = until - time.monotonic()
        if left <= 0:
            if time.monotonic() >= deadline:
                record.gave_up_at = now()
                break
            continue
        if not select.select([sock], [], [], left)[0]:
            continue
        if not _receive(sock, record, now):
            break
    if pending is not None and record.body_sent_because is None:
        record.body_sent_because = "never (final response first)" if reader.final is not None else "never (connection ended)"


def _send(sock: socket.socket, data: bytes, record: ClientRecord, now) -> bool:
    try:
        sock.sendall(data)
        return True
    except OSError:
        record.reset_at = now()
        return False


def _receive(sock: socket.socket, record: ClientRecord, now) -> bool:
    """One read; False once the connection ended."""
    try:
        data = sock.recv(65536)
    except ConnectionResetError:
        record.reset_at = now()
        record.reader.ended(record.reset_at)
        return False
    at = now()
    if not data:
        record.eof_at = at
        record.reader.ended(at)
        return False
    record.reads.append((at, len(data)))
    record.reader.feed(data, at)
    return True


def _websocket(sock: socket.socket, record: ClientRecord, now, deadline: float) -> None:
    """After a 101: one masked text message, its echo, then a close handshake (1000)."""
    message = b"mockorigin compat"
    _send(sock, _frame(0x1, message), record, now)
    echoed = _read_frame(sock, record, now, min(deadline, time.monotonic() + 2.0))
    record.ws_echo_ok = echoed is not None and echoed[0] == 0x1 and echoed[1] == message
    record.ws_echo_at = now() if record.ws_echo_ok else None
    _send(sock, _frame(0x8, struct.pack("!H", 1000)), record, now)
    reply = _read_frame(sock, record, now, min(deadline, time.monotonic() + 2.0))
    if reply is not None and reply[0] == 0x8 and len(reply[1]) >= 2:
        record.ws_close_code = struct.unpack("!H", reply[1][:2])[0]


def _frame(opcode: int, payload: bytes) -> bytes:
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked


def _read_frame(sock: socket.socket, record: ClientRecord, now, until: float) -> tuple[int, bytes] | None:
    """The next whole server frame (small ones only), or None if none came in time."""
    buffer = bytearray()
    while time.monotonic() < until:
        if len(buffer) >= 2:
            length = buffer[1] & 0x7F
            start = 2 if length < 126 else 4
            if length == 126 and len(buffer) >= 4:
                length = struct.unpack("!H", buffer[2:4])[0]
            if len(buffer) >= start + length and not (buffer[1] & 0x7F == 127):
                return buffer[0] & 0x0F, bytes(buffer[start : start + length])
        if not select.select([sock], [], [], max(0.0, until - time.monotonic()))[0]:
            break
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            record.reset_at = now()
            return None
        if not data:
            record.eof_at = now()
            return None
        record.reads.append((now(), len(data)))
        buffer += data
    return None
