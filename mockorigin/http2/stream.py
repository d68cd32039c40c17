"""One HTTP/2 stream: a request, its script, and the interpreter's commands as frames.

Each command has one handler (``_HANDLERS``), as on HTTP/1.1; they differ in form:

- ``Interim`` is a HEADERS frame with a 1xx ``:status``; ``FinalHead`` a HEADERS
  frame; ``BodyBytes`` DATA frames, sent as the client's flow-control windows
  allow (the script waits while they are full); ``EndBody`` the trailers (or an
  empty DATA frame) with END_STREAM; ``WholeResponse`` HEADERS and DATA.
- Fields that only HTTP/1.1 has (Connection, Keep-Alive, Transfer-Encoding,
  Upgrade, Proxy-Connection) are left out, as RFC 9113 §8.2.2 requires; to send
  them anyway, a script writes its own HEADERS with an ``h2`` step.
- ``hang`` is the stream's: the connection goes on serving other streams;
  ``read: false`` stops granting the stream flow-control window, the HTTP/2 form
  of TCP pushing back. ``close`` is the connection's (GOAWAY, then FIN); ``reset``
  too (an RST of TCP); ``h2: {rst_stream}`` resets the stream alone.
- When the script ends, a response that is whole (by the HTTP/1.1 rules of its
  Content-Length) ends the stream with END_STREAM; one that is not (no final
  response, a body shorter than announced) is reset with INTERNAL_ERROR, the
  stream's form of an HTTP/1.1 connection closing on a truncated response.
"""

from __future__ import annotations

from twisted.logger import Logger

from mockorigin.http2 import frames
from mockorigin.http2.response import OutgoingResponse
from mockorigin.interpreter import commands as c

log = Logger()
COMMANDS_PER_TURN = 256
INTERNAL_ERROR, NO_ERROR, REFUSED_STREAM, CANCEL = 2, 0, 7, 8


