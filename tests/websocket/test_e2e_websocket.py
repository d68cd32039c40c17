"""WebSocket over loopback with independent clients: the `websockets` library and Node's `ws`."""

from __future__ import annotations

import asyncio
import json
import subprocess

import pytest
import websockets
from websockets.exceptions import ConnectionClosedError, InvalidHandshake, InvalidStatus

from tests.helpers import IN_CI, ROOT, require_program

pytestmark = pytest.mark.e2e


def ws_url(origin, path: str) -> str:
    return origin.url.replace("http://", "ws://") + path


def last_entry(origin, path: str):
    entries = [e for e in origin.control().wait_for(1, timeout=5) if e.request and e.request.target.startswith(path)]
    return entries[-1]


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, timeout=15))


def test_echo_with_the_websockets_client(origin):
    async def session():
        async with websockets.connect(ws_url(origin, "/ws/echo?session=1")) as ws:
            await ws.send("héllo")
            text = await ws.recv()
            await ws.send(bytes(range(256)) * 300)
            binary = await ws.recv()
            latency = await (await ws.ping(b"are you there"))
            return text, binary, latency

    text, binary, latency = run(session())
    assert text == "héllo" and binary == bytes(range(256)) * 300 and latency < 1
    entry = last_entry(origin, "/ws/echo?session=1")
    ws = entry.websocket
    assert entry.final.status == 101 and ws.ended == "close handshake"
    assert ws.facts.masked_all_frames is True and ws.facts.close_code_echoed is True
    assert [f.opcode for f in ws.frames if f.dir == "in"] == ["text", "binary", "ping", "close"]


def test_wrong_accept_is_refused_by_the_client(origin):
    with pytest.raises(InvalidHandshake, match="Sec-WebSocket-Accept"):
        run(websockets.connect(ws_url(origin, "/ws/wrong-accept")).__aenter__())


def test_a_101_without_upgrade_is_refused_by_the_client(origin):
    with pytest.raises(InvalidHandshake, match="Upgrade"):
        run(websockets.connect(ws_url(origin, "/ws/no-upgrade-header")).__aenter__())


def test_200_instead_of_101(origin):
    with pytest.raises(InvalidStatus) as caught:
        run(websockets.connect(ws_url(origin, "/ws/not-101")).__aenter__())
    assert caught.value.response.status_code == 200


def test_close_1011_reaches_the_client_and_it_echoes_the_code(origin):
    async def session():
        async with websockets.connect(ws_url(origin, "/ws/close-1011")) as ws:
            first = await ws.recv()
            with pytest.raises(ConnectionClosedError) as closed:
                await ws.recv()
            return first, closed.value.rcvd.code

    first, code = run(session())
    assert first == "about to fail" and code == 1011
    ws = last_entry(origin, "/ws/close-1011").websocket
    assert ws.close_sent == 1011 and ws.close_received == 1011 and ws.facts.close_code_echoed is True


def test_a_masked_server_frame_makes_the_client_fail_with_1002(origin):
    async def session():
        async with websockets.connect(ws_url(origin, "/ws/masked-frame")) as ws:
            with pytest.raises(ConnectionClosedError) as closed:
                await ws.recv()
            return closed.value.sent.code

    assert run(session()) == 1002
    ws = last_entry(origin, "/ws/masked-frame").websocket
    assert ws.frames[0].masked is True and ws.close_received == 1002


def test_a_ping_between_fragments_is_answered_and_the_message_assembled(origin):
    async def session():
        async with websockets.connect(ws_url(origin, "/ws/ping-between-fragments")) as ws:
            return await ws.recv()

    assert run(session()) == "Hello, world"
    ws = last_entry(origin, "/ws/ping-between-fragments").websocket
    assert ws.facts.answered_pings.sent == 1 and ws.facts.answered_pings.answered == 1


