"""Listeners, the ready file and a graceful stop, as one Twisted ``Service``.

Stopping: listeners close at once; idle connections close; running scripts get
``shutdown_grace`` seconds to finish; whatever is left (hangs included) is then
aborted, and every timer goes with its connection.
"""

from __future__ import annotations

import json
import os
import tempfile

from twisted.application.service import Service
from twisted.internet import defer
from twisted.internet.endpoints import serverFromString
from twisted.logger import Logger

from mockorigin.journal import Journal
from mockorigin.limits import ConnectionLimits
from mockorigin.protocol import OriginFactory
from mockorigin.state import ServerState

log = Logger()

DEFAULT_LISTEN = "tcp:8080:interface=127.0.0.1"
LISTEN_BACKLOG = 511  # nginx's default; Twisted's is 50, too few for a burst of test clients


def with_backlog(description: str) -> str:
    """Add ``backlog=511`` to a TCP endpoint string that does not set one."""
    kind = description.split(":", 1)[0].lower()
    if kind in ("tcp", "tcp6") and "backlog=" not in description:
        return f"{description}:backlog={LISTEN_BACKLOG}"
    return description


class OriginService(Service):
    def __init__(
        self,
        reactor,
        state: ServerState,
        listen: list[str],
        journal: Journal | None = None,
        limits: ConnectionLimits | None = None,
        ready_file: str | None = None,
    ):
        self.reactor = reactor
        self.listen = listen or [DEFAULT_LISTEN]
        self.factory = OriginFactory(state, reactor, journal, limits)
        self.ready_file = ready_file
        self.ports: list = []
        self.urls: list[str] = []

    @defer.inlineCallbacks
    def start_listening(self):
        """Listen on every endpoint; fails with a message naming the one that could not."""
        for description in self.listen:
            endpoint = serverFromString(self.reactor, with_backlog(description))
            try:
                port = yield endpoint.listen(self.factory)
            except Exception as error:
                yield self.stop_listening()
                raise ListenError(f"cannot listen on {description}: {_reason(error)}") from error
            self.ports.append(port)
            address = port.getHost()
            host = getattr(address, "host", "?")
            shown = f"[{host}]" if ":" in host else host
            self.urls.append(f"http://{shown}:{getattr(address, 'port', '?')}/")
        for url in self.urls:
            log.info("mockorigin serving {count} behaviours on {url}", count=len(self.factory.state.behaviours), url=url)
        if self.ready_file:
            write_json_atomically(self.ready_file, {"pid": os.getpid(), "urls": self.urls, "admin": None})

    def stop_listening(self):
        ports, self.ports = self.ports, []
        return defer.gatherResults([defer.maybeDeferred(p.stopListening) for p in ports])

    def startService(self) -> None:
        Service.startService(self)

    @defer.inlineCallbacks
    def stopService(self):
        Service.stopService(self)
        yield self.stop_listening()
        yield self.drain()
        if self.ready_file and os.path.exists(self.ready_file):
            os.unlink(self.ready_file)

    def drain(self) -> defer.Deferred:
        """Let running scripts finish for the grace period, then abort the rest."""
        factory = self.factory
        factory.stopping = True
        for connection in list(factory.connections):
            connection.stop_gracefully()
        deadline = self.reactor.callLater(factory.limits.shutdown_grace, self._abort_all)
        finished = factory.when_empty()

        def cancel_deadline(result):
            if deadline.active():
                deadline.cancel()
            return result

        return finished.addBoth(cancel_deadline)

    def _abort_all(self) -> None:
        for connection in list(self.factory.connections):
            connection.ended_by_server = connection.ended_by_server or "hang cut"
            connection.transport.abortConnection()


class ListenError(Exception):
    pass


def _reason(error: Exception) -> str:
    text = str(error)
    if "Address already in use" in text or "98" in text.split(":")[-1]:
        return "address already in use"
    return text.strip() or type(error).__name__


def write_json_atomically(path: str, value: dict) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(prefix=".ready-", dir=folder)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(value, handle)
        handle.write("\n")
    os.replace(temporary, path)
