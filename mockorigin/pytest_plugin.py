"""pytest plugin: ``mock_origin``, a handle on a server the session starts once.

The server runs in a subprocess, so blocking clients (requests, urllib3, httpx,
a curl subprocess) work from ordinary tests. Each test starts from an empty
journal and the configured behaviours; ``use()`` or the ``mock_origin`` marker
changes the set for one test. A request nothing matched, or a script that
failed, fails the test that caused it.

For tests written with pytest-twisted, ``mock_origin_twisted`` is the same
handle on an in-process server on the running reactor; its ``wait_for`` returns
a Deferred. This plugin never installs a reactor: that fixture imports the one
pytest-twisted has already installed.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mockorigin.control import Control, Entry, _namespace

START_TIMEOUT = 15.0
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class MockOriginError(Exception):
    """The server could not start, or was told something it refused."""


def pytest_addoption(parser):
    parser.addini(
        "mock_origin_behaviours",
        "behaviour files or folders the mock_origin server starts with (default: the built-in catalogue)",
        type="paths",
        default=[],
    )


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "mock_origin(*items): serve only these for the test: catalogue names, YAML files or folders, or YAML text"
    )


# --- overridable configuration ---------------------------------------------------


@pytest.fixture(scope="session")
def mock_origin_listen() -> str:
    """The endpoint the session's server listens on; override to pin a port."""
    return "tcp:0:interface=127.0.0.1"


@pytest.fixture(scope="session")
def mock_origin_behaviours(pytestconfig) -> list[str]:
    """Behaviour files or folders for the session (default: the ini option, else the catalogue)."""
    return [str(p) for p in pytestconfig.getini("mock_origin_behaviours")]


# --- the server ------------------------------------------------------------------


class ServerProcess:
    def __init__(self, process: subprocess.Popen, ready: dict, log_path: Path):
        self.process = process
        self.url = ready["urls"][0].rstrip("/")
        self.host, port = self.url.split("//", 1)[1].rsplit(":", 1)
        self.host = self.host.strip("[]")
        self.port = int(port)
        self.control = Control(ready["admin"])
        self.log_path = log_path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server_process(listen: str, behaviours: list[str], folder: Path) -> ServerProcess:
    """Start ``mockorigin serve`` and wait for its ready file; the error names what went wrong."""
    ready = folder / "ready.json"
    log_path = folder / "server.log"
    command = [sys.executable, "-m", "mockorigin", "serve", "--quiet", "--listen", listen, "--ready-file", str(ready), *behaviours]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + START_TIMEOUT
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                process.kill()
            process.wait()
            raise MockOriginError("the mock origin server did not start:\n" + log_path.read_text(errors="replace").strip())
        time.sleep(0.005)
    return ServerProcess(process, json.loads(ready.read_text()), log_path)


@pytest.fixture(scope="session")
def mock_origin_server(mock_origin_listen, mock_origin_behaviours, tmp_path_factory):
    server = start_server_process(mock_origin_listen, mock_origin_behaviours, tmp_path_factory.mktemp("mock-origin"))
    yield server
    server.stop()


# --- the handle --------------------------------------------------------------------


class MockOrigin:
    """What a test holds: where the server is, what it serves, and what the client did."""

    def __init__(self, server: ServerProcess, base: Path | None = None):
        self.server = server
        self.control = server.control
        self.host, self.port = server.host, server.port
        self._base = base
        self._changed = False
        self.problems_allowed = False

    def url(self, path: str = "/") -> str:
        return self.server.url + (path if path.startswith("/") else "/" + path)

    def use(self, *items: str | os.PathLike) -> None:
        """Serve only these: catalogue (or configured) behaviour names, YAML files or folders, or YAML text."""
        names, files = [], []
        for number, item in enumerate(items, 1):
            kind, value = self._classify(item, number)
            if kind == "name":
                names.append(value)
            else:
                files += value
        try:
            self.control.compose(select=names, files=files)
        except Exception as error:  # ControlError: say which file and line
            raise MockOriginError(str(error)) from None
        self._changed = True

    def _classify(self, item, number: int) -> tuple[str, object]:
        """("name", name), or ("files", [(file name, YAML text)]) for a path or inline YAML."""
        text = os.fspath(item)
        if isinstance(item, str) and ("\n" in text or ": " in text):
            return "files", [(f"inline-{number}.yaml", text)]  # errors say inline-2.yaml:3:5
        path = self._find(text)
        if path is not None:
            targets = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")) if path.is_dir() else [path]
            return "files", [(str(p), p.read_text(encoding="utf-8")) for p in targets]
        if isinstance(item, str) and _NAME.fullmatch(text) and not text.endswith((".yaml", ".yml")):
            return "name", text
        raise MockOriginError(f"use({text!r}): no such file or folder, and not a behaviour name or YAML text")

    def _find(self, text: str) -> Path | None:
        for base in (self._base, Path.cwd()):
            if base is not None and (base / text).exists():
                return base / text
        return None

    def journal(self, behaviour: str | None = None) -> list[Entry]:
        return self.control.journal(behaviour)

    def wait_for(self, count: int, timeout: float = 5.0, behaviour: str | None = None) -> list[Entry]:
        return self.control.wait_for(count, timeout, behaviour)

    def reset(self) -> None:
        """An empty journal and fresh sequences, keeping the set."""
        self.control.reset()

    def allow_problems(self) -> None:
        """Do not fail this test for unmatched requests or failed scripts (for tests that expect them)."""
        self.problems_allowed = True

    def _begin(self) -> None:
        if self._changed:
            self.control.restore()
            self._changed = False
        self.control.reset()
        self.problems_allowed = False

    def problems(self) -> list[str]:
        found = []
        for entry in self.journal():
            for problem in entry.problems:
                request = f"{entry.request.method} {entry.request.target}" if entry.request else "(no request)"
                found.append(f"{request}: {problem}")
        return found


