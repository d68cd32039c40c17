"""Responses known in full when a behaviour is loaded, formatted once per process.

Most behaviours answer with a literal status, literal headers and a literal body
(``model.Respond.literal_body`` is set). Their HTTP/1.1 bytes are built on first
use by the same code that builds any response, and kept in the step's ``cache``;
per request only the Date changes, so serving one is a concatenation, not a
formatting job.
"""

from __future__ import annotations

from mockorigin.format import model
from mockorigin.http1 import wire
from mockorigin.interpreter.headers import add_date_and_server, header_value, http_date

_DATE_MARK = "\rDATE\r"  # cannot occur elsewhere in a head: no value, name or reason may hold a CR, and each line's CR is followed by LF
_CACHE_KEY = "http/1.1"
_KEPT_WHOLE = 16 * 1024  # a message up to this size is kept with its Date, for the rest of the second


class FixedResponse:
    __slots__ = ("status", "headers", "connection_tokens", "declared_length", "before_date", "after_date", "body", "_second", "framed")

    def __init__(self, status: int, reason: str | None, headers: list[tuple[str, str]], body: bytes):
        head = wire.status_line(status, reason) + wire.header_block(headers)
        before, mark, after = head.partition(_DATE_MARK.encode())
        self.status = status
        self.headers = tuple((name, value) for name, value in headers if value != _DATE_MARK)  # what persistence reads
        self.connection_tokens = wire.connection_tokens(self.headers)
        declared = header_value(self.headers, "content-length")
        self.declared_length = int(declared) if declared and declared.strip().isdigit() else None
        self.before_date = before
        self.after_date = after if mark else None  # None: the script set its own Date, or none
        self.body = body
        self._second: tuple[int, bytes, bytes] = (-1, b"", b"")  # a second, and the head and message with its Date
        # Whether the whole message, sent, is a complete response (Response.whole's rule), without and with HEAD.
        self.framed = (status in (204, 304) or (self.declared_length is not None and len(body) == self.declared_length), True)

    def head(self, now: float) -> bytes:
        if self.after_date is None:
            return self.before_date
        return self.before_date + http_date(now).encode() + self.after_date

    def message(self, now: float, head_only: bool) -> bytes:
        """What goes on the wire: the head with ``now``'s Date, and the body unless ``head_only`` (HEAD).
        Both are made once a second (the Date changes no more often); a large body is not kept twice."""
        second, head, message = self._second
        if second != int(now):
            head = self.head(now)
            message = head + self.body if len(self.body) <= _KEPT_WHOLE else b""
            self._second = (int(now), head, message)
        return head if head_only else message or head + self.body


def fixed_response(step: model.Respond) -> FixedResponse | None:
    """The formatted form of a respond step whose ``literal_body`` is set (None otherwise)."""
    fixed = step.cache.get(_CACHE_KEY)
    if fixed is None and step.literal_body is not None:
        fixed = step.cache[_CACHE_KEY] = _prepare(step, step.literal_body)
    return fixed


def _prepare(step: model.Respond, body: bytes) -> FixedResponse:
    headers = [(header.name, "".join(header.value.parts)) for header in step.headers]  # type: ignore[arg-type]
    if step.auto_headers:
        add_date_and_server(headers, {name.lower() for name, _ in headers}, _DATE_MARK)
        wire.add_framing(headers, step.status, False, len(body))  # type: ignore[arg-type]
    return FixedResponse(step.status, step.reason, headers, body)  # type: ignore[arg-type]
