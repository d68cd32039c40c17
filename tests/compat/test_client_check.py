"""``mockorigin client-check`` end to end with real clients (curl, Python libraries, Node,
a WebSocket client) and the Python API, asserting facts the ground truth measured."""

from __future__ import annotations

import sys

import pytest

from mockorigin.compat.api import client_check

from tests.compat.helpers import ROOT, check_held, run_command, run_with_report, verdict
from tests.helpers import require_program

pytestmark = pytest.mark.e2e

DRIVERS = ROOT / "mockorigin" / "compat" / "drivers"
FAST = ("--time-scale", "0.5")


def python_client(library: str) -> tuple[str, ...]:
    return (sys.executable, str(DRIVERS / "python_client.py"), library)


def test_curl_waits_one_second_for_a_100_and_reads_through_interims(tmp_path):
    curl = require_program("curl")
    result, cases = run_with_report(
        tmp_path, "client-check", "--cases", "continue-never,processing,reset-request", *FAST, "--",
        curl, "-sS", "-m", "{timeout}", "-X", "{method}", "-H", "Expect: {expect}", "--data-binary", "@{body_file}", "{url}",
    )
    assert result.returncode == 0, result.stdout
    waited = verdict(cases["continue-never"], "Expect")
    assert waited.startswith("waited 1.0") or waited.startswith("waited 1.1"), waited  # curl's --expect100-timeout default
    (entry,) = cases["continue-never"]["observations"]["origin"]["entries"]
    assert 0.95 <= entry["facts"]["waited_for_continue"] < 1.3
    assert verdict(cases["processing"], "interims") == "read through [102×3] to the final 200"
    assert check_held(cases["processing"], "RFC 9110 §15.2") is True
    assert cases["reset-request"]["observations"]["command"]["exit_code"] == 56  # curl: Recv failure: Connection reset


def test_urllib3_does_not_wait_for_the_100(tmp_path):
    result, cases = run_with_report(tmp_path, "client-check", "--cases", "continue-delayed", *FAST, "--", *python_client("urllib3"))
    assert verdict(cases["continue-delayed"], "Expect").startswith("did not wait for the 100: body at once")
    (entry,) = cases["continue-delayed"]["observations"]["origin"]["entries"]
    assert entry["facts"]["sent_body_before_continue"] is True and entry["facts"]["waited_for_continue"] < 0.1


def test_http_client_takes_a_102_as_final_and_the_exit_says_a_must_broke(tmp_path):
    result, cases = run_with_report(tmp_path, "client-check", "--cases", "processing,early-hints,echo", *FAST, "--", *python_client("http.client"))
    for case_id in ("processing", "early-hints"):
        assert verdict(cases[case_id], "interims").startswith(f"took {102 if case_id == 'processing' else 103} as the final response")
        assert check_held(cases[case_id], "RFC 9110 §15.2") is False
    assert cases["echo"]["status"] == "pass"
    assert result.returncode == 1 and "FAIL  processing" in result.stdout


def test_httpx_reads_through_interims_past_its_timeout(tmp_path):
    result, cases = run_with_report(tmp_path, "client-check", "--cases", "processing-timer", *FAST, "--", *python_client("httpx"))
    assert verdict(cases["processing-timer"], "timer").startswith("re-armed by each 1xx: read through [102×5]")


def test_undici_fails_on_an_unsolicited_100_and_refuses_expect_while_node_http_reads_on(tmp_path):
    node = require_program("node")
    script = str(DRIVERS / "node_client.mjs")
    result, fetch = run_with_report(tmp_path, "client-check", "--cases", "multi-1xx,processing,continue-delayed", *FAST, "--", node, script, "fetch")
    assert verdict(fetch["multi-1xx"], "interims").startswith("failed on the interims (exit 1)")
    assert "bad response" in fetch["multi-1xx"]["observations"]["command"]["stderr_tail"]
    assert verdict(fetch["processing"], "interims") == "read through [102×3] to the final 200"
    assert verdict(fetch["continue-delayed"], "requests").startswith("none reached the origin")  # it throws before sending
    result, http = run_with_report(tmp_path, "client-check", "--cases", "multi-1xx,continue-delayed", *FAST, "--", node, script, "http")
    assert verdict(http["multi-1xx"], "interims") == "read through [100,102,103] to the final 200"
    assert verdict(http["continue-delayed"], "Expect").startswith("waited for the 100")


def test_a_websocket_client_masks_answers_pings_and_echoes_the_close_code(tmp_path):
    result, cases = run_with_report(tmp_path, "client-check", "--ws", *FAST, "--", sys.executable, str(DRIVERS / "ws_client.py"))
    assert verdict(cases["ws-ping"], "pings").startswith("answered 2 of 2")
    assert check_held(cases["ws-echo"], "RFC 6455 §5.1") is True
    assert verdict(cases["ws-close-1011"], "close") == "echoed the server's close code"


def test_the_python_api_runs_a_callable_per_case():
    import requests

    def with_requests(case):
        return requests.request(case.method, case.url, data=case.body or None, headers=case.headers, timeout=case.timeout)

    run = client_check(with_requests, cases="continue-delayed,unknown-1xx,hang", time_scale=0.5)
    assert run.result("continue-delayed").verdict("Expect").startswith("did not wait for the 100")
    assert run.result("unknown-1xx").verdict("interims").startswith("took 199 as the final response")
    hang = run.result("hang")
    assert hang.reached.startswith("exit 1") and "ReadTimeout" in hang.reached
    assert hang.verdict("gave up").startswith("closed the connection (FIN) @1.0s")
    assert run.exit_code() == 1


def test_usage_errors_exit_2_with_one_line():
    missing = run_command("client-check", "--cases", "echo")
    assert missing.returncode == 2 and "give the client command after --" in missing.stderr
    absent = run_command("client-check", "--cases", "echo", "--", "/nonexistent/client")
    assert absent.returncode == 2 and "cannot run /nonexistent/client" in absent.stderr.splitlines()[-1]
    assert "Traceback" not in missing.stderr + absent.stderr
