"""Ending an HTTP/1.1 connection: graceful closes with a lingering read, resets,
refusals, timeouts, and the journal entries the connection leaves behind.

Every ending is journaled as an event with its time, the stage the script stood
at and why (the script's close step, a limit, a response that said close, ...),
next to the client's own FIN or RST: the entry then says truthfully who ended the
exchange first. Requests that arrived but were never answered (pipelined behind
an abandoned script, or sent after the server had closed its side) get entries
of their own.
"""

from __future__ import annotations

import re

from mockorigin.http1 import unanswered, wire
from mockorigin.transport.tcpwrite import abort_when_flushed

_NO_PAUSES: frozenset[str] = frozenset()
MAX_LATE_BYTES = 64 * 1024  # what a client sends after the server closed, kept to find its requests
_REQUEST_LINE = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+ [\x21-\x7e]+ HTTP/[0-9]\.[0-9]\r?\n")


class Ending:
    """The part of ``OriginProtocol`` that ends connections (its state is declared there)."""

    __slots__ = ()

    def _closing(self) -> bool:
        return self.ended_by_server is not None

    def _end_script(self, how: str, why: str = "the WebSocket session ended") -> None:
        self.script = None
        self._close(how, why)

    def _close(self, how: str, why: str) -> None:
        """A graceful close: FIN once written bytes are flushed, then a lingering read
        (RFC 9112 §9.6), so a client still sending gets no RST that could destroy the
        response it has not read yet, and what it sends is still journaled."""
        self._send_outbox()  # what the script sent goes before the FIN
        self.ended_by_server = "completed" if how == "completed" else "server closed"
        self._server_ended("FIN", why)
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

    def _server_ended(self, signal: str, why: str) -> None:
        if self.record is not None:
            self.record.server_ended(signal, self._stage(), why)
        elif self.server_end is None:  # between requests: the connection's own ending
            self.server_end = (signal, self.clock.seconds() - self.accepted_at, why)

    def _linger(self) -> None:
        """Close once the client has been silent for ``linger``, or at ``max_linger`` whatever it does."""
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

    def _after_close(self, data: bytes) -> None:
        """The server is closing: nothing more is answered. The rest of a body is still
        counted (a client that sends it after a 417 did so); anything beyond it is a
        client reusing a connection the server has closed, kept to journal its requests."""
        from mockorigin.http1.reader import BodyComplete, BodyReceived

        if self.lingering is not None:
            self._linger()
        record, exchange = self.record, self.exchange
        if record is None:
            self._keep_late(data)
            return
        if exchange is None or exchange.body.complete or self.reader.in_head or self._next_request_instead_of_body(data):
            record.bytes_after_close += len(data)
            self._keep_late(data)
            return
        for event in self.reader.feed(data):
            if isinstance(event, BodyReceived):
                exchange.body.add(event.data)
                record.body(len(event.data))
            elif isinstance(event, BodyComplete):
                exchange.body.complete = True
                record.body_complete_with(exchange.body.sha256)
        late = self.reader.pending_bytes()
        if late:
            record.bytes_after_close = len(late)
            self.late_bytes = bytearray(late[:MAX_LATE_BYTES])

    def _next_request_instead_of_body(self, data: bytes) -> bool:
        """After a final answer to an Expect request that got no 100, a client may send its
        next request instead of the body (curl does): that is not body (RFC 9110 §10.1.1)."""
        exchange, response = self.exchange, self.response
        if (
            exchange.request.expects_continue
            and exchange.body.length == 0
            and response is not None
            and response.final_status is not None
            and 100 not in response.interims
            and _REQUEST_LINE.match(data) is not None
        ):
            self.record.next_request_instead_of_body = True
            return True
        return False

    def _keep_late(self, data: bytes) -> None:
        if self.late_bytes is None:
            self.late_bytes = bytearray()
            self.late_at = self.clock.seconds() - self.accepted_at
        if len(self.late_bytes) < MAX_LATE_BYTES:
            self.late_bytes += data[: MAX_LATE_BYTES - len(self.late_bytes)]

    def _reset(self, why: str) -> None:
        """An abortive close (RST), after what was written has left."""
        self._send_outbox()  # what the script sent goes before the RST
        self.ended_by_server = "server reset"
        self._server_ended("RST", why)
        self._cancel_all_timers()
        self._resume_reading("hang")
        abort_when_flushed(self.transport)

    def _hang_cut(self) -> None:
        self.abort("hang cut", f"an open-ended hang was cut at {self.limits.max_hang:g} s (limit: max_hang)")

    def abort(self, how: str, why: str) -> None:
        """RST now, whatever is running (a hang cut, or the end of a shutdown's grace period)."""
        self.script = None
        self.ended_by_server = self.ended_by_server or how
        self._server_ended("RST", why)
        self.transport.abortConnection()

    def _refuse(self, status: int, reason: str, limit: str | None = None) -> None:
        """A request we cannot read (or a limit it broke): the right 4xx/5xx, then close."""
        if self.record is None:
            self._begin_record()
        said = f"{status} {reason}" + (f" (limit: {limit})" if limit else "")
        self.record.problem(said)
        self.script = None
        started = self.response is not None and self.response.final_status is not None
        if not started:
            self.transport.write(wire.refusal(status, reason))
            self.record.final(status)
        self._close("server closed", f"refused: {said}")

    def _head_timeout(self) -> None:
        self._refuse(408, "request head not received in time", "head_timeout")

    def _idle_timeout(self) -> None:
        self._close("server closed", f"idle for {self.limits.idle_timeout:g} s (limit: idle_timeout)")

    def stop_gracefully(self) -> None:
        """Called on shutdown: idle connections close now, running scripts finish first."""
        if self.exchange is None and self.record is None and self.lingering is None:
            self.ended_by_server = "server closed"
            self._server_ended("FIN", "the server is shutting down")
            self._cancel_all_timers()
            self._lose_connection()  # no response to protect: no lingering

    def _journal(self, how: str, stage: str, kept: bool = False) -> None:
        record, self.record = self.record, None
        if record is None:
            return
        record.ended(how, stage, kept)
        self.factory.journal.add(record)

    def _journal_unanswered(self, how: str, why_connection_ended: str) -> None:
        """An entry for each request head that arrived and was never answered: pipelined
        behind the last exchange, or sent after the server had closed its side."""
        sources = []
        pending = self.reader.pending_bytes()  # (after an upgrade the reader holds nothing)
        if pending:
            sources.append((pending, self.pipelined_at, f"pipelined, and {why_connection_ended} before its turn"))
        if self.late_bytes:
            sources.append((bytes(self.late_bytes), self.late_at, "sent after the server had closed its side of the connection"))
        for data, at, why in sources:
            for request in unanswered.requests_in(data):
                record = self._new_record(self.factory.state.next_request_id())
                record.head_started(at)
                record.head_at = at
                record.request = request
                record.unanswered = why
                record.ended(how, "not answered")
                self.factory.journal.add(record)
