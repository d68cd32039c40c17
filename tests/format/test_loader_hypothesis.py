"""Generated behaviour files (reliability.md Y4): valid ones round-trip through
``yaml.safe_dump``; mutated ones load or give located problems, never another exception.

Failing examples found once are kept as ``@example`` so that they replay on every run.
"""

from __future__ import annotations

import dataclasses
import re

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mockorigin.format import model
from mockorigin.format.loader import LoadError, load_text

from tests.helpers import ROOT

FAST = settings(max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
LOCATED = re.compile(r"b\.yaml:\d+:\d+: \S.*")

TOKEN = "!#%&'*+.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-"
text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="$"), max_size=40)
line = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="$\r\n\x00"), max_size=40)
path_text = st.text("abcxyz019-._~", max_size=12)
seconds = st.one_of(
    st.integers(0, 600).map(lambda s: (s, float(s))),
    st.integers(0, 600_000).map(lambda ms: (f"{ms}ms", ms / 1000)),
)


PARAMS = {"n": {"type": "integer", "default": 2, "max": 10}, "d": {"type": "duration", "default": "10ms", "max": "1s"}}
WITH_PARAMS = [  # steps that use the params above, and the model class each becomes
    ({"interim": {"status": 102, "count": "${n}", "every": "${d}", "headers": {"x-n": "${n}"}}}, model.Interim),
    ({"respond": {"status": 200, "body": "${request.path} ${n}", "drip": {"bytes": 2, "every": "${d}"}}}, model.Respond),
    ({"respond": {"status": 200, "body_size": "${n}", "chunked": {"size": 1}, "trailers": {"x-t": "1"}}}, model.Respond),
    ({"upgrade": {"then": [{"send": "hi ${n}"}, {"ping": {"payload": "p ${n}", "count": "${n}"}}, {"close": {"code": 1000}}]}}, model.Upgrade),
    ({"read_body": {"bytes": "${n}"}}, model.ReadBody),
]


@st.composite
def steps(draw, params: bool = False) -> tuple[dict, object]:
    """One script step and what the model should hold for it."""
    if params and draw(st.booleans()):
        step, kind = draw(st.sampled_from(WITH_PARAMS))
        return step, kind
    kind = draw(st.sampled_from(["wait", "interim", "respond", "hang", "close", "reset", "raw"]))
    if kind == "wait":
        raw, value = draw(seconds)
        return {"wait": raw}, ("wait", value)
    if kind == "interim":
        status = draw(st.integers(100, 199))
        return {"interim": status}, model.Interim(status)
    if kind == "respond":
        status = draw(st.integers(100, 599))
        headers = draw(st.dictionaries(st.text(TOKEN, min_size=1, max_size=8), line, max_size=3))
        body = draw(text)
        fields = {"status": status, "body": body}
        if headers:
            fields["headers"] = headers
        return {"respond": fields}, (status, body, tuple(headers.items()))
    if kind == "hang":
        raw, value = draw(seconds)
        return {"hang": {"for": raw}}, ("hang", value)
    if kind == "raw":
        data = draw(text)
        return {"raw": data}, ("raw", data)
    return {kind: {}}, {"close": model.Close(), "reset": model.Reset()}[kind]


@st.composite
def behaviour_sets(draw) -> tuple[list[dict], list[tuple]]:
    """Documents with distinct names and paths, and what each should load as."""
    documents, expected = [], []
    for index in range(draw(st.integers(1, 3))):
        name = f"b{index}-" + draw(st.text("abcxyz0189._-", max_size=8))
        kind = draw(st.sampled_from(["exact", "prefix", "glob", "regex"]))
        pattern = {
            "exact": f"/{index}/" + draw(path_text),
            "prefix": f"/{index}/" + draw(path_text),
            "glob": f"/{index}/" + draw(st.sampled_from(["*", "**", "x/*", "?.txt"])),
            "regex": f"/{index}/" + draw(st.sampled_from(["[0-9]+", "(a|b)*", "x.y", "[^/]+/z"])),
        }[kind]
        match: dict = {"path": pattern if kind == "exact" else {kind: pattern}}
        methods = draw(st.lists(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]), unique=True, max_size=3))
        if methods:
            match["method"] = methods
        priority = draw(st.integers(-5, 5))
        if priority:
            match["priority"] = priority
        params = draw(st.booleans())
        script = draw(st.lists(steps(params), min_size=1, max_size=5))
        document = {"name": name, "match": match, "script": [step for step, _ in script]}
        if params:
            document["params"] = PARAMS
        documents.append(document)
        expected.append((name, kind, pattern, frozenset(methods) or None, priority, [want for _, want in script]))
    return documents, expected


