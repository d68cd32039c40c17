"""Shared helpers: protocol harnesses on StringTransport + Clock, and a real server process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from mockorigin.observe.journal import Journal
from mockorigin.limits import ConnectionLimits
from mockorigin.format.loader import load_text
from mockorigin.http1 import OriginFactory, OriginProtocol
from mockorigin.interpreter.state import ServerState

pytest_plugins = ["pytester"]

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


@pytest.fixture
def harness():
    """``harness(yaml_text or behaviours, transport=None, **limits)`` -> a connected Harness."""

    def make(source, transport: StringTransport | None = None, **limits) -> Harness:
        behaviours = load_text(source) if isinstance(source, str) else source
        clock = Clock()
        clock.advance(1_700_000_000)  # a plausible wall-clock time for Date headers
        factory = OriginFactory(ServerState(behaviours), clock, Journal(), ConnectionLimits(**limits))
        return connect(factory, clock, transport)

    return make


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


@pytest.fixture(scope="module")
def catalogue_server(tmp_path_factory):
    """The built-in catalogue, served by a real process on a free loopback port."""
    folder = tmp_path_factory.mktemp("catalogue")
    server = start_server(folder, "--journal", str(folder / "journal.jsonl"))
    server.journal_path = folder / "journal.jsonl"  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture
def busy_port():
    """A loopback port something else is listening on (closed after the test, whatever happens)."""
    import socket

    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        yield blocker.getsockname()[1]


@pytest.fixture(scope="module")
def origin(catalogue_server):
    """The catalogue server, by the name the client-behaviour tests use."""
    return catalogue_server


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


@pytest.fixture
def server(tmp_path):
    """``server(*serve_args)`` -> a real server process, stopped after the test."""
    started: list[Server] = []

    def make(*args: str, env: dict | None = None) -> Server:
        started.append(start_server(tmp_path / f"server{len(started)}", *args, env=env))
        return started[-1]

    yield make
    for each in started:
        if each.process.poll() is None:
            each.process.kill()
            each.process.wait()
