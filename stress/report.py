"""A case's figures and verdict: one JSON line in ``results/stress/<ID>.json``, one table row.

A check that fails names the defect of issue #10 it reproduces when there is one, so the
table says at a glance which failures are known and which are news.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "results" / "stress"


@dataclass
class Failure:
    message: str
    defect: str | None = None  # "#10/2": a known defect this failure reproduces

    def __str__(self) -> str:
        return f"{self.message} [{self.defect}]" if self.defect else self.message


@dataclass
class Result:
    id: str
    title: str
    seed: int
    inputs: int = 0
    crashes: int = 0
    tracebacks: int = 0
    hung: int = 0
    fd_delta: int | None = None
    timer_delta: int | str | None = None  # "n/a" when the server has no /debug/timers
    rss_slope_mb_per_min: float | None = None
    probe_p99_ms: float | None = None
    seconds: float = 0.0
    failures: list[Failure] = field(default_factory=list)
    figures: dict = field(default_factory=dict)
    traceback_defect: str | None = None  # set by a case that traced the logged tracebacks to a known defect

    def check(self, ok: bool, message: str, defect: str | None = None) -> bool:
        """Record a failure unless ``ok``; returns ``ok``."""
        if not ok:
            self.failures.append(Failure(message, defect))
        return ok

    def fail(self, message: str, defect: str | None = None) -> None:
        self.failures.append(Failure(message, defect))

    @property
    def verdict(self) -> str:
        if not self.failures:
            return "pass"
        return "FAIL (known)" if all(f.defect for f in self.failures) else "FAIL"

    def to_json(self) -> dict:
        data = asdict(self)
        data.pop("traceback_defect")
        data["failures"] = [str(f) for f in self.failures]
        data["defects"] = sorted({f.defect for f in self.failures if f.defect})
        data["verdict"] = self.verdict
        data["at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        return data

    def write(self, folder: Path = RESULTS) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.id}.json"
        path.write_text(json.dumps(self.to_json(), separators=(",", ":")) + "\n")
        return path


COLUMNS = ("case", "inputs", "crashes", "tracebacks", "hung", "fd Δ", "timer Δ", "RSS MB/min", "probe p99 ms", "s", "verdict")


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def table(results: list[Result]) -> str:
    rows = [COLUMNS] + [
        (
            f"{r.id} {r.title}",
            r.inputs,
            r.crashes,
            r.tracebacks,
            r.hung,
            r.fd_delta,
            r.timer_delta,
            r.rss_slope_mb_per_min,
            r.probe_p99_ms,
            round(r.seconds),
            r.verdict,
        )
        for r in results
    ]
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    failures = [f"  {r.id}: {f}" for r in results for f in r.failures]
    if failures:
        lines += ["", "failures ([#10/N]: a defect of issue #10 this reproduces):", *failures]
    return "\n".join(lines)
