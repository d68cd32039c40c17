"""Group B, upgrades and WebSocket: each entry driven by curl, Python, Node and Go.

The families: curl 7.88 (built without ws://) sends the handshake as plain HTTP and prints
the bytes after the 101; the ``websockets`` library; Node's own WebSocket (undici); Go's
net/http, which does the handshake and hands over the connection, after which the driver
reads the raw bytes. curl and Go thus check the exact frames on the wire; websockets and
Node what a real WebSocket client makes of them; every plan checks the journal.
"""

from __future__ import annotations

import pytest

from .clients import curl_statuses, drive, number, verify
from .plans import WS_ACCEPT, curl, curl_ws, frame, go, go_ws, httpx, masked, node, python, websockets, ws_frames

pytestmark = pytest.mark.e2e

HELLO = masked(1, b"hello")  # what the Go driver sends once the connection is handed over
ECHOED = frame(1, b"hello")


def curl_body(seen: dict) -> bytes:
    return seen["transfers"][0]["body"].encode("latin-1")


def curl_head(seen: dict) -> dict[str, str]:
    return dict(seen["requests"][0]["responses"][0]["headers"])


def go_body(seen: dict) -> bytes:
    return bytes.fromhex(seen["body"])


def upgraded(entry) -> None:
    assert entry.final.status == 101 and entry.websocket is not None


def client_left_without_close(entry) -> None:
    """The client dropped TCP without a close frame of its own."""
    assert "close" not in ws_frames(entry, "in") and entry.websocket.ended in ("client dropped TCP", "client reset TCP")


# --- the common shapes --------------------------------------------------------------------


def curl_sees(wire: bytes, server_ends: bool = False):
    def check(run):
        assert curl_statuses(run.seen) == [101] and curl_head(run.seen).get("sec-websocket-accept") == WS_ACCEPT
        assert curl_body(run.seen) == wire
        upgraded(run.entry)
        if server_ends:
            assert run.entry.ended.by == "server" and ws_frames(run.entry, "in") == []
        else:
            client_left_without_close(run.entry)  # curl speaks no WebSocket: it just hangs up at --max-time

    return check


def go_sees(wire: bytes):
    def check(run):
        assert run.seen["status"] == 101 and run.seen["headers"]["Sec-Websocket-Accept"] == [WS_ACCEPT]
        assert go_body(run.seen) == wire
        upgraded(run.entry)

    return check


def failing_plans(name: str, path: str, wire: bytes, code: int, node_error: str, echo: bool = True, node_code: int | None = None) -> list:
    """An entry whose frames a client must refuse: websockets closes with ``code``; Node's
    WebSocket reports 1006 with ``node_error`` (dropping TCP, or first closing with
    ``node_code``); curl and Go see exactly ``wire``. Without ``echo`` the server answers no
    close, and websockets gives up waiting for one."""

    def python_check(run):
        seen = run.seen
        assert seen["open"] and seen["messages"] == [] and seen["close_sent"] == code
        assert seen["error"] == "ConnectionClosedError" or (not echo and seen["error"] == "timeout")
        assert run.entry.websocket.close_received == code

    def node_check(run):
        seen = run.seen
        assert seen["open"] and seen["messages"] == [] and node_error in seen["error"]
        assert seen["closeCode"] == 1006 and seen["wasClean"] is False
        if node_code is None:
            client_left_without_close(run.entry)
        else:
            assert run.entry.websocket.close_received == node_code

    go_wire = wire + (ECHOED if echo else b"")
    return [
        curl_ws(name, path, curl_sees(wire), wait=1.5),
        websockets(name, path, python_check, receive=1, timeout=2.0),
        node(name, path, node_check, client="ws", timeout=2000),
        go_ws(name, path, go_sees(go_wire), send=HELLO, wait_ms=1000),
    ]


def delivering_plans(name: str, path: str, wire: bytes, message: str, go_send: bytes = HELLO, echo: bool = True) -> list:
    """A valid (if unusual) entry: both WebSocket clients must deliver ``message``."""

    def python_check(run):
        seen = run.seen
        assert seen["messages"] == [message] and seen["error"] is None and seen["close_sent"] == 1000
        assert run.entry.websocket.close_received == 1000

    def node_check(run):
        assert run.seen["messages"] == [{"text": message}] and run.seen["closeCode"] == 1000
        assert run.entry.websocket.close_received == 1000

    go_wire = wire + (ECHOED if echo and go_send else b"")
    return [
        curl_ws(name, path, curl_sees(wire), wait=1.5),
        websockets(name, path, python_check, receive=1, timeout=2.0),
        node(name, path, node_check, client="ws", closeAfter=1, timeout=2000),
        go_ws(name, path, go_sees(go_wire), send=go_send, wait_ms=1000),
    ]


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


