"""Rendering the interpreter's commands as HTTP/1.1 bytes, and what that says of persistence."""

from __future__ import annotations

import dataclasses
import json

import pytest

from mockorigin import interpreter
from mockorigin.http1.fixed import fixed_response
from mockorigin.http1.response import Response
from mockorigin.interpreter import commands as c
from mockorigin.interpreter.request import Body
from mockorigin.format.loader import load_text

from tests.helpers import make_request as request


def render(source_or_steps, req=None, now: float = 0.0) -> tuple[bytes, Response]:
    """What an HTTP/1.1 connection would write for a script, and the response's state."""
    steps = load_text(source_or_steps)[0].scripts[0] if isinstance(source_or_steps, str) else source_or_steps
    req = req or request()
    exchange = interpreter.Exchange(req, 7, {}, Body(1024), lambda: now)
    exchange.body.complete = True
    response = Response(req.method == "HEAD")
    out = b""
    for command in interpreter.run(steps, exchange):
        if isinstance(command, c.Interim):
            out += response.interim(command, req.version) or b""
        elif isinstance(command, c.FinalHead):
            out += response.final_head(command)
        elif isinstance(command, c.WholeResponse):
            out += response.whole(fixed_response(command.step), now)
        elif isinstance(command, c.BodyBytes):
            out += response.body(command)
        elif isinstance(command, c.EndBody):
            out += response.end(command)
        elif isinstance(command, c.Raw):
            out += response.raw_bytes(command)
    return out, response


def test_interims_and_a_response_with_auto_headers():
    out, response = render("script: [{interim: {status: 102, headers: {x: '1'}}}, {respond: {status: 201, headers: {Server: mine}, body: 'hi${n}'}}]")
    assert out == b"HTTP/1.1 102 Processing\r\nx: 1\r\n\r\nHTTP/1.1 201 Created\r\nServer: mine\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\nContent-Length: 3\r\n\r\nhi1"
    assert response.complete and response.interims == (102,)


@pytest.mark.parametrize(
    "respond",
    [
        "{status: 201, headers: {Server: mine, Connection: close}, body: hi}",
        "{status: 204, headers: {X-A: [1, 2]}}",
        "{status: 200, reason: Fine, body: 'caf\u00e9', headers: {Date: 'Mon, 01 Jan 2001 00:00:00 GMT'}}",
        "{status: 304, auto_headers: false}",
        "{status: 200, body: hi, auto_headers: false}",
    ],
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_response_formatted_once_is_the_one_formatted_per_request(respond, method):
    (behaviour,) = load_text(f"script: [{{respond: {respond}}}]")
    step = behaviour.scripts[0][0]
    assert step.literal_body is not None
    general = dataclasses.replace(step)
    object.__setattr__(general, "literal_body", None)  # the same step, formatted per request

    def state(response: Response) -> tuple:
        return response.final_status, response.connection_tokens, response.complete, response.body_sent, response.keep_alive(request(method))

    fixed, fixed_state = render((step,), request(method), now=86400.5)
    built, built_state = render((general,), request(method), now=86400.5)
    assert fixed == built and state(fixed_state) == state(built_state)


def test_a_fixed_response_carries_the_current_date():
    (behaviour,) = load_text("script: [{respond: 200}]")
    heads = {render(behaviour.scripts[0], now=now)[0] for now in (0.0, 0.9, 1.0, 86400.0)}
    assert len(heads) == 3
    assert any(b"\r\nDate: Fri, 02 Jan 1970 00:00:00 GMT\r\n" in head for head in heads)


def test_head_body_end_track_framing_for_persistence():
    out, response = render("script: [{head: {status: 200, headers: {transfer-encoding: chunked}, auto_headers: false}}, {body: {text: abc, chunk: true}}, {end: {trailers: {t: v}}}]")
    assert out == b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nt: v\r\n\r\n"
    assert response.keep_alive(request())


def test_a_short_body_after_a_content_length_head_is_not_persistent():
    _, response = render("script: [{head: {status: 200, headers: {content-length: 10}}}, {body: abc}]")
    assert not response.complete and not response.keep_alive(request())


def test_a_body_without_framing_is_delimited_by_the_close():
    """RFC 9112 §6.3 rule 8: with neither Content-Length nor chunking, the close ends the body."""
    _, response = render("script: [{respond: {status: 200, body: 'x${n}', auto_headers: false}}]")
    assert not response.keep_alive(request())


@pytest.mark.parametrize(
    "version,request_headers,response_headers,expected",
    [
        ("1.1", [], {}, True),
        ("1.1", [("Connection", "close")], {}, False),
        ("1.1", [], {"connection": "close"}, False),
        ("1.0", [], {}, False),
        ("1.0", [("Connection", "keep-alive")], {}, False),
        ("1.0", [("Connection", "keep-alive")], {"connection": "keep-alive"}, True),
    ],
)
def test_keep_alive_follows_rfc9112(version, request_headers, response_headers, expected):
    headers = json.dumps(response_headers)
    req = request(version=version, headers=request_headers)
    _, response = render(f"script: [{{respond: {{status: 200, headers: {headers}}}}}]", req)
    assert response.keep_alive(req) is expected


def test_raw_makes_the_framing_unknown():
    out, response = render("script: [{raw: {hex: '48 54 54 50'}}]")
    assert out == b"HTTP" and not response.keep_alive(request())


def test_interims_to_http10_are_withheld_unless_the_script_insists():
    out, response = render("script: [{interim: 100}, {interim: {status: 103, to_http10: true}}, {respond: 204}]", request(version="1.0"))
    assert out.startswith(b"HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 204 No Content\r\n")
    assert response.withheld == 1 and response.interims == (103,)
