"""The Twisted factory for HTTP/1.1 connections: what every connection shares."""

from __future__ import annotations

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import Factory

from mockorigin.http1.connection import OriginProtocol
from mockorigin.interpreter.state import ServerState
from mockorigin.journal import Journal
from mockorigin.limits import ConnectionLimits
from mockorigin.transport.deadlines import Deadlines


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
