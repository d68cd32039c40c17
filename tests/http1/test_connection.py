"""The protocol on StringTransport + Clock: exact bytes, exact times, no real sleeping."""

from __future__ import annotations

import pytest
from twisted.internet.testing import StringTransport

from tests.helpers import HalfClosingTransport, connect

CONTINUE_DELAYED = """
name: continue-delayed
match: {method: POST, path: /upload}
params:
  delay: {type: duration, default: 2s, max: 60s}
script:
  - wait: ${delay}
  - interim: 100
  - read_body: {}
  - respond: {status: 200, body: "got ${request.body_length}"}
"""

POST_WITH_EXPECT = b"POST /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"


@pytest.mark.parametrize("byte_by_byte", [False, True])
def test_no_100_before_the_delay_and_100_exactly_at_it(harness, byte_by_byte):
    h = harness(CONTINUE_DELAYED)
    h.send(POST_WITH_EXPECT, byte_by_byte)
    h.advance(1.999)
    assert h.take() == b""
    h.advance(0.001)
    assert h.take() == b"HTTP/1.1 100 Continue\r\n\r\n"
    h.send(b"hello", byte_by_byte)
    response = h.take()
    assert response.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Length: 5\r\n" in response and response.endswith(b"\r\n\r\ngot 5")
    assert not h.transport.disconnecting  # keep-alive


def test_query_param_overrides_the_delay_within_bounds(harness):
    h = harness(CONTINUE_DELAYED)
    h.send(POST_WITH_EXPECT.replace(b"/upload", b"/upload?delay=250ms"))
    h.advance(0.249)
    assert h.take() == b""
    h.advance(0.001)
    assert h.take() == b"HTTP/1.1 100 Continue\r\n\r\n"


