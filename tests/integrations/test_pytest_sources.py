"""Behaviours from Python: dicts validated as YAML is, problems placed at the test's own line.

The dicts go through the real loader; the places are checked against source files written
here, so each expected FILE:LINE:COL is found in the text, not counted by hand.
"""

from __future__ import annotations

import datetime
import importlib.util
import sys
import textwrap
from pathlib import Path, PurePosixPath

import pytest

from mockorigin.format.loader import LoadError, load_text
from mockorigin.fixtures.sources import MAX_DEPTH, Site, Written, caller_site, dict_text, key_path, located, marker_site


def place_of(path: Path, needle: str, occurrence: int = 1) -> str:
    """``FILE:LINE:COL`` of the n-th line holding ``needle``, as the plugin writes places."""
    seen = 0
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return f"{path}:{number}:{line.index(needle) + 1}"
    raise LookupError(needle)


def problems_for(source: Path, line: int, *items, call_name: str = "use") -> list[str]:
    """What use() would report for these items, written at ``line`` of ``source``."""
    site = Site(str(source), line, call_name=call_name)
    written, texts = {}, []
    for index, item in enumerate(items):
        if isinstance(item, str) and "\n" not in item and ": " not in item:
            continue  # a behaviour name: nothing to load here
        name = f"dict-{index + 1}.yaml" if isinstance(item, dict) else f"inline-{index + 1}.yaml"
        text, lines, refused = dict_text(item) if isinstance(item, dict) else (item, None, [])
        assert refused == []
        written[name] = Written(name, text, site, index, len(items), lines)
        texts.append((name, text))
    problems = []
    for name, text in texts:
        try:
            load_text(text, name)
        except LoadError as error:
            problems += [located(p.location.file, p.location.line, p.location.column, p.message, written) for p in error.problems]
    return problems


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "test_user.py"
    path.write_text(textwrap.dedent(text).lstrip())
    return path


# --- dicts as YAML ------------------------------------------------------------------


def test_a_dict_loads_as_the_same_yaml_would():
    behaviour = {"name": "flaky", "match": {"path": "/api", "method": ["GET", "HEAD"]}, "sequence": [[{"respond": 503}], [{"respond": {"status": 200, "body": "ok"}}]]}
    text, lines, refused = dict_text(behaviour)
    from_dict = load_text(text, "dict-1.yaml")
    from_yaml = load_text(
        "name: flaky\nmatch: {path: /api, method: [GET, HEAD]}\nsequence:\n  - [{respond: 503}]\n  - [{respond: {status: 200, body: ok}}]\n", "flaky.yaml"
    )
    assert refused == []
    assert [(b.name, b.match, b.scripts) for b in from_dict] == [(b.name, b.match, b.scripts) for b in from_yaml]
    assert len(lines) == len(text.splitlines())


def test_each_generated_line_knows_which_key_it_holds():
    text, lines, _ = dict_text({"match": {"path": "/a"}, "script": [{"respond": 600}]})
    held = {line.strip(): lines[number].path for number, line in enumerate(text.splitlines())}
    assert held['"path": "/a"'] == ("match", "path")
    assert held['"respond": 600'] == ("script", 0, "respond")
    assert key_path(("script", 0, "respond", "status")) == "script[0].respond.status"


def test_python_values_become_yaml_values_or_are_refused_by_path():
    text, _lines, refused = dict_text(
        {"params": {"delay": {"type": "duration", "default": datetime.timedelta(milliseconds=250)}}, "body_file": PurePosixPath("data/x.bin"),
         "raw": b"\x00", "set": {1, 2}, "nan": float("nan"), 3: "three"}
    )
    assert '"default": 0.25' in text and '"body_file": "data/x.bin"' in text
    assert [(key_path(path), why.split(" ")[0]) for path, why in refused] == [("raw", "bytes"), ("set", "set"), ("nan", "nan"), ("", "keys")]


def test_a_dict_that_holds_itself_is_refused_not_a_recursion_error():
    looped: dict = {"match": {}}
    looped["match"]["again"] = looped
    _text, _lines, refused = dict_text(looped)
    assert len(refused) == 1 and refused[0][1] == f"nested deeper than {MAX_DEPTH} levels"


# --- places in the test's source ----------------------------------------------------


def test_a_problem_in_a_dict_literal_is_placed_at_its_key_or_value(tmp_path):
    source = write(tmp_path, """
        def test_it(mock_origin):
            mock_origin.use({
                "match": {"path": "/tea"},
                "script": [{"respond": {"status": 600, "sleeep": 1}}],
            })
    """)
    behaviour = {"match": {"path": "/tea"}, "script": [{"respond": {"status": 600, "sleeep": 1}}]}
    problems = problems_for(source, 2, behaviour)
    assert f"{place_of(source, '600')}: 600 is out of range: must be at most 599 (at script[0].respond.status)" in problems
    sleeep = place_of(source, '"sleeep"')
    assert any(p.startswith(f"{sleeep}: unknown key 'sleeep'") and p.endswith("(at script[0].respond.sleeep)") for p in problems)


