"""One case's outcome, shared by proxy-check and client-check and read by every report."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from mockorigin.compat.observe import Check, Verdict


@dataclass
class CaseResult:
    case_id: str
    group: str
    title: str
    reached: str  # one line: what the client got, or what the client did
    verdicts: list[Verdict] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    observations: dict = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0

    @property
    def status(self) -> str:
        if self.error:
            return "error"
        if any(not c.held for c in self.checks):
            return "fail"
        return "pass"

    def verdict(self, topic: str) -> str | None:
        """The text of the first verdict on ``topic``."""
        return next((v.text for v in self.verdicts if v.topic == topic), None)

    def as_json(self) -> dict:
        return {
            "id": self.case_id,
            "group": self.group,
            "title": self.title,
            "status": self.status,
            "reached": self.reached,
            "verdicts": [v.as_json() for v in self.verdicts],
            "checks": [c.as_json() for c in self.checks],
            "error": self.error,
            "seconds": round(self.seconds, 3),
            "observations": self.observations,
        }


@dataclass
class RunResult:
    command: str  # proxy-check | client-check
    subject: str  # the proxy's URL, or the client command
    settings: dict
    cases: list[CaseResult]

    def result(self, case_id: str) -> CaseResult:
        return next(c for c in self.cases if c.case_id == case_id)

    def exit_code(self) -> int:
        """0 when every RFC requirement held, 1 when one did not (or a case could not run)."""
        return 1 if any(c.status != "pass" for c in self.cases) else 0

    def as_json(self) -> dict:
        return {"command": self.command, "subject": self.subject, "settings": self.settings, "cases": [c.as_json() for c in self.cases]}


class Progress:
    """``[3/24] processing …`` on one rewritten line, on a terminal only."""

    def __init__(self, total: int, stream=None):
        self.total = total
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()

    def start(self, index: int, case_id: str) -> None:
        if self.live:
            self.stream.write(f"\r\033[K[{index}/{self.total}] {case_id} …")
            self.stream.flush()

    def done(self) -> None:
        if self.live:
            self.stream.write("\r\033[K")
            self.stream.flush()
