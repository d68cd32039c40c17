"""Response body bytes produced as they are sent: filler, files, and regrouping.

Large bodies never sit in memory whole: filler is generated and files are read
in pieces of ``PIECE`` bytes, so a 64 MiB ``body_size`` costs one piece at a time.
"""

from __future__ import annotations

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


class FilePieces:
    """A body file read in pieces; ``close()`` releases it even if never read."""

    def __init__(self, path: str):
        # O_NOFOLLOW refuses a link swapped in after load; fstat checks the file itself.
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        descriptor = os.open(path, flags)
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            os.close(descriptor)
            raise OSError(f"{path} is no longer a regular file")
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
