"""The interpreter alone: steps in, commands out; no Twisted, no clock."""

from __future__ import annotations

import dataclasses

import pytest

from mockorigin import script
from mockorigin.loader import load_text
from mockorigin.request import Body, Request
from mockorigin.script import AwaitBody, CloseConnection, HangUntil, ResetConnection, Send, Sleep


def request(method="GET", version="1.1", headers=(), target="/x") -> Request:
    r = Request(method, target, version, list(headers))
    r.connection = ", ".join(value for name, value in headers if name.lower() == "connection")  # as head.parse reads it
    r.path, _, query = target.partition("?")
    from urllib.parse import parse_qs

    r.query = parse_qs(query)
    return r


def commands(source: str, req: Request | None = None, body: bytes = b"") -> tuple[list, script.Exchange]:
    (behaviour,) = load_text(source)
    req = req or request()
    params = script.resolve_params(behaviour, req.query)
    exchange = script.Exchange(req, 7, params, Body(1024), lambda: 0.0)
    exchange.body.add(body)
    exchange.body.complete = True
    return list(script.run(behaviour.scripts[0], exchange)), exchange


def test_interim_count_and_every_become_sends_and_sleeps():
    out, _ = commands("script: [{interim: {status: 102, count: 3, every: 250ms, headers: {x-n: '${n}'}}}]")
    assert out == [
        Send(b"HTTP/1.1 102 Processing\r\nx-n: 1\r\n\r\n", interim=102),
        Sleep(0.25),
        Send(b"HTTP/1.1 102 Processing\r\nx-n: 2\r\n\r\n", interim=102),
        Sleep(0.25),
        Send(b"HTTP/1.1 102 Processing\r\nx-n: 3\r\n\r\n", interim=102),
    ]


def test_respond_adds_only_missing_auto_headers():
    out, exchange = commands("script: [{respond: {status: 201, headers: {Server: mine}, body: hi}}]")
    assert out == [Send(b"HTTP/1.1 201 Created\r\nServer: mine\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\nContent-Length: 2\r\n\r\nhi", final=201)]
    assert exchange.response.complete


