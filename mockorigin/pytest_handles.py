"""What a test holds: ``mock_origin`` (a server in a subprocess) and ``mock_origin_twisted``
(a server on the test's own reactor), one handle API for both.

The shared part lives in ``Handle``: turning what ``use()`` and the marker are given
(names, files, folders, YAML text, dicts) into a set, locating its problems in the
test's source, and the problems that fail a test; the verification helpers come from
``pytest_verify``. Each subclass only says how to reach its server.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from pathlib import Path

from mockorigin import pytest_report as report
from mockorigin.control import ControlError, Entry, _namespace
from mockorigin.pytest_sources import Site, Written, caller_site, dict_text, located
from mockorigin.pytest_verify import Verifications

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
SETTLE_TIMEOUT = 0.5  # how long the end of a test waits for an unmatched request on a closing connection to be journaled


class MockOriginError(Exception):
    """The server could not start, or was told something it refused."""


class Handle(Verifications):
    """Where the server is, what it serves, what the client did, and checks on it."""

    section_title = report.SECTION_TITLE
    host: str
    port: int

    def __init__(self, base: Path | None = None):
        self._base = base  # the test file's folder: relative paths resolve there first
        self.problems_allowed = False

    def url(self, path: str = "/") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}" + (path if path.startswith("/") else "/" + path)

    # --- what to serve ------------------------------------------------------------

    def use(self, *items: str | os.PathLike | Mapping) -> None:
        """Serve only these, for this test: behaviour names from the set the server started with,
        YAML files or folders, YAML text, or dicts in the YAML format (validated the same way;
        problems are reported at the line of the test that wrote them)."""
        __tracebackhide__ = True
        self.use_from(caller_site(), items)

    def use_from(self, site: Site, items) -> None:
        """``use()`` with the place the items were written (a call, or a marker)."""
        __tracebackhide__ = True
        names: list[str] = []
        files: list[tuple[str, str, str | None]] = []  # (file name, YAML text, folder for body_file)
        written: dict[str, Written] = {}
        refused: list[str] = []
        for index, item in enumerate(items):
            number = index + 1
            if isinstance(item, Mapping):
                text, lines, bad = dict_text(item)
                entry = written[f"dict-{number}.yaml"] = Written(f"dict-{number}.yaml", text, site, index, len(items), lines)
                for path, why in bad:
                    place = entry.locate_path(path)
                    refused.append(f"{place}: {why}" + (f" ({place.hint})" if place.hint else ""))
                files.append((entry.name, text, None))
            elif isinstance(item, str) and ("\n" in item or ": " in item):
                written[f"inline-{number}.yaml"] = Written(f"inline-{number}.yaml", item, site, index, len(items))
                files.append((f"inline-{number}.yaml", item, None))
            elif isinstance(item, (str, os.PathLike)):
                kind, value = self._path_or_name(item)
                if kind == "name":
                    names.append(value)
                else:
                    files += value
            else:
                refused.append(f"{site.display()}:{site.line}:1: argument {number} is {type(item).__name__}: give a behaviour name, a path, YAML text or a dict")
        if refused:
            raise MockOriginError("invalid behaviours; the set was not changed\n" + "\n".join(refused))
        self._replace(names, files, written)

    def _path_or_name(self, item) -> tuple[str, object]:
        __tracebackhide__ = True
        text = os.fspath(item)
        path = self._find(text)
        if path is not None:
            targets = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")) if path.is_dir() else [path]
            return "files", [(str(p), p.read_text(encoding="utf-8"), str(p.parent)) for p in targets]
        if isinstance(item, str) and _NAME.fullmatch(text) and not text.endswith((".yaml", ".yml")):
            return "name", text
        raise MockOriginError(f"use({text!r}): no such file or folder, and not a behaviour name or YAML text")

    def _find(self, text: str) -> Path | None:
        for base in (self._base, Path.cwd()):
            if base is not None and (base / text).exists():
                return base / text
        return None

    def _replace(self, names: list[str], files: list, written: dict[str, Written]) -> None:
        raise NotImplementedError

    @staticmethod
    def _refusal(heading: str, problems: list[tuple[str, int, int, str]], written: dict[str, Written]) -> MockOriginError:
        lines = [located(file, line, column, message, written) for file, line, column, message in problems]
        return MockOriginError("\n".join([heading, *lines]))

    # --- what the client did --------------------------------------------------------

    def journal(self, behaviour: str | None = None) -> list[Entry]:
        raise NotImplementedError

    def _still_open(self) -> list[dict]:
        """Connections with an exchange in progress, in ``/connections``' shape."""
        raise NotImplementedError

    def allow_problems(self) -> None:
        """Do not fail this test for unmatched requests or failed scripts (for tests that expect them)."""
        self.problems_allowed = True

    def problems(self) -> list[str]:
        """``METHOD TARGET: problem`` for every problem the journal holds."""
        return [f"{report.request_line(entry)}: {problem}" for entry in self.journal() for problem in entry.problems]

    def problems_at_end(self) -> list[str]:
        """The problems that fail a test, once requests still on the wire have been journaled."""
        return self.problems()

    def report_section(self) -> str:
        return report.section(self.journal(), self._still_open())


