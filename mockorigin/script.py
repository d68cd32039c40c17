"""The script interpreter: steps in, commands out. No sockets, no clocks, no Twisted.

A running script is a generator. It yields commands (``Send`` these bytes,
``Sleep`` this long, ``AwaitBody`` until N bytes have arrived, ``HangUntil``,
``CloseConnection``, ``ResetConnection``) and the protocol carries each one out
before asking for the next. Everything the script sends is recorded in a
``ResponseState`` so that, when the script ends, the protocol can apply the
HTTP/1.1 persistence rules to what actually went out.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from mockorigin import bodies, model, wire
from mockorigin.fixed import FixedResponse
from mockorigin.request import Body, Request
from mockorigin.template import Reference, Template
from mockorigin.units import format_duration, parse_duration, parse_integer, parse_size



# --- commands ------------------------------------------------------------------


@dataclass(slots=True)  # not frozen: a frozen dataclass costs four times as much to build, and these are built per request
class Send:
    data: bytes
    interim: int | None = None  # status of a 1xx being sent
    final: int | None = None  # status of a final head being sent
    frame: tuple | None = None  # a WebSocket frame: (opcode, fin, length, masked, rsv bits, payload)


@dataclass(slots=True)
class Sleep:
    seconds: float


@dataclass(slots=True)
class AwaitBody:
    bytes: int | None  # None: the whole body


@dataclass(slots=True)
class HangUntil:
    seconds: float | None  # None: until the client leaves (the protocol bounds it)
    read: bool


@dataclass(slots=True)
class CloseConnection:
    pass


@dataclass(slots=True)
class ResetConnection:
    pass


@dataclass(slots=True)
class SwitchToWebSocket:
    """The 101 is out: from here on the connection speaks WebSocket."""


@dataclass(slots=True)
class AwaitMessages:
    count: int  # client data messages not yet consumed by an earlier receive


@dataclass(slots=True)
class EchoUntilClosed:
    """Echo messages, answer pings, complete the close handshake; ends with the connection."""


Command = Send | Sleep | AwaitBody | HangUntil | CloseConnection | ResetConnection | SwitchToWebSocket | AwaitMessages | EchoUntilClosed
Script = Generator[Command, None, None]


# --- what a script sees and what it has sent -----------------------------------


class ParamError(ValueError):
    def __init__(self, name: str, message: str):
        super().__init__(f"param {name!r}: {message}")
        self.name = name


@dataclass(slots=True)
class ResponseState:
    final_status: int | None = None
    headers: list[tuple[str, str]] | tuple = ()  # the final head's, as sent
    chunked: bool = False
    declared_length: int | None = None
    body_sent: int = 0
    ended: bool = False  # last chunk sent
    complete: bool = False  # a whole, well-framed final response went out
    raw: bool = False  # the script wrote raw bytes: framing unknown
    interims: tuple[int, ...] = ()  # statuses of the 1xx sent
    connection_tokens: frozenset[str] = frozenset()  # of the final head's Connection fields


@dataclass(slots=True)
class Exchange:
    request: Request
    request_id: int
    params: Mapping[str, object]
    body: Body
    now: Callable[[], float]  # wall-clock seconds, for the Date header
    response: ResponseState = field(default_factory=ResponseState)
    n: int = 1
    stage: str = "start"  # "3:hang": the step the script stands at, for the journal

    def request_json(self) -> str:
        """The request as JSON, for echo behaviours (``${request.json}``)."""
        request = self.request
        return json.dumps(
            {
                "method": request.method,
                "target": request.target,
                "path": request.path,
                "query": dict(request.query),
                "version": request.version,
                "headers": [list(pair) for pair in request.raw_headers],
                "body_length": self.body.length,
                "body_sha256": self.body.sha256,
            }
        )

    def value(self, num: model.Num) -> float | int:
        return self.params[num.name] if isinstance(num, model.ParamRef) else num  # type: ignore[return-value]

    def render(self, template: Template) -> str:
        return template.render(self._lookup)

    def _lookup(self, reference: Reference) -> str:
        if reference.kind == "n":
            return str(self.n)
        if reference.kind == "param":
            value = self.params[reference.name]
            return format_duration(value) if isinstance(value, float) else str(value)
        field_name = reference.name
        request = self.request
        if field_name.startswith("query."):
            return ",".join(request.query.get(field_name[6:], ()))
        if field_name.startswith("header."):
            return request.header(field_name[7:]) or ""
        if field_name == "json":
            return self.request_json()
        if field_name == "websocket_accept":
            from mockorigin.websocket import accept_token

            return accept_token((request.header("sec-websocket-key") or "").strip(), None)
        return str(
            {
                "method": request.method,
                "path": request.path,
                "target": request.target,
                "version": request.version,
                "body_length": self.body.length,
                "id": self.request_id,
            }[field_name]
        )


_PARAM_PARSERS: dict[str, Callable[[str], object]] = {"duration": parse_duration, "size": parse_size, "integer": parse_integer, "string": str}


NO_PARAMS: Mapping[str, object] = MappingProxyType({})  # shared, so read-only


def resolve_params(behaviour: model.Behaviour, query: Mapping[str, list[str]]) -> Mapping[str, object]:
    """Each param's value: the default, or the query string's within min..max."""
    if not behaviour.params:
        return NO_PARAMS
    parsers = _PARAM_PARSERS
    values: dict[str, object] = {}
    for param in behaviour.params:
        given = query.get(param.name)
        if not given:
            values[param.name] = param.default
            continue
        try:
            value = parsers[param.type](given[-1])
        except ValueError as error:
            raise ParamError(param.name, str(error)) from None
        size = len(value) if isinstance(value, str) else value
        if not param.minimum <= size <= param.maximum:  # type: ignore[operator]
            unit = " characters" if param.type == "string" else ""
            raise ParamError(param.name, f"{given[-1]!r} is outside {param.minimum}..{param.maximum}{unit}")
        values[param.name] = value
    return values


# --- running -------------------------------------------------------------------


def run(steps: tuple[model.Step, ...], exchange: Exchange) -> Script:
    for number, step in enumerate(steps, 1):
        exchange.stage = _stage_name(number, type(step))
        one = _COMMANDS.get(type(step))
        command = None if one is None else one(step, exchange)
        if command is not None:
            yield command
        else:
            yield from _STEPS[type(step)](step, exchange)
        if isinstance(step, (model.Close, model.Reset)):
            return


@functools.lru_cache(maxsize=1024)
def _stage_name(number: int, step_type: type) -> str:
    """"3:hang": one shared string per stage, not one per waiting connection."""
    return f"{number}:{_STEP_NAMES.get(step_type, step_type.__name__.lower())}"


_STEP_NAMES = {model.ReadBody: "read_body"}
_WS_STEP_NAMES = {model.WsSend: "send", model.WsControl: "ping/pong", model.WsClose: "close", model.WsReceive: "receive", model.WsFrame: "frame"}


# Step type -> what runs it: a dict, as singledispatch costs a microsecond a step. A step
# that is one command maps to a function returning it (no generator, so a connection
# waiting in such a step holds one frame less, and a fixed response costs no generator
# at all); the others to generators. A _COMMANDS function may return None: then the
# step's generator in _STEPS runs instead.
_COMMANDS: dict[type, Callable[..., Command | None]] = {}
_STEPS: dict[type, Callable[..., Script]] = {}
_WS_STEPS: dict[type, Callable[..., Script]] = {}


def _runs(table: dict[type, Callable], step_type: type):
    def register(runner: Callable) -> Callable:
        table[step_type] = runner
        return runner

    return register


@_runs(_COMMANDS, model.Wait)
def _wait(step: model.Wait, exchange: Exchange) -> Command:
    return Sleep(float(exchange.value(step.duration)))


@_runs(_STEPS, model.Interim)
def _interim(step: model.Interim, exchange: Exchange) -> Script:
    if exchange.request.version == "1.0" and not step.to_http10:
        return  # RFC 9110 §15.2: never to HTTP/1.0 unless the script insists
    count = int(exchange.value(step.count))
    every = float(exchange.value(step.every))
    for n in range(1, count + 1):
        exchange.n = n
        headers = [(h.name, exchange.render(h.value)) for h in step.headers]
        exchange.response.interims += (step.status,)
        yield Send(wire.status_line(step.status, step.reason) + wire.header_block(headers), interim=step.status)
        if n < count and every > 0:
            yield Sleep(every)
    exchange.n = 1


@_runs(_COMMANDS, model.ReadBody)
def _read_body(step: model.ReadBody, exchange: Exchange) -> Command:
    return AwaitBody(None if step.bytes is None else int(exchange.value(step.bytes)))


@_runs(_STEPS, model.Respond)
def _respond(step: model.Respond, exchange: Exchange) -> Script:
    length, pieces = _body(step.body, exchange) if step.body is not None else (0, iter(()))
    chunked = step.chunk_size is not None
    status = int(exchange.value(step.status))
    headers = [(h.name, exchange.render(h.value)) for h in step.headers]
    if step.auto_headers:
        final_headers(headers, status, chunked, length, wire.http_date(exchange.now()))
    yield from _send_head(status, step.reason, headers, exchange)
    state = exchange.response
    state.chunked = chunked
    if exchange.request.method != "HEAD":
        size = None if not chunked or step.chunk_size == 0 else int(exchange.value(step.chunk_size))  # type: ignore[arg-type]
        yield from _send_pieces(bodies.regroup(pieces, size), step.drip, chunked, exchange)
        if chunked:
            trailers = [(h.name, exchange.render(h.value)) for h in step.trailers]
            yield Send(wire.last_chunk(trailers))
            state.ended = True
    elif hasattr(pieces, "close"):
        pieces.close()
    state.complete = True


@_runs(_COMMANDS, model.Respond)
def _respond_fixed(step: model.Respond, exchange: Exchange) -> Command | None:
    """A response formatted at load time: its head (with today's Date) and body in one write."""
    fixed = step.fixed
    if fixed is None:
        return None  # formatted per request, by _respond
    _note_fixed(exchange, fixed)
    return Send(fixed.message(exchange.now(), head_only=exchange.request.method == "HEAD"), final=fixed.status)


def _note_fixed(exchange: Exchange, fixed: FixedResponse) -> None:
    state = exchange.response
    state.final_status = fixed.status
    state.headers = fixed.headers
    state.connection_tokens = fixed.connection_tokens
    state.ended = state.chunked = False
    state.complete = True  # once its Send is written: the script goes on only after that
    state.body_sent = 0 if exchange.request.method == "HEAD" else len(fixed.body)


def answered_with(exchange: Exchange, fixed: FixedResponse) -> None:
    """``exchange`` as it stands once a one-step script has sent ``fixed``: for an
    exchange answered without a script that must wait all the same (the protocol's
    ``_answer_at_once``)."""
    exchange.stage = _stage_name(1, model.Respond)
    _note_fixed(exchange, fixed)


def final_headers(headers: list[tuple[str, str]], status: int, chunked: bool, length: int, date: str) -> None:
    """Add what a script leaves to us: Date, Server and the body's framing, unless it set them."""
    present = {name.lower() for name, _ in headers}
    _add_date_and_server(headers, present, date)
    bodyless = status < 200 or status in (204, 304)
    if chunked and "transfer-encoding" not in present:
        headers.append(("Transfer-Encoding", "chunked"))
    elif not chunked and not bodyless and not {"content-length", "transfer-encoding"} & present:
        headers.append(("Content-Length", str(length)))


@_runs(_STEPS, model.Head)
def _head(step: model.Head, exchange: Exchange) -> Script:
    headers = [(h.name, exchange.render(h.value)) for h in step.headers]
    if step.auto_headers:
        _add_date_and_server(headers, {name.lower() for name, _ in headers}, wire.http_date(exchange.now()))
    yield from _send_head(int(exchange.value(step.status)), step.reason, headers, exchange)
    state = exchange.response
    state.chunked = "chunked" in (wire.header_value(headers, "transfer-encoding") or "").lower()
    declared = wire.header_value(headers, "content-length")
    state.declared_length = int(declared) if declared and declared.strip().isdigit() else None
    _update_completeness(exchange)


@_runs(_STEPS, model.Body)
def _body_step(step: model.Body, exchange: Exchange) -> Script:
    _length, pieces = _body(step.source, exchange)
    yield from _send_pieces(pieces, step.drip, step.chunk, exchange)
    _update_completeness(exchange)


@_runs(_STEPS, model.End)
def _end(step: model.End, exchange: Exchange) -> Script:
    yield Send(wire.last_chunk([(h.name, exchange.render(h.value)) for h in step.trailers]))
    exchange.response.ended = True
    _update_completeness(exchange)


@_runs(_STEPS, model.Raw)
def _raw(step: model.Raw, exchange: Exchange) -> Script:
    _length, pieces = _body(step.source, exchange, encoding="latin-1")
    exchange.response.raw = True
    for piece in pieces:
        yield Send(piece)


@_runs(_COMMANDS, model.Hang)
def _hang(step: model.Hang, exchange: Exchange) -> Command:
    return HangUntil(None if step.duration is None else float(exchange.value(step.duration)), step.read)


@_runs(_COMMANDS, model.Close)
def _close(step: model.Close, exchange: Exchange) -> Command:
    return CloseConnection()


@_runs(_COMMANDS, model.Reset)
def _reset(step: model.Reset, exchange: Exchange) -> Command:
    return ResetConnection()


@_runs(_STEPS, model.Upgrade)
def _upgrade(step: model.Upgrade, exchange: Exchange) -> Script:
    from mockorigin import websocket

    refused = websocket.check_handshake(exchange.request)
    if refused is not None:
        status, reason, extra = refused
        exchange.response.final_status = status
        yield Send(websocket.refusal(status, reason, extra), final=status)
        yield CloseConnection()
        return
    key = (exchange.request.header("sec-websocket-key") or "").strip()
    headers = [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", websocket.accept_token(key, step.accept))]
    headers += [(h.name, exchange.render(h.value)) for h in step.headers]
    exchange.response.final_status = 101
    exchange.response.headers = headers
    yield Send(wire.status_line(101, None) + wire.header_block(headers), final=101)
    yield SwitchToWebSocket()
    base = exchange.stage
    for number, ws_step in enumerate(step.then, 1):
        name = _WS_STEP_NAMES.get(type(ws_step), type(ws_step).__name__.lower())
        exchange.stage = f"{base}/{number}:{name}"
        one = _COMMANDS.get(type(ws_step))
        if one is not None:  # wait, hang, reset: as in HTTP
            yield one(ws_step, exchange)
        else:
            yield from (_WS_STEPS.get(type(ws_step)) or _STEPS[type(ws_step)])(ws_step, exchange)  # raw: as in HTTP
        if isinstance(ws_step, (model.Echo, model.Reset)):
            return


@_runs(_WS_STEPS, model.Echo)
def _ws_echo(step: model.Echo, exchange: Exchange) -> Script:
    yield EchoUntilClosed()


@_runs(_WS_STEPS, model.WsSend)
def _ws_send(step: model.WsSend, exchange: Exchange) -> Script:
    from mockorigin import websocket

    _length, data = _body(step.payload, exchange)
    pieces = websocket.fragment(b"".join(data), int(exchange.value(step.fragments)))
    for index, piece in enumerate(pieces):
        opcode, fin = (step.opcode if index == 0 else 0), index == len(pieces) - 1
        yield Send(websocket.frame(opcode, piece, fin), frame=(opcode, fin, len(piece), False, 0, b""))


@_runs(_WS_STEPS, model.WsControl)
def _ws_control(step: model.WsControl, exchange: Exchange) -> Script:
    from mockorigin import websocket

    count = int(exchange.value(step.count))
    every = float(exchange.value(step.every))
    for n in range(1, count + 1):
        exchange.n = n
        payload = exchange.render(step.payload).encode("utf-8")[:125]
        yield Send(websocket.frame(step.opcode, payload), frame=(step.opcode, True, len(payload), False, 0, payload))
        if n < count and every > 0:
            yield Sleep(every)
    exchange.n = 1


@_runs(_WS_STEPS, model.WsClose)
def _ws_close(step: model.WsClose, exchange: Exchange) -> Script:
    from mockorigin import websocket

    payload = websocket.close_payload(step.code, step.reason)
    yield Send(websocket.frame(8, payload), frame=(8, True, len(payload), False, 0, payload))


@_runs(_WS_STEPS, model.WsReceive)
def _ws_receive(step: model.WsReceive, exchange: Exchange) -> Script:
    yield AwaitMessages(int(exchange.value(step.count)))


@_runs(_WS_STEPS, model.WsFrame)
def _ws_frame(step: model.WsFrame, exchange: Exchange) -> Script:
    from mockorigin import websocket

    data = websocket.frame(step.opcode, step.payload, step.fin, step.rsv, step.mask, step.length)
    rsv = (4 if step.rsv[0] else 0) | (2 if step.rsv[1] else 0) | (1 if step.rsv[2] else 0)
    declared = len(step.payload) if step.length is None else step.length
    yield Send(data, frame=(step.opcode, step.fin, declared, step.mask is not None, rsv, step.payload))


# --- pieces --------------------------------------------------------------------


def _add_date_and_server(headers: list[tuple[str, str]], present: set[str], date: str) -> None:
    if "date" not in present:
        headers.append(("Date", date))
    if "server" not in present:
        headers.append(("Server", wire.SERVER_NAME))


def _send_head(status: int, reason: str | None, headers: list[tuple[str, str]], exchange: Exchange) -> Script:
    state = exchange.response
    state.final_status = status
    state.headers = headers
    state.connection_tokens = wire.connection_tokens(headers)
    state.body_sent = 0
    state.ended = state.complete = False
    yield Send(wire.status_line(status, reason) + wire.header_block(headers), final=status)


def _send_pieces(pieces: Iterator[bytes], drip: model.Drip | None, chunk: bool, exchange: Exchange) -> Script:
    if drip is not None:
        pieces = bodies.regroup(pieces, int(exchange.value(drip.bytes)))
        every = float(exchange.value(drip.every))
    first = True
    for piece in pieces:
        if drip is not None and not first and every > 0:
            yield Sleep(every)
        first = False
        exchange.response.body_sent += len(piece)
        yield Send(wire.chunk(piece) if chunk else piece)


def _update_completeness(exchange: Exchange) -> None:
    state = exchange.response
    if state.chunked:
        state.complete = state.ended
    elif exchange.request.method == "HEAD" or (state.final_status or 0) in (204, 304):
        state.complete = True
    else:
        state.complete = state.declared_length is not None and state.body_sent == state.declared_length


def _body(source: model.BodySource, exchange: Exchange, encoding: str = "utf-8") -> tuple[int, Iterable[bytes]]:
    """The body's length and its bytes, generated lazily for large sources."""
    if isinstance(source, model.TextBody):
        data = exchange.render(source.text).encode(encoding, "replace")
        return len(data), (data,) if data else ()
    if isinstance(source, model.BytesBody):
        return len(source.data), (source.data,) if source.data else ()
    if isinstance(source, model.SizedBody):
        size = int(exchange.value(source.size))
        return size, bodies.filler(size)
    pieces = bodies.FilePieces(source.path)
    return pieces.size, pieces


def keep_alive(exchange: Exchange) -> bool:
    """Whether the connection may carry another request (RFC 9112 §9.3)."""
    state = exchange.response
    if state.raw or state.final_status is None or not state.complete:
        return False
    return reuse_allowed(exchange.request, state.connection_tokens)


def reuse_allowed(request: Request, response_tokens: frozenset[str]) -> bool:
    """What the Connection fields of both sides and the version say of persistence."""
    request_tokens = wire.options(request.connection) if request.connection else frozenset()
    if "close" in request_tokens or "close" in response_tokens:
        return False
    if request.version == "1.0":
        return "keep-alive" in request_tokens and "keep-alive" in response_tokens
    return True
