"""Reading requests: bytes in, events out; no sockets, no clocks.

Theory of operation. A request is read in two phases. The *head* is collected
here, so that its size limits (414/431) and the RFC 9112 rules that h11 lets
through (obs-fold, duplicate or list-valued Content-Length, Content-Length with
Transfer-Encoding, Transfer-Encoding on HTTP/1.0, versions other than 1.0/1.1)
can be enforced on the raw lines. The head is then parsed by a fresh
``h11.Connection``, which also frames the *body* (Content-Length or chunked).
Bytes after the end of a request are held, not parsed, until the exchange ends
and ``next_request()`` is called: pipelined requests are answered in order.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import h11

from mockorigin.limits import ConnectionLimits


@dataclass(slots=True)
class Request:
    method: str
    target: str
    version: str
    raw_headers: list[tuple[str, str]]  # as sent: original case and order
    path: str = ""
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, list[str]] = field(default_factory=dict)  # lower-case names

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return ", ".join(values) if values else None

    @property
    def has_body(self) -> bool:
        return "transfer-encoding" in self.headers or int(self.header("content-length") or 0) > 0

    @property
    def expects_continue(self) -> bool:
        return (self.header("expect") or "").strip().lower() == "100-continue"


@dataclass(frozen=True)
class HeadReceived:
    request: Request


@dataclass(frozen=True)
class BodyReceived:
    data: bytes


@dataclass(frozen=True)
class BodyComplete:
    trailers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class BadRequest:
    status: int
    reason: str  # short, for the response body and the journal


Event = HeadReceived | BodyReceived | BodyComplete | BadRequest


class Body:
    """A request body as it streams: counted and hashed, only a prefix kept."""

    __slots__ = ("length", "prefix", "complete", "_keep", "_hash")

    def __init__(self, keep: int):
        self.length = 0
        self.prefix = bytearray()
        self.complete = False
        self._keep = keep
        self._hash = None  # created with the first byte: most requests have no body

    def add(self, data: bytes) -> None:
        if self._hash is None:
            self._hash = hashlib.sha256()
        self.length += len(data)
        self._hash.update(data)
        room = self._keep - len(self.prefix)
        if room > 0:
            self.prefix += data[:room]

    @property
    def sha256(self) -> str:
        return _EMPTY_SHA256 if self._hash is None else self._hash.hexdigest()


_EMPTY_SHA256 = hashlib.sha256().hexdigest()


class RequestReader:
    def __init__(self, limits: ConnectionLimits | None = None):
        self.limits = limits or ConnectionLimits()
        self._buffer = bytearray()
        self._h11: h11.Connection | None = None
        self._state = "head"  # head | body | done | failed

    @property
    def buffered(self) -> int:
        """Bytes held that belong to requests not yet started."""
        return len(self._buffer)

    @property
    def in_head(self) -> bool:
        return self._state == "head"

    @property
    def has_partial_head(self) -> bool:
        return self._state == "head" and bool(self._buffer.lstrip(b"\r\n"))

    def feed(self, data: bytes) -> list[Event]:
        if self._state in ("done", "failed"):
            if self._state == "done":
                self._buffer += data
            return []
        if self._state == "body":
            assert self._h11 is not None
            if data:
                self._h11.receive_data(data)
            return self._body_events()
        self._buffer += data
        return self._try_head()

    def connection_closed(self) -> list[Event]:
        """The client half-closed: an incomplete body is an error, not a hang."""
        if self._state == "body":
            assert self._h11 is not None
            self._h11.receive_data(b"")
            return self._body_events()
        return []

    def take_buffered(self) -> bytes:
        """Hand over the bytes after the request (a protocol switch) and stop reading HTTP."""
        data = bytes(self._buffer)
        self._buffer.clear()
        self._state = "failed"
        return data

    def next_request(self) -> list[Event]:
        """Start on the next request, parsing whatever is already buffered."""
        if self._state == "failed":
            return []
        self._state = "head"
        self._h11 = None
        return self._try_head()

    # head

    def _try_head(self) -> list[Event]:
        if not self._buffer:
            return []
        while self._buffer[:2] == b"\r\n" or self._buffer[:1] == b"\n":  # RFC 9112 §2.2
            del self._buffer[: 2 if self._buffer[:1] == b"\r" else 1]
        end, terminator = _find_head_end(self._buffer)
        limits = self.limits
        if end < 0:
            first_line_end = self._buffer.find(b"\n")
            if first_line_end < 0 and len(self._buffer) > limits.max_request_line:
                return self._fail(414, "request line too long")
            if len(self._buffer) > limits.max_head:
                return self._fail(431, "request head too large")
            return []
        head = bytes(self._buffer[: end + terminator])
        rest = bytes(self._buffer[end + terminator :])
        if len(head) > limits.max_head:
            return self._fail(431, "request head too large")
        section = head[:end]
        lines = section.split(b"\n")
        if len(lines[0].rstrip(b"\r")) > limits.max_request_line:
            return self._fail(414, "request line too long")
        if len(lines) - 1 > limits.max_headers:
            return self._fail(431, "too many header fields")
        if len(lines) > 1 and max(map(len, lines[1:])) > limits.max_header_line + 1:  # + its CR
            return self._fail(431, "header field too large")
        if b"\n " in section or b"\n\t" in section:
            return self._fail(400, "obsolete line folding in a header")
        del self._buffer[:]
        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=limits.max_head + 1024)
        connection.receive_data(head)
        try:
            event = connection.next_event()
        except h11.RemoteProtocolError as error:
            return self._fail(error.error_status_hint, _h11_reason(error))
        assert isinstance(event, h11.Request), event
        request = _request_from(event)
        problem = _framing_problem(request, section)
        if problem is not None:
            return self._fail(*problem)
        if "transfer-encoding" not in request.headers and (request.header("content-length") or "0").strip() == "0":
            self._state = "done"  # no body (RFC 9112 §6.3): skip h11's body phase
            self._buffer = bytearray(rest)
            return [HeadReceived(request), BodyComplete()]
        self._h11 = connection
        self._state = "body"
        events: list[Event] = [HeadReceived(request)]
        if rest:  # h11 reads b"" as end of stream
            connection.receive_data(rest)
        return events + self._body_events()

    # body

    def _body_events(self) -> list[Event]:
        assert self._h11 is not None
        events: list[Event] = []
        while True:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as error:
                return events + self._fail(error.error_status_hint, _h11_reason(error))
            if isinstance(event, h11.Data):
                events.append(BodyReceived(bytes(event.data)))
            elif isinstance(event, h11.EndOfMessage):
                trailers = tuple((n.decode("latin-1"), v.decode("utf-8", "backslashreplace")) for n, v in event.headers.raw_items())
                events.append(BodyComplete(trailers))
                self._state = "done"
                leftover, _closed = self._h11.trailing_data
                self._buffer = bytearray(leftover)
                self._h11 = None
                return events
            elif event is h11.NEED_DATA:
                return events
            else:  # ConnectionClosed before the body ended
                return events + self._fail(400, "connection closed in the middle of the body")

    def _fail(self, status: int, reason: str) -> list[Event]:
        self._state = "failed"
        self._buffer.clear()
        self._h11 = None
        return [BadRequest(status, reason)]


def _find_head_end(buffer: bytearray) -> tuple[int, int]:
    """Index of the empty line ending the head and its length (CRLFCRLF or bare LFs)."""
    crlf = buffer.find(b"\r\n\r\n")
    lf = buffer.find(b"\n\n")
    candidates = [(i + 2, 2) for i in (crlf,) if i >= 0] + [(i + 1, 1) for i in (lf,) if i >= 0]
    if not candidates:
        return -1, 0
    return min(candidates)


def _request_from(event: h11.Request) -> Request:
    target = event.target.decode("latin-1")
    raw_headers = [(n.decode("latin-1"), v.decode("utf-8", "backslashreplace")) for n, v in event.headers.raw_items()]
    request = Request(event.method.decode("ascii"), target, event.http_version.decode("ascii"), raw_headers)
    if "://" in target and not target.startswith("/"):  # absolute-form, as sent to proxies
        split = urlsplit(target)
        path, query = split.path, split.query
    else:  # origin-form (and "*")
        path, _, query = target.partition("?")
    request.path = path or "/"
    if query:
        request.query = parse_qs(query, keep_blank_values=True)
    for name, value in raw_headers:
        request.headers.setdefault(name.lower(), []).append(value)
    return request


_CONTENT_LENGTH = re.compile(rb"\ncontent-length:[ \t]*([^\r\n]*?)[ \t]*(?=\r?\n|$)")


def _framing_problem(request: Request, section: bytes) -> tuple[int, str] | None:
    """RFC 9112 rules h11 lets through, checked on the raw head (h11 has already
    refused whitespace before a colon, so every field name starts a line)."""
    if request.version not in ("1.0", "1.1"):
        return 505, f"HTTP/{request.version} is not supported"
    if "content-length" not in request.headers and "transfer-encoding" not in request.headers:
        return None
    lower = section.lower()
    lengths = _CONTENT_LENGTH.findall(lower)
    if len(lengths) > 1:
        return 400, "more than one Content-Length"
    if lengths and not lengths[0].isdigit():
        return 400, "invalid Content-Length"
    if b"\ntransfer-encoding:" in lower:
        if lengths:
            return 400, "both Content-Length and Transfer-Encoding"
        if request.version == "1.0":
            return 400, "Transfer-Encoding in an HTTP/1.0 request"
    return None


def _h11_reason(error: h11.RemoteProtocolError) -> str:
    text = str(error).split(":", 1)[0]
    return text if len(text) < 80 else "malformed request"
