"""The Twisted protocol: reads requests, runs scripts, owns every byte and timer.

Theory of operation. Each connection alternates between *waiting* for a request
head and *running* the script chosen for it. Bytes go to the ``RequestReader``,
whose events start a script (head), feed the body (which is always read, counted
and timed, whatever the script is doing) or refuse the request (4xx + close).
The script is a generator of commands; ``_advance`` carries them out one by one
until one has to wait (a timer, the body, the client, or a full write buffer).
When the script ends, the response that actually went out decides whether the
connection may carry another request; only then is the next pipelined request
parsed, so responses leave in request order. The commonest exchange (no request
body, a script that is one fixed response, a connection that stays open) is
answered at once by ``_answer_at_once``, to the same effect without a script.
The clock comes from the factory; a script's own timer is cancelled when the
connection goes, and its deadline (idle, head, body, linger, hang cut) is dropped
from the factory's ``Deadlines``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from twisted.internet import error as net_error
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IDelayedCall, IHalfCloseableProtocol, IPushProducer, IReactorTime
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from mockorigin import index, script
from mockorigin.deadlines import Deadlines
from mockorigin.journal import ExchangeRecord, Journal
from mockorigin.limits import ConnectionLimits
from mockorigin.request import EMPTY_BODY_SHA256, BadRequest, Body, BodyComplete, BodyCutShort, BodyReceived, HeadReceived, Request, RequestReader
from mockorigin.state import ServerState
from mockorigin.tcpwrite import abort_when_flushed, write_now
from mockorigin.wsmode import WebSocketMode

log = Logger()
_OUTBOX_LIMIT = 64 * 1024  # Twisted's own buffer size: past it, flow control must see the bytes
# Commands one connection may carry out in one turn of the reactor: whatever a behaviour asks
# (a drip of one byte every 0 ms over 1 MiB is a million writes), the others get their turn.
COMMANDS_PER_TURN = 256
_NO_PAUSES: frozenset[str] = frozenset()  # shared: most connections never pause reading


class OriginFactory(Factory):
    noisy = False  # no "Starting factory" lines

    def __init__(
        self,
        state: ServerState,
        clock: IReactorTime,
        journal: Journal | None = None,
        limits: ConnectionLimits | None = None,
    ):
        self.state = state
        self.clock = clock
        self.journal = journal if journal is not None else Journal()
        self.limits = limits or ConnectionLimits()
        self.connections: set[OriginProtocol] = set()
        self.deadlines = Deadlines(clock)
        self.stopping = False
        self._when_empty: list[Deferred] = []

    def when_empty(self) -> Deferred:
        """Fires once no connection is open."""
        if not self.connections:
            return succeed(None)
        waiter: Deferred = Deferred()
        self._when_empty.append(waiter)
        return waiter

    def forget(self, protocol: OriginProtocol) -> None:
        self.connections.discard(protocol)
        if not self.connections:
            waiters, self._when_empty = self._when_empty, []
            for waiter in waiters:
                waiter.callback(None)

    def buildProtocol(self, addr) -> OriginProtocol:
        protocol = OriginProtocol()
        protocol.factory = self
        return protocol


@implementer(IPushProducer, IHalfCloseableProtocol)
class OriginProtocol(Protocol):
    """One connection. Slots keep an idle or hanging connection small."""

    __slots__ = (
        "transport", "connected", "factory",  # Protocol's own attributes: slotted too, so no instance needs a __dict__
        "clock", "limits", "connection_id", "accepted_at", "peer", "reader", "record", "exchange", "script",
        "requests", "step_timer", "deadline_slot", "awaiting_body", "write_paused", "blocked_on_write", "read_pauses", "read_closed",
        "draining", "ended_by_server", "hanging", "deadline", "lingering", "ws", "outbox", "body_window_from",
    )
    factory: OriginFactory

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
        self.exchange: script.Exchange | None = None
        self.script: script.Script | None = None
        self.requests = 0
        self.step_timer: IDelayedCall | None = None  # a script's own timing (wait, every, drip, hang for): exact
        self.deadline_slot: int | None = None  # where the factory's Deadlines files this connection
        self.awaiting_body: int | None | bool = False  # False: not waiting; None: whole body; N: bytes
        self.write_paused = False
        self.blocked_on_write = False
        self.read_pauses: frozenset[str] | set[str] = _NO_PAUSES
        self.deadline: tuple[float, Callable[[], None]] | None = None
        self.read_closed = False
        self.draining = False
        self.ended_by_server: str | None = None
        self.hanging = False
        self.lingering: float | None = None  # when lingering must end, at the latest
        self.ws: WebSocketMode | None = None  # set once a script upgrades the connection
        self.outbox: bytearray | None = None  # a timed run's bytes, sent at once when it stops (see _step_timer_fired)
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
        self._handle(self.reader.feed(data))
        if self.exchange is not None:
            if self.reader.buffered > self.limits.max_buffered:
                self._pause_reading("buffer")
        else:
            self._watch_head()

    def _after_close(self, data: bytes) -> None:
        """The server is closing: nothing more is answered. The rest of a body is still
        counted (a client that sends it after a 417 did so); anything beyond it is a
        client reusing a connection the server has closed."""
        if self.lingering is not None:
            self._linger()
        record, exchange = self.record, self.exchange
        if record is None:
            return
        if exchange is None or exchange.body.complete or self.reader.in_head:
            record.bytes_after_close += len(data)
            return
        for event in self.reader.feed(data):
            if isinstance(event, BodyReceived):
                exchange.body.add(event.data)
                record.body(len(event.data))
            elif isinstance(event, BodyComplete):
                exchange.body.complete = True
                record.body_complete_with(exchange.body.sha256)
        record.bytes_after_close = self.reader.buffered

    def readConnectionLost(self) -> None:
        """The client sent FIN: it may still read, so a running script goes on."""
        self.read_closed = True
        if self.lingering is not None or self.ws is not None:
            self._lose_connection()  # the client has finished too
            return
        self._handle(self.reader.connection_closed())
        if self.exchange is None or self.hanging:
            self._lose_connection()

    def writeConnectionLost(self) -> None:  # pragma: no cover - we never half-close
        pass

    def _begin_record(self) -> None:
        self.record = ExchangeRecord(self.connection_id, 0, self.peer, self.accepted_at, self.clock.seconds)
        if self.reader.in_head:
            self.record.head_started()

    def _watch_head(self) -> None:
        """A head has begun and not ended: it must end within the head deadline of its
        first byte. (Set only now, so a head that arrives whole costs no timer work.)"""
        if (
            self.record is not None
            and self.exchange is None
            and self.ended_by_server is None
            and self.reader.in_head
            and (self.deadline is None or self.deadline[1] != self._head_timeout)
        ):
            self._set_deadline(self.limits.head_deadline, self._head_timeout)  # the head began in this turn of the reactor

    def _handle(self, events) -> None:
        for event in events:
            if isinstance(event, HeadReceived):
                self._set_deadline(None)
                self._begin_exchange(event.request)
            elif isinstance(event, BodyReceived):
                self._body_arrived(event.data)
            elif isinstance(event, BodyComplete):
                self._body_complete()
            elif isinstance(event, BodyCutShort):
                self._body_cut_short()
            elif isinstance(event, BadRequest):
                self._refuse(event.status, event.reason)

    def _body_arrived(self, data: bytes) -> None:
        assert self.exchange is not None and self.record is not None
        self.exchange.body.add(data)
        self.record.body(len(data))
        if self.awaiting_body is not False and self._body_satisfied():
            self._advance()

    def _body_complete(self) -> None:
        assert self.exchange is not None and self.record is not None
        self.exchange.body.complete = True
        self.record.body_complete_with(self.exchange.body.sha256)
        if self.awaiting_body is not False:
            self._advance()
        elif self.draining:
            self._finish_exchange()

    def _body_cut_short(self) -> None:
        """The client half-closed in the middle of the body: what arrived is all there will
        be. That is the client's doing: nothing is sent on its account, and a script waiting
        for the body goes on with what it has (it may still answer; the client may still read)."""
        if self.awaiting_body is not False:
            self._advance()
        elif self.draining:
            self._close("completed")

    def _body_satisfied(self) -> bool:
        assert self.exchange is not None
        body = self.exchange.body
        if body.complete:
            return True
        return self.awaiting_body is not None and self.awaiting_body is not False and body.length >= self.awaiting_body

    # --- starting an exchange ----------------------------------------------------

    def _begin_exchange(self, request: Request) -> None:
        if self.record is None:
            self._begin_record()
        assert self.record is not None
        state = self.factory.state
        self.requests += 1
        request_id = state.next_request_id()
        self.record.id = request_id
        routed = state.router.route(request)
        behaviour = routed.behaviour
        params: Mapping[str, object] = {}
        if behaviour is None:
            if request.path == "/" and request.method in ("GET", "HEAD"):
                steps = index.index(state.router, request.header("accept") or "")
            else:
                steps = index.not_found(state.router, request.method, request.path, routed.regex_timeouts)
                closest = state.router.closest(request.path)
                self.record.problem(f"no behaviour matched {request.method} {request.path}" + (f" (closest: {', '.join(closest)})" if closest else ""))
        else:
            try:
                params = script.resolve_params(behaviour, request.query)
                steps = state.next_script(behaviour)
            except script.ParamError as problem:
                steps = index.bad_param(str(problem))
                self.record.problem(str(problem))
        self.record.head(request, behaviour.name if behaviour else None)
        for name in routed.regex_timeouts:
            self.record.problem(f"regex_timeout: {name}")
        if self._answer_at_once(request, steps):
            return
        body = Body(self.limits.body_prefix_kept)
        if not request.has_body:  # the reader sends no BodyComplete for it
            body.complete = True
            self.record.body_complete_with(body.sha256)
        self.exchange = script.Exchange(request, request_id, params, body, self.clock.seconds)
        self.script = script.run(steps, self.exchange)
        self._advance()

    def _answer_at_once(self, request: Request, steps: tuple) -> bool:
        """The commonest exchange, done here: a request without a body, a script that is
        one fixed response, a connection that stays open. No exchange, script or
        generator is built (they were half the cost of such a request) and, unless a
        pipelined request is waiting to share the transport's buffer, the bytes go to
        the socket at once. Bytes and journal entry are the general path's;
        ``tests/test_quick_answer.py`` holds the two to that."""
        if len(steps) != 1 or request.has_body or self.write_paused:
            return False
        fixed = getattr(steps[0], "fixed", None)  # only a formatted-once respond has one
        if fixed is None or not self._may_take_another() or not script.reuse_allowed(request, fixed.connection_tokens):
            return False
        record = self.record
        assert record is not None
        record.body_complete_with(EMPTY_BODY_SHA256)
        data = fixed.message(self.clock.seconds(), head_only=request.method == "HEAD")
        if self.reader.buffered:
            self.transport.write(data)
        else:
            write_now(self.transport, data)
        record.final(fixed.status)
        if self.write_paused:  # the transport's buffer is full: the next request waits, as after any script
            body = Body(0)
            body.complete = True
            self.exchange = script.Exchange(request, record.id, script.NO_PARAMS, body, self.clock.seconds)
            script.answered_with(self.exchange, fixed)
            self.script = iter(())
            self.blocked_on_write = True
        else:
            self._finish_exchange()
        return True

    def _may_take_another(self) -> bool:
        """Whether, on our side, the connection may carry another request."""
        return not self.read_closed and not self.factory.stopping and not (self.limits.max_requests and self.requests >= self.limits.max_requests)

    # --- running the script ------------------------------------------------------

    def _advance(self) -> None:
        """Carry out commands until one has to wait."""
        self.awaiting_body = False
        self.hanging = False
        self.deadline = None
        budget = COMMANDS_PER_TURN
        while self.script is not None:
            if self.write_paused:
                self.blocked_on_write = True
                return
            budget -= 1
            if budget < 0:  # on in the next turn, after other connections' I/O and timers
                self._start_step_timer(0, self._advance)
                return
            try:
                command = next(self.script)
            except StopIteration:
                self._send_outbox()  # before the next request's answer, which may go out at once
                self._script_done()
                return
            except OSError as error:  # a body_file that went away or was swapped for a link
                log.error("script {stage} could not go on: {error}", stage=self._stage(), error=error)
                if self.record is not None:
                    self.record.problem(f"script failed at {self._stage()}: {error.strerror or error}")
                self.script = None
                self._close("server closed")
                return
            except Exception:
                log.failure("script {stage} failed", stage=self._stage())
                if self.record is not None:
                    self.record.problem(f"script failed at {self._stage()}")
                self.script = None
                self._close("server closed")
                return
            if not self._carry_out(command):
                return

    def _carry_out(self, command: script.Command) -> bool:
        """Do one command; True if the script may go straight on."""
        assert self.record is not None
        if isinstance(command, script.Send):
            if self.outbox is None:
                self.transport.write(command.data)
            else:
                self.outbox += command.data
                if len(self.outbox) >= _OUTBOX_LIMIT:  # a large body: the transport's flow control must see it
                    self._send_outbox()
            if command.frame is not None and self.ws is not None:
                self.ws.note_sent(*command.frame)
            if command.interim is not None:
                self.record.interim(command.interim)
            if command.final is not None:
                self.record.final(command.final)
                assert self.exchange is not None
                self.record.response_said_close = "close" in self.exchange.response.connection_tokens
            return True
        if isinstance(command, script.Sleep):
            self._start_step_timer(command.seconds, self._advance)
            return False
        if isinstance(command, script.AwaitBody):
            self.awaiting_body = command.bytes
            if self._body_satisfied():
                self.awaiting_body = False
                return True
            if self.read_closed:
                return True  # the client has sent all it will
            self._watch_body_rate()
            return False
        if isinstance(command, script.HangUntil):
            return self._hang(command)
        if isinstance(command, script.CloseConnection):
            self.script = None
            self._close("server closed")
            return False
        if isinstance(command, script.ResetConnection):
            self.script = None
            self._reset()
            return False
        if isinstance(command, script.SwitchToWebSocket):
            self._send_outbox()  # the 101 goes before any frame
            self.ws = WebSocketMode(self.record.now, self.transport.write, self._advance, self._end_script, self._closing)
            self._set_deadline(None)
            leftover = self.reader.take_buffered()
            if leftover:  # the client did not wait for the 101: its frames are not lost
                self.ws.feed(leftover)
            return self.script is not None
        if isinstance(command, script.AwaitMessages):
            assert self.ws is not None
            return self.ws.receive(command.count)
        if isinstance(command, script.EchoUntilClosed):
            assert self.ws is not None
            self.ws.echo()
            return False
        raise AssertionError(command)  # pragma: no cover

    def _hang(self, command: script.HangUntil) -> bool:
        if self.read_closed and command.seconds is None:
            self._lose_connection()
            return False
        self.hanging = True
        if not command.read:
            self._pause_reading("hang")
        if command.seconds is not None:
            self._set_deadline(None)  # no idle/head/body deadline applies while hanging
            self._start_step_timer(command.seconds, self._hang_over)
        else:
            self._set_deadline(self.limits.max_hang, self._hang_cut)
        return False

    def _hang_over(self) -> None:
        self._resume_reading("hang")
        self._advance()

    def _hang_cut(self) -> None:
        self.script = None
        self.ended_by_server = "hang cut"
        self.transport.abortConnection()

    def _script_done(self) -> None:
        exchange = self.exchange
        assert exchange is not None
        self.script = None
        if self.ws is not None:  # the WebSocket steps are over: so is the connection
            self._close("completed")
            return
        if not (script.keep_alive(exchange) and self._may_take_another()):
            self._close("completed")
            return
        if exchange.body.complete:
            self._finish_exchange()
            return
        sent_continue = 100 in exchange.response.interims
        if exchange.request.expects_continue and not sent_continue:
            self._close("completed")  # the client may be waiting for a 100 that will never come
            return
        self.draining = True  # read and discard the rest of the body, then go on
        self._watch_body_rate()

    def _finish_exchange(self) -> None:
        """The exchange is over and the connection persists: on to the next request."""
        self.draining = False
        self._journal("completed", "done", kept=True)
        self.exchange = None
        self._resume_reading("buffer")
        self._set_deadline(self.limits.idle_timeout, self._idle_timeout)
        if self.reader.has_partial_head:
            self._begin_record()
        self._handle(self.reader.next_request())
        self._watch_head()

    # --- ending --------------------------------------------------------------

    def _closing(self) -> bool:
        return self.ended_by_server is not None

    def _end_script(self, how: str) -> None:
        self.script = None
        self._close(how)

    def _close(self, how: str) -> None:
        """A graceful close: FIN once written bytes are flushed, then a lingering read
        (RFC 9112 §9.6), so a client still sending gets no RST that could destroy the
        response it has not read yet, and what it sends is still journaled."""
        self._send_outbox()  # what the script sent goes before the FIN
        self.ended_by_server = "completed" if how == "completed" else "server closed"
        self._cancel_all_timers()
        lose_write = getattr(self.transport, "loseWriteConnection", None)
        if lose_write is None or self.read_closed:
            self._lose_connection()
            return
        self._unregister_producer()  # else a paused producer holds the FIN back (see _lose_connection)
        lose_write()
        self.lingering = self.clock.seconds() + self.limits.max_linger
        self.read_pauses = _NO_PAUSES
        self.transport.resumeProducing()
        self._linger()

    def _linger(self) -> None:
        """Close once the client has been silent for ``linger``, or at ``max_linger`` whatever it does."""
        assert self.lingering is not None
        self._set_deadline(min(self.limits.linger, self.lingering - self.clock.seconds()), self._lose_connection)

    def _lose_connection(self) -> None:
        """FIN once the written bytes have left. Twisted completes a close only when no
        paused producer is registered: with ours paused (a large echo or body filled its
        buffer) it resumes the producer instead and the FIN waited for the next deadline."""
        self._unregister_producer()
        self.transport.loseConnection()

    def _unregister_producer(self) -> None:
        if getattr(self.transport, "producer", None) is self:
            self.transport.unregisterProducer()

    def _reset(self) -> None:
        """An abortive close (RST), after what was written has left."""
        self._send_outbox()  # what the script sent goes before the RST
        self.ended_by_server = "server reset"
        self._cancel_all_timers()
        self._resume_reading("hang")
        abort_when_flushed(self.transport)

    def _refuse(self, status: int, reason: str) -> None:
        """A request we cannot read: the right 4xx/5xx, then close."""
        if self.record is None:
            self._begin_record()
        assert self.record is not None
        self.record.problem(f"{status} {reason}")
        self.script = None
        started = self.exchange is not None and self.exchange.response.final_status is not None
        if not started:
            self.transport.write(index.protocol_error(status, reason))
            self.record.final(status)
        self._close("server closed")

    def _head_timeout(self) -> None:
        self._refuse(408, "request head not received in time")

    def _watch_body_rate(self) -> None:
        """While the body is awaited, each ``body_timeout`` window must bring at least
        ``body_min_rate`` bytes a second (and at least one byte): a slow-body client is
        answered 408 and let go instead of holding the connection for ever."""
        assert self.exchange is not None
        self.body_window_from = self.exchange.body.length
        self._set_deadline(self.limits.body_timeout, self._body_window_over)

    def _body_window_over(self) -> None:
        assert self.exchange is not None
        limits = self.limits
        arrived = self.exchange.body.length - self.body_window_from
        needed = max(1, int(limits.body_min_rate * limits.body_timeout))
        if arrived >= needed:
            self._watch_body_rate()
        else:
            self._refuse(408, f"request body too slow: {arrived} byte{'' if arrived == 1 else 's'} in {limits.body_timeout:g} s, at least {needed} needed")

    def _idle_timeout(self) -> None:
        self._close("server closed")

    def describe(self, now: float) -> dict:
        """Where this connection stands, for the control API."""
        exchange = self.exchange
        return {
            "connection": self.connection_id,
            "client": self.peer,
            "open_for": round(now - self.accepted_at, 3),
            "requests": self.requests,
            "stage": self._stage(),
            "behaviour": self.record.behaviour if self.record is not None else None,
            "request": None if exchange is None else f"{exchange.request.method} {exchange.request.target}",
            "request_id": None if exchange is None else exchange.request_id,
        }

    def stop_gracefully(self) -> None:
        """Called on shutdown: idle connections close now, running scripts finish first."""
        if self.exchange is None and self.record is None and self.lingering is None:
            self.ended_by_server = "server closed"
            self._cancel_all_timers()
            self._lose_connection()  # no response to protect: no lingering

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._cancel_all_timers()
        self.factory.deadlines.forget(self)
        if self.script is not None:
            self.script.close()
            self.script = None
        how = self.ended_by_server
        if how is None:
            how = "client reset" if reason.check(net_error.ConnectionLost) else "client closed"
        if self.ws is not None and self.record is not None:
            self.record.websocket = self.ws.summary(how)
        stage = self._stage()
        if self.record is not None or self.requests == 0:
            if self.record is None:
                self.record = ExchangeRecord(self.connection_id, 0, self.peer, self.accepted_at, self.clock.seconds)
            self._journal(how, stage)
        self.factory.forget(self)

    def _stage(self) -> str:
        if self.exchange is not None:
            return "draining body" if self.draining else self.exchange.stage
        if self.reader.has_partial_head:
            return "head"
        return "idle"

    def _journal(self, how: str, stage: str, kept: bool = False) -> None:
        record, self.record = self.record, None
        if record is None:
            return
        record.ended(how, stage, kept)
        self.factory.journal.add(record)

    # --- producer (writes) and reading pauses ------------------------------------

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
        self.read_pauses = self.read_pauses | {why}

    def _resume_reading(self, why: str) -> None:
        if why in self.read_pauses:
            self.read_pauses = self.read_pauses - {why} or _NO_PAUSES
            if not self.read_pauses:
                self.transport.resumeProducing()

    # --- timers ------------------------------------------------------------------

    def _set_deadline(self, seconds: float | None, action: Callable[[], None] | None = None) -> None:
        """The idle, head, body, linger and hang-cut limits: one applies at a time, kept
        coarsely by the factory's ``Deadlines`` (see there why)."""
        if seconds is None or action is None:
            self.deadline = None
            return
        at = self.clock.seconds() + seconds
        self.deadline = (at, action)
        self.factory.deadlines.watch(self, at)

    def deadline_reached(self, now: float) -> None:
        if self.deadline is None:
            return
        at, action = self.deadline
        if at > now + 1e-6:
            self.factory.deadlines.watch(self, at)
        else:
            self.deadline = None
            action()

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

    def _send_outbox(self) -> None:
        outbox = self.outbox
        if outbox:
            self.outbox = bytearray()
            write_now(self.transport, bytes(outbox))

    def _cancel_step_timer(self) -> None:
        timer, self.step_timer = self.step_timer, None
        if timer is not None and timer.active():
            timer.cancel()

    def _cancel_all_timers(self) -> None:
        self._cancel_step_timer()
        self.deadline = None