# --- closes (cases 27, 28) ---------------------------------------------------------------------


def close_1011_python(run):
    seen = run.seen
    assert seen["messages"] == ["about to fail"] and seen["close_rcvd"] == 1011 and seen["close_sent"] == 1011
    ws = run.entry.websocket
    assert ws.close_sent == 1011 and ws.close_received == 1011 and ws.facts.close_code_echoed is True and ws.ended == "close handshake"


def close_1011_node(run):
    seen = run.seen
    assert seen["messages"] == [{"text": "about to fail"}] and seen["closeCode"] == 1011 and seen["closeReason"] == "internal error"
    assert run.entry.websocket.close_received == 1011


def drop_python(run):
    """The message arrives; then TCP closes with no close frame (websockets: no close received)."""
    assert run.seen["messages"] == ["goodbye"] and run.seen["close_rcvd"] is None
    assert run.entry.websocket.close_sent is None and run.entry.ended.server.why == "the WebSocket steps are over"


def drop_node(run):
    assert run.seen["messages"] == [{"text": "goodbye"}] and run.seen["closeCode"] == 1006 and run.seen["wasClean"] is False
    assert run.entry.websocket.close_sent is None


def ignore_close_python(run):
    """websockets sends its close, waits close_timeout for a reply that never comes, drops TCP."""
    assert run.seen["close_sent"] == 1000 and run.seen["close_rcvd"] is None
    ws = run.entry.websocket
    assert ws.close_received == 1000 and ws.close_sent is None and ws.ended == "client dropped TCP"


def ignore_close_node(run):
    """Node's WebSocket waits for the reply past the driver's 1.5 s."""
    assert run.seen["error"] == "timeout" and run.seen["closeCode"] is None
    assert run.entry.websocket.close_received == 1000 and run.entry.websocket.close_sent is None


def close_invalid_python(run):
    seen = run.seen
    assert seen["messages"] == ["about to close with 1005"] and seen["close_sent"] == 1002
    assert run.entry.websocket.close_sent == 1005 and run.entry.websocket.close_received == 1002


def close_invalid_node(run):
    """undici answers the bad code with its own close (1000 here), then reports 1006."""
    seen = run.seen
    assert seen["messages"] == [{"text": "about to close with 1005"}] and "status code" in seen["error"] and seen["closeCode"] == 1006
    assert run.entry.websocket.close_sent == 1005


# --- ping (case 26) -------------------------------------------------------------------------------


PINGS = b"".join(frame(9, f"ping {n}".encode()) for n in (1, 2, 3)) + frame(8, b"\x03\xe8done")


def ping_python(run):
    assert run.seen["close_rcvd"] == 1000
    pings = run.entry.websocket.facts.answered_pings
    assert pings.sent == 3 and pings.answered == 3 and pings.max_delay < 1.0


def ping_node(run):
    assert run.seen["closeCode"] == 1000 and run.seen["closeReason"] == "done"
    assert run.entry.websocket.facts.answered_pings.answered == 3


def ping_go(run):
    """The raw reader answers no ping: the journal says none was."""
    assert go_body(run.seen) == PINGS
    assert run.entry.websocket.facts.answered_pings.answered == 0


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


