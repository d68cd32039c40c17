"""A request as every wire protocol hands it to the interpreter, and its body as it streams.

The HTTP/1.1 head parser builds a ``Request`` from bytes; another wire protocol
builds the same from its own framing. Matching, params and placeholders read only
this.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

NO_QUERY: Mapping[str, list[str]] = MappingProxyType({})  # shared, so read-only
EMPTY_BODY_SHA256 = hashlib.sha256().hexdigest()


@dataclass(slots=True, init=False)  # not frozen: built per request, and frozen ones cost four times as much
class Request:
    method: str
    target: str
    version: str
    raw_headers: list[tuple[str, str]]  # as sent: original case and order
    path: str
    query: Mapping[str, list[str]]  # parsed only when there is one
    content_length: int  # of the body; 0 with Transfer-Encoding
    chunked: bool
    connection: str  # the Connection fields' values, joined: read on every request, for persistence
    _headers: dict[str, list[str]] | None = field(repr=False, compare=False)

    def __init__(
        self,
        method: str,
        target: str,
        version: str,
        raw_headers: list[tuple[str, str]],
        path: str = "",
        query: Mapping[str, list[str]] = NO_QUERY,  # shared and read-only: a default_factory would be a call per request
        content_length: int = 0,
        chunked: bool = False,
        connection: str = "",
    ):
        self.method = method
        self.target = target
        self.version = version
        self.raw_headers = raw_headers
        self.path = path
        self.query = query
        self.content_length = content_length
        self.chunked = chunked
        self.connection = connection
        self._headers = None

    @property
    def headers(self) -> dict[str, list[str]]:
        """Values by lower-case name. Built on first use: a hanging connection never needs it."""
        if self._headers is None:
            headers: dict[str, list[str]] = {}
            for name, value in self.raw_headers:
                headers.setdefault(name.lower(), []).append(value)
            self._headers = headers
        return self._headers

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return ", ".join(values) if values else None

    @property
    def has_body(self) -> bool:
        return self.chunked or self.content_length > 0

    @property
    def expects_continue(self) -> bool:
        return (self.header("expect") or "").strip().lower() == "100-continue"


class Body:
    """A request body as it streams: counted and hashed, only a prefix kept."""

    __slots__ = ("length", "prefix", "complete", "_keep", "_hash")

    def __init__(self, keep: int):
        self.length = 0
        self.prefix: bytes | bytearray = b""  # a bytearray once there is a byte to keep
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
            if not self.prefix:  # most bodies are empty: no bytearray for them
                self.prefix = bytearray()
            self.prefix += data[:room]

    @property
    def sha256(self) -> str:
        return EMPTY_BODY_SHA256 if self._hash is None else self._hash.hexdigest()
