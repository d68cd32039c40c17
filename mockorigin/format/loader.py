"""Behaviour files to model objects, or every problem as ``FILE:LINE:COL: message``.

Two layers: the JSON Schema (``schema.json``) decides the shape, so editors and
the server agree; ``builder.Builder`` then gives the shape its meaning (units,
bounds, placeholders, file paths). A set with any problem is refused whole.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from mockorigin.format import model
from mockorigin.format.builder import Builder
from mockorigin.format.shape import schema, shape_problems
from mockorigin.format.shapecache import ShapeCache
from mockorigin.format.yamlsource import Problem, parse_documents, read_file

__all__ = ["LoadError", "catalogue_path", "check_set", "in_file_order", "load_paths", "load_text", "schema"]


def catalogue_path() -> str:
    """The built-in catalogue, shipped inside the package."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "catalogue")


def in_file_order(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.location.file, p.location.line, p.location.column))


class LoadError(Exception):
    """Raised with every problem found; ``str()`` is one ``FILE:LINE:COL`` line each."""

    def __init__(self, problems: list[Problem]):
        self.problems = in_file_order(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def load_paths(paths: Iterable[str], warnings: list[Problem] | None = None) -> tuple[model.Behaviour, ...]:
    """Every behaviour in these files and folders (a folder: its ``*.yaml``/``*.yml``, sorted).
    ``warnings`` (if given) receives what loads but may be a mistake (``check`` shows them)."""
    problems: list[Problem] = []
    behaviours: list[model.Behaviour] = []
    cache = ShapeCache.default()
    for path in paths:
        for file, root in _expand(path, problems):
            try:
                data = read_file(file, display=file)
            except Problem as problem:
                problems.append(problem)
                continue
            except OSError as error:
                problems.append(Problem(model.Location(file, 1, 1), f"cannot read: {error.strerror}"))
                continue
            behaviours += _load_documents(data, file, root, problems, warnings, cache)
    if warnings:
        warnings[:] = in_file_order(warnings)
    return _finish(behaviours, problems)


def load_text(text: str | bytes, name: str = "<text>", root: str | None = None, warnings: list[Problem] | None = None) -> tuple[model.Behaviour, ...]:
    """Behaviours from YAML (or JSON) text; ``body_file`` paths resolve inside ``root``."""
    problems: list[Problem] = []
    behaviours = _load_documents(text, name, root, problems, warnings)
    return _finish(behaviours, problems)


def check_set(behaviours: Iterable[model.Behaviour]) -> None:
    """Refuse a set with two behaviours of one name, or one that could never be chosen."""
    problems: list[Problem] = []
    _check_unique(list(behaviours), problems)
    if problems:
        raise LoadError(problems)


def _finish(behaviours: list[model.Behaviour], problems: list[Problem]) -> tuple[model.Behaviour, ...]:
    _check_unique(behaviours, problems)
    if problems:
        raise LoadError(problems)
    return tuple(behaviours)


def _expand(path: str, problems: list[Problem]) -> list[tuple[str, str]]:
    """(file, behaviours folder) pairs for a file or folder argument."""
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if n.endswith((".yaml", ".yml")) and not n.startswith("."))
        if not names:
            problems.append(Problem(model.Location(path, 1, 1), "no *.yaml or *.yml files in this folder"))
        return [(os.path.join(path, n), path) for n in names]
    if not os.path.exists(path):
        problems.append(Problem(model.Location(path, 1, 1), "no such file or folder"))
        return []
    return [(path, os.path.dirname(path) or ".")]


def _load_documents(
    data: str | bytes, file: str, root: str | None, problems: list[Problem], warnings: list[Problem] | None = None, cache: ShapeCache | None = None
) -> list[model.Behaviour]:
    key = None if cache is None or isinstance(data, str) else cache.key(data)
    shape_known = cache is not None and cache.knows(key)
    documents, parse_problems = parse_documents(data, file)
    problems += parse_problems
    if parse_problems:
        return []
    documents = [d for d in documents if d.value is not None]
    if not documents:
        problems.append(Problem(model.Location(file, 1, 1), "no behaviour in this file"))
        return []
    stem = os.path.splitext(os.path.basename(file))[0]
    result = []
    shapes_valid = True
    for document in documents:
        broken: set[tuple] = set()
        for problem, path in () if shape_known else shape_problems(document):
            problems.append(problem)
            broken.add(path)
        shapes_valid = shapes_valid and not broken
        builder = Builder(document, root, default_name=stem, broken=broken)
        behaviour = builder.behaviour()
        problems += builder.problems
        if warnings is not None:
            warnings += builder.warnings
        if not builder.problems and not broken:
            result.append(behaviour)
    if shapes_valid and cache is not None and not shape_known:
        cache.remember(key)
    return result


def _check_unique(behaviours: list[model.Behaviour], problems: list[Problem]) -> None:
    names: dict[str, model.Behaviour] = {}
    matches: dict[model.Match, model.Behaviour] = {}
    for behaviour in behaviours:
        assert behaviour.location is not None
        first = names.setdefault(behaviour.name, behaviour)
        if first is not behaviour:
            problems.append(Problem(behaviour.location, f"name {behaviour.name!r} is already used at {first.location}; give each behaviour its own `name`"))
        earlier = matches.setdefault(behaviour.match, behaviour)
        if earlier is not behaviour:
            problems.append(Problem(behaviour.location, f"same match and priority as {earlier.name!r} ({earlier.location}): this behaviour could never be chosen"))


# --- meaning: the model ---------------------------------------------------------
