"""The request reader alone: bytes in, events out."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mockorigin.request import BadRequest, BodyComplete, BodyReceived, HeadReceived, RequestReader


def feed_all(chunks: list[bytes]) -> list:
    reader = RequestReader()
    events = []
    for chunk in chunks:
        events += reader.feed(chunk)
    return events


def normalise(events: list) -> list:
    """Join body pieces, which legitimately split differently."""
    out: list = []
    for event in events:
        if isinstance(event, BodyReceived) and out and isinstance(out[-1], BodyReceived):
            out[-1] = BodyReceived(out[-1].data + event.data)
        else:
            out.append(event)
    return out


def test_chunked_body_and_trailers():
    events = feed_all([b"POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-T: 1\r\n\r\n"])
    assert isinstance(events[0], HeadReceived)
    assert b"".join(e.data for e in events if isinstance(e, BodyReceived)) == b"abcde"
    assert events[-1] == BodyComplete((("X-T", "1"),))


def test_bytes_after_a_request_wait_for_next_request():
    reader = RequestReader()
    first = reader.feed(b"GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n")
    assert [type(e) for e in first] == [HeadReceived]  # no body: complete with the head
    assert reader.buffered > 0
    second = reader.next_request()
    assert second[0].request.path == "/b"


def test_leading_empty_lines_are_ignored():
    events = feed_all([b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"])
    assert isinstance(events[0], HeadReceived)


def test_non_utf8_header_values_are_kept_escaped_not_an_error():
    events = feed_all([b"GET / HTTP/1.1\r\nHost: a\r\nX: caf\xe9\r\n\r\n"])
    assert events[0].request.raw_headers[1] == ("X", "caf\\xe9")


def test_absolute_form_target_gives_the_path():
    events = feed_all([b"GET http://example.test/p?q=1 HTTP/1.1\r\nHost: example.test\r\n\r\n"])
    assert events[0].request.path == "/p" and events[0].request.query == {"q": ["1"]}


def test_client_half_close_mid_body_is_an_error():
    reader = RequestReader()
    reader.feed(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
    assert isinstance(reader.connection_closed()[-1], BadRequest)


REQUESTS = [
    b"GET /a?x=1 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    b"POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
    b"GET / HTTP/1.0\r\n\r\n",
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(REQUESTS), st.lists(st.integers(min_value=1, max_value=40), max_size=30))
def test_any_split_gives_the_same_events_as_whole(data, cuts):
    chunks, position = [], 0
    for cut in cuts:
        if position >= len(data):
            break
        chunks.append(data[position : position + cut])
        position += cut
    chunks.append(data[position:])
    assert normalise(feed_all([c for c in chunks if c])) == normalise(feed_all([data]))


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(data):
    events = feed_all([data])
    assert all(isinstance(e, (HeadReceived, BodyReceived, BodyComplete, BadRequest)) for e in events)
    assert normalise(feed_all([data[i : i + 1] for i in range(len(data))])) == normalise(events)
