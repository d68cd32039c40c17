"""``${...}`` placeholders: the only thing evaluated inside a behaviour's strings.

A template is parsed once at load time into literal text and references; rendering
looks each reference up and concatenates. There are no expressions, on purpose.
``$${`` writes a literal ``${``. What a request may lack (a header, a query parameter)
takes a default the shell's way, ``${request.header.x-trace:-none}``: the default stands
in when the value is missing or empty; without one, a missing value renders as nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from collections.abc import Callable, Iterable

_PLACEHOLDER = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_REQUEST_FIELDS = ("method", "path", "target", "body_length", "id", "version", "json", "websocket_accept")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")

# Every placeholder, as the reference (docs/format.md) shows it: (syntax, meaning, a use of it).
# tests/test_comfort_reference.py holds this table to the parser above.
PLACEHOLDERS = (
    ("${NAME}", "the value of param NAME for this request (a duration reads like `250ms`)", "wait: ${delay}"),
    ("${n}", "inside a repeated `interim`, `ping` or `pong`: which one this is, from 1", "headers: {status-uri: '</jobs/${n}>'}"),
    ("${request.method}", "the request's method", "body: 'you sent a ${request.method}'"),
    ("${request.path}", "the request's path, without the query", "headers: {location: '${request.path}/'}"),
    ("${request.target}", "the request target as sent: path and query", "body: 'target: ${request.target}'"),
    ("${request.version}", "the request's HTTP version: `1.0` or `1.1`", "body: 'HTTP/${request.version}'"),
    ("${request.query.NAME}", "the query parameter NAME (several values: joined with `,`); missing: nothing", "body: 'page ${request.query.page}'"),
    ("${request.header.NAME}", "the header NAME, in any case (several: joined with `, `); missing: nothing", "headers: {x-trace: '${request.header.x-trace}'}"),
    ("${request.header.NAME:-TEXT}", "the header, or TEXT when it is missing or empty (the shell's `:-`); `${request.query.NAME:-TEXT}` too",
     "headers: {x-trace: '${request.header.x-trace:-none}'}"),
    ("${request.body_length}", "bytes of request body received so far (after `read_body`, all of it)", "body: '{\"received\": ${request.body_length}}'"),
    ("${request.id}", "the request's number, as in the journal", "headers: {x-request-id: '${request.id}'}"),
    ("${request.json}", "the request as JSON: method, target, path, query, version, headers, body length and SHA-256", "body: '${request.json}'"),
    ("${request.websocket_accept}", "the right `Sec-WebSocket-Accept` for the request's key, for a hand-written 101",
     "raw: \"HTTP/1.1 101 Switching Protocols\\r\\nSec-WebSocket-Accept: ${request.websocket_accept}\\r\\n\\r\\n\""),
    ("$${", "a literal `${`", "body: 'literally $${name}'"),
)


@dataclass(frozen=True)
class Reference:
    """One ``${...}``: ``param`` (a declared param), ``request`` or ``n``; ``default`` for a
    value the request may lack; ``in_json``: rendered inside a JSON string, so escaped."""

    kind: str
    name: str
    default: str | None = None
    in_json: bool = False

    def finish(self, value: str) -> str:
        if not value and self.default is not None:
            value = self.default
        return json.dumps(value, ensure_ascii=False)[1:-1] if self.in_json else value


@dataclass(frozen=True)
class Template:
    parts: tuple[str | Reference, ...]

    @property
    def references(self) -> tuple[Reference, ...]:
        return tuple(p for p in self.parts if isinstance(p, Reference))

    @property
    def is_literal(self) -> bool:
        return not self.references

    def render(self, lookup: Callable[[Reference], str]) -> str:
        return "".join(p if isinstance(p, str) else p.finish(lookup(p)) for p in self.parts)


def parse_template(text: str, params: Iterable[str]) -> Template:
    """Split ``text`` into parts; ``ValueError`` names the first unknown placeholder."""
    known = set(params)
    parts: list[str | Reference] = []
    position = 0
    for match in _PLACEHOLDER.finditer(text):
        parts.append(text[position : match.start()])
        position = match.end()
        if match.group(0) == "$${":
            parts.append("${")
            continue
        name, given, default = match.group(1).partition(":-")
        reference = _reference(name.strip(), known)
        if given:
            if not reference.name.startswith(("query.", "header.")):
                raise ValueError(f"${{{match.group(1)}}}: only ${{request.header.NAME}} and ${{request.query.NAME}} take a default (`:-`): "
                                 "the other values are always there")
            reference = Reference(reference.kind, reference.name, default)
        parts.append(reference)
    parts.append(text[position:])
    return merged(parts)


def merged(parts: Iterable[str | Reference]) -> Template:
    """A template of these parts, adjacent texts joined and empty ones dropped."""
    joined: list[str | Reference] = []
    for part in parts:
        if isinstance(part, str) and joined and isinstance(joined[-1], str):
            joined[-1] += part
        elif part != "":
            joined.append(part)
    return Template(tuple(joined))


def single_reference(text: str) -> str | None:
    """The name inside ``text`` when it is exactly one ``${name}``, else None."""
    match = re.fullmatch(r"\$\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\}", text)
    return match.group(1) if match else None


def _reference(inner: str, params: set[str]) -> Reference:
    if inner == "n":
        return Reference("n", "n")
    if inner in params:
        return Reference("param", inner)
    if inner.startswith("request."):
        rest = inner[len("request.") :]
        if rest in _REQUEST_FIELDS:
            return Reference("request", rest)
        for prefix in ("query.", "header."):
            name = rest[len(prefix) :]
            if rest.startswith(prefix) and _NAME.fullmatch(name):
                return Reference("request", prefix + name.lower() if prefix == "header." else prefix + name)
    known = ", ".join(sorted(params)) or "none declared"
    raise ValueError(
        f"unknown placeholder ${{{inner}}}: use a param ({known}), ${{n}}, or "
        "${request.method|path|target|version|body_length|id|json|websocket_accept|query.NAME|header.NAME}; "
        "a header or query value may lack: ${request.header.NAME:-DEFAULT}"
    )
