"""Rendering the interpreter's commands as HTTP/1.1 bytes, and what went out.

``Response`` remembers what was written for one exchange (statuses, framing, body
bytes, whether the message ended) because HTTP/1.1 decides from that whether the
connection may carry another request (RFC 9112 §9.3): only a whole, well-framed
final response lets it. The script never decides that; it only says what to send.
"""

from __future__ import annotations

from mockorigin.http1 import wire
from mockorigin.http1.fixed import FixedResponse
from mockorigin.interpreter import commands as c
from mockorigin.interpreter.headers import header_value
from mockorigin.interpreter.request import Request

_NO_TOKENS: frozenset[str] = frozenset()  # shared: ``frozenset()`` is a new 216-byte object each time

class Response:
    __slots__ = (
        "final_status", "headers", "chunked", "declared_length", "body_sent", "ended", "complete", "raw",
        "interims", "withheld", "connection_tokens", "head_only", "unread_body",
    )

    def __init__(self, head_only: bool):
        self.final_status: int | None = None
        self.headers: list[tuple[str, str]] | tuple = ()  # the final head's, as sent
        self.chunked = False
        self.declared_length: int | None = None
        self.body_sent = 0
        self.ended = False  # last chunk sent
        self.complete = False  # a whole, well-framed final response went out
        self.raw = False  # the script wrote raw bytes: framing unknown
        self.interims: tuple[int, ...] = ()  # statuses of the 1xx sent
        self.withheld = 0  # interims not sent because the client speaks HTTP/1.0
        self.connection_tokens = _NO_TOKENS  # of the final head's Connection fields
        self.head_only = head_only  # a response to HEAD: it never has a body
        self.unread_body: str | None = None  # the script's word on a body it did not read: close, discard or skip

    def interim(self, command: c.Interim, version: str) -> bytes | None:
        """The 1xx's bytes, or None: never to an HTTP/1.0 client unless the script insists (RFC 9110 §15.2)."""
        if version == "1.0" and not command.to_http10:
            self.withheld += 1
            return None
        self.interims += (command.status,)
        return wire.status_line(command.status, command.reason) + wire.header_block(command.headers)

    def final_head(self, command: c.FinalHead) -> bytes:
        headers = command.headers
        if command.add_framing:
            wire.add_framing(headers, command.status, command.chunked, command.length)
        self.final_status = command.status
        self.headers = headers
        self.connection_tokens = wire.connection_tokens(headers) or _NO_TOKENS
        self.chunked = command.chunked
        declared = header_value(headers, "content-length")
        self.declared_length = int(declared) if declared and declared.strip().isdigit() else None
        self.body_sent = 0
        self.ended = False
        self._update_completeness()
        return wire.status_line(command.status, command.reason) + wire.header_block(headers)

    def whole(self, fixed: FixedResponse, now: float) -> bytes:
        """A response formatted at load time: its head (with today's Date) and body in one write."""
        self.final_status = fixed.status
        self.headers = fixed.headers
        self.connection_tokens = fixed.connection_tokens
        self.chunked = self.ended = False
        declared = self.declared_length = fixed.declared_length
        body_sent = self.body_sent = 0 if self.head_only else len(fixed.body)
        self.complete = self.head_only or fixed.status in (204, 304) or (declared is not None and body_sent == declared)  # as _update_completeness
        return fixed.message(now, self.head_only)

    def body(self, command: c.BodyBytes) -> bytes:
        self.body_sent += len(command.data)
        self._update_completeness()
        return wire.chunk(command.data) if command.chunk else command.data

    def end(self, command: c.EndBody) -> bytes:
        self.ended = True
        self._update_completeness()
        return wire.last_chunk(command.trailers)

    def raw_bytes(self, command: c.Raw) -> bytes:
        self.raw = True
        return command.data

    def _update_completeness(self) -> None:
        if self.chunked:
            self.complete = self.ended
        elif self.head_only or (self.final_status or 0) in (204, 304):
            self.complete = True
        else:
            self.complete = self.declared_length is not None and self.body_sent == self.declared_length

    def keep_alive(self, request: Request) -> bool:
        """Whether the connection may carry another request (RFC 9112 §9.3)."""
        return self.why_not_persistent(request) is None

    def why_not_persistent(self, request: Request) -> str | None:
        """Why the connection may not carry another request after this response, or None."""
        if self.raw:
            return "the script sent raw bytes: the response's framing is unknown"
        if self.final_status is None:
            return "no final response was sent"
        if not self.complete:
            return "the response's body is not whole, or not framed (then the close delimits it)"
        return why_not_reused(request, self.connection_tokens)


def reuse_allowed(request: Request, response_tokens: frozenset[str]) -> bool:
    """What the Connection fields of both sides and the version say of persistence."""
    return why_not_reused(request, response_tokens) is None


def why_not_reused(request: Request, response_tokens: frozenset[str]) -> str | None:
    request_tokens = wire.options(request.connection) if request.connection else _NO_TOKENS
    if "close" in request_tokens:
        return "the request said Connection: close"
    if "close" in response_tokens:
        return "the response said Connection: close"
    if request.version == "1.0" and not ("keep-alive" in request_tokens and "keep-alive" in response_tokens):
        return "HTTP/1.0 without Connection: keep-alive on both sides"
    return None
