"""Reading YAML safely, keeping where every value came from.

PyYAML's safe loader still lets through three things a server must not accept:
alias bombs (cheap to load, explosive to walk), deep nesting (``RecursionError``
rather than a YAML error) and duplicate keys (silently last-wins). So a file is
checked in two passes: the event stream first (aliases, the expanded size and
the depth are counted before any node is built), then the node tree, converted by
hand into plain values with a ``path -> (line, column)`` table for error messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from mockorigin.format.model import Location

try:  # the C parser is ~10x faster; fall back quietly where libyaml is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_FILE_BYTES = 1024 * 1024
MAX_ALIASES = 100
MAX_DEPTH = 64
MAX_VALUES = 200_000  # nodes after alias expansion, in a whole file: 9 aliases of 9 aliases of ... stay under MAX_ALIASES

Path = tuple  # of str keys and int indexes
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}")  # how JSON escapes one half of U+10000 and above
_SURROGATE = re.compile("[\ud800-\udfff]")

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}


@dataclass
class Problem(Exception):
    """One located problem in a behaviour source."""

    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass
class Document:
    """One YAML document as plain values, with the location of each value and key."""

    value: object
    file: str
    start: Location
    values: dict[Path, Location] = field(default_factory=dict)
    keys: dict[Path, Location] = field(default_factory=dict)

    def where(self, path: Path, key: bool = False) -> Location:
        """The closest known location for ``path`` (walking up to a parent)."""
        table = self.keys if key else self.values
        path = tuple(path)
        while path:
            if path in table:
                return table[path]
            if key and path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get((), self.start)


def read_file(path: str, display: str | None = None) -> bytes:
    """The file's bytes, refusing oversized files before reading them."""
    import os

    name = display or path
    size = os.stat(path).st_size
    if size > MAX_FILE_BYTES:
        raise Problem(
            Location(name, 1, 1), f"file is {size} bytes; the limit is {MAX_FILE_BYTES} (1 MiB)"
        )
    with open(path, "rb") as handle:
        return handle.read(MAX_FILE_BYTES + 1)


