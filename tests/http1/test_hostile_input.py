"""Requests a hostile client sends (issue #10): each gets its 4xx and a close, and the
server goes on serving; on StringTransport + Clock, bytes fed whole and one at a time."""

from __future__ import annotations

import pytest

ECHO = """
match: {path: {prefix: /}}
script:
  - read_body: {}
  - respond: {status: 200, body: "served ${request.target}"}
"""


@pytest.mark.parametrize("byte_by_byte", [False, True])
@pytest.mark.parametrize("target", [b"http://[/echo", b"http://]/echo", b"http://[::1/echo"])
def test_an_unreadable_absolute_form_target_is_a_400_not_a_crash(harness, target, byte_by_byte):
    h = harness(ECHO)
    h.send(b"GET " + target + b" HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n", byte_by_byte)
    response = h.take()
    assert response.startswith(b"HTTP/1.1 400 Bad Request\r\n") and b"Connection: close\r\n" in response
    assert b"served" not in response  # the pipelined request is not served
    assert h.transport.disconnecting
    h.lose()
    entry = h.journal[0]
    assert entry["final"]["status"] == 400 and entry["ended"]["by"] == "server"
    assert any("invalid request target" in p for p in entry["problems"])


@pytest.mark.parametrize("byte_by_byte", [False, True])
@pytest.mark.parametrize("host", [b"a b", b"a@b", b"a/b", b"[::1", b"h:8x"])
def test_an_invalid_host_is_a_400_and_what_follows_is_not_served(harness, host, byte_by_byte):
    h = harness(ECHO)
    h.send(b"GET /x HTTP/1.1\r\nHost: " + host + b"\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n", byte_by_byte)
    response = h.take()
    assert response.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"invalid Host header" in response and b"served" not in response
    assert h.transport.disconnecting


@pytest.mark.parametrize("host", [b"example.test", b"example.test:8080", b"[::1]:80", b"127.0.0.1", b"xn--caf-dma.example", b"h:"])
def test_valid_hosts_are_served(harness, host):
    h = harness(ECHO)
    h.send(b"GET /x HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
    assert h.take().endswith(b"served /x")


@pytest.mark.parametrize("chunked", [False, True])
def test_a_client_fin_in_the_middle_of_the_body_gets_no_400_and_the_script_goes_on(harness, chunked):
    """#10 defect 15: the client's half-close is its own doing; nothing is sent on its account."""
    from tests.helpers import HalfClosingTransport

    h = harness(ECHO.replace('"served ${request.target}"', '"got ${request.body_length}"'), transport=HalfClosingTransport())
    if chunked:
        h.send(b"POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nab")
    else:
        h.send(b"POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhello")
    assert h.take() == b""
    h.protocol.readConnectionLost()
    response = h.take()
    assert response.startswith(b"HTTP/1.1 200 OK\r\n"), response
    assert response.endswith(b"got 7" if chunked else b"got 5")
    assert b"400" not in response
    h.lose()
    [entry] = h.journal
    assert entry["final"]["status"] == 200 and entry["request"]["body_complete"] is False


def test_a_client_fin_while_the_script_waits_elsewhere_changes_nothing_until_it_reads(harness):
    from tests.helpers import HalfClosingTransport

    h = harness(
        """
match: {path: /u}
script:
  - wait: 1s
  - read_body: {}
  - respond: {status: 201, body: "got ${request.body_length}"}
""",
        transport=HalfClosingTransport(),
    )
    h.send(b"POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
    h.protocol.readConnectionLost()
    assert h.take() == b""
    h.advance(1)
    assert h.take().endswith(b"got 3")


def test_no_script_holds_the_reactor_for_more_than_a_bounded_number_of_commands(harness):
    """#10 defect 2: a drip of one byte every 0 ms over 100 kB was 100,000 writes in one turn."""
    from mockorigin.http1.running import COMMANDS_PER_TURN

    h = harness(
        """
match: {path: /d}
script:
  - respond: {status: 200, body_size: 100000, drip: {bytes: 1, every: 0}}
"""
    )
    h.send(b"GET /d HTTP/1.1\r\nHost: a\r\n\r\n")
    first_turn = h.take()
    head, _, body = first_turn.partition(b"\r\n\r\n")
    assert b"Content-Length: 100000" in head
    assert 0 < len(body) < COMMANDS_PER_TURN  # the head was one command, then single bytes
    turns = 1
    while len(body) < 100_000 and turns < 1000:
        one_turn(h.clock)
        more = h.take()
        assert len(more) <= COMMANDS_PER_TURN
        body += more
        turns += 1
    assert len(body) == 100_000 and turns >= 100_000 // COMMANDS_PER_TURN
    assert h.protocol.step_timer is None and h.protocol.exchange is None  # done, waiting for the next request


def one_turn(clock) -> None:
    """What the reactor does in one iteration: the calls due now, not those they schedule
    (``Clock.advance(0)`` would run those too, which a reactor leaves for its next turn)."""
    due = [call for call in clock.calls if call.getTime() <= clock.seconds()]
    for call in due:
        if call in clock.calls:
            clock.calls.remove(call)
            call.called = 1
            call.func(*call.args, **call.kw)


SLOW_BODY = ECHO.replace('"served ${request.target}"', '"got ${request.body_length}"')


@pytest.mark.parametrize("draining", [False, True])
def test_a_body_slower_than_the_minimum_rate_gets_408_at_the_end_of_its_window(harness, draining):
    """#10 defect 9: 1 byte every 5 s was held for 45 s and more; the default is 1 KB/s over 10 s."""
    source = SLOW_BODY if not draining else "match: {path: /u}\nscript:\n  - respond: 204\n"
    h = harness(source)
    h.send(b"POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n")
    h.take()
    for _ in range(2):
        h.advance(5)
        h.send(b"x")
    h.advance(0.2)  # the coarse deadline sweeps every 0.1 s
    response = h.take()
    if draining:  # the 204 went out already: the connection is closed, nothing more is sent
        assert response == b""
    else:
        assert response.startswith(b"HTTP/1.1 408 Request Timeout\r\n") and b"too slow" in response
    assert h.transport.disconnecting
    h.lose()
    assert any("408 request body too slow: 1 byte in 10 s, at least 10240 needed" in p for p in h.journal[0]["problems"])


def test_a_body_at_the_minimum_rate_is_read_to_the_end(harness):
    h = harness(SLOW_BODY)
    h.send(b"POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 30720\r\n\r\n")
    for _ in range(30):  # 1,024 bytes a second for 30 s
        h.send(b"y" * 1024)
        h.advance(1)
    assert h.take().endswith(b"got 30720")


def test_the_rate_is_a_setting(harness):
    h = harness(SLOW_BODY, body_timeout=60.0, body_min_rate=0)
    h.send(b"POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n")
    for _ in range(3):
        h.advance(30)
        h.send(b"z")
    assert h.take().endswith(b"got 3")


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("/drip?bytes=1MiB&every=1ms", "bytes=1048576 and every=1ms"),  # 1,048 s in all
        ("/drip?bytes=700&every=1s", "bytes=700 and every=1s"),
        ("/processing?count=1000&every=1s", "count=1000 and every=1s"),
    ],
)
def test_params_that_make_a_drip_or_a_repeat_run_past_the_limit_get_a_400_naming_them(harness, query, names):
    """#10 defect 15: each param within its bounds, together hours of dripping."""
    from mockorigin.format.loader import load_paths

    from tests.helpers import CATALOGUE

    h = harness(load_paths([str(CATALOGUE)]))
    h.send(f"GET {query} HTTP/1.1\r\nHost: a\r\n\r\n".encode())
    response = h.take()
    assert response.startswith(b"HTTP/1.1 400 Bad Request\r\n"), response[:100]
    assert names.encode() in response and b"the limit is 600s" in response
    h.send(b"GET /drip?bytes=3&every=1ms HTTP/1.1\r\nHost: a\r\n\r\n")  # the connection goes on serving
    h.advance(0.01)
    assert h.take().startswith(b"HTTP/1.1 200 OK\r\n")


