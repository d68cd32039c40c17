"""curl against the built-in catalogue over loopback: what crossed the wire, and when."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from tests.helpers import journal_entry, marker, require_program

pytestmark = pytest.mark.e2e


def curl(*args: str, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run([require_program("curl"), "-sS", *args], capture_output=True, text=True, timeout=timeout)


def interim_lines(verbose: str) -> list[str]:
    return [line for line in verbose.splitlines() if line.startswith("< HTTP/1.1 1")]


def test_continue_delayed_with_a_patient_client(catalogue_server):
    mark = marker()
    result = curl(
        "-v", "-H", "Expect: 100-continue", "--expect100-timeout", "3", "--data-binary", "hello",
        "-w", "\n%{http_code} %{time_total}", f"{catalogue_server.url}/continue/delayed?delay=400ms&m={mark}",
    )
    body, status_and_time = result.stdout.rsplit("\n", 1)
    status, total = status_and_time.split()
    assert status == "200" and json.loads(body) == {"received": 5}
    assert interim_lines(result.stderr) == ["< HTTP/1.1 100 Continue"]
    assert 0.4 <= float(total) < 2.0
    entry = journal_entry(catalogue_server, mark)
    (interim,) = entry["interims"]
    assert interim["status"] == 100 and 0.4 <= interim["at"] - entry["times"]["head"] < 0.6
    assert entry["facts"]["sent_body_before_continue"] is False
    assert 0.4 <= entry["facts"]["waited_for_continue"] < 0.8


def test_continue_delayed_with_an_impatient_client(catalogue_server):
    mark = marker()
    result = curl(
        "-v", "-H", "Expect: 100-continue", "--expect100-timeout", "0.1", "--data-binary", "hello",
        "-w", "\n%{http_code}", f"{catalogue_server.url}/continue/delayed?delay=800ms&m={mark}",
    )
    assert result.stdout.endswith("\n200")
    entry = journal_entry(catalogue_server, mark)
    assert entry["facts"]["sent_body_before_continue"] is True
    assert 0.08 <= entry["facts"]["waited_for_continue"] < 0.5
    assert entry["interims"][0]["at"] - entry["times"]["head"] >= 0.8  # the 100 still came, late


def test_continue_never_and_curl_gives_up_waiting(catalogue_server):
    mark = marker()
    result = curl("-v", "-H", "Expect: 100-continue", "--expect100-timeout", "0.3", "--data-binary", "abc", f"{catalogue_server.url}/continue/never?m={mark}")
    assert json.loads(result.stdout) == {"received": 3}
    assert interim_lines(result.stderr) == []
    entry = journal_entry(catalogue_server, mark)
    assert entry["interims"] == [] and 0.25 <= entry["facts"]["waited_for_continue"] < 1.0


def test_continue_reject_answers_before_the_body_and_closes(catalogue_server):
    mark = marker()
    result = curl("-v", "-H", "Expect: 100-continue", "--expect100-timeout", "5", "--data-binary", "x" * 5000, "-w", "%{http_code} %{time_total}", f"{catalogue_server.url}/continue/reject?status=413&m={mark}")
    status, total = result.stdout.rsplit("\n", 1)[-1].split()[-2:]
    assert status.endswith("413") and float(total) < 2.0  # not held for curl's 5 s timeout
    assert interim_lines(result.stderr) == []
    entry = journal_entry(catalogue_server, mark)
    assert entry["final"]["status"] == 413 and entry["request"]["body_length"] == 0
    assert entry["ended"]["how"] == "server closed"


def test_processing_sends_count_102s_every_apart(catalogue_server):
    result = curl("-v", "-w", "\n%{time_total}", f"{catalogue_server.url}/processing?count=3&every=200ms")
    lines = interim_lines(result.stderr)
    assert lines == ["< HTTP/1.1 102 Processing"] * 3
    assert [line for line in result.stderr.splitlines() if line.lower().startswith("< status-uri")] == [
        f"< status-uri: 102 </processing/status/{n}>" for n in (1, 2, 3)
    ]
    body, total = result.stdout.rsplit("\n", 1)
    assert body == "done after 3 x 102\n" and 0.6 <= float(total) < 1.5


def test_early_hints_then_200(catalogue_server):
    result = curl("-v", f"{catalogue_server.url}/early-hints")
    stderr = result.stderr.splitlines()
    first_103 = stderr.index("< HTTP/1.1 103 Early Hints")
    final = stderr.index("< HTTP/1.1 200 OK")
    links = [line for line in stderr[first_103:final] if line.startswith("< link:")]
    assert len(links) == 2 and "early hints sent" in result.stdout


def test_drip_paces_each_byte(catalogue_server):
    result = curl("-w", "\n%{time_starttransfer} %{time_total}", f"{catalogue_server.url}/drip?bytes=6&every=100ms")
    body, times = result.stdout.rsplit("\n", 1)
    start, total = map(float, times.split())
    assert len(body) == 6
    assert 0.45 <= total - start < 1.0  # five gaps of 100 ms after the first byte


def test_reset_after_headers_is_a_reset(catalogue_server):
    result = curl("-w", "%{http_code}", f"{catalogue_server.url}/reset/after-headers")
    assert result.returncode == 56 and "reset" in result.stderr.lower()


def test_hang_never_answers(catalogue_server):
    mark = marker()
    started = time.monotonic()
    result = curl("-m", "0.5", f"{catalogue_server.url}/hang?m={mark}")
    assert result.returncode == 28 and time.monotonic() - started < 3
    entry = journal_entry(catalogue_server, mark)
    assert entry["final"] is None
    assert {k: entry["ended"][k] for k in ("how", "by", "signal", "stage")} == {"how": "client closed", "by": "client", "signal": "FIN", "stage": "2:hang"}


def test_hang_after_headers_sends_only_the_head(catalogue_server):
    result = curl("-m", "0.5", "-w", "%{http_code} %{size_download}", f"{catalogue_server.url}/hang/after-headers")
    assert result.returncode == 28 and result.stdout == "200 0"


def test_echo_returns_the_request(catalogue_server):
    result = curl("-H", "X-Probe: 1", "--data-binary", "hello", f"{catalogue_server.url}/echo?a=b")
    echoed = json.loads(result.stdout)
    assert echoed["method"] == "POST" and echoed["target"] == "/echo?a=b" and echoed["body_length"] == 5
    assert ["X-Probe", "1"] in echoed["headers"]


def test_index_lists_every_behaviour_as_json_and_html(catalogue_server):
    listing = json.loads(curl("-H", "Accept: application/json", f"{catalogue_server.url}/").stdout)
    paths = {entry["path"] for entry in listing["behaviours"]}
    assert {"/continue/delayed", "/continue/never", "/continue/reject", "/processing", "/early-hints", "/hang", "/hang/after-headers", "/drip", "/reset/after-headers", "/echo"} <= paths
    page = curl("-H", "Accept: text/html", f"{catalogue_server.url}/").stdout
    assert page.startswith("<!doctype html>") and "/continue/delayed" in page


def test_unknown_path_names_the_closest(catalogue_server):
    result = curl("-w", "%{http_code}", f"{catalogue_server.url}/continue/delay")
    assert result.stdout.endswith("404") and "continue-delayed (/continue/delayed)" in result.stdout


def test_bad_request_gets_400_and_the_server_keeps_serving(catalogue_server):
    import socket

    with socket.create_connection((catalogue_server.host, catalogue_server.port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert curl("-w", "%{http_code}", "-o", "/dev/null", f"{catalogue_server.url}/echo").stdout == "200"
