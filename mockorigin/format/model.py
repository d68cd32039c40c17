"""Behaviours as data: frozen, validated by the loader, never mutated while serving.

One small class per script step. Numbers that a param may supply are a ``Num``:
a literal, or a ``ParamRef`` resolved per request (already bounded at load time).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mockorigin.format.template import Template


@dataclass(frozen=True)
class ParamRef:
    name: str


Num = int | float | ParamRef


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # duration | integer | size | string
    default: object
    minimum: object
    maximum: object


@dataclass(frozen=True)
class Header:
    name: str
    value: Template


# --- body sources --------------------------------------------------------------


@dataclass(frozen=True)
class TextBody:
    text: Template


@dataclass(frozen=True)
class BytesBody:
    data: bytes


@dataclass(frozen=True)
class SizedBody:
    """``size`` bytes of a repeating printable pattern, generated as it is sent."""

    size: Num


@dataclass(frozen=True)
class FileBody:
    path: str  # absolute, checked at load to lie inside the behaviours folder
    root: str


BodySource = TextBody | BytesBody | SizedBody | FileBody


@dataclass(frozen=True)
class Drip:
    bytes: Num
    every: Num


# --- steps ---------------------------------------------------------------------


@dataclass(frozen=True)
class Wait:
    duration: Num


@dataclass(frozen=True)
class Interim:
    status: Num
    reason: str | None = None
    headers: tuple[Header, ...] = ()
    count: Num = 1
    every: Num = 0.0
    to_http10: bool = False
    if_expected: bool = False  # only to a request that said Expect: 100-continue


@dataclass(frozen=True)
class ReadBody:
    bytes: Num | None = None


@dataclass(frozen=True)
class Respond:
    status: Num
    reason: str | None = None
    headers: tuple[Header, ...] = ()
    body: BodySource | None = None
    chunk_size: Num | None = None  # None: not chunked; 0: one chunk
    trailers: tuple[Header, ...] = ()
    drip: Drip | None = None
    auto_headers: bool = True
    # The whole body, when nothing in the response depends on the request (literal status,
    # headers and body; no drip, no chunking): a wire protocol may then format the response
    # once and keep it in ``cache``, under its own name. None: built per request.
    literal_body: bytes | None = field(default=None, init=False, compare=False, repr=False)
    cache: dict = field(default_factory=dict, init=False, compare=False, repr=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "literal_body", _literal_body(self))


MAX_LITERAL_BODY = 1024 * 1024  # a larger literal body is sent in pieces, not kept formatted


def _literal_body(step: Respond) -> bytes | None:
    if not isinstance(step.status, int) or step.chunk_size is not None or step.drip is not None:
        return None
    if not all(header.value.is_literal for header in step.headers):
        return None
    body = step.body
    if body is None:
        data = b""
    elif isinstance(body, TextBody) and body.text.is_literal:
        data = "".join(body.text.parts).encode("utf-8", "replace")  # type: ignore[arg-type]
    elif isinstance(body, BytesBody):
        data = body.data
    else:
        return None
    return data if len(data) <= MAX_LITERAL_BODY else None


@dataclass(frozen=True)
class Head:
    status: Num
    reason: str | None = None
    headers: tuple[Header, ...] = ()
    auto_headers: bool = True


@dataclass(frozen=True)
class Body:
    source: BodySource
    chunk: bool = False
    drip: Drip | None = None


@dataclass(frozen=True)
class End:
    trailers: tuple[Header, ...] = ()


@dataclass(frozen=True)
class Raw:
    source: BodySource
    drip: Drip | None = None


@dataclass(frozen=True)
class Hang:
    duration: Num | None = None  # None: until the client leaves (bounded by the hang limit)
    read: bool = True
    until_data: bool = False  # also ends when the client sends anything


@dataclass(frozen=True)
class UnreadBody:
    """What becomes of a request body the script did not read: discard, skip or close."""

    policy: str


@dataclass(frozen=True)
class Close:
    close_notify: bool = True  # over TLS: send close_notify before the FIN (False: a truncation, RFC 9112 §9.8)


@dataclass(frozen=True)
class Reset:
    pass


# --- HTTP/2 steps (``h2:``; only in behaviours that match ``version: "2"``) ------------
# Frames written exactly as described, past the checks of the h2 library: what a
# client or proxy must survive (RFC 9113 §8.1, §8.2.2, §6.4, §6.8).


@dataclass(frozen=True)
class H2Headers:
    """A HEADERS frame: any status (a 1xx with END_STREAM too), any fields (connection-specific ones too)."""

    status: Num
    headers: tuple[Header, ...] = ()
    end_stream: bool = False


@dataclass(frozen=True)
class H2Data:
    """A DATA frame, whatever was sent before it (after a 1xx, before any HEADERS)."""

    source: BodySource
    end_stream: bool = False


@dataclass(frozen=True)
class H2RstStream:
    code: int  # RFC 9113 §7 error code


@dataclass(frozen=True)
class H2GoAway:
    code: int
    last_stream_id: int | str = "highest"  # a number, "highest" (every stream seen), "this" or "below" (this stream - 2)
    debug: str = ""


# --- the TLS handshake (``tls:``; a behaviour chosen by SNI ``NAME.localhost``) ------------


@dataclass(frozen=True)
class Tls:
    """How the handshake goes for a connection that asked for this behaviour by name."""

    stall: Num | None = None  # answer the ClientHello this late
    stall_forever: bool = False  # never answer it (until the client leaves, or the hang limit)
    alpn: str | None = None  # the ALPN answer, whatever the client offered ...
    alpn_given: bool = False  # ... if given (None then means no ALPN at all)


# --- WebSocket steps (inside ``upgrade.then``) -------------------------------------


@dataclass(frozen=True)
class Echo:
    """Echo every message, answer pings, complete the close handshake: until the client closes."""


@dataclass(frozen=True)
class WsSend:
    opcode: int  # 1 text, 2 binary
    payload: BodySource
    fragments: Num = 1


@dataclass(frozen=True)
class WsControl:
    opcode: int  # 9 ping, 10 pong
    payload: Template = Template(())
    count: Num = 1
    every: Num = 0.0


@dataclass(frozen=True)
class WsClose:
    code: int | None = 1000  # None: a close frame with no payload
    reason: str = ""


@dataclass(frozen=True)
class WsReceive:
    count: Num = 1


@dataclass(frozen=True)
class WsFrame:
    opcode: int
    payload: bytes = b""
    fin: bool = True
    rsv: tuple[bool, bool, bool] = (False, False, False)
    mask: bytes | None = None
    length: int | None = None  # None: the true length


WsStep = Echo | WsSend | WsControl | WsClose | WsReceive | WsFrame | Wait | Hang | Reset | Raw


@dataclass(frozen=True)
class Upgrade:
    headers: tuple[Header, ...] = ()
    accept: str | None = None  # None: correct; "wrong"; or a literal value
    then: tuple[WsStep, ...] = (Echo(),)


Step = (
    Wait | Interim | ReadBody | Respond | Head | Body | End | Raw | Hang | UnreadBody | Close | Reset | Upgrade
    | H2Headers | H2Data | H2RstStream | H2GoAway | Tls
)


# --- matching ------------------------------------------------------------------


@dataclass(frozen=True)
class PathMatch:
    kind: str  # exact | prefix | glob | regex
    pattern: str


@dataclass(frozen=True)
class BodyMatch:
    """What a request body must hold (every test given): ``equals`` and ``json`` judge the
    whole body, ``contains`` and ``regex`` its first bytes (the kept prefix, 64 KiB)."""

    equals: bytes | None = None
    contains: bytes | None = None
    regex: str | None = None  # searched for in the body read as UTF-8
    json: str | None = None  # canonical JSON text of a value the body's JSON must contain


@dataclass(frozen=True)
class Match:
    methods: frozenset[str] | None = None
    path: PathMatch | None = None
    query: tuple[tuple[str, str | bool], ...] = ()
    headers: tuple[tuple[str, str | bool], ...] = ()
    version: str | None = None
    priority: int = 0
    body: BodyMatch | None = None  # set: routing waits for the body (see interpreter/bodymatch.py)


GROUPS = {
    "A": "Interim responses and Expect",
    "B": "Upgrade and WebSocket",
    "C": "Timing and hangs",
    "D": "Framing and malformed messages",
    "E": "Connection management",
    "F": "TLS and HTTP/2",
}


@dataclass(frozen=True)
class Limits:
    """A behaviour's own connection limits (None: the server's)."""

    body_timeout: float | None = None
    body_min_rate: int | None = None
    idle_timeout: float | None = None


@dataclass(frozen=True)
class Behaviour:
    name: str
    match: Match
    scripts: tuple[tuple[Step, ...], ...]  # one script, or a sequence (last one repeats)
    summary: str = ""
    notes: str = ""
    references: tuple[str, ...] = ()
    group: str | None = None  # the catalogue's section: A..F (see GROUPS)
    params: tuple[Param, ...] = ()
    limits: Limits | None = None
    location: Location | None = field(default=None, compare=False)

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)
