"""The layout keeps its promises: imports point one way, down the layers, and never in a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import mockorigin

PACKAGE = Path(mockorigin.__file__).parent

# Bottom to top: a module may import modules of its own layer and of layers below it.
LAYERS = [
    {"mockorigin.limits", "mockorigin.version"},
    {"mockorigin.format"},
    {"mockorigin.observe"},
    {"mockorigin.interpreter"},
    {"mockorigin.transport", "mockorigin.tls"},
    {"mockorigin.websocket"},
    {"mockorigin.http1", "mockorigin.http2"},
    {"mockorigin.serve"},
    {"mockorigin.compat"},
    {"mockorigin.fixtures", "mockorigin.cli", "mockorigin.tap", "mockorigin.pytest_plugin", "mockorigin.__main__", "mockorigin"},
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(name: str) -> int:
    for rank, prefixes in enumerate(LAYERS):
        if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes if prefix != "mockorigin"):
            return rank
    assert name == "mockorigin", f"{name} is in no layer: add it to LAYERS"
    return len(LAYERS) - 1


def imports_of(path: Path) -> set[str]:
    """Every mockorigin module ``path`` imports, at the top or inside a function, except
    under ``if TYPE_CHECKING:`` (annotations only, never run)."""
    tree = ast.parse(path.read_text())
    skipped = {id(node) for guard in ast.walk(tree) if isinstance(guard, ast.If) and "TYPE_CHECKING" in ast.unparse(guard.test) for node in ast.walk(guard)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:  # the module itself when it is one, else the package that holds the name
                found.add(f"{node.module}.{alias.name}" if _exists(f"{node.module}.{alias.name}") else node.module)
    return {name for name in found if (name == "mockorigin" or name.startswith("mockorigin.")) and _exists(name)}


def _exists(name: str) -> bool:
    relative = Path(*name.split(".")[1:])
    return (PACKAGE / relative).with_suffix(".py").exists() or (PACKAGE / relative / "__init__.py").exists() or name == "mockorigin"


def graph() -> dict[str, set[str]]:
    return {module_name(path): imports_of(path) for path in PACKAGE.rglob("*.py")}


def test_every_import_points_down_the_layers():
    upward = [
        f"{importer} ({layer_of(importer)}) imports {imported} ({layer_of(imported)})"
        for importer, imported_set in graph().items()
        for imported in imported_set
        if layer_of(imported) > layer_of(importer)
    ]
    assert upward == []


def test_no_import_cycle():
    edges = {name: {i for i in imported if i != name and i != "mockorigin"} for name, imported in graph().items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(trail[trail.index(nxt):] + [nxt]) if nxt in trail else f"{node} -> {nxt}")
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_no_module_is_over_about_400_lines():
    big = {module_name(p): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 420}
    assert big == {}


def test_the_checker_sees_an_upward_import_and_a_cycle(tmp_path):
    """The two tests above would fail: a made-up upward import and cycle are found."""
    assert layer_of("mockorigin.format.loader") < layer_of("mockorigin.http1.running")
    source = tmp_path / "m.py"
    source.write_text("from typing import TYPE_CHECKING\nfrom mockorigin.http1 import running\nif TYPE_CHECKING:\n    from mockorigin.serve import service\n")
    assert imports_of(source) == {"mockorigin.http1.running"}
