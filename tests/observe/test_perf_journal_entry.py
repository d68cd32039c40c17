"""The journal's fast path for the commonest exchange against the general one.

``ExchangeRecord._plain_entry`` writes the entry of a request without body, interims,
problems, FIN or RST straight down, and ``json_line`` serialises it with constant
fragments; ``_full_entry`` works every field out. For any record, the entry
(``_build``) and the journal file's line must be what the general path gives,
times included: generated records here, and records of exchanges run on the wire
(StringTransport + Clock, on a clock that moves by odd amounts between reads).
"""

from __future__ import annotations

import io

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from mockorigin.format.loader import load_text
from mockorigin.http1 import OriginFactory
from mockorigin.interpreter.request import EMPTY_BODY_SHA256, Request
from mockorigin.interpreter.state import ServerState
from mockorigin.limits import ConnectionLimits
from mockorigin.observe.journal import Journal
from mockorigin.observe.record import ExchangeRecord


def general_line(record: ExchangeRecord) -> bytes:
    return orjson.dumps({**record._full_entry(), "seq": record.seq}, option=orjson.OPT_APPEND_NEWLINE)


def assert_same_as_the_general_path(record: ExchangeRecord) -> None:
    assert record._build() == record._full_entry()
    assert record.json_line() == general_line(record)


class StoppedClock:
    def __init__(self, now: float):
        self.now = now

    def seconds(self) -> float:
        return self.now


# Times as a connection's clock gives them: whole seconds, microseconds, and the float noise between.
times = st.one_of(
    st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False),
    st.integers(min_value=0, max_value=10**9).map(lambda micros: micros / 1e6),
    st.integers(min_value=0, max_value=200).map(lambda micros: 3.0 + micros * 1e-6),
)
text = st.text(st.characters(codec="utf-8"), max_size=12)
names = st.sampled_from(["Host", "Expect", "expect", "EXPECT", "Connection", "X-Quote", "Accept"])
expect_values = st.sampled_from(["100-continue", " 100-Continue ", "100-continued", "", "x"])
headers = st.lists(st.tuples(names, st.one_of(expect_values, text)), max_size=4)
endings = st.sampled_from([None, "completed", "server closed", "server reset", "hang cut", "client closed", "client reset", "odd"])


def _body(record: ExchangeRecord) -> None:
    record.first_body_at = record.last_body_at = 0.5
    record.body_length = 5


OFF_THE_FAST_PATH = [  # what takes a record off the fast path, now and then
    lambda record: record.problem("a problem"),
    lambda record: setattr(record, "interims", [(103, 1.0)]),
    lambda record: setattr(record, "withheld", [(103, 1.0)]),
    lambda record: setattr(record, "client_fin", (1.5, "done", 0)),
    lambda record: setattr(record, "server_end", ("RST", 1.0, "1:reset", "the script's reset step", 1)),
    lambda record: setattr(record, "response_said_close", True),
    lambda record: setattr(record, "bytes_after_close", 3),
    lambda record: setattr(record, "unanswered", "pipelined"),
    _body,
]


@st.composite
def records(draw) -> ExchangeRecord:
    accepted_at = draw(st.floats(min_value=0, max_value=2e9, allow_nan=False))
    record = ExchangeRecord(draw(st.integers(0, 2**40)), draw(st.integers(0, 2**40)), draw(text), accepted_at, StoppedClock(accepted_at))
    if draw(st.booleans()):
        method = draw(st.sampled_from(["GET", "HEAD", "POST", "M\u00e9"]))
        record.request = Request(method, draw(text), draw(st.sampled_from(["1.1", "1.0"])), draw(headers))
    record.behaviour = draw(st.one_of(st.none(), text))
    record.head_started_at = draw(st.one_of(st.none(), times))
    record.head_at = draw(st.one_of(st.none(), times))
    record.body_sha256 = draw(st.sampled_from([None, EMPTY_BODY_SHA256]))  # None: the body is not complete
    if draw(st.booleans()):
        record.final_status, record.final_at = draw(st.integers(100, 599)), draw(st.one_of(st.none(), times))
        record.body_at_final = 0
    record.ended_how, record.ended_stage, record.ended_at = draw(endings), draw(st.one_of(st.none(), text)), draw(st.one_of(st.none(), times))
    record.ended_kept = draw(st.booleans())
    record.seq = draw(st.integers(0, 2**40))
    for leave_the_fast_path in draw(st.lists(st.sampled_from(OFF_THE_FAST_PATH), max_size=2)):
        leave_the_fast_path(record)
    return record