def test_param_out_of_bounds_is_a_400_naming_the_param(harness):
    h = harness(CONTINUE_DELAYED)
    h.send(b"POST /upload?delay=2m HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    response = h.take()
    assert response.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"param 'delay'" in response


def test_three_102s_one_every_apart_each_with_its_status_uri(harness):
    h = harness(
        """
match: {path: /p}
script:
  - interim: {status: 102, count: 3, every: 1s, headers: {status-uri: "102 </s/${n}>"}}
  - respond: 204
"""
    )
    h.send(b"GET /p HTTP/1.1\r\nHost: x\r\n\r\n")
    first = b"HTTP/1.1 102 Processing\r\nstatus-uri: 102 </s/1>\r\n\r\n"
    assert h.take() == first
    h.advance(0.999)
    assert h.take() == b""
    h.advance(0.001)
    assert h.take() == b"HTTP/1.1 102 Processing\r\nstatus-uri: 102 </s/2>\r\n\r\n"
    h.advance(1)
    third = h.take()
    assert third.startswith(b"HTTP/1.1 102 Processing\r\nstatus-uri: 102 </s/3>\r\n\r\nHTTP/1.1 204 No Content\r\n")
    assert b"Content-Length" not in third  # never on a 204
    assert [i["at"] for i in h.journal[0]["interims"]] == [0.0, 1.0, 2.0]


def test_interim_is_not_sent_to_http10_unless_asked(harness):
    source = """
match: {path: /i}
script:
  - interim: 103
  - interim: {status: 100, to_http10: true}
  - respond: 200
"""
    h = harness(source)
    h.send(b"GET /i HTTP/1.0\r\n\r\n")
    out = h.take()
    assert b"103" not in out
    assert out.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")
    assert h.transport.disconnecting  # HTTP/1.0 without keep-alive


def test_hang_sends_nothing_at_all_until_the_client_leaves(harness):
    h = harness("match: {path: /h}\nscript: [{hang: {}}]")
    h.send(b"GET /h HTTP/1.1\r\nHost: x\r\n\r\n")
    h.advance(599)
    assert h.take() == b"" and not h.transport.disconnecting
    h.lose()
    entry = h.journal[-1]
    assert entry["ended"]["how"] == "client closed" and entry["ended"]["stage"] == "1:hang"
    assert h.clock.getDelayedCalls() == []


def test_an_open_ended_hang_is_cut_at_the_limit(harness):
    h = harness("match: {path: /h}\nscript: [{hang: {}}]", max_hang=30)
    h.send(b"GET /h HTTP/1.1\r\nHost: x\r\n\r\n")
    h.advance(29.9)
    assert not h.transport.disconnecting
    h.advance(0.1)
    assert h.take() == b""
    assert h.transport.disconnected  # StringTransport's mark of abortConnection (RST), not loseConnection


def test_hang_with_read_false_stops_reading(harness):
    h = harness("match: {path: /h}\nscript: [{hang: {for: 2s, read: false}}, {respond: 200}]")
    h.send(b"GET /h HTTP/1.1\r\nHost: x\r\n\r\n")
    assert h.transport.producerState == "paused"
    h.advance(2)
    assert h.transport.producerState == "producing"
    assert h.take().startswith(b"HTTP/1.1 200 OK")


def test_reset_is_an_abort_not_a_close(harness):
    h = harness("match: {path: /r}\nscript: [{head: {status: 200, headers: {content-length: 10}}}, {reset: {}}]")
    h.send(b"GET /r HTTP/1.1\r\nHost: x\r\n\r\n")
    assert h.take().startswith(b"HTTP/1.1 200 OK\r\n")
    assert h.transport.disconnected  # abortConnection (RST); loseConnection (FIN) only sets disconnecting
    h.lose()
    assert h.journal[-1]["ended"]["how"] == "server reset"


def test_close_is_a_graceful_close(harness):
    h = harness("match: {path: /c}\nscript: [{respond: 200}, {close: {}}]")
    h.send(b"GET /c HTTP/1.1\r\nHost: x\r\n\r\n")
    assert h.transport.disconnecting and not h.transport.disconnected  # FIN, not RST


@pytest.mark.parametrize("byte_by_byte", [False, True])
def test_pipelined_requests_are_answered_in_order(harness, byte_by_byte):
    h = harness(
        """
name: slow
match: {path: /slow}
script: [{wait: 1s}, {respond: {status: 200, body: slow}}]
---
name: fast
match: {path: /fast}
script: [{respond: {status: 200, body: fast}}]
"""
    )
    h.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\n", byte_by_byte)
    assert h.take() == b""
    h.advance(1)
    out = h.take()
    assert out.index(b"slow") < out.index(b"fast")
    assert out.count(b"HTTP/1.1 200 OK") == 2


def test_nothing_is_sent_after_a_hang_for_a_pipelined_request(harness):
    h = harness("name: h\nmatch: {path: /h}\nscript: [{hang: 5s}]\n---\nname: f\nmatch: {path: /f}\nscript: [{respond: 200}]")
    h.send(b"GET /h HTTP/1.1\r\nHost: x\r\n\r\nGET /f HTTP/1.1\r\nHost: x\r\n\r\n")
    h.advance(4.9)
    assert h.take() == b""
    h.advance(0.1)
    # the hang's script ended without a response: the connection closes, /f is never answered
    assert h.take() == b"" and h.transport.disconnecting


def test_drip_paces_the_body(harness):
    h = harness("match: {path: /d}\nscript: [{respond: {status: 200, body: abc, drip: {bytes: 1, every: 100ms}}}]")
    h.send(b"GET /d HTTP/1.1\r\nHost: x\r\n\r\n")
    head = h.take()
    assert head.endswith(b"\r\n\r\na") and b"Content-Length: 3\r\n" in head
    h.advance(0.099)
    assert h.take() == b""
    h.advance(0.001)
    assert h.take() == b"b"
    h.advance(0.1)
    assert h.take() == b"c"


def test_chunked_with_trailers(harness):
    h = harness(
        "match: {path: /c}\nscript: [{respond: {status: 200, body: hello world, chunked: {size: 5}, trailers: {x-sum: abc}, auto_headers: false}}]"
    )
    h.send(b"GET /c HTTP/1.1\r\nHost: x\r\n\r\n")
    assert h.take() == b"HTTP/1.1 200 OK\r\n\r\n5\r\nhello\r\n5\r\n worl\r\n1\r\nd\r\n0\r\nx-sum: abc\r\n\r\n"


def test_raw_bytes_go_out_exactly_and_then_the_connection_closes(harness):
    h = harness('match: {path: /raw}\nscript: [{raw: "HTTP/1.1 200 OK\\r\\nContent-Length: 5\\r\\n\\r\\nab"}]')
    h.send(b"GET /raw HTTP/1.1\r\nHost: x\r\n\r\n")
    assert h.take() == b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"
    assert h.transport.disconnecting


def test_head_request_gets_no_body(harness):
    h = harness("match: {path: /x}\nscript: [{respond: {status: 200, body: hello}}]")
    h.send(b"HEAD /x HTTP/1.1\r\nHost: x\r\n\r\n")
    out = h.take()
    assert out.endswith(b"\r\n\r\n") and b"Content-Length: 5\r\n" in out


def test_final_before_body_with_expect_closes_when_no_100_was_sent(harness):
    h = harness("match: {path: /x}\nscript: [{respond: 413}]")
    h.send(b"POST /x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n")
    assert h.take().startswith(b"HTTP/1.1 413 ")
    assert h.transport.disconnecting


def test_unread_body_without_expect_is_drained_and_the_connection_kept(harness):
    h = harness("name: a\nmatch: {path: /x}\nscript: [{respond: 200}]")
    h.send(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab")
    assert h.take().startswith(b"HTTP/1.1 200 OK")
    h.send(b"cdGET /x HTTP/1.1\r\nHost: x\r\n\r\n")
    assert h.take().startswith(b"HTTP/1.1 200 OK")
    assert not h.transport.disconnecting
    assert [e["request"]["body_length"] for e in h.journal] == [4, 0]


def test_sequence_fails_twice_then_succeeds(harness):
    h = harness("match: {path: /s}\nsequence: [[{respond: 503}], [{respond: 503}], [{respond: 200}]]")
    statuses = []
    for _ in range(4):
        h.send(b"GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
        statuses.append(int(h.take()[9:12]))
    assert statuses == [503, 503, 200, 200]


def test_unknown_path_gets_404_naming_the_closest(harness):
    h = harness("name: processing\nmatch: {path: /processing}\nscript: [{respond: 200}]")
    h.send(b"GET /procesing HTTP/1.1\r\nHost: x\r\n\r\n")
    out = h.take()
    assert out.startswith(b"HTTP/1.1 404 Not Found\r\n") and b"processing (/processing)" in out


BAD_REQUESTS = [
    (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3,3\r\n\r\nabc", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    (b"GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505),
    (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
    (b"GET / http/1.1\r\nHost: a\r\n\r\n", 400),
    (b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n", 400),
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"a" * 8200 + b"\r\n\r\n", 431),
    (b"GET / HTTP/1.1\r\nHost: a\r\n" + b"".join(b"X-%d: a\r\n" % i for i in range(101)) + b"\r\n", 431),
    (b"GET / HTTP/1.1\r\nHost: a\r\n" + b"".join(b"X-%d: %s\r\n" % (i, b"a" * 4000) for i in range(5)) + b"\r\n", 431),
]


@pytest.mark.parametrize("byte_by_byte", [False, True])
@pytest.mark.parametrize("request_bytes,status", BAD_REQUESTS, ids=range(len(BAD_REQUESTS)))
def test_bad_requests_get_the_right_status_and_a_close_and_no_behaviour_runs(harness, request_bytes, status, byte_by_byte):
    h = harness("name: any\nscript: [{read_body: {}}, {respond: 200}]")  # matches everything
    h.send(request_bytes, byte_by_byte)
    out = h.take()
    assert out.startswith(b"HTTP/1.1 %d " % status), out[:60]
    assert b"Connection: close\r\n" in out
    assert h.transport.disconnecting
    assert out.count(b"HTTP/1.1") == 1  # the behaviour (200) never ran


def test_smuggled_request_behind_cl_te_is_never_served(harness):
    h = harness("name: canary\nmatch: {path: /canary}\nscript: [{respond: 200}]")
    h.send(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 35\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /canary HTTP/1.1\r\nHost: a\r\n\r\n")
    out = h.take()
    assert out.startswith(b"HTTP/1.1 400 ") and b"200 OK" not in out


def test_a_head_that_never_finishes_gets_408_at_the_deadline(harness):
    h = harness("script: [{respond: 200}]", head_deadline=10)
    h.send(b"GET / HTTP/1.1\r\nHost: a\r\n")
    h.advance(9.9)
    assert h.take() == b""
    h.advance(0.1)
    assert h.take().startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert h.transport.disconnecting
    h.lose()
    assert h.journal[-1]["ended"]["stage"] == "head"


def test_an_idle_keep_alive_connection_is_closed_silently(harness):
    h = harness("script: [{respond: 200}]", idle_timeout=75)
    h.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    h.take()
    h.advance(74.9)
    assert not h.transport.disconnecting
    h.advance(0.1)
    assert h.take() == b"" and h.transport.disconnecting


def test_journal_records_times_and_client_facts(harness):
    h = harness(CONTINUE_DELAYED)
    h.send(POST_WITH_EXPECT)
    h.advance(0.5)
    h.send(b"hel")  # the client did not wait for the 100
    h.advance(1.5)
    h.send(b"lo")
    (entry,) = h.journal
    assert entry["behaviour"] == "continue-delayed"
    assert entry["times"]["first_body_byte"] == pytest.approx(0.5)
    assert entry["times"]["last_body_byte"] == pytest.approx(2.0)
    assert entry["interims"] == [{"status": 100, "at": pytest.approx(2.0), "after_client_left": False}]
    assert entry["final"]["status"] == 200
    assert entry["facts"]["sent_body_before_continue"] is True
    assert entry["facts"]["waited_for_continue"] == pytest.approx(0.5)
    assert entry["request"]["body_length"] == 5 and entry["request"]["body_complete"]


@pytest.mark.parametrize(("fields", "expected"), [(b"Expect: x\r\nexpect: 100-Continue\r\n", True), (b"Expect: 100-continue\r\nExpect: x\r\n", False), (b"", False)])
def test_the_last_expect_field_decides_whether_the_client_expected_a_100(harness, fields, expected):
    h = harness("script: [{respond: 200}]")
    h.send(b"GET / HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
    assert h.journal[0]["facts"]["expect_continue"] is expected


def test_a_connection_closed_mid_head_is_journaled(harness):
    h = harness("script: [{respond: 200}]")
    h.send(b"GET / HTT")
    h.lose()
    (entry,) = h.journal
    assert entry["request"] is None
    assert entry["ended"] == {"how": "client closed", "by": "client", "signal": "FIN", "stage": "head", "at": 0.0, "client": {"fin": {"at": 0.0, "stage": "head"}, "rst": None}, "server": None}


def test_every_timer_is_cancelled_when_the_client_leaves(harness):
    h = harness(CONTINUE_DELAYED)
    h.send(POST_WITH_EXPECT)
    assert h.clock.getDelayedCalls()
    h.lose()
    assert h.clock.getDelayedCalls() == []


def test_large_generated_body_waits_for_the_transport(harness):
    h = harness("match: {path: /big}\nscript: [{respond: {status: 200, body_size: 1MiB}}]")
    h.protocol.pauseProducing()  # the transport's buffer is full
    h.send(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
    assert h.take() == b""
    h.protocol.resumeProducing()
    out = h.take()
    assert len(out.split(b"\r\n\r\n", 1)[1]) == 1024 * 1024


class BoundedBufferTransport(StringTransport):
    """Pauses its streaming producer once more than 64 KiB wait unread, as Twisted's TCP does."""

    def write(self, data: bytes) -> None:
        super().write(data)
        if self.producer is not None and self.streaming and len(self.value()) > 64 * 1024:
            self.producer.pauseProducing()


def test_a_large_body_after_a_wait_still_stops_when_the_transport_is_full(harness):
    h = harness("match: {path: /big}\nscript: [{wait: 1s}, {respond: {status: 200, body_size: 4MiB}}]", BoundedBufferTransport())
    h.send(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
    h.advance(1)  # the timed run holds its bytes back to send them at once, but never more than 64 KiB
    assert 64 * 1024 < len(h.take()) <= 3 * 64 * 1024
    for _ in range(200):  # bounded: 4 MiB in steps of about 64 KiB
        h.protocol.resumeProducing()
        if not h.take():
            break
    assert h.journal[-1]["final"]["status"] == 200 and h.protocol.exchange is None


def test_close_lingers_reading_what_the_client_still_sends(harness):
    transport = HalfClosingTransport()
    h = harness("match: {path: /r}\nscript: [{respond: 417}, {close: {}}]", transport, linger=2, max_linger=10)
    h.send(b"POST /r HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n")
    assert h.take().startswith(b"HTTP/1.1 417 ")
    assert transport.write_closed and not transport.disconnecting  # FIN sent, still reading
    h.advance(1.5)
    h.send(b"hello")  # the body, after the final response
    h.advance(1.9)
    assert not transport.disconnecting  # silence is counted from the last byte
    h.advance(0.1)
    assert transport.disconnecting
    h.lose()
    facts = h.journal[-1]["facts"]
    assert facts["body_after_final_response"] and facts["body_bytes_after_final_response"] == 5
    assert h.take() == b""  # nothing more was sent


def test_lingering_ends_when_the_client_closes_too(harness):
    transport = HalfClosingTransport()
    h = harness("match: {path: /r}\nscript: [{respond: 200}, {close: {}}]", transport)
    h.send(b"GET /r HTTP/1.1\r\nHost: x\r\n\r\n")
    h.protocol.readConnectionLost()
    assert transport.disconnecting
    h.lose()
    assert h.journal[-1]["ended"]["how"] == "server closed"
    assert h.clock.getDelayedCalls() == []


def test_hanging_connections_share_one_timer(harness):
    h = harness("match: {path: /h}\nscript: [{hang: {}}]", max_hang=30)
    others = [connect(h.factory, h.clock) for _ in range(200)]
    for connection in [h, *others]:
        connection.send(b"GET /h HTTP/1.1\r\nHost: x\r\n\r\n")
    assert len(h.clock.getDelayedCalls()) == 1
    h.advance(30)
    assert all(connection.transport.disconnected for connection in [h, *others])


def test_lingering_ends_at_max_linger_even_if_the_client_keeps_sending(harness):
    transport = HalfClosingTransport()
    h = harness("match: {path: /r}\nscript: [{respond: 417}, {close: {}}]", transport, linger=2, max_linger=10)
    h.send(b"POST /r HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
    h.take()
    for _ in range(6):
        h.advance(1.5)
        h.send(b"x" * 10)
    assert not transport.disconnecting  # 9 s: still inside max_linger
    h.advance(1.0)
    assert transport.disconnecting