def test_pings_every_interval_are_answered_with_delays_journaled(origin):
    async def session():
        async with websockets.connect(ws_url(origin, "/ws/ping?count=3&every=100ms")) as ws:
            with pytest.raises(websockets.ConnectionClosedOK):
                await ws.recv()

    run(session())
    pings = last_entry(origin, "/ws/ping").websocket.facts.answered_pings
    assert pings.sent == 3 and pings.answered == 3 and 0 <= pings.max_delay < 0.5


def test_a_header_split_across_writes_is_reassembled(origin):
    async def session():
        async with websockets.connect(ws_url(origin, "/ws/split-header")) as ws:
            return await ws.recv()

    assert run(session()) == "hello"


def test_a_tcp_drop_is_1006_for_the_client(origin):
    async def session():
        async with websockets.connect(ws_url(origin, "/ws/drop")) as ws:
            first = await ws.recv()
            with pytest.raises(ConnectionClosedError) as closed:
                await ws.recv()
            return first, closed.value.rcvd

    first, received = run(session())
    assert first == "goodbye" and received is None  # no close frame: 1006 on the client side


def test_a_server_that_ignores_close_leaves_the_client_to_time_out(origin):
    async def session():
        ws = await websockets.connect(ws_url(origin, "/ws/ignore-close"), close_timeout=0.3)
        started = asyncio.get_running_loop().time()
        await ws.close()
        return asyncio.get_running_loop().time() - started

    assert 0.25 <= run(session()) < 3
    ws = last_entry(origin, "/ws/ignore-close").websocket
    assert ws.close_received == 1000 and ws.close_sent is None


def node_ws(*args: str) -> dict:
    node = require_program("node")
    if not (ROOT / "tests" / "node" / "node_modules" / "ws").exists():
        if IN_CI:
            pytest.fail("tests/node/node_modules/ws is missing: .ci/run installs it with npm ci")
        pytest.skip("the ws package is not installed (npm ci --prefix tests/node)")
    result = subprocess.run([node, str(ROOT / "tests" / "node" / "ws_client.js"), *args], capture_output=True, text=True, timeout=30)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_node_ws_echo(origin):
    seen = node_ws(ws_url(origin, "/ws/echo"), "one", "two")
    assert seen["open"] and seen["received"] == ["one", "two"] and seen["closeCode"] == 1000


def test_node_ws_refuses_the_wrong_accept(origin):
    seen = node_ws(ws_url(origin, "/ws/wrong-accept"))
    assert not seen["open"] and "Sec-WebSocket-Accept" in seen["error"]


def test_node_ws_answers_pings(origin):
    seen = node_ws(ws_url(origin, "/ws/ping?count=2&every=50ms"))
    assert seen["pings"] == 2 and seen["closeCode"] == 1000


def test_after_a_large_message_and_a_close_in_one_write_tcp_closes_at_once(origin):
    """RFC 6455 §7.1.1: once the closing handshake is done the server closes TCP first. A
    256 KiB echo fills Twisted's buffer (our producer is paused) and a half-close then waited
    for the 2 s linger timer (#10 defect 12)."""
    import base64
    import os
    import socket
    import struct
    import time

    key = base64.b64encode(os.urandom(16))
    with socket.create_connection((origin.host, origin.port), timeout=5) as sock:
        sock.sendall(b"GET /ws/echo?big=1 HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + b"\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        assert head.startswith(b"HTTP/1.1 101 ")
        payload, mask = b"x" * (256 * 1024), b"\x01\x02\x03\x04"
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        close = struct.pack("!H", 1000)
        frames = struct.pack("!BBQ", 0x81, 0x80 | 127, len(payload)) + mask + masked
        frames += struct.pack("!BB", 0x88, 0x80 | len(close)) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(close))
        started = time.monotonic()
        sock.sendall(frames)
        received = bytearray(head.partition(b"\r\n\r\n")[2])
        while True:
            data = sock.recv(65536)
            if not data:
                break
            received += data
        took = time.monotonic() - started
    assert len(received) == 10 + len(payload) + 4  # the echo, then the close reply
    assert received[-4:] == b"\x88\x02" + close
    assert took < 1.0, f"the server's FIN came {took:.2f} s after the close handshake"
