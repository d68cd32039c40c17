"""The debug view the stress suite reads to find leaks: timers, deadlines, connections, descriptors."""

from __future__ import annotations

import os
import socket
import time

import pytest

from tests.serve.test_admin_bodies import Admin

pytestmark = pytest.mark.e2e


def wait_until(check, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def test_timers_and_connections_come_back_to_the_baseline(server):
    s = server()
    control = s.control()
    baseline = control.timers()
    assert set(baseline) == {"delayed_calls", "deadlines", "connections", "open_fds"}
    assert baseline["connections"] == 0 and baseline["deadlines"] == 0
    # counted while the control API's own connection was open; seen from here once it has closed
    assert wait_until(lambda: len(os.listdir(f"/proc/{s.process.pid}/fd")) == baseline["open_fds"] - 1)
    hanging = [socket.create_connection((s.host, s.port), timeout=5) for _ in range(3)]
    try:
        for sock in hanging:
            sock.sendall(b"GET /hang HTTP/1.1\r\nHost: a\r\n\r\n")
        during = wait_until(lambda: (t := control.timers())["connections"] == 3 and t)
        assert during["deadlines"] == 3 and during["open_fds"] >= baseline["open_fds"] + 3
        connections = control.connections()
        assert [c["stage"] for c in connections] == ["2:hang"] * 3
        assert all(c["deadline"]["kind"] == "hang cut" and c["hanging"] for c in connections)
    finally:
        for sock in hanging:
            sock.close()
    after = wait_until(lambda: (t := control.timers())["connections"] == 0 and t)
    assert after == {**baseline, "delayed_calls": after["delayed_calls"]}
    assert after["delayed_calls"] <= baseline["delayed_calls"]


def test_connections_say_what_each_one_waits_for(server):
    s = server()
    control = s.control()
    with socket.create_connection((s.host, s.port), timeout=5) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
        (connection,) = wait_until(lambda: [c for c in control.connections() if c["request"] == "POST /echo"])
        assert connection["deadline"]["kind"] == "body" and 0 < connection["deadline"]["in"] <= 60
        assert connection["waiting_for_client_to_read"] is False and connection["hanging"] is False
    idle = socket.create_connection((s.host, s.port), timeout=5)
    with idle:
        (connection,) = wait_until(lambda: [c for c in control.connections() if c["stage"] == "idle"])
        assert connection["deadline"]["kind"] == "idle" and connection["step_timer"] is False


def test_the_debug_view_keeps_the_guards(server):
    s = server("--admin-token", "tok")
    admin = Admin(s.admin)
    assert admin.call("GET", "/debug/timers")[0] == 401
    assert admin.call("GET", "/debug/timers", Authorization="Bearer tok")[0] == 200
    assert admin.call("GET", "/debug/timers", Authorization="Bearer tok", Origin="https://evil.example")[0] == 403
    assert admin.call("GET", "/debug/timers", Authorization="Bearer tok", Host="evil.example")[0] == 403
    assert admin.call("GET", "/connections", Authorization="Bearer wrong")[0] == 401
    admin.close()