@pytest.mark.parametrize(
    "respond",
    [
        "{status: 201, headers: {Server: mine, Connection: close}, body: hi}",
        "{status: 204, headers: {X-A: [1, 2]}}",
        "{status: 200, reason: Fine, body: 'caf\u00e9', headers: {Date: 'Mon, 01 Jan 2001 00:00:00 GMT'}}",
        "{status: 304, auto_headers: false}",
    ],
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_response_formatted_at_load_time_is_the_one_formatted_per_request(respond, method):
    (behaviour,) = load_text(f"script: [{{respond: {respond}}}]")
    step = behaviour.scripts[0][0]
    assert step.fixed is not None

    def run(step) -> tuple[bytes, tuple]:
        exchange = script.Exchange(request(method), 7, {}, Body(1024), lambda: 86400.5)
        exchange.body.complete = True
        data = b"".join(command.data for command in script.run((step,), exchange))
        state = exchange.response
        return data, (state.final_status, state.connection_tokens, state.complete, state.body_sent, script.keep_alive(exchange))

    general = dataclasses.replace(step)
    object.__setattr__(general, "fixed", None)  # the same step, formatted per request
    assert run(step) == run(general)


def test_a_fixed_response_carries_the_current_date():
    (behaviour,) = load_text("script: [{respond: 200}]")
    heads = set()
    for now in (0.0, 0.9, 1.0, 86400.0):
        exchange = script.Exchange(request(), 7, {}, Body(1024), lambda now=now: now)
        heads.add(next(script.run(behaviour.scripts[0], exchange)).data)
    assert len(heads) == 3
    assert any(b"\r\nDate: Fri, 02 Jan 1970 00:00:00 GMT\r\n" in head for head in heads)


def test_auto_headers_false_adds_nothing():
    out, _ = commands("script: [{respond: {status: 200, body: hi, auto_headers: false}}]")
    assert out == [Send(b"HTTP/1.1 200 OK\r\n\r\nhi", final=200)]


def test_placeholders_render_from_the_request():
    req = request("POST", headers=[("X-Trace", "abc")], target="/x?who=me")
    out, _ = commands(
        "script: [{respond: {status: 200, auto_headers: false, body: '${request.method} ${request.path} ${request.query.who} ${request.header.x-trace} ${request.body_length} ${request.id} $${literal}'}}]",
        req,
        body=b"12345",
    )
    assert out[1] == Send(b"POST /x me abc 5 7 ${literal}")


def test_steps_map_to_commands():
    out, _ = commands("script: [{wait: 1.5s}, {read_body: {bytes: 4KiB}}, {hang: {for: 2s, read: false}}, {close: {}}, {respond: 200}]")
    assert out == [Sleep(1.5), AwaitBody(4096), HangUntil(2.0, False), CloseConnection()]  # nothing after close
    out, _ = commands("script: [{reset: {}}]")
    assert out == [ResetConnection()]


def test_head_body_end_track_framing_for_persistence():
    out, exchange = commands(
        "script: [{head: {status: 200, headers: {transfer-encoding: chunked}, auto_headers: false}}, {body: {text: abc, chunk: true}}, {end: {trailers: {t: v}}}]"
    )
    assert b"".join(c.data for c in out) == b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nt: v\r\n\r\n"
    assert script.keep_alive(exchange)


def test_a_short_body_after_a_content_length_head_is_not_persistent():
    _, exchange = commands("script: [{head: {status: 200, headers: {content-length: 10}}}, {body: abc}]")
    assert not exchange.response.complete and not script.keep_alive(exchange)


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
    import json

    headers = json.dumps(response_headers)
    _, exchange = commands(f"script: [{{respond: {{status: 200, headers: {headers}}}}}]", request(version=version, headers=request_headers))
    assert script.keep_alive(exchange) is expected


def test_raw_makes_the_framing_unknown():
    out, exchange = commands("script: [{raw: {hex: '48 54 54 50'}}]")
    assert out == [Send(b"HTTP")] and not script.keep_alive(exchange)


def test_params_are_parsed_and_bounded():
    (behaviour,) = load_text(
        "params: {d: {type: duration, default: 1s, max: 5s}, n: {type: integer, default: 2, min: 1, max: 9}, s: {type: size, default: 1KiB}, t: {type: string, default: x, max: 3}}\nscript: [{respond: 200}]"
    )
    assert script.resolve_params(behaviour, {}) == {"d": 1.0, "n": 2, "s": 1024, "t": "x"}
    assert script.resolve_params(behaviour, {"d": ["250ms"], "n": ["9"], "s": ["2KiB"], "t": ["abc"]}) == {"d": 0.25, "n": 9, "s": 2048, "t": "abc"}
    for query, name in [({"d": ["6s"]}, "d"), ({"n": ["0"]}, "n"), ({"n": ["x"]}, "n"), ({"t": ["abcd"]}, "t"), ({"d": ["soon"]}, "d")]:
        with pytest.raises(script.ParamError) as caught:
            script.resolve_params(behaviour, query)
        assert caught.value.name == name


def test_interim_to_http10_is_skipped():
    out, _ = commands("script: [{interim: 100}, {respond: 204}]", request(version="1.0"))
    assert [c.final for c in out] == [204]


def test_body_size_is_generated_in_pieces():
    out, _ = commands("script: [{respond: {status: 200, body_size: 200KiB, auto_headers: false}}]")
    assert [len(c.data) for c in out[1:]] == [65536, 65536, 65536, 8192]


def test_body_file_is_read(tmp_path):
    (tmp_path / "b.txt").write_bytes(b"file body")
    (behaviour,) = load_text("script: [{respond: {status: 200, body_file: b.txt, auto_headers: false}}]", str(tmp_path / "x.yaml"), root=str(tmp_path))
    exchange = script.Exchange(request(), 1, {}, Body(10), lambda: 0.0)
    out = list(script.run(behaviour.scripts[0], exchange))
    assert out[1:] == [Send(b"file body")]
