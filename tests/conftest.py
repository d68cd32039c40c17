"""Fixtures shared by every test folder (plain helpers are in tests/helpers.py)."""

from __future__ import annotations

import pytest
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from mockorigin.format.loader import load_text
from mockorigin.http1 import OriginFactory
from mockorigin.interpreter.state import ServerState
from mockorigin.limits import ConnectionLimits
from mockorigin.observe.journal import Journal
from tests.helpers import Harness, Server, connect, start_server

pytest_plugins = ["pytester"]


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


@pytest.fixture(scope="session", autouse=True)
def shape_cache_of_this_run(tmp_path_factory):
    """The cache of valid shapes (format/shapecache.py) lives in this run's temporary folder,
    for the servers the tests start too: no test reads or fills the user's own."""
    import os

    before = os.environ.get("MOCKORIGIN_CACHE_DIR")
    os.environ["MOCKORIGIN_CACHE_DIR"] = str(tmp_path_factory.mktemp("shape-cache"))
    yield
    if before is None:
        del os.environ["MOCKORIGIN_CACHE_DIR"]
    else:
        os.environ["MOCKORIGIN_CACHE_DIR"] = before
