"""Reading requests: bytes in, events out; no sockets, no clocks.

Theory of operation. A request is read in two phases. The *head* is collected
here, so that its size limits (414/431) can be enforced on the raw bytes, and is
then parsed by ``head.parse`` (h11's grammar plus the RFC 9112 framing rules h11
lets through). The *body* is framed by its Content-Length here, or, when chunked,
by ``chunked.ChunkedBody``. Bytes after the end of a request
are held, not parsed, until the exchange ends and ``next_request()`` is called:
pipelined requests are answered in order. A request without a body (no
Content-Length, or 0, and not chunked) gets ``HeadReceived`` only: its body is
complete with its head.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mockorigin.http1.chunked import ChunkedBody
from mockorigin.http1.head import HeadError, parse
from mockorigin.interpreter.request import Request
from mockorigin.limits import ConnectionLimits

MAX_BODY_GIVEN_BACK = 16 * 1024  # body bytes skip_body can give back to be read as the next request

__all__ = ["BadRequest", "BodyComplete", "BodyCutShort", "BodyReceived", "HeadReceived", "RequestReader"]


@dataclass(slots=True)  # not frozen: built per request, and frozen ones cost four times as much
class HeadReceived:
    request: Request


@dataclass(slots=True)
class BodyReceived:
    data: bytes


@dataclass(slots=True)
class BodyComplete:
    trailers: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class BodyCutShort:
    """The client half-closed before the body was whole: what arrived is all there will be."""


@dataclass(slots=True)
class BadRequest:
    status: int
    reason: str  # short, for the response body and the journal


Event = HeadReceived | BodyReceived | BodyComplete | BodyCutShort | BadRequest


class RequestReader:
    __slots__ = ("limits", "_buffer", "_progress", "_remaining", "_chunks", "_body_raw", "generation", "_state")  # one per connection

    def __init__(self, limits: ConnectionLimits | None = None):
        self.limits = limits or ConnectionLimits()
        self._buffer: bytes | bytearray = _NOTHING  # a bytearray while it holds something
        # In a head not yet whole: where to look for its end (what was searched is not searched again),
        # where its first line not yet checked against the size limits begins, and how many were checked.
        self._progress: tuple[int, int, int] = _START
        self._remaining = 0  # body bytes still to come (Content-Length framing)
        self._chunks: ChunkedBody | None = None  # chunked framing
        self._body_raw: bytearray | None | bool = None  # the current body's bytes as read (False: too many to keep)
        self.generation = 0  # moves on when skip_body gives bytes back: earlier body events are stale
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
        state = self._state
        if state == "head":
            if not self._buffer:  # the commonest case: a head that arrives whole, in one read
                events = self._whole_head(data)
                if events is not None:
                    return events
            self._hold(data)
            return self._try_head()
        if state == "body":
            return self._body(data)
        if state == "done":
            self._hold(data)
        return []

    def _hold(self, data: bytes) -> None:
        if self._buffer:
            self._buffer += data
        elif data:
            self._buffer = bytearray(data)

    def connection_closed(self) -> list[Event]:
        """The client half-closed: an incomplete body will not be completed. That is the
        client's doing, not a malformed request: nothing is answered on its account."""
        if self._state != "body":
            return []
        self._state = "failed"
        self._chunks = None
        return [BodyCutShort()]

    def pending_bytes(self) -> bytes:
        """The bytes held for requests not yet started (the reader keeps them)."""
        return bytes(self._buffer)

    def skip_body(self) -> bool:
        """Take the current request as having no body after all: what comes next is the next
        request (a script answered an Expect request without reading its body). Bytes already
        read as its body go back to be read as the next request, and ``generation`` moves on,
        so that body events given out before are known to be stale. False if more than
        ``MAX_BODY_GIVEN_BACK`` had been read: those cannot be given back."""
        if self._state not in ("body", "done") or self._body_raw is False:
            return False
        if self._body_raw:
            self._buffer = self._body_raw + self._buffer
        self._body_raw = None
        self._state = "done"
        self._remaining = 0
        self._chunks = None
        self.generation += 1
        return True

    def take_buffered(self) -> bytes:
        """Hand over the bytes after the request (a protocol switch) and stop reading HTTP."""
        data = bytes(self._buffer)
        self._buffer = _NOTHING
        self._state = "failed"
        return data

    def next_request(self) -> list[Event]:
        """Start on the next request, parsing whatever is already buffered."""
        if self._state == "failed":
            return []
        self._state = "head"
        self._chunks = None
        return self._try_head()

    # head

    def _try_head(self) -> list[Event]:
        buffer = self._buffer
        if not buffer:
            return []
        if buffer[:1] in (b"\r", b"\n"):  # empty lines before a request are ignored (RFC 9112 §2.2)
            while buffer[:2] == b"\r\n" or buffer[:1] == b"\n":
                del buffer[: 2 if buffer[:1] == b"\r" else 1]
            self._progress = _START
        blank_line = _BLANK_LINE.search(buffer, self._progress[0])
        if blank_line is None:
            problem = self._limit_problem(len(buffer), len(buffer))
        else:
            problem = self._limit_problem(blank_line.start() + 1, blank_line.end(), complete=True)
        if problem is not None:
            return self._fail(*problem)
        if blank_line is None:
            _, scanned, lines = self._progress
            self._progress = (max(0, len(buffer) - 2), scanned, lines)  # a head sent byte by byte is not searched again and again
            return []
        self._progress = _START
        start, end = blank_line.span()
        section = bytes(buffer[: start - 1 if buffer[start - 1 : start] == b"\r" else start])
        del buffer[:end]
        if not buffer:
            self._buffer = _NOTHING
        return self._head(section)

    def _whole_head(self, data: bytes) -> list[Event] | None:
        """``_try_head`` for a read that begins a head with nothing buffered, when it holds the
        whole head and no limit can be near: read from ``data`` as it is, without copying it
        into the buffer and out again. None: the general path must see it."""
        blank_line = _BLANK_LINE.search(data)
        if blank_line is None or data[0] in _CR_LF:  # not whole, or empty lines before it
            return None
        start, end = blank_line.span()
        limits = self.limits
        if end > limits.max_request_line or end > limits.max_header_line or end > limits.max_head or data.count(b"\n", 0, start + 1) > limits.max_headers:
            return None  # a long head: its limits are judged line by line
        if end < len(data):
            self._hold(data[end:])
        return self._head(data[: start - 1 if data[start - 1] == 13 else start])

    def _head(self, section: bytes) -> list[Event]:
        """A whole head (without its blank line) has been taken from the buffer: parse it."""
        try:
            request = parse(section)
        except HeadError as error:
            return self._fail(error.status, error.reason)
        self._body_raw = None
        if request.chunked:
            return self._start_chunked(request)
        if request.content_length == 0:
            self._state = "done"  # no body (RFC 9112 §6.3): complete with its head, so no BodyComplete
            return [HeadReceived(request)]
        self._state = "body"
        self._remaining = request.content_length
        events: list[Event] = [HeadReceived(request)]
        if self._buffer:
            rest = bytes(self._buffer)
            self._buffer = _NOTHING
            events += self._body(rest)
        return events

    def _limit_problem(self, end: int, total: int, complete: bool = False) -> tuple[int, str] | None:
        """The first size limit the head crosses (414 or 431), judged at the byte where it is
        crossed, so the answer is the same however TCP split the head. ``end``: the bytes of
        the head's lines known so far (for a complete head, up to the LF of its last line);
        ``total``: the head's size so far, blank line included. Lines already checked are not
        checked again, so a head sent a byte at a time costs no more than one sent whole."""
        buffer, limits = self._buffer, self.limits
        searched, position, line = self._progress
        if complete and position == 0 and total <= min(limits.max_request_line, limits.max_header_line, limits.max_head):
            if buffer.count(b"\n", 0, end) <= limits.max_headers:
                return None  # the common case, a short head sent whole: no line can be too long
        crossed: tuple[int, int, str] | None = None  # (offset of the byte that crossed a limit, status, reason)
        while position < end:
            newline = buffer.find(b"\n", position, end)
            line_end = end if newline < 0 else newline
            length = line_end - position
            if length and buffer[line_end - 1] == 13:  # the line's CR (or, while no LF follows it yet, perhaps)
                length -= 1
            limit = limits.max_request_line if line == 0 else limits.max_header_line
            if length > limit:
                crossed = (position + limit + 1, 414, "request line too long") if line == 0 else (position + limit + 1, 431, "header field too large")
                break
            if newline < 0:
                break
            if line > limits.max_headers:  # this LF ends header line max_headers + 1
                crossed = (newline + 1, 431, "too many header fields")
                break
            line += 1
            position = newline + 1
        self._progress = (searched, position, line)
        if total > limits.max_head and (crossed is None or limits.max_head + 1 < crossed[0]):
            return 431, "request head too large"
        return None if crossed is None else (crossed[1], crossed[2])

    # body

    def _body(self, data: bytes) -> list[Event]:
        if not data:
            return [] if self._chunks is None else self._chunked(data)
        left = len(self._buffer)
        events = self._chunked(data) if self._chunks is not None else self._length_framed(data)
        self._given_as_body(data, len(data) - (len(self._buffer) - left))
        return events

    def _given_as_body(self, data: bytes, consumed: int) -> None:
        """Keep what was read as body (bounded) in case the script says there was none."""
        raw = self._body_raw
        if raw is False or not consumed:
            return
        if raw is None:
            raw = self._body_raw = bytearray()
        if len(raw) + consumed > MAX_BODY_GIVEN_BACK:
            self._body_raw = False  # too much to give back: skip_body refuses
        else:
            raw += data[:consumed]

    def _length_framed(self, data: bytes) -> list[Event]:
        remaining = self._remaining
        if len(data) < remaining:
            self._remaining = remaining - len(data)
            return [BodyReceived(data)]
        self._state = "done"
        self._remaining = 0
        self._hold(data[remaining:])
        return [BodyReceived(data[:remaining]), BodyComplete()]

    def _start_chunked(self, request: Request) -> list[Event]:
        self._chunks = ChunkedBody(self.limits.max_header_line, self.limits.max_head)
        self._state = "body"
        rest = bytes(self._buffer)
        self._buffer = _NOTHING
        return [HeadReceived(request), *self._body(rest)]

    def _chunked(self, data: bytes) -> list[Event]:
        pieces, trailers, leftover, error = self._chunks.feed(data)
        events: list[Event] = [BodyReceived(piece) for piece in pieces if piece]
        if error is not None:
            return events + self._fail(400, error.reason)
        if trailers is not None:
            events.append(BodyComplete(trailers))
            self._state = "done"
            self._chunks = None
            self._hold(leftover)
        return events

    def _fail(self, status: int, reason: str) -> list[Event]:
        self._state = "failed"
        self._buffer = _NOTHING
        self._chunks = None
        return [BadRequest(status, reason)]


_BLANK_LINE = re.compile(rb"\n\r?\n")  # the end of a head, as h11 finds it
_CR_LF = (13, 10)
_START = (0, 0, 0)
_NOTHING = b""  # what an empty buffer is: no bytearray per waiting connection
