"""``mockorigin proxy-check`` end to end: the command against the origin itself, its usage
errors, and real nginx and HAProxy (each started here in the foreground on loopback with a
1 s upstream timeout), asserting the verdicts the ground truth measured for them."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import pytest

from mockorigin.compat.proxies import Proxy, free_port

from tests.compat.helpers import check_held, run_command, run_with_report, verdict
from tests.helpers import require_program

pytestmark = pytest.mark.e2e

FAST = ("--time-scale", "0.3", "--proxy-timeout", "1")


def through(kind: str, tmp_path, cases: str, *extra: str):
    """proxy-check through a fresh ``kind`` proxy; (completed process, cases by id)."""
    require_program({"nginx-ws": "nginx", "haproxy-nodelay": "haproxy"}.get(kind, kind))
    origin = free_port()
    with Proxy(kind, origin, tmp_path / kind, timeout=1.0) as proxy:
        return run_with_report(tmp_path, "proxy-check", "--origin", f"tcp:{origin}:interface=127.0.0.1", "--via", proxy.url, "--cases", cases, *FAST, *extra)


def test_the_origin_as_its_own_proxy_relays_everything_and_writes_every_report(tmp_path):
    port = free_port()
    junit, markdown = tmp_path / "report.xml", tmp_path / "report.md"
    result, cases = run_with_report(
        tmp_path, "proxy-check", "--origin", f"tcp:{port}:interface=127.0.0.1", "--via", f"http://127.0.0.1:{port}/",
        "--cases", "processing,echo,reset-mid-body", "--junit", str(junit), "--markdown", str(markdown), *FAST,
    )
    assert verdict(cases["processing"], "interims") == "[102×3] relayed live"
    assert verdict(cases["reset-mid-body"], "reset") == "200 head, then reset with 5/10 body bytes"
    assert verdict(cases["echo"], "upstream version") == "HTTP/1.1 for an HTTP/1.1 client"
    # no proxy removed the hop-by-hop header or added Via: those MUSTs fail, and the exit says so
    assert check_held(cases["echo"], "RFC 9110 §7.6.1") is False and result.returncode == 1
    client = cases["processing"]["observations"]["client"]
    assert [h["status"] for h in client["response"]["interims"]] == [102, 102, 102]
    (entry,) = cases["processing"]["observations"]["origin"]["entries"]
    assert [i["status"] for i in entry["interims"]] == [102, 102, 102]
    suites = ElementTree.parse(junit).getroot()
    failed = [c.get("name") for c in suites.iter("testcase") if c.find("failure") is not None]
    assert failed == ["echo"]
    assert "| `processing` | ok |" in markdown.read_text()
    assert re.search(r"^interim$", result.stdout, re.M) and "3 cases: 2 ok, 1 broke an RFC requirement" in result.stdout
    assert "\033[" not in result.stdout  # no colour off a terminal


def test_set_up_errors_exit_2_with_one_line(busy_port):
    unreachable = run_command("proxy-check", "--via", f"http://127.0.0.1:{free_port()}/", "--cases", "echo")
    assert unreachable.returncode == 2 and "unreachable" in unreachable.stderr.splitlines()[-1]
    taken = run_command("proxy-check", "--origin", f"tcp:{busy_port}:interface=127.0.0.1", "--via", "http://127.0.0.1:1/")
    assert taken.returncode == 2 and "address already in use" in taken.stderr.splitlines()[-1]
    unknown = run_command("proxy-check", "--via", "http://127.0.0.1:1/", "--cases", "nope")
    assert unknown.returncode == 2 and "'nope' names no case" in unknown.stderr
    missing = run_command("proxy-check")
    assert missing.returncode == 2 and "--via URL is required" in missing.stderr
    for output in (unreachable, taken, unknown, missing):
        assert "Traceback" not in output.stderr


def test_nginx_defaults(tmp_path):
    result, cases = through("nginx", tmp_path, "processing,100-then-close,continue-delayed,drip,hang-after-3-bytes,echo")
    assert verdict(cases["continue-delayed"], "Expect") == "answered by the proxy (Expect stripped upstream)"
    assert cases["continue-delayed"]["observations"]["client"]["response"]["interims"][0]["at"] < 0.1  # at once
    assert verdict(cases["processing"], "interims") == "[102×3] held until the final response"
    then_close = verdict(cases["100-then-close"], "no final response")
    assert then_close.startswith("[100] relayed, then nothing: the client was left waiting")
    assert verdict(cases["drip"], "drip").startswith("buffered until complete: 1 read")
    stall = cases["hang-after-3-bytes"]["observations"]["client"]
    assert stall["response"]["final"]["at"] >= 0.8 and stall["response"]["body_bytes"] == 0  # no head while stalled; 3 bytes dropped
    assert verdict(cases["echo"], "upstream version") == "HTTP/1.0 for an HTTP/1.1 client"


def test_nginx_websocket_and_streaming_recipe(tmp_path):
    result, cases = through("nginx-ws", tmp_path, "processing,websocket,drip-chunked,hang-after-3-bytes,echo,continue-delayed")
    assert verdict(cases["processing"], "interims") == "[102×3] relayed live"
    assert verdict(cases["websocket"], "upgrade").startswith("relayed: 101, the echo came back")
    assert verdict(cases["drip-chunked"], "drip").startswith("streamed: 20 reads")
    assert verdict(cases["hang-after-3-bytes"], "stall").startswith("200 head at once, then closed")
    assert cases["hang-after-3-bytes"]["observations"]["client"]["response"]["body_bytes"] == 3
    assert verdict(cases["echo"], "upstream version") == "HTTP/1.1 for an HTTP/1.1 client"
    assert verdict(cases["continue-delayed"], "Expect") == "answered by the proxy (Expect stripped upstream)"


def test_haproxy_defaults(tmp_path):
    result, cases = through("haproxy", tmp_path, "processing,hang,drip,100-then-close,continue-never,interim-to-http10")
    assert verdict(cases["processing"], "interims") == "[102×3] relayed live"
    hang = cases["hang"]["observations"]["client"]["response"]["final"]
    assert hang["status"] == 504 and 0.9 <= hang["at"] < 1.6  # its 1 s server timeout
    assert verdict(cases["drip"], "drip").startswith("coalesced")
    assert verdict(cases["100-then-close"], "no final response").startswith("turned into 502 after [100]")
    assert verdict(cases["continue-never"], "Expect") == "relayed (Expect kept upstream)"
    assert verdict(cases["continue-never"], "final").startswith("504")
    assert verdict(cases["interim-to-http10"], "upstream version") == "HTTP/1.0 for an HTTP/1.0 client"
    assert check_held(cases["interim-to-http10"], "RFC 9110 §15.2") is False and result.returncode == 1


def test_haproxy_with_http_no_delay_streams_a_drip(tmp_path):
    result, cases = through("haproxy-nodelay", tmp_path, "drip")
    assert verdict(cases["drip"], "drip").startswith("streamed: 20 reads")
    assert verdict(cases["drip-chunked"], "drip").startswith("streamed")
    assert result.returncode == 0  # nothing here is an RFC requirement


def test_port_0_origin_then_the_proxy_configured_from_the_ready_file(tmp_path):
    """The documented flow when the origin's port is not fixed: --origin-ready, then start the
    proxy from what it says, while proxy-check waits for it (--wait-for-proxy)."""
    import json
    import subprocess
    import sys
    import time

    require_program("haproxy")
    ready, report = tmp_path / "origin.json", tmp_path / "report.json"
    proxy_port = free_port()
    check = subprocess.Popen(
        [sys.executable, "-m", "mockorigin", "proxy-check", "--origin-ready", str(ready), "--wait-for-proxy", "20",
         "--via", f"http://127.0.0.1:{proxy_port}/", "--cases", "echo", "--json", str(report), *FAST],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 15
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        origin = json.loads(ready.read_text())
        assert origin["url"] == f"http://127.0.0.1:{origin['port']}/" and origin["port"] != 0
        proxy = Proxy("haproxy", origin["port"], tmp_path / "haproxy", timeout=1.0)
        proxy.port = proxy_port
        with proxy:
            out, err = check.communicate(timeout=60)
    finally:
        if check.poll() is None:
            check.kill()
            check.wait()
    (case,) = json.loads(report.read_text())["cases"]
    assert verdict(case, "upstream version") == "HTTP/1.1 for an HTTP/1.1 client"
    assert f"origin: {origin['url']}" in err