def test_a_dict_named_by_a_constant_is_placed_where_the_constant_is_written(tmp_path):
    source = write(tmp_path, """
        TEAPOT = {
            "match": {"path": "/tea"},
            "script": [{"respond": 999}],
        }

        def test_it(mock_origin):
            mock_origin.use("echo", TEAPOT)
    """)
    problems = problems_for(source, 7, "echo", {"match": {"path": "/tea"}, "script": [{"respond": 999}]})
    assert f"{place_of(source, '999')}: 999 is out of range: must be at most 599 (at script[0].respond)" in problems


def test_a_dict_built_by_code_is_placed_at_the_argument_with_the_key_named(tmp_path):
    source = write(tmp_path, """
        def test_it(mock_origin):
            mock_origin.use(dict(match={"path": "/x"}, script=[{"respond": 700}]))
    """)
    (problem,) = problems_for(source, 2, {"match": {"path": "/x"}, "script": [{"respond": 700}]})
    assert problem.startswith(f"{place_of(source, 'dict(')}: 700 is out of range") and problem.endswith("(at script[0].respond)")


def test_a_triple_quoted_yaml_text_is_placed_line_by_line(tmp_path):
    source = write(tmp_path, '''
        import pytest

        @pytest.mark.mock_origin("echo", """
        name: flaky
        match: {path: /api}
        script:
          - respond: {status: 200, bodyy: ok}
        """)
        def test_it(mock_origin):
            pass
    ''')
    text = "\nname: flaky\nmatch: {path: /api}\nscript:\n  - respond: {status: 200, bodyy: ok}\n"
    (problem,) = problems_for(source, 3, "echo", text, call_name="mock_origin")
    assert problem.startswith(f"{place_of(source, 'bodyy')}: unknown key 'bodyy'")
    assert "YAML text line" not in problem


def test_yaml_text_with_escapes_is_placed_at_the_argument_with_its_own_line_and_column(tmp_path):
    source = write(tmp_path, r"""
        def test_it(mock_origin):
            mock_origin.use("name: gone\nmatch: {path: /gone}\nscript: [{respond: 610}]")
    """)
    (problem,) = problems_for(source, 2, "name: gone\nmatch: {path: /gone}\nscript: [{respond: 610}]")
    argument = place_of(source, '"name')
    assert problem == f"{argument}: 610 is out of range: must be at most 599 (YAML text line 3, column 20)"


def test_a_place_another_item_names_in_a_message_is_moved_too(tmp_path):
    source = write(tmp_path, """
        def test_it(mock_origin):
            mock_origin.use({"name": "a", "match": {"path": "/a"}, "script": [{"respond": 200}]},
                            {"name": "a", "match": {"path": "/b"}, "script": [{"respond": 200}]})
    """)
    first, second = {"name": "a", "match": {"path": "/a"}, "script": [{"respond": 200}]}, {"name": "a", "match": {"path": "/b"}, "script": [{"respond": 200}]}
    site = Site(str(source), 2)
    written = {f"dict-{n}.yaml": Written(f"dict-{n}.yaml", dict_text(d)[0], site, n - 1, 2, dict_text(d)[1]) for n, d in ((1, first), (2, second))}
    from mockorigin.format.loader import check_set

    with pytest.raises(LoadError) as clash:
        check_set(load_text(written["dict-1.yaml"].text, "dict-1.yaml") + load_text(written["dict-2.yaml"].text, "dict-2.yaml"))
    (problem,) = [located(p.location.file, p.location.line, p.location.column, p.message, written) for p in clash.value.problems]
    assert problem.startswith(f"{place_of(source, '{', 2)}: name 'a' is already used at {place_of(source, '{', 1)};")


def test_without_a_readable_source_the_call_line_is_named(tmp_path):
    site = Site(str(tmp_path / "gone.py"), 12)
    text, lines, _ = dict_text({"script": [{"respond": 600}]})
    assert str(Written("dict-1.yaml", text, site, 0, 1, lines).locate(3, 20)).endswith("gone.py:12:1")


def test_caller_site_is_the_line_that_called(tmp_path):
    here = caller_site()
    assert (Path(here.file).name, here.line) == (Path(__file__).name, test_caller_site_is_the_line_that_called.__code__.co_firstlineno + 1)


def test_marker_sites_for_a_function_a_method_a_class_and_a_module(tmp_path, monkeypatch):
    source = write(tmp_path, """
        import pytest

        pytestmark = pytest.mark.mock_origin({"script": [1]})


        @pytest.mark.mock_origin({"script": [2]})
        def test_function():
            pass


        @pytest.mark.mock_origin({"script": [3]})
        class TestClass:
            pytestmark = [pytest.mark.mock_origin({"script": [4]})]

            @pytest.mark.mock_origin({"script": [5]})
            def test_method(self):
                pass
    """)
    spec = importlib.util.spec_from_file_location("test_user", source)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "test_user", module)  # as pytest's import does: inspect finds classes through it
    spec.loader.exec_module(module)

    def where(owner, value) -> str:
        site = marker_site(owner, None, 0, ({"script": [value]},))
        node = site.argument(0, 1)
        return f"{site.file}:{node.lineno}:{site.column(node)}"

    assert where(module, 1) == place_of(source, "{", 1)
    assert where(module.test_function, 2) == place_of(source, "{", 2)
    assert where(module.TestClass, 3) == place_of(source, "{", 3)
    assert where(module.TestClass, 4) == place_of(source, "{", 4)  # two markers on one class: the values tell them apart
    assert where(module.TestClass().test_method, 5) == place_of(source, "{", 5)
