"""The journal file's lines are made at the flush: what the file holds, and when, is unchanged.

With a clock and no listener, ``Journal.add`` keeps the record and the flush (at most
``flush_every`` later) writes the lines of all that wait, in order, each as the record
would have given it when it was added, whatever was done to the ring's entries since.
"""

from __future__ import annotations

import io

import orjson
from twisted.internet.task import Clock

from mockorigin.interpreter.request import EMPTY_BODY_SHA256, Request
from mockorigin.observe import journal as journal_module
from mockorigin.observe.journal import Journal
from mockorigin.observe.record import ExchangeRecord


class Sink(io.BytesIO):
    """A file whose writes are counted; ``broken``: every write fails."""

    broken = False
    writes = 0

    def write(self, data) -> int:
        self.writes += 1
        if self.broken:
            raise OSError(28, "No space left on device")
        return super().write(data)


def finished(number: int, target: str = "/plain") -> ExchangeRecord:
    clock = Clock()
    record = ExchangeRecord(1, number, "127.0.0.1:9", 0.0, clock)
    record.head_started()
    clock.advance(0.000013)
    record.head(Request("GET", target, "1.1", [("Host", "h")]), "plain")
    record.body_complete_with(EMPTY_BODY_SHA256)
    clock.advance(0.00002)
    record.final(200)
    record.ended("completed", "done", kept=True)
    return record


def line(record: ExchangeRecord) -> bytes:
    return orjson.dumps({**record._full_entry(), "seq": record.seq}, option=orjson.OPT_APPEND_NEWLINE)


def test_lines_wait_for_the_flush_and_come_in_order():
    clock, sink = Clock(), Sink()
    journal = Journal(sink=sink, clock=clock, flush_every=0.1)
    records = [finished(n) for n in range(3)]
    for record in records:
        journal.add(record)
    assert sink.getvalue() == b"" and sink.writes == 0
    clock.advance(0.0999)
    assert sink.getvalue() == b""
    clock.advance(0.0001)
    assert sink.getvalue() == b"".join(line(record) for record in records)
    assert [orjson.loads(text)["seq"] for text in sink.getvalue().splitlines()] == [1, 2, 3]


def test_a_line_is_the_record_as_it_was_added_whatever_a_reader_did_to_the_ring():
    clock, sink = Clock(), Sink()
    journal = Journal(sink=sink, clock=clock)
    record = finished(1, "/mine")
    journal.add(record)
    expected = line(record)
    (entry,) = journal.entries  # a reader of the ring gets the kept entry ...
    entry["request"]["target"] = "/changed"  # ... and changes it
    clock.advance(0.1)
    assert sink.getvalue() == expected


def test_a_listener_gets_the_lines_written_at_once_and_after_what_waits():
    clock, sink = Clock(), Sink()
    journal = Journal(sink=sink, clock=clock)
    first, second = finished(1), finished(2)
    journal.add(first)
    seen: list[dict] = []
    journal.listeners.append(seen.append)
    journal.add(second)
    assert sink.getvalue() == line(first) + line(second)
    assert [entry["seq"] for entry in seen] == [2]


def test_without_a_clock_each_line_is_written_and_flushed_at_once():
    sink = Sink()
    journal = Journal(sink=sink)
    record = finished(1)
    journal.add(record)
    assert sink.getvalue() == line(record)


def test_many_waiting_lines_are_written_without_waiting_for_the_flush(monkeypatch):
    monkeypatch.setattr(journal_module, "_UNWRITTEN_MAX", 5)
    clock, sink = Clock(), Sink()
    journal = Journal(sink=sink, clock=clock)
    records = [finished(n) for n in range(5)]
    for record in records[:4]:
        journal.add(record)
    assert sink.getvalue() == b""
    journal.add(records[4])  # the fifth waiting
    assert sink.getvalue() == b"".join(line(record) for record in records)


def test_close_writes_what_waits_and_cancels_the_flush():
    clock, sink = Clock(), Sink()
    closed: list[bytes] = []
    sink.close = lambda: closed.append(sink.getvalue())  # type: ignore[method-assign]
    journal = Journal(sink=sink, clock=clock)
    record = finished(1)
    journal.add(record)
    journal.close()
    assert closed == [line(record)] and not clock.getDelayedCalls()


def test_a_failed_write_is_counted_at_the_flush():
    clock, sink = Clock(), Sink()
    sink.broken = True
    journal = Journal(sink=sink, clock=clock)
    journal.add(finished(1))
    journal.add(finished(2))
    assert journal.write_failures == 0
    clock.advance(0.1)
    assert journal.write_failures == 2  # a line each, as when each was written at once
