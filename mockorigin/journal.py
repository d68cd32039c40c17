"""What each exchange looked like on the wire, and what it says about the client.

Times are seconds since the connection was accepted, taken from the injected
clock. An entry is finished when its exchange ends (script done, connection
lost) and then goes to a bounded ring and, optionally, a JSON-lines file.
"""

from __future__ import annotations

import orjson
from collections import deque
from typing import IO
from collections.abc import Callable

from twisted.logger import Logger

log = Logger()


class ExchangeRecord:
    """One request (or one connection that ended before a whole request).

    Plain slots and raw clock readings while the exchange runs; the JSON-ready dict
    (times rounded to the microsecond) is built on first demand, by ``entry``, and kept:
    an entry nobody reads costs nothing to format.
    """

    __slots__ = (
        "_clock", "_accepted_at", "id", "connection", "client", "behaviour", "request", "body_length",
        "body_sha256", "body_complete", "head_started_at", "head_at", "first_body_at", "last_body_at",
        "interims", "final_status", "final_at", "ended_how", "ended_stage", "ended_at", "ended_kept", "problems",
        "body_at_continue", "body_at_final", "bytes_after_close", "response_said_close", "websocket", "seq", "_entry",
        "withheld",
    )

    def __init__(self, connection_id: int, request_id: int, peer: str, accepted_at: float, clock: Callable[[], float]):
        self._clock = clock
        self._accepted_at = accepted_at
        self.id = request_id
        self.connection = connection_id
        self.client = peer
        self.behaviour: str | None = None
        self.request = None
        self.body_length = 0
        self.body_sha256: str | None = None
        self.body_complete = False
        self.head_started_at: float | None = None
        self.head_at: float | None = None
        self.first_body_at: float | None = None
        self.last_body_at: float | None = None
        self.interims: list[tuple[int, float]] | tuple = ()  # (status, when); a list once there is one
        self.final_status: int | None = None
        self.final_at: float | None = None
        self.ended_how: str | None = None
        self.ended_stage: str | None = None
        self.ended_at: float | None = None
        self.ended_kept = False
        self.problems: list[str] | tuple = ()  # a list once there is one: most exchanges have none
        self.body_at_continue: int | None = None  # body bytes received when the first 100 went out
        self.body_at_final: int | None = None  # ... when the final response's head went out
        self.bytes_after_close = 0  # bytes the client sent after the server decided to close
        self.response_said_close = False
        self.websocket: dict | None = None  # frames and facts, once upgraded
        self.withheld: list[tuple[int, float]] | tuple = ()  # interims the script asked for that an HTTP/1.0 client may not get
        self.seq = 0  # set by the journal
        self._entry: dict | None = None

    def now(self) -> float:
        """Seconds since the connection was accepted, to the microsecond."""
        return round(self._clock() - self._accepted_at, 6)

    def _elapsed(self) -> float:
        return self._clock() - self._accepted_at

    def head_started(self) -> None:
        if self.head_started_at is None:
            self.head_started_at = self._elapsed()

    def head(self, request, behaviour: str | None) -> None:
        self.head_at = self._elapsed()
        self.behaviour = behaviour
        self.request = request

    def body(self, length: int) -> None:
        if length:
            now = self._elapsed()
            if self.first_body_at is None:
                self.first_body_at = now
            self.last_body_at = now
            self.body_length += length

    def body_complete_with(self, sha256: str) -> None:
        self.body_sha256 = sha256
        self.body_complete = True

    def interim(self, status: int) -> None:
        if not self.interims:
            self.interims = []
        self.interims.append((status, self._elapsed()))  # type: ignore[union-attr]
        if status == 100 and self.body_at_continue is None:
            self.body_at_continue = self.body_length

    def interim_withheld(self, status: int) -> None:
        if not self.withheld:
            self.withheld = []
        self.withheld.append((status, self._elapsed()))  # type: ignore[union-attr]

    def final(self, status: int) -> None:
        self.final_status = status
        self.final_at = self._elapsed()
        self.body_at_final = self.body_length

    def problem(self, text: str) -> None:
        if not self.problems:
            self.problems = []
        self.problems.append(text)  # type: ignore[union-attr]

    def ended(self, how: str, stage: str, kept: bool = False) -> None:
        """``how``: completed, client closed, client reset, server closed, server reset, hang cut.

        ``kept``: the exchange completed and the connection stays open for the next request.
        """
        if self.ended_how is None:
            self.ended_how, self.ended_stage, self.ended_at, self.ended_kept = how, stage, self._elapsed(), kept

    def entry(self, keep: bool = True) -> dict:
        """The journal entry (the record must be finished). ``keep=False`` builds it without
        keeping it: the JSON-lines file writes each entry once, and thousands of kept dicts
        in the ring would be walked by every full garbage collection."""
        entry = self._entry
        if entry is None:
            entry = self._build()
            entry["seq"] = self.seq
            if keep:
                self._entry = entry
        return entry

    def _build(self) -> dict:
        request = self.request
        head_started, head, first_body = _rounded(self.head_started_at), _rounded(self.head_at), _rounded(self.first_body_at)
        last_body, final_at, ended_at = _rounded(self.last_body_at), _rounded(self.final_at), _rounded(self.ended_at)
        interims = [{"status": status, "at": round(at, 6)} for status, at in self.interims]
        by, signal = (None, None) if self.ended_kept else _ENDINGS.get(self.ended_how or "", (None, None))
        return {
            "id": self.id,
            "connection": self.connection,
            "client": self.client,
            "behaviour": self.behaviour,
            "request": None
            if request is None
            else {
                "method": request.method,
                "target": request.target,
                "version": request.version,
                "headers": list(map(list, request.raw_headers)),
                "body_length": self.body_length,
                "body_sha256": self.body_sha256,
                "body_complete": self.body_complete,
            },
            "times": {"head_started": head_started, "head": head, "first_body_byte": first_body, "last_body_byte": last_body},
            "interims": interims,
            "interims_withheld": [{"status": status, "at": round(at, 6), "why": "HTTP/1.0 client (RFC 9110 §15.2)"} for status, at in self.withheld],
            "final": None if self.final_status is None else {"status": self.final_status, "at": final_at},
            "ended": {"how": self.ended_how, "by": by, "signal": signal, "stage": self.ended_stage, "at": ended_at},
            "problems": list(self.problems),
            "websocket": self.websocket,
            "facts": client_facts(self, head, first_body, interims),
        }


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 6)


