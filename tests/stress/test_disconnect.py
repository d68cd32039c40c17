"""The disconnect matrix in-process (F1 of reliability.md): every catalogue behaviour is
run to every stage, then the client leaves with a FIN, a reset, or a half-close then FIN.

After each: no DelayedCall is left on the clock, the factory holds no connection, and the
journal's last entry says truthfully how the connection ended. ``python -m stress --only F1``
runs the same table over real sockets.
"""

from __future__ import annotations

import pytest
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.python.failure import Failure

from mockorigin.interpreter.answers import describe
from mockorigin.format.loader import load_paths
from stress.catalogue import ENDINGS, JOURNAL_ENDINGS, request_for, stages

from tests.helpers import CATALOGUE, HalfClosingTransport

BEHAVIOURS = load_paths([str(CATALOGUE)])
CASES = [
    (description["name"], stage, ending)
    for description in map(describe, BEHAVIOURS)
    for stage in stages(request_for(description))
    for ending in ENDINGS
]

# Cases that fail on today's code because of a defect of issue #10: the lead removes an entry when its fix merges.
KNOWN_DEFECTS: dict = {}  # defects found here and fixed stay as plain tests; list new ones with why


def _params():
    for name, stage, ending in CASES:
        reason = KNOWN_DEFECTS.get((name, stage.name, ending))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        yield pytest.param(name, stage, ending, id=f"{name}-{stage.name}-{ending}".replace(" ", "_"), marks=marks)


def _status_lines(data: bytes) -> list[bytes]:
    return [line for line in data.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]


@pytest.mark.parametrize("name,stage,ending", list(_params()))
def test_leaving_at_any_stage_leaves_nothing_behind(harness, name, stage, ending):
    h = harness(BEHAVIOURS, transport=HalfClosingTransport())
    h.send(stage.sent)
    if stage.wait:
        h.advance(stage.wait)
    before = h.take()
    server_first = h.protocol.ended_by_server  # the server had ended it before the client left
    if ending == "half-close":
        h.protocol.readConnectionLost()
        after = h.take()
        if _status_lines(before) and not h.protocol.reader.in_head:  # the script had begun answering
            assert b"\r\n\r\nmockorigin: " not in after, after[:200]  # a script may answer 4xx itself; the server adds none of its own
    ended_by_server = h.protocol.ended_by_server
    idle = h.protocol.record is None and h.protocol.exchange is None  # between requests: nothing to journal
    h.lose(Failure(ConnectionLost() if ending == "RST" else ConnectionDone()))
    assert h.clock.getDelayedCalls() == []
    assert h.factory.connections == set()
    entries = h.journal
    assert entries, "no journal entry for the connection"
    ended = entries[-1]["ended"]
    assert ended["how"] in JOURNAL_ENDINGS
    if idle:
        assert ended["how"] == "completed" and ended["by"] is None, ended  # the last exchange, kept open
    elif server_first is None:  # the client left first, whatever the server did next (#12: who ended it first)
        assert ended["how"] == ("client reset" if ending == "RST" else "client closed"), ended
        assert ended["by"] == "client"
    else:
        assert ended["how"] == ended_by_server == server_first and ended["by"] == "server", ended
    assert ended["stage"], ended


def test_the_matrix_covers_every_catalogue_behaviour_and_both_endings():
    names = {name for name, _stage, _ending in CASES}
    assert names == {b.name for b in BEHAVIOURS} and len(names) >= 20
    assert len(CASES) >= 150
