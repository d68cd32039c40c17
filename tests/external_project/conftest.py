"""A user's project: two small HTTP clients, one blocking, one on Twisted, that speak raw
HTTP/1.1 where a test needs control of the wire (holding a body back for the 100).

Nothing here comes from the mockorigin checkout: only the installed package (its pytest
plugin is found through its entry point).
"""

from __future__ import annotations

import re
import socket

import pytest
import urllib3

STATUS_LINE = re.compile(rb"^HTTP/1\.[01] (\d{3}) ", re.MULTILINE)


def final_status(reply: bytes) -> int:
    """The status of the final response (1xx responses skipped); 0 if there is none."""
    return next((int(s) for s in STATUS_LINE.findall(reply) if not s.startswith(b"1")), 0)


def post_head(handle, path: str, length: int) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: {handle.host}:{handle.port}\r\nExpect: 100-continue\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode()


class BlockingClient:
    def get(self, handle, path: str) -> int:
        return urllib3.request("GET", handle.url(path), retries=False, redirect=False, timeout=5).status

    def post_after_100(self, handle, path: str, body: bytes) -> int:
        """Send the head, hold the body back until a 100 Continue arrives, then send it."""
        with socket.create_connection((handle.host, handle.port), timeout=5) as connection:
            connection.sendall(post_head(handle, path, len(body)))
            reply = b""
            while not (reply.startswith(b"HTTP/1.1 100") and b"\r\n\r\n" in reply):
                chunk = connection.recv(4096)
                assert chunk, f"the server closed before a 100: {reply!r}"
                reply += chunk
            connection.sendall(body)
            while chunk := connection.recv(4096):
                reply += chunk
        return final_status(reply)


class _Raw:
    """One request on its own connection; the reply is whatever came until the server closed."""

    def __init__(self, head: bytes, body_after_100: bytes | None = None):
        from twisted.internet import defer
        from twisted.internet.protocol import Protocol

        outer = self

        class Exchange(Protocol):
            def connectionMade(self):
                self.transport.write(head)

            def dataReceived(self, data):
                outer.reply += data
                if outer.body is not None and outer.reply.startswith(b"HTTP/1.1 100") and b"\r\n\r\n" in outer.reply:
                    self.transport.write(outer.body)
                    outer.body = None

            def connectionLost(self, reason):
                outer.done.callback(outer.reply)

        self.protocol = Exchange()
        self.body = body_after_100
        self.reply = b""
        self.done = defer.Deferred()


class TwistedClient:
    """The same requests on the running reactor; every method returns a Deferred."""

    def _run(self, handle, head: bytes, body_after_100: bytes | None = None):
        from twisted.internet import reactor
        from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol

        raw = _Raw(head, body_after_100)
        connected = connectProtocol(TCP4ClientEndpoint(reactor, handle.host, handle.port, timeout=5), raw.protocol)
        return connected.addCallback(lambda _: raw.done).addCallback(final_status)

    def get(self, handle, path: str):
        return self._run(handle, f"GET {path} HTTP/1.1\r\nHost: {handle.host}:{handle.port}\r\nConnection: close\r\n\r\n".encode())

    def post_after_100(self, handle, path: str, body: bytes):
        return self._run(handle, post_head(handle, path, len(body)), body)


@pytest.fixture
def blocking():
    return BlockingClient()


@pytest.fixture
def twisted_client():
    return TwistedClient()
