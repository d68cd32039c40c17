"""Small readings of the two ends' observations, shared by the judges and the reports."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Verdict:
    """One classification, in the words a proxy or client author uses."""

    topic: str
    text: str

    def as_json(self) -> dict:
        return {"topic": self.topic, "text": self.text}


@dataclass
class Check:
    """An RFC requirement (MUST / MUST NOT) the observations decide."""

    rule: str  # e.g. "RFC 9110 §15.2"
    requirement: str
    held: bool
    detail: str = ""

    def as_json(self) -> dict:
        return {"rule": self.rule, "requirement": self.requirement, "held": self.held, "detail": self.detail}


@dataclass
class Judgement:
    verdicts: list[Verdict] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    def say(self, topic: str, text: str) -> None:
        self.verdicts.append(Verdict(topic, text))

    def check(self, rule: str, requirement: str, held: bool, detail: str = "") -> None:
        self.checks.append(Check(rule, requirement, held, detail))


def secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def statuses(heads) -> str:
    """``[102×3]`` or ``[100,102,103]`` from a list of statuses."""
    values = [h if isinstance(h, int) else h["status"] for h in heads]
    if not values:
        return ""
    if len(set(values)) == 1 and len(values) > 1:
        return f"[{values[0]}×{len(values)}]"
    return "[" + ",".join(map(str, values)) + "]"


def header(headers, name: str) -> str | None:
    for key, value in reversed(list(headers or [])):
        if key.lower() == name.lower():
            return value
    return None


def origin_requests(view) -> list[dict]:
    return [e for e in view.entries if e.get("request")]


def first_origin(view) -> dict | None:
    requests = origin_requests(view)
    return requests[0] if requests else None


def origin_interims(entry: dict | None) -> list[dict]:
    return list(entry.get("interims") or []) if entry else []


def origin_final(entry: dict | None) -> dict | None:
    return entry.get("final") if entry else None


def origin_seconds_after_head(entry: dict, at: float | None) -> float | None:
    head = (entry.get("times") or {}).get("head")
    return None if at is None or head is None else at - head
