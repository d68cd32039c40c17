"""pytest plugin: ``mock_origin``, a handle on a server the session starts once.

The server runs in a subprocess, so blocking clients (requests, urllib3, httpx,
a curl subprocess) work from ordinary tests. Each test starts from an empty
journal and the configured behaviours; ``use()`` or the ``mock_origin`` marker
changes the set for one test (names, files, folders, YAML text or dicts; a
problem is reported at the test's own line). A request nothing matched, or a
script that failed, fails the test that caused it, and a failed test's report
has a section with every exchange the server saw.

For tests written with pytest-twisted, ``mock_origin_twisted`` is the same
handle on an in-process server on the running reactor; its ``wait_for`` returns
a Deferred. This plugin never installs a reactor: that fixture imports the one
pytest-twisted has already installed.

The handles live in ``fixtures.handles`` (checks in ``fixtures.verify``), the report
text in ``fixtures.report``, and places in the test's source in ``fixtures.sources``.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mockorigin.observe.control import Control
from mockorigin.fixtures.handles import Handle, MockOrigin, MockOriginError, TwistedMockOrigin
from mockorigin.fixtures.sources import marker_site

START_TIMEOUT = 15.0
HANDLES = pytest.StashKey[list]()  # the handles a test holds: checked and reported when it ends


def pytest_addoption(parser):
    parser.addini(
        "mock_origin_behaviours",
        "behaviour files or folders the mock_origin server starts with (default: the built-in catalogue)",
        type="paths",
        default=[],
    )


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "mock_origin(*items): serve only these for the test: catalogue names, YAML files or folders, YAML text, or dicts"
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
        self.ca: str | None = ready.get("ca")  # the CA of a TLS listener's generated certificate
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
    try:
        server = start_server_process(mock_origin_listen, mock_origin_behaviours, tmp_path_factory.mktemp("mock-origin"))
    except MockOriginError as error:
        refused = str(error)
    else:
        yield server
        server.stop()
        return
    pytest.fail(refused, pytrace=False)  # what the server said is the whole story: no plugin frames


# --- the handles, per test --------------------------------------------------------


@pytest.fixture(scope="session")
def _mock_origin_handle(mock_origin_server):
    return MockOrigin(mock_origin_server)


def _test_folder(request) -> Path | None:
    path = getattr(request.node, "path", None)
    return Path(path).parent if path else None


def _hold(request, handle: Handle) -> None:
    """Register the handle on the test, then serve what its ``mock_origin`` marker names."""
    __tracebackhide__ = True
    request.node.stash.setdefault(HANDLES, []).append(handle)
    found = next(request.node.iter_markers_with_node("mock_origin"), None)
    if found is None:
        return
    owner_node, marker = found
    owner = getattr(owner_node, "obj", None)
    file, line = str(getattr(request.node, "path", "") or "") or None, (request.node.location[1] or 0) + 1
    try:
        handle.use_from(marker_site(owner, file, line, marker.args), marker.args)
    except MockOriginError as error:
        refused = str(error)
    else:
        return
    pytest.fail(f"@pytest.mark.mock_origin: {refused}", pytrace=False)  # outside the except: no chained traceback


@pytest.fixture
def mock_origin(_mock_origin_handle, request) -> MockOrigin:
    """A handle on the session's server, reset for this test."""
    handle = _mock_origin_handle
    handle._base = _test_folder(request)
    handle._begin()
    _hold(request, handle)
    return handle


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A request nothing matched, or a script that failed, fails the test that caused it
    (unless the test failed already, or said it expects them)."""
    result = yield
    for handle in item.stash.get(HANDLES, ()):
        if not handle.problems_allowed:
            problems = handle.problems_at_end()
            if problems:
                pytest.fail("the mock origin saw problems:\n  " + "\n  ".join(problems), pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report shows what the server saw."""
    report = yield
    if report.when == "call" and report.failed:
        for handle in item.stash.get(HANDLES, ()):
            try:
                text = handle.report_section()
            except Exception as error:  # the server went away: say so rather than hide the test's failure
                text = f"(the journal could not be read: {error})"
            report.sections.append((handle.section_title, text))
    return report


# --- pytest-twisted: in process, on the running reactor ---------------------------


_catalogue_set: list = []  # the built-in catalogue, loaded once: it does not change under a session


@pytest.fixture
def _mock_origin_twisted_set(mock_origin_behaviours) -> tuple[list[str], tuple]:
    """The behaviour paths and the set loaded from them (per test: ``mock_origin_behaviours``
    may be overridden at any scope, and a project's files may change between tests)."""
    from mockorigin.format.loader import catalogue_path
    from mockorigin.format.loader import LoadError, load_paths

    if not mock_origin_behaviours:
        if not _catalogue_set:
            _catalogue_set.append(load_paths([catalogue_path()]))
        return [catalogue_path()], _catalogue_set[0]
    try:
        return list(mock_origin_behaviours), load_paths(mock_origin_behaviours)
    except LoadError as error:
        refused = str(error)
    pytest.fail(f"the mock origin behaviours did not load:\n{refused}", pytrace=False)


def _twisted_server_fixture():
    """The listening service, alone in the async fixture: pytest-twisted cannot recover from an
    async fixture that fails before it yields, so whatever may refuse (loading, the marker) runs
    in the plain fixtures around it."""
    try:
        import pytest_twisted
    except ImportError:  # pragma: no cover - pytest-twisted is a dependency
        return None

    @pytest_twisted.async_yield_fixture
    async def _mock_origin_twisted_service(_mock_origin_twisted_set):
        from twisted.internet import reactor

        from mockorigin.observe.journal import Journal
        from mockorigin.serve.service import OriginService
        from mockorigin.interpreter.state import ServerState

        paths, behaviours = _mock_origin_twisted_set
        service = OriginService(reactor, ServerState(behaviours), ["tcp:0:interface=127.0.0.1"], Journal(), admin=None, paths=paths)
        await service.start_listening()
        try:
            yield service
        finally:
            await service.stop_listening()
            await service.drain()

    return _mock_origin_twisted_service


_mock_origin_twisted_service = _twisted_server_fixture()


@pytest.fixture
def mock_origin_twisted(_mock_origin_twisted_service, request) -> TwistedMockOrigin:
    """An in-process mock origin on pytest-twisted's reactor, serving the marker's set if any."""
    handle = TwistedMockOrigin(_mock_origin_twisted_service, _mock_origin_twisted_service.paths, _test_folder(request))
    _hold(request, handle)
    return handle


__all__ = ["MockOrigin", "MockOriginError", "ServerProcess", "TwistedMockOrigin", "start_server_process"]
