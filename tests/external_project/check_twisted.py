"""The cases of check_blocking.py, with mock_origin_twisted and a client on the reactor."""

import os

import pytest
import pytest_twisted

from mockorigin.pytest_plugin import MockOriginError


def where(text: str) -> str:
    """FILE:LINE:COL of ``text`` in this file, written the way the plugin reports places."""
    with open(__file__, encoding="utf-8") as source:
        for number, line in enumerate(source.read().splitlines(), 1):
            if text in line and "where(" not in line:
                return f"{os.path.basename(__file__)}:{number}:{line.index(text) + 1}"
    raise LookupError(text)


@pytest.mark.mock_origin("echo")
@pytest_twisted.inlineCallbacks
def test_marker_with_a_name(mock_origin_twisted, twisted_client):
    assert (yield twisted_client.get(mock_origin_twisted, "/echo")) == 200
    mock_origin_twisted.allow_problems()
    assert (yield twisted_client.get(mock_origin_twisted, "/drip")) == 404  # in the catalogue, but not selected


@pytest.mark.mock_origin("behaviours/teapot.yaml", "behaviours/more")
@pytest_twisted.inlineCallbacks
def test_marker_with_files_and_a_folder(mock_origin_twisted, twisted_client):
    statuses = []
    for path in ("/tea", "/gone", "/moved"):
        statuses.append((yield twisted_client.get(mock_origin_twisted, path)))
    assert statuses == [418, 410, 301]


@pytest.mark.mock_origin("""
name: created
match: {path: /new}
script: [{respond: 201}]
""")
@pytest_twisted.inlineCallbacks
def test_marker_with_yaml_text(mock_origin_twisted, twisted_client):
    assert (yield twisted_client.get(mock_origin_twisted, "/new")) == 201


@pytest.mark.mock_origin({"name": "accepted", "match": {"path": "/later"}, "script": [{"respond": 202}]})
@pytest_twisted.inlineCallbacks
def test_marker_with_a_dict(mock_origin_twisted, twisted_client):
    assert (yield twisted_client.get(mock_origin_twisted, "/later")) == 202


@pytest_twisted.inlineCallbacks
def test_use_with_yaml_text(mock_origin_twisted, twisted_client):
    mock_origin_twisted.use("name: gone\nmatch: {path: /gone}\nscript: [{respond: 410}]")
    assert (yield twisted_client.get(mock_origin_twisted, "/gone")) == 410


@pytest_twisted.inlineCallbacks
def test_use_with_files_and_a_folder(mock_origin_twisted, twisted_client):
    mock_origin_twisted.use("behaviours/teapot.yaml", "behaviours/more", "echo")
    statuses = []
    for path in ("/tea", "/gone", "/echo"):
        statuses.append((yield twisted_client.get(mock_origin_twisted, path)))
    assert statuses == [418, 410, 200]


@pytest_twisted.inlineCallbacks
def test_use_with_a_dict(mock_origin_twisted, twisted_client):
    mock_origin_twisted.use({"match": {"path": "/flaky"}, "sequence": [[{"respond": 503}], [{"respond": 200}]]})
    statuses = []
    for _ in range(3):
        statuses.append((yield twisted_client.get(mock_origin_twisted, "/flaky")))
    assert statuses == [503, 200, 200]
    mock_origin_twisted.assert_matched("dict-1", 3)  # a dict without a name is named after its place


def test_use_with_a_bad_dict_says_where(mock_origin_twisted):
    with pytest.raises(MockOriginError) as refused:
        mock_origin_twisted.use({
            "match": {"path": "/bad"},
            "script": [{"respond": 600}],
        })
    assert refused.value.args[0].splitlines()[1].startswith(where("600") + ": 600 is out of range")


@pytest.mark.mock_origin({"match": {"path": "/bad"}, "script": [{"respond": {"status": 200, "sleep": 1}}]})
def test_marker_with_a_bad_dict_says_where(mock_origin_twisted):
    pass  # never runs: setup fails, naming this file, line and column


@pytest.mark.mock_origin("behaviours/teapot.yaml")
@pytest_twisted.inlineCallbacks
def test_marker_above_inline_callbacks(mock_origin_twisted, twisted_client):
    assert (yield twisted_client.get(mock_origin_twisted, "/tea")) == 418


@pytest_twisted.inlineCallbacks
@pytest.mark.mock_origin("behaviours/teapot.yaml")
def test_marker_below_inline_callbacks(mock_origin_twisted, twisted_client):
    assert (yield twisted_client.get(mock_origin_twisted, "/tea")) == 418


@pytest_twisted.inlineCallbacks
def test_an_unmatched_request_fails_the_test(mock_origin_twisted, twisted_client):
    assert (yield twisted_client.get(mock_origin_twisted, "/no-such-path")) == 404  # passes; the plugin fails the test


@pytest_twisted.inlineCallbacks
def test_a_failed_test_shows_what_the_server_saw(mock_origin_twisted, twisted_client):
    assert (yield twisted_client.post_after_100(mock_origin_twisted, "/continue/delayed?delay=50ms", b"hello")) == 200
    assert (yield twisted_client.get(mock_origin_twisted, "/echo")) == 200
    raise AssertionError("failing on purpose")


@pytest_twisted.inlineCallbacks
def test_verification_helpers(mock_origin_twisted, twisted_client):
    assert (yield twisted_client.post_after_100(mock_origin_twisted, "/continue/delayed?delay=200ms", b"hello")) == 200
    assert (yield twisted_client.get(mock_origin_twisted, "/echo")) == 200
    mock_origin_twisted.assert_matched("continue-delayed")
    mock_origin_twisted.assert_matched("echo", 1)
    mock_origin_twisted.assert_waited_for_continue("150ms", behaviour="continue-delayed")  # 200 ms, less nothing: it can only be later
    mock_origin_twisted.assert_no_body_after_final()


@pytest_twisted.inlineCallbacks
def test_a_verification_helper_failure_shows_the_entry(mock_origin_twisted, twisted_client):
    assert (yield twisted_client.post_after_100(mock_origin_twisted, "/continue/delayed?delay=10ms", b"hello")) == 200
    mock_origin_twisted.assert_waited_for_continue("1s")
