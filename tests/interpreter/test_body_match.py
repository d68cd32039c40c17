"""Matching on the request body: exact, substring, regex, JSON subset; routing that waits for
the body only when it must, sends nothing while it waits, and stays bounded."""

from __future__ import annotations

import subprocess

import pytest

from mockorigin.format.loader import LoadError, load_text
from mockorigin.interpreter.bodymatch import contains
from mockorigin.interpreter.request import Request
from mockorigin.interpreter.router import Router

from tests.helpers import HalfClosingTransport, require_program, start_server

SET = """
name: exact
match: {method: POST, path: /api, body: 'ping'}
script: [{respond: {status: 200, body: exact}}]
---
name: order
match: {method: POST, path: /api, body: {json: {kind: order, items: [{sku: A1}]}}}
script: [{respond: {status: 201, body: order}}]
---
name: both
match: {method: POST, path: /api, body: {contains: urgent, regex: 'id=[0-9]{3}\\b'}}
script: [{respond: {status: 202, body: both}}]
---
name: has-urgent
match: {method: POST, path: /api, body: {contains: urgent}, priority: -1}
script: [{respond: {status: 203, body: urgent}}]
---
name: any-api
match: {method: POST, path: /api, priority: -2}
script: [{read_body: {}}, {respond: {status: 299, body: 'any ${request.body_length}'}}]
---
name: elsewhere
match: {path: /now}
script: [{respond: {status: 200, body: now}}]
"""


def post(path: str, body: bytes, *extra: bytes) -> bytes:
    return b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: " + str(len(body)).encode() + b"\r\n" + b"".join(extra) + b"\r\n" + body


