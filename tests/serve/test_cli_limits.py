"""The connection limits from the command line (#12 §2: they could not be set), on a real server."""

from __future__ import annotations

import socket
import time

import pytest

pytestmark = pytest.mark.e2e


def test_head_timeout_from_the_command_line(server):
    s = server("--head-timeout", "500ms")
    with socket.create_connection((s.host, s.port), timeout=5) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /echo HTTP/1.1\r\nHost: a\r\n")  # never finished
        answer = sock.recv(4096)
        took = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 ") and 0.45 <= took < 1.5


def test_idle_timeout_from_the_command_line(server):
    s = server("--idle-timeout", "300ms")
    with socket.create_connection((s.host, s.port), timeout=5) as sock:
        sock.sendall(b"GET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
        data = b""
        started = None
        while chunk := sock.recv(4096):
            data += chunk
            started = started or time.monotonic()
        took = time.monotonic() - started
    assert data.startswith(b"HTTP/1.1 200 ") and 0.25 <= took < 1.5  # then the server closed the idle connection
    [closed] = [c for c in s.control().closed_connections() if c["requests"] == 1]
    assert closed["ended"]["by"] == "server" and "idle_timeout" in closed["ended"]["why"]


@pytest.mark.parametrize("args", [["--head-timeout", "0"], ["--body-min-rate", "fast"], ["--idle-timeout", "2h"]])
def test_bad_limits_are_usage_errors(args):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "mockorigin", "serve", *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and result.stderr.startswith("mockorigin: --") and "Traceback" not in result.stderr
