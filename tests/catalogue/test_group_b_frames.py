"""Group B, WebSocket frames and closes (cases 21-30): each entry driven by curl, websockets,
Node's WebSocket and Go net/http (see wsplans.py for what each family checks)."""

from __future__ import annotations

import pytest

from .clients import drive, number, verify
from .plans import curl_ws, frame, go_ws, masked, node, websockets
from .wsplans import ECHOED, HELLO, curl_sees, delivering_plans, failing_plans, go_body, go_sees

pytestmark = pytest.mark.e2e


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


MASKED = bytes([0x81, 0x94, 0x37, 0xFA, 0x21, 0x3D]) + bytes(b ^ (0x37, 0xFA, 0x21, 0x3D)[i % 4] for i, b in enumerate(b"masked by the server"))


PLANS = number([
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
])


@pytest.fixture(scope="module")
def runs(catalogue_server):
    return drive(catalogue_server, PLANS)


@pytest.mark.parametrize("plan", PLANS, ids=lambda plan: plan.mark)
def test_entry(runs, plan):
    verify(runs, plan)
