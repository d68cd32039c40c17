"""The head parser against h11, which judges: the same heads accepted, read the same way,
and the same status for those refused."""

from __future__ import annotations

import re

import h11
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mockorigin.http1.head import HeadError, parse


def judged_by_h11(section: bytes) -> tuple[int, object]:
    """(200, (method, target, version, headers)) or (status, None): h11's reading, then the
    RFC 9112 rules that h11 lets through and mockorigin refuses (obs-fold, framing)."""
    if re.search(rb"\n[ \t]", section):
        return 400, None
    connection = h11.Connection(h11.SERVER)
    connection.receive_data(section + b"\r\n\r\n")
    try:
        event = connection.next_event()
    except h11.RemoteProtocolError as error:
        return error.error_status_hint, None
    assert isinstance(event, h11.Request), event
    version = event.http_version.decode()
    if version not in ("1.0", "1.1"):
        return 505, None
    lower = section.lower()
    lengths = re.findall(rb"\ncontent-length:[ \t]*([^\r\n]*?)[ \t]*(?=\r?\n|$)", lower)
    if len(lengths) > 1 or (lengths and not lengths[0].isdigit()):
        return 400, None
    if b"\ntransfer-encoding:" in lower and (lengths or version == "1.0"):
        return 400, None
    headers = [(n.decode("latin-1"), v.decode("utf-8", "backslashreplace")) for n, v in event.headers.raw_items()]
    if any(name.lower() == "host" and not valid_host(value) for name, value in headers):
        return 400, None  # RFC 9112 §3.2, which h11 does not check
    if b"://" in event.target and not event.target.startswith(b"/") and event.target.count(b"[") != event.target.count(b"]"):
        return 400, None  # an absolute-form target whose authority cannot be read
    return 200, (event.method.decode(), event.target.decode("latin-1"), version, headers)


def valid_host(value: str) -> bool:
    """RFC 3986's host [":" port], written out independently of head.py's pattern."""
    host, port = value, ""
    if value.startswith("["):
        host, _, port = value.partition("]")
        if not port.startswith(":") and port != "" or len(host) < 2:
            return False
        port = port[1:]
        return all(c.isascii() and (c.isalnum() or c in ":._~!$&'()*+,;=-") for c in host[1:]) and port.isdigit() | (port == "")
    if ":" in value:
        host, _, port = value.rpartition(":")
        if not (port == "" or (port.isascii() and port.isdigit())):
            return False
    unreserved_or_sub = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=")
    index = 0
    while index < len(host):
        if host[index] == "%":
            if not all(c in "0123456789abcdefABCDEF" for c in host[index + 1 : index + 3]) or len(host[index + 1 : index + 3]) != 2:
                return False
            index += 3
        elif host[index] in unreserved_or_sub:
            index += 1
        else:
            return False
    return True


def judged_by_us(section: bytes) -> tuple[int, object]:
    try:
        request = parse(section)
    except HeadError as error:
        return error.status, None
    assert request.connection == (request.header("connection") or ""), "the Connection field read on the way must agree with the headers"
    headers = [(name, value.lower() if name.lower() == "transfer-encoding" else value) for name, value in request.raw_headers]
    return 200, (request.method, request.target, request.version, headers)  # h11 lower-cases Transfer-Encoding; we keep it as sent


TOKEN_CHARS = "-!#$%&'*+.^_`|~09azAZ"
methods = st.one_of(st.sampled_from(["GET", "POST", "HEAD", "PUT", "M-SEARCH"]), st.text(TOKEN_CHARS + " \t(@\x00é", max_size=6))
targets = st.one_of(
    st.sampled_from(["/", "/a?b=c", "*", "http://h/p?q", "/%7e", "/a b", "http://[/x", "http://]/x", "http://[::1]/x"]),
    st.text(st.characters(min_codepoint=0, max_codepoint=0xFF), max_size=6),
)
versions = st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/0.9", "HTTP/1.10", "http/1.1", "HTTP/1", "HTTP/a.b", ""])
separators = st.sampled_from([" ", " ", " ", "  ", "\t"])
names = st.one_of(
    st.sampled_from(["Host", "host", "Content-Length", "Transfer-Encoding", "Expect", "Connection", "X-A"]),
    st.text(TOKEN_CHARS + " :\t\x7f()é", max_size=5),
)
values = st.one_of(
    st.sampled_from(["a", "a b", "a@b", "[::1]:80", "h:80", "h:x", "[v1.x]", "%zz", "5", "0", "5, 5", "5,6", "-1", "0x5", "", "chunked", "Chunked", "gzip", "gzip, chunked", " chunked ", "1" * 21, "100-continue"]),
    st.text(st.characters(min_codepoint=0, max_codepoint=0xFF), max_size=6),
)
fields = st.lists(
    st.tuples(names, st.sampled_from([":", ": ", ":\t", " :", ":  "]), values, st.sampled_from(["", " ", "\t"])),
    max_size=5,
)
line_ends = st.sampled_from(["\r\n", "\r\n", "\n", "\r\r\n"])


