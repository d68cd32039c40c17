"""What a running script asks of its connection, in no wire format.

Each command is one thing the script wants on the wire or from the connection.
They are plain slotted dataclasses, not frozen: a frozen dataclass costs four
times as much to build, and these are built per request. Header lists are
``(name, value)`` pairs in the order the script gave them, names as written.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

Headers = list[tuple[str, str]]

# --- responses ----------------------------------------------------------------


@dataclass(slots=True)
class Interim:
    """An informational (1xx) response."""

    status: int
    reason: str | None
    headers: Headers
    to_http10: bool = False  # the script insists on sending it to an HTTP/1.0 client (RFC 9110 §15.2 forbids it)


@dataclass(slots=True)
class FinalHead:
    """The final response's status and headers; its body follows as ``BodyBytes``.

    ``chunked``: the body comes as chunks (``BodyBytes(chunk=True)`` and ``EndBody``).
    ``length``: the body's length, when known before it is sent. ``add_framing``: the
    wire adds the framing field the script did not set (Content-Length, or for a
    chunked body the wire's own chunked framing), as it would for any server.
    """

    status: int
    reason: str | None
    headers: Headers
    chunked: bool = False
    length: int | None = None
    add_framing: bool = False


@dataclass(slots=True)
class WholeResponse:
    """A response known in full when its behaviour was loaded (``model.Respond.literal_body``
    is set): the wire may render it from a cache of its own, with only the Date fresh."""

    step: object  # a model.Respond


@dataclass(slots=True)
class BodyBytes:
    data: bytes
    chunk: bool = False  # these bytes are one chunk of a chunked body


@dataclass(slots=True)
class EndBody:
    """The end of a chunked body: the last chunk and its trailers."""

    trailers: Headers


@dataclass(slots=True)
class Raw:
    """Exactly these bytes, unframed: the escape hatch, and the only wire-specific command."""

    data: bytes


# --- time, the request body and the connection --------------------------------------------


@dataclass(slots=True)
class Sleep:
    seconds: float


@dataclass(slots=True)
class AwaitBody:
    bytes: int | None  # None: the whole body


@dataclass(slots=True)
class Hang:
    seconds: float | None  # None: until the client leaves (the wire bounds it)
    read: bool
    until_data: bool = False  # also until the client sends anything


@dataclass(slots=True)
class UnreadBody:
    """What becomes of a request body the script did not read, once it ends:
    ``discard`` (read and drop it), ``skip`` (the client will not send it) or ``close``."""

    policy: str


@dataclass(slots=True)
class Close:
    """A graceful close once what was sent has left (over TLS: close_notify, then FIN, unless
    ``close_notify`` is False: then a bare FIN, a truncation)."""

    close_notify: bool = True


@dataclass(slots=True)
class Reset:
    """An abortive close (RST) once what was sent has left."""


# --- HTTP/2 frames as a script describes them (wire-specific, like Raw) ----------------------


@dataclass(slots=True)
class H2Headers:
    status: int
    headers: Headers
    end_stream: bool = False


@dataclass(slots=True)
class H2Data:
    data: bytes
    end_stream: bool = False


@dataclass(slots=True)
class H2RstStream:
    code: int


@dataclass(slots=True)
class H2GoAway:
    code: int
    last_stream_id: int | str  # a number, or "highest", "this", "below": the wire knows the ids
    debug: bytes = b""


# --- WebSocket --------------------------------------------------------------------------------


@dataclass(slots=True)
class SwitchToWebSocket:
    """The 101 is out: from here on the connection speaks WebSocket."""


@dataclass(slots=True)
class Frame:
    """One WebSocket frame, exactly as described: ``length`` may lie, ``mask`` may be set."""

    opcode: int
    payload: bytes
    fin: bool = True
    rsv: tuple[bool, bool, bool] = (False, False, False)
    mask: bytes | None = None
    length: int | None = None  # None: the true length


@dataclass(slots=True)
class AwaitMessages:
    count: int  # client data messages not yet consumed by an earlier receive


@dataclass(slots=True)
class EchoUntilClosed:
    """Echo messages, answer pings, complete the close handshake; ends with the connection."""


Command = (
    Interim | FinalHead | WholeResponse | BodyBytes | EndBody | Raw | Sleep | AwaitBody | Hang | UnreadBody | Close | Reset
    | SwitchToWebSocket | Frame | AwaitMessages | EchoUntilClosed | H2Headers | H2Data | H2RstStream | H2GoAway
)
Script = Generator[Command, None, None]
