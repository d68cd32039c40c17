"""What each exchange looked like on the wire, and what it says about the client.

Times are seconds since the connection was accepted, taken from the injected
clock. An entry is finished when its exchange ends (script done, connection
lost) and then goes to a bounded ring and, optionally, a JSON-lines file.
"""

from __future__ import annotations

import json
from collections import deque
from typing import IO, Callable

from twisted.logger import Logger

log = Logger()


class ExchangeRecord:
    """One request (or one connection that ended before a whole request)."""

    def __init__(self, connection_id: int, request_id: int, peer: str, accepted_at: float, clock: Callable[[], float]):
        self._clock = clock
        self._accepted_at = accepted_at
        self.data: dict = {
            "id": request_id,
            "connection": connection_id,
            "client": peer,
            "behaviour": None,
            "request": None,
            "times": {"head_started": None, "head": None, "first_body_byte": None, "last_body_byte": None},
            "interims": [],
            "final": None,
            "ended": None,
            "problems": [],
        }

    def now(self) -> float:
        return round(self._clock() - self._accepted_at, 6)

    def head_started(self) -> None:
        if self.data["times"]["head_started"] is None:
            self.data["times"]["head_started"] = self.now()

    def head(self, request, behaviour: str | None) -> None:
        self.data["times"]["head"] = self.now()
        self.data["behaviour"] = behaviour
        self.data["request"] = {
            "method": request.method,
            "target": request.target,
            "version": request.version,
            "headers": [list(pair) for pair in request.raw_headers],
            "body_length": 0,
            "body_sha256": None,
            "body_complete": False,
        }

    def body(self, length: int) -> None:
        times = self.data["times"]
        if length and times["first_body_byte"] is None:
            times["first_body_byte"] = self.now()
        if length:
            times["last_body_byte"] = self.now()
        if self.data["request"] is not None:
            self.data["request"]["body_length"] += length

    def body_complete(self, sha256: str) -> None:
        if self.data["request"] is not None:
            self.data["request"].update(body_sha256=sha256, body_complete=True)

    def interim(self, status: int) -> None:
        self.data["interims"].append({"status": status, "at": self.now()})

    def final(self, status: int) -> None:
        self.data["final"] = {"status": status, "at": self.now()}

    def problem(self, text: str) -> None:
        self.data["problems"].append(text)

    def ended(self, how: str, stage: str) -> None:
        """``how``: completed, client closed, client reset, server closed, server reset, hang cut, bad request."""
        if self.data["ended"] is None:
            self.data["ended"] = {"how": how, "stage": stage, "at": self.now()}

    def finish(self) -> dict:
        self.data["facts"] = client_facts(self.data)
        return self.data


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
