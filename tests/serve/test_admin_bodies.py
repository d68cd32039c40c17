"""The control API's answers to bad bodies, large bodies and every method, over loopback.

Every refusal is a 4xx JSON answer naming what was wrong, and leaves the set as it was.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.error
import urllib.request

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.helpers import start_server

pytestmark = pytest.mark.e2e

MIB = 1024 * 1024
VALID_YAML = "match: {path: /fuzz-ok}\nscript: [{respond: 204}]\n"


class Admin:
    """HTTP/1.1 to the control API over one keep-alive connection; the test chooses every header."""

    def __init__(self, url: str, token: str | None = None):
        host, port = url.split("//")[1].strip("/").rsplit(":", 1)
        self.host, self.port, self.token = host.strip("[]"), int(port), token
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=10)

    def call(self, method: str, path: str, body: bytes | None = None, content_type: str = "application/json", **headers):
        """(status, headers, body) of one request."""
        sent = {"Host": "127.0.0.1", "Content-Type": content_type, **headers}
        if self.token:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        self.connection.request(method, path, body=body, headers=sent)
        response = self.connection.getresponse()
        data = response.read()
        if response.will_close:
            self.connection.close()
        return response.status, response.headers, data

    def names(self) -> list[str]:
        status, _, data = self.call("GET", "/behaviours")
        assert status == 200
        return [b["name"] for b in json.loads(data)["behaviours"]]

    def close(self) -> None:
        self.connection.close()


def raw_exchange(admin_url: str, data: bytes, read_for: float = 5.0, then: bytes = b"") -> bytes:
    """Send ``data`` (then ``then``, ignoring a reset), and read until the server closes or ``read_for`` passes."""
    host, port = admin_url.split("//")[1].strip("/").rsplit(":", 1)
    with socket.create_connection((host.strip("[]"), int(port)), timeout=read_for) as sock:
        sock.sendall(data)
        try:
            sock.sendall(then)
        except OSError:
            pass
        reply = b""
        deadline = time.monotonic() + read_for
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            reply += chunk
    return reply


@pytest.fixture(scope="module")
def origin_server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("admin-bodies"))
    yield server
    assert server.stop() == 0
    assert "Traceback" not in server.log() and "Unhandled" not in server.log()


@pytest.fixture
def admin(origin_server):
    client = Admin(origin_server.admin)
    client.call("POST", "/behaviours/restore")
    yield client
    client.close()


# --- bad JSON shapes ------------------------------------------------------------------

BAD_SHAPES = [
    ({"select": 5}, 400, "select"),
    ({"select": "echo"}, 400, "select"),
    ({"select": [[1]]}, 400, "select[0]"),
    ({"select": ["echo", {"a": 1}]}, 400, "select[1]"),
    ({"files": 5}, 400, "files"),
    ({"files": [5]}, 400, "files[0]"),
    ({"files": [{"text": 5}]}, 400, "files[0].text"),
    ({"files": [{"name": "a.yaml"}]}, 400, "files[0].text"),
    ({"files": [{"name": 5, "text": VALID_YAML}]}, 400, "files[0].name"),
    ({"files": [{"nmae": "a.yaml", "text": VALID_YAML}]}, 400, "files[0].nmae"),
    ({"select": [], "fiels": []}, 400, "fiels"),
    ([5], 400, "[0]"),
    ([{"match": {"path": "/a"}, "script": [{"respond": 204}]}, []], 400, "[1]"),
]


@pytest.mark.parametrize(("body", "status", "key"), BAD_SHAPES, ids=[json.dumps(b)[:40] for b, _, _ in BAD_SHAPES])
def test_a_bad_json_shape_is_a_4xx_naming_the_key(admin, body, status, key):
    before = admin.names()
    for method in ("PUT", "POST"):
        got, headers, data = admin.call(method, "/behaviours", json.dumps(body).encode())
        answer = json.loads(data)
        assert (got, answer.get("key")) == (status, key), answer
        assert headers["content-type"] == "application/json" and key in answer["error"]
    assert admin.names() == before


@pytest.mark.parametrize(("body", "says"), [
    (b"5", "must be a behaviour"),
    (b'"echo"', "must be a behaviour"),
    (b"null", "must be a behaviour"),
    (b'{"select": ["echo"], "select": ["drip"]}', "appears twice"),
    (b'{"select": [NaN]}', "NaN"),
    (b'{"files": [{"text": "\\ud800"}]}', "lone surrogate"),
    (b'{"select": ["\xff"]}', "invalid JSON"),
    (b"[" * 200_000, "nested deeper"),
    (b"[" * 70 + b"]" * 70, "nested deeper"),
    (b'{"select": 1' + b"0" * 5000 + b"}", "invalid JSON"),
])
def test_bodies_that_are_not_usable_json_are_a_400_saying_why(admin, body, says):
    before = admin.names()
    status, _, data = admin.call("PUT", "/behaviours", body)
    assert status == 400 and says in json.loads(data)["error"]
    assert admin.names() == before


def test_select_names_and_clashes_are_4xx(admin):
    status, _, data = admin.call("PUT", "/behaviours", b'{"select": ["echo", "no-such"]}')
    assert status == 404 and "no-such" in json.loads(data)["error"]
    status, _, data = admin.call("PUT", "/behaviours", b'{"select": ["echo", "drip", "echo"]}')
    assert (status, json.loads(data)["key"]) == (400, "select[2]")
    status, _, data = admin.call("POST", "/behaviours", b'{"select": ["echo"]}')  # echo is in the set already
    assert status == 409 and "echo" in json.loads(data)["error"]
    assert admin.names().count("echo") == 1


def test_json_text_reaches_the_behaviour_unchanged(admin, origin_server):
    """JSON strings may hold what YAML reads otherwise (line separators, astral characters)."""
    text = "a\u2028b\u0085c\U0001f600d\u00a0"
    body = json.dumps([{"name": "t", "match": {"path": "/t"}, "script": [{"respond": {"status": 200, "body": text}}]}]).encode()
    assert admin.call("PUT", "/behaviours", body)[0] == 200
    with socket.create_connection((origin_server.host, origin_server.port), timeout=5) as sock:
        sock.sendall(b"GET /t HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.split(b"\r\n\r\n", 1)[1] == text.encode()


def test_a_recursive_alias_in_a_file_is_a_400(server):
    admin = Admin(server().admin)  # a server of its own: a traceback would be in its log
    status, _, data = admin.call("PUT", "/behaviours", json.dumps({"files": [{"text": "a: &x [*x]"}]}).encode())
    admin.close()
    assert status == 400, data


@pytest.mark.parametrize("since", ["\u00b2", "-1", "1.5", "9" * 40, "abc"])
def test_a_bad_journal_query_is_a_400(admin, since):
    status, _, data = admin.call("GET", "/journal?since=" + urllib.request.quote(since))
    assert status == 400 and json.loads(data)["key"] == "since"


# --- fuzzing the shapes -------------------------------------------------------------

NAMES = st.sampled_from(["echo", "drip", "hang", "no-such", "", "fuzz-ok"])
SCALARS = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12) | NAMES
KEYS = st.sampled_from(["select", "files", "name", "text", "match", "script", "sequence", "path", "respond", "params"]) | st.text(max_size=6)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4), max_leaves=16)
TEXTS = st.sampled_from([VALID_YAML, "script: [{respond: 600}]", "[", "", "a: &x [1]\nb: *x", "match: {path: /x}\n\tscript: []"]) | st.text(max_size=40)
FILES = st.fixed_dictionaries({}, optional={"name": NAMES | JSON, "text": TEXTS | JSON}) | JSON
COMPOSE = st.fixed_dictionaries({}, optional={"select": st.lists(NAMES | JSON, max_size=3) | JSON,
                                              "files": st.lists(FILES, max_size=3) | JSON, "extra": JSON})
BEHAVIOURS = st.dictionaries(st.sampled_from(["name", "match", "script", "sequence", "params", "summary"]) | KEYS, JSON, max_size=4)
BODIES = COMPOSE | BEHAVIOURS | st.lists(BEHAVIOURS | JSON, max_size=3) | JSON


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=BODIES, method=st.sampled_from(["PUT", "POST"]))
def test_no_json_shape_gets_a_5xx_and_a_refusal_changes_nothing(admin, body, method):
    before = admin.names()
    status, headers, data = admin.call(method, "/behaviours", json.dumps(body).encode())
    event(f"{method} {status}")
    assert status < 500, data
    answer = json.loads(data)
    if status >= 400:
        assert isinstance(answer["error"], str) and answer["error"]
        assert admin.names() == before
    else:
        admin.call("POST", "/behaviours/restore")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    method=st.sampled_from(["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "TRACE"]),
    path=st.sampled_from(["/health", "/behaviours", "/behaviours/", "/behaviours/restore", "/behaviours/echo", "/behaviours/%ff",
                          "/journal", "/reset", "/connections", "/debug/timers", "/", "/nope"]),
    query=st.sampled_from(["", "?since=1", "?since=x", "?behaviour=%ff", "?since=1&since=a"]),
    content_type=st.sampled_from(["application/json", "application/yaml", "text/plain", ""]),
    body=st.none() | st.binary(max_size=40) | st.sampled_from([b"{}", b"[]", VALID_YAML.encode(), b"\xff\xfe"]),
)
def test_no_route_method_or_body_gets_a_5xx(admin, method, path, query, content_type, body):
    before = admin.names()
    status, _, data = admin.call(method, path + query, body if method != "HEAD" else None, content_type)
    event(f"{status}")
    assert status < 500, data
    if status >= 400:
        assert admin.names() == before
    elif method in ("PUT", "POST", "DELETE"):
        admin.call("POST", "/behaviours/restore")


# --- large bodies -------------------------------------------------------------------


def test_a_content_length_over_the_limit_is_refused_before_the_body_is_read(origin_server):
    started = time.monotonic()
    reply = raw_exchange(origin_server.admin, b"PUT /behaviours HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         b"Expect: 100-continue\r\nContent-Length: 209715200\r\n\r\n", read_for=8)
    assert reply.startswith(b"HTTP/1.1 413 ")  # at once, and no 100 Continue before it
    assert time.monotonic() - started < 3
    head, _, body = reply.partition(b"\r\n\r\n")
    assert b"connection: close" in head.lower() and "1 MiB" in json.loads(body)["error"]


def test_a_chunked_body_is_cut_off_at_the_limit(origin_server):
    chunk = b"10000\r\n" + b"#" * 0x10000 + b"\r\n"
    reply = raw_exchange(origin_server.admin, b"PUT /behaviours HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/yaml\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n" + chunk * 24, read_for=8)  # 1.5 MiB, never terminated
    assert reply.startswith(b"HTTP/1.1 413 ")


def test_the_guards_come_before_the_size(server):
    s = server("--admin-token", "tok")
    request = b"PUT /behaviours HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 209715200\r\n\r\n"
    assert raw_exchange(s.admin, request, read_for=8).startswith(b"HTTP/1.1 401 ")
    request = b"PUT /behaviours HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer tok\r\nContent-Length: 209715200\r\n\r\n"
    assert raw_exchange(s.admin, request, read_for=8).startswith(b"HTTP/1.1 403 ")


def test_a_client_that_sends_its_whole_body_first_still_reads_the_413(admin, origin_server):
    """urllib writes all of the body before reading: the server reads and drops it meanwhile."""
    before = admin.names()
    request = urllib.request.Request(origin_server.admin + "behaviours", data=b"#" * (8 * MIB), method="PUT",
                                     headers={"Content-Type": "application/yaml"})
    started = time.monotonic()
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    caught.value.close()
    assert caught.value.code == 413 and time.monotonic() - started < 4
    assert admin.names() == before


# --- methods ------------------------------------------------------------------------


def test_head_is_get_without_the_body(origin_server):
    both = (b"HEAD /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    reply = raw_exchange(origin_server.admin, both)
    head, _, rest = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and rest.startswith(b"HTTP/1.1 200 ")  # nothing between the two
    get_head, _, get_body = rest.partition(b"\r\n\r\n")
    length = [line for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")]
    assert length == [b"content-length: %d" % len(get_body)] and json.loads(get_body)["status"] == "ok"


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("PATCH", "/health", "GET, HEAD"),
    ("DELETE", "/health", "GET, HEAD"),
    ("OPTIONS", "/behaviours", "GET, POST, PUT, HEAD"),
    ("HEAD", "/reset", "POST"),
    ("GET", "/behaviours/echo", "DELETE"),
    ("PUT", "/journal", "DELETE, GET, HEAD"),
    ("POST", "/debug/timers", "GET, HEAD"),
])
def test_other_methods_are_405_with_allow(admin, method, path, allowed):
    status, headers, data = admin.call(method, path)
    assert (status, headers["allow"]) == (405, allowed)
    if method != "HEAD":
        assert json.loads(data)["allowed"] == allowed.split(", ")


def test_an_unknown_path_is_still_404(admin):
    assert admin.call("GET", "/nope")[0] == 404
    assert admin.call("HEAD", "/nope")[0] == 404


def test_head_keeps_the_guards(server):
    s = server("--admin-token", "tok")
    admin = Admin(s.admin)
    assert admin.call("HEAD", "/health")[0] == 401
    assert admin.call("HEAD", "/health", Authorization="Bearer tok")[0] == 200
    assert admin.call("HEAD", "/health", Authorization="Bearer tok", Origin="https://evil.example")[0] == 403
    assert admin.call("HEAD", "/health", Authorization="Bearer tok", Host="evil.example")[0] == 403
    admin.close()


def test_a_refused_body_is_never_buffered_and_the_connection_goes_after_the_linger():
    """In process: what the request holds is bounded by the limit, whatever the client sends."""
    from twisted.internet.error import ConnectionDone
    from twisted.internet.task import Clock
    from twisted.python.failure import Failure

    from mockorigin.serve.admin import control_site
    from mockorigin.serve.admin_http import LINGER, MAX_BODY
    from mockorigin.observe.journal import Journal
    from mockorigin.serve.service import OriginService
    from mockorigin.interpreter.state import ServerState

    from tests.helpers import HalfClosingTransport

    clock = Clock()
    service = OriginService(clock, ServerState(()), ["tcp:0"], Journal(), admin=None)
    channel = control_site(service).buildProtocol(None)
    transport = HalfClosingTransport()
    channel.makeConnection(transport)
    channel.dataReceived(b"PUT /behaviours HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/yaml\r\nTransfer-Encoding: chunked\r\n\r\n")
    request = channel.requests[-1]
    chunk = b"4000\r\n" + b"#" * 0x4000 + b"\r\n"
    for _ in range(80):  # 1.25 MiB
        channel.dataReceived(chunk)
        assert request.content.tell() <= MAX_BODY
    assert transport.value().startswith(b"HTTP/1.1 413 ") and transport.write_closed
    answered = transport.value()
    channel.dataReceived(chunk * 64 + b"0\r\n\r\nGET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # dropped, pipelined request too
    assert transport.value() == answered and request.content.tell() <= MAX_BODY
    clock.advance(LINGER - 0.1)
    assert not transport.disconnecting
    clock.advance(0.1)
    assert transport.disconnecting  # aborted: a client that never stops sending is not read forever
    channel.connectionLost(Failure(ConnectionDone()))
