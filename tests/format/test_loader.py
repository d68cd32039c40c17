"""Behaviour files: every problem as FILE:LINE:COL, nothing half-loaded, nothing unsafe."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import tracemalloc

import pytest
import yaml

from mockorigin.format import model
from mockorigin.format import yamlsource
from mockorigin.cli import main
from mockorigin.format.loader import LoadError, load_paths, load_text, schema

from tests.helpers import ROOT


def problems(text: str, name: str = "b.yaml") -> list[str]:
    with pytest.raises(LoadError) as caught:
        load_text(text, name)
    return [str(p) for p in caught.value.problems]


def test_the_spec_example_loads_into_the_model():
    (behaviour,) = load_text(
        """
name: continue-delayed
match:
  method: [POST, PUT]
  path: /continue/delayed
  headers: {expect: 100-continue}
params:
  delay: {type: duration, default: 1s, max: 60s}
script:
  - wait: ${delay}
  - interim: 100
  - read_body: {}
  - respond:
      status: 200
      headers: {content-type: application/json}
      body: '{"received": ${request.body_length}}'
"""
    )
    assert behaviour.match.methods == frozenset({"POST", "PUT"})
    assert behaviour.match.headers == (("expect", "100-continue"),)
    assert behaviour.params == (model.Param("delay", "duration", 1.0, 0.0, 60.0),)
    steps = behaviour.scripts[0]
    assert steps[0] == model.Wait(model.ParamRef("delay"))
    assert steps[1] == model.Interim(100)
    assert steps[2] == model.ReadBody()
    assert isinstance(steps[3], model.Respond) and steps[3].status == 200


@pytest.mark.parametrize(
    "text,expected",
    [
        ("script: [{respond: {status: 200, dealy: 1}}]", "b.yaml:1:34: unknown key 'dealy'; expected one of: auto_headers"),
        ("script: [{interim: {status: 102, cuont: 2}}]", "b.yaml:1:34: unknown key 'cuont' (did you mean 'count'?)"),
        ("script: [{wiat: 1s}]", "b.yaml:1:11: unknown step 'wiat' (did you mean 'wait'?)"),
        ("script: [{respond: '200'}]", "b.yaml:1:20: '200' is not a valid status"),
        ("script: [{respond: 99}]", "b.yaml:1:20: 99 is out of range: must be at least 100"),
        ("script: [{respond: 600}]", "b.yaml:1:20: 600 is out of range: must be at most 599"),
        ("script: [{wait: -1}]", "b.yaml:1:17: -1 is out of range"),
        ("script: [{hang: 601s}]", "b.yaml:1:17: '601s' is above the limit of 600s"),
        ("script: [{interim: {status: 102, count: 1001}}]", "b.yaml:1:41: 1001 is above the limit of 1000"),
        ("script: [{respond: {status: 200, body_size: 65MiB}}]", "is above the limit of 67108864"),
        ("script: [{respond: {status: 200, drip: {every: 2s, bytes: 0}}}]", "drip at least 1 byte"),
        ("script: [{respond: {status: 200, headers: {x: \"a\\r\\nb: c\"}}}]", "would split the response"),
        ("script: [{respond: {status: 200, trailers: {x: y}}}]", "trailers need `chunked: true`"),
        ("script: [{respond: {status: 200, body: '${nope}'}}]", "unknown placeholder ${nope}"),
        ("script: [{wait: '${nope}'}]", "unknown param ${nope}"),
        ("match: {version: 2}\nscript: [{respond: 200}]", "2 is not one of '1.0', '1.1'"),
        ("match: {path: {regex: '('}}\nscript: [{respond: 200}]", "invalid regex"),
        ("match: {path: nopath}\nscript: [{respond: 200}]", "not a valid path starting with /"),
        ("name: x\n", "give exactly one of `script` or `sequence`"),
        ("script: [{wait: 1s, respond: 200}]", "a step is a mapping with exactly one key"),
        ("script: []", "[] should be non-empty"),
        ("script: [{respond: 200}]\nscript: [{respond: 204}]", "b.yaml:2:1: duplicate key 'script' (first given at line 1)"),
        ("params: {d: {type: duration, default: 2m, max: 1m}}\nscript: [{wait: '${d}'}]", "default 120.0 is outside min..max"),
        ("params: {d: {type: duration, default: 1s, max: 1h}}\nscript: [{wait: '${d}'}]", "is not a duration such as"),
        ("params: {n: {type: string, default: a}}\nscript: [{wait: '${n}'}]", "param 'n' is a string; a duration is needed here"),
        ("params: {s: {type: integer, default: 200}}\nscript: [{respond: '${s}'}]", "give it min >= 100 and max <= 599"),
        ("match: {method: 1}\nscript: [{respond: 200}]", "expected a string or a list, got the number 1"),
        ("script: [{respond: {status: 200, body: a, body_size: 3}}]", "give only one of body, body_file, body_size or json"),
        ("script: [{body: {hex: zz}}]", "invalid hex"),
        ("summary: on\nscript: [{respond: 200}]", "expected a string, got true (quote it if you meant a string)"),
    ],
)
def test_each_problem_is_reported_with_its_location(text, expected):
    found = problems(text)
    assert any(expected in line for line in found), found
    assert all(line.startswith("b.yaml:") for line in found)


def test_all_problems_are_reported_not_only_the_first():
    found = problems("script:\n  - wiat: 1s\n  - respond: 600\n  - wait: '${x}'\n")
    assert [line.split(": ", 1)[0] for line in found] == ["b.yaml:2:5", "b.yaml:3:14", "b.yaml:4:11"]


def test_python_tags_are_refused_and_never_run(tmp_path):
    canary = tmp_path / "canary"
    text = f"script: !!python/object/apply:os.system ['touch {canary}']\n"
    assert any("unsupported YAML tag" in line for line in problems(text))
    assert not canary.exists()


def alias_bomb() -> str:
    """The classic 342-byte bomb: 9 levels of 9 aliases each, 387 million values once expanded."""
    lines = ['a: &a [' + ",".join(['"lol"'] * 9) + "]"]
    for index in range(1, 9):
        previous, current = chr(ord("a") + index - 1), chr(ord("a") + index)
        lines.append(f"{current}: &{current} [" + ",".join(f"*{previous}" for _ in range(9)) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_before_anything_is_built():
    bomb = alias_bomb()
    assert len(bomb) == 342 and bomb.count("*") == 72  # under the 100-alias limit
    problems(bomb)  # warm up: imports and the schema are not what is measured
    tracemalloc.start()
    try:
        started = time.perf_counter()
        found = problems(bomb)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Refused from the event stream at the alias that passes 200,000 values (line 6, the second
    # alias in &f): about 1 ms here, and well under the 50 ms budget even under tracemalloc.
    assert found == ["b.yaml:6:11: expands to more than 200000 values through aliases (a YAML alias bomb?)"]
    assert elapsed < 0.2, elapsed  # was 0.4-0.5 s (a walk of the expanded tree)
    assert peak < 2 * 1024 * 1024, peak  # was +57 MB


def test_an_alias_inside_its_own_anchor_is_a_clean_error():
    found = problems("name: a\nscript: &s [{respond: 200}, *s]\n")
    assert found == ["b.yaml:2:29: alias *s is inside its own anchor &s (a recursive structure)"]


def test_files_with_a_few_aliases_still_load():
    (behaviour,) = load_text(
        "name: retry\n"
        "match: {path: &p /retry, headers: {x-path: *p}}\n"
        "sequence:\n"
        "  - &fail [{wait: 10ms}, {respond: {status: 503, headers: &h {retry-after: '0'}}}]\n"
        "  - *fail\n"
        "  - [{respond: {status: 200, headers: *h}}]\n"
    )
    assert len(behaviour.scripts) == 3 and behaviour.scripts[0] == behaviour.scripts[1]
    assert behaviour.match.headers == (("x-path", "/retry"),)


def test_many_values_without_aliases_are_counted_too():
    text = "name: a\nscript: [{respond: 200}]\nsummary: x\nreferences: [" + ", ".join(["r"] * 200_001) + "]\n"
    (found,) = problems(text)
    assert found.endswith(": expands to more than 200000 values") and found.startswith("b.yaml:4:")


def test_more_than_100_aliases_are_refused():
    text = "x: &x 1\nl: [" + ", ".join("*x" for _ in range(101)) + "]\n"
    assert any("more than 100 aliases" in line for line in problems(text))


LOCATED = re.compile(r"^b\.yaml:\d+:\d+: \S[^\n]*$")


@pytest.mark.parametrize("loader", ["libyaml", "python"])
def test_deep_nesting_is_a_clean_error_not_a_recursion_error(loader, monkeypatch):
    """One located line, whoever notices first: libyaml 0.2.6 scans a line ahead and stops at
    1000 flow levels in its own words; the pure-Python parser gets to our limit first."""
    if loader == "python":
        monkeypatch.setattr(yamlsource, "_Loader", yaml.SafeLoader)
    for text in ("a: " + "[" * 1000 + "]" * 1000 + "\n", "a: " + "{a: " * 1000 + "}" * 1000 + "\n"):
        (found,) = problems(text)
        assert LOCATED.match(found), found
        assert "Recursion" not in found and "Traceback" not in found


@pytest.mark.parametrize("loader", ["libyaml", "python"])
def test_nesting_past_our_limit_gets_our_message(loader, monkeypatch):
    if loader == "python":
        monkeypatch.setattr(yamlsource, "_Loader", yaml.SafeLoader)
    flow = "a: " + "[" * 100 + "]" * 100 + "\n"
    block = "".join(" " * depth + f"k{depth}:\n" for depth in range(100)) + " " * 100 + "x: 1\n"
    assert problems(flow) == ["b.yaml:1:67: nested deeper than 64 levels"]
    assert problems(block) == ["b.yaml:65:65: nested deeper than 64 levels"]


def test_deep_nesting_through_check_prints_one_line(tmp_path, capsys):
    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 1000 + "]" * 1000 + "\n")
    assert main(["check", str(deep)]) == 2
    err = capsys.readouterr().err
    located = [line for line in err.splitlines() if not line.startswith("mockorigin:")]
    assert len(located) == 1 and located[0].startswith(f"{deep}:1:") and "Traceback" not in err


@pytest.mark.parametrize("loader", ["libyaml", "python"])
def test_json_surrogate_pairs_are_a_located_error_with_a_hint(loader, monkeypatch):
    # json.dumps (ensure_ascii) writes U+1F600 as two escaped halves: libyaml refuses them,
    # the pure-Python parser makes two lone surrogates of them, which no encoder takes
    if loader == "python":
        monkeypatch.setattr(yamlsource, "_Loader", yaml.SafeLoader)
    json_text = '{"name": "a", "script": [{"respond": {"status": 200, "body": "\\ud83d\\ude00"}}]}'
    (found,) = problems(json_text)
    assert LOCATED.match(found) and "write the character itself, or \\UXXXXXXXX" in found, found
    (behaviour,) = load_text(json_text.replace("\\ud83d\\ude00", "\\U0001F600"))
    assert behaviour.scripts[0][0].body.text.parts == ("\U0001F600",)


def test_oversized_file_is_refused_by_size_before_parsing(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * (1024 * 1024) + b"\n")
    with pytest.raises(LoadError) as caught:
        load_paths([str(big)])
    assert "the limit is 1048576" in str(caught.value)


@pytest.mark.parametrize(
    "content,expected",
    [
        (b"", "no behaviour in this file"),
        (b"script: [{respond: 'unclosed}]\n", "b.yaml:1:20: while scanning a quoted scalar"),
        (b"\x00\x01\x02binary", "unreadable text"),
        (b"script: [{respond: 200}]\nx: *undefined\n", "found undefined alias"),
    ],
)
def test_unreadable_files_give_one_located_line(content, expected):
    found = problems(content)
    assert len(found) == 1 and expected in found[0], found


def test_body_file_must_stay_inside_the_behaviours_folder(tmp_path):
    folder = tmp_path / "behaviours"
    folder.mkdir()
    (tmp_path / "secret.txt").write_text("secret")
    (folder / "inner-link.txt").symlink_to(tmp_path / "secret.txt")
    os.mkfifo(folder / "fifo")
    (folder / "sub").mkdir()
    cases = {
        "../secret.txt": "outside the behaviours folder",
        "/etc/passwd": "must be a relative path",
        "inner-link.txt": "outside the behaviours folder",
        "fifo": "is not a regular file",
        "sub": "is not a regular file",
        "missing.txt": "cannot use 'missing.txt'",
        "a\\..\\b": "must be a relative path",
    }
    for name, expected in cases.items():
        (folder / "b.yaml").write_text(f"script: [{{respond: {{status: 200, body_file: '{name}'}}}}]\n")
        with pytest.raises(LoadError) as caught:
            load_paths([str(folder)])
        assert expected in str(caught.value), name


def test_a_set_with_one_bad_file_is_refused_whole(tmp_path):
    (tmp_path / "a.yaml").write_text("match: {path: /a}\nscript: [{respond: 200}]\n")
    (tmp_path / "b.yaml").write_text("match: {path: /b}\nscript: [{respond: 999}]\n")
    with pytest.raises(LoadError) as caught:
        load_paths([str(tmp_path)])
    assert len(caught.value.problems) == 1


def test_duplicate_names_and_identical_matches_are_refused(tmp_path):
    found = problems("name: a\nmatch: {path: /a}\nscript: [{respond: 200}]\n---\nname: a\nmatch: {path: /a}\nscript: [{respond: 204}]\n")
    assert any("name 'a' is already used at b.yaml:1:1" in line for line in found)
    assert any("could never be chosen" in line for line in found)


def test_several_documents_in_one_file():
    behaviours = load_text("name: a\nscript: [{respond: 200}]\n---\nname: b\nmatch: {path: /b}\nscript: [{respond: 204}]\n")
    assert [b.name for b in behaviours] == ["a", "b"]


def test_the_shipped_schema_is_draft7_and_describes_every_property():
    from jsonschema import Draft7Validator

    document = schema()
    Draft7Validator.check_schema(document)
    missing = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.get("properties", {}).items():
                if isinstance(value, dict) and "description" not in value and "$ref" not in value:
                    missing.append("/".join(path + [key]))
            for key, value in node.items():
                walk(value, path + [key])
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, path + [str(index)])

    walk(document, [])
    assert missing == []


def test_check_prints_one_line_per_problem_and_exits_2(capsys):
    code = main(["check", str(ROOT / "tests" / "data" / "broken")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    located = [line for line in err if not line.startswith("mockorigin:")]
    assert len(located) == 10
    for line in located:
        file, row, column, message = line.split(":", 3)
        assert file.endswith(".yaml") and row.isdigit() and column.isdigit() and message.strip()
    assert "Traceback" not in "\n".join(err)


def test_check_as_a_subprocess_and_python_dash_m():
    result = subprocess.run(
        [sys.executable, "-m", "mockorigin", "check", "tests/data/broken/types.yaml"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.startswith("tests/data/broken/types.yaml:4:23: '200' is not a valid status")
    ok = subprocess.run([sys.executable, "-m", "mockorigin", "check", "behaviours"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert ok.returncode == 0 and ok.stdout.startswith("ok: ")


def test_serve_refuses_to_start_on_any_error(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mockorigin", "serve", "--listen", "tcp:0:interface=127.0.0.1", "tests/data/broken"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )
    assert result.returncode == 2 and "nothing loaded" in result.stderr


def test_usage_errors_exit_2(capsys):
    assert main(["serve", "--no-such-option"]) == 2
    assert main([]) == 2