def test_hang_until_data_waits_for_data_after_it_began_not_the_request_that_started_it(harness):
    """A reuse race: respond, hang until the client sends anything, then reset."""
    h = harness("match: {path: /r}\nscript: [{respond: 200}, {hang: {for: 5s, until: data}}, {reset: {}}]")
    h.send(b"GET /r HTTP/1.1\r\nHost: a\r\n\r\n")
    assert h.take().startswith(b"HTTP/1.1 200 OK\r\n") and not h.transport.disconnected
    h.advance(1)
    assert not h.transport.disconnected  # still hanging
    h.send(b"GET /again HTTP/1.1\r\nHost: a\r\n\r\n")
    assert h.transport.disconnected  # the reset, at the client's next bytes


def test_a_discarded_body_that_is_the_clients_next_request_is_journaled_as_such(harness):
    """unread_body: discard reads it as body, as asked; the journal says what it really was."""
    h = harness("match: {path: /r}\nscript: [{unread_body: discard}, {respond: 417}]")
    h.send(b"POST /r HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 40\r\n\r\n")
    assert h.take().startswith(b"HTTP/1.1 417 ")
    h.send(b"POST /r HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")
    h.lose()
    assert h.journal[0]["facts"]["next_request_instead_of_body"] is True


def test_skip_gives_a_body_sent_with_the_head_back_as_the_next_request(harness):
    """unread_body: skip with the body in the same read as the head (http.client sends it so):
    the 417 goes out, and the body's bytes are read as the next request (here: a bad one)."""
    h = harness("match: {path: /r}\nscript: [{unread_body: skip}, {respond: 417}]")
    h.send(b"POST /r HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello")
    assert h.take().startswith(b"HTTP/1.1 417 ") and not h.transport.disconnecting
    h.send(b"\r\n\r\n")  # "hello" was the start of the next request's head
    assert h.take().startswith(b"HTTP/1.1 400 ")
    h.lose()
    assert [e["final"]["status"] for e in h.journal] == [417, 400]
    assert h.journal[0]["request"]["body_length"] == 0