class Stream:
    def __init__(self, connection, stream_id: int, record, exchange, script, limits):
        self.connection = connection
        self.id = stream_id
        self.record = record
        self.exchange = exchange
        self.script = script
        self.limits = limits
        self.response = OutgoingResponse(exchange.request.method == "HEAD")
        self.timer = None
        self.awaiting_body: int | None | bool = False
        self.hanging: bool | str = False
        self.holding_window = False  # hang read: false: no WINDOW_UPDATE for this stream's DATA
        self.unacknowledged = 0
        self.blocked = False  # waiting for window (or the transport) before going on
        self.local_ended = False  # END_STREAM or RST_STREAM sent
        self.remote_ended = exchange.body.complete
        self.reset_how: str | None = None
        self.draining = False
        self.updates_at_start = connection.window_updates
        self.window_updates = 0
        self.crafted = False  # an h2 step wrote frames past the library: the client's verdict is worth waiting for
        self.refused_as: str | None = None  # how the server refused the stream (the client should retry it)
        self.retry_of: int | None = None  # the journal id of a refused request this one repeats

    # --- running --------------------------------------------------------------------

    def advance(self) -> None:
        self.awaiting_body = False
        self.hanging = False
        budget = COMMANDS_PER_TURN
        while self.script is not None:
            if self.connection.write_paused or self.response.pending:
                self.blocked = True
                return
            budget -= 1
            if budget < 0:
                self._start_timer(0, self.advance)
                return
            try:
                command = next(self.script)
            except StopIteration:
                self.script = None
                self.script_done()
                return
            except OSError as error:  # a body_file that went away or was swapped for a link
                self.record.problem(f"script failed at {self.exchange.stage}: {error.strerror or error}")
                self.script = None
                self.reset(INTERNAL_ERROR, "the script failed")
                return
            except Exception:
                log.failure("script {stage} failed", stage=self.exchange.stage)
                self.record.problem(f"script failed at {self.exchange.stage}")
                self.script = None
                self.reset(INTERNAL_ERROR, "the script failed")
                return
            handler = _HANDLERS.get(type(command))
            if handler is None:
                self.record.problem(f"{type(command).__name__} has no HTTP/2 form: skipped")
                continue
            if not handler(self, command):
                return

    def _start_timer(self, seconds: float, action) -> None:
        self.cancel_timer()
        self.timer = self.connection.clock.callLater(seconds, self._timer_fired, action)

    def _timer_fired(self, action) -> None:
        self.timer = None
        action()
        self.connection.flush()

    def cancel_timer(self) -> None:
        timer, self.timer = self.timer, None
        if timer is not None and timer.active():
            timer.cancel()

    def _h2(self, call, *args, **kwargs) -> bool:
        """A call into the h2 library that sends something; False (and a journal problem) if it refused."""
        try:
            call(*args, **kwargs)
        except Exception as error:  # h2's ProtocolError or StreamClosedError: the frame is not sent
            self.record.problem(f"h2 would not send it at {self.exchange.stage}: {error}")
            return False
        return True

    # --- the commands ------------------------------------------------------------------

    def _interim(self, command: c.Interim) -> bool:
        if self.local_ended:
            return True
        fields = [(":status", str(command.status)), *self.response.h2_fields(command.headers)]
        if self._h2(self.connection.h2.send_headers, self.id, fields):
            self.record.interim(command.status)
        return True

    def _final_head(self, command: c.FinalHead) -> bool:
        if self.local_ended:
            return True
        fields, end = self.response.final(command)
        if self._h2(self.connection.h2.send_headers, self.id, fields, end_stream=end):
            self._noted_final(end)
        return True

    def _whole(self, command: c.WholeResponse) -> bool:
        if self.local_ended:
            return True
        fields, body = self.response.whole(command.step, self.connection.clock.seconds())
        end = not body
        if self._h2(self.connection.h2.send_headers, self.id, fields, end_stream=end):
            self._noted_final(end)
            if body:
                self.response.queue(body, end=True)
                self.connection.pump(self)
        return True

    def _noted_final(self, ended: bool) -> None:
        self.record.final(self.response.final_status)
        self.record.response_said_close = self.response.said_close
        if ended:
            self.local_ended = True

    def _body(self, command: c.BodyBytes) -> bool:
        if self.local_ended or not command.data:
            return True
        self.response.queue(command.data, end=self.response.ends_with(command.data))
        if self.connection.pump(self):
            return True
        self.blocked = True  # on with the script once window updates have let it all go
        return False

    def _end(self, command: c.EndBody) -> bool:
        if not self.local_ended:
            self.response.queue_end(command.trailers)
            self.connection.pump(self)
        return True

    def _raw(self, command: c.Raw) -> bool:
        self.connection.write_raw(command.data)
        return True

    def _sleep(self, command: c.Sleep) -> bool:
        self._start_timer(command.seconds, self.advance)
        return False

    def _await_body(self, command: c.AwaitBody) -> bool:
        self.awaiting_body = command.bytes
        if self._body_satisfied():
            self.awaiting_body = False
            return True
        self._start_timer(self.limits.body_timeout, self._body_too_slow)
        return False

    def _hang(self, command: c.Hang) -> bool:
        self.hanging = "until data" if command.until_data else True
        if not command.read:
            self.holding_window = True
        if command.seconds is not None:
            self._start_timer(command.seconds, self._hang_over)
        else:
            self._start_timer(self.limits.max_hang, self._hang_cut)
        return False

    def _hang_over(self) -> None:
        self.holding_window = False
        self.connection.acknowledge(self)
        self.advance()

    def _hang_cut(self) -> None:
        self.reset(CANCEL, f"an open-ended hang was cut at {self.limits.max_hang:g} s (limit: max_hang)", how="hang cut")

    def _unread_body(self, command: c.UnreadBody) -> bool:
        self.response.unread_body = command.policy
        return True

    def _close(self, command: c.Close) -> bool:
        self.script = None
        self.connection.close("server closed", "the script's close step", close_notify=command.close_notify)
        return False

    def _reset_connection(self, command: c.Reset) -> bool:
        self.script = None
        self.connection.reset("the script's reset step")
        return False

    def _h2_headers(self, command: c.H2Headers) -> bool:
        self.crafted = True
        self.connection.write_frames(frames.headers(self.id, command.status, command.headers, command.end_stream))
        if command.status < 200:
            self.record.interim(command.status)
        else:
            self.response.final_status = command.status
            self._noted_final(False)
        if command.end_stream:
            self.local_ended = True
        return True

    def _h2_data(self, command: c.H2Data) -> bool:
        self.crafted = True
        self.connection.write_frames(frames.data(self.id, command.data, command.end_stream))
        self.response.body_sent += len(command.data)
        if command.end_stream:
            self.local_ended = True
        return True

    def _h2_rst_stream(self, command: c.H2RstStream) -> bool:
        self.script = None
        self.reset(command.code, f"the script's rst_stream step ({frames.error_name(command.code)})")
        return False

    def _h2_goaway(self, command: c.H2GoAway) -> bool:
        self.connection.goaway(command.code, self._last_stream_id(command.last_stream_id), command.debug)
        return True

    def _last_stream_id(self, given: int | str) -> int:
        if isinstance(given, int):
            return given
        return {"this": self.id, "below": max(self.id - 2, 0)}.get(given, self.connection.highest_stream)

    # --- the request body ----------------------------------------------------------------

    def body_arrived(self, data: bytes) -> None:
        if self.exchange.body.complete:
            return
        self.exchange.body.add(data)
        self.record.body(len(data))
        if self.hanging == "until data":
            self.cancel_timer()
            self._hang_over()
        elif self.awaiting_body is not False and self._body_satisfied():
            self.cancel_timer()
            self.advance()
        elif self.draining:
            self._start_timer(self.limits.body_timeout, self._body_too_slow)

    def body_ended(self) -> None:
        self.remote_ended = True
        body = self.exchange.body
        if not body.complete:
            body.complete = True
            self.record.body_complete_with(body.sha256)
        if self.awaiting_body is not False or self.hanging == "until data":
            self.cancel_timer()
            self.advance()
        elif self.draining:
            self.cancel_timer()
            self.draining = False
            self.maybe_finish()

    def _body_satisfied(self) -> bool:
        body = self.exchange.body
        return body.complete or (self.awaiting_body not in (None, False) and body.length >= self.awaiting_body)

    def _body_too_slow(self) -> None:
        """No request body in ``body_timeout``: a 408 if no final response went out, and the stream ends."""
        self.record.problem(f"408 request body not received in {self.limits.body_timeout:g} s (limit: body_timeout)")
        self.script = None
        if self.response.final_status is None and not self.local_ended:
            self._h2(self.connection.h2.send_headers, self.id, [(":status", "408"), ("content-length", "0")], end_stream=True)
            self.record.final(408)
            self.local_ended = True
        self.reset(NO_ERROR, "the request body was too slow (limit: body_timeout)")

    # --- ending ----------------------------------------------------------------------------

    def script_done(self) -> None:
        """The script is over: end our side of the stream, then decide about the request body."""
        if self.connection.raw_written:
            self.connection.close("completed", "the script sent raw bytes: the framing is unknown")
            return
        if not self.local_ended:
            why = self.response.why_incomplete()
            if why is not None:
                self.reset(INTERNAL_ERROR, why)
                return
            self.response.queue_end([])
            self.connection.pump(self)
        if not self.remote_ended:
            policy = self.response.unread_body
            if policy is None and self.exchange.request.expects_continue and all(status != 100 for status, _at in self.record.interims):
                policy = "close"
            if policy in ("close", "skip"):  # RFC 9113 §8.1: a complete response, then RST_STREAM(NO_ERROR) stops the upload
                self.reset(NO_ERROR, f"the request body was not read (unread_body: {policy})", how="completed")
                return
            self.draining = True
            self._start_timer(self.limits.body_timeout, self._body_too_slow)
        self.maybe_finish()

    def reset(self, code: int, why: str, how: str = "server reset") -> None:
        """RST_STREAM with ``code``: the stream is over on both sides."""
        self.cancel_timer()
        self.script = None
        if not (self.local_ended and self.remote_ended) or self.response.pending:
            self.response.drop()
            if not self._h2(self.connection.h2.reset_stream, self.id, code):
                self.connection.write_frames(frames.rst_stream(self.id, code))
        self.local_ended = True
        self.remote_ended = True
        self.record.server_ended("RST_STREAM", self.exchange.stage, why)
        self.reset_how = how
        if code == REFUSED_STREAM:
            self.connection.refused(self, "RST_STREAM(REFUSED_STREAM)")
        self.finish(how, f"RST_STREAM({frames.error_name(code)}) from the server")

    def client_reset(self, code: int) -> None:
        self.record.client_reset(self.exchange.stage)
        self.cancel_timer()
        if self.script is not None:
            self.script.close()
            self.script = None
        self.local_ended = self.remote_ended = True
        self.response.drop()
        self.finish("client reset", f"RST_STREAM({frames.error_name(code)}) from the client")

    def maybe_finish(self) -> None:
        if self.script is None and self.local_ended and not self.response.pending and self.remote_ended:
            if self.crafted:  # a client that rejects what it got resets the stream: give it ``linger`` to say so
                self.crafted = False
                self._start_timer(self.limits.linger, self.maybe_finish)
            elif self.timer is None:
                self.finish("completed", "END_STREAM both ways")

    def finish(self, how: str, ended: str, kept: bool = True) -> None:
        """Journal the stream (once) and forget it."""
        if self.connection.streams.pop(self.id, None) is None:
            return
        self.cancel_timer()
        self.record.h2 = self.facts(ended)
        self.record.ended(how, "done" if how == "completed" else self.exchange.stage, kept and how == "completed")
        self.connection.journal(self.record)
        if self.response.said_close:
            self.connection.close_when_idle("the response said Connection: close")

    def facts(self, ended: str) -> dict:
        connection = self.connection
        return {
            "stream": self.id,
            "ended": ended,
            "client_settings": dict(connection.client_settings),
            "window_updates": {"stream": self.window_updates, "connection": connection.window_updates - self.updates_at_start},
            "refused": self.refused_as,
            "retry_of": self.retry_of,
            "client_goaway": connection.client_goaway,
        }


_HANDLERS = {
    c.Interim: Stream._interim,
    c.FinalHead: Stream._final_head,
    c.WholeResponse: Stream._whole,
    c.BodyBytes: Stream._body,
    c.EndBody: Stream._end,
    c.Raw: Stream._raw,
    c.Sleep: Stream._sleep,
    c.AwaitBody: Stream._await_body,
    c.Hang: Stream._hang,
    c.UnreadBody: Stream._unread_body,
    c.Close: Stream._close,
    c.Reset: Stream._reset_connection,
    c.H2Headers: Stream._h2_headers,
    c.H2Data: Stream._h2_data,
    c.H2RstStream: Stream._h2_rst_stream,
    c.H2GoAway: Stream._h2_goaway,
}
