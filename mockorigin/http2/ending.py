"""Ending an HTTP/2 connection, and what the control API and journal say of one.

``close`` is the graceful form: GOAWAY(NO_ERROR) naming the last stream seen
(unless a GOAWAY went out already), then FIN once the written bytes have left
(close_notify first over TLS, unless the script asked for a truncation), then a
lingering read so a client still sending does not turn the FIN into an RST.
``close_when_idle`` sends the GOAWAY now and the FIN when the open streams are
done (a shutdown, a response that said ``Connection: close``). ``reset`` is an
RST of TCP after what was written; ``abort`` an RST now.
"""

from __future__ import annotations

from mockorigin.observe.record import ExchangeRecord
from mockorigin.transport.tcpwrite import abort_when_flushed


class H2Ending:
    """The part of ``H2OriginProtocol`` that ends connections (its state is set there)."""

    def _journal_connection(self, how: str, reset: bool) -> None:
        record = ExchangeRecord(self.connection_id, 0, self.peer, self.accepted_at, self.clock)
        record.protocol, record.tls = self.name, self.tls
        record.h2 = {"stream": None, "ended": how, "client_settings": dict(self.client_settings), "window_updates": {"stream": 0, "connection": self.window_updates},
                     "refused": None, "retry_of": None, "client_goaway": self.client_goaway}
        for problem in self.problems:
            record.problem(problem)
        if self.server_end is not None:
            signal, at, why = self.server_end
            record.server_ended(signal, "idle", why, at)
        elif reset:
            record.client_reset("idle")
        else:
            record.client_closed("idle")
        record.ended(how, "idle")
        self.factory.journal.add(record)

    def _summary(self, how: str, reset: bool) -> tuple:
        """The connection's lifecycle, as ``http1.factory.closed_entry`` makes it a dict when asked."""
        now = self.clock.seconds() - self.accepted_at
        if self.server_end is not None:
            by, signal, at, why = "server", self.server_end[0], self.server_end[1], self.server_end[2]
        else:
            by, signal, at, why = "client", "RST" if reset else "FIN", now, None
        return (self.connection_id, self.peer, self.accepted_at, now, self.requests, by, signal, at, why, self.name)

    def close_when_idle(self, why: str) -> None:
        """GOAWAY now (no new streams), FIN once the open streams are done."""
        if self.ended_by_server is not None or self.closing_why is not None:
            return
        self.closing_why = why
        self.goaway(0, self.highest_stream)
        self.flush()
        if not self.streams:
            self.close("completed", why)

    def stop_gracefully(self) -> None:
        self.close_when_idle("the server is shutting down")

    def close(self, how: str, why: str, close_notify: bool = True, goaway: bool = True) -> None:
        """GOAWAY (unless sent), then FIN once written bytes have left; read on for ``linger``."""
        if self.ended_by_server is not None:
            return
        if goaway and self.goaway_last is None:
            self.goaway(0, self.highest_stream)
        self.flush()
        self.ended_by_server = "completed" if how == "completed" else "server closed"
        self.server_end = ("FIN", self.clock.seconds() - self.accepted_at, why)
        for stream in self.streams.values():
            stream.cancel_timer()
            stream.record.server_ended("FIN", stream.exchange.stage, why)
        if not close_notify and hasattr(self.transport, "truncate"):
            self.transport.truncate()
        self.factory.deadlines.forget(self)
        self.deadline = None
        self.transport.unregisterProducer()
        lose_write = getattr(self.transport, "loseWriteConnection", None)
        if lose_write is None:
            self.transport.loseConnection()
            return
        lose_write()
        self.lingering = self.clock.seconds() + self.factory.limits.max_linger
        self._linger()

    def _linger(self) -> None:
        self._cancel_linger()
        limits = self.factory.limits
        self.linger_timer = self.clock.callLater(max(0.0, min(limits.linger, self.lingering - self.clock.seconds())), self.transport.loseConnection)

    def _cancel_linger(self) -> None:
        timer, self.linger_timer = self.linger_timer, None
        if timer is not None and timer.active():
            timer.cancel()

    def reset(self, why: str) -> None:
        """An RST of TCP once what was written has left."""
        self.flush()
        self._ended_by_rst("server reset", why)
        abort_when_flushed(self.transport)

    def abort(self, how: str, why: str) -> None:
        """RST now (a shutdown's grace period is over)."""
        self._ended_by_rst(how, why)
        self.transport.abortConnection()

    def _ended_by_rst(self, how: str, why: str) -> None:
        self.ended_by_server = self.ended_by_server or how
        self.server_end = self.server_end or ("RST", self.clock.seconds() - self.accepted_at, why)
        for stream in self.streams.values():
            stream.cancel_timer()
            stream.script = None
            stream.record.server_ended("RST", stream.exchange.stage, why)

    # --- idle deadline, and what the control API shows -------------------------------------

    def _idle(self) -> None:
        at = self.clock.seconds() + self.factory.limits.idle_timeout
        self.deadline = (at, self._idle_timeout)
        self.factory.deadlines.watch(self, at)

    def deadline_reached(self, now: float) -> None:
        if self.deadline is None or self.streams:
            return
        at, action = self.deadline
        if at > now + 1e-6:
            self.factory.deadlines.watch(self, at)
        else:
            self.deadline = None
            action()

    def _idle_timeout(self) -> None:
        self.close("server closed", f"idle for {self.factory.limits.idle_timeout:g} s (limit: idle_timeout)")

    @property
    def record(self) -> ExchangeRecord | None:
        """The first open stream's record (what the pytest handles show of an exchange in progress)."""
        return next((s.record for s in self.streams.values()), None)

    def describe(self, now: float) -> dict:
        first = next(iter(self.streams.values()), None)
        exchange = None if first is None else first.exchange
        return {
            "connection": self.connection_id,
            "client": self.peer,
            "protocol": self.name,
            "open_for": round(now - self.accepted_at, 3),
            "requests": self.requests,
            "stage": "idle" if exchange is None else exchange.stage,
            "behaviour": None if first is None else first.record.behaviour,
            "request": None if exchange is None else f"{exchange.request.method} {exchange.request.target}",
            "request_id": None if exchange is None else exchange.request_id,
            "deadline": None if self.deadline is None else {"kind": "idle", "in": round(self.deadline[0] - now, 3)},
            "step_timer": any(s.timer is not None for s in self.streams.values()),
            "waiting_for_client_to_read": any(s.blocked for s in self.streams.values()),
            "reading_paused": [],
            "hanging": any(bool(s.hanging) for s in self.streams.values()),
            "streams": [{"stream": s.id, "stage": s.exchange.stage, "request": f"{s.exchange.request.method} {s.exchange.request.target}"} for s in self.streams.values()],
        }

