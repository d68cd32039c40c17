"""What each exchange looked like on the wire, and what it says about the client.

Times are seconds since the connection was accepted, taken from the injected
clock. An entry is finished when its exchange ends (script done, connection
lost) and then goes to a bounded ring and, optionally, a JSON-lines file.
"""

from __future__ import annotations

import json
from collections import deque
from typing import IO
from collections.abc import Callable

from twisted.logger import Logger

log = Logger()


class ExchangeRecord:
    """One request (or one connection that ended before a whole request).

    Plain slots while the exchange runs; the JSON-ready dict is built once, in ``finish``.
    """

    __slots__ = (
        "_clock", "_accepted_at", "id", "connection", "client", "behaviour", "request", "body_length",
        "body_sha256", "body_complete", "head_started_at", "head_at", "first_body_at", "last_body_at",
        "interims", "final_status", "final_at", "ended_how", "ended_stage", "ended_at", "problems",
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
        self.interims: list[dict] = []
        self.final_status: int | None = None
        self.final_at: float | None = None
        self.ended_how: str | None = None
        self.ended_stage: str | None = None
        self.ended_at: float | None = None
        self.problems: list[str] = []

    def now(self) -> float:
        return round(self._clock() - self._accepted_at, 6)

    def head_started(self) -> None:
        if self.head_started_at is None:
            self.head_started_at = self.now()

    def head(self, request, behaviour: str | None) -> None:
        self.head_at = self.now()
        self.behaviour = behaviour
        self.request = request

    def body(self, length: int) -> None:
        if length:
            now = self.now()
            if self.first_body_at is None:
                self.first_body_at = now
            self.last_body_at = now
            self.body_length += length

    def body_complete_with(self, sha256: str) -> None:
        self.body_sha256 = sha256
        self.body_complete = True

    def interim(self, status: int) -> None:
        self.interims.append({"status": status, "at": self.now()})

    def final(self, status: int) -> None:
        self.final_status = status
        self.final_at = self.now()

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def ended(self, how: str, stage: str) -> None:
        """``how``: completed, client closed, client reset, server closed, server reset, hang cut."""
        if self.ended_how is None:
            self.ended_how, self.ended_stage, self.ended_at = how, stage, self.now()

    def finish(self) -> dict:
        request = self.request
        entry = {
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
                "headers": [list(pair) for pair in request.raw_headers],
                "body_length": self.body_length,
                "body_sha256": self.body_sha256,
                "body_complete": self.body_complete,
            },
            "times": {
                "head_started": self.head_started_at,
                "head": self.head_at,
                "first_body_byte": self.first_body_at,
                "last_body_byte": self.last_body_at,
            },
            "interims": self.interims,
            "final": None if self.final_status is None else {"status": self.final_status, "at": self.final_at},
            "ended": {"how": self.ended_how, "stage": self.ended_stage, "at": self.ended_at},
            "problems": self.problems,
        }
        entry["facts"] = client_facts(entry)
        return entry


def client_facts(entry: dict) -> dict:
    """The questions client authors ask, answered from the raw times."""
    request = entry["request"] or {}
    headers = {name.lower(): value for name, value in request.get("headers", [])}
    times = entry["times"]
    first_body = times["first_body_byte"]
    continues = [i["at"] for i in entry["interims"] if i["status"] == 100]
    expect = headers.get("expect", "").lower() == "100-continue"
    facts: dict = {"expect_continue": expect}
    if expect:
        facts["sent_body_before_continue"] = first_body is not None and (not continues or first_body < continues[0])
        facts["waited_for_continue"] = (
            None if first_body is None or times["head"] is None else round(first_body - times["head"], 6)
        )
    final = entry["final"]
    facts["interims_before_close"] = len(entry["interims"]) if final is None else None
    facts["body_after_final_response"] = bool(
        final is not None and times["last_body_byte"] is not None and times["last_body_byte"] > final["at"]
    )
    return facts


class Journal:
    """A ring of finished entries, mirrored to a JSON-lines file when one is given."""

    def __init__(self, capacity: int = 10_000, sink: IO[str] | None = None):
        self.entries: deque[dict] = deque(maxlen=capacity)
        self.sink = sink
        self.dropped = 0  # entries pushed out of the ring
        self.write_failures = 0
        self.listeners: list[Callable[[dict], None]] = []

    def add(self, entry: dict) -> None:
        if len(self.entries) == self.entries.maxlen:
            self.dropped += 1
        self.entries.append(entry)
        if self.sink is not None:
            try:
                self.sink.write(json.dumps(entry, separators=(",", ":")) + "\n")
                self.sink.flush()
            except (OSError, ValueError) as error:
                self.write_failures += 1
                if self.write_failures == 1:
                    log.warn("journal file write failed, entries are being dropped: {error}", error=error)
        for listener in list(self.listeners):
            listener(entry)

    def clear(self) -> None:
        self.entries.clear()
