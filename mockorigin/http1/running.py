"""Running one exchange on an HTTP/1.1 connection: the interpreter's commands, carried out.

A request head starts an exchange: the behaviour is chosen, its script started,
and ``_advance`` carries out commands until one has to wait. Each command type
has one small handler (``_HANDLERS``); those that put bytes on the wire render
them through the exchange's ``response.Response``, which remembers what went
out. The commonest exchange (no request body, a script that is one fixed
response, a connection that stays open) is answered at once by
``_answer_at_once``, to the same effect without a script.
"""

from __future__ import annotations


from twisted.logger import Logger

from mockorigin import interpreter
from mockorigin.http1.fixed import fixed_response
from mockorigin.http1.response import Response, reuse_allowed
from mockorigin.interpreter import commands as c
from mockorigin.interpreter.bodymatch import EmptyBody
from mockorigin.interpreter.choose import choose
from mockorigin.interpreter.request import EMPTY_BODY_SHA256, Body, Request
from mockorigin.transport.tcpwrite import write_now

log = Logger()

# Commands one connection may carry out in one turn of the reactor: whatever a behaviour asks
# (a drip of one byte every 0 ms over 1 MiB is a million writes), the others get their turn.
COMMANDS_PER_TURN = 256


class ExchangeRunner:
    """The part of ``OriginProtocol`` that runs exchanges (its state is declared there)."""

    __slots__ = ()

    # --- starting an exchange ----------------------------------------------------

    def _begin_exchange(self, request: Request) -> None:
        if self.record is None:
            self._begin_record()
        record = self.record
        state = self.factory.state
        self.requests += 1
        request_id = state.next_request_id()
        record.id = request_id
        routed = state.router.route(request)
        if routed.needs_body:
            if request.has_body:
                self._route_after_body(request, request_id)
                return
            routed = state.router.route(request, EmptyBody())
        behaviour, steps, params = self._chosen(request, routed)
        record.head(request, behaviour.name if behaviour else None)
        if self._answer_at_once(request, steps):
            return
        body = Body(self.limits.body_prefix_kept)
        if not request.has_body:  # the reader sends no BodyComplete for it
            body.complete = True
            record.body_complete_with(body.sha256)
        self.exchange = interpreter.Exchange(request, request_id, params, body, self.clock.seconds)
        self.response = Response(request.method == "HEAD")
        self.script = interpreter.run(steps, self.exchange)
        self._advance()

    def _chosen(self, request: Request, routed) -> tuple:
        """(behaviour or None, its steps, params) for a routed request; sets the limits, notes problems."""
        choice = choose(self.factory.state, request, routed)
        for problem in choice.problems:
            self.record.problem(problem)
        self.limits = self.factory.limits_for(choice.behaviour)
        return choice.behaviour, choice.steps, choice.params

    def _route_after_body(self, request: Request, request_id: int) -> None:
        """A behaviour here tests the body: read it (up to the kept prefix, under the server's body limits),
        then choose. Nothing is sent meanwhile, not even a 100: an Expect client must give up and send it."""
        self.record.head(request, None)
        self.limits = self.factory.limits_for(None)
        body = Body(self.limits.body_prefix_kept)
        self.exchange = interpreter.Exchange(request, request_id, interpreter.NO_PARAMS, body, self.clock.seconds)
        self.exchange.stage = "routing"
        self.response = Response(request.method == "HEAD")
        self.script = self._routed_with_body(request)
        self._advance()

    def _routed_with_body(self, request: Request):
        """The script of an exchange routed on its body: wait for it, choose, run the choice."""
        exchange = self.exchange
        yield c.AwaitBody(self.limits.body_prefix_kept)
        behaviour, steps, exchange.params = self._chosen(request, self.factory.state.router.route(request, exchange.body))
        self.record.behaviour = behaviour.name if behaviour else None
        yield from interpreter.run(steps, exchange)

    def _answer_at_once(self, request: Request, steps: tuple) -> bool:
        """The commonest exchange, done here: a request without a body, a script that is
        one fixed response, a connection that stays open. No exchange, script or
        generator is built (they were half the cost of such a request) and, unless a
        pipelined request is waiting to share the transport's buffer, the bytes go to
        the socket at once. Bytes and journal entry are the general path's;
        ``tests/test_quick_answer.py`` holds the two to that."""
        if len(steps) != 1 or request.has_body or self.write_paused:
            return False
        cache = getattr(steps[0], "cache", None)  # only a respond step has one
        fixed = None if cache is None else fixed_response(steps[0])
        if fixed is None or not self._may_take_another() or not reuse_allowed(request, fixed.connection_tokens):
            return False
        head_only = request.method == "HEAD"
        if not fixed.framed[head_only]:  # no framing: the close delimits the body, so a script runs it
            return False
        now = self.clock.seconds()
        data = fixed.message(now, head_only)
        record = self.record
        record.body_complete_with(EMPTY_BODY_SHA256)
        if self.reader.buffered:
            self.transport.write(data)
        else:
            write_now(self.transport, data)
        record.final(fixed.status)
        if self.write_paused:  # the transport's buffer is full: the next request waits, as after any script
            body = Body(0)
            body.complete = True
            self.exchange = interpreter.Exchange(request, record.id, interpreter.NO_PARAMS, body, self.clock.seconds)
            self.exchange.stage = interpreter.stage_name(1, type(steps[0]))
            self.response = Response(head_only)
            self.response.whole(fixed, now)  # what the general path's response knows after sending it
            self.script = iter(())
            self.blocked_on_write = True
        else:
            self._finish_exchange()
        return True

    def _may_take_another(self) -> bool:
        """Whether, on our side, the connection may carry another request."""
        return self._why_no_more() is None

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
                self.record.problem(f"script failed at {self._stage()}: {error.strerror or error}")
                self.script = None
                self._close("server closed", "the script failed")
                return
            except Exception:
                log.failure("script {stage} failed", stage=self._stage())
                self.record.problem(f"script failed at {self._stage()}")
                self.script = None
                self._close("server closed", "the script failed")
                return
            if not _HANDLERS[type(command)](self, command):
                return

    # Each handler carries out one command; True if the script may go straight on.

    def _send_interim(self, command: c.Interim) -> bool:
        data = self.response.interim(command, self.exchange.request.version)
        if data is None:
            self.record.interim_withheld(command.status)
        else:
            self._write(data)
            self.record.interim(command.status)
        return True

    def _send_final_head(self, command: c.FinalHead) -> bool:
        self._write(self.response.final_head(command))
        self._noted_final()
        return True

    def _send_whole(self, command: c.WholeResponse) -> bool:
        self._write(self.response.whole(fixed_response(command.step), self.clock.seconds()))
        self._noted_final()
        return True

    def _noted_final(self) -> None:
        response = self.response
        self.record.final(response.final_status)
        self.record.response_said_close = "close" in response.connection_tokens

    def _send_body(self, command: c.BodyBytes) -> bool:
        self._write(self.response.body(command))
        return True

    def _send_end(self, command: c.EndBody) -> bool:
        self._write(self.response.end(command))
        return True

    def _send_raw(self, command: c.Raw) -> bool:
        self._write(self.response.raw_bytes(command))
        return True

    def _sleep(self, command: c.Sleep) -> bool:
        self._start_step_timer(command.seconds, self._advance)
        return False

    def _await_body(self, command: c.AwaitBody) -> bool:
        self.awaiting_body = command.bytes
        if self._body_satisfied():
            self.awaiting_body = False
            return True
        if self.read_closed:
            return True  # the client has sent all it will
        self._watch_body_rate()
        return False

    def _hang(self, command: c.Hang) -> bool:
        if self.read_closed and command.seconds is None:
            self._lose_connection()
            return False
        self.hanging = "until data" if command.until_data else True
        if not command.read:
            self._pause_reading("hang")
        if command.seconds is not None:
            self._set_deadline(None)  # no idle/head/body deadline applies while hanging
            self._start_step_timer(command.seconds, self._hang_over)
        else:
            self._set_deadline(self.limits.max_hang, self._hang_cut)
            if not command.until_data:  # nothing resumes this script (only a cut or the client ends it): its frames go now
                self.script.close()
                self.script = None
                if self.response.final_status is None:  # and a response not begun reads as none (see _refuse)
                    self.response = None
        return False

    def _hang_over(self) -> None:
        self._resume_reading("hang")
        self._advance()

    def _unread_body(self, command: c.UnreadBody) -> bool:
        self.response.unread_body = command.policy
        return True

    def _do_close(self, command: c.Close) -> bool:
        self.script = None
        self._close("server closed", "the script's close step")
        return False

    def _do_reset(self, command: c.Reset) -> bool:
        self.script = None
        self._reset("the script's reset step")
        return False

    def _switch_to_websocket(self, command: c.SwitchToWebSocket) -> bool:
        from mockorigin.websocket.mode import WebSocketMode

        self._send_outbox()  # the 101 goes before any frame
        self.ws = WebSocketMode(self.record.now, self._write, self._advance, self._end_script, self._closing)  # in order with the script's own bytes
        self._set_deadline(None)
        leftover = self.reader.take_buffered()
        if leftover:  # the client did not wait for the 101: its frames are not lost
            self.ws.feed(leftover)
        return self.script is not None

    def _send_frame(self, command: c.Frame) -> bool:
        self._write(self.ws.scripted_frame(command))
        return True

    def _await_messages(self, command: c.AwaitMessages) -> bool:
        return self.ws.receive(command.count)

    def _echo(self, command: c.EchoUntilClosed) -> bool:
        self.ws.echo()
        return False

    # --- the request body ----------------------------------------------------------

    def _body_arrived(self, data: bytes) -> None:
        if self.draining and not self.exchange.body.length:
            self._next_request_instead_of_body(data)  # discarded all the same (unread_body: discard), but journaled
        self.exchange.body.add(data)
        self.record.body(len(data))
        if self.awaiting_body is not False and self._body_satisfied():
            self._advance()

    def _body_complete(self) -> None:
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
            self._close("completed", "the client half-closed in the middle of the body")

    def _body_satisfied(self) -> bool:
        body = self.exchange.body
        if body.complete:
            return True
        return self.awaiting_body is not None and self.awaiting_body is not False and body.length >= self.awaiting_body

    def _watch_body_rate(self) -> None:
        """While the body is awaited, each ``body_timeout`` window must bring at least
        ``body_min_rate`` bytes a second (and at least one byte): a slow-body client is
        answered 408 and let go instead of holding the connection for ever."""
        self.body_window_from = self.exchange.body.length
        self._set_deadline(self.limits.body_timeout, self._body_window_over)

    def _body_window_over(self) -> None:
        limits = self.limits
        arrived = self.exchange.body.length - self.body_window_from
        needed = max(1, int(limits.body_min_rate * limits.body_timeout))
        if arrived >= needed:
            self._watch_body_rate()
        else:
            self._refuse(408, f"request body too slow: {arrived} byte{'' if arrived == 1 else 's'} in {limits.body_timeout:g} s, at least {needed} needed", "body_min_rate")

    # --- after the script ------------------------------------------------------------

    def _script_done(self) -> None:
        exchange, response = self.exchange, self.response
        self.script = None
        if self.ws is not None:  # the WebSocket steps are over: so is the connection
            self._close("completed", "the WebSocket steps are over")
            return
        why = response.why_not_persistent(exchange.request) or self._why_no_more()
        if why is not None:
            self._close("completed", why)
            return
        if exchange.body.complete:
            self._finish_exchange()
            return
        policy = response.unread_body
        if policy is None and exchange.request.expects_continue and 100 not in response.interims:
            self._close("completed", "an Expect request was answered without a 100: its body may never come")
            return
        if policy == "close":
            self._close("completed", "unread_body: close")
            return
        if policy == "skip":  # the client will not send the body: the next bytes are its next request
            if self.reader.skip_body():
                self._finish_exchange()
            else:
                self._close("completed", "unread_body: skip, but more body had come than can be read again as a request")
            return
        self.draining = True  # read and discard the rest of the body, then go on
        self._watch_body_rate()

    def _why_no_more(self) -> str | None:
        """Why, on our side, the connection may not carry another request."""
        if self.read_closed:
            return "the client had half-closed"
        if self.factory.stopping:
            return "the server is shutting down"
        if self.limits.max_requests and self.requests >= self.limits.max_requests:
            return f"{self.requests} requests on this connection (limit: max_requests)"
        return None

    def _finish_exchange(self) -> None:
        """The exchange is over and the connection persists: on to the next request."""
        self.draining = False
        self._journal("completed", "done", kept=True)
        self.exchange = self.response = None
        self._resume_reading("buffer")
        self._set_deadline(self.limits.idle_timeout, self._idle_timeout)
        if self.reader.has_partial_head:
            self._begin_record(at=self.pipelined_at)
        self.pipelined_at = None
        self._handle(self.reader.next_request())
        self._watch_head()


_HANDLERS = {
    c.Interim: ExchangeRunner._send_interim,
    c.FinalHead: ExchangeRunner._send_final_head,
    c.WholeResponse: ExchangeRunner._send_whole,
    c.BodyBytes: ExchangeRunner._send_body,
    c.EndBody: ExchangeRunner._send_end,
    c.Raw: ExchangeRunner._send_raw,
    c.Sleep: ExchangeRunner._sleep,
    c.AwaitBody: ExchangeRunner._await_body,
    c.Hang: ExchangeRunner._hang,
    c.UnreadBody: ExchangeRunner._unread_body,
    c.Close: ExchangeRunner._do_close,
    c.Reset: ExchangeRunner._do_reset,
    c.SwitchToWebSocket: ExchangeRunner._switch_to_websocket,
    c.Frame: ExchangeRunner._send_frame,
    c.AwaitMessages: ExchangeRunner._await_messages,
    c.EchoUntilClosed: ExchangeRunner._echo,
}