_ENDINGS = {  # how -> (who ended the connection, with what)
    "completed": ("server", "FIN"),
    "server closed": ("server", "FIN"),
    "server reset": ("server", "RST"),
    "hang cut": ("server", "RST"),
    "client closed": ("client", "FIN"),
    "client reset": ("client", "RST"),
}


def client_facts(record: ExchangeRecord, head: float | None, first_body: float | None, interims: list[dict]) -> dict:
    """The questions client authors ask, answered from the times (as journaled) and counts."""
    request = record.request
    expect = request is not None and _last_expect(request.raw_headers).strip().lower() == "100-continue"
    length = record.body_length
    after_final = 0 if record.body_at_final is None else length - record.body_at_final
    continues = [i["at"] for i in interims if i["status"] == 100]
    before_continue = sent_before = waited = None  # asked only of a client that said Expect: 100-continue
    if expect:
        before_continue = length if record.body_at_continue is None else record.body_at_continue
        sent_before = first_body is not None and (not continues or first_body < continues[0])
        waited = None if first_body is None or head is None else round(first_body - head, 6)
    return {
        "expect_continue": expect,
        "continue_sent": bool(continues),
        "sent_body_before_continue": sent_before,
        "body_bytes_before_continue": before_continue,
        "waited_for_continue": waited,
        "body_after_final_response": after_final > 0,
        "body_bytes_after_final_response": after_final,
        "interims_before_close": len(interims) if record.final_status is None and request is not None else None,
        "reused_after_connection_close": record.bytes_after_close > 0,
        "response_said_close": record.response_said_close,
    }


def _last_expect(raw_headers: list[tuple[str, str]]) -> str:
    """The last Expect field's value ("" if none), read from the headers as sent: building the
    header dict for this one question cost more than the rest of the facts."""
    for name, value in reversed(raw_headers):
        if name.lower() == "expect":
            return value
    return ""


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
        """A finished record: kept in the ring, and formatted now only if a file or listener wants it."""
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
        entry = record.entry(keep=False)
        if self.sink is not None:
            try:
                self.sink.write(orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE))
            except (OSError, ValueError) as error:
                self._failed(error)
            else:
                if self.clock is None:
                    self.flush()
                elif self._flush_call is None:
                    self._flush_call = self.clock.callLater(self.flush_every, self.flush)
        for listener in list(self.listeners):
            listener(entry)

    def flush(self) -> None:
        self._flush_call = None
        if self.sink is None:
            return
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
