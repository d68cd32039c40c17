"""The journal: finished records in a bounded ring, mirrored to a file and to listeners.

A record (``record.py``) is finished when its exchange ends (script done,
connection lost, or never answered). It then goes to the ring, which keeps
records and builds their JSON entries only when something reads them, and, when
one is given, to a JSON-lines file (``journalfile.py``) and to listeners (the
access log, the pytest handles).

With a clock and no listener, the file's lines are made and written at the flush
(at most ``flush_every`` after the first record waiting for one, or once 4,096 wait),
one after another: a file flushed in bursts shows nothing sooner anyway, and made
together they cost a quarter less than one at a time between requests (bench (e):
0.66 -> 0.79 of the journal off, interleaved runs on this machine).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import IO

import orjson
from twisted.logger import Logger

from mockorigin.observe.record import ExchangeRecord

log = Logger()
_UNWRITTEN_MAX = 4096  # records waiting for their line: this many are written without waiting for the flush


class Journal:
    """A ring of finished entries, mirrored to a JSON-lines file when one is given.

    Each entry gets ``seq``, a number that only grows, so a reader can ask for what is
    new since the last entry it saw. ``capacity=0`` keeps nothing (the journal is off).
    """

    def __init__(self, capacity: int = 10_000, sink: IO[bytes] | None = None, clock=None, flush_every: float = 0.1):
        """With a ``clock``, the file is flushed at most ``flush_every`` seconds after a write
        (one syscall per burst, not per request); without one, after every entry."""
        self.capacity = capacity
        self.clock = clock
        self.flush_every = flush_every
        self._flush_call = None
        self._unwritten: list[ExchangeRecord] = []  # records whose line waits for the flush
        self._ring: deque[ExchangeRecord] = deque(maxlen=max(capacity, 1))
        self.sink = sink
        self.seq = 0
        self.dropped = 0  # entries pushed out of the ring
        self.write_failures = 0
        self.listeners: list[Callable[[dict], None]] = []

    @property
    def entries(self) -> list[dict]:
        """What the ring holds, oldest first."""
        return [record.entry() for record in self._ring]

    def add(self, record: ExchangeRecord) -> None:
        """A finished record: kept in the ring; its JSON is made now for listeners, for a file at the flush."""
        if self.capacity == 0 and self.sink is None and not self.listeners:
            return
        self.seq += 1
        record.seq = self.seq
        if self.capacity:
            if len(self._ring) == self._ring.maxlen:
                self.dropped += 1
            self._ring.append(record)
        if self.sink is None and not self.listeners:
            return
        if not self.listeners and self.clock is not None:
            self._unwritten.append(record)  # its line is made and written with the others' at the flush
            if self._flush_call is None:
                self._flush_call = self.clock.callLater(self.flush_every, self.flush)
            elif len(self._unwritten) >= _UNWRITTEN_MAX:
                self._write_unwritten()
            return
        entry = record.entry(keep=False) if self.listeners else None  # without listeners, the file's line is written without one
        if self.sink is not None:
            self._write_unwritten()  # the file keeps the journal's order
            self._write(record.json_line() if entry is None else orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE))
            if self.clock is None:
                self.flush()
            elif self._flush_call is None:
                self._flush_call = self.clock.callLater(self.flush_every, self.flush)
        for listener in list(self.listeners):
            listener(entry)

    def _write(self, line: bytes) -> None:
        try:
            self.sink.write(line)  # type: ignore[union-attr]
        except (OSError, ValueError) as error:
            self._failed(error)

    def _write_unwritten(self) -> None:
        unwritten, self._unwritten = self._unwritten, []
        for record in unwritten:
            self._write(record.json_line())

    def flush(self) -> None:
        self._flush_call = None
        if self.sink is None:
            return
        self._write_unwritten()
        try:
            self.sink.flush()
        except (OSError, ValueError) as error:
            self._failed(error)

    def close(self) -> None:
        """Flush and close the file; cancels the pending flush, so no timer outlives the journal."""
        if self._flush_call is not None and self._flush_call.active():
            self._flush_call.cancel()
        self.flush()
        if self.sink is not None:
            try:
                self.sink.close()
            except OSError as error:  # what is still buffered cannot be written either
                self._failed(error)
            self.sink = None

    def _failed(self, error: Exception) -> None:
        self.write_failures += 1
        if self.write_failures == 1:
            log.warn("journal file write failed, entries are being dropped: {error}", error=error)

    def select(self, behaviour: str | None = None, since: int = 0) -> list[dict]:
        """Entries newer than ``since`` (a ``seq``), optionally for one behaviour."""
        return [r.entry() for r in self._ring if r.seq > since and (behaviour is None or r.behaviour == behaviour)]

    def clear(self) -> None:
        self._ring.clear()

    def status(self) -> dict:
        return {
            "kept": len(self._ring),
            "capacity": self.capacity,
            "last_seq": self.seq,
            "dropped": self.dropped,
            "write_failures": self.write_failures,
            "file_rotations": getattr(self.sink, "rotations", 0),
        }
