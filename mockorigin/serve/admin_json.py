"""The control API's JSON: read strictly, and every wrong shape answered with the key at fault.

Bodies are parsed with no duplicate keys, no NaN, bounded nesting and no lone
surrogates; a compose request (``{"select", "files"}``) is checked field by field;
any other JSON is behaviours, handed to the loader as YAML documents. Each
refusal is an ``ApiError`` whose ``key`` names the field (``files[0].text``).
"""

from __future__ import annotations

import json
import re

from mockorigin.format.loader import LoadError
from mockorigin.format.yamlsource import MAX_DEPTH

MAX_JSON_DEPTH = MAX_DEPTH + 1  # a JSON list of behaviours is one level deeper than YAML documents
COMPOSE_KEYS = ("select", "files")
FILE_KEYS = ("name", "text")
# Characters a JSON string may hold raw but YAML reads otherwise: line breaks (NEL, LS, PS),
# a BOM, and what YAML calls non-printable. Escaped, they mean the same in YAML.
_NOT_PLAIN_IN_YAML = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[bytes, bytes] | None = None, **extra):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        self.body = {"error": message, **extra}


def parse_json(data: bytes):
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


def as_yaml_documents(value) -> bytes:
    """A JSON object, or a list of them, as YAML documents (JSON is YAML)."""
    if not isinstance(value, (dict, list)):
        raise ApiError(400, f'the JSON body must be a behaviour (an object), a list of them, or {{"select", "files"}}; got {_kind(value)}')
    items = value if isinstance(value, list) else [value]
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ApiError(400, f"[{index}] (item {index} of the JSON list) must be a behaviour (an object), not {_kind(item)}", key=f"[{index}]")
    text = "\n---\n".join(json.dumps(item, indent=1, ensure_ascii=False) for item in items)
    return _NOT_PLAIN_IN_YAML.sub(lambda m: f"\\u{ord(m.group()):04x}", text).encode()


def known_keys(value: dict, known: tuple, what: str, prefix: str) -> None:
    for key in value:
        if key not in known:
            raise ApiError(400, f"unknown key {prefix + key!r}: {what} takes {', '.join(map(repr, known))}", key=f"{prefix}{key}")


def list_of(value: dict, key: str, expected: str, check) -> list:
    """``value[key]`` (absent or null: empty) as a list, each item checked by ``check(item, where)``."""
    items = value.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise ApiError(400, f'"{key}" must be a list of {expected}, not {_kind(items)}', key=key)
    return [check(item, f"{key}[{index}]") for index, item in enumerate(items)]


def file_entry(item, where: str) -> tuple[str, str]:
    expect(item, dict, where, '{"name": ..., "text": ...}')
    known_keys(item, FILE_KEYS, f"{where}", f"{where}.")
    if "text" not in item:
        raise ApiError(400, f'{where}.text is missing: each file needs the YAML of its behaviours', key=f"{where}.text")
    text = expect(item["text"], str, f"{where}.text", "the YAML text (a string)")
    name = item.get("name")
    if name is not None:
        expect(name, str, f"{where}.name", "a file name (a string)")
    return name or "request-body", text


def expect(value, kind: type, where: str, expected: str):
    if not isinstance(value, kind):
        raise ApiError(400, f"{where} must be {expected}, not {_kind(value)}", key=where)
    return value


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def located_problems(error: LoadError) -> list[dict]:
    return [
        {"file": p.location.file, "line": p.location.line, "column": p.location.column, "message": p.message, "text": str(p)}
        for p in error.problems
    ]


def integer(text: str, name: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise ApiError(400, f"{name} must be a whole number (0 or more)", key=name)
    return int(text)


def json_bytes(body) -> bytes:
    return json.dumps(body, indent=1).encode() + b"\n"
