"""The Twisted factory for HTTP/1.1 connections: what every connection shares."""

from __future__ import annotations

from collections import deque
from dataclasses import replace

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import Factory

from mockorigin.http1.connection import OriginProtocol
from mockorigin.interpreter.state import ServerState
from mockorigin.observe.journal import Journal
from mockorigin.observe.record import wall_clock
from mockorigin.limits import ConnectionLimits
from mockorigin.transport.deadlines import Deadlines


CLOSED_KEPT = 1000


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
        self._merged_limits: dict = {}
        self.closed: deque[tuple] = deque(maxlen=CLOSED_KEPT)  # the lifecycles of recently closed connections (closed_entry makes them dicts)

    def limits_for(self, behaviour) -> ConnectionLimits:
        """The limits an exchange of ``behaviour`` runs under: the server's, with the
        behaviour's own ``limits`` in their place (merged once per behaviour)."""
        own = None if behaviour is None else behaviour.limits
        if own is None:
            return self.limits
        merged = self._merged_limits.get(own)
        if merged is None:
            changes = {name: getattr(own, name) for name in ("body_timeout", "body_min_rate", "idle_timeout") if getattr(own, name) is not None}
            merged = self._merged_limits[own] = replace(self.limits, **changes)
        return merged

    def when_empty(self) -> Deferred:
        """Fires once no connection is open."""
        if not self.connections:
            return succeed(None)
        waiter: Deferred = Deferred()
        self._when_empty.append(waiter)
        return waiter

    def forget(self, protocol: OriginProtocol, summary: tuple | None = None) -> None:
        """``protocol``'s connection is gone; ``summary``: its lifecycle's facts (``closed_entry``'s
        arguments), kept among the recently closed."""
        self.connections.discard(protocol)
        if summary is not None:
            self.closed.append(summary)
        if not self.connections:
            waiters, self._when_empty = self._when_empty, []
            for waiter in waiters:
                waiter.callback(None)

    def recently_closed(self) -> list[dict]:
        """The lifecycles of the recently closed connections, oldest first."""
        return [closed_entry(*summary) for summary in self.closed]

    def buildProtocol(self, addr) -> OriginProtocol:
        protocol = OriginProtocol()
        protocol.factory = self
        return protocol


def closed_entry(
    connection: int, client: str, accepted_at: float, open_for: float, requests: int, by: str, signal: str, at: float, why: str | None, protocol: str | None = None
) -> dict:
    """A closed connection's entry in ``GET /connections``'s ``closed`` (``protocol``: HTTP/2's name for its wire)."""
    entry = {"connection": connection, "client": client, "accepted_at": wall_clock(accepted_at), "open_for": round(open_for, 6), "requests": requests}
    if protocol is not None:
        entry["protocol"] = protocol
    entry["ended"] = {"by": by, "signal": signal, "at": round(at, 6), "why": why}
    return entry
