"""``--watch``: reload behaviour files when they change, all or nothing.

Files are polled (a stat of each, twice a second) rather than watched with
inotify: it works the same on every platform and every filesystem, and a
rename, a truncation, a deletion or a permission change all show up as a change.
A set with any problem is refused whole; the old set keeps serving and the
problem is kept for ``GET /health``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from mockorigin.loader import LoadError, load_paths
from mockorigin.interpreter.state import ServerState

log = Logger()


def snapshot(paths: Sequence[str]) -> tuple:
    """What the files look like now: name, inode, size, mtime and mode of each."""
    seen = []
    for path in paths:
        names = [path]
        if os.path.isdir(path):
            names = sorted(os.path.join(path, n) for n in os.listdir(path) if n.endswith((".yaml", ".yml")))
        for name in names:
            try:
                info = os.stat(name)
                seen.append((name, info.st_ino, info.st_size, info.st_mtime_ns, info.st_mode))
            except OSError:
                seen.append((name, None))
    return tuple(seen)


class Reloader:
    def __init__(self, paths: Sequence[str], state: ServerState, clock, interval: float = 0.5, on_reload: Callable | None = None):
        self.paths = list(paths)
        self.state = state
        self.clock = clock
        self.interval = interval
        self.on_reload = on_reload
        self.last = snapshot(self.paths)
        self.last_error: list[str] | None = None
        self.reloads = 0
        self._loop = LoopingCall(self.check)
        self._loop.clock = clock

    def start(self) -> None:
        self._loop.start(self.interval, now=False)

    def stop(self) -> None:
        if self._loop.running:
            self._loop.stop()

    def check(self) -> None:
        current = snapshot(self.paths)
        if current == self.last:
            return
        self.last = current
        try:
            behaviours = load_paths(self.paths)
        except LoadError as error:
            self.last_error = [str(p) for p in error.problems]
            for line in self.last_error:
                log.error("reload refused, the previous set keeps serving: {problem}", problem=line)
            return
        self.state.replace(behaviours)
        if self.on_reload is not None:
            self.on_reload(behaviours)
        self.last_error = None
        self.reloads += 1
        log.info("reloaded {count} behaviours", count=len(behaviours))

    def status(self) -> dict:
        return {"watching": True, "reloads": self.reloads, "last_error": self.last_error}
