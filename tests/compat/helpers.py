"""Running the compatibility commands as a user would: a subprocess, then its JSON report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_command(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mockorigin", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def run_with_report(tmp_path: Path, *args: str, timeout: float = 240) -> tuple[subprocess.CompletedProcess, dict]:
    """Run a check with --json; the report by case id (``cases`` key kept for the rest)."""
    report = tmp_path / f"report-{len(list(tmp_path.glob('report-*')))}.json"
    result = run_command(args[0], "--json", str(report), *args[1:], timeout=timeout)  # before a client's `--`
    assert report.exists(), f"no report (exit {result.returncode}): {result.stderr}\n{result.stdout}"
    data = json.loads(report.read_text())
    return result, {case["id"]: case for case in data["cases"]}


def verdict(case: dict, topic: str) -> str:
    """The text of the case's verdict on ``topic`` (there must be one)."""
    texts = [v["text"] for v in case["verdicts"] if v["topic"] == topic]
    assert texts, f"no {topic!r} verdict in {case['id']}: {case['verdicts']}"
    return texts[0]


def check_held(case: dict, rule: str) -> bool:
    (held,) = [c["held"] for c in case["checks"] if c["rule"] == rule]
    return held
