"""The request reader alone: bytes in, events out."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mockorigin.http1.reader import BadRequest, BodyComplete, BodyCutShort, BodyReceived, HeadReceived, RequestReader


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


def test_client_half_close_mid_body_cuts_the_body_short_and_is_not_a_bad_request():
    for head in (b"Content-Length: 10\r\n\r\nabc", b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"):
        reader = RequestReader()
        reader.feed(b"POST / HTTP/1.1\r\nHost: a\r\n" + head)
        assert reader.connection_closed() == [BodyCutShort()]
        assert reader.feed(b"more") == [] and reader.next_request() == []  # nothing after the client's FIN is read as a request


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


# --- the same answer however TCP splits a head (#10 defect 10) ------------------------


def first_outcome(chunks: list[bytes], limits) -> tuple:
    """The first event a reader gives for these pieces: (status, reason) or ("head", path)."""
    reader = RequestReader(limits)
    for chunk in chunks:
        for event in reader.feed(chunk):
            if isinstance(event, BadRequest):
                return (event.status, event.reason)
            if isinstance(event, HeadReceived):
                return ("head", event.request.path)
    return ("waiting",)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True) if b > a]


def test_a_long_request_line_is_414_at_once_whole_or_in_pieces():
    from mockorigin.limits import ConnectionLimits

    head = b"GET /" + b"a" * 9 * 1024 + b" HTTP/1.1\r\nHost: x\r\n"  # no blank line yet
    limits = ConnectionLimits()
    whole = first_outcome([head], limits)
    pieces = first_outcome([head[i : i + 1000] for i in range(0, len(head), 1000)], limits)
    assert whole == pieces == (414, "request line too long")


small_limits_heads = st.builds(
    lambda line, fields, blank: (b"GET /" + b"p" * line + b" HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-" + b"v" * n + b": " + b"w" * m + b"\r\n" for n, m in fields) + (b"\r\n" if blank else b"")),
    st.integers(0, 70),
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 60)), max_size=12),
    st.booleans(),
)


@settings(max_examples=1500, deadline=None)
@given(small_limits_heads, st.lists(st.integers(0, 10_000), max_size=8))
def test_size_limits_give_the_same_answer_however_the_head_is_split(head, cuts):
    from mockorigin.limits import ConnectionLimits

    limits = ConnectionLimits(max_request_line=64, max_header_line=72, max_head=400, max_headers=6)
    whole = first_outcome([head], limits)
    assert first_outcome(split(head, cuts), limits) == whole
    assert first_outcome([head[i : i + 1] for i in range(len(head))], limits) == whole
