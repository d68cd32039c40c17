"""The steps that belong to one wire: ``h2:`` frames and the ``tls:`` handshake.

``h2`` steps become HTTP/2 frame commands, written as described by the HTTP/2
wire. The loader lets them only into behaviours that match ``version: "2"``, so
an HTTP/1.1 exchange never runs one. A ``tls`` step describes a handshake, which
the TLS layer carries out before any request; met by a request (a client that
asked for the behaviour's path), it does nothing.
"""

from __future__ import annotations

from mockorigin.format import model
from mockorigin.interpreter import commands as c
from mockorigin.interpreter.commands import Command, Script
from mockorigin.interpreter.exchange import Exchange
from mockorigin.interpreter.runner import COMMANDS, STEP_NAMES, STEPS, body_pieces, runs

STEP_NAMES.update({
    model.H2Headers: "h2 headers", model.H2Data: "h2 data", model.H2RstStream: "h2 rst_stream", model.H2GoAway: "h2 goaway", model.Tls: "tls",
})


@runs(COMMANDS, model.H2Headers)
def _headers(step: model.H2Headers, exchange: Exchange) -> Command:
    headers = [(h.name, exchange.render(h.value)) for h in step.headers]
    return c.H2Headers(int(exchange.value(step.status)), headers, step.end_stream)


@runs(COMMANDS, model.H2Data)
def _data(step: model.H2Data, exchange: Exchange) -> Command:
    _length, pieces = body_pieces(step.source, exchange)
    return c.H2Data(b"".join(pieces), step.end_stream)


@runs(COMMANDS, model.H2RstStream)
def _rst_stream(step: model.H2RstStream, exchange: Exchange) -> Command:
    return c.H2RstStream(step.code)


@runs(COMMANDS, model.H2GoAway)
def _goaway(step: model.H2GoAway, exchange: Exchange) -> Command:
    return c.H2GoAway(step.code, step.last_stream_id, step.debug.encode("utf-8"))


@runs(STEPS, model.Tls)
def _tls(step: model.Tls, exchange: Exchange) -> Script:
    return
    yield  # a generator that yields nothing
