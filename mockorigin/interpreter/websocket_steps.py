"""The ``upgrade`` step and the WebSocket steps inside its ``then``.

The upgrade either refuses the handshake (400, or 426 with the version we speak,
never a 101) or sends the 101 and switches the connection; the ``then`` steps are
frames to send, messages to wait for, or the echo. Frames are described, not
encoded: the WebSocket layer writes them, exactly as described, lies included.
"""

from __future__ import annotations

import struct

from mockorigin.format import model
from mockorigin.interpreter import commands as c
from mockorigin.interpreter.commands import Script
from mockorigin.interpreter.exchange import Exchange
from mockorigin.interpreter.runner import COMMANDS, STEPS, body_pieces, runs
from mockorigin.interpreter.upgrade import accept_token, check_handshake

_WS_STEPS: dict[type, object] = {}
_WS_STEP_NAMES = {model.WsSend: "send", model.WsControl: "ping/pong", model.WsClose: "close", model.WsReceive: "receive", model.WsFrame: "frame"}


@runs(STEPS, model.Upgrade)
def _upgrade(step: model.Upgrade, exchange: Exchange) -> Script:
    refused = check_handshake(exchange.request)
    if refused is not None:
        status, reason, extra = refused
        body = f"mockorigin: {reason}\n".encode()
        headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(body))), ("Connection", "close"), *extra]
        yield c.FinalHead(status, None, headers, length=len(body))
        yield c.BodyBytes(body)
        yield c.Close()
        return
    key = (exchange.request.header("sec-websocket-key") or "").strip()
    headers = [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", accept_token(key, step.accept))]
    headers += [(h.name, exchange.render(h.value)) for h in step.headers]
    yield c.FinalHead(101, None, headers)
    yield c.SwitchToWebSocket()
    base = exchange.stage
    for number, ws_step in enumerate(step.then, 1):
        exchange.stage = f"{base}/{number}:{_WS_STEP_NAMES.get(type(ws_step), type(ws_step).__name__.lower())}"
        single = COMMANDS.get(type(ws_step))
        if single is not None:  # wait, hang, reset: as in HTTP
            yield single(ws_step, exchange)
        else:
            yield from (_WS_STEPS.get(type(ws_step)) or STEPS[type(ws_step)])(ws_step, exchange)  # raw: as in HTTP
        if isinstance(ws_step, (model.Echo, model.Reset)):
            return


@runs(_WS_STEPS, model.Echo)
def _echo(step: model.Echo, exchange: Exchange) -> Script:
    yield c.EchoUntilClosed()


@runs(_WS_STEPS, model.WsSend)
def _send(step: model.WsSend, exchange: Exchange) -> Script:
    _length, data = body_pieces(step.payload, exchange)
    pieces = fragment(b"".join(data), int(exchange.value(step.fragments)))
    for index, piece in enumerate(pieces):
        yield c.Frame(step.opcode if index == 0 else 0, piece, fin=index == len(pieces) - 1)


@runs(_WS_STEPS, model.WsControl)
def _control(step: model.WsControl, exchange: Exchange) -> Script:
    count = int(exchange.value(step.count))
    every = float(exchange.value(step.every))
    for n in range(1, count + 1):
        exchange.n = n
        yield c.Frame(step.opcode, exchange.render(step.payload).encode("utf-8")[:125])
        if n < count and every > 0:
            yield c.Sleep(every)
    exchange.n = 1


@runs(_WS_STEPS, model.WsClose)
def _close(step: model.WsClose, exchange: Exchange) -> Script:
    yield c.Frame(8, close_payload(step.code, step.reason))


@runs(_WS_STEPS, model.WsReceive)
def _receive(step: model.WsReceive, exchange: Exchange) -> Script:
    yield c.AwaitMessages(int(exchange.value(step.count)))


@runs(_WS_STEPS, model.WsFrame)
def _frame(step: model.WsFrame, exchange: Exchange) -> Script:
    yield c.Frame(step.opcode, step.payload, step.fin, step.rsv, step.mask, step.length)


def close_payload(code: int | None, reason: str = "") -> bytes:
    """A Close frame's payload: the code and the UTF-8 reason; none at all for no code."""
    return b"" if code is None else struct.pack("!H", code) + reason.encode("utf-8")


def fragment(payload: bytes, fragments: int = 1) -> list[bytes]:
    """A message's payload in ``fragments`` nearly equal pieces (one empty piece for an empty message)."""
    fragments = max(1, min(fragments, max(len(payload), 1)))
    size = -(-len(payload) // fragments) if payload else 0
    return [payload[i : i + size] for i in range(0, len(payload), size)] if payload else [b""]