@pytest.fixture(scope="session")
def _mock_origin_handle(mock_origin_server):
    return MockOrigin(mock_origin_server)


@pytest.fixture
def mock_origin(_mock_origin_handle, request) -> MockOrigin:
    """A handle on the session's server, reset for this test."""
    handle = _mock_origin_handle
    handle._base = Path(request.node.path).parent if getattr(request.node, "path", None) else None
    handle._begin()
    marker = request.node.get_closest_marker("mock_origin")
    if marker is not None:
        handle.use(*marker.args)
    return handle


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield  # the test's own failure, if any, propagates first
    handle = getattr(item, "funcargs", {}).get("mock_origin")
    if isinstance(handle, MockOrigin) and not handle.problems_allowed:
        problems = handle.problems()
        if problems:
            raise AssertionError("the mock origin saw problems:\n  " + "\n  ".join(problems))
    return result


# --- pytest-twisted: in process, on the running reactor ---------------------------


class TwistedMockOrigin:
    """The same handle for pytest-twisted tests; ``wait_for`` returns a Deferred."""

    def __init__(self, service, paths: list[str]):
        self.service = service
        self.paths = paths
        address = service.ports[0].getHost()
        self.host, self.port = address.host, address.port

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}" + (path if path.startswith("/") else "/" + path)

    def use(self, *texts_or_paths: str) -> None:
        from mockorigin.loader import load_paths, load_text

        behaviours = []
        for item in texts_or_paths:
            behaviours += load_text(item, "<use() text>") if "\n" in item or ": " in item else load_paths([item])
        self.service.factory.state.replace(behaviours)

    def journal(self, behaviour: str | None = None) -> list[Entry]:
        return _namespace(self.service.factory.journal.select(behaviour))

    def wait_for(self, count: int, timeout: float = 5.0, behaviour: str | None = None):
        from twisted.internet import defer

        journal = self.service.factory.journal
        done: defer.Deferred = defer.Deferred()

        def check(_entry=None):
            entries = journal.select(behaviour)
            if len(entries) >= count and not done.called:
                journal.listeners.remove(check)
                done.callback(_namespace(entries))

        journal.listeners.append(check)
        check()
        if not done.called:
            done.addTimeout(timeout, self.service.reactor, onTimeoutCancel=lambda *_: _timeout(journal, check, count, timeout))
        return done

    def reset(self) -> None:
        self.service.factory.journal.clear()
        self.service.factory.state.reset_sequences()


def _timeout(journal, check, count, timeout):
    if check in journal.listeners:
        journal.listeners.remove(check)
    raise TimeoutError(f"expected {count} journal entries within {timeout}s, got {len(journal.entries)}")


def _twisted_fixture():
    try:
        import pytest_twisted
    except ImportError:  # pragma: no cover - pytest-twisted is a dependency
        return None

    @pytest_twisted.async_yield_fixture
    async def mock_origin_twisted(mock_origin_behaviours):
        """An in-process mock origin on pytest-twisted's reactor."""
        from twisted.internet import reactor

        from mockorigin.cli import catalogue_path
        from mockorigin.journal import Journal
        from mockorigin.loader import load_paths
        from mockorigin.service import OriginService
        from mockorigin.interpreter.state import ServerState

        paths = mock_origin_behaviours or [catalogue_path()]
        service = OriginService(reactor, ServerState(load_paths(paths)), ["tcp:0:interface=127.0.0.1"], Journal(), admin=None, paths=paths)
        await service.start_listening()
        try:
            yield TwistedMockOrigin(service, paths)
        finally:
            await service.stop_listening()
            await service.drain()

    return mock_origin_twisted


mock_origin_twisted = _twisted_fixture()
