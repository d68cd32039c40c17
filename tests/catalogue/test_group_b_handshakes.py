"""Group B, upgrade handshakes (cases 16-21, 31): each entry driven by curl, websockets,
Node's WebSocket and Go net/http (see wsplans.py for what each family checks)."""

from __future__ import annotations

import pytest

from .clients import curl_statuses, drive, number, verify
from .plans import WS_ACCEPT, curl, curl_ws, go, go_ws, httpx, node, python, websockets, ws_frames
from .wsplans import ECHOED, HELLO, client_left_without_close, curl_body, curl_head, curl_sees, go_body, go_sees, upgraded

pytestmark = pytest.mark.e2e


# --- ws-echo (case 16) -------------------------------------------------------------------------


def echo_python(run):
    seen = run.seen
    assert seen["messages"] == ["hello"] and seen["close_rcvd"] == 1000 and seen["close_sent"] == 1000
    ws = run.entry.websocket
    assert ws.ended == "close handshake" and ws.facts.masked_all_frames is True and ws.facts.close_code_echoed is True
    assert ws_frames(run.entry, "in") == ["text", "close"]


def echo_node(run):
    assert run.seen["messages"] == [{"text": "hello"}] and run.seen["closeCode"] == 1000 and run.seen["wasClean"] is True
    assert run.entry.websocket.ended == "close handshake" and run.entry.websocket.facts.masked_all_frames is True


# --- handshakes that must fail (cases 17-20) -------------------------------------------------------


def wrong_accept_curl(run):
    accept = curl_head(run.seen)["sec-websocket-accept"]
    assert curl_statuses(run.seen) == [101] and accept != WS_ACCEPT and len(accept) == len(WS_ACCEPT)
    upgraded(run.entry)


def wrong_accept_python(run):
    assert run.seen["open"] is False and "Sec-WebSocket-Accept" in run.seen["detail"]
    upgraded(run.entry)
    assert run.entry.websocket.frames == []


def wrong_accept_node(run):
    assert run.seen["open"] is False and "Sec-WebSocket-Accept" in run.seen["error"]
    assert run.entry.websocket.frames == []


def wrong_accept_go(run):
    """Go's net/http does not check the accept value: the driver does."""
    accept = run.seen["headers"]["Sec-Websocket-Accept"][0]
    assert run.seen["status"] == 101 and accept != WS_ACCEPT
    upgraded(run.entry)


def raw_101(entry) -> None:
    """A hand-written 101 (``raw``): the journal has no final status for it, and the client left."""
    assert entry.final is None and entry.websocket is None and entry.ended.by == "client"


def missing_header_curl(header: str):
    def check(run):
        head = curl_head(run.seen)
        assert curl_statuses(run.seen) == [101] and header not in head and head["sec-websocket-accept"] == WS_ACCEPT
        raw_101(run.entry)

    return check


def missing_header_python(header: str):
    def check(run):
        assert run.seen["open"] is False and run.seen["error"] == "InvalidUpgrade" and header in run.seen["detail"].lower()
        raw_101(run.entry)

    return check


def never_opens_node(run):
    """undici neither opens nor reports an error: the driver gives up at its timeout."""
    assert run.seen["open"] is False and run.seen["error"] == "timeout"
    raw_101(run.entry)


def missing_header_go(header: str):
    def check(run):
        assert run.seen["status"] == 101 and header.title() not in run.seen["headers"]
        raw_101(run.entry)

    return check


def not_101_check(status: int, python_detail: str, node_error: str):
    def curl_check(run):
        assert curl_statuses(run.seen) == [status]
        assert run.entry.final.status == status and run.entry.websocket is None

    def python_check(run):
        assert run.seen["error"] == "InvalidStatus" and python_detail in run.seen["detail"]
        assert run.entry.final.status == status

    def node_check(run):
        assert run.seen["open"] is False and node_error in run.seen["error"]
        assert run.entry.final.status == status

    def go_check(run):
        assert run.seen["status"] == status
        assert run.entry.final.status == status

    return curl_check, python_check, node_check, go_check


NOT_101 = not_101_check(200, "HTTP 200", "non-101")
UPGRADE_REQUIRED = not_101_check(426, "HTTP 426", "non-101")


def unoffered_curl(header: str, value: str):
    def check(run):
        assert curl_statuses(run.seen) == [101] and curl_head(run.seen)[header] == value
        upgraded(run.entry)

    return check


def unoffered_python(run):
    assert run.seen["open"] is False and run.seen["error"] == "NegotiationError"
    upgraded(run.entry)
    client_left_without_close(run.entry)


def unoffered_node_crashes(run):
    """Node 20's WebSocket (undici) throws an uncaught TypeError when a server picks a
    subprotocol and the client offered none: the process dies."""
    assert run.seen["crashed"] is True and "TypeError" in run.seen["stderr"] and "requestProtocols" in run.seen["stderr"]
    upgraded(run.entry)


def unoffered_node_other_protocol(run):
    assert run.seen["open"] is False and "Protocol" in run.seen["error"]
    upgraded(run.entry)


