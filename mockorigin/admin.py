"""The control API: JSON over HTTP on its own listener, loopback only by default.

Refused before anything else: a request with any ``Origin`` (a browser page),
a ``Host`` that is not this machine (DNS rebinding), and, when a token is set,
anything without ``Authorization: Bearer TOKEN`` (compared in constant time,
never logged). Bodies must be JSON or YAML, at most 1 MiB.

This listener is not the mock origin, so it may use ``twisted.web``.
"""

from __future__ import annotations

import hmac
import json
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from twisted.web.resource import Resource
from twisted.web.server import Site

from mockorigin.interpreter.answers import describe
from mockorigin.format.loader import LoadError, load_text

if TYPE_CHECKING:  # pragma: no cover
    from mockorigin.service import OriginService

MAX_BODY = 1024 * 1024
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
YAML_TYPES = {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra):
        super().__init__(message)
        self.status = status
        self.body = {"error": message, **extra}


class ControlResource(Resource):
    isLeaf = True

    def __init__(self, service: OriginService, token: str | None = None, allowed_hosts: set[str] | None = None):
        super().__init__()
        self.service = service
        self.token = token
        self.allowed_hosts = LOOPBACK_HOSTS | (allowed_hosts or set())

    def render(self, request) -> bytes:
        try:
            self._guard(request)
            status, body = self._route(request)
        except ApiError as error:
            status, body = error.status, error.body
        request.setResponseCode(status)
        if status == 204:
            return b""
        request.setHeader(b"content-type", b"application/json")
        request.setHeader(b"cache-control", b"no-store")
        return json.dumps(body, indent=1).encode() + b"\n"

    # --- refusals ----------------------------------------------------------------

    def _guard(self, request) -> None:
        if request.getHeader(b"origin") is not None:
            raise ApiError(403, "requests from web pages (with an Origin header) are refused")
        host = (request.getHeader(b"host") or b"").decode("latin-1").strip().lower()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") and host.count(":") == 1 else host
        if name not in self.allowed_hosts:
            raise ApiError(403, "Host must name this machine (127.0.0.1, localhost or [::1])")
        if self.token is not None:
            given = (request.getHeader(b"authorization") or b"").decode("latin-1")
            scheme, _, value = given.partition(" ")
            if scheme != "Bearer" or not hmac.compare_digest(value.encode(), self.token.encode()):
                raise ApiError(401, "a valid `Authorization: Bearer TOKEN` header is required")

    # --- routes ------------------------------------------------------------------

    def _route(self, request) -> tuple[int, object]:
        method = request.method.decode("ascii", "replace")
        path = request.path.decode("latin-1", "replace").rstrip("/") or "/"
        query = parse_qs(request.uri.decode("latin-1").partition("?")[2])
        service = self.service
        state, journal = service.factory.state, service.factory.journal
        if path == "/health" and method == "GET":
            return 200, service.health()
        if path == "/behaviours/restore" and method == "POST":
            state.replace(self._started_set())
            return 200, {"behaviours": [describe(b) for b in state.behaviours]}
        if path == "/behaviours":
            if method == "GET":
                return 200, {"behaviours": [describe(b) for b in state.behaviours]}
            if method in ("PUT", "POST"):
                loaded = self._load_body(request)
                combined = loaded if method == "PUT" else state.behaviours + loaded
                if method == "POST":
                    self._check_set(combined)
                state.replace(combined)
                return 200, {"behaviours": [describe(b) for b in state.behaviours]}
            raise ApiError(405, f"{method} is not allowed on /behaviours")
        if path.startswith("/behaviours/"):
            name = path[len("/behaviours/") :]
            if method != "DELETE":
                raise ApiError(405, f"{method} is not allowed here")
            remaining = tuple(b for b in state.behaviours if b.name != name)
            if len(remaining) == len(state.behaviours):
                raise ApiError(404, f"no behaviour named {name!r}")
            state.replace(remaining)
            return 204, None
        if path == "/journal":
            if method == "GET":
                behaviour = query.get("behaviour", [None])[0]
                since = _integer(query.get("since", ["0"])[0], "since")
                return 200, {"entries": journal.select(behaviour, since), **journal.status()}
            if method == "DELETE":
                journal.clear()
                return 204, None
            raise ApiError(405, f"{method} is not allowed on /journal")
        if path == "/reset" and method == "POST":
            journal.clear()
            state.reset_sequences()
            return 204, None
        if path == "/connections" and method == "GET":
            now = service.reactor.seconds()
            return 200, {"connections": [c.describe(now) for c in sorted(service.factory.connections, key=lambda c: c.connection_id)]}
        raise ApiError(404, f"no route for {method} {path}")

    def _started_set(self):
        """The set the server started with (as last reloaded by --watch)."""
        return self.service.started_set

    def _load_body(self, request):
        kind = (request.getHeader(b"content-type") or b"").decode("latin-1").split(";")[0].strip().lower()
        if kind != "application/json" and kind not in YAML_TYPES:
            raise ApiError(415, "send behaviours as application/json or application/yaml")
        data = request.content.read(MAX_BODY + 1)
        if len(data) > MAX_BODY:
            raise ApiError(413, f"the body is over {MAX_BODY} bytes")
        if kind == "application/json":
            composed = self._compose(data)
            if composed is not None:
                return composed
            data = _json_as_yaml_documents(data)
        try:
            return load_text(data, "request-body", root=self.service.behaviours_root)
        except LoadError as error:
            raise ApiError(400, "invalid behaviours; the set was not changed", problems=_problems(error)) from None

    def _compose(self, data: bytes):
        """``{"select": [names from the started set], "files": [{"name", "text"}]}``, or None if not that shape."""
        from mockorigin.format.loader import check_set

        try:
            value = json.loads(data)
        except (ValueError, UnicodeDecodeError) as error:
            raise ApiError(400, f"invalid JSON: {error}") from None
        if not isinstance(value, dict) or not {"select", "files"} & set(value):
            return None
        chosen = []
        if value.get("select"):
            started = {b.name: b for b in self._started_set()}
            missing = [n for n in value["select"] if n not in started]
            if missing:
                raise ApiError(404, f"not in the set the server started with: {', '.join(map(str, missing))}", known=sorted(started))
            chosen += [started[n] for n in value["select"]]
        problems = []
        for file in value.get("files") or []:
            if not isinstance(file, dict) or not isinstance(file.get("text"), str):
                raise ApiError(400, 'each of "files" is {"name": ..., "text": ...}')
            try:
                chosen += load_text(file["text"], str(file.get("name") or "request-body"), root=self.service.behaviours_root)
            except LoadError as error:
                problems += _problems(error)
        if problems:
            raise ApiError(400, "invalid behaviours; the set was not changed", problems=problems)
        try:
            check_set(chosen)
        except LoadError as error:
            raise ApiError(400, "the behaviours clash; the set was not changed", problems=_problems(error)) from None
        return tuple(chosen)

    def _check_set(self, behaviours) -> None:
        from mockorigin.format.loader import check_set

        try:
            check_set(behaviours)
        except LoadError as error:
            raise ApiError(409, "the added behaviours clash with the set; it was not changed", problems=_problems(error)) from None


def _problems(error: LoadError) -> list[dict]:
    return [
        {"file": p.location.file, "line": p.location.line, "column": p.location.column, "message": p.message, "text": str(p)}
        for p in error.problems
    ]


def _json_as_yaml_documents(data: bytes) -> bytes:
    """A JSON object, or a list of them, as YAML documents (JSON is YAML)."""
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, f"invalid JSON: {error}") from None
    items = value if isinstance(value, list) else [value]
    return "\n---\n".join(json.dumps(item, indent=1) for item in items).encode()


def _integer(text: str, name: str) -> int:
    if not text.isdigit():
        raise ApiError(400, f"{name} must be a whole number")
    return int(text)


def control_site(service: OriginService, token: str | None = None, allowed_hosts: set[str] | None = None) -> Site:
    site = Site(ControlResource(service, token, allowed_hosts))
    site.noisy = False
    site.displayTracebacks = False
    site.log = lambda request: None  # no access log: it could carry the token
    return site