MASKED = bytes([0x81, 0x94, 0x37, 0xFA, 0x21, 0x3D]) + bytes(b ^ (0x37, 0xFA, 0x21, 0x3D)[i % 4] for i, b in enumerate(b"masked by the server"))

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
    *delivering_plans("ws-split-header", "/ws/split-header", ECHOED, "hello", go_send=b""),  # see test_defects.py
    *failing_plans("ws-masked-frame", "/ws/masked-frame", MASKED, 1002, "masked"),
    *failing_plans("ws-rsv-bits", "/ws/rsv-bits", frame(1, b"rsv1 set", rsv=4), 1002, "RSV1"),
    *failing_plans("ws-reserved-opcode", "/ws/reserved-opcode", frame(3, b"reserved"), 1002, "opcode"),
    *delivering_plans("ws-ping-between-fragments", "/ws/ping-between-fragments", frame(1, b"Hello, ", fin=False) + frame(9, b"between") + frame(0, b"world"), "Hello, world"),
    *delivering_plans("ws-empty-fragments", "/ws/empty-fragments", frame(1, b"", fin=False) + frame(0, b"Hello", fin=False) + frame(0, b"", fin=False) + frame(0, b""), "Hello"),
    *failing_plans("ws-continuation-without-start", "/ws/continuation-without-start", frame(0, b"orphan"), 1002, "continuation"),
    *failing_plans("ws-new-message-before-fin", "/ws/new-message-before-fin", frame(1, b"first ", fin=False) + frame(1, b"second"), 1002, "continuation"),
    *failing_plans("ws-oversize-control", "/ws/oversize-control", bytes([0x89, 126, 0, 126]) + b"p" * 126, 1002, "Control frame"),
    *failing_plans("ws-fragmented-control", "/ws/fragmented-control", frame(9, b"frag", fin=False) + frame(0, b"ment"), 1002, "fragmented"),
    *delivering_plans("ws-unsolicited-pong", "/ws/unsolicited-pong", frame(10, b"unsolicited") + frame(1, b"after the pong"), "after the pong"),
    curl_ws("ws-close-1011", "/ws/close-1011", curl_sees(frame(1, b"about to fail") + frame(8, b"\x03\xf3internal error")), wait=1.5),
    websockets("ws-close-1011", "/ws/close-1011", close_1011_python, receive=2, timeout=2.0),
    node("ws-close-1011", "/ws/close-1011", close_1011_node, client="ws", timeout=2000),
    go_ws("ws-close-1011", "/ws/close-1011", go_sees(frame(1, b"about to fail") + frame(8, b"\x03\xf3internal error")), send=HELLO, wait_ms=1000),
    curl_ws("ws-close-invalid-code", "/ws/close-invalid-code", curl_sees(frame(1, b"about to close with 1005") + frame(8, b"\x03\xednot on the wire")), wait=1.5),
    websockets("ws-close-invalid-code", "/ws/close-invalid-code", close_invalid_python, receive=2, timeout=2.0),
    node("ws-close-invalid-code", "/ws/close-invalid-code", close_invalid_node, client="ws", timeout=2000),
    go_ws("ws-close-invalid-code", "/ws/close-invalid-code", go_sees(frame(1, b"about to close with 1005") + frame(8, b"\x03\xednot on the wire")), wait_ms=1000),
    *failing_plans("ws-close-one-byte", "/ws/close-one-byte", frame(8, b"\x03"), 1002, "1-byte", echo=False),
    *failing_plans("ws-close-bad-reason", "/ws/close-bad-reason", frame(8, b"\x03\xe8\xff\xfe"), 1007, "UTF-8", echo=False, node_code=1007),
    curl_ws("ws-drop", "/ws/drop", curl_sees(frame(1, b"goodbye"), server_ends=True)),
    websockets("ws-drop", "/ws/drop", drop_python, receive=1, timeout=1.0, close=False),
    node("ws-drop", "/ws/drop", drop_node, client="ws", timeout=2000),
    go_ws("ws-drop", "/ws/drop", go_sees(frame(1, b"goodbye")), wait_ms=1000),
    curl_ws("ws-ignore-close", "/ws/ignore-close", curl_sees(b""), wait=1.5),
    websockets("ws-ignore-close", "/ws/ignore-close", ignore_close_python, receive=0, timeout=1.0),
    node("ws-ignore-close", "/ws/ignore-close", ignore_close_node, client="ws", closeAfter=0, timeout=2000),
    go_ws("ws-ignore-close", "/ws/ignore-close", go_sees(b""), send=masked(8, b"\x03\xe8"), wait_ms=300),
    *failing_plans("ws-invalid-utf8", "/ws/invalid-utf8", frame(1, bytes.fromhex("cebae1bdf980656469746564")), 1007, "UTF-8"),
    *delivering_plans("ws-utf8-split", "/ws/utf8-split", frame(1, b"\xe2", fin=False) + frame(0, b"\x82\xac"), "€"),
    *delivering_plans("ws-non-minimal-length", "/ws/non-minimal-length", bytes.fromhex("817e0005") + b"hello", "hello"),
    *failing_plans("ws-length-msb-set", "/ws/length-msb-set", bytes.fromhex("817f8000000000000005") + b"hello", 1009, "2^31"),
    curl_ws("ws-ping", "/ws/ping?count=3&every=50ms", curl_sees(PINGS), wait=1.5),
    websockets("ws-ping", "/ws/ping?count=3&every=50ms", ping_python, receive=1, timeout=1.5),
    node("ws-ping", "/ws/ping?count=3&every=50ms", ping_node, client="ws", timeout=2000),
    go_ws("ws-ping", "/ws/ping?count=3&every=50ms", ping_go, wait_ms=1000),
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
