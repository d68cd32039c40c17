"""The control API: JSON over HTTP on its own listener, loopback only by default.

Refused before anything else: a request with any ``Origin`` (a browser page),
a ``Host`` that is not this machine (DNS rebinding), and, when a token is set,
anything without ``Authorization: Bearer TOKEN`` (compared in constant time,
never logged). Bodies must be JSON or YAML, at most 1 MiB; a larger body is
refused as soon as that is known (``BoundedChannel``), not after buffering it.
Every refusal is a JSON answer that names what was wrong, and changes nothing.

This listener is not the mock origin, so it may use ``twisted.web``.
"""

from __future__ import annotations

import hmac
import os
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote

from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.server import Site

from mockorigin.format.loader import LoadError, check_set, load_text
from mockorigin.interpreter.answers import describe
from mockorigin.serve.admin_http import MAX_BODY, BoundedChannel, BoundedRequest, host_name, host_key, local_hosts
from mockorigin.serve.admin_json import (
    COMPOSE_KEYS, ApiError, as_yaml_documents, expect, file_entry, integer, json_bytes, known_keys, list_of, located_problems, parse_json,
)

if TYPE_CHECKING:  # pragma: no cover
    from mockorigin.serve.service import OriginService

log = Logger()

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
YAML_TYPES = {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"}


class ControlResource(Resource):
    isLeaf = True

    def __init__(self, service: OriginService, token: str | None = None, allowed_hosts: set[str] | None = None):
        super().__init__()
        self.service = service
        self.token = None if token is None else token.encode("utf-8")
        self.allowed_hosts = {host_key(h) for h in LOOPBACK_HOSTS | (allowed_hosts or set())}

    def render(self, request) -> bytes:
        method = request.method.decode("ascii", "replace")
        path = request.path.decode("latin-1", "replace").rstrip("/") or "/"
        headers: dict[bytes, bytes] = {}
        try:
            self._guard(request)
            status, body = self._route(request, method, path)
        except ApiError as error:
            status, body, headers = error.status, error.body, error.headers
        except Exception:  # a bug: answer JSON, keep the traceback for the log only
            log.failure("control API: {method} {path} failed", method=method, path=path)
            status, body = 500, {"error": "internal error; see the server log"}
        request.setResponseCode(status)
        for name, value in headers.items():
            request.setHeader(name, value)
        if status == 204:
            return b""
        request.setHeader(b"content-type", b"application/json")
        request.setHeader(b"cache-control", b"no-store")
        payload = json_bytes(body)
        if method == "HEAD":  # the GET's head: its length, no body
            request.setHeader(b"content-length", b"%d" % len(payload))
            return b""
        return payload

    def early_refusal(self, request) -> tuple[int, dict]:
        """The answer to a body over the limit, known before it is read: the guards' refusal first."""
        try:
            self._guard(request)
        except ApiError as error:
            return error.status, error.body
        return 413, {"error": f"the body is over {MAX_BODY} bytes (1 MiB); it was not read and nothing was changed"}

    # --- refusals ----------------------------------------------------------------

    def _guard(self, request) -> None:
        if request.getHeader(b"origin") is not None:
            raise ApiError(403, "requests from web pages (with an Origin header) are refused")
        hosts = request.requestHeaders.getRawHeaders(b"host") or []
        name = host_name(hosts[0].decode("latin-1")) if len(hosts) == 1 else None
        if name is None or host_key(name) not in self.allowed_hosts | local_hosts(request):
            raise ApiError(403, "Host must name this machine (127.0.0.1, localhost or [::1]), once")
        if self.token is not None:
            scheme, _, value = (request.getHeader(b"authorization") or b"").partition(b" ")
            if not (hmac.compare_digest(value, self.token) and scheme == b"Bearer"):
                raise ApiError(401, "a valid `Authorization: Bearer TOKEN` header is required")

    # --- routes ------------------------------------------------------------------

    def _routes(self, path: str) -> dict | None:
        """The handlers of ``path`` by method, or None if there is no such route."""
        fixed = {
            "/health": {"GET": lambda r: (200, self.service.health())},
            "/behaviours": {"GET": self._list, "PUT": self._replace, "POST": self._add},
            "/behaviours/restore": {"POST": self._restore, "DELETE": lambda r: self._delete("restore")},
            "/journal": {"GET": self._journal, "DELETE": self._clear_journal},
            "/reset": {"POST": self._reset},
            "/connections": {"GET": self._connections},
            "/debug/timers": {"GET": self._timers},
        }
        if path in fixed:
            return fixed[path]
        if path.startswith("/behaviours/"):
            name = unquote(path[len("/behaviours/") :])
            return {"DELETE": lambda r: self._delete(name)}
        return None

    def _route(self, request, method: str, path: str) -> tuple[int, object]:
        handlers = self._routes(path)
        if handlers is None:
            raise ApiError(404, f"no route for {path}")
        handler = handlers.get("GET" if method == "HEAD" else method)
        if handler is None:
            allowed = sorted(handlers) + (["HEAD"] if "GET" in handlers else [])
            raise ApiError(405, f"{method} is not allowed on {path}; allowed: {', '.join(allowed)}",
                           headers={b"allow": ", ".join(allowed).encode()}, allowed=allowed)
        return handler(request)

    def _described(self) -> tuple[int, dict]:
        return 200, {"behaviours": [describe(b) for b in self.service.factory.state.behaviours]}

    def _list(self, request):
        return self._described()

    def _replace(self, request):
        self.service.factory.state.replace(self._load_body(request))
        return self._described()

    def _add(self, request):
        state = self.service.factory.state
        combined = state.behaviours + self._load_body(request)
        present = {id(b) for b in state.behaviours}
        again = [b.name for b in combined[len(state.behaviours) :] if id(b) in present]
        if again:  # selected from the started set while serving already: one object twice, which check_set does not see
            raise ApiError(409, f"already in the set: {', '.join(again)}; it was not changed")
        try:
            check_set(combined)
        except LoadError as error:
            raise ApiError(409, "the added behaviours clash with the set; it was not changed", problems=located_problems(error)) from None
        state.replace(combined)
        return self._described()

    def _restore(self, request):
        """The set the server started with (as last reloaded by --watch)."""
        self.service.factory.state.replace(self.service.started_set)
        return self._described()

    def _delete(self, name: str):
        state = self.service.factory.state
        remaining = tuple(b for b in state.behaviours if b.name != name)
        if len(remaining) == len(state.behaviours):
            raise ApiError(404, f"no behaviour named {name!r}")
        state.replace(remaining)
        return 204, None

    def _journal(self, request):
        query = parse_qs(request.uri.decode("latin-1").partition("?")[2])
        behaviour = query.get("behaviour", [None])[0]
        since = integer(query.get("since", ["0"])[0], "since")
        journal = self.service.factory.journal
        return 200, {"entries": journal.select(behaviour, since), **journal.status()}

    def _clear_journal(self, request):
        self.service.factory.journal.clear()
        return 204, None

    def _reset(self, request):
        self.service.factory.journal.clear()
        self.service.factory.state.reset_sequences()
        return 204, None

    def _connections(self, request):
        factory = self.service.factory
        now = self.service.reactor.seconds()
        connections = sorted(factory.connections, key=lambda c: c.connection_id)
        return 200, {"connections": [c.describe(now) for c in connections], "closed": self.service.factory.recently_closed(), "open_fds": _open_fds()}

    def _timers(self, request):
        """What the stress suite compares with a baseline to find leaks."""
        factory = self.service.factory
        delayed = getattr(self.service.reactor, "getDelayedCalls", lambda: [])()
        return 200, {"delayed_calls": len(delayed), "deadlines": len(factory.deadlines),
                     "connections": len(factory.connections), "open_fds": _open_fds()}

    # --- bodies ------------------------------------------------------------------

    def _load_body(self, request):
        kind = (request.getHeader(b"content-type") or b"").decode("latin-1").split(";")[0].strip().lower()
        if kind != "application/json" and kind not in YAML_TYPES:
            raise ApiError(415, "send behaviours as application/json or application/yaml")
        data = request.content.read(MAX_BODY + 1)
        if len(data) > MAX_BODY:  # BoundedChannel refuses these first; kept as the last word
            raise ApiError(413, f"the body is over {MAX_BODY} bytes")
        if kind == "application/json":
            value = parse_json(data)
            if isinstance(value, dict) and set(COMPOSE_KEYS) & set(value):
                return self._compose(value)
            data = as_yaml_documents(value)
        return self._load_text(data, "request-body")

    def _load_text(self, text, name: str):
        try:
            return load_text(text, name, root=self.service.behaviours_root)
        except LoadError as error:
            raise ApiError(400, "invalid behaviours; the set was not changed", problems=located_problems(error)) from None

    def _compose(self, value: dict):
        """``{"select": [names from the started set], "files": [{"name", "text"}]}`` as a set."""
        known_keys(value, COMPOSE_KEYS, "a compose request", "")
        names = list_of(value, "select", "a behaviour name (a string)", lambda n, where: expect(n, str, where, "a behaviour name (a string)"))
        files = list_of(value, "files", '{"name": ..., "text": ...}', file_entry)
        for index, name in enumerate(names):
            if name in names[:index]:
                raise ApiError(400, f"select[{index}] names {name!r} a second time", key=f"select[{index}]")
        started = {b.name: b for b in self.service.started_set}
        missing = [n for n in names if n not in started]
        if missing:
            raise ApiError(404, f"not in the set the server started with: {', '.join(missing)}", known=sorted(started))
        chosen = [started[n] for n in names]
        problems = []
        for name, text in files:
            try:
                chosen += self._load_text(text, name)
            except ApiError as error:
                problems += error.body["problems"]
        if problems:
            raise ApiError(400, "invalid behaviours; the set was not changed", problems=problems)
        try:
            check_set(chosen)
        except LoadError as error:
            raise ApiError(400, "the behaviours clash; the set was not changed", problems=located_problems(error)) from None
        return tuple(chosen)


# --- what the stress suite looks at ------------------------------------------------

def _open_fds() -> int | None:
    try:
        return len(os.listdir("/proc/self/fd")) - 1  # less the one listdir itself opened
    except OSError:
        return None


class ControlSite(Site):
    protocol = BoundedChannel  # without twisted.web's HTTP/2 wrapper: this listener has no TLS, so no ALPN


def control_site(service: OriginService, token: str | None = None, allowed_hosts: set[str] | None = None) -> Site:
    site = ControlSite(ControlResource(service, token, allowed_hosts), requestFactory=BoundedRequest, reactor=service.reactor)
    site.noisy = False
    site.displayTracebacks = False
    site.log = lambda request: None  # no access log: it could carry the token
    return site
