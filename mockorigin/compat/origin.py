"""The origin end of a compatibility run: ``mockorigin serve`` in a subprocess.

A subprocess rather than a reactor thread: the run then drives the same command a
user would, the reactor stays isolated from the blocking client, and a crash on
one side cannot take the other down. What the origin saw is read back through
the control API (``mockorigin.Control``), per case, by the case token in the
request target.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from mockorigin.format.loader import catalogue_path
from mockorigin.compat.behaviours import EXTRA_BEHAVIOURS
from mockorigin.observe.control import Control

START_TIMEOUT = 15.0


class SetupError(Exception):
    """A run cannot start (origin port taken, proxy unreachable, bad option): exit 2 with this line."""


@dataclass
class OriginView:
    """What the origin saw of one case: finished exchanges, and requests still open."""

    entries: list[dict]
    open_requests: list[dict]

    @property
    def requests(self) -> list[dict]:
        return [e for e in self.entries if e.get("request")]


class Origin:
    """The catalogue plus the compat behaviours, served on ``endpoint``."""

    def __init__(self, endpoint: str, folder: Path, ready_file: str | None = None):
        self.endpoint = endpoint
        self.folder = Path(folder)
        self.ready_file = ready_file
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.host = ""
        self.port = 0
        self.control: Control | None = None

    def start(self) -> Origin:
        extras = self.folder / "compat-behaviours.yaml"
        extras.write_text(EXTRA_BEHAVIOURS.lstrip(), encoding="utf-8")
        ready = self.folder / "origin-ready.json"
        log_path = self.folder / "origin.log"
        command = [
            sys.executable, "-m", "mockorigin", "serve", "--quiet", "--listen", self.endpoint,
            "--ready-file", str(ready), "--grace", "0", catalogue_path(), str(extras),
        ]
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while not ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SetupError(f"the origin could not listen on {self.endpoint}: {_reason(log_path)}")
            time.sleep(0.01)
        info = json.loads(ready.read_text())
        self.url = info["urls"][0]
        if not self.url.endswith("/"):
            self.url += "/"
        self.host, port = self.url.split("//", 1)[1].rstrip("/").rsplit(":", 1)
        self.host, self.port = self.host.strip("[]"), int(port)
        self.control = Control(info["admin"])
        if self.ready_file:
            _write_json(self.ready_file, {"url": self.url, "host": self.host, "port": self.port, "admin": info["admin"], "pid": self.process.pid})
        return self

    def view(self, token: str, settle: float = 0.3, bound: float = 3.0) -> OriginView:
        """The exchanges whose target carries ``token``: waits until none is open any more
        (bounded), then ``settle`` more seconds for a late retry."""
        assert self.control is not None
        deadline = time.monotonic() + bound
        quiet_since = None
        while True:
            entries = [e for e in map(plain, self.control.journal()) if token in ((e.get("request") or {}).get("target") or "")]
            open_requests = [c for c in self.control.connections() if token in (c.get("request") or "")]
            now = time.monotonic()
            if open_requests:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            if (quiet_since is not None and now - quiet_since >= settle) or now >= deadline:
                return OriginView(entries, open_requests)
            time.sleep(0.03)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Origin:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def plain(value):
    """A journal entry as the JSON the control API sent (``Control`` hands out namespaces)."""
    if isinstance(value, SimpleNamespace):
        return {k: plain(v) for k, v in vars(value).items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _reason(log_path: Path) -> str:
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    if "address already in use" in text.lower():
        return "address already in use"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "it exited without a word"


def _write_json(path: str, data: dict) -> None:
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(temporary, path)
