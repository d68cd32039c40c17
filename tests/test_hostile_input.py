"""Requests a hostile client sends (issue #10): each gets its 4xx and a close, and the
server goes on serving; on StringTransport + Clock, bytes fed whole and one at a time."""

from __future__ import annotations

import pytest

ECHO = """
match: {path: {prefix: /}}
script:
  - read_body: {}
  - respond: {status: 200, body: "served ${request.target}"}
"""


@pytest.mark.parametrize("byte_by_byte", [False, True])
@pytest.mark.parametrize("target", [b"http://[/echo", b"http://]/echo", b"http://[::1/echo"])
def test_an_unreadable_absolute_form_target_is_a_400_not_a_crash(harness, target, byte_by_byte):
    h = harness(ECHO)
    h.send(b"GET " + target + b" HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n", byte_by_byte)
    response = h.take()
    assert response.startswith(b"HTTP/1.1 400 Bad Request\r\n") and b"Connection: close\r\n" in response
    assert b"served" not in response  # the pipelined request is not served
    assert h.transport.disconnecting
    h.lose()
    entry = h.journal[0]
    assert entry["final"]["status"] == 400 and entry["ended"]["by"] == "server"
    assert any("invalid request target" in p for p in entry["problems"])


@pytest.mark.parametrize("byte_by_byte", [False, True])
@pytest.mark.parametrize("host", [b"a b", b"a@b", b"a/b", b"[::1", b"h:8x"])
def test_an_invalid_host_is_a_400_and_what_follows_is_not_served(harness, host, byte_by_byte):
    h = harness(ECHO)
    h.send(b"GET /x HTTP/1.1\r\nHost: " + host + b"\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n", byte_by_byte)
    response = h.take()
    assert response.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"invalid Host header" in response and b"served" not in response
    assert h.transport.disconnecting


@pytest.mark.parametrize("host", [b"example.test", b"example.test:8080", b"[::1]:80", b"127.0.0.1", b"xn--caf-dma.example", b"h:"])
def test_valid_hosts_are_served(harness, host):
    h = harness(ECHO)
    h.send(b"GET /x HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
    assert h.take().endswith(b"served /x")
