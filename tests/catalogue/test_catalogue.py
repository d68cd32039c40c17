"""The built-in catalogue: complete, documented, valid, and each path driven by a real client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mockorigin.format.loader import catalogue_path
from mockorigin.format.loader import load_paths

from tests.helpers import CATALOGUE, ROOT, require_program

SPEC_PATHS = [
    "/continue/delayed", "/continue/never", "/continue/reject", "/processing", "/early-hints",
    "/hang", "/hang/after-headers", "/drip", "/reset/after-headers", "/echo", "/ws/echo",
]


@pytest.fixture(scope="module")
def behaviours():
    return load_paths([str(CATALOGUE)])


def test_the_package_serves_the_same_catalogue_as_the_checkout(behaviours):
    assert load_paths([catalogue_path()]) == behaviours


def test_every_spec_path_is_in_the_catalogue(behaviours):
    paths = {b.match.path.pattern for b in behaviours if b.match.path}
    assert set(SPEC_PATHS) <= paths


def test_every_behaviour_has_a_summary_and_references(behaviours):
    for behaviour in behaviours:
        assert behaviour.summary and behaviour.references, behaviour.name


def test_every_behaviour_has_a_group_and_notes(behaviours):
    """Grouped as GET / and the README list them (the baseline /echo stands apart), with a
    note of what clients do with it."""
    for behaviour in behaviours:
        assert behaviour.notes, behaviour.name
        assert behaviour.group in ("A", "B", "C", "D", "E", "F") or behaviour.name == "echo", behaviour.name


def test_every_param_has_a_floor_and_a_ceiling():
    import yaml

    for file in sorted(CATALOGUE.glob("*.yaml")):
        for name, param in (yaml.safe_load(file.read_text()).get("params") or {}).items():
            assert "min" in param and "max" in param, f"{file.name}: {name}"


# Wider than 600 s at their maxima since before the rule; a request that asks for too much
# gets a 400 naming its params (tests/test_hostile_input.py drives exactly that).
WIDE_RANGES = {"drip", "processing", "ws-ping"}


def test_every_allowed_combination_of_params_runs_within_the_limit(behaviours):
    """No request within the params' bounds is refused for running too long in all: each
    drip and repeated step is checked with every param at its maximum."""
    from mockorigin.interpreter.exchange import ParamError
    from mockorigin.interpreter.totals import check_totals

    for behaviour in behaviours:
        if not behaviour.params or behaviour.name in WIDE_RANGES:
            continue
        try:
            check_totals(behaviour, {param.name: param.maximum for param in behaviour.params})
        except ParamError as error:
            pytest.fail(f"{behaviour.name}: {error}")


def test_every_file_points_editors_at_the_schema():
    for file in sorted(CATALOGUE.glob("*.yaml")):
        assert file.read_text().startswith("# yaml-language-server: $schema="), file.name


def test_every_catalogue_path_is_exercised_by_a_real_client_test(behaviours):
    tests = "".join(p.read_text() for folder in ("catalogue", "e2e", "websocket", "http2", "tls") for p in (Path(__file__).parent.parent / folder).glob("test_*.py"))
    for behaviour in behaviours:
        path = behaviour.match.path.pattern
        assert f"{path}?" in tests or f'{path}"' in tests or f"{path} HTTP" in tests, path


def test_every_entry_is_driven_by_three_client_families(behaviours, request, tmp_path):
    """Each entry must have been driven, in this session, by real clients of at least three
    families (curl, Python, Node, Go), each test checking what its client saw and the journal
    entries its request left (tests/catalogue/registry.py counts a family only then). Run
    alone, this test runs tests/catalogue/ in a child pytest to find out."""
    from tests.catalogue import registry

    for program in ("curl", "node"):
        require_program(program)
    here = Path(__file__).parent
    if any(Path(item.path).parent == here and Path(item.path) != Path(__file__) for item in request.session.items):
        driven = registry.DRIVEN  # the driving tests ran before this one (conftest.py puts it last)
    else:
        record = tmp_path / "driven.jsonl"
        env = {**os.environ, "MOCKORIGIN_DRIVEN_FILE": str(record)}
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(here), f"--ignore={__file__}"]
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
        driven = {}
        for line in record.read_text().splitlines() if record.exists() else ():
            confirmed = json.loads(line)
            driven.setdefault(confirmed["behaviour"], set()).add(confirmed["family"])
        assert driven, done.stdout[-3000:]
    # Groups A-E (and the utilities): three families each. Group F (TLS and HTTP/2) is driven in
    # tests/http2/ and tests/tls/ by the clients that speak it (curl, httpx, Node's http2, Go).
    short = {b.name: sorted(driven.get(b.name, ())) for b in behaviours if b.group != "F" and len(driven.get(b.name, ())) < registry.MIN_FAMILIES}
    assert not short, f"catalogue entries driven by fewer than {registry.MIN_FAMILIES} client families: {short}"
