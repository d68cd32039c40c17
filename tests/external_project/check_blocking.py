"""The cases, with mock_origin (a server in a subprocess) and a blocking client.

check_twisted.py holds the same cases with mock_origin_twisted; the runner
(tests/test_pytest_external.py) expects the same outcome from each pair.
"""

import os

import pytest

from mockorigin.pytest_plugin import MockOriginError


def where(text: str) -> str:
    """FILE:LINE:COL of ``text`` in this file, written the way the plugin reports places."""
    with open(__file__, encoding="utf-8") as source:
        for number, line in enumerate(source.read().splitlines(), 1):
            if text in line and "where(" not in line:
                return f"{os.path.basename(__file__)}:{number}:{line.index(text) + 1}"
    raise LookupError(text)


@pytest.mark.mock_origin("echo")
def test_marker_with_a_name(mock_origin, blocking):
    assert blocking.get(mock_origin, "/echo") == 200
    mock_origin.allow_problems()
    assert blocking.get(mock_origin, "/drip") == 404  # in the catalogue, but not selected


@pytest.mark.mock_origin("behaviours/teapot.yaml", "behaviours/more")
def test_marker_with_files_and_a_folder(mock_origin, blocking):
    assert [blocking.get(mock_origin, p) for p in ("/tea", "/gone", "/moved")] == [418, 410, 301]


@pytest.mark.mock_origin("""
name: created
match: {path: /new}
script: [{respond: 201}]
""")
def test_marker_with_yaml_text(mock_origin, blocking):
    assert blocking.get(mock_origin, "/new") == 201


@pytest.mark.mock_origin({"name": "accepted", "match": {"path": "/later"}, "script": [{"respond": 202}]})
def test_marker_with_a_dict(mock_origin, blocking):
    assert blocking.get(mock_origin, "/later") == 202


def test_use_with_yaml_text(mock_origin, blocking):
    mock_origin.use("name: gone\nmatch: {path: /gone}\nscript: [{respond: 410}]")
    assert blocking.get(mock_origin, "/gone") == 410


def test_use_with_files_and_a_folder(mock_origin, blocking):
    mock_origin.use("behaviours/teapot.yaml", "behaviours/more", "echo")
    assert [blocking.get(mock_origin, p) for p in ("/tea", "/gone", "/echo")] == [418, 410, 200]


def test_use_with_a_dict(mock_origin, blocking):
    mock_origin.use({"match": {"path": "/flaky"}, "sequence": [[{"respond": 503}], [{"respond": 200}]]})
    assert [blocking.get(mock_origin, "/flaky") for _ in range(3)] == [503, 200, 200]
    mock_origin.assert_matched("dict-1", 3)  # a dict without a name is named after its place


def test_use_with_a_bad_dict_says_where(mock_origin):
    with pytest.raises(MockOriginError) as refused:
        mock_origin.use({
            "match": {"path": "/bad"},
            "script": [{"respond": 600}],
        })
    assert refused.value.args[0].splitlines()[1].startswith(where("600") + ": 600 is out of range")


@pytest.mark.mock_origin({"match": {"path": "/bad"}, "script": [{"respond": {"status": 200, "sleep": 1}}]})
def test_marker_with_a_bad_dict_says_where(mock_origin):
    pass  # never runs: setup fails, naming this file, line and column


@pytest.mark.mock_origin("behaviours/teapot.yaml")
def test_marker_above_inline_callbacks(mock_origin, blocking):
    assert blocking.get(mock_origin, "/tea") == 418


@pytest.mark.mock_origin("behaviours/teapot.yaml")
def test_marker_below_inline_callbacks(mock_origin, blocking):
    assert blocking.get(mock_origin, "/tea") == 418


def test_an_unmatched_request_fails_the_test(mock_origin, blocking):
    assert blocking.get(mock_origin, "/no-such-path") == 404  # passes; the plugin fails the test


def test_a_failed_test_shows_what_the_server_saw(mock_origin, blocking):
    assert blocking.post_after_100(mock_origin, "/continue/delayed?delay=50ms", b"hello") == 200
    assert blocking.get(mock_origin, "/echo") == 200
    raise AssertionError("failing on purpose")


def test_verification_helpers(mock_origin, blocking):
    assert blocking.post_after_100(mock_origin, "/continue/delayed?delay=200ms", b"hello") == 200
    assert blocking.get(mock_origin, "/echo") == 200
    mock_origin.assert_matched("continue-delayed")
    mock_origin.assert_matched("echo", 1)
    mock_origin.assert_waited_for_continue("150ms", behaviour="continue-delayed")  # 200 ms, less nothing: it can only be later
    mock_origin.assert_no_body_after_final()


def test_a_verification_helper_failure_shows_the_entry(mock_origin, blocking):
    assert blocking.post_after_100(mock_origin, "/continue/delayed?delay=10ms", b"hello") == 200
    mock_origin.assert_waited_for_continue("1s")
