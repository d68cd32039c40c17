"""The smuggling corpus (H3 of reliability.md) through the protocol, in-process.

Each case of ``tests/corpora/smuggling.jsonl`` is sent whole and byte by byte, alone and
with ``GET /canary`` pipelined behind it; the clock then passes every deadline. The first
final status must be one the case allows, a refused request closes the connection, and a
``GET /canary`` smuggled inside or behind a refused request is never served. ``python -m
stress --only H3`` sends the same corpus over real sockets and compares it with h11.
"""

from __future__ import annotations

import re

import pytest

from mockorigin.format.loader import load_text
from stress.corpus import CANARY, CANARY_BODY, smuggling_cases

BEHAVIOURS = load_text("""
name: canary
match: {path: /canary, priority: 10}
script: [{respond: {status: 200, body: "canary served\\n"}}]
---
name: any
script: [{read_body: {}}, {respond: {status: 200, body: "ok\\n"}}]
""")

# Cases that fail on today's code because of a defect: the lead removes an entry when its fix merges.
KNOWN_DEFECTS: dict = {}  # defects found here and fixed stay as plain tests; list new ones with why
CASES = smuggling_cases()
_STATUS = re.compile(rb"^HTTP/1\.1 ([0-9]{3}) ", re.M)


def _params():
    for case in CASES:
        reason = KNOWN_DEFECTS.get(case.id)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        yield pytest.param(case, id=case.id, marks=marks)


def final_statuses(data: bytes) -> list[int]:
    return [int(s) for s in _STATUS.findall(data) if not s.startswith(b"1")]


@pytest.mark.parametrize("pipelined", [False, True], ids=["alone", "pipelined"])
@pytest.mark.parametrize("byte_by_byte", [False, True], ids=["whole", "bytewise"])
@pytest.mark.parametrize("case", list(_params()))
def test_smuggling_case(harness, case, byte_by_byte, pipelined):
    h = harness(BEHAVIOURS)
    h.send(case.data + (CANARY if pipelined else b""), byte_by_byte)
    h.advance(11)  # past the head and body deadlines: every case has had its answer
    out = h.take()
    statuses = final_statuses(out)
    assert statuses and statuses[0] in case.status, (case.note, out[:300])
    served = out.count(CANARY_BODY)
    assert served == (1 if case.valid and pipelined else 0), (case.note, out[:600])
    if case.close:
        assert h.transport.disconnecting, case.note
        assert len(statuses) == 1, out[:600]  # nothing is answered after a refusal
    else:
        assert not h.transport.disconnecting and statuses == [200] * (2 if pipelined else 1), out[:600]


def test_the_corpus_has_the_plan_s_thirty_vectors_and_controls():
    assert len({c.id for c in CASES}) == len(CASES)
    assert sum(not c.valid for c in CASES) >= 30 and sum(c.valid for c in CASES) >= 5
