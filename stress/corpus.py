"""The corpora of ``tests/corpora/``: wire cases with their expected answers, and raw
inputs (each a file of bytes) that once crashed or confused something and must replay forever.

Wire cases are JSON lines: ``{"id", "data", "status": [allowed], "close", "canary", "note"}``,
``data`` a string whose code points are the bytes (Latin-1). ``canary`` is ``never`` (a
``GET /canary`` pipelined behind the case must not be served) or ``pipelined`` (a valid
request: the canary behind it is served once).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

CORPORA = Path(__file__).resolve().parent.parent / "tests" / "corpora"
CANARY = b"GET /canary HTTP/1.1\r\nHost: a\r\n\r\n"
CANARY_BODY = b"canary served"
RAW_SUFFIXES = (".http", ".bin")


@dataclass(frozen=True)
class WireCase:
    id: str
    data: bytes
    status: tuple[int, ...]
    close: bool
    canary: str
    note: str

    @property
    def valid(self) -> bool:
        return self.canary == "pipelined"


def wire_cases(path: Path) -> list[WireCase]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            cases.append(WireCase(row["id"], row["data"].encode("latin-1"), tuple(row["status"]), row["close"], row["canary"], row.get("note", "")))
    return cases


def smuggling_cases() -> list[WireCase]:
    return wire_cases(CORPORA / "smuggling.jsonl")


def raw_inputs(folder: Path = CORPORA) -> list[Path]:
    """Every raw input file under ``folder``, sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in RAW_SUFFIXES)


def every_file(folder: Path = CORPORA) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())