@settings(max_examples=500, deadline=None)
@given(records())
def test_any_record_journals_as_the_general_path_would(record):
    assert_same_as_the_general_path(record)


def test_a_plain_request_takes_the_fast_path(monkeypatch):
    record = ExchangeRecord(7, 9, "127.0.0.1:5", 100.0, StoppedClock(100.250043))
    record.request = Request("GET", "/plain", "1.1", [("Host", "h"), ("Expect", "100-continue")])
    record.head_started_at, record.head_at, record.final_status, record.final_at = 0.25, 0.250012, 200, 0.250031
    record.ended("completed", "done", kept=True)
    assert record._is_plain()
    monkeypatch.setattr(ExchangeRecord, "_full_entry", None)  # the general path would fail now
    line = orjson.loads(record.json_line())
    assert line["times"] == {"head_started": 0.0, "head": 1.2e-05, "first_body_byte": None, "last_body_byte": None}
    assert line["final"] == {"status": 200, "at": 3.1e-05} and line["ended"]["at"] == 4.3e-05
    assert line["facts"]["expect_continue"] is True and line["facts"]["body_bytes_before_continue"] == 0
    assert record._build()["facts"] == line["facts"]


class RecordingJournal(Journal):
    """A journal with a file, keeping each record it is given."""

    def __init__(self):
        super().__init__(sink=io.BytesIO())
        self.records: list[ExchangeRecord] = []

    def add(self, record: ExchangeRecord) -> None:
        self.records.append(record)
        super().add(record)


BEHAVIOURS = """
name: plain
match: {path: /plain}
script:
  - respond: {status: 200, body: ok}
---
name: early
match: {path: /early}
script:
  - interim: 103
  - respond: {status: 204}
---
name: closes
match: {path: /close}
script:
  - respond: {status: 200, body: bye}
  - close: {}
"""

requests = st.tuples(
    st.sampled_from(["GET", "HEAD", "POST"]),
    st.sampled_from(["/plain", "/early", "/close", "/missing", '/plain?q="\\\u00e9']),
    st.sampled_from(["1.1", "1.0"]),
    st.sampled_from(["", "Expect: 100-continue\r\n", "Connection: close\r\n", "X-Odd: \u00e9\"\\\t\r\n", "Connection: keep-alive\r\n"]),
)


def encode(method: str, target: str, version: str, field: str) -> bytes:
    body = "Content-Length: 2\r\n\r\nhi" if method == "POST" else "\r\n"
    return f"{method} {target} HTTP/{version}\r\nHost: h\r\n{field}{body}".encode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    exchanges=st.lists(requests, min_size=1, max_size=4),
    steps=st.lists(st.sampled_from([0.0, 1e-6, 7e-6, 1.3e-5, 0.0001, 0.25, 3.000001]), min_size=1, max_size=6),
    client_closes=st.booleans(),
)
def test_exchanges_on_the_wire_journal_as_the_general_path_would(exchanges, steps, client_closes):
    clock = Clock()
    clock.advance(1_700_000_000.123456)
    journal = RecordingJournal()
    factory = OriginFactory(ServerState(load_text(BEHAVIOURS)), clock, journal, ConnectionLimits())
    protocol = factory.buildProtocol(None)
    protocol.makeConnection(StringTransport())
    for index, exchange in enumerate(exchanges):
        clock.advance(steps[index % len(steps)])
        protocol.dataReceived(encode(*exchange))
    if client_closes:
        protocol.readConnectionLost()
    clock.advance(steps[-1])
    protocol.connectionLost()
    assert journal.records
    for record in journal.records:
        assert_same_as_the_general_path(record)
    assert journal.sink.getvalue() == b"".join(general_line(record) for record in journal.records)


def test_keep_alive_requests_on_the_wire_take_the_fast_path():
    clock = Clock()
    journal = RecordingJournal()
    protocol = OriginFactory(ServerState(load_text(BEHAVIOURS)), clock, journal, ConnectionLimits()).buildProtocol(None)
    protocol.makeConnection(StringTransport())
    for _ in range(2):
        clock.advance(0.5)
        protocol.dataReceived(encode("GET", "/plain", "1.1", ""))
    assert [record._is_plain() for record in journal.records] == [True, True]
