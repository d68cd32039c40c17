"""What did my client do? Real clients that behave differently, told apart by the journal."""

from __future__ import annotations

import socket
import subprocess
import time

import pytest
import urllib3

from tests.helpers import ROOT, require_program
from tests.helpers import marker

pytestmark = pytest.mark.e2e


def entry_for(origin, mark: str):
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = [e for e in origin.control().journal() if e.request and mark in e.request.target]
        if found:
            return found[0]
        time.sleep(0.02)
    raise AssertionError(f"no entry for {mark}")


def test_curl_waits_for_the_100(origin):
    mark = marker()
    subprocess.run(
        [require_program("curl"), "-sS", "-H", "Expect: 100-continue", "--expect100-timeout", "3", "--data-binary", "hello", f"{origin.url}/continue/delayed?delay=300ms&m={mark}"],
        check=True, capture_output=True, timeout=30,
    )
    facts = entry_for(origin, mark).facts
    assert facts.expect_continue and facts.continue_sent
    assert facts.sent_body_before_continue is False and facts.body_bytes_before_continue == 0
    assert 0.3 <= facts.waited_for_continue < 0.6


def test_urllib3_sends_the_body_without_waiting(origin):
    mark = marker()
    response = urllib3.request("POST", f"{origin.url}/continue/delayed?delay=300ms&m={mark}", body=b"hello", headers={"Expect": "100-continue"}, timeout=5)
    assert response.status == 200
    facts = entry_for(origin, mark).facts
    assert facts.sent_body_before_continue is True and facts.body_bytes_before_continue == 5
    assert facts.waited_for_continue < 0.1


def test_node_waits_for_continue_when_asked(origin):
    mark = marker()
    subprocess.run(
        [require_program("node"), str(ROOT / "tests" / "node" / "client.js"), f"{origin.url}/continue/delayed?delay=300ms&m={mark}", "POST", "hello", "expect"],
        check=True, capture_output=True, timeout=30,
    )
    facts = entry_for(origin, mark).facts
    assert facts.sent_body_before_continue is False and 0.3 <= facts.waited_for_continue < 0.6


def test_a_client_that_sends_the_body_after_a_417(origin):
    mark = marker()
    with socket.create_connection((origin.host, origin.port), timeout=5) as sock:
        sock.sendall(f"POST /continue/reject?m={mark} HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n".encode())
        assert sock.recv(4096).startswith(b"HTTP/1.1 417 ")
        try:
            sock.sendall(b"hello")  # sent anyway
        except OSError:
            pass
        time.sleep(0.1)
    entry = entry_for(origin, mark)
    assert entry.final.status == 417
    assert entry.facts.body_after_final_response is True and entry.facts.body_bytes_after_final_response == 5
    assert entry.facts.response_said_close is True


def test_a_client_that_reuses_a_connection_the_server_closed(origin):
    mark = marker()
    with socket.create_connection((origin.host, origin.port), timeout=5) as sock:
        sock.sendall(f"POST /continue/reject?m={mark} HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n".encode())
        assert sock.recv(4096).startswith(b"HTTP/1.1 417 ")
        try:
            sock.sendall(b"GET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
        except OSError:
            pass
        time.sleep(0.1)
    entry = entry_for(origin, mark)
    assert entry.facts.reused_after_connection_close is True


def test_a_client_that_gives_up_during_102s(origin):
    mark = marker()
    with socket.create_connection((origin.host, origin.port), timeout=5) as sock:
        sock.sendall(f"GET /processing?count=10&every=50ms&m={mark} HTTP/1.1\r\nHost: a\r\n\r\n".encode())
        received = b""
        while received.count(b"102 Processing") < 3:
            received += sock.recv(4096)
    entry = entry_for(origin, mark)
    assert entry.final is None and entry.ended.by == "client"
    assert 3 <= entry.facts.interims_before_close <= 5
