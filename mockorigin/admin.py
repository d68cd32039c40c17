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
import io
import ipaddress
import json
import os
import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote

from twisted.logger import Logger
from twisted.web.http import RESPONSES, HTTPChannel
from twisted.web.resource import Resource
from twisted.web.server import Request, Site

from mockorigin.interpreter.answers import describe
from mockorigin.format.loader import LoadError, check_set, load_text
from mockorigin.format.yamlsource import MAX_DEPTH

if TYPE_CHECKING:  # pragma: no cover
    from mockorigin.service import OriginService

log = Logger()

MAX_BODY = 1024 * 1024
MAX_JSON_DEPTH = MAX_DEPTH + 1  # a JSON list of behaviours is one level deeper than YAML documents
LINGER = 5.0  # seconds a refused client may go on sending (discarded) so that it can read the answer
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
YAML_TYPES = {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"}
COMPOSE_KEYS = ("select", "files")
# Characters a JSON string may hold raw but YAML reads otherwise: line breaks (NEL, LS, PS),
# a BOM, and what YAML calls non-printable. Escaped, they mean the same in YAML.
_NOT_PLAIN_IN_YAML = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
FILE_KEYS = ("name", "text")


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[bytes, bytes] | None = None, **extra):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        self.body = {"error": message, **extra}


class ControlResource(Resource):
    isLeaf = True

    def __init__(self, service: OriginService, token: str | None = None, allowed_hosts: set[str] | None = None):
        super().__init__()
        self.service = service
        self.token = None if token is None else token.encode("utf-8")
        self.allowed_hosts = {_host_key(h) for h in LOOPBACK_HOSTS | (allowed_hosts or set())}

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
        payload = _json_bytes(body)
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
        name = _host_name(hosts[0].decode("latin-1")) if len(hosts) == 1 else None
        if name is None or _host_key(name) not in self.allowed_hosts | _local_hosts(request):
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
            raise ApiError(409, "the added behaviours clash with the set; it was not changed", problems=_problems(error)) from None
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
        since = _integer(query.get("since", ["0"])[0], "since")
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
        return 200, {"connections": [c.describe(now) for c in connections], "closed": list(self.service.factory.closed), "open_fds": _open_fds()}

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
            value = _parse_json(data)
            if isinstance(value, dict) and set(COMPOSE_KEYS) & set(value):
                return self._compose(value)
            data = _as_yaml_documents(value)
        return self._load_text(data, "request-body")

    def _load_text(self, text, name: str):
        try:
            return load_text(text, name, root=self.service.behaviours_root)
        except LoadError as error:
            raise ApiError(400, "invalid behaviours; the set was not changed", problems=_problems(error)) from None

    def _compose(self, value: dict):
        """``{"select": [names from the started set], "files": [{"name", "text"}]}`` as a set."""
        _known_keys(value, COMPOSE_KEYS, "a compose request", "")
        names = _list_of(value, "select", "a behaviour name (a string)", lambda n, where: _expect(n, str, where, "a behaviour name (a string)"))
        files = _list_of(value, "files", '{"name": ..., "text": ...}', _file_entry)
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
            raise ApiError(400, "the behaviours clash; the set was not changed", problems=_problems(error)) from None
        return tuple(chosen)


# --- JSON shapes ---------------------------------------------------------------


