"""Behaviours written in a test file, and their problems located in that file.

A dict given to ``use()`` or the marker becomes JSON text (JSON is YAML), so the
loader validates it exactly as it validates a file. Each generated line remembers
which key it holds; the test file's syntax tree says where that key was written,
so ``script[0].respond.status: 600 is out of range`` is reported at the test's own
``FILE:LINE:COL``. YAML text written as a string literal is located the same way,
line by line, when its lines can be found in the source as they are; otherwise a
problem points at the argument and says where in the text it is.

The syntax tree is only read when there is a problem to locate.
"""

from __future__ import annotations

import ast
import datetime
import json
import math
import os
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass, field

PLUGIN_MODULES = ("mockorigin.", "pluggy", "_pytest.")  # frames skipped to find the test's own line
MAX_DEPTH = 64  # as for YAML files (mockorigin.format.yamlsource.MAX_DEPTH)


@dataclass
class Site:
    """Where ``use()`` was called or the marker was written: a file, a line, and how to find the arguments."""

    file: str | None
    line: int
    call_name: str = "use"  # the called name to look for on that line: "use" or "mock_origin"
    marker_owner: object = None  # for a marker: the function, class or module that carries it
    values: tuple = ()  # the arguments as given: they tell apart several calls that could be the one
    _arguments: list | None = field(default=None, repr=False)
    _lines: list[str] | None = field(default=None, repr=False)
    _tree: ast.AST | None = field(default=None, repr=False)

    def display(self) -> str:
        """The file as pytest users read it: relative to the current folder when inside it."""
        if self.file is None:
            return "<unknown>"
        relative = os.path.relpath(self.file)
        return self.file if relative.startswith("..") else relative

    def argument(self, index: int, count: int) -> ast.AST | None:
        """The syntax node of the ``index``-th positional argument, resolving a plain name to
        the dict or string assigned to it; None when the source cannot be read."""
        if self._arguments is None:
            self._arguments = self._find_arguments(count) or []
        if index >= len(self._arguments):
            return None
        node = self._arguments[index]
        if isinstance(node, ast.Name):
            node = self._assigned(node.id, node.lineno) or node
        return node

    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = []
            if self.file is not None:
                try:
                    with open(self.file, encoding="utf-8") as handle:
                        self._lines = handle.read().splitlines()
                except (OSError, UnicodeDecodeError):
                    pass
        return self._lines

    def column(self, node: ast.AST) -> int:
        """1-based character column of a node (``col_offset`` counts UTF-8 bytes)."""
        lines = self.lines()
        if not 0 < node.lineno <= len(lines):
            return node.col_offset + 1
        return len(lines[node.lineno - 1].encode("utf-8")[: node.col_offset].decode("utf-8", "replace")) + 1

    def _parse(self) -> ast.AST | None:
        if self._tree is None and self.lines():
            try:
                self._tree = ast.parse("\n".join(self.lines()))
            except (SyntaxError, ValueError):
                return None
        return self._tree

    def _find_arguments(self, count: int) -> list | None:
        tree = self._parse()
        if tree is None:
            return None
        if self.marker_owner is not None:
            scope = self._marker_scope(tree)
            calls = [n for s in scope for n in ast.walk(s) if isinstance(n, ast.Call)]
        else:
            calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and n.lineno <= self.line <= (n.end_lineno or n.lineno)]
        calls = [c for c in calls if _called_name(c) == self.call_name and len(c.args) == count and not any(isinstance(a, ast.Starred) for a in c.args)]
        if not calls:
            return None
        best = min(calls, key=lambda c: (not self._same_values(c), (c.end_lineno or c.lineno) - c.lineno, -c.col_offset))
        return list(best.args)

    def _same_values(self, call: ast.Call) -> bool:
        """Whether each literal argument of the call equals the value given (others cannot tell)."""
        for node, value in zip(call.args, self.values, strict=False):
            try:
                if ast.literal_eval(node) != value:
                    return False
            except (ValueError, TypeError, SyntaxError, RecursionError):
                continue  # a name, a call: not a literal
        return True

    def _marker_scope(self, tree: ast.Module) -> list[ast.AST]:
        """Where this marker can be written: the owner's decorators, or a ``pytestmark`` in its body."""
        owner = self.marker_owner
        if isinstance(owner, types.ModuleType):
            return [s for s in tree.body if _assigns(s, "pytestmark")]
        name = getattr(owner, "__name__", None)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
                if not self.line or min([d.lineno for d in node.decorator_list] + [node.lineno]) <= self.line <= node.lineno:
                    marks = [s for s in node.body if _assigns(s, "pytestmark")] if isinstance(node, ast.ClassDef) else []
                    return [*node.decorator_list, *marks]
        return []

    def _assigned(self, name: str, before: int) -> ast.AST | None:
        """The dict or string last assigned to ``name`` above ``before`` (a module constant, a local)."""
        tree = self._parse()
        found = None
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.Assign) and node.lineno < before and _assigns(node, name):
                if isinstance(node.value, (ast.Dict, ast.Constant)) and (found is None or node.lineno > found.lineno):
                    found = node
        return found.value if found is not None else None


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def _assigns(statement: ast.AST, name: str) -> bool:
    return isinstance(statement, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in statement.targets)


