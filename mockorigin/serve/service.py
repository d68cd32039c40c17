"""Listeners, the ready file and a graceful stop, as one Twisted ``Service``.

Stopping: listeners close at once; idle connections close; running scripts get
``shutdown_grace`` seconds to finish; whatever is left (hangs included) is then
aborted, and every timer goes with its connection.
"""

from __future__ import annotations

import ipaddress
import json
import os
import tempfile
from urllib.parse import quote

from twisted.application.service import Service
from twisted.internet import defer
from twisted.internet.address import UNIXAddress
from twisted.internet.endpoints import serverFromString
from twisted.internet.protocol import Factory
from twisted.logger import Logger

from mockorigin.version import __version__
from mockorigin.observe.journal import Journal
from mockorigin.limits import ConnectionLimits
from mockorigin.http1 import OriginFactory
from mockorigin.http2.select import WireFactory
from mockorigin.interpreter.state import ServerState

log = Logger()

DEFAULT_LISTEN = "tcp:8080:interface=127.0.0.1"
LISTEN_BACKLOG = 511  # nginx's default; Twisted's is 50, too few for a burst of test clients


def with_backlog(description: str) -> str:
    """Add ``backlog=511`` to a TCP endpoint string that does not set one."""
    kind = description.split(":", 1)[0].lower()
    if kind in ("tcp", "tcp6") and "backlog=" not in description:
        return f"{description}:backlog={LISTEN_BACKLOG}"
    return description


DEFAULT_ADMIN = "tcp:0:interface=127.0.0.1"