def unoffered_node_extension(run):
    assert run.seen["open"] is False and "Sec-WebSocket-Extensions" in run.seen["error"]
    upgraded(run.entry)


def unoffered_go(header: str, value: str):
    def check(run):
        """Go's net/http checks nothing of it; the entry then echoes like /ws/echo."""
        assert run.seen["status"] == 101 and run.seen["headers"][header] == [value] and go_body(run.seen) == ECHOED
        upgraded(run.entry)

    return check


# --- h2c (case 31) and an unsolicited 101 ----------------------------------------------------------

H2C = {"Upgrade": "h2c", "Connection": "Upgrade, HTTP2-Settings", "HTTP2-Settings": "AAMAAABkAAQCAAAAAAIAAAAA"}
LIE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 24\r\n\r\nstill speaking HTTP/1.1\n"


def raw_then_closed(entry) -> None:
    assert entry.final is None and entry.ended.server.why == "the script's close step"


def h2c_curl(run):
    """curl --http2 asks for h2c, believes the 101 and fails on the HTTP/1.1 that follows."""
    assert run.seen["exit"] == 16 and curl_statuses(run.seen) == [101]  # (16) Error in the HTTP2 framing layer
    assert ("Upgrade", "h2c") in [tuple(h) for h in run.entry.request.headers]
    raw_then_closed(run.entry)


def h2c_python(run):
    """http.client returns the 101 as the final response."""
    assert run.seen["status"] == 101 and run.seen["body"] == b""
    raw_then_closed(run.entry)


def h2c_node(run):
    """Node's http gives the socket to its 'upgrade' event; the HTTP/1.1 lie follows as raw bytes."""
    assert run.seen["upgraded"] is True and run.seen["status"] == 101 and run.seen["body"].encode("latin-1") == LIE
    raw_then_closed(run.entry)


def h2c_go(run):
    """Go did not ask for h2c, yet hands over the connection for a 101 with Upgrade: the lie as raw bytes."""
    assert run.seen["status"] == 101 and go_body(run.seen) == LIE
    raw_then_closed(run.entry)


JUNK = b"\x00\x01junk after a 101\xff"


def unsolicited_101_curl(run):
    """curl takes the 101 as the final response and the junk as its body; exit 0."""
    assert run.seen["exit"] == 0 and curl_statuses(run.seen) == [101] and curl_body(run.seen) == JUNK
    raw_then_closed(run.entry)


def unsolicited_101_python(run):
    assert run.seen["status"] == 101 and run.seen["error"] is None
    raw_then_closed(run.entry)


def unsolicited_101_httpx(run):
    """h11 refuses a 101 to a request that proposed no upgrade (RemoteProtocolError)."""
    assert run.seen["status"] is None and run.seen["error"] == "RemoteProtocolError"
    raw_then_closed(run.entry)


def unsolicited_101_node(run):
    assert run.seen["status"] == 101 and run.seen["upgraded"] is False and run.seen["error"] is None
    raw_then_closed(run.entry)


def unsolicited_101_fetch(run):
    assert run.seen["status"] is None and run.seen["cause"] == "HPE_INVALID_CONSTANT"
    raw_then_closed(run.entry)


def unsolicited_101_go(run):
    assert run.seen["status"] == 101 and run.seen["error"] is None
    raw_then_closed(run.entry)


def frame_with_101(saw_hello):
    """The 101 and the frame come in one write, hand-written (``raw``): every client gets "hello"."""

    def check(run):
        assert saw_hello(run.seen), run.seen
        assert run.entry.final is None and run.entry.websocket is None and run.entry.ended.stage == "2:hang"

    return check


