"""One HTTP/1.1 connection: its lifecycle, its reading, its timers.

Theory of operation. Each connection alternates between *waiting* for a request
head and *running* the script chosen for it. Bytes go to the ``RequestReader``,
whose events start a script (head), feed the body (which is always read, counted
and timed, whatever the script is doing) or refuse the request (4xx + close).
Running an exchange is ``running.ExchangeRunner``'s job: it carries out the
interpreter's commands one by one, rendering them as HTTP/1.1 bytes, until one
has to wait (a timer, the body, the client, or a full write buffer). When the
script ends, the response that actually went out decides whether the connection
may carry another request; only then is the next pipelined request parsed, so
responses leave in request order. Ending a connection (a graceful close with a
lingering read, a reset, a refusal, a timeout) is ``ending.Ending``'s job.

The class is split by concern into those mixins; all state is declared here, in
one ``__slots__``, because a slotted class can take its layout from one base only.
The clock comes from the factory; a script's own timer is cancelled when the
connection goes, and the connection's coarse deadline (idle, head, body, linger,
hang cut) is dropped from the factory's ``Deadlines``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from twisted.internet import error as net_error
from twisted.internet.interfaces import IDelayedCall, IHalfCloseableProtocol, IPushProducer
from twisted.internet.protocol import Protocol, connectionDone
from twisted.python.failure import Failure
from zope.interface import implementer

from mockorigin.http1.ending import Ending
from mockorigin.http1.reader import BadRequest, BodyComplete, BodyCutShort, BodyReceived, HeadReceived, RequestReader
from mockorigin.http1.running import ExchangeRunner
from mockorigin.observe.record import ExchangeRecord
from mockorigin.transport.tcpwrite import write_now

if TYPE_CHECKING:  # pragma: no cover
    from mockorigin.http1.factory import OriginFactory

_ENDED_FIRST = {  # how a connection ended -> what happened to the requests still waiting behind it
    "client closed": "the client closed the connection",
    "client reset": "the client reset the connection",
    "completed": "the server closed the connection",
    "server closed": "the server closed the connection",
    "server reset": "the server reset the connection",
    "hang cut": "the server cut the connection",
}
_DEADLINE_KINDS = {"_idle_timeout": "idle", "_head_timeout": "head", "_body_window_over": "body", "_hang_cut": "hang cut", "_lose_connection": "linger"}
_OUTBOX_LIMIT = 64 * 1024  # Twisted's own buffer size: past it, flow control must see the bytes
_NO_PAUSES: frozenset[str] = frozenset()  # shared: most connections never pause reading
_ONLY = {why: frozenset({why}) for why in ("hang", "buffer")}  # ... and those that do, for one reason, share these (216 bytes each)


class _Aside:
    """What a connection needs only while a body is awaited, a write waits, or once it is ending: kept
    apart, and made on first use, so that a waiting connection holds one slot for it all."""

    __slots__ = ("blocked_on_write", "lingering", "body_window_from", "late_bytes", "late_at", "fin_at", "server_end")

    def __init__(self):
        self.blocked_on_write = False
        self.lingering: float | None = None
        self.body_window_from = 0
        self.late_bytes: bytearray | None = None
        self.late_at: float | None = None
        self.fin_at: float | None = None
        self.server_end: tuple[str, float, str] | None = None


_ASIDE_DEFAULTS = {name: getattr(_Aside(), name) for name in _Aside.__slots__}


def _aside_field(name: str) -> property:
    default = _ASIDE_DEFAULTS[name]

    def get(protocol: OriginProtocol):
        aside = protocol._aside
        return default if aside is None else getattr(aside, name)

    def put(protocol: OriginProtocol, value) -> None:
        aside = protocol._aside
        if aside is None:
            if value is default:
                return
            aside = protocol._aside = _Aside()
        setattr(aside, name, value)

    return property(get, put)


@implementer(IPushProducer, IHalfCloseableProtocol)
class OriginProtocol(ExchangeRunner, Ending, Protocol):
    """One connection. Slots keep an idle or hanging connection small."""

    __slots__ = (
        "transport", "connected", "factory",  # Protocol's own attributes: slotted too, so no instance needs a __dict__
        "clock", "limits", "connection_id", "accepted_at", "peer", "reader", "record", "exchange", "script", "response",
        "requests", "step_timer", "deadline_slot", "awaiting_body", "write_paused", "read_pauses", "read_closed",
        "draining", "ended_by_server", "hanging", "deadline", "deadline_action", "ws", "outbox", "pipelined_at", "_aside",
    )
    factory: OriginFactory

    blocked_on_write = _aside_field("blocked_on_write")  # a script waits for the client to read (Twisted's buffer is full)
    lingering = _aside_field("lingering")  # when lingering must end, at the latest
    body_window_from = _aside_field("body_window_from")  # body bytes when the current minimum-rate window began
    late_bytes = _aside_field("late_bytes")  # what the client sent after the server closed its side (bounded)
    late_at = _aside_field("late_at")  # ... and when it began
    fin_at = _aside_field("fin_at")  # when the client's FIN came, if between requests
    server_end = _aside_field("server_end")  # (FIN or RST, when, why) if the server ended it between requests

    def connectionMade(self) -> None:
        factory = self.factory
        self.clock = factory.clock
        self.limits = factory.limits
        self.connection_id = factory.state.next_connection_id()
        self.accepted_at = self.clock.seconds()
        peer = self.transport.getPeer()
        self.peer = f"{getattr(peer, 'host', '?')}:{getattr(peer, 'port', '?')}"
        self.reader = RequestReader(self.limits)
        self.record: ExchangeRecord | None = None
        self.exchange = None  # the interpreter's Exchange while a script runs
        self.script = None  # ... and its generator of commands
        self.response = None  # ... and what has gone out for it (response.Response)
        self.requests = 0
        self.step_timer: IDelayedCall | None = None  # a script's own timing (wait, every, drip, hang for): exact
        self.deadline_slot: int | None = None  # where the factory's Deadlines files this connection
        self.awaiting_body: int | None | bool = False  # False: not waiting; None: whole body; N: bytes
        self.write_paused = False
        self.read_pauses: frozenset[str] | set[str] = _NO_PAUSES
        self.deadline: float | None = None  # when the coarse deadline falls due (None: there is none) ...
        self.deadline_action: Callable | None = None  # ... and what then: a method's function, shared by every connection
        self.read_closed = False
        self.draining = False
        self.ended_by_server: str | None = None
        self.hanging = False
        self._aside: _Aside | None = None
        self.ws = None  # a websocket.mode.WebSocketMode, once a script upgrades the connection
        self.outbox: bytearray | None = None  # a timed run's bytes, sent at once when it stops (see _step_timer_fired)
        self.pipelined_at: float | None = None  # when bytes of a next request began to wait behind the running exchange
        factory.connections.add(self)
        try:
            self.transport.setTcpNoDelay(True)  # 1xx and drips must leave as written
        except (AttributeError, OSError, NotImplementedError):
            pass
        self.transport.registerProducer(self, True)
        self._set_deadline(self.limits.idle_timeout, self._idle_timeout)

    # --- reading -------------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        if self.ws is not None:
            self.ws.feed(data)
            return
        if self.ended_by_server is not None:
            self._after_close(data)
            return
        if self.record is None and self.exchange is None:
            self._begin_record()
        waiting_for_data = self.hanging == "until data"  # not the read that started the script
        self._handle(self.reader.feed(data))
        if self.exchange is not None:
            buffered = self.reader.buffered
            if buffered and self.pipelined_at is None:
                self.pipelined_at = self.clock.seconds() - self.accepted_at
            if buffered > self.limits.max_buffered:
                self._pause_reading("buffer")
            if waiting_for_data and self.hanging == "until data":
                self._cancel_step_timer()
                self._hang_over()
        elif self.record is not None:  # a head has begun, perhaps (the rest is _watch_head's to judge)
            self._watch_head()

    def readConnectionLost(self) -> None:
        """The client sent FIN: it may still read, so a running script goes on."""
        self.read_closed = True
        if self.record is not None:
            self.record.client_closed(self._stage())
        else:
            self.fin_at = self.clock.seconds() - self.accepted_at
        if self.lingering is not None or self.ws is not None:
            self._lose_connection()  # the client has finished too
            return
        self._handle(self.reader.connection_closed())
        if self.exchange is None or self.hanging:
            self._lose_connection()

    def writeConnectionLost(self) -> None:  # pragma: no cover - we never half-close
        pass

    def _begin_record(self, at: float | None = None) -> None:
        """A record for the next exchange (``at``: when its first byte came, if earlier than now)."""
        record = self.record = self._new_record(0)  # OriginH1's adds the TLS facts
        if self.reader.in_head:
            record.head_started(at)

    def _new_record(self, request_id: int) -> ExchangeRecord:
        return ExchangeRecord(self.connection_id, request_id, self.peer, self.accepted_at, self.clock)

    def _watch_head(self) -> None:
        """A head has begun and not ended: it must end within the head deadline of its
        first byte. (Set only now, so a head that arrives whole costs no timer work.)"""
        if (
            self.record is not None
            and self.exchange is None
            and self.ended_by_server is None
            and self.reader.in_head
            and (self.deadline is None or self.deadline_action is not OriginProtocol._head_timeout)
        ):
            self._set_deadline(self.limits.head_deadline, self._head_timeout)  # the head began in this turn of the reactor

    def _handle(self, events) -> None:
        generation = self.reader.generation
        for event in events:
            if self.reader.generation != generation:
                return  # the reader gave these bytes back to be read again (a skipped body)
            if isinstance(event, HeadReceived):
                self.deadline = None  # no idle or head deadline while the exchange runs
                self._begin_exchange(event.request)
            elif isinstance(event, BodyReceived):
                self._body_arrived(event.data)
            elif isinstance(event, BodyComplete):
                self._body_complete()
            elif isinstance(event, BodyCutShort):
                self._body_cut_short()
            elif isinstance(event, BadRequest):
                self._refuse(event.status, event.reason)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._cancel_all_timers()
        self.factory.deadlines.forget(self)
        if self.script is not None:
            self.script.close()
            self.script = None
        stage = self._stage()
        reset = reason.check(net_error.ConnectionLost) is not None  # ECONNRESET or EPIPE: the client's RST
        how = self.ended_by_server or ("client reset" if reset else "client closed")
        record = self.record
        if record is None and self.requests == 0:
            record = self.record = self._new_record(0)  # a connection that ended with no request
            if self.fin_at is not None:
                record.client_fin = (self.fin_at, "idle", 0)
            if self.server_end is not None:
                signal, at, why = self.server_end
                record.server_ended(signal, "idle", why, at)
        if record is not None:
            if reset:
                record.client_reset(stage)
            elif self.ended_by_server is None:
                record.client_closed(stage)  # a FIN that came with the close
            if self.ws is not None:
                record.websocket = self.ws.summary(how)
            self._journal(how, stage)
        self._journal_unanswered(how, _ENDED_FIRST.get(how, "the connection ended"))
        self.factory.forget(self, self._summary(how, reset))

    def _summary(self, how: str, reset: bool) -> tuple:
        """The connection's lifecycle, for the control API's list of recently closed ones: its
        facts now, made into a dict only if someone asks (``closed_entry``); most are never read."""
        now = self.clock.seconds() - self.accepted_at
        if self.ended_by_server is not None and self.server_end is not None and (self.fin_at is None or self.server_end[1] <= self.fin_at):
            by, signal, at, why = "server", self.server_end[0], self.server_end[1], self.server_end[2]
        elif self.ended_by_server is not None and self.fin_at is None:
            by, signal, at, why = "server", "RST" if how in ("server reset", "hang cut") else "FIN", now, how
        else:
            by, signal, at, why = "client", "RST" if reset and self.fin_at is None else "FIN", self.fin_at if self.fin_at is not None else now, None
        return (self.connection_id, self.peer, self.accepted_at, now, self.requests, by, signal, at, why)

    def describe(self, now: float) -> dict:
        """Where this connection stands and what it waits for, for the control API (and the
        stress suite, which checks that nothing is left waiting)."""
        exchange, deadline, step = self.exchange, self.deadline, self.step_timer
        kind = None if deadline is None else getattr(self.deadline_action, "__name__", "?")
        return {
            "connection": self.connection_id,
            "client": self.peer,
            "open_for": round(now - self.accepted_at, 3),
            "requests": self.requests,
            "stage": self._stage(),
            "behaviour": self.record.behaviour if self.record is not None else None,
            "request": None if exchange is None else f"{exchange.request.method} {exchange.request.target}",
            "request_id": None if exchange is None else exchange.request_id,
            "deadline": None if deadline is None else {"kind": _DEADLINE_KINDS.get(kind, kind), "in": round(deadline - now, 3)},
            "step_timer": step is not None and step.active(),
            "waiting_for_client_to_read": self.blocked_on_write,
            "reading_paused": sorted(self.read_pauses),
            "hanging": bool(self.hanging),
        }

    def _stage(self) -> str:
        if self.exchange is not None:
            return "draining body" if self.draining else self.exchange.stage
        if self.reader.has_partial_head:
            return "head"
        return "idle"

    # --- writing: the producer, and a timed run's outbox ---------------------------

    def _write(self, data: bytes) -> None:
        if self.outbox is None:
            self.transport.write(data)
        else:
            self.outbox += data
            if len(self.outbox) >= _OUTBOX_LIMIT:  # a large body: the transport's flow control must see it
                self._send_outbox()

    def _send_outbox(self) -> None:
        outbox = self.outbox
        if outbox:
            self.outbox = bytearray()
            write_now(self.transport, bytes(outbox))

    def pauseProducing(self) -> None:
        self.write_paused = True

    def resumeProducing(self) -> None:
        self.write_paused = False
        if self.blocked_on_write:
            self.blocked_on_write = False
            self._advance()

    def stopProducing(self) -> None:
        self.write_paused = True

    def _pause_reading(self, why: str) -> None:
        if not self.read_pauses:
            self.transport.pauseProducing()
            self.read_pauses = _ONLY.get(why) or frozenset({why})
        elif why not in self.read_pauses:
            self.read_pauses = self.read_pauses | {why}

    def _resume_reading(self, why: str) -> None:
        if why in self.read_pauses:
            self.read_pauses = self.read_pauses - {why} or _NO_PAUSES
            if not self.read_pauses:
                self.transport.resumeProducing()

    # --- timers ------------------------------------------------------------------

    def _set_deadline(self, seconds: float | None, action: Callable[[], None] | None = None) -> None:
        """The idle, head, body, linger and hang-cut limits: one applies at a time, kept
        coarsely by the factory's ``Deadlines`` (see there why). ``action``: a method of
        this connection; its function is kept, not the bound method (nor a tuple of the
        two), so a waiting connection holds no object for its deadline but the time."""
        if seconds is None or action is None:
            self.deadline = None
            return
        at = self.deadline = self.clock.seconds() + seconds
        self.deadline_action = action.__func__  # type: ignore[attr-defined]
        self.factory.deadlines.watch(self, at)

    def deadline_reached(self, now: float) -> None:
        at = self.deadline
        if at is None:
            return
        if at > now + 1e-6:
            self.factory.deadlines.watch(self, at)
        else:
            self.deadline = None
            self.deadline_action(self)  # type: ignore[misc]

    def _start_step_timer(self, seconds: float, action: Callable[[], None]) -> None:
        self._cancel_step_timer()
        self.step_timer = self.clock.callLater(seconds, self._step_timer_fired, action)

    def _step_timer_fired(self, action: Callable[[], None]) -> None:
        """A script's timing is due: what it sends now leaves now, not on the reactor's
        next turn. The run's bytes are held in ``outbox`` until the script stops (waits,
        ends, closes), then sent together, as they would have left together before:
        a 100 Continue leaves when its timer fires, even with a thousand due at once."""
        self.step_timer = None
        self.outbox = bytearray()
        try:
            action()
        finally:
            self._send_outbox()
            self.outbox = None

    def _cancel_step_timer(self) -> None:
        timer, self.step_timer = self.step_timer, None
        if timer is not None and timer.active():
            timer.cancel()

    def _cancel_all_timers(self) -> None:
        self._cancel_step_timer()
        self.deadline = None
