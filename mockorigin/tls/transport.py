"""TLS on one connection: the handshake (and a behaviour's say in it), then a
transport whose closes are the script's to choose.

Theory of operation. ``OriginTLS`` is Twisted's memory-BIO TLS protocol with
three changes. The application protocol (HTTP/1.1 or HTTP/2, chosen by ALPN) is
connected only once the handshake is over, so it sees a ready connection and
the negotiated protocol; until then this layer keeps the handshake deadline and
journals a connection that never got that far (a client that rejected the
certificate says so in ``tls.error``). A handshake behaviour, chosen by the
name the client asked for (``NAME.localhost``), may hold the ClientHello
(``stall``) or choose the ALPN answer. And closing is explicit: a graceful
close sends close_notify before the FIN, also for a half-close (which Twisted's
TLS would pass to TCP without one); ``truncate()`` makes the next close a bare
FIN with no close_notify (RFC 9112 §9.8: the client cannot tell a truncated
body from a whole one); an abort is a bare RST. Writes are not aggregated (as
Twisted's buffering TLS transport does), so a 1xx leaves when it is written.
"""

from __future__ import annotations

from OpenSSL import SSL
from twisted.internet.error import ConnectionLost
from twisted.logger import Logger
from twisted.protocols.tls import TLSMemoryBIOFactory, TLSMemoryBIOProtocol
from twisted.python.failure import Failure

from mockorigin.format import model
from mockorigin.observe.record import ExchangeRecord
from mockorigin.tls.clienthello import Peek
from mockorigin.tls.context import NO_ALPN

log = Logger()
HANDSHAKE_STAGE = "tls handshake"


class OriginTLS(TLSMemoryBIOProtocol):
    factory: OriginTLSFactory

    def __init__(self, factory, wrappedProtocol):
        super().__init__(factory, wrappedProtocol, _connectWrapped=False)
        self.alpn_override = None  # set by a handshake behaviour; read by ServerTLS's ALPN callback
        self.alpn_offered: list[str] | None = None
        self.app_connected = False
        self.truncating = False
        self.write_closed = False
        self.peek: Peek | None = None
        self.held: bytes | None = None  # a stalled ClientHello, and what came after it
        self.handshake_behaviour: str | None = None
        self.handshake_error: str | None = None
        self.handshake_at: float | None = None
        self.timer = None
        self.connection_id: int | None = None
        self.journaled = False
        self.cached_summary: dict | None = None

    # --- the handshake --------------------------------------------------------------

    def makeConnection(self, transport):
        origin = self.factory.origin
        self.accepted_at = origin.clock.seconds()
        if self.factory.handshake_behaviours():
            self.peek = Peek()
        super().makeConnection(transport)
        self._deadline(origin.limits.head_deadline, self._too_slow)

    def dataReceived(self, data: bytes) -> None:
        if self.held is not None:
            self.held += data[: max(0, 65536 - len(self.held))]  # a stalled handshake reads on, keeping a little
            return
        if self.peek is not None:
            if not self.peek.feed(data):
                return
            data, peek, self.peek = bytes(self.peek.buffer), self.peek, None
            if self._apply_behaviour(peek.server_name, data):
                return
        super().dataReceived(data)

    def _apply_behaviour(self, server_name: str | None, data: bytes) -> bool:
        """True if a handshake behaviour holds the ClientHello (``stall``)."""
        chosen = self.factory.handshake_step(server_name)
        if chosen is None:
            return False
        name, step = chosen
        self.handshake_behaviour = name
        if step.alpn_given:
            self.alpn_override = NO_ALPN if step.alpn is None else step.alpn.encode("latin-1")
        if step.stall_forever or step.stall is not None:
            self.held = data
            limits = self.factory.origin.limits
            seconds = limits.max_hang if step.stall_forever else min(float(step.stall), limits.max_hang)  # type: ignore[arg-type]
            self._deadline(seconds, self._stall_over if not step.stall_forever else self._stall_cut)
            return True
        return False

    def _stall_over(self) -> None:
        """A timed stall is over: the handshake goes on with what the client sent meanwhile."""
        data, self.held = self.held or b"", None
        self._deadline(self.factory.origin.limits.head_deadline, self._too_slow)
        super().dataReceived(data)

    def _stall_cut(self) -> None:
        self.handshake_error = f"the stalled handshake was cut at {self.factory.origin.limits.max_hang:g} s (limit: max_hang)"
        self._journal_handshake("hang cut", "server", "RST")
        self.abortConnection()

    def _too_slow(self) -> None:
        self.handshake_error = f"handshake not complete in {self.factory.origin.limits.head_deadline:g} s (limit: head_timeout)"
        self._journal_handshake("server closed", "server", "RST")
        self.abortConnection()

    def _deadline(self, seconds: float, action) -> None:
        self._cancel_timer()
        self.timer = self.factory.origin.clock.callLater(seconds, action)

    def _cancel_timer(self) -> None:
        timer, self.timer = self.timer, None
        if timer is not None and timer.active():
            timer.cancel()

    def _checkHandshakeStatus(self) -> None:
        super()._checkHandshakeStatus()
        if self._handshakeDone and not self.app_connected and not self._aborted and not self._lostTLSConnection:
            self._cancel_timer()
            self.handshake_at = self.factory.origin.clock.seconds() - self.accepted_at
            self.app_connected = True
            self.wrappedProtocol.makeConnection(self)

    def _tlsShutdownFinished(self, reason) -> None:
        if reason is not None and not self.app_connected and self.handshake_error is None:
            self.handshake_error = _words(reason.value)
        super()._tlsShutdownFinished(reason)

    def connectionLost(self, reason) -> None:
        self._cancel_timer()
        if self.app_connected:
            super().connectionLost(reason)
            return
        if self.factory is not None:  # a connection that never finished its handshake: ours to journal
            self._journal_handshake("client reset" if reason.check(ConnectionLost) else "client closed", "client", None)
            self.factory.unregisterProtocol(self)
        self.connected = False
        self._lostTLSConnection = True
        self._tlsConnection = None
        self.wrappedProtocol = None

    def _journal_handshake(self, how: str, by: str, signal: str | None) -> None:
        if self.journaled:
            return
        self.journaled = True
        origin = self.factory.origin
        peer = self.transport.getPeer() if self.transport is not None else None
        record = ExchangeRecord(
            self.id_for_journal(), 0, f"{getattr(peer, 'host', '?')}:{getattr(peer, 'port', '?')}", self.accepted_at, origin.clock
        )
        record.behaviour = self.handshake_behaviour
        record.protocol = None
        record.tls = self.summary()
        if by == "server":
            record.server_ended(signal or "FIN", HANDSHAKE_STAGE, self.handshake_error or how)
        elif signal is None and how == "client reset":
            record.client_reset(HANDSHAKE_STAGE)
        else:
            record.client_closed(HANDSHAKE_STAGE)
        record.ended(how, HANDSHAKE_STAGE)
        origin.journal.add(record)

    def id_for_journal(self) -> int:
        if self.connection_id is None:
            self.connection_id = self.factory.origin.state.next_connection_id()
        return self.connection_id

    @property
    def producer(self):
        """The producer the application registered (Twisted's TLS keeps it wrapped)."""
        return None if self._producer is None else self._producer._producer

    def summary(self) -> dict:
        """What the journal says of this connection's TLS (made once, after the handshake)."""
        if self.cached_summary is not None:
            return self.cached_summary
        summary = self._summary()
        if self._handshakeDone:
            self.cached_summary = summary
        return summary

    def _summary(self) -> dict:
        connection = self._tlsConnection
        version = server_name = None
        if connection is not None:
            version = connection.get_protocol_version_name() if self._handshakeDone else None
            name = connection.get_servername()
            server_name = name.decode("latin-1") if name else None
        negotiated = self.negotiatedProtocol if self._handshakeDone else None
        return {
            "version": version,
            "sni": server_name,
            "alpn": negotiated.decode("latin-1") if negotiated else None,
            "alpn_offered": self.alpn_offered,
            "handshake": None if self.handshake_at is None else round(self.handshake_at, 6),
            "behaviour": self.handshake_behaviour,
            "error": self.handshake_error,
        }

    # --- closing as the script says -----------------------------------------------------

    def truncate(self) -> None:
        """The next close is a bare FIN, without close_notify first."""
        self.truncating = True

    def loseWriteConnection(self) -> None:
        """close_notify (unless truncating), then FIN; the client may still send."""
        if self.write_closed:
            return
        self.write_closed = True
        if not self.truncating and self._handshakeDone and not self._lostTLSConnection:
            try:
                self._tlsConnection.shutdown()
            except SSL.Error:
                pass
            self._flushSendBIO()
        self.transport.loseWriteConnection()

    def loseConnection(self) -> None:
        if self._producer is not None:  # Twisted's TLS would wait for it to unregister before closing
            self.unregisterProducer()
        if (self.truncating or self.write_closed) and not self.disconnecting and self.connected:
            self.disconnecting = True
            if not self.write_closed:
                self.write_closed = True
            self.transport.loseConnection()  # a FIN once what was written has left; no (second) close_notify
            return
        super().loseConnection()

    def abortConnection(self) -> None:
        """RST, with no close_notify before it (Twisted's TLS would send one)."""
        self._aborted = True
        self.disconnecting = True
        self.transport.abortConnection()


