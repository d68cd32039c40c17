"""The verification helpers on both handles, against real servers and raw clients that do
exactly what each case needs on the wire (wait for the 100, or not; a body after the response)."""

from __future__ import annotations

import socket
import time

import pytest
import pytest_twisted
from twisted.internet import defer, reactor, task
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.protocol import Protocol

pytestmark = pytest.mark.e2e

ANSWER_AT_ONCE = {"name": "early", "match": {"path": "/early"}, "script": [{"respond": 200}]}


def connect(handle) -> socket.socket:
    return socket.create_connection((handle.host, handle.port), timeout=5)


def read_until(connection: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = connection.recv(4096)
        assert chunk, f"closed before {marker!r}: {data!r}"
        data += chunk
    return data


def post_waiting_for_100(handle, path: str, wait: bool) -> bytes:
    """POST 5 bytes with ``Expect: 100-continue``, the body after the 100 (``wait``) or at once."""
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\n".encode()
    with connect(handle) as connection:
        if wait:
            connection.sendall(head)
            read_until(connection, b"100 Continue\r\n\r\n")
            connection.sendall(b"hello")
        else:
            connection.sendall(head + b"hello")
        return read_until(connection, b"received")


# --- mock_origin ------------------------------------------------------------------


def test_assert_matched_counts_exactly_and_lists_what_the_server_saw(mock_origin):
    with connect(mock_origin) as connection:
        for path in ("/echo", "/echo", "/early-hints"):
            connection.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            read_until(connection, b"\r\n\r\n")
    assert [e.request.target for e in mock_origin.assert_matched("echo", 2)] == ["/echo", "/echo"]
    with pytest.raises(AssertionError) as too_few:
        mock_origin.assert_matched("echo", 3, timeout=0.2)
    with pytest.raises(AssertionError) as too_many:
        mock_origin.assert_matched("echo")
    lines = str(too_few.value).splitlines()
    assert lines[:2] == ["expected exactly 3 requests to match 'echo', 2 did", "the server saw:"]
    assert [line.split(" ", 3)[-1] for line in lines[2:]] == ["GET /echo -> echo", "GET /echo -> echo", "GET /early-hints -> early-hints"]
    assert str(too_many.value).splitlines()[0] == "expected exactly 1 request to match 'echo', 2 did"


def test_assert_matched_names_a_behaviour_that_is_not_being_served(mock_origin):
    mock_origin.use("echo", "drip")
    with pytest.raises(AssertionError, match=r"^expected exactly 1 request to match 'ecko', 0 did \('ecko' is not being served; the set is: echo, drip\)"):
        mock_origin.assert_matched("ecko", timeout=0)


def test_assert_matched_waits_for_an_exchange_that_is_still_running(mock_origin):
    with connect(mock_origin) as connection:
        started = time.monotonic()
        connection.sendall(b"GET /drip?bytes=3&every=100ms HTTP/1.1\r\nHost: x\r\n\r\n")
        (entry,) = mock_origin.assert_matched("drip", 1, timeout=5)
        waited = time.monotonic() - started
    assert entry.final.status == 200
    assert 0.2 <= waited < 5  # the drip's 3 x 100 ms, less the first byte sent at once


def test_assert_waited_for_continue_tells_a_client_that_waits_from_one_that_does_not(mock_origin):
    post_waiting_for_100(mock_origin, "/continue/delayed?delay=300ms", wait=True)
    (entry,) = mock_origin.assert_waited_for_continue("250ms")
    assert entry.facts.waited_for_continue >= 0.3
    with pytest.raises(AssertionError) as too_short:
        mock_origin.assert_waited_for_continue(2.0)
    mock_origin.reset()
    post_waiting_for_100(mock_origin, "/continue/delayed?delay=300ms", wait=False)
    with pytest.raises(AssertionError) as impatient:
        mock_origin.assert_waited_for_continue("250ms", behaviour="continue-delayed")
    assert str(too_short.value).startswith("expected the client to wait at least 2.000s for the 100 before sending the body; it sent its body after 0.3")
    lines = str(impatient.value).splitlines()
    assert lines[0].startswith("expected the client to wait at least 0.250s for the 100 before sending the body; it sent its body after 0.0")
    assert lines[1].endswith("POST /continue/delayed?delay=300ms -> continue-delayed")
    assert lines[-1] == "  Expect: 100-continue; body after waiting 0.000s, before any 100"


def test_assert_waited_for_continue_refuses_a_request_without_expect(mock_origin):
    with connect(mock_origin) as connection:
        connection.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
        read_until(connection, b"}")
    with pytest.raises(AssertionError, match=r"^expected a request with `Expect: 100-continue`; this one had none:\n#\d+ POST /echo -> echo\n"):
        mock_origin.assert_waited_for_continue(0)


def test_assert_no_body_after_final_shows_the_late_body(mock_origin):
    mock_origin.use(ANSWER_AT_ONCE)
    with connect(mock_origin) as connection:
        connection.sendall(b"POST /early HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n")
        read_until(connection, b"\r\n\r\n")
        connection.sendall(b"hello")
        mock_origin.wait_for(1)
    with pytest.raises(AssertionError) as late:
        mock_origin.assert_no_body_after_final()
    lines = str(late.value).splitlines()
    assert lines[0] == "expected no body after the final response; the client sent 5 bytes after it:"
    assert "  5 body bytes arrived after the final response" in lines


def test_assert_no_body_after_final_passes_and_a_helper_with_nothing_to_check_fails(mock_origin):
    with pytest.raises(AssertionError, match=r"^no request reached the server within 0.1s; the server saw:\n  none$"):
        mock_origin.assert_no_body_after_final(timeout=0.1)
    with connect(mock_origin) as connection:
        connection.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
        read_until(connection, b"}")
    (entry,) = mock_origin.assert_no_body_after_final()
    assert entry.request.body_length == 2


def test_the_report_section_shows_an_exchange_still_running(mock_origin):
    with connect(mock_origin) as connection:
        connection.sendall(b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n")
        deadline = time.monotonic() + 5
        while not any(c["request"] for c in mock_origin.control.connections()) and time.monotonic() < deadline:
            time.sleep(0.01)
        section = mock_origin.report_section()
    mock_origin.wait_for(1)  # journaled once the client has gone: not in the next test's journal
    lines = section.splitlines()
    assert lines[:2] == ["no exchange has finished yet", "still open:"]
    assert lines[2].startswith("  connection ") and ": GET /hang -> hang, at stage " in lines[2]


def test_an_unmatched_request_on_a_connection_still_open_is_a_problem_at_the_end(mock_origin):
    with connect(mock_origin) as connection:
        connection.sendall(b"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        read_until(connection, b"\r\n\r\n")  # the server lingers until this client closes
        started = time.monotonic()
        problems = mock_origin.problems_at_end()
        settled_for = time.monotonic() - started
        mock_origin.allow_problems()
    assert problems == ["GET /nowhere: no behaviour matched it (its connection is still open)"]
    assert 0.4 < settled_for < 2  # the bounded wait for it to be journaled


# --- mock_origin_twisted --------------------------------------------------------------


class Raw(Protocol):
    def __init__(self, request: bytes):
        self.request, self.data, self.closed = request, b"", defer.Deferred()

    def connectionMade(self):
        self.transport.write(self.request)

    def dataReceived(self, data):
        self.data += data

    def connectionLost(self, reason):
        self.closed.callback(self.data)


@defer.inlineCallbacks
def until(condition, timeout: float = 5.0):
    deadline = reactor.seconds() + timeout
    while not condition():
        assert reactor.seconds() < deadline, "timed out"
        yield task.deferLater(reactor, 0.01, lambda: None)


@pytest_twisted.inlineCallbacks
def test_twisted_assert_matched_counts_an_exchange_still_running(mock_origin_twisted):
    client = yield connectProtocol(TCP4ClientEndpoint(reactor, mock_origin_twisted.host, mock_origin_twisted.port), Raw(b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n"))
    yield until(lambda: mock_origin_twisted._in_progress())
    assert mock_origin_twisted.journal() == []
    (entry,) = mock_origin_twisted.assert_matched("hang")
    assert entry.ended.how is None and entry.ended.stage.endswith(":hang")
    client.transport.loseConnection()
    yield client.closed


@pytest_twisted.inlineCallbacks
def test_twisted_assert_waited_for_continue_shows_the_entry(mock_origin_twisted):
    request = b"POST /continue/delayed?delay=50ms HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
    client = yield connectProtocol(TCP4ClientEndpoint(reactor, mock_origin_twisted.host, mock_origin_twisted.port), Raw(request))
    reply = yield client.closed
    assert reply.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 ")
    with pytest.raises(AssertionError) as impatient:
        mock_origin_twisted.assert_waited_for_continue("40ms")
    lines = str(impatient.value).splitlines()
    assert lines[0].startswith("expected the client to wait at least 0.040s for the 100 before sending the body; it sent its body after 0.0")
    assert lines[1].endswith("POST /continue/delayed?delay=50ms -> continue-delayed")


@pytest_twisted.inlineCallbacks
def test_twisted_wait_for_times_out_listing_what_it_has(mock_origin_twisted):
    client = yield connectProtocol(TCP4ClientEndpoint(reactor, mock_origin_twisted.host, mock_origin_twisted.port), Raw(b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
    yield client.closed
    yield until(lambda: mock_origin_twisted.journal())
    with pytest.raises(TimeoutError) as timed_out:
        yield mock_origin_twisted.wait_for(2, timeout=0.1)
    assert str(timed_out.value).splitlines() == ["expected 2 journal entries within 0.1s, got 1:", "  #1 GET /echo -> echo"]


# --- use() refusals read the same from both handles ------------------------------------


def test_use_of_a_name_the_server_did_not_start_with_names_the_set(mock_origin):
    from mockorigin.pytest_plugin import MockOriginError

    with pytest.raises(MockOriginError, match=r"^not in the set the server started with: ecko \(known: .*\becho\b"):
        mock_origin.use("ecko")


def test_twisted_use_of_a_name_the_server_did_not_start_with_names_the_set(mock_origin_twisted):
    from mockorigin.pytest_plugin import MockOriginError

    with pytest.raises(MockOriginError, match=r"^not in the set the server started with: ecko \(known: .*\becho\b"):
        mock_origin_twisted.use("ecko")
