"""The journal tells the truth about how each exchange ended (issue #12 §1), over real loopback sockets.

Each test drives a raw socket the way a client or proxy does it (a FIN at a chosen
moment, a request pipelined behind an abandoned script, the next request sent
instead of a body) and asserts what the entry says, with explicit tolerances.
"""

from __future__ import annotations

import socket
import time
from datetime import datetime, timezone

import pytest

from tests.helpers import marker

pytestmark = pytest.mark.e2e

SLACK = 0.15  # seconds of scheduling noise allowed on a loaded machine


def entries_for(origin, mark: str, count: int = 1, timeout: float = 5.0) -> list:
    deadline = time.monotonic() + timeout
    while True:
        found = [e for e in origin.control().journal() if e.request and mark in e.request.target]
        if len(found) >= count or time.monotonic() > deadline:
            assert len(found) >= count, f"{len(found)} entries for {mark}"
            return found
        time.sleep(0.02)


def read_until(sock: socket.socket, needle: bytes, timeout: float = 5.0) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while needle not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_a_client_that_closes_during_a_drip_is_recorded_at_its_fin_not_at_the_next_write(origin):
    mark = marker()
    sock = socket.create_connection((origin.host, origin.port))
    started = time.monotonic()
    sock.sendall(f"GET /drip?bytes=20&every=100ms&m={mark} HTTP/1.1\r\nHost: a\r\n\r\n".encode())
    sock.settimeout(0.05)
    while time.monotonic() - started < 0.55:  # drain what has come so far
        try:
            sock.recv(65536)
        except TimeoutError:
            pass
    sock.shutdown(socket.SHUT_WR)  # a FIN at about 0.55 s, in the middle of the drip
    closed_after = time.monotonic() - started
    sock.close()  # bytes that come after this, unread, make the kernel answer with RST
    (entry,) = entries_for(origin, mark)
    ended = entry.ended
    assert (ended.how, ended.by, ended.signal) == ("client closed", "client", "FIN")
    assert ended.at == pytest.approx(closed_after, abs=SLACK) and ended.stage == "2:respond"
    assert ended.client.fin.at == pytest.approx(closed_after, abs=SLACK)


def test_interims_before_close_counts_only_those_sent_before_the_client_left(origin):
    mark = marker()
    with socket.create_connection((origin.host, origin.port)) as sock:
        sock.sendall(f"GET /processing?count=3&every=300ms&m={mark} HTTP/1.1\r\nHost: a\r\n\r\n".encode())
        read_until(sock, b"102 Processing")
        time.sleep(0.1)
        sock.shutdown(socket.SHUT_WR)  # a FIN after the first 102; it still reads
        sock.settimeout(5)
        rest = b""
        while chunk := sock.recv(65536):
            rest += chunk
    (entry,) = entries_for(origin, mark)
    assert entry.ended.by == "client" and entry.ended.signal == "FIN"
    assert entry.ended.at == pytest.approx(0.1, abs=SLACK)
    assert entry.facts.interims_before_close == 1
    assert entry.facts.interims_after_client_left == 2
    assert [i.after_client_left for i in entry.interims] == [False, True, True]
    assert entry.final.status == 200 and rest.count(b"102 Processing") == 2  # the script went on: the client could still read


def test_a_request_pipelined_behind_an_abandoned_script_gets_an_entry_saying_so(origin):
    mark = marker()
    with socket.create_connection((origin.host, origin.port)) as sock:
        sock.sendall(f"GET /hang?m={mark}-1 HTTP/1.1\r\nHost: a\r\n\r\nGET /echo?m={mark}-2 HTTP/1.1\r\nHost: a\r\n\r\n".encode())
        time.sleep(0.2)
    first, second = entries_for(origin, mark, 2)
    assert first.request.target.endswith("-1") and first.ended.by == "client"
    assert second.request.target.endswith("-2") and second.final is None
    assert "pipelined" in second.unanswered and "client closed" in second.unanswered


def test_a_request_that_arrives_while_the_server_is_closing_gets_an_entry(server, tmp_path):
    behaviours = tmp_path / "b.yaml"
    behaviours.write_text("match: {path: /then-close}\nscript: [{respond: 200}, {wait: 300ms}, {close: {}}]\n")
    s = server(str(behaviours))
    mark = marker()
    with socket.create_connection((s.host, s.port)) as sock:
        sock.sendall(f"GET /then-close?m={mark}-1 HTTP/1.1\r\nHost: a\r\n\r\n".encode())
        read_until(sock, b"\r\n\r\n")
        sock.sendall(f"GET /then-close?m={mark}-2 HTTP/1.1\r\nHost: a\r\n\r\n".encode())  # during the wait
        sock.settimeout(5)
        while sock.recv(65536):
            pass
    first, second = entries_for(s, mark, 2)
    assert first.final.status == 200 and first.ended.server.why == "the script's close step"
    assert second.final is None and "the server closed the connection before its turn" in second.unanswered


def test_a_proxy_that_gives_up_mid_body_is_the_one_that_ended_it_and_no_400_is_invented(origin):
    mark = marker()
    with socket.create_connection((origin.host, origin.port)) as sock:
        sock.sendall(f"POST /continue/never?m={mark} HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\nhello".encode())
        time.sleep(0.1)
        sock.shutdown(socket.SHUT_WR)  # as Apache does after its 100-continue timeout
        sock.settimeout(5)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    (entry,) = entries_for(origin, mark)
    assert b"400" not in received and all("400" not in p for p in entry.problems)
    assert entry.ended.by == "client" and entry.ended.signal == "FIN"
    assert entry.request.body_length == 5 and entry.request.body_complete is False


def test_the_next_request_after_a_final_answer_to_expect_is_not_counted_as_body(origin):
    mark = marker()
    with socket.create_connection((origin.host, origin.port)) as sock:
        sock.sendall(f"POST /continue/reject?m={mark}-1 HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n".encode())
        assert read_until(sock, b"\r\n\r\n").startswith(b"HTTP/1.1 417 ")
        sock.sendall(f"GET /echo?m={mark}-2 HTTP/1.1\r\nHost: a\r\nUser-Agent: curl\r\n\r\n".encode())  # curl does this
        time.sleep(0.2)
    first, second = entries_for(origin, mark, 2)
    assert first.facts.body_after_final_response is False and first.facts.body_bytes_after_final_response == 0
    assert first.facts.next_request_instead_of_body is True and first.facts.reused_after_connection_close is True
    assert second.final is None and "after the server had closed" in second.unanswered


def test_each_entry_counts_from_its_own_request_and_says_when_it_was(origin):
    mark = marker()
    before = datetime.now(timezone.utc)
    with socket.create_connection((origin.host, origin.port)) as sock:
        sock.sendall(f"GET /echo?m={mark}-1 HTTP/1.1\r\nHost: a\r\n\r\n".encode())
        read_until(sock, b"}")
        time.sleep(0.3)
        sock.sendall(f"POST /continue/delayed?delay=200ms&m={mark}-2 HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n".encode())
        read_until(sock, b"100 Continue")
        sock.sendall(b"hi")
        read_until(sock, b"received")
    first, second = entries_for(origin, mark, 2)
    assert second.connection == first.connection
    assert second.connection_offset == pytest.approx(0.3, abs=SLACK)
    assert second.times.head_started == 0.0 and second.times.head < 0.05
    assert second.interims[0].at == pytest.approx(0.2, abs=SLACK)
    started = datetime.fromisoformat(second.started_at.replace("Z", "+00:00"))
    assert 0.2 < (started - before).total_seconds() < 0.3 + 1.0