def _parse_json(data: bytes):
    """Strict JSON: no duplicate keys, no NaN/Infinity, bounded depth, strings that are valid Unicode."""
    try:
        value = json.loads(data, object_pairs_hook=_object_without_duplicates, parse_constant=_no_constants)
    except RecursionError:
        raise ApiError(400, f"invalid JSON: nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ApiError(400, f"invalid JSON: {error}") from None
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ApiError(400, f"invalid JSON: nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(item, dict):
            stack += [(k, depth) for k in item] + [(v, depth + 1) for v in item.values()]
        elif isinstance(item, list):
            stack += [(v, depth + 1) for v in item]
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ApiError(400, f"invalid JSON: a string holds a lone surrogate ({item[:40]!a})") from None
    return value


def _object_without_duplicates(pairs: list) -> dict:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set = set()
        duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ApiError(400, f"invalid JSON: the key {duplicate!r} appears twice in one object", key=duplicate)
    return value


def _no_constants(name: str):
    raise ApiError(400, f"invalid JSON: {name} is not a JSON number")


def _as_yaml_documents(value) -> bytes:
    """A JSON object, or a list of them, as YAML documents (JSON is YAML)."""
    if not isinstance(value, (dict, list)):
        raise ApiError(400, f'the JSON body must be a behaviour (an object), a list of them, or {{"select", "files"}}; got {_kind(value)}')
    items = value if isinstance(value, list) else [value]
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ApiError(400, f"[{index}] (item {index} of the JSON list) must be a behaviour (an object), not {_kind(item)}", key=f"[{index}]")
    text = "\n---\n".join(json.dumps(item, indent=1, ensure_ascii=False) for item in items)
    return _NOT_PLAIN_IN_YAML.sub(lambda m: f"\\u{ord(m.group()):04x}", text).encode()


def _known_keys(value: dict, known: tuple, what: str, prefix: str) -> None:
    for key in value:
        if key not in known:
            raise ApiError(400, f"unknown key {prefix + key!r}: {what} takes {', '.join(map(repr, known))}", key=f"{prefix}{key}")


def _list_of(value: dict, key: str, expected: str, check) -> list:
    """``value[key]`` (absent or null: empty) as a list, each item checked by ``check(item, where)``."""
    items = value.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise ApiError(400, f'"{key}" must be a list of {expected}, not {_kind(items)}', key=key)
    return [check(item, f"{key}[{index}]") for index, item in enumerate(items)]


def _file_entry(item, where: str) -> tuple[str, str]:
    _expect(item, dict, where, '{"name": ..., "text": ...}')
    _known_keys(item, FILE_KEYS, f"{where}", f"{where}.")
    if "text" not in item:
        raise ApiError(400, f'{where}.text is missing: each file needs the YAML of its behaviours', key=f"{where}.text")
    text = _expect(item["text"], str, f"{where}.text", "the YAML text (a string)")
    name = item.get("name")
    if name is not None:
        _expect(name, str, f"{where}.name", "a file name (a string)")
    return name or "request-body", text


def _expect(value, kind: type, where: str, expected: str):
    if not isinstance(value, kind):
        raise ApiError(400, f"{where} must be {expected}, not {_kind(value)}", key=where)
    return value


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _problems(error: LoadError) -> list[dict]:
    return [
        {"file": p.location.file, "line": p.location.line, "column": p.location.column, "message": p.message, "text": str(p)}
        for p in error.problems
    ]


def _integer(text: str, name: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise ApiError(400, f"{name} must be a whole number (0 or more)", key=name)
    return int(text)


def _json_bytes(body) -> bytes:
    return json.dumps(body, indent=1).encode() + b"\n"


# --- hosts -----------------------------------------------------------------------


def _host_name(value: str) -> str | None:
    """The name in a ``Host`` value (``[::1]:8080`` -> ``::1``), or None if it is malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        name, bracket, rest = value[1:].partition("]")
        if not bracket:
            return None
    elif value.count(":") == 1:
        name, _, port = value.partition(":")
        rest = ":" + port
    else:
        name, rest = value, ""  # a bare IPv6 address, as earlier versions accepted
    if rest and not (rest[0] == ":" and rest[1:].isascii() and rest[1:].isdigit() or rest == ":"):
        return None
    return name


def _host_key(name: str) -> str:
    """One spelling per address: ``0:0:0:0:0:0:0:1`` and ``::1`` compare equal."""
    try:
        return str(ipaddress.ip_address(name.strip("[]")))
    except ValueError:
        return name.lower()


def _local_hosts(request) -> set[str]:
    """The address this connection reached: naming it is not DNS rebinding (that needs a name)."""
    try:
        host = request.channel.transport.getHost().host
    except AttributeError:  # a UNIX socket has no host
        return set()
    return {_host_key(host)} if host not in ("0.0.0.0", "::") else set()


# --- what the stress suite looks at ------------------------------------------------

def _open_fds() -> int | None:
    try:
        return len(os.listdir("/proc/self/fd")) - 1  # less the one listdir itself opened
    except OSError:
        return None


# --- refusing a large body before reading it -----------------------------------------


class BoundedRequest(Request):
    """Counts the body as it arrives, so that a chunked body is cut off at the limit."""

    received = 0

    def handleContentChunk(self, data: bytes) -> None:
        channel = self.channel
        if channel is None or channel.refused:
            return
        self.received += len(data)
        if self.received > MAX_BODY:
            channel.refuse_early(self)
            return
        super().handleContentChunk(data)


class BoundedChannel(HTTPChannel):
    """twisted.web buffers a whole body before ``render``; this answers a too-large one at once.

    A ``Content-Length`` over the limit is refused when the head ends, before any of
    the body is read and before an automatic ``100 Continue``; a chunked body when it
    passes the limit. The answer goes out with ``Connection: close``; then, like
    nginx's lingering close, what the client is still sending is read and dropped for
    at most ``LINGER`` seconds, so that a client that writes its whole body before
    reading (urllib, requests) reads the answer instead of a reset.
    """

    refused = False
    _linger = None

    def allHeadersReceived(self) -> None:
        if self.length is not None and self.length > MAX_BODY:
            self.refuse_early(self.requests[-1])
            return
        super().allHeadersReceived()

    def refuse_early(self, request) -> None:
        if self.refused:
            return
        self.refused = True
        if request.content is not None:  # what was kept of the body (a temporary file): let it go now
            request.content.close()
            request.content = io.BytesIO()
        status, body = self.site.resource.early_refusal(request)
        payload = b"" if self._command == b"HEAD" else _json_bytes(body)
        head = (f"HTTP/1.1 {status} {RESPONSES.get(status, b'').decode('ascii')}\r\ncontent-type: application/json\r\n"
                f"cache-control: no-store\r\ncontent-length: {len(_json_bytes(body))}\r\nconnection: close\r\n\r\n")
        self.transport.write(head.encode("ascii") + payload)
        half_close = getattr(self.transport, "loseWriteConnection", None)
        if half_close is None:
            self.loseConnection()
            return
        half_close()
        self._linger = self.callLater(LINGER, self.transport.abortConnection)

    def rawDataReceived(self, data: bytes) -> None:
        if not self.refused:
            super().rawDataReceived(data)

    def allContentReceived(self) -> None:
        if not self.refused:
            super().allContentReceived()

    def connectionLost(self, reason) -> None:
        if self._linger is not None and self._linger.active():
            self._linger.cancel()
        super().connectionLost(reason)


class ControlSite(Site):
    protocol = BoundedChannel  # without twisted.web's HTTP/2 wrapper: this listener has no TLS, so no ALPN


def control_site(service: OriginService, token: str | None = None, allowed_hosts: set[str] | None = None) -> Site:
    site = ControlSite(ControlResource(service, token, allowed_hosts), requestFactory=BoundedRequest, reactor=service.reactor)
    site.noisy = False
    site.displayTracebacks = False
    site.log = lambda request: None  # no access log: it could carry the token
    return site
