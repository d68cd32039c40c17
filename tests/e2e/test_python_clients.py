"""Python clients and raw sockets over loopback, and the server process itself."""

from __future__ import annotations

import http.client
import json
import re
import signal
import socket
import struct
import subprocess
import sys
import time

import pytest
import urllib3

from tests.helpers import ROOT, start_server
from tests.helpers import journal_entry, marker

pytestmark = pytest.mark.e2e


def raw_exchange(server, data: bytes, timeout: float = 5.0) -> tuple[bytes, str]:
    """Send ``data``; read until the server ends the connection. Returns (bytes, "fin" | "rst")."""
    with socket.create_connection((server.host, server.port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            return received, "rst"
        return received, "fin"


def test_http_client_sends_the_body_without_waiting_and_the_journal_says_so(catalogue_server):
    mark = marker()
    connection = http.client.HTTPConnection(catalogue_server.host, catalogue_server.port, timeout=5)
    connection.request("POST", f"/continue/delayed?delay=300ms&m={mark}", body=b"hello", headers={"Expect": "100-continue"})
    response = connection.getresponse()
    assert response.status == 200 and json.loads(response.read()) == {"received": 5}
    connection.close()
    entry = journal_entry(catalogue_server, mark)
    assert entry["facts"]["sent_body_before_continue"] is True
    assert entry["facts"]["waited_for_continue"] < 0.2


def test_urllib3_keep_alive_reuses_one_connection(catalogue_server):
    pool = urllib3.HTTPConnectionPool(catalogue_server.host, catalogue_server.port, maxsize=1, timeout=5)
    marks = [marker() for _ in range(3)]
    for mark in marks:
        response = pool.request("GET", f"/echo?m={mark}")
        assert response.status == 200
    connections = {journal_entry(catalogue_server, m)["connection"] for m in marks}
    assert len(connections) == 1
    pool.close()


def test_urllib3_read_timeout_fires_on_a_drip_slower_than_it(catalogue_server):
    pool = urllib3.HTTPConnectionPool(catalogue_server.host, catalogue_server.port, retries=False)
    response = pool.request("GET", "/drip?bytes=3&every=600ms", preload_content=False, timeout=urllib3.Timeout(read=0.3))
    assert response.status == 200
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        response.read()
    pool.close()


def test_urllib3_reads_a_whole_drip_within_its_timeout(catalogue_server):
    pool = urllib3.HTTPConnectionPool(catalogue_server.host, catalogue_server.port, retries=False)
    response = pool.request("GET", "/drip?bytes=4&every=50ms", timeout=urllib3.Timeout(read=1))
    assert response.status == 200 and len(response.data) == 4
    pool.close()


def test_reset_after_headers_sends_rst_after_the_whole_head_and_never_a_fin(catalogue_server):
    received, ending = raw_exchange(catalogue_server, b"GET /reset/after-headers HTTP/1.1\r\nHost: a\r\n\r\n")
    assert ending == "rst"
    assert received.startswith(b"HTTP/1.1 200 OK\r\n") and received.endswith(b"\r\n\r\n")


def test_continue_reject_closes_with_fin(catalogue_server):
    received, ending = raw_exchange(catalogue_server, b"POST /continue/reject HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 9\r\n\r\n")
    assert ending == "fin" and received.startswith(b"HTTP/1.1 417 Expectation Failed\r\n")


def test_pipelined_requests_come_back_in_order(catalogue_server):
    requests = b"GET /drip?bytes=2&every=100ms HTTP/1.1\r\nHost: a\r\n\r\nGET /echo?second HTTP/1.1\r\nHost: a\r\n\r\nGET /early-hints HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    received, ending = raw_exchange(catalogue_server, requests)
    statuses = re.findall(rb"HTTP/1\.1 \d{3} [^\r]*", received)
    assert statuses == [b"HTTP/1.1 200 OK", b"HTTP/1.1 200 OK", b"HTTP/1.1 103 Early Hints", b"HTTP/1.1 200 OK"]
    assert received.index(b"/echo?second") > received.index(b"mo")  # the drip's body came first
    assert ending == "fin"


def test_http10_client_gets_no_interim_and_a_close(catalogue_server):
    received, ending = raw_exchange(catalogue_server, b"GET /processing?count=2&every=10ms HTTP/1.0\r\n\r\n")
    assert b"102" not in received.split(b"\r\n")[0] and received.startswith(b"HTTP/1.1 200 OK\r\n")
    assert ending == "fin"


def test_the_server_survives_a_client_that_resets_mid_script(catalogue_server):
    with socket.create_connection((catalogue_server.host, catalogue_server.port), timeout=5) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.sendall(b"GET /processing?count=5&every=100ms&m=rstclient HTTP/1.1\r\nHost: a\r\n\r\n")
        sock.recv(100)
    entry = journal_entry(catalogue_server, "rstclient")
    assert entry["ended"]["how"] in ("client reset", "client closed")
    assert entry["facts"]["interims_before_close"] >= 1
    assert urllib3.request("GET", f"{catalogue_server.url}/echo", timeout=5).status == 200


def wait_until_running(server, count: int, timeout: float = 5.0) -> None:
    """Until ``count`` connections are running a script (a loaded machine may take a while)."""
    control = server.control()
    deadline = time.monotonic() + timeout
    while sum(c["request"] is not None for c in control.connections()) < count:
        assert time.monotonic() < deadline, control.connections()
        time.sleep(0.01)


def test_sigterm_lets_running_scripts_finish_and_cuts_hangs(tmp_path):
    server = start_server(tmp_path, "--grace", "1", "--journal", str(tmp_path / "j.jsonl"))
    drip = socket.create_connection((server.host, server.port), timeout=5)
    drip.sendall(b"GET /drip?bytes=4&every=100ms HTTP/1.1\r\nHost: a\r\n\r\n")
    hang = socket.create_connection((server.host, server.port), timeout=5)
    hang.sendall(b"GET /hang HTTP/1.1\r\nHost: a\r\n\r\n")
    wait_until_running(server, 2)
    started = time.monotonic()
    code = server.stop(timeout=10)
    elapsed = time.monotonic() - started
    assert code == 0 and 0.9 <= elapsed < 3.0
    received = b""
    while chunk := drip.recv(4096):
        received += chunk
    assert received.endswith(b"\r\n\r\nmock")  # the drip finished within the grace period
    with pytest.raises((ConnectionResetError, OSError)):
        if hang.recv(10) == b"":
            raise OSError("closed")
    entries = [json.loads(line) for line in (tmp_path / "j.jsonl").read_text().splitlines()]
    assert sorted(e["ended"]["how"] for e in entries) == ["completed", "hang cut"]
    assert not (tmp_path / "ready.json").exists()
    drip.close()
    hang.close()


def test_a_second_sigterm_ends_the_drain_at_once(tmp_path):
    server = start_server(tmp_path, "--grace", "30", "--journal", str(tmp_path / "j.jsonl"))
    try:
        hang = socket.create_connection((server.host, server.port), timeout=5)
        hang.sendall(b"GET /hang HTTP/1.1\r\nHost: a\r\n\r\n")
        wait_until_running(server, 1)
        server.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # the drain has begun once the listener is closed
            try:
                socket.create_connection((server.host, server.port), timeout=1).close()
            except ConnectionRefusedError:
                break
            time.sleep(0.02)
        else:
            pytest.fail("the listener stayed open after SIGTERM")
        assert server.process.poll() is None  # draining: the hang could run for the 30 s grace
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=10) == 0 and time.monotonic() - started < 2
        with pytest.raises((ConnectionResetError, OSError)):
            if hang.recv(10) == b"":
                raise OSError("closed")
        entries = [json.loads(line) for line in (tmp_path / "j.jsonl").read_text().splitlines()]
        assert [e["ended"]["how"] for e in entries if e["request"]] == ["hang cut"]  # (the probes sent no request)
        hang.close()
    finally:
        if server.process.poll() is None:  # only if the test failed: end the server it started
            server.process.kill()
            server.process.wait()


def test_port_in_use_fails_fast_naming_the_address(busy_port):
    port = busy_port
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "mockorigin", "serve", "--listen", f"tcp:{port}:interface=127.0.0.1"],
        capture_output=True, text=True, cwd=ROOT, timeout=30,
    )
    assert result.returncode == 1 and time.monotonic() - started < 5
    assert f"cannot listen on tcp:{port}:interface=127.0.0.1: address already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_unix_socket_listener_is_named_and_served(tmp_path):
    path = tmp_path / "origin.sock"
    ready = tmp_path / "ready.json"
    server = subprocess.Popen([sys.executable, "-m", "mockorigin", "serve", "--quiet", "--listen", f"unix:{path}", "--ready-file", str(ready)], cwd=ROOT)
    try:
        for _ in range(200):  # bounded: 10 s
            if ready.exists():
                break
            time.sleep(0.05)
        assert json.loads(ready.read_text())["urls"] == ["http+unix://" + str(path).replace("/", "%2F") + "/"]
        with socket.socket(socket.AF_UNIX) as client:
            client.settimeout(5)
            client.connect(str(path))
            client.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\nGET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            received = b""
            while chunk := client.recv(65536):  # to the server's FIN, bounded by the timeout
                received += chunk
        assert received.count(b"HTTP/1.1 200 OK\r\n") == 2
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=10) == 0


def test_ready_file_names_the_real_port(tmp_path):
    server = start_server(tmp_path)
    info = json.loads((tmp_path / "ready.json").read_text())
    assert info["pid"] == server.process.pid and info["urls"] == [f"http://127.0.0.1:{server.port}/"]
    assert server.port != 0
    assert server.stop() == 0


def test_sigint_stops_a_server_started_with_sigint_ignored(tmp_path):
    """A shell starts background jobs with SIGINT ignored; `kill -INT` must still stop the server."""
    ready = tmp_path / "ready.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "mockorigin", "serve", "--listen", "tcp:0:interface=127.0.0.1", "--ready-file", str(ready)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        deadline = time.monotonic() + 10
        while not ready.exists():
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
