"""Parsing a request head: the RFC 9112 grammar as h11 checks it, plus the framing
rules h11 lets through. Pure functions over bytes; no state.

Why not h11 itself: a head costs h11 about 12 µs of Python (an event object, a
state machine, header normalisation), which was a quarter of the cost of a whole
request. This module accepts exactly the heads h11 accepts and reads them the same
way; ``tests/test_head.py`` holds it to that with generated heads, h11 as the judge.
h11 still frames chunked bodies (see ``reader.py``).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from mockorigin.interpreter.request import Request

_TOKEN = r"[-!#$%&'*+.^_`|~0-9a-zA-Z]+"
_REQUEST_LINE = re.compile(rf"({_TOKEN}) ([\x21-\x7e]+) HTTP/([0-9]\.[0-9])")
# h11's field value is OWS, then runs of [^\x00\s] (bytes \s: space, \t\n\r\f\v) joined by spaces and
# tabs, then OWS: that is exactly a run of anything but NUL, LF, CR, VT and FF, with OWS stripped.
_FIELD_VALUE = r"[^\x00\n\r\x0b\x0c]*"
_FIELD_LINES = re.compile(rf"(?:{_TOKEN}:{_FIELD_VALUE}\n)*{_TOKEN}:{_FIELD_VALUE}")
_FIELD = re.compile(rf"({_TOKEN}):[ \t]*({_FIELD_VALUE})")
_COMMON = {text: text for text in ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "1.0", "1.1")}
_DIGITS = re.compile(r"[0-9]{1,20}")  # h11 refuses a Content-Length of more than 20 digits
MAX_CONTENT_LENGTH = 2**63 - 1  # what a 64-bit signed length holds, as nginx and HAProxy count
# RFC 9110 §7.2 / RFC 3986 §3.2.2: uri-host [ ":" port ], where uri-host is an IP literal in
# brackets or a reg-name (unreserved, pct-encoded, sub-delims). h11 checks none of it.
_HOST = re.compile(r"(?:\[[0-9A-Za-z:._~!$&'()*+,;=-]+\]|(?:[A-Za-z0-9._~!$&'()*+,;=-]|%[0-9A-Fa-f]{2})*)(?::[0-9]*)?")


class HeadError(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def parse(section: bytes) -> Request:
    """A ``Request`` from a head without its final empty line; ``HeadError`` if it is not one.

    Field values are decoded as UTF-8 (undecodable bytes escaped), everything else as Latin-1.
    """
    text = section.decode("latin-1")
    first_line, _, fields = text.replace("\r\n", "\n").partition("\n")  # one CR before each LF ends a line
    request_line = _REQUEST_LINE.fullmatch(first_line)
    if request_line is None:
        raise HeadError(400, "illegal request line")
    method, target, version = request_line.groups()
    method, version = _COMMON.get(method, method), _COMMON.get(version, version)  # shared strings: less memory per request
    raw_headers: list[tuple[str, str]] = []
    hosts = lengths = 0
    host = ""
    content_length = first_length = None
    connection = ""
    chunked = False
    refusal = None  # the first broken framing rule; grammar errors, found later in the head, come first
    ascii_only = text.isascii()
    if fields:
        if fields[0] in " \t" or "\n " in fields or "\n\t" in fields:
            raise HeadError(400, "obsolete line folding in a header")
        if _FIELD_LINES.fullmatch(fields) is None:  # every line checked in one pass
            raise HeadError(400, "illegal header line")
    for name, value in _FIELD.findall(fields):
        value = value.rstrip(" \t")
        if not ascii_only:
            value = value.encode("latin-1").decode("utf-8", "backslashreplace")
        lower = name.lower()
        if refusal is not None:
            pass
        elif lower == "content-length":  # h11's rules, in header order, as h11 applies them
            values = {part.strip(" \t") for part in value.split(",")}
            single = values.pop() if len(values) == 1 else None
            if single is None:
                refusal = HeadError(400, "conflicting Content-Length headers")
            elif _DIGITS.fullmatch(single) is None:
                refusal = HeadError(400, "bad Content-Length")
            elif len(single) > 18 and int(single) > MAX_CONTENT_LENGTH:  # h11 takes 20 digits; nginx and HAProxy refuse what overflows
                refusal = HeadError(400, "Content-Length too large")
            elif content_length not in (None, single):
                refusal = HeadError(400, "conflicting Content-Length headers")
            content_length = single
            first_length = value if first_length is None else first_length
            lengths += 1
        elif lower == "transfer-encoding":
            if chunked:
                refusal = HeadError(501, "multiple Transfer-Encoding headers")
            elif not (value.isascii() and value.lower() == "chunked"):  # "chunKed" with a Kelvin sign is not chunked
                refusal = HeadError(501, "Only Transfer-Encoding: chunked is supported")
            chunked = True
        elif lower == "host":
            hosts += 1
            host = value
        elif lower == "connection":
            connection = f"{connection}, {value}" if connection else value
        raw_headers.append((name, value))
    if refusal is not None:
        raise refusal
    if hosts == 0 and version == "1.1":
        raise HeadError(400, "Missing mandatory Host")
    if hosts > 1:
        raise HeadError(400, "Found multiple Host")
    if version not in ("1.0", "1.1"):
        raise HeadError(505, f"HTTP/{version} is not supported")
    _check_framing(first_length, lengths, chunked, version)
    if hosts and _HOST.fullmatch(host) is None:  # RFC 9112 §3.2: 400 for an invalid Host
        raise HeadError(400, "invalid Host header")
    request = Request(method, target, version, raw_headers, chunked=chunked, connection=connection)
    if content_length is not None and not chunked:
        request.content_length = int(content_length)
    _split_target(request)
    return request


def _check_framing(first_length: str | None, lengths: int, chunked: bool, version: str) -> None:
    """RFC 9112 §6.3 rules h11 lets through: they are how requests are smuggled."""
    if lengths > 1:
        raise HeadError(400, "more than one Content-Length")
    if first_length is not None and not first_length.isdigit():  # "5, 5": h11 takes it, a proxy may not
        raise HeadError(400, "invalid Content-Length")
    if chunked and lengths:
        raise HeadError(400, "both Content-Length and Transfer-Encoding")
    if chunked and version == "1.0":
        raise HeadError(400, "Transfer-Encoding in an HTTP/1.0 request")


def _split_target(request: Request) -> None:
    target = request.target
    if "://" in target and not target.startswith("/"):  # absolute-form, as sent to proxies
        try:
            split = urlsplit(target)
        except ValueError:  # an unbalanced "[" or "]" in the authority
            raise HeadError(400, "invalid request target") from None
        path, query = split.path, split.query
    else:  # origin-form (and "*")
        path, _, query = target.partition("?")
    request.path = path or "/"
    if query:
        request.query = parse_qs(query, keep_blank_values=True)