class OriginService(Service):
    def __init__(
        self,
        reactor,
        state: ServerState,
        listen: list[str],
        journal: Journal | None = None,
        limits: ConnectionLimits | None = None,
        ready_file: str | None = None,
        admin: str | None = DEFAULT_ADMIN,
        admin_token: str | None = None,
        behaviours_root: str | None = None,
        watch: list[str] | None = None,
        paths: list[str] | None = None,
        tls: bool = False,
        tls_cert: str | None = None,
        tls_key: str | None = None,
    ):
        self.reactor = reactor
        self.listen = listen or [DEFAULT_LISTEN]
        self.factory = OriginFactory(state, reactor, journal, limits)
        self.wire = WireFactory(self.factory)  # picks HTTP/1.1 or HTTP/2 per connection, for every listener
        self.tls = tls  # every tcp/unix listener speaks TLS (ssl: ones always do)
        self.tls_cert, self.tls_key = tls_cert, tls_key
        self.ca_path: str | None = None  # the generated CA, once written
        self._ca_folder: str | None = None
        self._server_tls: dict = {}
        self.ready_file = ready_file
        self.admin = admin
        self.admin_token = admin_token
        self.behaviours_root = behaviours_root
        self.ports: list = []
        self.urls: list[str] = []
        self.admin_url: str | None = None
        self.paths = paths or []  # where the set came from
        self.started_set = state.behaviours  # what POST /behaviours/restore brings back
        self.failure: str | None = None  # why listening failed, if it did
        self.on_started: list = []  # (callback, errback) pairs run once listening succeeds or fails
        self.on_stopped: list = []
        self.reloader = None
        if watch:
            from mockorigin.serve.reload import Reloader

            self.reloader = Reloader(watch, state, reactor, on_reload=self._reloaded)

    @defer.inlineCallbacks
    def start_listening(self):
        """Listen on every endpoint; fails with a message naming the one that could not."""
        for description in self.listen:
            try:
                plain, factory = self._factory_for(description)
                endpoint = serverFromString(self.reactor, with_backlog(plain))
                port = yield endpoint.listen(factory)
            except Exception as error:
                yield self.stop_listening()
                raise ListenError(f"cannot listen on {description}: {_reason(error)}") from error
            self.ports.append(port)
            self.urls.append(_url(port, secure=factory is not self.wire))
        if self.admin:
            yield self._listen_admin()
        for url in self.urls:
            log.info("mockorigin serving {count} behaviours on {url}", count=len(self.factory.state.behaviours), url=url)
        if self.admin_url:
            log.info("control API on {url}", url=self.admin_url)
        if self.reloader is not None:
            self.reloader.start()
        if self.ca_path:
            log.info("TLS certificates are signed by a CA made at start: {path}", path=self.ca_path)
        if self.ready_file:
            write_json_atomically(self.ready_file, {"pid": os.getpid(), "urls": self.urls, "admin": self.admin_url, "ca": self.ca_path})

    def _factory_for(self, description: str):
        """The endpoint string to listen on and the factory behind it: the wire selector, in TLS
        for an ``ssl:`` endpoint (translated to ``tcp:``, keys ours to load) or under ``--tls``."""
        from mockorigin.tls.endpoints import plan

        plain, key_files = plan(description, *endpoint_arguments(description), self.tls)
        if key_files is None:
            return plain, self.wire
        from mockorigin.tls.transport import OriginTLSFactory

        return plain, OriginTLSFactory(self._server_tls_for(key_files), self.wire, self.factory)

    def _server_tls_for(self, key_files: tuple[str | None, str | None]):
        """One ``ServerTLS`` per certificate: the endpoint's files, else --tls-cert/--tls-key, else one made now."""
        from mockorigin.tls import certs
        from mockorigin.tls.context import ServerTLS, load_pair

        cert_file, key_file = key_files
        if cert_file is None and self.tls_cert is not None:
            cert_file, key_file = self.tls_cert, self.tls_key
        if key_files not in self._server_tls:
            if cert_file is not None:
                self._server_tls[key_files] = ServerTLS(*load_pair(cert_file, key_file))
            else:
                issued = certs.issue(certs.handshake_names(self.factory.state.behaviours))
                self._write_ca(issued.ca_pem)
                self.spki_sha256 = issued.spki_sha256
                self._server_tls[key_files] = ServerTLS(issued.cert_pem, issued.key_pem)
        return self._server_tls[key_files]

    def _write_ca(self, pem: bytes) -> None:
        from mockorigin.tls import certs

        path = certs.ca_path_for(self.ready_file)
        if path is None:
            self._ca_folder = tempfile.mkdtemp(prefix="mockorigin-ca-")
            path = os.path.join(self._ca_folder, "ca.pem")
        folder = os.path.dirname(path)
        descriptor, temporary = tempfile.mkstemp(prefix=".ca-", dir=folder)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        os.chmod(temporary, 0o644)  # a certificate is public; clients run as other users may read it
        os.replace(temporary, path)
        self.ca_path = path

    @defer.inlineCallbacks
    def _listen_admin(self):
        """The control API; without a token it must be bound to loopback, which the bound
        address decides (``getHost()``), whatever the endpoint string seemed to say."""
        try:
            endpoint = serverFromString(self.reactor, self.admin)
            port = yield endpoint.listen(SiteOnFirstConnection(self._control_site))
        except Exception as error:
            yield self.stop_listening()
            raise ListenError(f"cannot listen on {self.admin} (--admin): {_reason(error)}") from error
        self.ports.append(port)  # a TCP or UNIX listen completes in this turn: nothing was accepted yet
        if self.admin_token is None and not is_loopback_address(port.getHost()):
            yield self.stop_listening()
            raise ListenError(f"the control API on {self.admin} is bound to {_url(port)}, reachable from other machines; "
                              "give --admin-token, or bind it to 127.0.0.1")
        self.admin_url = _url(port)

    def _control_site(self):
        from mockorigin.serve.admin import control_site  # twisted.web: imported when the control API is first used

        return control_site(self, self.admin_token)

    def _reloaded(self, behaviours) -> None:
        self.started_set = behaviours

    def health(self) -> dict:
        journal = self.factory.journal.status()
        reload = self.reloader.status() if self.reloader is not None else {"watching": False}
        problems = []
        if journal["write_failures"]:
            problems.append(f"{journal['write_failures']} journal entries could not be written to the file")
        if reload.get("last_error"):
            problems.append("the last reload was refused; the previous set keeps serving")
        return {
            "status": "degraded" if problems else "ok",
            "problems": problems,
            "version": __version__,
            "pid": os.getpid(),
            "urls": self.urls,
            "behaviours": len(self.factory.state.behaviours),
            "connections": len(self.factory.connections),
            "journal": journal,
            "reload": reload,
        }

    def stop_listening(self):
        ports, self.ports = self.ports, []
        return defer.gatherResults([defer.maybeDeferred(p.stopListening) for p in ports])

    def startService(self) -> None:
        """Listen on every endpoint; on failure say why (once) and stop the reactor."""
        Service.startService(self)
        started = self.start_listening()

        def succeeded(_):
            for callback, _errback in self.on_started:
                callback(None)

        def failed(failure):
            self.failure = str(failure.value) if failure.check(ListenError) else failure.getErrorMessage()
            log.error("mockorigin: {reason}", reason=self.failure)
            for _callback, errback in self.on_started:
                errback(None)
            self.reactor.stop()

        started.addCallbacks(succeeded, failed)

    @defer.inlineCallbacks
    def stopService(self):
        Service.stopService(self)
        if self.reloader is not None:
            self.reloader.stop()
        yield self.stop_listening()
        yield self.drain()
        self.factory.journal.close()
        if self.ready_file and os.path.exists(self.ready_file):
            os.unlink(self.ready_file)
        if self.ca_path and os.path.exists(self.ca_path):
            os.unlink(self.ca_path)
        if self._ca_folder:
            os.rmdir(self._ca_folder)
        for callback in self.on_stopped:
            callback()

    def drain(self) -> defer.Deferred:
        """Let running scripts finish for the grace period, then abort the rest."""
        factory = self.factory
        factory.stopping = True
        for connection in list(factory.connections):
            connection.stop_gracefully()
        deadline = self.reactor.callLater(factory.limits.shutdown_grace, self.abort_all)
        finished = factory.when_empty()

        def cancel_deadline(result):
            if deadline.active():
                deadline.cancel()
            return result

        return finished.addBoth(cancel_deadline)

    def abort_all(self) -> None:
        """Cut every connection now (RST): the end of the grace period, or a second signal."""
        for connection in list(self.factory.connections):
            connection.abort("hang cut", "the shutdown's grace period is over")


