"""HTTP/1.1 message syntax, written by us rather than h11 so a script may break the rules.

Nothing here decides *whether* to send something; it only formats.
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus

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
    tokens: frozenset[str] = frozenset()
    for name, value in headers:
        if name.lower() == "connection":
            tokens |= options(value)
    return tokens


def options(value: str) -> frozenset[str]:
    """The comma-separated options of one Connection field value, lower-case."""
    return frozenset(token.strip().lower() for token in value.split(","))


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def last_chunk(trailers: Iterable[tuple[str, str]] = ()) -> bytes:
    return b"0\r\n" + header_block(trailers)


def add_framing(headers: list[tuple[str, str]], status: int, chunked: bool, length: int | None) -> None:
    """Add the framing field the script did not set: Transfer-Encoding for a chunked body,
    Content-Length for one whose length is known (never on a 1xx, 204 or 304)."""
    present = {name.lower() for name, _ in headers}
    if chunked:
        if "transfer-encoding" not in present:
            headers.append(("Transfer-Encoding", "chunked"))
    elif length is not None and not (status < 200 or status in (204, 304)) and not {"content-length", "transfer-encoding"} & present:
        headers.append(("Content-Length", str(length)))


def refusal(status: int, reason: str) -> bytes:
    """A whole response for a request we could not read; always closes."""
    body = f"mockorigin: {reason}\n".encode()
    head = status_line(status, None) + header_block([("Content-Type", "text/plain"), ("Content-Length", str(len(body))), ("Connection", "close")])
    return head + body
