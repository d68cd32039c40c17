"""``respond: {json: ...}``: a JSON body written as YAML, as one template.

The value becomes JSON text at load; each string in it may hold placeholders, which
become references rendered per request and escaped for a JSON string. A string that
is exactly one placeholder of a number (``${request.body_length}``, ``${request.id}``,
``${n}``, an integer or size param) becomes that number, unquoted. With no
placeholder the body is a literal, so it is formatted once, like any fixed response.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

from mockorigin.format import model
from mockorigin.format.template import Reference, Template, merged, parse_template

_NUMBER_FIELDS = {"body_length", "id"}


class JsonProblem(ValueError):
    """What cannot be in a JSON body, and where inside the value (``path``)."""

    def __init__(self, path: tuple, message: str):
        super().__init__(message)
        self.path = path


def json_template(value: object, params: Mapping[str, model.Param]) -> Template:
    """The JSON text of ``value`` as a template; ``JsonProblem`` says what cannot be JSON, and where."""
    parts: list[str | Reference] = []
    _walk(value, params, parts, ())
    return merged(parts)


def _walk(value: object, params: Mapping[str, model.Param], parts: list, path: tuple) -> None:
    if isinstance(value, dict):
        parts.append("{")
        for index, (key, item) in enumerate(value.items()):
            parts.append(("" if index == 0 else ", ") + json.dumps(str(key), ensure_ascii=False) + ": ")
            _walk(item, params, parts, path + (key,))
        parts.append("}")
    elif isinstance(value, list):
        parts.append("[")
        for index, item in enumerate(value):
            parts.append("" if index == 0 else ", ")
            _walk(item, params, parts, path + (index,))
        parts.append("]")
    elif isinstance(value, str):
        try:
            template = parse_template(value, params)
        except ValueError as error:
            raise JsonProblem(path, str(error)) from None
        if len(template.parts) == 1 and isinstance(template.parts[0], Reference) and _is_number(template.parts[0], params):
            parts.append(template.parts[0])
            return
        parts.append('"')
        for part in template.parts:
            if isinstance(part, str):
                parts.append(json.dumps(part, ensure_ascii=False)[1:-1])
            else:
                parts.append(Reference(part.kind, part.name, part.default, in_json=True))
        parts.append('"')
    else:
        if isinstance(value, float) and not math.isfinite(value):
            raise JsonProblem(path, f"{value!r} has no JSON form (JSON has no NaN or infinity)")
        parts.append(json.dumps(value))


def _is_number(reference: Reference, params: Mapping[str, model.Param]) -> bool:
    if reference.kind == "n":
        return True
    if reference.kind == "param":
        return params[reference.name].type in ("integer", "size")
    return reference.name in _NUMBER_FIELDS
