"""Whether a request body passes a behaviour's ``match.body`` tests.

Only what the server keeps of a body is judged: its first ``body_prefix_kept`` bytes
(64 KiB). ``equals`` and ``json`` need the whole body, so a longer one, or one that did
not arrive whole, fails them; ``contains`` and ``regex`` look at the prefix. A regex is
searched with a timeout (the router's per-request budget): ``TimeoutError`` when it runs
out, which the router counts as no match and names.
"""

from __future__ import annotations

import functools
import json
from typing import Protocol

from mockorigin.format import model


class BodyView(Protocol):
    """What matching reads of a body (``request.Body`` has it)."""

    prefix: bytearray | bytes
    length: int
    complete: bool


class EmptyBody:
    """The body of a request that has none: whole, and empty."""

    prefix = b""
    length = 0
    complete = True


def body_matches(wanted: model.BodyMatch, body: BodyView, timeout: float) -> bool:
    prefix = bytes(body.prefix)
    whole = body.complete and body.length == len(prefix)
    if wanted.equals is not None and not (whole and prefix == wanted.equals):
        return False
    if wanted.contains is not None and wanted.contains not in prefix:
        return False
    if wanted.json is not None and not (whole and _json_contains(prefix, wanted.json)):
        return False
    if wanted.regex is not None:
        if timeout <= 0:
            raise TimeoutError("the request's regex budget is spent")
        if _compiled(wanted.regex).search(prefix.decode("utf-8", "replace"), timeout=timeout) is None:
            return False
    return True


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str):
    import regex

    return regex.compile(pattern)


@functools.lru_cache(maxsize=512)
def _expected(text: str) -> object:
    return json.loads(text)


def _json_contains(data: bytes, expected_text: str) -> bool:
    try:
        actual = json.loads(data)
    except ValueError:  # not JSON (or not UTF-8): no match
        return False
    return contains(actual, _expected(expected_text))


def contains(actual: object, expected: object) -> bool:
    """Whether ``actual`` holds ``expected``: a mapping's given keys with values it holds, a
    list item by item (same length), any other value equal and of the same JSON type."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(key in actual and contains(actual[key], value) for key, value in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(map(contains, actual, expected))
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, (int, float)):
        return isinstance(actual, (int, float)) and actual == expected
    return type(actual) is type(expected) and actual == expected
