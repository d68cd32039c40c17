"""Where ``--journal`` writes: a file with a size cap and rotation, or standard output.

A journal line is about 900 bytes, so a busy test run (100,000 requests) used to leave
a 90 MB file behind, and a long-running daemon an unbounded one. The file is rotated
the way logrotate does it: past ``max_bytes`` it becomes ``FILE.1`` (``FILE.1``
becomes ``FILE.2``, and so on up to ``keep`` old files) and a new ``FILE`` begins, so
a reader tailing the journal by name sees one whole line after another. ``-`` means
standard output, flushed after every entry (``mockorigin serve --journal - | jq``).
Write failures raise ``OSError`` to the journal, which counts and drops them.
"""

from __future__ import annotations

import os
import sys
from typing import BinaryIO

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_KEEP = 1
STDOUT = "-"


class JournalFile:
    """A JSON-lines file that rotates past ``max_bytes`` (0: never)."""

    flush_each_entry = False  # a file is flushed in bursts (see Journal); stdout after each line

    def __init__(self, path: str, max_bytes: int = DEFAULT_MAX_BYTES, keep: int = DEFAULT_KEEP):
        self.path = path
        self.max_bytes = max_bytes
        self.keep = max(1, keep)
        self.rotations = 0
        self._handle: BinaryIO = open(path, "ab")  # noqa: SIM115 - closed by close()
        self._size = os.fstat(self._handle.fileno()).st_size

    def write(self, data: bytes) -> None:
        if self.max_bytes and self._size and self._size + len(data) > self.max_bytes:
            self._rotate()
        self._handle.write(data)
        self._size += len(data)

    def flush(self) -> None:
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()

    def _rotate(self) -> None:
        self._handle.close()
        for number in range(self.keep, 1, -1):
            older = f"{self.path}.{number - 1}"
            if os.path.exists(older):
                os.replace(older, f"{self.path}.{number}")
        os.replace(self.path, f"{self.path}.1")
        self._handle = open(self.path, "ab")  # noqa: SIM115
        self._size = 0
        self.rotations += 1


class StandardOutput:
    """Journal lines on standard output, each flushed as its exchange ends."""

    flush_each_entry = True
    rotations = 0

    def __init__(self, stream: BinaryIO | None = None):
        self._stream = stream if stream is not None else sys.stdout.buffer

    def write(self, data: bytes) -> None:
        self._stream.write(data)
        self._stream.flush()

    def flush(self) -> None:
        self._stream.flush()

    def close(self) -> None:
        self.flush()  # standard output stays open for whatever else the process prints


def open_journal(path: str, max_bytes: int = DEFAULT_MAX_BYTES, keep: int = DEFAULT_KEEP) -> JournalFile | StandardOutput:
    """The sink ``--journal PATH`` names; ``OSError`` if the file cannot be opened."""
    if path == STDOUT:
        return StandardOutput()
    return JournalFile(path, max_bytes, keep)
