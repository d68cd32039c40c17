"""Response body bytes produced as they are sent: filler, files, and regrouping.

Large bodies never sit in memory whole: filler is generated and files are read
in pieces of ``PIECE`` bytes, so a 64 MiB ``body_size`` costs one piece at a time.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator

PIECE = 64 * 1024  # bytes per write for generated and file bodies

_FILLER_LINE = b"mockorigin filler 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ\n"


def regroup(pieces: Iterable[bytes], size: int | None) -> Iterator[bytes]:
    """The same bytes in pieces of exactly ``size`` (the last may be shorter)."""
    if size is None:
        yield from pieces
        return
    pending = b""
    for piece in pieces:
        pending += piece
        while len(pending) >= size:
            yield pending[:size]
            pending = pending[size:]
    if pending:
        yield pending


def filler(size: int) -> Iterator[bytes]:
    """``size`` bytes of printable lines, generated a piece at a time."""
    block = (_FILLER_LINE * (PIECE // len(_FILLER_LINE) + 1))[:PIECE]
    while size > 0:
        yield block[: min(size, PIECE)]
        size -= PIECE


_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_PATH", 0)  # O_PATH: search right only
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK  # O_NONBLOCK: a FIFO swapped in cannot block the reactor


def open_without_links(path: str) -> int:
    """A descriptor for the absolute ``path``, opened one component at a time from ``/``
    with ``O_NOFOLLOW``: a link anywhere on the way is refused, not followed.

    The loader keeps a body file as its realpath, checked to lie inside the behaviours
    folder, so that path has no link in it: a walk that follows none reaches exactly
    the file checked at load, or fails. ``O_NOFOLLOW`` on the whole path would only
    guard its last component.
    """
    parts = path.split("/")
    if parts[0] != "" or {".", "..", ""} & set(parts[1:]):
        raise OSError(errno.EINVAL, f"{path} is not an absolute path without . or ..")
    *folders, name = parts[1:]
    descriptor = os.open("/", _FOLDER)
    try:
        for part in folders:
            inner = os.open(part, _FOLDER, dir_fd=descriptor)
            os.close(descriptor)
            descriptor = inner
        return os.open(name, _FILE, dir_fd=descriptor)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):  # a link (or a file) where a folder was
            raise OSError(error.errno, f"{path} has a symbolic link on its way (swapped in after load?)") from None
        raise
    finally:
        os.close(descriptor)


class FilePieces:
    """A body file read in pieces; ``close()`` releases it even if never read."""

    def __init__(self, path: str):
        descriptor = open_without_links(path)
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            os.close(descriptor)
            raise OSError(errno.EINVAL, f"{path} is no longer a regular file")
        self.size = info.st_size
        self._handle = os.fdopen(descriptor, "rb")

    def __iter__(self) -> Iterator[bytes]:
        try:
            while data := self._handle.read(PIECE):
                yield data
        finally:
            self.close()

    def close(self) -> None:
        self._handle.close()
