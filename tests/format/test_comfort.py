"""The behaviour format's rough edges (issue #14, defects 7, 8, 13) and ``respond: {json}``."""

from __future__ import annotations

import json

import pytest

from mockorigin.cli import main
from mockorigin.format.loader import LoadError, load_text


def problems(text: str) -> list[str]:
    with pytest.raises(LoadError) as caught:
        load_text(text, "b.yaml")
    return [str(p) for p in caught.value.problems]


def split(response: bytes) -> tuple[bytes, dict[str, str], bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    status, *lines = head.decode().split("\r\n")
    return status.encode(), {name.lower(): value for name, value in (line.split(": ", 1) for line in lines)}, body


# --- defect 7: a default for what a request may lack; an unknown root is a load error ---------

ECHO_HEADER = """
match: {path: /t}
script:
  - respond: {status: 200, headers: {x-seen: '${request.header.x-trace:-none}'}, body: 'q=${request.query.a:-unset} h=${request.header.x-trace}.'}
"""


@pytest.mark.parametrize(
    "request_line,headers,seen,body",
    [
        (b"GET /t", b"", "none", b"q=unset h=."),  # missing: the default; no default: nothing
        (b"GET /t?a=1", b"X-Trace: abc\r\n", "abc", b"q=1 h=abc."),
        (b"GET /t?a=", b"X-Trace: \r\n", "none", b"q=unset h=."),  # empty counts as missing, as in the shell
    ],
)
def test_a_header_or_query_value_takes_a_default(harness, request_line, headers, seen, body):
    h = harness(ECHO_HEADER)
    h.send(request_line + b" HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
    status, fields, sent = split(h.take())
    assert (status, fields["x-seen"], sent) == (b"HTTP/1.1 200 OK", seen, body)


@pytest.mark.parametrize(
    "placeholder,expected",
    [
        ("${requests.header.x}", "unknown placeholder ${requests.header.x}"),
        ("${req.method}", "unknown placeholder ${req.method}"),
        ("${request.headers.x}", "unknown placeholder ${request.headers.x}"),
        ("${request.method:-GET}", "only ${request.header.NAME} and ${request.query.NAME} take a default"),
    ],
)
def test_an_unknown_placeholder_or_a_default_where_none_can_apply_is_a_load_error(placeholder, expected):
    (problem,) = problems(f"script: [{{respond: {{status: 200, body: '{placeholder}'}}}}]")
    assert problem.startswith("b.yaml:1:40: ") and expected in problem


# --- defect 8: a body framed otherwise than its head announced is a warning --------------------

FRAMING = """
name: a
match: {path: /a}
script:
  - head: 200
  - body: {text: hello, chunk: true}
  - end: {}
---
name: b
match: {path: /b}
script:
  - head: {status: 200, headers: {transfer-encoding: chunked}}
  - body: hello
  - end: {}
---
name: c
match: {path: /c}
script:
  - head: {status: 200, headers: {transfer-encoding: chunked}}
  - body: {text: hello, chunk: true}
  - end: {}
  - respond: 200
  - head: {status: 200, headers: {content-length: 5}}
  - body: hello
"""


def test_check_warns_when_a_body_is_framed_as_its_head_did_not_announce(tmp_path, capsys):
    (tmp_path / "framing.yaml").write_text(FRAMING)
    assert main(["check", str(tmp_path / "framing.yaml")]) == 0  # still allowed: exit 0
    out, err = capsys.readouterr()
    file = tmp_path / "framing.yaml"
    lines = err.splitlines()
    assert [line.split(" warning: ")[0] for line in lines] == [f"{file}:6:5:", f"{file}:7:5:", f"{file}:13:5:"]
    assert "did not announce `Transfer-Encoding: chunked`" in lines[0] and "the `head` at line 5" in lines[0]
    assert "`end` sends a last chunk" in lines[1]
    assert "announced `Transfer-Encoding: chunked`, but this body is not framed as a chunk" in lines[2]
    assert out.strip() == "ok: 3 behaviours (3 warnings)"


def test_the_warned_behaviour_still_sends_what_it_says(harness):
    h = harness(FRAMING.split("---")[0])
    h.send(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
    response = h.take()
    assert b"transfer-encoding" not in response.lower()
    assert response.endswith(b"\r\n\r\n5\r\nhello\r\n0\r\n\r\n")


def test_a_clean_file_has_no_warnings(tmp_path, capsys):
    (tmp_path / "ok.yaml").write_text(FRAMING.split("---")[2])
    assert main(["check", str(tmp_path / "ok.yaml")]) == 0
    out, err = capsys.readouterr()
    assert (out.strip(), err) == ("ok: 1 behaviour", "")


# --- defect 13: messages for the commonest mistakes --------------------------------------------


def test_respond_with_status_at_the_same_level_is_one_message_about_indentation():
    assert problems("script:\n  - respond:\n    status: 200\n    body: hi\n") == [
        "b.yaml:3:5: `status` and `body` are not indented under `respond:`, so they are not part of it: indent them further than `respond` (two more spaces)"
        " (or, if `body` is a step of its own, begin each with `- `)"
    ]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("match:\npath: /x\nscript: [{respond: 200}]\n", "b.yaml:2:1: `path` is not indented under `match:`"),
        ("script:\n  - respond: 200\n    headers: {a: b}\n", "b.yaml:3:5: `headers` is not indented under `respond:` and `respond` has its short form"),
        ("script:\n  - respond:\n      status: 200\n    body: hi\n", "b.yaml:4:5: `body` is not indented under `respond:`, so it is not part of it: indent it like the other keys of `respond` (or, if `body` is a step"),
        ("script:\n  - upgrade:\n      then:\n        - send:\n          text: hi\n", "b.yaml:5:11: `text` is not indented under `send:`"),
    ],
)
def test_other_indentation_mistakes_say_so_once(text, expected):
    (problem,) = problems(text)
    assert problem.startswith(expected), problem


def test_a_sibling_that_is_a_mapping_keeps_its_own_problems():
    assert problems("script:\n  - respond:\n      status: abc\n    body: hi\n")[0].startswith("b.yaml:3:15: 'abc' is not a valid status")


def test_two_steps_in_one_list_item_are_named():
    (problem,) = problems("script:\n  - wait: 1s\n    respond: 200\n")
    assert "`wait` and `respond` are 2 steps, so begin each with `- `" in problem


def test_a_mapping_given_a_list_names_its_key_and_shows_an_example():
    (problem,) = problems("script: [{respond: {status: 200, headers: [x, y]}}]")
    assert problem.startswith("b.yaml:1:43: `headers`: expected a mapping, got a list; for example `headers: {")


@pytest.mark.parametrize(
    "text,suggestion",
    [
        ("script: [{sleep: 1s}]", "unknown step 'sleep' (did you mean 'wait'?)"),
        ("script: [{respond: {status: 200, body_json: {a: 1}}}]", "unknown key 'body_json' (did you mean 'json'?)"),
        ("script: [{respond: {status_code: 200}}]", "unknown key 'status_code' (did you mean 'status'?)"),
        ("script: [{respond: {status: 200, header: {a: b}}}]", "unknown key 'header' (did you mean 'headers'?)"),
        ("match: {url: /x}\nscript: [{respond: 200}]", "unknown key 'url' (did you mean 'path'?)"),
    ],
)
def test_habits_from_other_tools_get_the_key_they_meant(text, suggestion):
    assert any(suggestion in problem for problem in problems(text)), problems(text)


# --- respond: {json: ...} ----------------------------------------------------------------------

JSON_RESPONSE = """
match: {path: /j}
params:
  count: {type: integer, default: 3}
  delay: {type: duration, default: 250ms}
script:
  - read_body: {}
  - respond:
      status: 201
      json:
        trace: '${request.header.x-trace:-none}'
        quoted: 'say "${request.query.say}"'
        received: '${request.body_length}'
        count: '${count}'
        delay: '${delay}'
        mixed: 'n=${count}'
        list: [1, 2.5, true, null, 'é', {}]
"""


@pytest.mark.parametrize("byte_by_byte", [False, True])
def test_a_json_response_renders_per_request_and_escapes_what_it_inserts(harness, byte_by_byte):
    h = harness(JSON_RESPONSE)
    h.send(b"POST /j?say=%22hi%22%0A%5C&count=7 HTTP/1.1\r\nHost: x\r\nX-Trace: a\"b\\c\r\nContent-Length: 4\r\n\r\nabcd", byte_by_byte)
    status, fields, body = split(h.take())
    assert status == b"HTTP/1.1 201 Created"
    assert fields["content-type"] == "application/json" and int(fields["content-length"]) == len(body)
    assert json.loads(body) == {
        "trace": 'a"b\\c', "quoted": 'say ""hi"\n\\"', "received": 4, "count": 7, "delay": "250ms", "mixed": "n=7",
        "list": [1, 2.5, True, None, "é", {}],
    }


def test_a_literal_json_response_is_formatted_once_and_keeps_a_given_content_type(harness):
    (behaviour,) = load_text("script: [{respond: {status: 200, headers: {Content-Type: application/problem+json}, json: {a: [1, 'é']}}}]")
    step = behaviour.scripts[0][0]
    assert step.literal_body == json.dumps({"a": [1, "é"]}, ensure_ascii=False).encode()  # the fast path serves it
    h = harness((behaviour,))
    h.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    _status, fields, body = split(h.take())
    assert fields["content-type"] == "application/problem+json" and json.loads(body) == {"a": [1, "é"]}


def test_auto_headers_false_adds_no_content_type(harness):
    h = harness("script: [{respond: {status: 200, auto_headers: false, json: [1]}}]")
    h.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert h.take() == b"HTTP/1.1 200 OK\r\n\r\n[1]"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("script: [{respond: {status: 200, json: {a: {b: '${nope}'}}}}]", "b.yaml:1:48: unknown placeholder ${nope}"),
        ("script: [{respond: {status: 200, json: {a: .nan}}}]", "b.yaml:1:44: nan has no JSON form"),
        ("script: [{respond: {status: 200, json: {a: 1}, body: x}}]", "give only one of body, body_file, body_size or json"),
    ],
)
def test_json_bodies_refuse_what_json_cannot_say(text, expected):
    assert any(problem.startswith(expected) or expected in problem for problem in problems(text)), problems(text)