PLANS = number([
    curl_ws("ws-echo", "/ws/echo", curl_sees(b""), wait=1.5),
    websockets("ws-echo", "/ws/echo", echo_python, send=("hello",), receive=1, timeout=2.0),
    node("ws-echo", "/ws/echo", echo_node, client="ws", send=["hello"], closeAfter=1, timeout=2000),
    go_ws("ws-echo", "/ws/echo", go_sees(ECHOED), send=HELLO, wait_ms=1000),
    curl_ws("ws-wrong-accept", "/ws/wrong-accept", wrong_accept_curl, wait=1.5),
    websockets("ws-wrong-accept", "/ws/wrong-accept", wrong_accept_python, timeout=2.0),
    node("ws-wrong-accept", "/ws/wrong-accept", wrong_accept_node, client="ws", timeout=2000),
    go_ws("ws-wrong-accept", "/ws/wrong-accept", wrong_accept_go, wait_ms=100),
    curl_ws("ws-no-upgrade-header", "/ws/no-upgrade-header", missing_header_curl("upgrade"), wait=1.5),
    websockets("ws-no-upgrade-header", "/ws/no-upgrade-header", missing_header_python("upgrade"), timeout=2.0),
    node("ws-no-upgrade-header", "/ws/no-upgrade-header", never_opens_node, client="ws", timeout=2000),
    go_ws("ws-no-upgrade-header", "/ws/no-upgrade-header", missing_header_go("upgrade"), wait_ms=100),
    curl_ws("ws-no-connection-header", "/ws/no-connection-header", missing_header_curl("connection"), wait=1.5),
    websockets("ws-no-connection-header", "/ws/no-connection-header", missing_header_python("connection"), timeout=2.0),
    node("ws-no-connection-header", "/ws/no-connection-header", never_opens_node, client="ws", timeout=2000),
    go_ws("ws-no-connection-header", "/ws/no-connection-header", missing_header_go("connection"), wait_ms=100),
    curl_ws("ws-not-101", "/ws/not-101", NOT_101[0], wait=1.5),
    websockets("ws-not-101", "/ws/not-101", NOT_101[1], timeout=2.0),
    node("ws-not-101", "/ws/not-101", NOT_101[2], client="ws", timeout=2000),
    go_ws("ws-not-101", "/ws/not-101", NOT_101[3], wait_ms=100),
    curl_ws("ws-upgrade-required", "/ws/upgrade-required", UPGRADE_REQUIRED[0], wait=1.5),
    websockets("ws-upgrade-required", "/ws/upgrade-required", UPGRADE_REQUIRED[1], timeout=2.0),
    node("ws-upgrade-required", "/ws/upgrade-required", UPGRADE_REQUIRED[2], client="ws", timeout=2000),
    go_ws("ws-upgrade-required", "/ws/upgrade-required", UPGRADE_REQUIRED[3], wait_ms=100),
    curl_ws("ws-unoffered-protocol", "/ws/unoffered-protocol", unoffered_curl("sec-websocket-protocol", "chat"), wait=1.5),
    websockets("ws-unoffered-protocol", "/ws/unoffered-protocol", unoffered_python, timeout=2.0),
    node("ws-unoffered-protocol", "/ws/unoffered-protocol", unoffered_node_crashes, client="ws", timeout=2000, isolate=True),
    node("ws-unoffered-protocol", "/ws/unoffered-protocol", unoffered_node_other_protocol, client="ws", protocols=["superchat"], timeout=2000),
    go_ws("ws-unoffered-protocol", "/ws/unoffered-protocol", unoffered_go("Sec-Websocket-Protocol", "chat"), send=HELLO, wait_ms=1000),
    curl_ws("ws-unoffered-extension", "/ws/unoffered-extension", unoffered_curl("sec-websocket-extensions", "x-mockorigin-unoffered"), wait=1.5),
    websockets("ws-unoffered-extension", "/ws/unoffered-extension", unoffered_python, timeout=2.0),
    node("ws-unoffered-extension", "/ws/unoffered-extension", unoffered_node_extension, client="ws", timeout=2000),
    go_ws("ws-unoffered-extension", "/ws/unoffered-extension", unoffered_go("Sec-Websocket-Extensions", "x-mockorigin-unoffered"), send=HELLO, wait_ms=1000),
    curl_ws("ws-frame-with-101", "/ws/frame-with-101?hold=800ms", frame_with_101(lambda s: curl_body(s) == ECHOED), wait=1.5),
    websockets("ws-frame-with-101", "/ws/frame-with-101?hold=800ms", frame_with_101(lambda s: s["messages"] == ["hello"]), receive=1, timeout=2.0),
    node("ws-frame-with-101", "/ws/frame-with-101?hold=800ms", frame_with_101(lambda s: s["messages"] == [{"text": "hello"}]), client="ws", timeout=2000),
    go_ws("ws-frame-with-101", "/ws/frame-with-101?hold=800ms", frame_with_101(lambda s: go_body(s) == ECHOED), wait_ms=300),
    curl("h2c-lying-101", "/h2c/lying-101", h2c_curl, "--http2"),
    python("h2c-lying-101", "/h2c/lying-101", h2c_python, headers=H2C),
    node("h2c-lying-101", "/h2c/lying-101", h2c_node, headers=H2C),
    go("h2c-lying-101", "/h2c/lying-101", h2c_go, upgrade=300),
    curl("upgrade-unsolicited-101", "/upgrade/unsolicited-101", unsolicited_101_curl),
    python("upgrade-unsolicited-101", "/upgrade/unsolicited-101", unsolicited_101_python),
    httpx("upgrade-unsolicited-101", "/upgrade/unsolicited-101", unsolicited_101_httpx),
    node("upgrade-unsolicited-101", "/upgrade/unsolicited-101", unsolicited_101_node),
    node("upgrade-unsolicited-101", "/upgrade/unsolicited-101", unsolicited_101_fetch, client="fetch"),
    go("upgrade-unsolicited-101", "/upgrade/unsolicited-101", unsolicited_101_go),
])


@pytest.fixture(scope="module")
def runs(catalogue_server):
    return drive(catalogue_server, PLANS)


@pytest.mark.parametrize("plan", PLANS, ids=lambda plan: plan.mark)
def test_entry(runs, plan):
    verify(runs, plan)
