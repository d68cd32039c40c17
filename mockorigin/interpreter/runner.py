"""Running a script: each step becomes commands, one at a time.

Steps dispatch through dicts (``singledispatch`` cost a microsecond a step). A step
that is one command maps to a function returning it (``_COMMANDS``): no generator,
so a connection waiting in such a step holds one frame less. The others map to
generators (``_STEPS``). A ``_COMMANDS`` function may return None; then the step's
generator runs instead. The upgrade and WebSocket steps are in
``websocket_steps.py`` and register the same way (the package imports both).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator

from mockorigin.format import model
from mockorigin.interpreter import bodies
from mockorigin.interpreter import commands as c
from mockorigin.interpreter.commands import Command, Script
from mockorigin.interpreter.exchange import Exchange
from mockorigin.interpreter.headers import add_date_and_server, header_value, http_date

COMMANDS: dict[type, Callable[..., Command | None]] = {}
STEPS: dict[type, Callable[..., Script]] = {}
STEP_NAMES: dict[type, str] = {model.ReadBody: "read_body"}
_ENDS_SCRIPT = (model.Close, model.Reset, model.H2RstStream)


def run(steps: tuple[model.Step, ...], exchange: Exchange) -> Script:
    """A step that is one command (COMMANDS) is yielded here; one that is several is a
    generator of its own (STEPS), delegated to: one generator level fewer on every resume
    than a generator per step (a burst of 1,000 timed 1xx resumes 1,000 of them, bench (b))."""
    for number, step in enumerate(steps, 1):
        step_type = type(step)
        exchange.stage = stage_name(number, step_type)
        single = COMMANDS.get(step_type)
        command = None if single is None else single(step, exchange)
        if command is not None:
            yield command
        else:
            yield from STEPS[step_type](step, exchange)
        if isinstance(step, _ENDS_SCRIPT):
            return


@functools.lru_cache(maxsize=1024)
def stage_name(number: int, step_type: type) -> str:
    """"3:hang": one shared string per stage, not one per waiting connection."""
    return f"{number}:{STEP_NAMES.get(step_type, step_type.__name__.lower())}"


def runs(table: dict[type, Callable], step_type: type):
    def register(runner: Callable) -> Callable:
        table[step_type] = runner
        return runner

    return register


@runs(COMMANDS, model.Wait)
def _wait(step: model.Wait, exchange: Exchange) -> Command | None:
    seconds = float(exchange.value(step.duration))
    return c.Sleep(seconds) if seconds > 0 else None


@runs(STEPS, model.Wait)
def _no_wait(step: model.Wait, exchange: Exchange) -> Script:
    """A wait of 0 (``gap=0``): no pause, not even a turn of the reactor, so what comes
    before and after it leaves in one write."""
    yield from ()


@runs(STEPS, model.Interim)
def _interim(step: model.Interim, exchange: Exchange) -> Script:
    """Every interim is yielded, whatever the HTTP version: whether one may be sent to an
    HTTP/1.0 client is the wire's rule (it withholds it, and journals that it did), and
    the pauses between them stay where the script put them."""
    if step.if_expected and not exchange.request.expects_continue:
        return  # a 100 nobody asked for is a misbehaviour of its own, not this step's
    count = int(exchange.value(step.count))
    every = float(exchange.value(step.every))
    status = int(exchange.value(step.status))
    for n in range(1, count + 1):
        exchange.n = n
        headers = [(h.name, exchange.render(h.value)) for h in step.headers]
        yield c.Interim(status, step.reason, headers, step.to_http10)
        if n < count and every > 0:
            yield c.Sleep(every)
    exchange.n = 1


@runs(COMMANDS, model.ReadBody)
def _read_body(step: model.ReadBody, exchange: Exchange) -> Command:
    return c.AwaitBody(None if step.bytes is None else int(exchange.value(step.bytes)))


@runs(COMMANDS, model.Respond)
def _respond_whole(step: model.Respond, exchange: Exchange) -> Command | None:
    """A response known in full at load time: one command, rendered by the wire from its cache."""
    return None if step.literal_body is None else c.WholeResponse(step)


@runs(STEPS, model.Respond)
def _respond(step: model.Respond, exchange: Exchange) -> Script:
    length, pieces = body_pieces(step.body, exchange) if step.body is not None else (0, ())
    chunked = step.chunk_size is not None
    status = int(exchange.value(step.status))
    headers = [(h.name, exchange.render(h.value)) for h in step.headers]
    if step.auto_headers:
        add_date_and_server(headers, {name.lower() for name, _ in headers}, http_date(exchange.now()))
    yield c.FinalHead(status, step.reason, headers, chunked, None if chunked else length, step.auto_headers)
    if exchange.request.method == "HEAD":
        if hasattr(pieces, "close"):
            pieces.close()
        return
    size = None if not chunked or step.chunk_size == 0 else int(exchange.value(step.chunk_size))  # type: ignore[arg-type]
    yield from send_pieces(bodies.regroup(pieces, size), step.drip, chunked, exchange)
    if chunked:
        yield c.EndBody([(h.name, exchange.render(h.value)) for h in step.trailers])


@runs(STEPS, model.Head)
def _head(step: model.Head, exchange: Exchange) -> Script:
    headers = [(h.name, exchange.render(h.value)) for h in step.headers]
    if step.auto_headers:
        add_date_and_server(headers, {name.lower() for name, _ in headers}, http_date(exchange.now()))
    chunked = "chunked" in (header_value(headers, "transfer-encoding") or "").lower()
    yield c.FinalHead(int(exchange.value(step.status)), step.reason, headers, chunked)


@runs(STEPS, model.Body)
def _body_step(step: model.Body, exchange: Exchange) -> Script:
    _length, pieces = body_pieces(step.source, exchange)
    yield from send_pieces(iter(pieces), step.drip, step.chunk, exchange)


@runs(STEPS, model.End)
def _end(step: model.End, exchange: Exchange) -> Script:
    yield c.EndBody([(h.name, exchange.render(h.value)) for h in step.trailers])


@runs(STEPS, model.Raw)
def _raw(step: model.Raw, exchange: Exchange) -> Script:
    _length, pieces = body_pieces(step.source, exchange, encoding="latin-1")
    for command in send_pieces(iter(pieces), step.drip, False, exchange):
        yield c.Raw(command.data) if isinstance(command, c.BodyBytes) else command


@runs(COMMANDS, model.Hang)
def _hang(step: model.Hang, exchange: Exchange) -> Command:
    return c.Hang(None if step.duration is None else float(exchange.value(step.duration)), step.read, step.until_data)


@runs(COMMANDS, model.UnreadBody)
def _unread_body(step: model.UnreadBody, exchange: Exchange) -> Command:
    return c.UnreadBody(step.policy)


@runs(COMMANDS, model.Close)
def _close(step: model.Close, exchange: Exchange) -> Command:
    exchange.close_notify = step.close_notify
    return c.Close(step.close_notify)


@runs(COMMANDS, model.Reset)
def _reset(step: model.Reset, exchange: Exchange) -> Command:
    return c.Reset()


# --- pieces --------------------------------------------------------------------


def send_pieces(pieces: Iterator[bytes], drip: model.Drip | None, chunk: bool, exchange: Exchange) -> Script:
    if drip is not None:
        pieces = bodies.regroup(pieces, int(exchange.value(drip.bytes)))
        every = float(exchange.value(drip.every))
    first = True
    for piece in pieces:
        if drip is not None and not first and every > 0:
            yield c.Sleep(every)
        first = False
        yield c.BodyBytes(piece, chunk)


def body_pieces(source: model.BodySource, exchange: Exchange, encoding: str = "utf-8") -> tuple[int, Iterable[bytes]]:
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

