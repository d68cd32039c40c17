"""W2 (part): how a WebSocket echo ends, over real sockets (RFC 6455 §7.1.1, §7.4.1).

After the closing handshake the server closes TCP at once, whatever came with the Close:
a large message in the same write (#10 defect 12: FIN only after the 2 s linger), or the
handshake itself (a Close in the handshake's segment). Protocol errors get their close code
and a FIN within a second; a thousand pings are answered.
"""

from __future__ import annotations

import socket
import struct
import time

from stress.catalogue import WS_KEY, client_frame
from stress.runner import Context
from stress.server import HOST

HANDSHAKE = (
    f"GET /ws/echo HTTP/1.1\r\nHost: s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
).encode()
CLOSE_1000 = client_frame(8, struct.pack("!H", 1000))
FIN_LIMIT = 0.5  # seconds from the server's close frame to its FIN


def _session(port: int, writes: list[bytes], wait: float = 5.0, gap: float = 0.1) -> tuple[bytes, float | None, float | None]:
    """Send ``writes`` (``gap`` apart; the first is the handshake), read until FIN:
    (bytes after the 101, when the server's close frame arrived, when its FIN arrived)."""
    with socket.create_connection((HOST, port), timeout=wait) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        received = b""
        close_at = fin_at = None
        for index, data in enumerate(writes):
            sock.sendall(data)
            if index < len(writes) - 1:
                time.sleep(gap)
        started = time.monotonic()
        sock.settimeout(0.05)
        while time.monotonic() - started < wait:
            try:
                piece = sock.recv(1 << 20)
            except TimeoutError:
                continue
            except ConnectionResetError:
                break
            if not piece:
                fin_at = time.monotonic()
                break
            received += piece
            body = received.partition(b"\r\n\r\n")[2]
            if close_at is None and _close_code(body) is not None:
                close_at = time.monotonic()
        if fin_at is None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return received.partition(b"\r\n\r\n")[2], close_at, fin_at


def _close_code(frames: bytes) -> int | None:
    """The code of the first close frame among unmasked server frames (None if there is none yet)."""
    position = 0
    while position + 2 <= len(frames):
        opcode, length = frames[position] & 0x0F, frames[position + 1] & 0x7F
        position += 2
        if length == 126:
            length, position = struct.unpack("!H", frames[position : position + 2])[0], position + 2
        elif length == 127:
            length, position = struct.unpack("!Q", frames[position : position + 8])[0], position + 8
        if position + length > len(frames):
            return None
        if opcode == 8:
            return struct.unpack("!H", frames[position : position + 2])[0] if length >= 2 else 1005
        position += length
    return None


def run_w2(ctx: Context) -> None:
    result, port = ctx.result, ctx.server.port
    checks = {
        # name: (writes, expected close code, known defect)
        "256 KiB message + Close in one write": ([HANDSHAKE, client_frame(1, b"a" * 262144) + CLOSE_1000], 1000, "#10/12"),
        "Close in the handshake's segment": ([HANDSHAKE + CLOSE_1000], 1000, None),
        "message then Close": ([HANDSHAKE, client_frame(1, b"hi"), CLOSE_1000], 1000, None),
        "unmasked frame": ([HANDSHAKE, b"\x81\x02hi"], 1002, None),
        "reserved opcode 3": ([HANDSHAKE, client_frame(3, b"x")], 1002, None),
        "invalid UTF-8 text": ([HANDSHAKE, client_frame(1, b"\xff\xfe")], 1007, None),
        "ping of 126 bytes": ([HANDSHAKE, client_frame(9, b"p" * 126)], 1002, None),
    }
    figures = {}
    for name, (writes, code, defect) in checks.items():
        frames, close_at, fin_at = _session(port, writes)
        got = _close_code(frames)
        fin_after = None if fin_at is None or close_at is None else round(fin_at - close_at, 3)
        figures[name] = {"close_code": got, "fin_after_close_frame_s": fin_after}
        result.check(got == code, f"{name}: close code {got}, expected {code}", defect)
        result.check(fin_after is not None and fin_after <= FIN_LIMIT, f"{name}: FIN {fin_after} s after the close frame (limit {FIN_LIMIT})", defect)
    pings = ctx.scale(1000, 200)
    before = ctx.server.rss_kib()
    frames, _close_at, _fin_at = _session(port, [HANDSHAKE, b"".join(client_frame(9, b"%d" % i) for i in range(pings)) + CLOSE_1000], wait=10)
    pongs = frames.count(b"\x8a")  # a lower bound check below: pong headers
    grown = (ctx.server.rss_kib() - before) / 1024
    figures["pings"] = {"sent": pings, "pong_bytes_seen": pongs, "rss_growth_mb": round(grown, 1)}
    result.check(pongs >= pings, f"{pings} pings: {pongs} pongs")
    result.figures.update(figures)
    result.inputs = len(checks) + pings
