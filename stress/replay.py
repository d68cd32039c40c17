"""Feeding bytes to the request reader as the protocol does, for the parser fuzzers.

``read_events`` moves on to the next pipelined request whenever one ends (as the
protocol does once an exchange is over), so a whole feed and any split of the same
bytes must give the same events once body pieces are joined (``normalise``).
"""

from __future__ import annotations

from collections.abc import Iterable

from mockorigin.limits import ConnectionLimits
from mockorigin.http1.reader import BadRequest, BodyComplete, BodyCutShort, BodyReceived, HeadReceived, RequestReader

EVENT_TYPES = (HeadReceived, BodyReceived, BodyComplete, BadRequest, BodyCutShort)
READER_STATUSES = frozenset({400, 414, 431, 501, 505})  # what the reader may refuse with (408 is the protocol's)
MAX_REQUESTS = 64  # per input: a fuzzed input of many tiny requests is still bounded


def read_events(chunks: Iterable[bytes], limits: ConnectionLimits | None = None, closed: bool = False) -> list:
    """Every event the reader gives for ``chunks``; ``closed``: the client then sent FIN."""
    reader = RequestReader(limits)
    events: list = []

    def take(new: list) -> None:
        while new:
            events.extend(new)
            last = new[-1]
            ended = isinstance(last, BodyComplete) or (isinstance(last, HeadReceived) and not last.request.has_body)
            new = reader.next_request() if ended and sum(isinstance(e, HeadReceived) for e in events) < MAX_REQUESTS else []

    for chunk in chunks:
        take(reader.feed(chunk))
    if closed:
        take(reader.connection_closed())
    return events


def normalise(events: list) -> list:
    """Body pieces joined: how a body is cut into events depends on how it arrived."""
    out: list = []
    for event in events:
        if isinstance(event, BodyReceived) and out and isinstance(out[-1], BodyReceived):
            out[-1] = BodyReceived(out[-1].data + event.data)
        elif isinstance(event, BodyReceived) and not event.data:
            continue
        else:
            out.append(event)
    return out


def split(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    """``data`` cut at the given piece lengths (the rest in one last piece)."""
    chunks, position = [], 0
    for cut in cuts:
        if position >= len(data):
            break
        chunks.append(data[position : position + max(1, cut)])
        position += max(1, cut)
    if position < len(data):
        chunks.append(data[position:])
    return chunks


def summary(events: list) -> str:
    """Events by kind: ``head,body,end,400``."""
    kinds = {HeadReceived: "head", BodyReceived: "body", BodyComplete: "end"}
    return ",".join(str(e.status) if isinstance(e, BadRequest) else kinds.get(type(e), type(e).__name__) for e in events)


def divergence(data: bytes, chunks: list[bytes], limits: ConnectionLimits | None = None, closed: bool = False) -> str | None:
    """Why the split feed disagrees with the whole one, or None."""
    whole = normalise(read_events([data], limits, closed))
    pieces = normalise(read_events(chunks, limits, closed))
    if whole != pieces:
        return f"whole: {summary(whole)} | split: {summary(pieces)} || whole: {whole!r:.300} | split: {pieces!r:.300}"
    for event in whole:
        if not isinstance(event, EVENT_TYPES):
            return f"undocumented event {event!r:.200}"
        if isinstance(event, BadRequest) and event.status not in READER_STATUSES:
            return f"undocumented status {event.status}"
    return None


# Final statuses the server may answer a fuzzed request with: the catalogue's, the
# index's and 404's, and the protocol's refusals.
ALLOWED_STATUSES = frozenset({200, 204, 400, 404, 408, 413, 414, 417, 426, 431, 501, 505})


def protocol_exception(data: bytes, behaviours, closed: bool = True) -> str | None:
    """Feed ``data`` to an in-process protocol (StringTransport + Clock) serving
    ``behaviours``; the exception it raised, formatted, or None. What raises here is what
    a real server logs as an Unhandled Error: the suite uses it to name the input that did."""
    import traceback

    from twisted.internet.task import Clock
    from twisted.internet.testing import StringTransport

    from mockorigin.observe.journal import Journal
    from mockorigin.http1 import OriginFactory
    from mockorigin.interpreter.state import ServerState

    clock = Clock()
    factory = OriginFactory(ServerState(behaviours), clock, Journal())
    protocol = factory.buildProtocol(None)
    try:
        protocol.makeConnection(StringTransport())
        protocol.dataReceived(data)
        if closed:
            protocol.readConnectionLost()
        clock.advance(11)
        protocol.connectionLost()
    except Exception as error:  # the finding itself
        frames = [f for f in traceback.extract_tb(error.__traceback__) if "/mockorigin/" in f.filename]
        where = f" at {frames[-1].filename.rsplit('/', 1)[1]}:{frames[-1].lineno} ({frames[-1].name})" if frames else ""
        return f"{type(error).__name__}: {error}{where}"
    return None
