"""The text a failed test shows, from journal entries of real exchanges (StringTransport + Clock,
so every time in the text is exact)."""

from __future__ import annotations

from mockorigin.fixtures import report
from mockorigin.observe.control import _namespace

CONTINUE_LATE = """
name: continue-late
match: {path: /upload}
script:
  - wait: 200ms
  - interim: 100
  - read_body: {}
  - respond: {status: 201, headers: {connection: close}}
"""

ANSWER_AT_ONCE = """
name: at-once
match: {path: /early}
script: [{respond: 200}]
"""


def entries(harness) -> list:
    return _namespace(harness.journal)


def test_an_exchange_reads_in_the_order_it_crossed_the_wire(harness):
    h = harness(CONTINUE_LATE)
    h.send(b"POST /upload HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
    h.advance(0.2)
    assert h.take() == b"HTTP/1.1 100 Continue\r\n\r\n"
    h.advance(0.05)
    h.send(b"hello", byte_by_byte=True)
    h.lose()
    (entry,) = entries(h)
    assert report.describe(entry).splitlines() == [
        f"#{entry.id} POST /upload -> continue-late",
        "  head at 0.000s; 100 at 0.200s; body 5 B from 0.250s to 0.250s; final 201 at 0.250s; ended: completed (server FIN) at stage 4:respond, 0.250s",
        "  Expect: 100-continue; body after waiting 0.250s, after the 100",
    ]


def test_an_unmatched_request_says_so_and_names_its_problem(harness):
    h = harness(ANSWER_AT_ONCE)
    h.send(b"GET /erly HTTP/1.1\r\nHost: a\r\n\r\n")
    (entry,) = entries(h)
    lines = report.describe(entry).splitlines()
    assert lines[0] == f"#{entry.id} GET /erly -> (matched no behaviour)"
    assert lines[1] == "  head at 0.000s; final 404 at 0.000s; ended: completed (connection kept open) at stage done, 0.000s"
    assert lines[2].startswith("  problem: no behaviour matched GET /erly (closest: at-once")


def test_a_body_sent_after_the_final_response_is_a_line_of_its_own(harness):
    h = harness(ANSWER_AT_ONCE)
    h.send(b"POST /early HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n")
    assert h.take().startswith(b"HTTP/1.1 200 ")
    h.advance(0.1)
    h.send(b"hello")
    (entry,) = entries(h)
    assert entry.facts.body_after_final_response is True
    assert "  5 body bytes arrived after the final response" in report.describe(entry).splitlines()
    assert "final 200 at 0.000s; body 5 B from 0.100s to 0.100s" in report.timeline(entry)


def test_a_connection_that_ended_before_a_whole_request(harness):
    h = harness(ANSWER_AT_ONCE)
    h.send(b"GET /early HT")
    h.advance(1.5)
    h.lose()
    (entry,) = entries(h)
    assert report.describe(entry).splitlines() == [
        f"#{entry.id} (no complete request) -> connection ended before a whole request",
        "  no final response; ended: client closed (client FIN) at stage head, 1.500s",
    ]


def test_an_exchange_still_running_is_shown_as_open(harness):
    h = harness("match: {path: /slow}\nscript: [{wait: 5s}, {respond: 200}]\n")
    h.send(b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
    h.advance(1)
    entry = _namespace(h.protocol.record.entry(keep=False))
    assert report.timeline(entry) == "head at 0.000s; no final response; still open"
    entry.ended.stage = "1:wait"
    assert report.ending(entry.ended) == "still open, at stage 1:wait"


def test_a_section_lists_every_exchange_then_what_is_still_open(harness):
    h = harness(ANSWER_AT_ONCE)
    for _ in range(3):
        h.send(b"GET /early HTTP/1.1\r\nHost: a\r\n\r\n")
    still_open = [{"connection": 7, "request": "GET /hang", "behaviour": "hang", "stage": "1:hang", "open_for": 2.5}]
    lines = report.section(entries(h), still_open).splitlines()
    assert lines[0] == "3 exchanges, oldest first; times are seconds since the connection was accepted"
    assert [line for line in lines if line.startswith("#")] == [f"#{n} GET /early -> at-once" for n in (1, 2, 3)]
    assert lines[-2:] == ["still open:", "  connection 7: GET /hang -> hang, at stage 1:hang, open for 2.500s"]


def test_a_long_section_keeps_the_latest_exchanges(harness):
    h = harness(ANSWER_AT_ONCE)
    for _ in range(report.MAX_SHOWN + 5):
        h.send(b"GET /early HTTP/1.1\r\nHost: a\r\n\r\n")
    lines = report.section(entries(h)).splitlines()
    assert lines[1] == "(the first 5 are left out)"
    assert [line for line in lines if line.startswith("#")][0] == "#6 GET /early -> at-once"


def test_an_empty_journal_says_nothing_reached_the_server():
    assert report.section([]) == "no exchanges (the client sent nothing that reached the server)"
    assert report.listing([]) == "  none"