@st.composite
def heads(draw) -> bytes:
    line_end = draw(line_ends)
    request_line = draw(methods) + draw(separators) + draw(targets) + draw(separators) + draw(versions)
    lines = [request_line] + [name + colon + value + trailing for name, colon, value, trailing in draw(fields)]
    if draw(st.booleans()):
        lines.insert(1, "Host: h")
    text = line_end.join(lines)
    encoding = draw(st.sampled_from(["latin-1", "utf-8"]))
    return text.encode(encoding, "replace")


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(heads())
@example(b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5")
@example(b"GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9 \xe9")
@example(b"GET / HTTP/1.1\r\nHost: h\r\nX:\x85")  # \x85 is whitespace to str patterns, not to h11's bytes ones
@example(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked")
@example(b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: \xb2")  # a Latin-1 superscript two is a digit to str.isdigit
@example(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chun\xe2\x84\xaaed")  # U+212A KELVIN SIGN lower-cases to k
@example(b"GET / HTTP/1.1\r\nHost:a\r\nTransfer-Encoding:Chunked")
@example(b"GET / HTTP/1.1\r\nHost: a b")
@example(b"GET / HTTP/1.1\r\nHost: a@b")
@example(b"GET / HTTP/1.1\r\nHost: [::1]:8080")
@example(b"GET / HTTP/1.1\r\nHost: h:")
@example(b"GET / HTTP/1.1\r\nHost: caf%C3%A9.example:80")
@example(b"GET http://[/echo HTTP/1.1\r\nHost: h")
def test_reads_what_h11_reads_and_refuses_what_h11_refuses(section):
    ours, theirs = judged_by_us(section), judged_by_h11(section)
    assert ours == theirs, section


@pytest.mark.parametrize(
    ("section", "status", "reason"),
    [
        (b"GET / HTTP/1.1\r\n folded: x", 400, "obsolete line folding in a header"),
        (b"GET / HTTP/1.1", 400, "Missing mandatory Host"),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b", 400, "Found multiple Host"),
        (b"GET / HTTP/2.0\r\nHost: a", 505, "HTTP/2.0 is not supported"),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1", 400, "more than one Content-Length"),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1", 400, "invalid Content-Length"),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 2", 400, "conflicting Content-Length headers"),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked", 400, "both Content-Length and Transfer-Encoding"),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip", 501, "Only Transfer-Encoding: chunked is supported"),
        (b"GET  / HTTP/1.1\r\nHost: a", 400, "illegal request line"),
        (b"GET / HTTP/1.1\r\nHost : a", 400, "illegal header line"),
        (b"GET / HTTP/1.1\r\nHost: a b", 400, "invalid Host header"),
        (b"GET / HTTP/1.1\r\nHost: user@a", 400, "invalid Host header"),
        (b"GET http://[/echo HTTP/1.1\r\nHost: a", 400, "invalid request target"),
    ],
)
def test_refusals_say_why(section, status, reason):
    with pytest.raises(HeadError) as refused:
        parse(section)
    assert (refused.value.status, refused.value.reason) == (status, reason)


def test_reads_framing_and_target():
    request = parse(b"POST /p?a=1&a=2&b HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\nX-Twice: 1\r\nx-twice: 2")
    assert (request.path, request.query, request.content_length, request.chunked) == ("/p", {"a": ["1", "2"], "b": [""]}, 12, False)
    assert request.header("X-TWICE") == "1, 2"
    assert parse(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nconnection: Upgrade").connection == "keep-alive, Upgrade"
    chunked = parse(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked")
    assert (chunked.chunked, chunked.content_length, chunked.has_body) == (True, 0, True)
