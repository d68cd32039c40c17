"""One request being answered: what the script may read (the request, its body so far,
its params) and how placeholders are rendered."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from mockorigin.format import model
from mockorigin.interpreter.request import Body, Request
from mockorigin.format.template import Reference, Template
from mockorigin.format.units import format_duration, parse_duration, parse_integer, parse_size

NO_PARAMS: Mapping[str, object] = MappingProxyType({})  # shared, so read-only


class ParamError(ValueError):
    def __init__(self, name: str, message: str):
        super().__init__(f"param {name!r}: {message}")
        self.name = name


@dataclass(slots=True)
class Exchange:
    request: Request
    request_id: int
    params: Mapping[str, object]
    body: Body
    now: Callable[[], float]  # wall-clock seconds, for the Date header
    n: int = 1  # inside a repeated step, which repetition this is (``${n}``)
    stage: str = "start"  # "3:hang": the step the script stands at, for the journal
    close_notify: bool = True  # False once a close step asked for a bare FIN over TLS (read by the wire at the close)

    def value(self, num: model.Num) -> float | int:
        return self.params[num.name] if isinstance(num, model.ParamRef) else num  # type: ignore[return-value]

    def render(self, template: Template) -> str:
        return template.render(self._lookup)

    def request_json(self) -> str:
        """The request as JSON, for echo behaviours (``${request.json}``)."""
        request = self.request
        return json.dumps(
            {
                "method": request.method,
                "target": request.target,
                "path": request.path,
                "query": dict(request.query),
                "version": request.version,
                "headers": [list(pair) for pair in request.raw_headers],
                "body_length": self.body.length,
                "body_sha256": self.body.sha256,
            }
        )

    def _lookup(self, reference: Reference) -> str:
        if reference.kind == "n":
            return str(self.n)
        if reference.kind == "param":
            value = self.params[reference.name]
            return format_duration(value) if isinstance(value, float) else str(value)
        field_name = reference.name
        request = self.request
        if field_name.startswith("query."):
            return ",".join(request.query.get(field_name[6:], ()))
        if field_name.startswith("header."):
            return request.header(field_name[7:]) or ""
        if field_name == "json":
            return self.request_json()
        if field_name == "websocket_accept":
            from mockorigin.interpreter.upgrade import accept_token

            return accept_token((request.header("sec-websocket-key") or "").strip(), None)
        return str(
            {
                "method": request.method,
                "path": request.path,
                "target": request.target,
                "version": request.version,
                "body_length": self.body.length,
                "id": self.request_id,
            }[field_name]
        )


_PARAM_PARSERS: dict[str, Callable[[str], object]] = {"duration": parse_duration, "size": parse_size, "integer": parse_integer, "string": str}


def resolve_params(behaviour: model.Behaviour, query: Mapping[str, list[str]]) -> Mapping[str, object]:
    """Each param's value: the default, or the query string's within min..max."""
    if not behaviour.params:
        return NO_PARAMS
    parsers = _PARAM_PARSERS
    values: dict[str, object] = {}
    for param in behaviour.params:
        given = query.get(param.name)
        if not given:
            values[param.name] = param.default
            continue
        try:
            value = parsers[param.type](given[-1])
        except ValueError as error:
            raise ParamError(param.name, str(error)) from None
        size = len(value) if isinstance(value, str) else value
        if not param.minimum <= size <= param.maximum:  # type: ignore[operator]
            unit = " characters" if param.type == "string" else ""
            raise ParamError(param.name, f"{given[-1]!r} is outside {param.minimum}..{param.maximum}{unit}")
        values[param.name] = value
    return values
