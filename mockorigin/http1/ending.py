"""Ending an HTTP/1.1 connection: graceful closes with a lingering read, resets,
refusals, timeouts, and the journal entry each exchange leaves behind."""

from __future__ import annotations

from mockorigin.http1 import wire
from mockorigin.transport.tcpwrite import abort_when_flushed

_NO_PAUSES: frozenset[str] = frozenset()


class Ending:
    """The part of ``OriginProtocol`` that ends connections (its state is declared there)."""

    __slots__ = ()

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
        client reusing a connection the server has closed."""
        from mockorigin.http1.reader import BodyComplete, BodyReceived

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

    def _reset(self) -> None:
        """An abortive close (RST), after what was written has left."""
        self._send_outbox()  # what the script sent goes before the RST
        self.ended_by_server = "server reset"
        self._cancel_all_timers()
        self._resume_reading("hang")
        abort_when_flushed(self.transport)

    def _hang_cut(self) -> None:
        self.script = None
        self.ended_by_server = "hang cut"
        self.transport.abortConnection()

    def _refuse(self, status: int, reason: str) -> None:
        """A request we cannot read (or a limit it broke): the right 4xx/5xx, then close."""
        if self.record is None:
            self._begin_record()
        self.record.problem(f"{status} {reason}")
        self.script = None
        started = self.response is not None and self.response.final_status is not None
        if not started:
            self.transport.write(wire.refusal(status, reason))
            self.record.final(status)
        self._close("server closed")

    def _head_timeout(self) -> None:
        self._refuse(408, "request head not received in time")

    def _idle_timeout(self) -> None:
        self._close("server closed")

    def stop_gracefully(self) -> None:
        """Called on shutdown: idle connections close now, running scripts finish first."""
        if self.exchange is None and self.record is None and self.lingering is None:
            self.ended_by_server = "server closed"
            self._cancel_all_timers()
            self._lose_connection()  # no response to protect: no lingering

    def _journal(self, how: str, stage: str, kept: bool = False) -> None:
        record, self.record = self.record, None
        if record is None:
            return
        record.ended(how, stage, kept)
        self.factory.journal.add(record)