def answer(response: bytes) -> tuple[int, bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


@pytest.mark.parametrize("byte_by_byte", [False, True])
@pytest.mark.parametrize(
    "body,status,name",
    [
        (b"ping", 200, "exact"),
        (b"ping ", 299, "any-api"),  # exact means exact
        (b'{"kind": "order", "items": [{"sku": "A1", "qty": 2}], "note": "x"}', 201, "order"),  # a subset
        (b'{"kind": "order", "items": [{"sku": "A1"}, {"sku": "B2"}]}', 299, "any-api"),  # a list matches item by item
        (b'{"kind": "order", "items": [{"sku": "A1"}]', 299, "any-api"),  # not JSON
        (b"urgent: id=123", 202, "both"),
        (b"urgent: id=1234", 203, "has-urgent"),  # every test must hold; then the next behaviour
        (b"not urgent at all: id=123", 202, "both"),
        (b"nothing", 299, "any-api"),
    ],
)
def test_the_body_chooses_the_behaviour(harness, body, status, name, byte_by_byte):
    h = harness(SET)
    h.send(post("/api", body), byte_by_byte)
    assert answer(h.take())[0] == status
    (entry,) = h.journal
    assert entry["behaviour"] == name and entry["problems"] == []


def test_nothing_is_sent_while_routing_waits_for_the_body_not_even_a_100(harness):
    h = harness(SET)
    h.send(post("/api", b"", b"Expect: 100-continue\r\n").replace(b"Content-Length: 0", b"Content-Length: 4"))
    for _ in range(9):
        h.advance(1.0)  # the client waits for a 100 that does not come (body timeout: 10 s)
        assert h.take() == b""
    h.send(b"ping")
    assert answer(h.take()) == (200, b"exact")
    (entry,) = h.journal
    assert entry["interims"] == [] and entry["facts"]["sent_body_before_continue"] is True


def test_a_body_that_never_comes_meets_the_body_timeout(harness):
    h = harness(SET, body_timeout=2.0)
    h.send(post("/api", b"").replace(b"Content-Length: 0", b"Content-Length: 4"))
    h.advance(1.999)
    assert h.take() == b""
    h.advance(0.002)
    assert h.take().startswith(b"HTTP/1.1 408 ")
    assert h.transport.disconnecting


def test_routing_waits_only_for_the_kept_prefix(harness):
    """A body is judged on its first 64 KiB: once they are here the behaviour is chosen (and
    here answers at once, before the rest of the body, which is then read and dropped)."""
    h = harness(SET)
    h.send(post("/api", b"").replace(b"Content-Length: 0", b"Content-Length: 100000"))
    h.send(b"urgent " + b"x" * (64 * 1024 - 8))
    assert h.take() == b""
    h.send(b"x")
    assert answer(h.take()) == (203, b"urgent")
    h.send(b"y" * (100000 - 64 * 1024))
    h.send(post("/api", b"ping"))  # the connection goes on
    assert answer(h.take()) == (200, b"exact")
    assert [e["behaviour"] for e in h.journal] == ["has-urgent", "exact"]


def test_a_body_longer_than_the_prefix_never_equals(harness):
    h = harness("name: a\nmatch: {path: /big, body: {equals: 'a'}}\nscript: [{respond: 200}]\n---\nname: b\nmatch: {path: /big, priority: -1}\nscript: [{respond: 404}]")
    h.send(post("/big", b"a" * (64 * 1024 + 1)))
    assert answer(h.take())[0] == 404


def test_a_request_that_cannot_reach_a_body_test_is_routed_at_once(harness):
    h = harness(SET)
    h.send(post("/now", b"").replace(b"Content-Length: 0", b"Content-Length: 4"))
    assert answer(h.take()) == (200, b"now")  # before the body


def test_a_higher_priority_behaviour_without_body_tests_wins_without_waiting(harness):
    h = harness(SET + "\n---\nname: first\nmatch: {path: /api, priority: 9}\nscript: [{respond: 204}]")
    h.send(post("/api", b"").replace(b"Content-Length: 0", b"Content-Length: 4"))
    assert h.take().startswith(b"HTTP/1.1 204 ")


def test_a_request_without_a_body_is_judged_as_an_empty_one(harness):
    h = harness("name: a\nmatch: {path: /e, body: {contains: x}}\nscript: [{respond: 201}]\n---\nname: b\nmatch: {path: /e, body: ''}\nscript: [{respond: 200}]")
    h.send(b"GET /e HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer(h.take())[0] == 200


def test_a_chunked_body_and_the_next_pipelined_request(harness):
    h = harness(SET)
    h.send(b"POST /api HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\npi\r\n2\r\nng\r\n0\r\n\r\n" + post("/api", b"nothing"), byte_by_byte=True)
    first, second = h.take().split(b"HTTP/1.1 ")[1:]
    assert first.startswith(b"200 ") and first.endswith(b"exact")
    assert second.startswith(b"299 ") and second.endswith(b"any 7")
    assert [e["behaviour"] for e in h.journal] == ["exact", "any-api"]


def test_a_client_that_half_closes_mid_body_is_routed_on_what_came(harness):
    h = harness(SET, transport=HalfClosingTransport())
    h.send(post("/api", b"").replace(b"Content-Length: 0", b"Content-Length: 100") + b"urgent")
    h.protocol.readConnectionLost()
    assert answer(h.take()) == (203, b"urgent")


def test_an_unmatched_body_is_a_404_whose_entry_says_which_bodies_were_tried(harness):
    h = harness("name: only\nmatch: {path: /only, body: {contains: 'yes'}}\nscript: [{respond: 200}]")
    h.send(post("/only", b"no"))
    assert answer(h.take())[0] == 404
    (entry,) = h.journal
    assert "the body did not match: only" in entry["problems"]


def test_a_catastrophic_body_regex_is_cut_at_the_budget():
    (behaviour,) = load_text("match: {path: /r, body: {regex: '^(a|aa)+$'}}\nscript: [{respond: 200}]")
    request = Request("POST", "/r", "1.1", [])
    request.path = "/r"

    class Slow:
        prefix = b"a" * 40 + b"b"
        length = 41
        complete = True

    routed = Router([behaviour]).route(request, Slow())
    assert routed.behaviour is None and routed.regex_timeouts == [behaviour.name]


def test_json_containment_is_type_strict():
    assert contains({"a": 1, "b": [1, 2]}, {"a": 1.0})
    assert not contains({"a": True}, {"a": 1}) and not contains({"a": 1}, {"a": True})
    assert not contains({"a": "1"}, {"a": 1}) and not contains([1, 2], [1])
    assert contains(None, None) and not contains({}, None)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("match: {body: {regex: '('}}\nscript: [{respond: 200}]", "b.yaml:1:23: invalid regex"),
        ("match: {body: {jsn: {}}}\nscript: [{respond: 200}]", "unknown key 'jsn' (did you mean 'json'?)"),
        ("match: {body: {json: .inf}}\nscript: [{respond: 200}]", "JSON has no NaN or infinity"),
        ("match: {body: {}}\nscript: [{respond: 200}]", "b.yaml:1:15:"),
    ],
)
def test_bad_body_tests_are_load_errors(text, expected):
    with pytest.raises(LoadError) as caught:
        load_text(text, "b.yaml")
    assert any(expected in str(problem) for problem in caught.value.problems), caught.value


@pytest.mark.e2e
def test_curl_with_expect_gets_no_100_before_routing(tmp_path):
    """A real client that sends ``Expect: 100-continue``: curl waits for the 100, gives up
    (``--expect100-timeout``), sends the body, and the body chooses the answer."""
    curl = require_program("curl")
    (tmp_path / "set.yaml").write_text(SET)
    server = start_server(tmp_path, str(tmp_path / "set.yaml"))
    try:
        result = subprocess.run([curl, "-sS", "-v", "-H", "Expect: 100-continue", "--expect100-timeout", "0.3",
                                 "-H", "content-type: application/json", "--data-binary", '{"kind": "order", "items": [{"sku": "A1"}]}',
                                 f"{server.url}/api"], capture_output=True, text=True, timeout=30)
        assert result.stdout == "order"
        assert "< HTTP/1.1 100" not in result.stderr
        (entry,) = server.control().wait_for(1)
        assert entry.behaviour == "order" and entry.interims == []
        assert entry.facts.waited_for_continue >= 0.25  # curl's 0.3 s, less scheduling
    finally:
        server.stop()
