"""docs/format.md, generated from the schema so the reference cannot drift from the format.

Every key's text is its ``description`` in ``schema.json`` (or that of the definition it
refers to) and its example the first of its ``examples``; the whole behaviours shown under
each step are the schema's top-level ``examples``; the placeholders are ``template.PLACEHOLDERS``.
``python -m mockorigin.format.reference [--check] [FILE]`` (``make docs``) writes the file, or
with ``--check`` exits 1 when it differs; tests/test_comfort_reference.py does the same.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from mockorigin.format.shape import schema as load_schema
from mockorigin.format.template import PLACEHOLDERS
from mockorigin.format.yamlflow import block, flow

DEFAULT_OUTPUT = "docs/format.md"

_REF_NAMES = {
    "duration": "duration", "size": "size", "count": "count", "status": "status", "interimStatus": "1xx status",
    "reason": "reason phrase", "headerValue": "text", "headers": "headers", "drip": "drip", "matchValue": "match value",
    "match": "mapping", "param": "param", "script": "list of steps", "step": "step", "wsStep": "WebSocket step",
}
_TYPE_NAMES = {"string": "text", "integer": "whole number", "number": "number", "boolean": "`true` or `false`", "object": "mapping", "array": "list", "null": "nothing"}

_INTRO = """\
Behaviour files are YAML, one behaviour per document (`---` between several in one file). This page
lists every key, step and placeholder with an example; the README tells the story. It is generated
from the JSON Schema (`mockorigin/format/schema.json`, printed by `mockorigin schema`) by
`make docs` (`python -m mockorigin.format.reference`), and a test fails when the two differ.

