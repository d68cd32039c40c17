"""Responses known in full when a behaviour is loaded, formatted once.

Most behaviours answer with a literal status, literal headers and a literal body.
Their bytes are built at load time by the same code that builds any response
(``script.final_headers``); per request only the Date changes, so serving one is a
concatenation, not a formatting job. A response with a placeholder, a param, a
drip, chunking or a generated body is not fixed, and is built per request.
"""

from __future__ import annotations

from mockorigin import wire

_DATE_MARK = "\x00date\x00"  # cannot occur in a header value: the loader refuses control characters
MAX_FIXED_BODY = 1024 * 1024


class FixedResponse:
    __slots__ = ("status", "headers", "connection_tokens", "before_date", "after_date", "body")

    def __init__(self, status: int, reason: str | None, headers: list[tuple[str, str]], body: bytes):
        head = wire.status_line(status, reason) + wire.header_block(headers)
        before, mark, after = head.partition(_DATE_MARK.encode())
        self.status = status
        self.headers = tuple((name, value) for name, value in headers if value != _DATE_MARK)  # what persistence reads
        self.connection_tokens = wire.connection_tokens(self.headers)
        self.before_date = before
        self.after_date = after if mark else None  # None: the script set its own Date, or none
        self.body = body

    def head(self, now: float) -> bytes:
        if self.after_date is None:
            return self.before_date
        return self.before_date + wire.http_date(now).encode() + self.after_date

    def message(self, now: float, head_only: bool) -> bytes:
        """What goes on the wire: the head with ``now``'s Date, and the body unless ``head_only`` (HEAD)."""
        return self.head(now) if head_only else self.head(now) + self.body


def prepare(step) -> FixedResponse | None:
    """The fixed form of a ``model.Respond``, or None if it depends on the request."""
    from mockorigin import model
    from mockorigin.script import final_headers

    if not isinstance(step.status, int) or step.chunk_size is not None or step.drip is not None:
        return None
    if not all(header.value.is_literal for header in step.headers):
        return None
    body = step.body
    if body is None:
        data = b""
    elif isinstance(body, model.TextBody) and body.text.is_literal:
        data = "".join(body.text.parts).encode("utf-8", "replace")  # type: ignore[arg-type]
    elif isinstance(body, model.BytesBody):
        data = body.data
    else:
        return None
    if len(data) > MAX_FIXED_BODY:
        return None
    headers = [(header.name, "".join(header.value.parts)) for header in step.headers]  # type: ignore[arg-type]
    if step.auto_headers:
        final_headers(headers, step.status, False, len(data), _DATE_MARK)
    if (step.reason or "").count(_DATE_MARK):
        return None
    return FixedResponse(step.status, step.reason, headers, data)
