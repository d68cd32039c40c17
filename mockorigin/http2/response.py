"""What goes out on one HTTP/2 stream: its fields, its body queue, and whether it is whole.

HTTP/2 has no framing fields: a body ends with END_STREAM. So a response ends
its stream when it has sent every byte it set out to send — the real length of a
``respond`` step's body (even when its Content-Length lies), else the
Content-Length of a ``head`` — or, with no length known, when the script ends.
"""

from __future__ import annotations

from collections import deque

from mockorigin.interpreter import commands as c
from mockorigin.interpreter.headers import add_date_and_server, header_value, http_date

CONNECTION_SPECIFIC = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"})  # RFC 9113 §8.2.2
_DATE_MARK = "\rDATE\r"
_CACHE_KEY = "h2"
END = None  # in the queue: (END, trailers) ends the stream


def h2_fields(headers) -> list[tuple[str, str]]:
    """Header fields as HTTP/2 carries them: lower-case names, no connection-specific ones."""
    return [(name.lower(), value) for name, value in headers if name.lower() not in CONNECTION_SPECIFIC]


class OutgoingResponse:
    __slots__ = ("head_only", "final_status", "expected", "chunked", "body_sent", "queue_", "ended", "unread_body", "said_close")

    def __init__(self, head_only: bool):
        self.head_only = head_only
        self.final_status: int | None = None
        self.expected: int | None = None  # body bytes the response sets out to send, when known
        self.chunked = False
        self.body_sent = 0
        self.queue_: deque = deque()  # (bytes, end) or (END, trailers), waiting for flow-control window
        self.ended = False  # END_STREAM is queued or sent
        self.unread_body: str | None = None
        self.said_close = False

    h2_fields = staticmethod(h2_fields)

    @property
    def pending(self) -> bool:
        return bool(self.queue_)

    def final(self, command: c.FinalHead) -> tuple[list[tuple[str, str]], bool]:
        """The final HEADERS' fields, and whether END_STREAM goes on them."""
        headers = list(command.headers)
        status = command.status
        declared = header_value(headers, "content-length")
        body_allowed = not (self.head_only or status in (204, 304))
        if command.add_framing and not command.chunked and command.length is not None and declared is None and body_allowed:
            headers.append(("content-length", str(command.length)))
        self.final_status = status
        self.chunked = command.chunked
        self.said_close = "close" in _tokens(header_value(headers, "connection"))
        if command.length is not None:
            self.expected = command.length
        elif not command.chunked and declared is not None and declared.strip().isdigit():
            self.expected = int(declared)
        end = not body_allowed or self.expected == 0
        if end:
            self.ended = True
        return [(":status", str(status)), *h2_fields(headers)], end

    def whole(self, step, now: float) -> tuple[list[tuple[str, str]], bytes]:
        """A response known at load time: its fields (with today's Date) and body, formatted once per step."""
        cached = step.cache.get(_CACHE_KEY)
        if cached is None:
            headers = [(h.name, "".join(h.value.parts)) for h in step.headers]
            if step.auto_headers:
                add_date_and_server(headers, {name.lower() for name, _ in headers}, _DATE_MARK)
                if header_value(headers, "content-length") is None and step.status not in (204, 304):
                    headers.append(("content-length", str(len(step.literal_body))))
            said_close = "close" in _tokens(header_value(headers, "connection"))
            cached = step.cache[_CACHE_KEY] = (step.status, [(":status", str(step.status)), *h2_fields(headers)], step.literal_body, said_close)
        status, fields, body, self.said_close = cached
        date = http_date(now)
        fields = [(name, date if value == _DATE_MARK else value) for name, value in fields]
        self.final_status = status
        if self.head_only or status in (204, 304) or not body:
            self.ended = True
            return fields, b""
        self.expected = len(body)
        return fields, body

    def ends_with(self, data: bytes) -> bool:
        """Whether ``data`` is the last of the body the response set out to send."""
        return self.expected is not None and self.body_sent + sum(len(d) for d, _ in self.queue_ if d is not END) + len(data) >= self.expected

    def queue(self, data: bytes, end: bool) -> None:
        self.queue_.append((data, end))
        if end:
            self.ended = True

    def queue_end(self, trailers) -> None:
        if not self.ended:
            self.queue_.append((END, h2_fields(trailers)))
            self.ended = True

    def drop(self) -> None:
        self.queue_.clear()

    def why_incomplete(self) -> str | None:
        if self.final_status is None:
            return "no final response was sent"
        if self.expected is not None and self.body_sent < self.expected and not self.queue_:
            return f"the response's body is not whole ({self.body_sent} of {self.expected} bytes)"
        if self.chunked and not self.ended:
            return "the chunked body was not ended"
        return None


def _tokens(value: str | None) -> set[str]:
    return {token.strip().lower() for token in (value or "").split(",")}
