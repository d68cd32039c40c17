"""Shared test helpers: protocol harnesses on StringTransport + Clock, real server processes,
markers to find one test's requests, and the programs the end-to-end tests need
(the fixtures built on them are in conftest.py)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from mockorigin.http1 import OriginFactory, OriginProtocol
from mockorigin.interpreter.request import Request


ROOT = Path(__file__).resolve().parent.parent


CATALOGUE = ROOT / "behaviours"


IN_CI = os.environ.get("CI", "").lower() == "true"


def require_program(name: str) -> str:
    """The program's path; skip without it, except in CI where it must be there."""
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} is required in CI (.ci/run installs it)")
        pytest.skip(f"{name} is not installed")
    return path


class HalfClosingTransport(StringTransport):
    """A StringTransport that, like TCP, can send FIN while still reading."""

    write_closed = False

    def loseWriteConnection(self):
        self.write_closed = True


@dataclass
class Harness:
    """One connection to an in-memory server, with a fake clock."""

    protocol: OriginProtocol
    transport: StringTransport
    clock: Clock
    factory: OriginFactory

    def send(self, data: bytes, byte_by_byte: bool = False) -> None:
        if byte_by_byte:
            for index in range(len(data)):
                self.protocol.dataReceived(data[index : index + 1])
        else:
            self.protocol.dataReceived(data)

    carry: bytes = b""

    def take(self) -> bytes:
        """What the server wrote since the last call."""
        value = self.carry + self.transport.value()
        self.carry = b""
        self.transport.clear()
        return value

    def take_head(self) -> bytes:
        """The next response head; what follows it stays for the next ``take()``."""
        head, _, self.carry = self.take().partition(b"\r\n\r\n")
        return head + b"\r\n\r\n"

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @property
    def journal(self) -> list[dict]:
        return list(self.factory.journal.entries)

    def lose(self, reason=None) -> None:
        from twisted.internet.error import ConnectionDone
        from twisted.python.failure import Failure

        self.protocol.connectionLost(reason or Failure(ConnectionDone()))


def connect(factory: OriginFactory, clock: Clock, transport: StringTransport | None = None) -> Harness:
    protocol = factory.buildProtocol(None)
    transport = transport if transport is not None else StringTransport()
    protocol.makeConnection(transport)
    return Harness(protocol, transport, clock, factory)


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    host: str
    port: int
    log_path: Path
    admin: str | None = None

    def control(self, token: str | None = None):
        from mockorigin import Control

        return Control(self.admin, token)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 10.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


def start_server(tmp_path: Path, *args: str, timeout: float = 10.0, env: dict | None = None) -> Server:
    tmp_path.mkdir(parents=True, exist_ok=True)
    ready = tmp_path / "ready.json"
    log_path = tmp_path / "server.log"
    command = [sys.executable, "-m", "mockorigin", "serve", "--listen", "tcp:0:interface=127.0.0.1", "--ready-file", str(ready), *args]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise RuntimeError(f"server did not start: {log_path.read_text(errors='replace')}")
        time.sleep(0.01)
    info = json.loads(ready.read_text())
    url = info["urls"][0].rstrip("/")
    host, port = url.split("//")[1].rsplit(":", 1)
    return Server(process, url, host, int(port), log_path, info.get("admin"))


class Hammer:
    """Requests ``path`` over one keep-alive connection from a thread until stopped (bounded)."""

    def __init__(self, server: Server, path: str, limit: int = 20_000, pause: float = 0.0):
        import threading

        self.server, self.path, self.limit, self.pause = server, path, limit, pause
        self.seen: list[tuple[int, bytes]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        import urllib3

        pool = urllib3.HTTPConnectionPool(self.server.host, self.server.port, maxsize=1, retries=False, timeout=5)
        for _ in range(self.limit):
            if self._stop.is_set():
                break
            response = pool.request("GET", self.path)
            self.seen.append((response.status, response.data))
            if self.pause:
                time.sleep(self.pause)
        pool.close()

    def __enter__(self) -> Hammer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def marker() -> str:
    """A unique token to find one test's requests in a shared server's journal."""
    return uuid.uuid4().hex[:12]


def journal_entry(server, mark: str, timeout: float = 5.0) -> dict:
    """The journal line for the request whose target carries ``mark``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in server.journal_path.read_text().splitlines():
            entry = json.loads(line)
            if entry["request"] and mark in entry["request"]["target"]:
                return entry
        time.sleep(0.02)
    raise AssertionError(f"no journal entry for {mark}")


def make_request(method="GET", version="1.1", headers=(), target="/x") -> Request:
    """A ``Request`` as the HTTP/1.1 head parser would build it, for interpreter tests."""
    request = Request(method, target, version, list(headers))
    request.connection = ", ".join(value for name, value in headers if name.lower() == "connection")
    request.path, _, query = target.partition("?")
    request.query = parse_qs(query)
    return request
