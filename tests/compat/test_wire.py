"""The byte-exact response reader: what it records, fed whole and one byte at a time."""

from __future__ import annotations

import pytest

from mockorigin.compat.wire import ResponseReader

INTERIMS_THEN_200 = (
    b"HTTP/1.1 102 Processing\r\nStatus-URI: 102 </a>\r\n\r\n"
    b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
)


def feed(data: bytes, byte_by_byte: bool, method: str = "GET") -> ResponseReader:
    reader = ResponseReader(method=method)
    if byte_by_byte:
        for index in range(len(data)):
            reader.feed(data[index : index + 1], at=index / 1000)
    else:
        reader.feed(data, at=0.5)
    return reader


@pytest.mark.parametrize("byte_by_byte", [False, True])
def test_interims_then_a_final_response_with_a_length(byte_by_byte):
    reader = feed(INTERIMS_THEN_200, byte_by_byte)
    assert [h.status for h in reader.interims] == [102, 103]
    assert reader.interims[1].header("link") == "</s.css>; rel=preload"
    assert reader.final.status == 200 and reader.framing == "length"
    assert reader.body_bytes == 5 and reader.complete_at is not None
    assert len(reader.body_reads) == (5 if byte_by_byte else 1)


@pytest.mark.parametrize("byte_by_byte", [False, True])
def test_chunked_body_and_trailers(byte_by_byte):
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n1;x=y\r\nd\r\n0\r\nTrailer: 1\r\n\r\n"
    reader = feed(data, byte_by_byte)
    assert reader.framing == "chunked" and reader.body_bytes == 4 and reader.complete_at is not None


def test_a_chunked_body_cut_short_is_not_complete():
    reader = feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", False)
    reader.ended(at=1.0)
    assert reader.body_bytes == 3 and reader.complete_at is None


def test_a_close_delimited_body_completes_with_the_connection():
    reader = feed(b"HTTP/1.0 200 OK\r\n\r\nsome body", False)
    assert reader.framing == "close" and reader.complete_at is None
    reader.ended(at=2.0)
    assert reader.complete_at == 2.0 and reader.body_bytes == 9


def test_a_length_body_cut_short_stays_incomplete():
    reader = feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n123", False)
    reader.ended(at=1.0)
    assert reader.body_bytes == 3 and reader.complete_at is None


def test_101_switches_to_a_tunnel_and_counts_what_follows():
    reader = feed(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\nnot http!", False)
    assert reader.interims == [] and reader.final.status == 101
    assert reader.framing == "tunnel" and reader.tunnel_bytes == 9


def test_a_head_response_and_304_have_no_body():
    assert feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", False, method="HEAD").complete_at is not None
    assert feed(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", False).complete_at is not None


@pytest.mark.parametrize("data", [b"SSH-2.0-OpenSSH\r\n", b"HTTP/1.1 2x0 OK\r\n\r\n", b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n"])
def test_what_is_not_http_is_an_error_not_a_crash(data):
    assert feed(data, False).error
