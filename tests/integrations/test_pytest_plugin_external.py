"""tests/external_project, run the way a user runs their own suite: a copy outside the
checkout, its own conftest and pytest.ini, only the installed package.

check_blocking.py (``mock_origin``) and check_twisted.py (``mock_origin_twisted``) hold the
same cases; some fail or error on purpose, and what those failures print is the point.
The project runs once per session; each test here reads one part of that run.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

PROJECT = Path(__file__).parent.parent / "external_project"
FILES = ("check_blocking.py", "check_twisted.py")
EXPECTED = {
    "test_marker_with_a_name": "PASSED",
    "test_marker_with_files_and_a_folder": "PASSED",
    "test_marker_with_yaml_text": "PASSED",
    "test_marker_with_a_dict": "PASSED",
    "test_use_with_yaml_text": "PASSED",
    "test_use_with_files_and_a_folder": "PASSED",
    "test_use_with_a_dict": "PASSED",
    "test_use_with_a_bad_dict_says_where": "PASSED",
    "test_marker_with_a_bad_dict_says_where": "ERROR",
    "test_marker_above_inline_callbacks": "PASSED",
    "test_marker_below_inline_callbacks": "PASSED",
    "test_an_unmatched_request_fails_the_test": "FAILED",
    "test_a_failed_test_shows_what_the_server_saw": "FAILED",
    "test_verification_helpers": "PASSED",
    "test_a_verification_helper_failure_shows_the_entry": "FAILED",
}
_runs: dict[str, object] = {}


@pytest.fixture
def run(pytester):
    """The project's run (once; later tests reuse its output)."""
    if "result" not in _runs:
        shutil.copytree(PROJECT, pytester.path, dirs_exist_ok=True)
        _runs["result"] = pytester.runpytest_subprocess("-v", "-rfE", timeout=180)
        _runs["sources"] = {name: (PROJECT / name).read_text(encoding="utf-8").splitlines() for name in FILES}
    return _runs["result"]


def outcomes(result, file: str) -> dict[str, str]:
    pattern = re.compile(rf"^{re.escape(file)}::(\w+) (PASSED|FAILED|ERROR)\b")
    return {m.group(1): m.group(2) for m in map(pattern.match, result.outlines) if m}


def blocks(result, title: str) -> list[str]:
    """The text of each failure or error block whose header names ``title``, in run order."""
    text = "\n".join(result.outlines)
    parts = re.split(r"^_{3,} (.+?) _{3,}$", text, flags=re.MULTILINE)
    return [body for header, body in zip(parts[1::2], parts[2::2], strict=True) if header.endswith(title)]


def place(file: str, needle: str, after: str = "") -> str:
    """``FILE:LINE:COL`` of ``needle`` on the first line of ``file`` that holds it (and ``after``)."""
    for number, line in enumerate(_runs["sources"][file], 1):
        if needle in line and after in line:
            return f"{file}:{number}:{line.index(needle) + 1}"
    raise LookupError(needle)


def test_every_case_has_the_same_outcome_with_both_handles(run):
    assert outcomes(run, "check_blocking.py") == EXPECTED
    assert outcomes(run, "check_twisted.py") == EXPECTED


def test_the_twisted_handle_serves_the_marker_in_either_decorator_order(run):
    """Issue 14, defect 1: the marker was ignored (404), above or below inlineCallbacks."""
    found = outcomes(run, "check_twisted.py")
    assert [found.get(name) for name in ("test_marker_above_inline_callbacks", "test_marker_below_inline_callbacks", "test_marker_with_a_name")] == ["PASSED"] * 3


def test_an_unmatched_request_fails_the_test_with_either_handle(run):
    """Issue 14, defect 2: with mock_origin_twisted such a test passed."""
    failures = blocks(run, "test_an_unmatched_request_fails_the_test")
    assert len(failures) == 2
    for failure in failures:
        assert "the mock origin saw problems:" in failure
        assert "GET /no-such-path: no behaviour matched GET /no-such-path" in failure


def test_a_failed_test_shows_what_the_server_saw_with_either_handle(run):
    blocking, twisted = blocks(run, "test_a_failed_test_shows_what_the_server_saw")
    assert "- mock origin: what the server saw -" in blocking and "- mock origin: what the server saw (twisted) -" in twisted
    for failure in (blocking, twisted):
        section = failure.split("mock origin: what the server saw", 1)[1]
        assert re.search(r"^#\d+ POST /continue/delayed\?delay=50ms -> continue-delayed$", section, re.MULTILINE)
        assert re.search(r"^  head at [\d.]+s; 100 at [\d.]+s; body 5 B from [\d.]+s to [\d.]+s; final 200 at [\d.]+s; ", section, re.MULTILINE)
        assert re.search(r"^#\d+ GET /echo -> echo$", section, re.MULTILINE)
        assert "Expect: 100-continue; body after waiting" in section


def test_a_bad_dict_in_a_marker_is_reported_at_the_line_that_wrote_it(run):
    for file, error in zip(FILES, blocks(run, "test_marker_with_a_bad_dict_says_where"), strict=True):
        where = place(file, '"sleep"', after="mock_origin(")
        assert re.search(rf"^{re.escape(where)}: unknown key 'sleep'.* \(at script\[0\]\.respond\.sleep\)$", error, re.MULTILINE), error
        assert "Traceback" not in error and "pytest_plugin.py" not in error  # the plugin's own frames are hidden


def test_a_verification_helper_failure_shows_the_journal_entry(run):
    for failure in blocks(run, "test_a_verification_helper_failure_shows_the_entry"):
        assert "expected the client to wait at least 1.000s for the 100 before sending the body; it sent its body after 0." in failure
        assert re.search(r"^E\s+#\d+ POST /continue/delayed\?delay=10ms -> continue-delayed$", failure, re.MULTILINE)
        assert "handles.py" not in failure  # the helper's frame is hidden: the test's line is the last shown
