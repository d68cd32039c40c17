"""Which wire a connection speaks: HTTP/2 or HTTP/1.1, chosen once per connection.

Over TLS, ALPN decides: ``h2`` is HTTP/2. Otherwise (cleartext, or TLS without
ALPN) the first bytes decide: the HTTP/2 connection preface (RFC 9113 §3.4) is a
client speaking HTTP/2 with prior knowledge, anything else is HTTP/1.1. HTTP/1.1
is set up at once, as if nothing chose (its idle timer runs from the accept, a
connection that never sends a byte is journaled as before); bytes that may still
be the preface are held back, and only if the whole preface comes does the
HTTP/1.1 protocol step aside, leaving no trace, for HTTP/2. Once chosen, the
transport is pointed at the chosen protocol, so the selector costs nothing more.
"""

from __future__ import annotations

from collections import deque

from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.internet.protocol import Factory, Protocol
from zope.interface import implementer

from mockorigin.http1 import OriginProtocol

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
REFUSED_KEPT, RETRY_WINDOW = 1000, 60.0  # refused streams remembered, and for how long a repeat counts as a retry


class OriginH1(OriginProtocol):
    """HTTP/1.1 as the selector starts it: TLS facts in each record, a close without
    close_notify when the script asked for one, and a way to step aside for HTTP/2."""

    __slots__ = ()

    def connectionMade(self) -> None:
        super().connectionMade()
        accepted = getattr(self.transport, "accepted_at", None)
        if accepted is not None:  # over TLS: times count from the TCP accept, not the handshake's end
            self.accepted_at = accepted

    def _new_record(self, request_id: int):
        record = super()._new_record(request_id)
        summary = getattr(self.transport, "summary", None)
        if summary is not None:
            record.tls = summary()
        return record

    def _close(self, how: str, why: str) -> None:
        if self.exchange is not None and not self.exchange.close_notify:
            truncate = getattr(self.transport, "truncate", None)
            if truncate is not None:
                truncate()
        super()._close(how, why)

    def hand_over(self) -> None:
        """The client speaks HTTP/2: undo what connecting set up, journaling nothing."""
        self._cancel_all_timers()
        self.factory.deadlines.forget(self)
        if getattr(self.transport, "producer", None) is self:
            self.transport.unregisterProducer()
        self.factory.connections.discard(self)


@implementer(IHalfCloseableProtocol)
class WireSelector(Protocol):
    """Stands in front of a connection until its first bytes (or ALPN) choose the wire."""

    def __init__(self, wire: WireFactory):
        self.wire = wire
        self.chosen: Protocol | None = None
        self.h1: OriginH1 | None = None
        self.held = b""

    def makeConnection(self, transport) -> None:
        self.transport = transport
        self.connected = True
        negotiated = getattr(transport, "negotiatedProtocol", None)
        if negotiated == b"h2":
            from mockorigin.http2.connection import H2OriginProtocol  # h2 is imported when a client speaks it (bench (d))

            clock = self.wire.origin.clock
            self._choose(H2OriginProtocol(self.wire, getattr(transport, "accepted_at", clock.seconds()), self._connection_id(transport)))
            return
        self.h1 = OriginH1()
        self.h1.factory = self.wire.origin
        self.h1.makeConnection(transport)

    def _connection_id(self, transport) -> int:
        own = getattr(transport, "id_for_journal", None)
        return own() if own is not None else self.wire.origin.state.next_connection_id()

    def _choose(self, protocol: Protocol, data: bytes = b"") -> None:
        self.chosen = protocol
        transport = self.transport
        if getattr(transport, "wrappedProtocol", None) is self:  # TLS: the wrapper calls us no more
            transport.wrappedProtocol = protocol
        elif getattr(transport, "protocol", None) is self:  # TCP: the reactor calls it directly
            transport.protocol = protocol
        if protocol is not self.h1:
            protocol.makeConnection(transport)
        if data:
            protocol.dataReceived(data)

    def dataReceived(self, data: bytes) -> None:
        if self.chosen is not None:
            self.chosen.dataReceived(data)
            return
        held = self.held + data
        if len(held) < len(PREFACE) and PREFACE.startswith(held):
            self.held = held
            return
        self.held = b""
        if held.startswith(PREFACE):
            from mockorigin.http2.connection import H2OriginProtocol

            h1 = self.h1
            h1.hand_over()
            self._choose(H2OriginProtocol(self.wire, h1.accepted_at, h1.connection_id), held)
        else:
            self._choose(self.h1, held)

    def readConnectionLost(self) -> None:
        target = self.chosen or self.h1
        half_close = getattr(target, "readConnectionLost", None)
        if half_close is not None:
            half_close()

    def writeConnectionLost(self) -> None:  # pragma: no cover - we never half-close before choosing
        pass

    def connectionLost(self, reason) -> None:
        target = self.chosen or self.h1
        if target is not None:
            target.connectionLost(reason)


class WireFactory(Factory):
    """One per server: builds selectors in front of the HTTP/1.1 factory (``origin``), and
    remembers the requests the server refused, so a repeat is journaled as a retry."""

    noisy = False

    def __init__(self, origin):
        self.origin = origin
        self.refused_requests: deque[tuple[float, str, str, int]] = deque(maxlen=REFUSED_KEPT)

    def buildProtocol(self, addr) -> WireSelector:
        selector = WireSelector(self)
        selector.factory = self
        return selector

    def remember_refused(self, request, record_id: int, now: float) -> None:
        self.refused_requests.append((now, request.method, request.target, record_id))

    def retry_of(self, request, now: float) -> int | None:
        """The journal id of a refused request that this one repeats (method and target), if any."""
        for index, (at, method, target, record_id) in enumerate(self.refused_requests):
            if now - at <= RETRY_WINDOW and method == request.method and target == request.target:
                del self.refused_requests[index]
                return record_id
        return None
