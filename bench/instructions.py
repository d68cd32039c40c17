"""Instructions per keep-alive request, counted by callgrind: a figure the neighbours cannot move.

Usage: python -m bench.instructions [--requests N] [KIND ...]
KIND: mockorigin (journal ring), journal-off, journal-file, bare, bare-now (default: all).

Wall-clock figures on a machine shared with other work swing by half; a count of the
server's own instructions for the same requests does not. Each server runs under
``valgrind --tool=callgrind`` with instrumentation off; after a warm-up,
``callgrind_control`` turns it on, one connection sends N keep-alive GETs for /plain,
one after the other (each answered before the next is sent, so every request is a
turn of the reactor of its own, with its epoll and recv), and the count is dumped.
The kernel's share of a request (its system calls) is not in the figure.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.__main__ import HOST, server

KINDS = ("bare", "bare-now", "journal-off", "mockorigin", "journal-file")
REQUEST = b"GET /plain HTTP/1.1\r\nHost: bench\r\n\r\n"


def _exchange(connection: socket.socket, count: int) -> None:
    pending = b""
    for _ in range(count):
        connection.sendall(REQUEST)
        while True:
            end = pending.find(b"\r\n\r\n")
            if end >= 0:
                length = int(re.search(rb"(?i)content-length:\s*(\d+)", pending[:end]).group(1))
                if len(pending) >= end + 4 + length:
                    pending = pending[end + 4 + length :]
                    break
            data = connection.recv(65536)
            if not data:
                raise RuntimeError("the server closed the connection")
            pending += data


def _control(pid: int, *args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, capture_output=True, timeout=60)


def per_request(kind: str, requests: int, warm_up: int = 300) -> float:
    """The server's instructions per request (user space: Python, Twisted, mockorigin)."""
    folder = Path(tempfile.mkdtemp(prefix="mockorigin-callgrind-"))
    out = folder / "callgrind.out"
    wrapper = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}.%p"]
    try:
        with server(kind, wrapper, start_within=300) as (port, pid):
            with socket.create_connection((HOST, port)) as connection:
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                _exchange(connection, warm_up)
                _control(pid, "--instr=on")
                _exchange(connection, requests)
                _control(pid, "--dump=measured")
                _control(pid, "--instr=off")
        dumps = [path for path in folder.iterdir() if path.read_text(errors="replace").find("measured") >= 0]
        text = dumps[0].read_text(errors="replace")
        total = int(re.search(r"^(?:summary|totals):\s*(\d+)", text, re.M).group(1))
        return total / requests
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("kinds", nargs="*", default=list(KINDS))
    options = parser.parse_args(argv)
    if not shutil.which("valgrind"):
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 1
    results = {kind: per_request(kind, options.requests) for kind in options.kinds}
    for kind, count in results.items():
        print(f"{kind:14} {count:10,.0f} instructions per request")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
