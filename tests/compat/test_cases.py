"""Case selection, timing, and the judges on hand-fed observations (no network)."""

from __future__ import annotations

import pytest

from mockorigin.compat import cases, verdicts
from mockorigin.compat.client import ClientRecord
from mockorigin.compat.origin import OriginView
from mockorigin.compat.wire import ResponseReader
from mockorigin.format.loader import load_text
from mockorigin.compat.behaviours import EXTRA_BEHAVIOURS


def ids(selected):
    return [c.id for c in selected]


def test_every_group_the_issue_names_has_cases_and_ids_are_unique():
    assert {c.group for c in cases.CASES} >= {"interim", "expect", "upgrade", "hang", "drip", "reset", "framing", "websocket"}
    assert len({c.id for c in cases.CASES}) == len(cases.CASES)
    assert all(c.judge in verdicts.JUDGES for c in cases.CASES if c.proxies)


def test_the_inline_behaviours_load_and_serve_every_compat_path():
    paths = {b.match.path.pattern for b in load_text(EXTRA_BEHAVIOURS)}
    assert {c.path for c in cases.CASES if c.path.startswith("/compat/")} <= paths


def test_selection_by_id_group_glob_and_exclusion():
    assert ids(cases.select("hang")) == ["hang", "hang-after-headers", "hang-after-3-bytes"]
    assert ids(cases.select("reset-*,echo")) == ["reset-request", "reset-after-headers", "reset-mid-body", "echo"]
    assert "timer-interims" not in ids(cases.select("interim,-timer-*"))
    assert ids(cases.select(None)) == [c.id for c in cases.CASES if c.proxies]


def test_client_selection_leaves_out_proxy_only_cases_and_keeps_websocket_ones_apart():
    chosen = ids(cases.select("interim", for_clients=True))
    assert "processing-timer" in chosen and "timer-interims" not in chosen
    assert ids(cases.select(None, for_clients=True, websocket=True)) == ["ws-echo", "ws-ping", "ws-close-1011"]
    assert not any(c.startswith("ws-") for c in ids(cases.select(None, for_clients=True)))


def test_an_unknown_case_is_named_in_the_error():
    with pytest.raises(cases.UnknownCases, match="'nope'"):
        cases.select("hang,nope")


def test_scaled_and_timer_relative_durations_reach_the_target():
    timing = cases.Timing(scale=0.5, proxy_timeout=2.0)
    (drip,) = [c for c in cases.CASES if c.id == "drip"]
    assert drip.target(timing, "run.drip") == "/drip?bytes=20&every=50ms&mo_case=run.drip"
    (timer,) = [c for c in cases.CASES if c.id == "timer-interims"]
    assert "every=1000ms" in timer.target(timing, "t")  # half the proxy's timeout, not scaled
    assert timer.bound(timing) == pytest.approx(3.5 * 2.0 + cases.MIN_WAIT)


def client_record(data: list[tuple[float, bytes]]) -> ClientRecord:
    record = ClientRecord(ResponseReader())
    for at, chunk in data:
        record.reads.append((at, len(chunk)))
        record.reader.feed(chunk, at)
    return record


def origin_entry(interims, final_at, status=200) -> dict:
    return {"request": {"method": "GET", "target": "/x?mo_case=t", "version": "1.1", "headers": []}, "times": {"head": 0.0},
            "interims": [{"status": s, "at": a} for s, a in interims], "final": {"status": status, "at": final_at}, "ended": {}}


def judged(case_id: str, record: ClientRecord, entries: list[dict]):
    (case,) = [c for c in cases.CASES if c.id == case_id]
    return verdicts.judge(case, record, OriginView(entries, []), cases.Timing(proxy_timeout=3.0))


INTERIM = b"HTTP/1.1 102 Processing\r\n\r\n"
FINAL = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def test_interims_spread_like_the_origins_are_relayed_live():
    entry = origin_entry([(102, 0.0), (102, 0.3), (102, 0.6)], 0.9)
    record = client_record([(0.01, INTERIM), (0.31, INTERIM), (0.61, INTERIM), (0.91, FINAL)])
    judgement = judged("processing", record, [entry])
    assert judgement.verdicts[0].text == "[102×3] relayed live"
    assert all(c.held for c in judgement.checks)


def test_interims_arriving_with_the_final_were_held():
    entry = origin_entry([(102, 0.0), (102, 0.3), (102, 0.6)], 0.9)
    record = client_record([(0.91, INTERIM * 3 + FINAL)])
    assert judged("processing", record, [entry]).verdicts[0].text == "[102×3] held until the final response"


def test_a_dropped_interim_breaks_the_forwarding_rule_and_a_changed_status_is_named():
    entry = origin_entry([(100, 0.0), (102, 0.2), (103, 0.4)], 0.6)
    record = client_record([(0.61, b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")])
    judgement = judged("multi-1xx", record, [entry])
    texts = [v.text for v in judgement.verdicts]
    assert "dropped: [100,102,103] sent, none relayed" in texts and "turned into 503 (the origin sent 200)" in texts
    assert [(c.rule, c.held) for c in judgement.checks] == [("RFC 9110 §15.2", False)]


def test_retries_upstream_are_counted():
    entry = origin_entry([(100, 0.0)], None)
    entry["final"] = None
    record = client_record([(0.4, b"HTTP/1.1 100 Continue\r\n\r\n" * 2 + b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")])
    texts = [v.text for v in judged("100-then-close", record, [entry, entry]).verdicts]
    assert "retried upstream: the origin saw 2 requests" in texts


def test_the_table_is_coloured_only_when_asked_and_names_broken_requirements():
    from mockorigin.compat import report
    from mockorigin.compat.observe import Check, Verdict
    from mockorigin.compat.results import CaseResult, RunResult

    broken = CaseResult("echo", "framing", "t", "200 @0.0s", [Verdict("headers", "none added or removed")],
                        [Check("RFC 9110 §7.6.3", "a proxy MUST send Via", False, "no Via upstream")])
    run = RunResult("proxy-check", "http://127.0.0.1:1/", {}, [broken])
    plain, coloured = report.terminal(run, colour=False), report.terminal(run, colour=True)
    assert "\033[" not in plain and "FAIL  echo" in plain and "RFC 9110 §7.6.3 BROKEN" in plain
    assert "\033[31mFAIL\033[0m" in coloured
    assert run.exit_code() == 1
    assert "| `echo` | FAIL |" in report.markdown(run)


def test_a_client_that_printed_nothing_but_left_before_the_final_response_took_an_interim_as_final():
    """The journal's client FIN, before the final response went out, decides what the output cannot."""
    from mockorigin.compat.clientverdicts import CommandRun, _final_reached, _left_before_final
    from mockorigin.compat.observe import Judgement

    run = CommandRun(["client"], 0, 0.4, 0, "")
    left = {"final": {"status": 200, "at": 0.9}, "ended": {"by": "client", "signal": "FIN", "at": 0.35}}
    stayed = {"final": {"status": 200, "at": 0.9}, "ended": {"by": "server", "signal": "FIN", "at": 0.9}}
    assert _left_before_final(left) and not _left_before_final(stayed)
    judged = Judgement()
    _final_reached([102], left["final"], run, judged, _left_before_final(left))
    assert "took 102 as the final response" in judged.verdicts[0].text and judged.checks[0].held is False
    unsure = Judgement()
    _final_reached([102], stayed["final"], run, unsure, _left_before_final(stayed))
    assert "cannot tell" in unsure.verdicts[0].text and unsure.checks == []
