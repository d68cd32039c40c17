"""The shape of a behaviour document: the JSON Schema, and its errors explained for people.

The schema (``schema.json``, draft-07) is the single description of the format:
editors validate against it, and so does the loader. jsonschema's own messages
speak of schemas; these speak of the file: "unknown key 'dealy' (did you mean
'delay'?)", "expected a whole number, got the string '200'".
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterable

from mockorigin.format import indentation
from mockorigin.format.yamlsource import Document, Problem

_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
}


def schema() -> dict:
    """The JSON Schema (draft-07) of one behaviour document."""
    with open(schema_file(), encoding="utf-8") as handle:
        return json.load(handle)


def schema_file() -> str:
    """Where the installed ``schema.json`` is, for an editor's settings (``mockorigin schema --path``)."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema.json")


_VALIDATOR = None


def _validator():
    global _VALIDATOR
    if _VALIDATOR is None:
        from jsonschema import Draft7Validator

        _VALIDATOR = Draft7Validator(schema())
    return _VALIDATOR


# What people write for a key from habit (other tools, other words), and the key meant. Checked
# before spelling, which would offer `body_size` for `body_json` and nothing for `sleep`.
_SLIPS = {
    "sleep": "wait", "delay": "wait", "pause": "wait", "delay_ms": "wait",
    "body_json": "json", "json_body": "json", "jsonBody": "json", "jsonbody": "json",
    "status_code": "status", "statusCode": "status", "code": "status",
    "header": "headers", "trailer": "trailers",
    "response": "respond", "reply": "respond", "return": "respond", "send_response": "respond",
    "read": "read_body", "body_file_path": "body_file", "file": "body_file", "bodyFileName": "body_file",
    "informational": "interim", "continue": "interim",
    "url": "path", "uri": "path", "urlPath": "path", "url_path": "path", "methods": "method",
}


def shape_problems(document: Document) -> Iterable[tuple[Problem, tuple]]:
    yield from _explain_all(list(_validator().iter_errors(document.value)), document)


def _explain_all(errors: list, document: Document) -> Iterable[tuple[Problem, tuple]]:
    definitions = _validator().schema["definitions"]
    misplaced = indentation.find_misplaced(errors, definitions, (definitions["step"], definitions["wsStep"]))
    for found in misplaced.values():
        yield indentation.problem(found, document), found.path
    for error in errors:
        if misplaced and indentation.follows_from(error, misplaced, document):
            continue
        path = tuple(error.absolute_path)
        found = misplaced.get(path)
        for problem in _explain(error, document, found.keys if found else ()):
            yield problem, path