def caller_site() -> Site:
    """The first frame outside mockorigin and pytest's machinery: where ``use()`` was written."""
    import sys

    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith(PLUGIN_MODULES):
        frame = frame.f_back
    if frame is None:  # pragma: no cover - always called from some code
        return Site(None, 0)
    return Site(frame.f_code.co_filename, frame.f_lineno)


def marker_site(owner: object, fallback_file: str | None, fallback_line: int, values: tuple = ()) -> Site:
    """Where a marker was written, given what carries it (test function, class or module) and its arguments."""
    import inspect

    target = getattr(owner, "__func__", owner)  # a test method: its function
    if not isinstance(target, (type, types.ModuleType)):
        target = inspect.unwrap(target)  # under pytest-twisted's decorators
    try:
        file = inspect.getsourcefile(target)  # type: ignore[arg-type]
        if isinstance(target, types.FunctionType):
            line = target.__code__.co_firstlineno  # its first decorator's line
        else:
            line = 0  # a class (found by its name) or a module
    except (TypeError, OSError):  # not from a file: the test's own file, a class by its name
        file, line = fallback_file, 0 if isinstance(target, type) else fallback_line
    return Site(file or fallback_file, line, call_name="mock_origin", marker_owner=target, values=tuple(values))


# --- dicts to text -------------------------------------------------------------------


@dataclass
class Line:
    path: tuple  # of keys and indexes
    value_column: int  # 1-based column where the value starts (before it: the key)


def dict_text(value: Mapping) -> tuple[str, list[Line], list[tuple[tuple, str]]]:
    """JSON text for a behaviour dict, what each line holds, and the values that cannot be
    behaviour values ((path, why) pairs: bytes, sets, objects, NaN, keys that are not text)."""
    out: list[str] = []
    lines: list[Line] = []
    refused: list[tuple[tuple, str]] = []
    _emit(value, (), 0, "", "", out, lines, refused)
    return "\n".join(out) + "\n", lines, refused


def _emit(value, path, depth, head, tail, out, lines, refused) -> None:
    indent = " " * depth
    column = len(indent) + len(head) + 1
    if depth > MAX_DEPTH and isinstance(value, (Mapping, list, tuple)):  # also what stops a dict that holds itself
        refused.append((path, f"nested deeper than {MAX_DEPTH} levels"))
        value = None
    if isinstance(value, Mapping):
        items = list(value.items())
        if not items:
            out.append(f"{indent}{head}{{}}{tail}")
            lines.append(Line(path, column))
            return
        out.append(f"{indent}{head}{{")
        lines.append(Line(path, column))
        for number, (key, item) in enumerate(items):
            if not isinstance(key, str):
                refused.append((path, f"keys must be text; {key!r} is {type(key).__name__}"))
                key = str(key)
            _emit(item, (*path, key), depth + 1, json.dumps(key) + ": ", "," if number < len(items) - 1 else "", out, lines, refused)
        out.append(f"{indent}}}{tail}")
        lines.append(Line(path, column))
        return
    if isinstance(value, (list, tuple)):
        if not value:
            out.append(f"{indent}{head}[]{tail}")
            lines.append(Line(path, column))
            return
        out.append(f"{indent}{head}[")
        lines.append(Line(path, column))
        for index, item in enumerate(value):
            _emit(item, (*path, index), depth + 1, "", "," if index < len(value) - 1 else "", out, lines, refused)
        out.append(f"{indent}]{tail}")
        lines.append(Line(path, column))
        return
    out.append(f"{indent}{head}{json.dumps(_scalar(value, path, refused))}{tail}")
    lines.append(Line(path, column))