# --- mock_origin: the session's server, in a subprocess -----------------------------


class MockOrigin(Handle):
    """The handle on the session's server: blocking clients work, waits block."""

    def __init__(self, server, base: Path | None = None):
        super().__init__(base)
        self.server = server
        self.control = server.control
        self.host, self.port = server.host, server.port
        self._changed = False

    def url(self, path: str = "/") -> str:
        return self.server.url + (path if path.startswith("/") else "/" + path)

    def _replace(self, names, files, written) -> None:
        __tracebackhide__ = True
        try:
            self.control.compose(select=names, files=[(name, text) for name, text, _root in files])
        except ControlError as error:
            problems = [(p["file"], p["line"], p["column"], p["message"]) for p in error.problems]
            heading = error.body.get("error", str(error)) + (f" (known: {', '.join(error.body['known'])})" if error.body.get("known") else "")
            raise self._refusal(heading, problems, written) from None
        self._changed = True

    def journal(self, behaviour: str | None = None) -> list[Entry]:
        return self.control.journal(behaviour)

    def wait_for(self, count: int, timeout: float = 5.0, behaviour: str | None = None) -> list[Entry]:
        """Block until the journal holds ``count`` entries (of ``behaviour``); ``TimeoutError`` lists what it has."""
        __tracebackhide__ = True
        try:
            return self.control.wait_for(count, timeout, behaviour)
        except TimeoutError as error:
            raise TimeoutError(str(error)) from None

    def reset(self) -> None:
        """An empty journal and fresh sequences, keeping the set."""
        self.control.reset()

    def _begin(self) -> None:
        if self._changed:
            self.control.restore()
            self._changed = False
        self.control.reset()
        self.problems_allowed = False

    def _exchanges(self, behaviour, at_least, timeout) -> list[Entry]:
        deadline = time.monotonic() + timeout
        while True:
            entries = self.journal(behaviour)
            if len(entries) >= at_least or time.monotonic() >= deadline:
                return entries
            time.sleep(0.01)

    def _still_open(self) -> list[dict]:
        return [c for c in self.control.connections() if c.get("request")]

    def _served_names(self) -> list[str]:
        return [b["name"] for b in self.control.behaviours()]

    def problems_at_end(self) -> list[str]:
        """An unmatched request on a connection that is closing is journaled when the connection
        ends, which can be just after the client read its 404: wait a little for it to be, then
        name those still open from ``/connections``."""
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while True:
            unmatched = [c for c in self.control.connections() if _unmatched(c)]
            if not unmatched or time.monotonic() >= deadline:
                break
            time.sleep(0.01)
        entries = self.journal()
        journaled = {entry.id for entry in entries}
        problems = [f"{report.request_line(entry)}: {problem}" for entry in entries for problem in entry.problems]
        return problems + [f"{c['request']}: no behaviour matched it (its connection is still open)" for c in unmatched if c.get("request_id") not in journaled]


def _unmatched(connection: dict) -> bool:
    """An exchange in progress whose request matched nothing (``GET /`` is the index, not a problem)."""
    request = connection.get("request") or ""
    target = request.partition(" ")[2].partition("?")[0]
    return bool(request) and connection.get("behaviour") is None and target != "/"


# --- mock_origin_twisted: a server on the test's reactor -----------------------------