def parse_documents(data: bytes | str, name: str) -> tuple[list[Document], list[Problem]]:
    """Every document in ``data``, or the problems that stop it from being read."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_FILE_BYTES:
        return [], [Problem(Location(name, 1, 1), f"more than {MAX_FILE_BYTES} bytes (1 MiB)")]
    try:
        _check_events(data, name)
        roots = list(yaml.compose_all(data, Loader=_Loader))
    except Problem as problem:
        return [], [problem]
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        if error.context_mark is not None and "end of stream" in str(error.problem):
            mark = error.context_mark  # where the unclosed thing began, not the end of the file
        where = _location(name, mark) if mark else Location(name, 1, 1)
        text = " ".join(str(part) for part in (error.context, error.problem) if part) or "invalid YAML"
        line = data.split(b"\n")[where.line - 1] if where.line <= data.count(b"\n") + 1 else b""
        if b"\t" in line[: where.column]:
            text += " (YAML cannot be indented with tabs; use spaces)"
        elif "flow" in text and b"${" in line:
            text += ' (inside {...} or [...], quote placeholders: "${name}")'
        elif "escape" in text and _SURROGATE_ESCAPE.search(line):
            text += r" (JSON's surrogate pairs are not YAML: write the character itself, or \UXXXXXXXX)"
        return [], [Problem(where, text)]
    except yaml.YAMLError as error:  # reader errors: bad bytes or encoding
        position = getattr(error, "position", None)
        where = _offset_location(data, name, position) if position is not None else Location(name, 1, 1)
        reason = getattr(error, "reason", None) or str(error).splitlines()[0]
        return [], [Problem(where, f"unreadable text: {reason}")]
    documents, problems = [], []
    for root in roots:
        document = Document(None, name, _location(name, root.start_mark))
        try:
            document.value = _convert(root, (), document, problems)
        except Problem as problem:
            problems.append(problem)
        documents.append(document)
    return documents, problems


def _check_events(data: bytes, name: str) -> None:
    """Refuse alias bombs, recursive aliases and deep nesting before any node is built.

    The expanded size of each node (an alias costs the whole subtree of its anchor) is
    summed as the events go by, so a bomb stops at the alias that takes the file past
    ``MAX_VALUES``: for the 342-byte bomb, after a few dozen events and under a millisecond,
    instead of after a walk of the expanded tree (0.4 s and +57 MB).
    """
    aliases = total = 0
    sizes: dict[str, int | None] = {}  # anchor -> expanded size; None while its node is open
    open_nodes: list[list] = []  # [anchor, expanded size so far] of each unfinished collection
    for event in yaml.parse(data, Loader=_Loader):
        if isinstance(event, yaml.DocumentStartEvent):
            sizes.clear()  # anchors do not cross documents
            continue
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            anchor, size = open_nodes.pop()
            if anchor is not None:
                sizes[anchor] = size
            if open_nodes:
                open_nodes[-1][1] += size
            continue
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise Problem(_location(name, event.start_mark), f"more than {MAX_ALIASES} aliases in one file (a YAML alias bomb?)")
            if event.anchor in sizes and sizes[event.anchor] is None:
                message = f"alias *{event.anchor} is inside its own anchor &{event.anchor} (a recursive structure)"
                raise Problem(_location(name, event.start_mark), message)
            size = sizes.get(event.anchor) or 1  # an undefined alias is the composer's to report
        elif isinstance(event, (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            size = 1
            if event.anchor is not None:
                sizes[event.anchor] = 1 if isinstance(event, yaml.ScalarEvent) else None
        else:
            continue
        total += size
        if total > MAX_VALUES:
            cause = " through aliases (a YAML alias bomb?)" if aliases else ""
            raise Problem(_location(name, event.start_mark), f"expands to more than {MAX_VALUES} values{cause}")
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if len(open_nodes) == MAX_DEPTH:
                raise Problem(_location(name, event.start_mark), f"nested deeper than {MAX_DEPTH} levels")
            open_nodes.append([event.anchor, 1])
        elif open_nodes:
            open_nodes[-1][1] += size


def _convert(node: yaml.Node, path: Path, document: Document, problems: list[Problem]) -> object:
    where = _location(document.file, node.start_mark)
    document.values.setdefault(path, where)
    if isinstance(node, yaml.ScalarNode):
        if node.tag not in _SCALAR_TAGS:
            raise Problem(where, f"unsupported YAML tag {node.tag!r}: only plain values are allowed")
        value = _SCALAR_CONSTRUCTOR.construct_object(node, deep=True)
        if isinstance(value, str) and _SURROGATE.search(value):  # the pure-Python parser lets "\ud83d" through
            raise Problem(where, r"a string with half of a surrogate pair (JSON's \ud83d\ude00?): write the character itself, or \UXXXXXXXX")
        return value
    if isinstance(node, yaml.SequenceNode):
        if node.tag != "tag:yaml.org,2002:seq":
            raise Problem(where, f"unsupported YAML tag {node.tag!r}")
        return [_convert(item, path + (index,), document, problems) for index, item in enumerate(node.value)]
    if node.tag != "tag:yaml.org,2002:map":
        raise Problem(where, f"unsupported YAML tag {node.tag!r}")
    result: dict[str, object] = {}
    for key_node, value_node in node.value:
        key_where = _location(document.file, key_node.start_mark)
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _SCALAR_TAGS:
            problems.append(Problem(key_where, "a key must be a plain string"))
            continue
        key = key_node.value if key_node.tag != "tag:yaml.org,2002:null" else ""
        if key in result:
            first = document.keys[path + (key,)]
            problems.append(Problem(key_where, f"duplicate key {key!r} (first given at line {first.line})"))
            continue
        document.keys[path + (key,)] = key_where
        try:
            result[key] = _convert(value_node, path + (key,), document, problems)
        except Problem as problem:
            problems.append(problem)
    return result


_SCALAR_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def _location(name: str, mark: yaml.Mark) -> Location:
    return Location(name, mark.line + 1, mark.column + 1)


def _offset_location(data: bytes, name: str, offset: int) -> Location:
    before = data[:offset]
    line = before.count(b"\n") + 1
    column = offset - (before.rfind(b"\n") + 1) + 1
    return Location(name, line, column)
