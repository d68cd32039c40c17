"""The interpreter alone: steps in, protocol-neutral commands out; no Twisted, no clock, no bytes."""

from __future__ import annotations


import pytest

from mockorigin import interpreter
from mockorigin.interpreter.commands import AwaitBody, BodyBytes, Close, EndBody, FinalHead, Hang, Interim, Raw, Reset, Sleep, WholeResponse
from mockorigin.interpreter.request import Body, Request
from tests.helpers import make_request as request
from mockorigin.format.loader import load_text


def commands(source: str, req: Request | None = None, body: bytes = b"", root: str | None = None) -> list:
    (behaviour,) = load_text(source, root=root) if root is None else load_text(source, f"{root}/x.yaml", root=root)
    req = req or request()
    params = interpreter.resolve_params(behaviour, req.query)
    exchange = interpreter.Exchange(req, 7, params, Body(1024), lambda: 0.0)
    exchange.body.add(body)
    exchange.body.complete = True
    return list(interpreter.run(behaviour.scripts[0], exchange))


DATE = ("Date", "Thu, 01 Jan 1970 00:00:00 GMT")


def test_interim_count_and_every_become_interims_and_sleeps():
    out = commands("script: [{interim: {status: 102, count: 3, every: 250ms, headers: {x-n: '${n}'}}}]")
    assert out == [
        Interim(102, None, [("x-n", "1")]),
        Sleep(0.25),
        Interim(102, None, [("x-n", "2")]),
        Sleep(0.25),
        Interim(102, None, [("x-n", "3")]),
    ]


def test_interims_are_yielded_for_http10_too_the_wire_decides():
    out = commands("script: [{interim: 100}, {interim: {status: 103, to_http10: true}}, {respond: 204}]", request(version="1.0"))
    assert out[:2] == [Interim(100, None, []), Interim(103, None, [], to_http10=True)]


def test_a_response_built_per_request_gets_date_and_server_unless_set_and_asks_for_framing():
    out = commands("script: [{respond: {status: 201, headers: {Server: mine}, body: 'hi ${request.method}'}}]")
    assert out == [FinalHead(201, None, [("Server", "mine"), DATE], chunked=False, length=6, add_framing=True), BodyBytes(b"hi GET")]


def test_a_literal_response_is_one_command_the_wire_may_cache():
    out = commands("script: [{respond: {status: 201, headers: {Server: mine}, body: hi}}]")
    assert len(out) == 1 and isinstance(out[0], WholeResponse) and out[0].step.literal_body == b"hi"


def test_auto_headers_false_adds_nothing():
    out = commands("script: [{respond: {status: 200, body: 'hi${n}', auto_headers: false}}]")
    assert out == [FinalHead(200, None, [], chunked=False, length=3, add_framing=False), BodyBytes(b"hi1")]


def test_placeholders_render_from_the_request():
    req = request("POST", headers=[("X-Trace", "abc")], target="/x?who=me")
    out = commands(
        "script: [{respond: {status: 200, auto_headers: false, body: '${request.method} ${request.path} ${request.query.who} ${request.header.x-trace} ${request.body_length} ${request.id} $${literal}'}}]",
        req,
        body=b"12345",
    )
    assert out[1] == BodyBytes(b"POST /x me abc 5 7 ${literal}")


def test_steps_map_to_commands():
    out = commands("script: [{wait: 1.5s}, {read_body: {bytes: 4KiB}}, {hang: {for: 2s, read: false}}, {close: {}}, {respond: 200}]")
    assert out == [Sleep(1.5), AwaitBody(4096), Hang(2.0, False), Close()]  # nothing after close
    assert commands("script: [{reset: {}}]") == [Reset()]


def test_head_body_end():
    out = commands("script: [{head: {status: 200, headers: {transfer-encoding: chunked}, auto_headers: false}}, {body: {text: abc, chunk: true}}, {end: {trailers: {t: v}}}]")
    assert out == [FinalHead(200, None, [("transfer-encoding", "chunked")], chunked=True), BodyBytes(b"abc", chunk=True), EndBody([("t", "v")])]


def test_a_chunked_respond_regroups_its_body_and_ends_with_trailers():
    out = commands("script: [{respond: {status: 200, body: abcde, chunked: {size: 2}, trailers: {t: '${n}'}, auto_headers: false}}]")
    assert out == [FinalHead(200, None, [], chunked=True, length=None, add_framing=False), BodyBytes(b"ab", True), BodyBytes(b"cd", True), BodyBytes(b"e", True), EndBody([("t", "1")])]


def test_head_requests_get_no_body():
    out = commands("script: [{respond: {status: 200, body: 'x${n}'}}]", request("HEAD"))
    assert [type(command) for command in out] == [FinalHead]


def test_raw_is_bytes_as_given():
    assert commands("script: [{raw: {hex: '48 54 54 50'}}]") == [Raw(b"HTTP")]


def test_params_are_parsed_and_bounded():
    (behaviour,) = load_text(
        "params: {d: {type: duration, default: 1s, max: 5s}, n: {type: integer, default: 2, min: 1, max: 9}, s: {type: size, default: 1KiB}, t: {type: string, default: x, max: 3}}\nscript: [{respond: 200}]"
    )
    assert interpreter.resolve_params(behaviour, {}) == {"d": 1.0, "n": 2, "s": 1024, "t": "x"}
    assert interpreter.resolve_params(behaviour, {"d": ["250ms"], "n": ["9"], "s": ["2KiB"], "t": ["abc"]}) == {"d": 0.25, "n": 9, "s": 2048, "t": "abc"}
    for query, name in [({"d": ["6s"]}, "d"), ({"n": ["0"]}, "n"), ({"n": ["x"]}, "n"), ({"t": ["abcd"]}, "t"), ({"d": ["soon"]}, "d")]:
        with pytest.raises(interpreter.ParamError) as caught:
            interpreter.resolve_params(behaviour, query)
        assert caught.value.name == name


def test_body_size_is_generated_in_pieces():
    out = commands("script: [{respond: {status: 200, body_size: 200KiB, auto_headers: false}}]")
    assert [len(c.data) for c in out[1:]] == [65536, 65536, 65536, 8192]


def test_body_file_is_read(tmp_path):
    (tmp_path / "b.txt").write_bytes(b"file body")
    out = commands("script: [{respond: {status: 200, body_file: b.txt, auto_headers: false}}]", root=str(tmp_path))
    assert out[1:] == [BodyBytes(b"file body")]


def test_an_upgrade_that_cannot_be_made_is_a_refusal_and_a_close_never_a_101():
    out = commands("script: [{upgrade: {}}]", request(headers=[("Upgrade", "websocket"), ("Connection", "Upgrade")]))
    assert out[0].status == 426 and out[-1] == Close()


def test_a_wait_of_zero_is_no_pause_at_all():
    out = commands("params: {gap: {type: duration, default: 0s, max: 1s}}\nscript: [{interim: 103}, {wait: '${gap}'}, {respond: 204}]")
    assert [type(command).__name__ for command in out] == ["Interim", "WholeResponse"]