def _explain(error, document: Document, misplaced: tuple[str, ...] = ()) -> Iterable[Problem]:
    path = tuple(error.absolute_path)
    schema_part = error.schema if isinstance(error.schema, dict) else {}
    where = document.where(path)
    kind = error.validator
    if kind in ("anyOf", "oneOf") and error.context:
        branches: dict[int, list] = {}
        for sub in error.context:
            branches.setdefault(sub.schema_path[0], []).append(sub)
        fitting = [errs for errs in branches.values() if not any(_wrong_kind(e) for e in errs)]
        if len(fitting) == 1:
            for problem, _path in _explain_all(fitting[0], document):
                yield problem
            return
        if "errorMessage" in schema_part:
            yield Problem(where, schema_part["errorMessage"])
            return
        expected = _expected_types(error)
        yield Problem(where, f"{_named(path)}expected {expected}, got {_describe(error.instance)}{_example(path, schema_part)}")
        return
    if kind == "additionalProperties":
        allowed = sorted(schema_part.get("properties", {}))
        for key in error.instance:
            if key in schema_part.get("properties", {}) or key in misplaced:
                continue
            what = "step" if _is_step(schema_part) else "key"
            message = f"unknown {what} {key!r}"
            slip = _SLIPS.get(str(key))
            close = [slip] if slip in allowed else difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            if close:
                message += f" (did you mean {close[0]!r}?)"
            elif allowed:
                message += f"; expected one of: {', '.join(allowed)}"
            yield Problem(document.where(path + (key,), key=True), message)
        return
    if kind == "maxProperties" and _is_a_step_list(schema_part) and set(error.instance) <= set(schema_part.get("properties", {})):
        shown = " and ".join(f"`{key}`" for key in error.instance)
        yield Problem(where, f"a step is a mapping with exactly one key: {shown} are {len(error.instance)} steps, so begin each with `- ` on a line of its own")
        return
    if "errorMessage" in schema_part and kind in ("oneOf", "anyOf", "maxProperties", "minProperties"):
        yield Problem(where, schema_part["errorMessage"])
        return
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        yield Problem(where, f"missing required key {missing!r}")
    elif kind == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        expected = " or ".join(_TYPE_NAMES[w] for w in wanted)
        yield Problem(where, f"{_named(path)}expected {expected}, got {_describe(error.instance)}{_example(path, schema_part)}")
    elif kind == "pattern":
        title = schema_part.get("title", "value")
        yield Problem(where, f"{error.instance!r} is not a valid {title}")
    elif kind == "propertyNames":
        yield Problem(where, f"{error.instance!r} is not a valid name here")
    elif kind in ("minimum", "maximum"):
        word = "at least" if kind == "minimum" else "at most"
        yield Problem(where, f"{error.instance!r} is out of range: must be {word} {error.validator_value}")
    elif kind == "enum":
        options = ", ".join(repr(v) for v in error.validator_value)
        yield Problem(where, f"{error.instance!r} is not one of {options}")
    else:
        yield Problem(where, error.message)


def _is_a_step_list(schema_part: dict) -> bool:
    definitions = _validator().schema["definitions"]
    return schema_part == definitions["step"] or schema_part == definitions["wsStep"]


def _wrong_kind(error) -> bool:
    """Whether this error says the value is not even of the branch's kind (a mapping given
    where that branch wants a number, or one fixed word), so the branch is not what was meant."""
    if error.relative_path:
        return False
    return error.validator == "type" or (error.validator in ("const", "enum") and isinstance(error.instance, (dict, list)))


def _named(path: tuple) -> str:
    """"`headers`: " for a value under a key (a list item is named by its list's key)."""
    keys = [part for part in path if isinstance(part, str)]
    if not keys:
        return ""
    return f"`{keys[-1]}`: " if isinstance(path[-1], str) else f"an item of `{keys[-1]}`: "


def _example(path: tuple, schema_part: dict) -> str:
    """"; for example `headers: {content-type: text/plain}`" from the schema's ``examples``."""
    examples = schema_part.get("examples")
    if not examples and "$ref" in schema_part:
        examples = _validator().schema["definitions"][schema_part["$ref"].rsplit("/", 1)[-1]].get("examples")
    if not examples or not path or not isinstance(path[-1], str):
        return ""
    from mockorigin.format.yamlflow import flow

    return f"; for example `{path[-1]}: {flow(examples[0])}`"


def _is_step(schema_part: dict) -> bool:
    return "wait" in schema_part.get("properties", {}) and "respond" in schema_part.get("properties", {})


def _expected_types(error) -> str:
    names = []
    for branch in error.validator_value:
        resolved = branch
        if "$ref" in branch:  # only local refs: "#/definitions/NAME"
            resolved = _validator().schema["definitions"][branch["$ref"].rsplit("/", 1)[-1]]
        wanted = resolved.get("type", "object")
        for w in wanted if isinstance(wanted, list) else [wanted]:
            if _TYPE_NAMES[w] not in names:
                names.append(_TYPE_NAMES[w])
    return " or ".join(names)


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (quote it if you meant a string)"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    return "a list" if isinstance(value, list) else "a mapping"
