"""The bounds behaviours and connections are held to (every bound, with where to change it: docs/limits.md).

Behaviour limits are checked when a file loads, so a script can never ask for
more than these; connection limits are the server's defaults, after nginx and
HAProxy.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- what a behaviour may ask for (checked at load) ----------------------------
MAX_DURATION = 600.0  # seconds: any wait, hang, drip interval or 1xx interval
MAX_BODY_SIZE = 64 * 1024 * 1024  # bytes: body_size, body_file, drip
MAX_COUNT = 1000  # repeated interim responses
MAX_STRING_PARAM = 1024  # characters in a string param
# A drip, repeated interims and repeated pings/pongs are bounded by MAX_DURATION in all:
# at load for literal values and the params' defaults, per request (script.py) for
# values from the query string, with these two functions.


def drip_duration(total_bytes: int, piece_bytes: int, every: float) -> float:
    """Seconds a body of ``total_bytes`` takes in pieces of ``piece_bytes``, ``every``
    apart: the first piece goes at once (``script._send_pieces``). Pieces of 0 bytes
    never end, whatever ``every`` is: ``inf``."""
    if total_bytes <= 0:
        return 0.0
    if piece_bytes <= 0:
        return float("inf")
    return (-(-total_bytes // piece_bytes) - 1) * max(every, 0.0)


def repeat_duration(count: int, every: float) -> float:
    """Seconds ``count`` interims (or pings, or pongs) take, ``every`` apart, the first at once."""
    return max(count - 1, 0) * max(every, 0.0)


@dataclass(frozen=True)
class ConnectionLimits:
    """Per-connection defaults; tests shrink them instead of waiting."""

    head_deadline: float = 10.0  # whole request head, from its first byte: 408
    idle_timeout: float = 75.0  # waiting for a request on a kept-alive connection: close
    body_timeout: float = 10.0  # while a script waits for the body (or drains it): each window this long ...
    body_min_rate: int = 1024  # ... must bring this many bytes a second (at least one byte), else 408
    max_request_line: int = 8 * 1024  # 414
    max_header_line: int = 8 * 1024  # 431
    max_head: int = 16 * 1024  # 431
    max_headers: int = 100  # 431
    body_prefix_kept: int = 64 * 1024  # the rest is counted and hashed, not kept
    max_buffered: int = 16 * 1024  # pipelined bytes held before reading pauses
    max_requests: int = 0  # per connection, then close; 0: no cap (an unannounced close is a reuse race no script asked for)
    max_hang: float = MAX_DURATION  # an open-ended hang is cut after this
    shutdown_grace: float = 5.0  # on SIGTERM, scripts get this long to finish
    linger: float = 2.0  # after a graceful close, read on until the client is silent this long
    max_linger: float = 10.0  # ... but no longer than this in all
