"""Client sockets for the cases: asyncio for many connections, blocking for one.

Nothing here parses HTTP beyond status lines: a case asserts on the bytes it got,
when it got them and how the connection ended (FIN, RST, or still open).
"""

from __future__ import annotations

import asyncio
import re
import socket
import struct
import time
from dataclasses import dataclass, field

from stress.server import HOST

STATUS_LINE = re.compile(rb"HTTP/1\.1 ([0-9]{3}) [^\r\n]*\r\n")


def statuses(data: bytes) -> list[int]:
    """Every status line at the start of a line (interim and final)."""
    return [int(s) for s in re.findall(rb"(?:^|\n)HTTP/1\.1 ([0-9]{3}) ", data)]


def first_final(data: bytes) -> int | None:
    for status in statuses(data):
        if status >= 200 or status == 101:
            return status
    return None


def set_linger_zero(sock: socket.socket) -> None:
    """Closing this socket now sends RST, not FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


@dataclass
class Outcome:
    """What one connection saw."""

    data: bytes = b""
    ended: str = "open"  # "FIN" (the server closed), "RST", "open" (we gave up), "refused"
    first_byte_at: float | None = None  # seconds after the first byte was sent
    ended_at: float | None = None
    local_port: int = 0
    notes: list[str] = field(default_factory=list)


async def converse(
    port: int,
    chunks: list[bytes],
    *,
    gap: float = 0.0,
    half_close: bool = False,
    wait: float = 11.0,
    quiet: float | None = None,
    host: str = HOST,
    answer_first: bool = False,
) -> Outcome:
    """Send ``chunks`` (``gap`` seconds apart: separate TCP segments; with ``answer_first``, the
    rest only once the first has been answered), optionally FIN, then
    read until the server ends the connection, ``wait`` seconds pass, or (with ``quiet``) a
    response has been followed by that many seconds of silence."""
    outcome = Outcome()
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as error:
        outcome.ended = "refused"
        outcome.notes.append(str(error))
        return outcome
    sock = writer.get_extra_info("socket")
    started = time.monotonic()
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        outcome.local_port = sock.getsockname()[1]
        for index, chunk in enumerate(chunks):
            writer.write(chunk)
            await writer.drain()
            if answer_first and index == 0 and len(chunks) > 1:
                outcome.data = await asyncio.wait_for(reader.read(65536), wait)
                outcome.first_byte_at = time.monotonic() - started
            elif gap and index < len(chunks) - 1:
                await asyncio.sleep(gap)
        if half_close and writer.can_write_eof():
            writer.write_eof()
        deadline = started + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            timeout = min(left, quiet) if quiet is not None and outcome.data else left
            try:
                piece = await asyncio.wait_for(reader.read(65536), timeout)
            except asyncio.TimeoutError:
                if quiet is not None and outcome.data:
                    break
                continue
            if not piece:
                outcome.ended, outcome.ended_at = "FIN", time.monotonic() - started
                break
            if outcome.first_byte_at is None:
                outcome.first_byte_at = time.monotonic() - started
            outcome.data += piece
    except OSError as error:  # reset, broken pipe, or a socket the reset already disconnected
        outcome.ended, outcome.ended_at = "RST", time.monotonic() - started
        outcome.notes.append(type(error).__name__)
    finally:
        if outcome.ended == "open":
            try:
                set_linger_zero(sock)  # we gave up: leave no TIME_WAIT or lingering server work behind
            except OSError:
                pass
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass
    return outcome


def exchange(port: int, data: bytes, timeout: float = 10.0, host: str = HOST, half_close: bool = False) -> tuple[bytes, str]:
    """Blocking: send ``data``, read until the server closes or ``timeout``: (bytes, "FIN" | "RST" | "open")."""
    received = b""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                piece = sock.recv(65536)
                if not piece:
                    return received, "FIN"
                received += piece
        except ConnectionResetError:
            return received, "RST"
        except TimeoutError:
            pass
        set_linger_zero(sock)
    return received, "open"


async def gather_limited(limit: int, coroutines) -> list:
    """Run coroutines with at most ``limit`` at once, results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(coroutine):
        async with gate:
            return await coroutine

    return await asyncio.gather(*(one(c) for c in coroutines))
