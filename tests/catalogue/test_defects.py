"""Defects in mockorigin/ that the catalogue work found, fixed since; each test states the
right behaviour over raw sockets, so that it stays fixed.
Raw sockets, so that the bytes and their order are exactly the ones that show the defect.
"""

from __future__ import annotations

import socket
import time

import pytest

pytestmark = pytest.mark.e2e

WS_HANDSHAKE = (
    "GET {path} HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
MASKED_HELLO = bytes([0x81, 0x85, 0x11, 0x22, 0x33, 0x44]) + bytes(b ^ (0x11, 0x22, 0x33, 0x44)[i % 4] for i, b in enumerate(b"hello"))


def read_all(sock: socket.socket, seconds: float) -> bytes:
    """Everything the server sends within ``seconds`` (or until it closes)."""
    sock.settimeout(0.05)
    data, deadline = b"", time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return data + b"<RST>"
        if not chunk:
            break
        data += chunk
    return data


def test_a_split_frame_header_is_not_overtaken_by_the_echo(catalogue_server):
    """/ws/split-header: 81, then 100 ms later 05 'hello', then an echo. A client that sends
    a message during those 100 ms must get the scripted bytes first, then its echo."""
    with socket.create_connection((catalogue_server.host, catalogue_server.port), timeout=5) as sock:
        sock.sendall(WS_HANDSHAKE.format(path="/ws/split-header").encode())
        sock.sendall(MASKED_HELLO)
        data = read_all(sock, 0.6)
    after_head = data.partition(b"\r\n\r\n")[2]
    assert after_head == b"\x81\x05hello" + b"\x81\x05hello"  # today: 81 | 81 05 hello | 05 hello


def test_a_body_in_the_same_read_as_the_head_does_not_lose_the_417(catalogue_server):
    """/continue/reject/keep-alive with the body sent along with the head (as http.client does):
    the 417 must reach the client, and the connection stay usable."""
    with socket.create_connection((catalogue_server.host, catalogue_server.port), timeout=5) as sock:
        sock.sendall(b"POST /continue/reject/keep-alive HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello")
        data = read_all(sock, 0.5)
    assert data.startswith(b"HTTP/1.1 417 ")  # today: the connection closes with nothing sent


def test_reset_on_reuse_waits_for_the_clients_next_bytes(catalogue_server):
    """/reset/on-reuse: respond, then hang until the client sends something, then reset. A
    client that stays silent must keep a quiet, open connection; today the RST follows the
    response at once (so does the close of /framing/chunked-and-content-length's linger)."""
    with socket.create_connection((catalogue_server.host, catalogue_server.port), timeout=5) as sock:
        sock.sendall(b"GET /reset/on-reuse?m=defect-reuse HTTP/1.1\r\nHost: a\r\n\r\n")
        data = read_all(sock, 0.3)
    assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"is reset\n")  # today: <RST> right after the 200
