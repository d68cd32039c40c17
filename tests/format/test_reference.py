"""docs/format.md: generated from the schema, complete, and every example in it loads."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from jsonschema import Draft7Validator

from mockorigin.format import template
from mockorigin.format.loader import load_text, schema
from mockorigin.format.reference import _steps_used, main, render
from mockorigin.format.template import PLACEHOLDERS, parse_template

from tests.helpers import ROOT

DOCS = ROOT / "docs" / "format.md"


def test_the_reference_is_what_the_generator_writes_now():
    assert DOCS.read_text(encoding="utf-8") == render(), "docs/format.md is out of date: run `make docs`"


def test_the_check_mode_tells_a_stale_file(tmp_path, capsys):
    stale = tmp_path / "format.md"
    stale.write_text(render().replace("## Steps", "## Stepz"), encoding="utf-8")
    assert main(["--check", str(stale)]) == 1
    assert "run `make docs`" in capsys.readouterr().err
    assert main([str(stale)]) == 0 and main(["--check", str(stale)]) == 0


def yaml_blocks(text: str) -> list[str]:
    return re.findall(r"^```yaml\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def test_every_example_block_in_the_reference_loads():
    blocks = yaml_blocks(DOCS.read_text(encoding="utf-8"))
    assert len(blocks) >= len(schema()["examples"])
    for block in blocks:
        (behaviour,) = load_text(block, "docs/format.md")
        assert behaviour.name in block


def test_every_whole_example_is_shown_and_every_step_has_one():
    text = DOCS.read_text(encoding="utf-8")
    loaded = [yaml.safe_load(block) for block in yaml_blocks(text)]
    examples = schema()["examples"]
    assert all(example in loaded for example in examples)
    definitions = schema()["definitions"]
    for kind, websocket in (("step", False), ("wsStep", True)):
        used = set().union(*(_steps_used(example, websocket) for example in loaded))
        for step in definitions[kind]["properties"]:
            assert re.search(rf"^### `{step}`$", text, flags=re.MULTILINE), step
            assert step in used, f"no example in the reference uses `{step}`"


def keys(node: dict, definitions: dict, where: str) -> list[tuple[str, dict]]:
    """Every key of the format, with where it is, through anyOf branches, lists and maps."""
    found = []
    for name, sub in node.get("properties", {}).items():
        found.append((f"{where}{name}", sub))
        found += keys(sub, definitions, f"{where}{name}.")
    for branch in node.get("anyOf", []) + node.get("oneOf", []):
        found += keys(branch, definitions, where)
    for inner in ("items", "additionalProperties"):
        if isinstance(node.get(inner), dict):
            found += keys(node[inner], definitions, where)
    return found


def every_key() -> list[tuple[str, dict]]:
    document = schema()
    definitions = document["definitions"]
    found = keys(document, definitions, "")
    for name, node in definitions.items():
        found += keys(node, definitions, f"{name}.")
    return found


def resolved(node: dict) -> dict:
    definitions = schema()["definitions"]
    return definitions[node["$ref"].rsplit("/", 1)[-1]] if "$ref" in node else node


@pytest.mark.parametrize("where,node", every_key(), ids=[where for where, _ in every_key()])
def test_every_key_has_a_description_and_examples_that_fit_it(where, node):
    description = node.get("description") or resolved(node).get("description")
    examples = node.get("examples") or resolved(node).get("examples")
    assert description, f"{where} has no description"
    assert examples, f"{where} has no examples"
    validator = Draft7Validator({**node, "definitions": schema()["definitions"]})
    for example in examples:
        assert list(validator.iter_errors(example)) == [], f"{where}: {example!r} does not fit"


def test_every_key_is_in_the_reference():
    text = DOCS.read_text(encoding="utf-8")
    for where, _node in every_key():
        key = where.rsplit(".", 1)[-1]
        assert re.search(rf"^(\| `([\w.]+\.)?{key}` \||### `{key}`$)", text, flags=re.MULTILINE), where


def test_the_whole_examples_are_valid_behaviours():
    document = schema()
    validator = Draft7Validator(document)
    for example in document["examples"]:
        assert list(validator.iter_errors(example)) == [], example["name"]
        load_text(json.dumps(example), example["name"])


def test_the_placeholder_table_is_the_parser():
    """Every request field the parser knows is in the table, each example parses, and the
    table names nothing the parser refuses."""
    listed = {syntax for syntax, _meaning, _example in PLACEHOLDERS}
    fields = {f"${{request.{name}}}" for name in template._REQUEST_FIELDS} | {"${request.query.NAME}", "${request.header.NAME}"}
    assert fields <= listed
    for _syntax, _meaning, example in PLACEHOLDERS:
        strings = [value for value in _strings(yaml.safe_load(example))]
        assert strings, example
        for text in strings:
            parse_template(text, {"delay"})


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_each_placeholder_renders_in_the_example_that_shows_them_all(harness):
    h = harness(next(block for block in yaml_blocks(DOCS.read_text(encoding="utf-8")) if "name: placeholders" in block))
    h.send(b"GET /placeholders?q=1 HTTP/1.1\r\nHost: x\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
    response = h.take().decode()
    assert "HTTP/1.1 103 Early Hints\r\nlink: </hint/1>; rel=preload\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </hint/2>; rel=preload\r\n\r\n" in response
    assert "x-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in response
    assert "\r\n\r\nhello GET /placeholders /placeholders?q=1 HTTP/1.1 q=1 ua=unknown length=0 ${literal}\n{" in response
