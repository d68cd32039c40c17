"""The commonest YAML mistake, told as one message: keys meant for a mapping sit beside it.

::

    - respond:
      status: 200        # at the level of `respond`, not under it

YAML reads a step with two keys, ``respond: null`` and ``status: 200``; the schema then
reports three things, none of them the cause. Here such a mapping is found once (a key
that its sibling takes, where the sibling is empty, in its short form, or a mapping of its
own), one message says what to indent, and the errors that follow from it are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mockorigin.format.yamlsource import Document, Problem


@dataclass(frozen=True)
class Misplaced:
    path: tuple  # the mapping that holds both
    sibling: str  # the key they belong under
    keys: tuple[str, ...]  # the keys that sit beside it
    also_steps: tuple[str, ...]  # those of them that are steps too (a missing `- ` would explain these)


def find_misplaced(errors: Iterable, definitions: dict, step_schemas: tuple[dict, ...]) -> dict[tuple, Misplaced]:
    """path -> ``Misplaced``, from schema errors on mappings: an unknown key, or a step with
    more than one key, that a sibling in the same mapping takes."""
    found: dict[tuple, Misplaced] = {}
    for error in errors:
        is_step = error.validator == "maxProperties" and any(error.schema == s for s in step_schemas)
        if not isinstance(error.instance, dict) or not (error.validator == "additionalProperties" or is_step):
            continue
        path = tuple(error.absolute_path)
        if path in found:
            continue
        properties = error.schema.get("properties", {})
        for sibling, value in error.instance.items():
            if sibling not in properties or isinstance(value, list):
                continue
            takes = keys_of(properties[sibling], definitions)
            theirs = tuple(key for key in error.instance if key != sibling and key in takes)
            if theirs and (is_step or any(key not in properties for key in theirs)):
                found[path] = Misplaced(path, sibling, theirs, tuple(key for key in theirs if key in properties))
                break
    return found


def follows_from(error, misplaced: dict[tuple, Misplaced], document: Document) -> bool:
    """Whether this error is only a consequence of a misplacement: the mapping's count of
    keys, a key told unknown, or what an empty or short-form sibling lacks (a sibling that is
    a mapping keeps its own errors)."""
    path = tuple(error.absolute_path)
    for where, found in misplaced.items():
        if path == where and error.validator in ("maxProperties", "minProperties", "oneOf", "anyOf"):
            return True
        if path == where and error.validator == "additionalProperties" and set(error.instance) - set(error.schema.get("properties", {})) <= set(found.keys):
            return True
        if path[: len(where) + 1] == where + (found.sibling,) and not isinstance(value_at(document.value, where + (found.sibling,)), dict):
            return True
    return False


def keys_of(node: dict, definitions: dict) -> set[str]:
    """Every key an object form of this schema takes (through $ref, anyOf and oneOf)."""
    if "$ref" in node:
        node = {**definitions[node["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
    keys = set(node.get("properties", {}))
    for branch in node.get("anyOf", []) + node.get("oneOf", []):
        keys |= keys_of(branch, definitions)
    return keys


def problem(found: Misplaced, document: Document) -> Problem:
    sibling, keys = found.sibling, found.keys
    value = value_at(document.value, found.path + (sibling,))
    shown = " and ".join(f"`{key}`" for key in keys)
    verb, subject, pronoun = ("is", "it", "it") if len(keys) == 1 else ("are", "they", "them")
    if value is None:
        message = f"{shown} {verb} not indented under `{sibling}:`, so {subject} {verb} not part of it: indent {pronoun} further than `{sibling}` (two more spaces)"
    elif isinstance(value, dict):
        message = f"{shown} {verb} not indented under `{sibling}:`, so {subject} {verb} not part of it: indent {pronoun} like the other keys of `{sibling}`"
    else:
        message = (f"{shown} {verb} not indented under `{sibling}:` and `{sibling}` has its short form ({value!r}): "
                   f"write `{sibling}:` on its own line and indent every field under it, {shown} included")
    if found.also_steps:
        steps = " and ".join(f"`{key}`" for key in found.also_steps)
        message += f" (or, if {steps} {'is a step' if len(found.also_steps) == 1 else 'are steps'} of {'its' if len(found.also_steps) == 1 else 'their'} own, begin each with `- `)"
    return Problem(document.where(found.path + (keys[0],), key=True), message)


def value_at(value: object, path: tuple) -> object:
    for part in path:
        value = value[part]  # type: ignore[index]
    return value