def _scalar(value, path, refused):
    """A JSON scalar for a Python value; a ``timedelta`` is seconds, a path is its text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        refused.append((path, f"{value!r} is not a finite number"))
        return None
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    why = "bytes are not text: decode them, or give the body as {hex: ...} or {base64: ...}" if isinstance(value, (bytes, bytearray)) else (
        f"{type(value).__name__} is not a behaviour value: give text, a number, true/false, None, a dict or a list"
    )
    refused.append((path, why))
    return None


def key_path(path: tuple) -> str:
    """``("script", 0, "respond", "status")`` -> ``script[0].respond.status``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# --- locating problems ---------------------------------------------------------------


@dataclass
class Place:
    """A place in the test source; ``hint`` says where inside the item when the place is only the argument."""

    file: str
    line: int
    column: int
    hint: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass
class Written:
    """One behaviour item written in the test (a dict or YAML text), under the pseudo file name it is loaded as."""

    name: str  # "dict-1.yaml", "inline-2.yaml"
    text: str
    site: Site
    index: int  # which positional argument
    count: int  # how many positional arguments the call had
    lines: list[Line] | None = None  # for a dict: what each generated line holds

    def locate(self, line: int, column: int) -> Place:
        """The place in the test source of a line and column of the loaded text."""
        if self.lines is not None:
            held = self.lines[min(max(line, 1), len(self.lines)) - 1]
            return self.locate_path(held.path, key=column < held.value_column)
        return self._locate_in_text(line, column)

    def locate_path(self, path: tuple, key: bool = False) -> Place:
        """Where a key (or its value) of a dict was written; the hint names the key either way."""
        node = self.site.argument(self.index, self.count)
        where = _dict_node(node, path, key) if isinstance(node, ast.Dict) else node
        hint = f"at {key_path(path)}" if path else ""
        if where is None:
            return Place(self.site.display(), self.site.line, 1, hint)
        return Place(self.site.display(), where.lineno, self.site.column(where), hint)

    def _locate_in_text(self, line: int, column: int) -> Place:
        """YAML text in a string literal: the very line when the literal holds it as it is
        (a triple-quoted string without escapes), else the argument, with the text's line."""
        node = self.site.argument(self.index, self.count)
        source = self.site.lines()
        text_lines = self.text.split("\n")
        if isinstance(node, ast.Constant) and node.value == self.text and 0 < line <= len(text_lines) and node.lineno <= len(source):
            opening = self.site.column(node) - 1
            first = opening + _literal_prefix(source[node.lineno - 1][opening:])
            row, start = node.lineno + line - 1, (first if line == 1 else 0)
            wanted = text_lines[line - 1]
            if row <= (node.end_lineno or node.lineno) and source[row - 1][start : start + len(wanted)] == wanted:
                return Place(self.site.display(), row, start + column)
        hint = f"YAML text line {line}, column {column}"
        if node is None:
            return Place(self.site.display(), self.site.line, 1, hint)
        return Place(self.site.display(), node.lineno, self.site.column(node), hint)


def _literal_prefix(text: str) -> int:
    """Length of a string literal's prefix and opening quotes: ``r\"\"\"`` is 4."""
    match = re.match(r"[rRbBuUfF]*('''|\"\"\"|'|\")", text)
    return match.end() if match else 0


def _dict_node(node: ast.Dict, path: tuple, key: bool) -> ast.AST:
    """The key (or value) node a path names inside a dict literal, or the closest enclosing one."""
    current: ast.AST = node
    found: ast.AST = node
    for depth, part in enumerate(path):
        last = depth == len(path) - 1
        if isinstance(current, ast.Dict) and isinstance(part, str):
            pairs = [(k, v) for k, v in zip(current.keys, current.values, strict=True) if isinstance(k, ast.Constant) and k.value == part]
            if not pairs:
                return found
            key_node, value_node = pairs[-1]
            found = key_node if key and last else value_node
            current = value_node
        elif isinstance(current, (ast.List, ast.Tuple)) and isinstance(part, int) and part < len(current.elts):
            current = found = current.elts[part]
        else:
            return found
    return found


_PSEUDO = re.compile(r"\b((?:dict|inline)-\d+\.yaml):(\d+):(\d+)")


def located(file: str, line: int, column: int, message: str, written: Mapping[str, Written]) -> str:
    """One problem as ``FILE:LINE:COL: message``, moved into the test source when it was found
    in a dict or YAML text written there (and so are other such places the message names)."""

    def move(match: re.Match) -> str:
        item = written.get(match.group(1))
        return match.group(0) if item is None else str(item.locate(int(match.group(2)), int(match.group(3))))

    message = _PSEUDO.sub(move, message)
    item = written.get(file)
    if item is None:
        return f"{file}:{line}:{column}: {message}"
    place = item.locate(line, column)
    return f"{place}: {message}" + (f" ({place.hint})" if place.hint else "")
