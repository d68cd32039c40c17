"""Bytes for responses, written by us rather than h11 so a script may break the rules.

Nothing here decides *whether* to send something; it only formats what the
interpreter asked for.
"""

from __future__ import annotations

from email.utils import formatdate
from http import HTTPStatus
from collections.abc import Iterable

SERVER_NAME = "mockorigin"

_REASONS = {s.value: s.phrase for s in HTTPStatus}
_REASONS.update({102: "Processing", 103: "Early Hints", 104: "Upload Resumption Supported"})


def reason_for(status: int) -> str:
    return _REASONS.get(status, "Unknown")


def status_line(status: int, reason: str | None, version: str = "1.1") -> bytes:
    phrase = reason_for(status) if reason is None else reason
    return f"HTTP/{version} {status} {phrase}\r\n".encode("latin-1", "replace")


def header_block(headers: Iterable[tuple[str, str]]) -> bytes:
    """Header lines and the empty line that ends a head; values as UTF-8."""
    return b"".join(f"{name}: ".encode("latin-1") + value.encode("utf-8") + b"\r\n" for name, value in headers) + b"\r\n"


def connection_tokens(headers: Iterable[tuple[str, str]]) -> frozenset[str]:
    """The options of the Connection header fields, lower-case (RFC 9110 §7.6.1)."""
    tokens = frozenset()
    for name, value in headers:
        if name.lower() == "connection":
            tokens |= options(value)
    return tokens


def options(value: str) -> frozenset[str]:
    """The comma-separated options of one Connection field value, lower-case."""
    return frozenset(token.strip().lower() for token in value.split(","))


_date_cache: tuple[int, str] = (-1, "")


def http_date(seconds: float) -> str:
    """The IMF-fixdate for ``seconds``, formatted once per second."""
    global _date_cache
    whole = int(seconds)
    if _date_cache[0] != whole:
        _date_cache = (whole, formatdate(whole, usegmt=True))
    return _date_cache[1]


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def last_chunk(trailers: Iterable[tuple[str, str]] = ()) -> bytes:
    return b"0\r\n" + header_block(trailers)


def header_value(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    name = name.lower()
    for n, v in headers:
        if n.lower() == name:
            return v
    return None
