"""The chunked body reader against h11 (the judge for what is read), and its one difference:
a line over the limit is refused however TCP split it."""

from __future__ import annotations

import h11
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mockorigin.http1.chunked import ChunkedBody

HEAD = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"


def ours(pieces: list[bytes], limit: int = 8192) -> tuple:
    reader = ChunkedBody(limit, 16384)
    body = b""
    for index, piece in enumerate(pieces):
        data, trailers, leftover, error = reader.feed(piece)
        body += b"".join(data)
        if error is not None:
            return ("refused",)
        if trailers is not None:
            return ("done", body, trailers, leftover + b"".join(pieces[index + 1 :]))
    return ("waiting", body)


def theirs(data: bytes) -> tuple:
    connection = h11.Connection(h11.SERVER, max_incomplete_event_size=10**9)
    connection.receive_data(HEAD + data)
    body = b""
    try:
        while True:
            event = connection.next_event()
            if isinstance(event, h11.Data):
                body += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                trailers = tuple((n.decode("latin-1"), v.decode("utf-8", "backslashreplace")) for n, v in event.headers.raw_items())
                return ("done", body, trailers, connection.trailing_data[0])
            elif event is h11.NEED_DATA:
                return ("waiting", body)
    except h11.RemoteProtocolError:
        return ("refused",)


chunk = st.tuples(st.binary(max_size=20), st.sampled_from(["", ";a=b", ";x", " ", "\t", ";\x00"]), st.sampled_from([b"\r\n", b"\r\n", b"\n", b"x\n"]))
trailer_lines = st.lists(st.sampled_from([b"T: v\r\n", b"X-A:1\r\n", b"bad line\r\n", b"T: v\n"]), max_size=3)


@st.composite
def bodies(draw) -> bytes:
    out = b""
    for data, extension, end in draw(st.lists(chunk, max_size=4)):
        size = draw(st.sampled_from(["%x", "%X", "%02x"])) % len(data) if data else "0"
        if not data:
            break
        out += f"{size}{extension}".encode("latin-1") + b"\r\n" + data + end
    if draw(st.booleans()):
        out += b"0\r\n" + b"".join(draw(trailer_lines)) + draw(st.sampled_from([b"\r\n", b"\n", b""]))
    return out + draw(st.sampled_from([b"", b"GET / HTTP/1.1\r\n"]))


@settings(max_examples=1500, deadline=None)
@given(bodies(), st.lists(st.integers(1, 200), max_size=6))
@example(b"5\r\nhello\r\n0\r\nT: v\r\n\r\nNEXT", [])
@example(b"5;ext=1\r\nhello\r\n0\r\n\r\n", [3, 9])
def test_reads_what_h11_reads(data, cuts):
    points = sorted({c for c in cuts if c < len(data)})
    pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)] or [b""]
    mine, judge = ours(pieces), theirs(data)
    if mine[0] == "refused" and judge[0] == "waiting":  # we refuse a bad line as it ends; h11 may wait for more
        assert theirs(data + b"\r\n\r\n")[0] == "refused", (mine, judge)
    else:
        assert mine == judge


def test_a_long_chunk_line_is_refused_whole_and_split_alike():
    line = b"5;" + b"e" * 9000 + b"\r\nhello\r\n0\r\n\r\n"
    assert ours([line]) == ("refused",)
    assert ours([line[i : i + 1000] for i in range(0, len(line), 1000)]) == ("refused",)
    assert ours([line[i : i + 1] for i in range(len(line))]) == ("refused",)


def test_obs_fold_in_trailers_is_refused_as_in_a_head():
    """h11 folds a continuation line into the trailer before it; we refuse it, as in a head (RFC 9112 §5.2)."""
    data = b"0\r\nT: v\r\n fold\r\n\r\n"
    assert theirs(data)[0] == "done" and ours([data]) == ("refused",)
