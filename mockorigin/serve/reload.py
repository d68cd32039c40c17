"""``--watch``: reload behaviour files when they change, all or nothing.

Files are polled (a stat of each, twice a second) rather than watched with
inotify: it works the same on every platform and every filesystem, and a
rename, a truncation, a deletion or a permission change all show up as a change.
A set with any problem is refused whole; the old set keeps serving and the
problem is kept for ``GET /health``.

The ``body_file`` of every behaviour in the set last loaded is watched too, with
each folder on its way from the behaviours folder (``lstat``: a folder swapped for a
link is a change), so a body file that now leads outside refuses the set at once
instead of only failing the requests that use it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from mockorigin.format import model
from mockorigin.format.loader import LoadError, load_paths
from mockorigin.interpreter.state import ServerState

log = Logger()


def snapshot(paths: Sequence[str], body_files: Sequence[str] = ()) -> tuple:
    """What the files look like now: name, inode, size, mtime and mode of each
    behaviour file, then of each body file and folder on its way (links not followed)."""
    seen = []
    for path in paths:
        names = [path]
        if os.path.isdir(path):
            names = sorted(os.path.join(path, n) for n in os.listdir(path) if n.endswith((".yaml", ".yml")))
        seen += (_stat(name, os.stat) for name in names)
    return tuple(seen), _body_snapshot(body_files)


def _body_snapshot(body_files: Sequence[str]) -> tuple:
    return tuple(_stat(name, os.lstat) for name in body_files)


def _stat(name: str, how: Callable) -> tuple:
    try:
        info = how(name)
    except OSError:
        return (name, None)
    return (name, info.st_ino, info.st_size, info.st_mtime_ns, info.st_mode)


def body_paths(behaviours: Sequence[model.Behaviour]) -> list[str]:
    """Each ``body_file`` of a set, after every folder on its way from the behaviours folder."""
    paths: dict[str, None] = {}
    for behaviour in behaviours:
        for script in behaviour.scripts:
            for step in script:
                source = step.body if isinstance(step, model.Respond) else step.source if isinstance(step, model.Body) else None
                if isinstance(source, model.FileBody):
                    path = source.root
                    paths[path] = None
                    for part in os.path.relpath(source.path, source.root).split(os.sep):
                        path = os.path.join(path, part)
                        paths[path] = None
    return list(paths)


class Reloader:
    def __init__(self, paths: Sequence[str], state: ServerState, clock, interval: float = 0.5, on_reload: Callable | None = None):
        self.paths = list(paths)
        self.state = state
        self.clock = clock
        self.interval = interval
        self.on_reload = on_reload
        self.body_files = body_paths(state.behaviours)  # of the set this reloader loaded last
        self.last = snapshot(self.paths, self.body_files)
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
        current = snapshot(self.paths, self.body_files)
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
        self.body_files = body_paths(behaviours)
        self.last = (current[0], _body_snapshot(self.body_files))  # the new set's body files, as loaded
        self.state.replace(behaviours)
        if self.on_reload is not None:
            self.on_reload(behaviours)
        self.last_error = None
        self.reloads += 1
        log.info("reloaded {count} behaviours", count=len(behaviours))

    def status(self) -> dict:
        return {"watching": True, "reloads": self.reloads, "last_error": self.last_error}