class TwistedMockOrigin(Handle):
    """The same handle for pytest-twisted tests; ``wait_for`` returns a Deferred.

    Nothing here can block (the test runs on the reactor), so the verification helpers
    look at the exchanges so far, including those still in progress."""

    section_title = report.SECTION_TITLE + " (twisted)"

    def __init__(self, service, paths: list[str], base: Path | None = None):
        super().__init__(base)
        self.service = service
        self.paths = paths
        address = service.ports[0].getHost()
        self.host, self.port = address.host, address.port

    def _replace(self, names, files, written) -> None:
        __tracebackhide__ = True
        from mockorigin.format.loader import LoadError, check_set, load_text

        started = {b.name: b for b in self.service.started_set}
        missing = [n for n in names if n not in started]
        if missing:
            raise MockOriginError(f"not in the set the server started with: {', '.join(missing)} (known: {', '.join(sorted(started))})")
        chosen, problems = [started[n] for n in names], []
        for name, text, root in files:
            try:
                chosen += load_text(text, name, root=root)
            except LoadError as error:
                problems += error.problems
        heading = "invalid behaviours; the set was not changed"
        if not problems:
            try:
                check_set(chosen)
            except LoadError as error:
                problems, heading = error.problems, "the behaviours clash; the set was not changed"
        if problems:
            located_problems = [(p.location.file, p.location.line, p.location.column, p.message) for p in problems]
            raise self._refusal(heading, located_problems, written)
        self.service.factory.state.replace(chosen)

    def journal(self, behaviour: str | None = None) -> list[Entry]:
        return _namespace(self.service.factory.journal.select(behaviour))

    def _in_progress(self) -> list[Entry]:
        """Entries for the exchanges still running (the reactor does not run between the end of a
        test and its teardown, so an exchange the client has finished with may still be open)."""
        now = self.service.reactor.seconds()
        running = []
        for connection in sorted(self.service.factory.connections, key=lambda c: c.connection_id):
            if connection.record is not None and connection.record.request is not None:
                entry = _namespace(connection.record.entry(keep=False))
                entry.ended.stage = connection.describe(now)["stage"] + ("; the server is closing it" if connection.ended_by_server else "")
                running.append(entry)
        return running

    def _exchanges(self, behaviour, at_least, timeout) -> list[Entry]:
        return self.journal(behaviour) + [e for e in self._in_progress() if behaviour is None or e.behaviour == behaviour]

    def _still_open(self) -> list[dict]:
        return []  # the entries of exchanges in progress are listed with the others

    def report_section(self) -> str:
        return report.section(self._exchanges(None, 0, 0))

    def _served_names(self) -> list[str]:
        return [b.name for b in self.service.factory.state.behaviours]

    def problems_at_end(self) -> list[str]:
        """Journaled problems, and those of exchanges still in progress (an unmatched request on a
        closing connection is journaled only when the connection ends)."""
        return self.problems() + [f"{report.request_line(e)}: {p}" for e in self._in_progress() for p in e.problems]

    def wait_for(self, count: int, timeout: float = 5.0, behaviour: str | None = None):
        """A Deferred that fires with the entries once the journal holds ``count`` (of ``behaviour``),
        or fails with ``TimeoutError`` listing what it has."""
        from twisted.internet import defer

        journal = self.service.factory.journal
        done: defer.Deferred = defer.Deferred()

        def check(_entry=None):
            entries = journal.select(behaviour)
            if len(entries) >= count and not done.called:
                journal.listeners.remove(check)
                done.callback(_namespace(entries))

        def timed_out(*_):
            if check in journal.listeners:
                journal.listeners.remove(check)
            entries = _namespace(journal.select(behaviour))
            raise TimeoutError(f"expected {count} journal entries within {timeout}s, got {len(entries)}:\n{report.listing(entries)}")

        journal.listeners.append(check)
        check()
        if not done.called:
            done.addTimeout(timeout, self.service.reactor, onTimeoutCancel=timed_out)
        return done

    def reset(self) -> None:
        """An empty journal and fresh sequences, keeping the set."""
        self.service.factory.journal.clear()
        self.service.factory.state.reset_sequences()


__all__ = ["Handle", "MockOrigin", "MockOriginError", "TwistedMockOrigin"]