class OriginTLSFactory(TLSMemoryBIOFactory):
    """TLS in front of a wire factory (``wrapped``), for one listener.

    ``origin`` is the HTTP factory the connections share (its state, journal,
    clock and limits); it is passed in, not imported, as it lives above this layer.
    """

    protocol = OriginTLS

    def __init__(self, creator, wrapped, origin):
        super().__init__(creator, False, wrapped, clock=origin.clock)
        self.origin = origin
        self._handshake_names: tuple[object, frozenset[str]] = (None, frozenset())

    def handshake_behaviours(self) -> frozenset[str]:
        """The names of behaviours that start with a ``tls`` step (cached per behaviour set)."""
        behaviours = self.origin.state.behaviours
        if self._handshake_names[0] is not behaviours:
            names = frozenset(b.name.lower() for b in behaviours if any(script and isinstance(script[0], model.Tls) for script in b.scripts))
            self._handshake_names = (behaviours, names)
        return self._handshake_names[1]

    def handshake_step(self, server_name: str | None) -> tuple[str, model.Tls] | None:
        """The handshake step for a connection that asked for ``NAME.localhost``, if NAME is such a behaviour."""
        if not server_name or not server_name.endswith(".localhost"):
            return None
        label = server_name.split(".", 1)[0]
        if label not in self.handshake_behaviours():
            return None
        state = self.origin.state
        behaviour = next(b for b in state.behaviours if b.name.lower() == label)
        steps = state.next_script(behaviour)
        return (behaviour.name, steps[0]) if steps and isinstance(steps[0], model.Tls) else None


def _words(error: BaseException) -> str:
    details = error.args[0] if error.args and isinstance(error.args[0], list) else None
    if details:
        return "; ".join(str(item[-1]) for item in details if item)
    if isinstance(error, Failure):
        error = error.value
    return str(error) or type(error).__name__