class ListenError(Exception):
    pass


class SiteOnFirstConnection(Factory):
    """The control API's site, made when its first client connects: a server whose control API
    nobody calls never imports twisted.web (about a sixth of the time to ready, bench (d))."""

    def __init__(self, make_site):
        self._make_site = make_site
        self.site = None

    def buildProtocol(self, addr):
        if self.site is None:
            self.site = self._make_site()
            self.site.doStart()
        return self.site.buildProtocol(addr)

    def stopFactory(self) -> None:
        if self.site is not None:
            self.site.doStop()


def _url(port, secure: bool = False) -> str:
    """How a client reaches the listener: http://HOST:PORT/ (https:// over TLS), or for a UNIX
    socket the http+unix://PERCENT-ENCODED-PATH/ form that requests-unixsocket and others read."""
    scheme = "https" if secure else "http"
    address = port.getHost()
    if isinstance(address, UNIXAddress):
        return f"{scheme}+unix://{quote(address.name if isinstance(address.name, str) else address.name.decode(), safe='')}/"
    host = getattr(address, "host", "?")
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{getattr(address, 'port', '?')}/"


def endpoint_arguments(description: str) -> tuple[list[str], dict[str, str]]:
    """Positional and keyword arguments of an endpoint string, split as Twisted splits them:
    ``:`` separates, the first ``=`` in a field makes it a keyword, ``\\`` escapes the next
    character, and a repeated keyword keeps its last value. (Twisted's own parser is
    private; ``tests/test_admin_binding.py`` pins that this one agrees with it.)"""
    args: list[str] = []
    kwargs: dict[str, str] = {}
    field: list[str] = []
    current: list[str] = []
    separators = ":="
    characters = iter(description)
    for character in characters:
        if character in separators:
            field.append("".join(current))
            current = []
            if character == ":":
                _add_argument(field, args, kwargs)
                field, separators = [], ":="
            else:
                separators = ":"  # a value may hold '='
        elif character == "\\":
            current.append(next(characters, ""))
        else:
            current.append(character)
    field.append("".join(current))
    _add_argument(field, args, kwargs)
    return args, kwargs


def _add_argument(field: list[str], args: list[str], kwargs: dict[str, str]) -> None:
    if len(field) == 1:
        args.append(field[0])
    else:
        kwargs[field[0]] = field[1]


# Where each TCP endpoint type takes its interface positionally, and where it binds without one.
_INTERFACE_POSITION = {"tcp": (2, ""), "tcp6": (3, "::")}


def _interface(description: str) -> str | None:
    """The interface a TCP endpoint string binds to ("" or "::" for all of them); None if not TCP."""
    args, kwargs = endpoint_arguments(description)
    kind = args[0].lower() if args else ""
    if kind not in _INTERFACE_POSITION:
        return None
    position, everywhere = _INTERFACE_POSITION[kind]
    if "interface" in kwargs:
        return kwargs["interface"]
    return args[position] if len(args) > position else everywhere


def is_loopback_endpoint(description: str) -> bool:
    """Whether an endpoint string binds only to loopback, judged before listening (a TCP
    endpoint without an interface binds everywhere; an unknown type is not trusted). The
    bound address is checked again after listening (``is_loopback_address``)."""
    args, _ = endpoint_arguments(description)
    if args and args[0].lower() == "unix":
        return True
    interface = _interface(description)
    return interface is not None and (interface.lower() == "localhost" or _is_loopback_ip(interface))


def is_loopback_address(address) -> bool:
    """Whether a listener's bound address (``port.getHost()``) is reachable from this machine only."""
    if isinstance(address, UNIXAddress):
        return True
    return _is_loopback_ip(getattr(address, "host", ""))


def _is_loopback_ip(text: str) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 is 127.0.0.1
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


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