def comparable(step: model.Step, want: object) -> object:
    """A step as the generator describes it."""
    if isinstance(want, type):
        return type(step)
    if isinstance(step, model.Respond):
        body = "".join(step.body.text.parts) if step.body is not None else ""  # type: ignore[union-attr]
        return (step.status, body, tuple((h.name, "".join(h.value.parts)) for h in step.headers))
    if isinstance(step, (model.Wait, model.Hang)):  # 71ms is 0.07100000000000001 s: fine
        return ("wait" if isinstance(step, model.Wait) else "hang", round(step.duration, 9))  # type: ignore[arg-type]
    if isinstance(step, model.Raw):
        return ("raw", "".join(step.source.text.parts))  # type: ignore[union-attr]
    return step


def without_locations(behaviours) -> list[model.Behaviour]:
    return [dataclasses.replace(b, location=None) for b in behaviours]


def one(step: dict, want: object) -> tuple[list[dict], list[tuple]]:
    """A generated set of one behaviour with one step, for ``@example``."""
    return [{"name": "b0-", "match": {"path": "/0/"}, "script": [step]}], [("b0-", "exact", "/0/", None, 0, [want])]


@FAST
@given(behaviour_sets())
@example(one({"respond": {"status": 100, "body": "\U00010000"}}, (100, "\U00010000", ())))  # JSON escapes it as a surrogate pair
@example(one({"raw": "\x85"}, ("raw", "\x85")))  # NEL: a line break to YAML 1.1 unless escaped
@example(one({"wait": "71ms"}, ("wait", 0.071)))  # 0.07100000000000001 s
@example(one({"respond": {"status": 200, "body": "", "headers": {"00": "", "0": ""}}}, (200, "", (("00", ""), ("0", "")))))  # order kept
def test_generated_behaviours_round_trip_through_safe_dump(generated):
    documents, expected = generated
    loaded = load_text(yaml.safe_dump_all(documents, sort_keys=False), "b.yaml")
    for behaviour, (name, kind, pattern, methods, priority, script) in zip(loaded, expected, strict=True):
        assert behaviour.name == name
        assert behaviour.match.path == model.PathMatch(kind, pattern)
        assert behaviour.match.methods == methods and behaviour.match.priority == priority
        assert [comparable(step, want) for step, want in zip(behaviour.scripts[0], script, strict=True)] == script
    # the same documents in flow style, every scalar double-quoted, load the same (not with
    # allow_unicode=True: PyYAML's emitter then writes U+0085 raw, and it reads back as a line break)
    other = yaml.safe_dump_all(documents, sort_keys=False, default_flow_style=True, default_style='"', width=60)
    assert without_locations(load_text(other, "b.yaml")) == without_locations(loaded)


BYTES = st.one_of(st.sampled_from(b"&*[]{}:-!'\"\t\n%|>?,#@`$\\\x00\xff \x85"), st.integers(0, 255))
MUTATIONS = st.lists(st.tuples(st.sampled_from(["flip", "insert", "delete", "truncate"]), st.floats(0, 1), BYTES), min_size=1, max_size=4)


def mutate(data: bytes, mutations) -> bytes:
    for operation, where, byte in mutations:
        at = int(where * len(data))
        if operation == "flip":
            data = data[:at] + bytes([byte]) + data[at + 1 :]
        elif operation == "insert":
            data = data[:at] + bytes([byte]) + data[at:]
        elif operation == "delete":
            data = data[:at] + data[at + 1 :]
        else:
            data = data[:at]
    return data


CATALOGUE = [path.read_bytes() for path in sorted((ROOT / "behaviours").glob("*.yaml"))]
SOURCES = st.one_of(behaviour_sets().map(lambda generated: yaml.safe_dump_all(generated[0], allow_unicode=True).encode()), st.sampled_from(CATALOGUE))


@FAST
@given(SOURCES, MUTATIONS)
@example(b"name: a\nscript: &s [{respond: 200}, *s]\n", [])  # was a RecursionError
@example(b"a: " + b"[" * 1000 + b"]" * 1000, [])  # libyaml's own depth limit
@example(b'{"name": "a", "script": [{"respond": {"status": 200, "body": "\\ud83d\\ude00"}}]}', [])  # JSON surrogates
@example(b"a: &a [x, x]\nb: &b [*a, *a]\n" + b"".join(b"%c: &%c [*%c, *%c]\n" % (c, c, c - 1, c - 1) for c in range(ord("c"), ord("z"))), [])
def test_mutated_files_load_or_give_located_problems(source, mutations):
    data = mutate(source, mutations)
    try:
        loaded = load_text(data, "b.yaml")
    except LoadError as error:
        assert error.problems
        for problem in error.problems:
            assert LOCATED.fullmatch(str(problem)), str(problem)
    else:
        assert all(isinstance(b, model.Behaviour) for b in loaded)
