"""Every file of ``tests/corpora/`` replays: what crashed or confused the server once is
checked in every run (see tests/corpora/README.md for the formats).

A raw input goes through the reader (whole, cut and byte by byte: identical events), through
``head.parse`` (a Request or a HeadError), and through the protocol serving the catalogue,
past every deadline (no exception, allowed statuses, nothing left on the clock).
"""

from __future__ import annotations

import random
import re

import pytest
from twisted.internet.error import ConnectionDone
from twisted.python.failure import Failure

from mockorigin.http1.head import HeadError, parse
from mockorigin.format.loader import load_paths, load_text
from stress.corpus import CORPORA, every_file, raw_inputs, wire_cases
from stress.replay import ALLOWED_STATUSES, divergence, split

from tests.helpers import CATALOGUE

BEHAVIOURS = load_paths([str(CATALOGUE)]) + load_text("name: canary\nmatch: {path: /canary}\nscript: [{respond: 200}]")
INPUTS = raw_inputs()
_STATUS_LINE = re.compile(rb"HTTP/1\.1 ([0-9]{3}) [^\r\n]*\r\n")

# Inputs that fail on today's code because of a defect: the lead removes an entry when its fix merges.
KNOWN_DEFECTS: dict = {}  # defects found here and fixed stay as plain tests; list new ones with why


def _params():
    for path in INPUTS:
        name = path.relative_to(CORPORA).as_posix()
        reason = KNOWN_DEFECTS.get(name)
        yield pytest.param(path, id=name, marks=[pytest.mark.xfail(strict=True, reason=reason)] if reason else [])


@pytest.mark.parametrize("path", list(_params()))
def test_raw_input_replays_cleanly(harness, path):
    data = path.read_bytes()
    rng = random.Random(path.name)
    for closed in (False, True):
        for chunks in ([data[i : i + 1] for i in range(len(data))], *(split(data, [rng.randint(1, 64) for _ in range(40)]) for _ in range(5))):
            problem = divergence(data, chunks, closed=closed)
            assert problem is None, problem
    for section in re.split(rb"\r?\n\r?\n", data)[:-1]:
        try:
            parse(section.lstrip(b"\r\n"))
        except HeadError:
            pass
    h = harness(BEHAVIOURS)
    h.send(data)
    h.advance(11)
    h.lose(Failure(ConnectionDone()))
    out = h.take()
    statuses = [int(s) for s in _STATUS_LINE.findall(out) if not s.startswith(b"1")]
    assert set(statuses) <= ALLOWED_STATUSES, statuses
    assert h.clock.getDelayedCalls() == [] and h.factory.connections == set()


def test_every_corpus_file_is_replayed():
    wire = [p for p in every_file() if p.suffix == ".jsonl"]
    assert {p.name for p in wire} == {"smuggling.jsonl"}, "a new .jsonl corpus needs a test that replays it"
    assert all(wire_cases(p) for p in wire)
    others = set(every_file()) - set(wire) - set(INPUTS) - {CORPORA / "README.md"}
    assert not others, f"files no test replays: {sorted(map(str, others))}"
    assert INPUTS