Contents: [A behaviour](#a-behaviour) · [match](#match) · [params](#params) · [Values](#values) ·
[Placeholders](#placeholders) · [Steps](#steps) · [WebSocket steps](#websocket-steps) ·
[limits](#limits) · [Examples](#more-examples) · [Editors](#editors)
"""

_EDITORS = """\
## Editors

The schema is JSON Schema draft-07 with `$id` `{id}`. An editor with a YAML language server
(VS Code's Red Hat YAML extension, Neovim, JetBrains, Helix) checks files as you type once it
finds the schema:

- **A copy next to your files**, which works from an installed package or a checkout:
  `mockorigin schema > mockorigin.schema.json`, then make the first line of each behaviour file
  `# yaml-language-server: $schema=mockorigin.schema.json` (a path relative to that file, or a URL).
- **The installed file**: `mockorigin schema --path` prints where the package keeps it
  (`.../site-packages/mockorigin/format/schema.json`; it moves with the virtual environment).
- **From a checkout**: the built-in catalogue's files start with
  `# yaml-language-server: $schema=../mockorigin/format/schema.json`; your own files can point at
  `mockorigin/format/schema.json` the same way.
- **VS Code settings** instead of a first line (`.vscode/settings.json`), for every file of a folder:
  `{{"yaml.schemas": {{"./mockorigin.schema.json": ["behaviours/*.yaml"]}}}}`.

`mockorigin check PATH` reports what an editor cannot: durations past the limits, unknown params,
`body_file` paths, placeholders, and warnings such as a body framed otherwise than its head announced.
"""


def render(schema: dict | None = None) -> str:
    """The whole reference, as Markdown."""
    schema = schema or load_schema()
    definitions = schema["definitions"]
    examples = list(schema.get("examples", ()))
    shown: set[int] = set()
    out = ["# Behaviour files: the reference", "",
           "<!-- Generated from mockorigin/format/schema.json by `make docs`: edit the schema, not this file. -->", "", _INTRO]
    out += _section("A behaviour", schema["description"], schema, definitions)
    out += _example_for(examples, shown, lambda e: "sequence" in e) + _example_for(examples, shown, lambda e: "params" in e)
    match = definitions["match"]
    out += _section("match", match["description"], match, definitions, deeper=("path", "body"))
    out += _example_for(examples, shown, lambda e: len(e.get("match", {})) >= 5)
    param = definitions["param"]
    out += _section("params", schema["properties"]["params"]["description"] + " Each is a mapping:", param, definitions)
    out += _values(definitions)
    out += _placeholders()
    out += _example_for(examples, shown, lambda e: e.get("name") == "placeholders" or "${request.json}" in flow(e))
    out += _steps("Steps", "Each step is a mapping with one key, in a list (`script`, or each script of a `sequence`). "
                  "A step with a short form takes its main field as a scalar.", definitions["step"], definitions, examples, shown, websocket=False)
    out += _steps("WebSocket steps", definitions["step"]["properties"]["upgrade"]["description"] + " The steps of `then`:",
                  definitions["wsStep"], definitions, examples, shown, websocket=True)
    limits = schema["properties"]["limits"]
    out += _section("limits", limits["description"], limits, definitions)
    out += _example_for(examples, shown, lambda e: "limits" in e)
    rest = [i for i in range(len(examples)) if i not in shown]
    out += ["## More examples", ""]
    for index in rest:
        out += _yaml(examples[index])
    out += [_EDITORS.format(id=schema["$id"])]
    return "\n".join(out).rstrip() + "\n"


def _section(title: str, text: str, node: dict, definitions: dict, deeper: Iterable[str] = ()) -> list[str]:
    lines = [f"## {title}", "", text, ""] + _table(node, definitions)
    for key in deeper:
        inner = _object_branch(node["properties"][key], definitions)
        if inner is not None:
            lines += [f"`{key}` as a mapping:", ""] + _table(inner, definitions, prefix=f"{key}.")
    return lines


def _table(node: dict, definitions: dict, prefix: str = "") -> list[str]:
    rows = ["| key | value | what it does | example |", "|---|---|---|---|"]
    for key, sub in _properties(node):
        rows.append(f"| `{prefix}{key}` | {_kind(sub, definitions)} | {_cell(_description(sub, definitions))} | {_code(_example_text(key, sub, definitions))} |")
    return rows + [""]


def _steps(title: str, text: str, node: dict, definitions: dict, examples: list, shown: set[int], websocket: bool) -> list[str]:
    lines = [f"## {title}", "", text, ""]
    under: dict[int, str] = {}  # example -> the step it is shown under, so each is shown once here
    for step, sub in _properties(node):
        lines += [f"### `{step}`", "", _description(sub, definitions), ""]
        short = [e for e in _examples(sub, definitions) if not isinstance(e, dict)]
        if short:
            lines += [f"Short form: {_code(f'{step}: {flow(short[0])}')}", ""]
        inner = _object_branch(sub, definitions)
        if inner is not None and inner.get("properties"):
            lines += _table(inner, definitions)
            for key, field in _properties(inner):  # a field's own fields, where it has some (not a shared definition's)
                fields = None if "$ref" in field else _object_branch(field, definitions)
                if fields is not None and fields.get("properties"):
                    lines += [f"`{key}` as a mapping:", ""] + _table(fields, definitions, prefix=f"{key}.")
        elif inner is not None:
            lines += [f"No fields: {_code(f'{step}: {{}}')}", ""]
        index = _choose(examples, shown, lambda e, step=step: step in _steps_used(e, websocket), always=True,
                        richness=lambda e, step=step: _keys_used(e, step, websocket))
        if index in under:
            lines += [f"Example: the one under `{under[index]}` above.", ""]
        elif index is not None:
            under[index] = step
            lines += _yaml(examples[index])
    return lines


def _values(definitions: dict) -> list[str]:
    rows = ["## Values", "", "What the value columns above name:", "", "| value | what it is | examples |", "|---|---|---|"]
    for name in ("duration", "size", "count", "status", "interimStatus", "reason", "headers", "drip", "matchValue"):
        node = definitions[name]
        shown = ", ".join(_code(flow(e)) for e in node.get("examples", ()))
        rows.append(f"| {_REF_NAMES[name]} | {_cell(node.get('description') or node.get('title', ''))} | {shown} |")
    return rows + [""]


def _placeholders() -> list[str]:
    rows = ["## Placeholders", "",
            "Strings in steps (bodies, header values, `raw` text, WebSocket payloads) may hold these; nothing else "
            "is evaluated. Inside YAML's `{...}` or `[...]`, quote them: `every: '${every}'`.", "",
            "| placeholder | what it gives | example |", "|---|---|---|"]
    for syntax, meaning, example in PLACEHOLDERS:
        rows.append(f"| `{syntax}` | {_cell(meaning)} | {_code(example)} |")
    return rows + [""]


def _example_for(examples: list, shown: set[int], wanted) -> list[str]:
    index = _choose(examples, shown, wanted)
    return [] if index is None else _yaml(examples[index])


def _choose(examples: list, shown: set[int], wanted, always: bool = False, richness=lambda e: 0) -> int | None:
    """The richest, then smallest, whole example that ``wanted`` accepts (not yet shown, unless
    ``always``), now counted as shown."""
    fitting = [i for i, e in enumerate(examples) if wanted(e) and (always or i not in shown)]
    if not fitting:
        return None
    index = min(fitting, key=lambda i: (-richness(examples[i]), _size(json.dumps(examples[i])), i))
    shown.add(index)
    return index


@functools.lru_cache(maxsize=256)
def _size(example_json: str) -> int:
    return len(flow(json.loads(example_json)))


def _yaml(example: dict) -> list[str]:
    return ["```yaml", block(example).rstrip(), "```", ""]


def _all_steps(example: dict, websocket: bool) -> list[dict]:
    scripts = [example["script"]] if "script" in example else list(example.get("sequence", ()))
    steps = [step for script in scripts for step in script]
    if websocket:
        steps = [inner for step in steps if isinstance(step.get("upgrade"), dict) for inner in step["upgrade"].get("then", ())]
    return steps


def _steps_used(example: dict, websocket: bool) -> set[str]:
    return {key for step in _all_steps(example, websocket) for key in step}


def _keys_used(example: dict, name: str, websocket: bool) -> int:
    """How many of step ``name``'s fields the example shows."""
    return len({key for step in _all_steps(example, websocket) if isinstance(step.get(name), dict) for key in step[name]})


def _properties(node: dict) -> Iterator[tuple[str, dict]]:
    yield from node.get("properties", {}).items()


def _resolve(node: dict, definitions: dict) -> dict:
    return definitions[node["$ref"].rsplit("/", 1)[-1]] if "$ref" in node else node


def _object_branch(node: dict, definitions: dict) -> dict | None:
    """The mapping form of a key or step (itself, a definition, or a branch of anyOf)."""
    node = _resolve(node, definitions)
    if "properties" in node or node.get("type") == "object" or "object" in (node.get("type") or ()):
        return node
    for branch in node.get("anyOf", []):
        found = _object_branch(branch, definitions)
        if found is not None:
            return found
    return None


def _description(node: dict, definitions: dict) -> str:
    return node.get("description") or _resolve(node, definitions).get("description", "")


def _examples(node: dict, definitions: dict) -> list:
    return list(node.get("examples") or _resolve(node, definitions).get("examples") or ())


def _example_text(key: str, node: dict, definitions: dict) -> str:
    found = _examples(node, definitions)
    return f"{key}: {flow(found[0])}" if found else ""


def _kind(node: dict, definitions: dict) -> str:
    if "$ref" in node:
        return _REF_NAMES.get(node["$ref"].rsplit("/", 1)[-1], "mapping")
    if "enum" in node:
        return "one of " + ", ".join(_code(flow(v)) for v in node["enum"])
    if "const" in node:
        return _code(flow(node["const"]))
    if "anyOf" in node:
        return " or ".join(dict.fromkeys(_kind(branch, definitions) for branch in node["anyOf"]))
    kinds = node.get("type")
    if kinds is None:
        return "any JSON value"
    names = [_TYPE_NAMES[k] for k in (kinds if isinstance(kinds, list) else [kinds])]
    return " or ".join(dict.fromkeys(names))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    if not text:
        return ""
    fence = "``" if "`" in text else "`"
    padded = f" {text} " if fence == "``" else text
    return f"{fence}{padded.replace('|', chr(92) + '|')}{fence}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mockorigin.format.reference", description="Write docs/format.md from the schema.")
    parser.add_argument("output", nargs="?", default=DEFAULT_OUTPUT, help=f"where (default {DEFAULT_OUTPUT})")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the file differs from what would be written")
    options = parser.parse_args(argv)
    text = render()
    path = Path(options.output)
    if options.check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            print(f"{path} is out of date: run `make docs`", file=sys.stderr)
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
