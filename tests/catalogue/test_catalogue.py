"""The built-in catalogue: complete, documented, valid, and each path driven by a real client."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockorigin.format.loader import catalogue_path
from mockorigin.format.loader import load_paths

from tests.helpers import CATALOGUE

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


def test_every_file_points_editors_at_the_schema():
    for file in sorted(CATALOGUE.glob("*.yaml")):
        assert file.read_text().startswith("# yaml-language-server: $schema="), file.name


def test_every_catalogue_path_is_exercised_by_a_real_client_test(behaviours):
    tests = "".join(p.read_text() for folder in ("e2e", "websocket", "http2", "tls") for p in (Path(__file__).parent.parent / folder).glob("test_*.py"))
    for behaviour in behaviours:
        path = behaviour.match.path.pattern
        assert f"{path}?" in tests or f'{path}"' in tests or f"{path} HTTP" in tests, path
