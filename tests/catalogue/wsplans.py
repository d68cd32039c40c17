"""The shapes the WebSocket entries share, for test_group_b_*.py.

The families: curl 7.88 (built without ws://) sends the handshake as plain HTTP and prints
the bytes after the 101; the ``websockets`` library; Node's own WebSocket (undici); Go's
net/http, which does the handshake and hands over the connection, after which the driver
reads the raw bytes. curl and Go thus check the exact frames on the wire; websockets and
Node what a real WebSocket client makes of them; every plan checks the journal.
"""

from __future__ import annotations

from .clients import curl_statuses
from .plans import WS_ACCEPT, curl_ws, frame, go_ws, masked, node, websockets, ws_frames

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
