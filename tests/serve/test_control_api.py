"""The control API over loopback: refusals, the behaviour set, journal, reset, connections."""

from __future__ import annotations

import os
import socket
import time
import urllib.request

import pytest
import urllib3

from mockorigin import ControlError
from mockorigin.format.loader import load_paths

from tests.helpers import CATALOGUE, Hammer

pytestmark = pytest.mark.e2e

TOKEN = "s3cret-token-value"

SEQUENCE = """
name: flaky
match: {path: /flaky}
sequence:
  - [{respond: 503}]
  - [{respond: 200}]
---
name: hang
match: {path: /hang}
script: [{read_body: {}}, {hang: {}}]
"""


def raw_admin(server, path: str, headers: dict[str, str], method: str = "GET") -> int:
    """Status of a hand-made request, so Host and Origin are exactly what the test says."""
    host, port = server.admin.split("//")[1].strip("/").rsplit(":", 1)
    lines = [f"{method} {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()] + ["Connection: close", "", ""]
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall("\r\n".join(lines).encode())
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
    return int(reply[9:12])


def test_foreign_host_and_any_origin_are_refused(server):
    s = server()
    port = s.admin.rsplit(":", 1)[1].strip("/")
    assert raw_admin(s, "/health", {"Host": f"127.0.0.1:{port}"}) == 200
    assert raw_admin(s, "/health", {"Host": f"localhost:{port}"}) == 200
    assert raw_admin(s, "/health", {"Host": "evil.example"}) == 403
    assert raw_admin(s, "/health", {"Host": f"evil.example:{port}"}) == 403
    assert raw_admin(s, "/health", {"Host": "127.0.0.1", "Origin": "https://evil.example"}) == 403
    assert raw_admin(s, "/health", {"Host": "127.0.0.1", "Origin": "null"}) == 403


def test_a_token_is_required_exactly(server):
    s = server("--admin-token", TOKEN)
    host = {"Host": "127.0.0.1"}
    cases = {
        "none": {},
        "wrong": {"Authorization": "Bearer nope"},
        "basic": {"Authorization": f"Basic {TOKEN}"},
        "wrong case": {"Authorization": f"bearer {TOKEN}"},
        "prefix": {"Authorization": f"Bearer {TOKEN[:-1]}"},
    }
    for name, headers in cases.items():
        assert raw_admin(s, "/health", {**host, **headers}) == 401, name
        assert raw_admin(s, "/journal", {**host, **headers}) == 401, name
        assert raw_admin(s, "/reset", {**host, **headers}, "POST") == 401, name
    assert raw_admin(s, f"/health?token={TOKEN}", host) == 401
    assert raw_admin(s, "/health", {**host, "Authorization": f"Bearer {TOKEN}"}) == 200
    assert s.control(TOKEN).health()["status"] == "ok"
    assert TOKEN not in s.log()


def test_token_from_the_environment(server):
    s = server(env={**os.environ, "MOCKORIGIN_ADMIN_TOKEN": TOKEN})
    with pytest.raises(ControlError) as caught:
        s.control().health()
    assert caught.value.status == 401
    assert s.control(TOKEN).health()["status"] == "ok"


def test_bodies_must_be_json_or_yaml_and_bounded(server):
    s = server()
    control = s.control()
    request = urllib.request.Request(s.admin + "behaviours", data=b"name: x", method="PUT", headers={"Content-Type": "text/plain"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    caught.value.close()
    assert caught.value.code == 415
    big = urllib.request.Request(s.admin + "behaviours", data=b"#" * (1024 * 1024 + 10), method="PUT", headers={"Content-Type": "application/yaml"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(big, timeout=5)
    caught.value.close()
    assert caught.value.code == 413
    assert len(control.behaviours()) == len(load_paths([str(CATALOGUE)]))  # unchanged


def test_an_invalid_set_is_refused_whole_with_locations(server):
    s = server()
    control = s.control()
    before = control.behaviours()
    with pytest.raises(ControlError) as caught:
        control.replace("match: {path: /a}\nscript: [{respond: 600}, {wiat: 1s}]\n")
    assert caught.value.status == 400
    assert [p["text"] for p in caught.value.problems] == [
        "request-body:2:20: 600 is out of range: must be at most 599",
        "request-body:2:27: unknown step 'wiat' (did you mean 'wait'?)",
    ]
    assert control.behaviours() == before
    with pytest.raises(ControlError) as caught:
        control.replace("script: [{respond: !!python/object/apply:os.system ['true']}]")
    assert "unsupported YAML tag" in str(caught.value)


def test_replace_add_delete(server):
    s = server()
    control = s.control()
    names = [b["name"] for b in control.replace(SEQUENCE)]
    assert names == ["flaky", "hang"]
    assert urllib3.request("GET", f"{s.url}/echo", timeout=5).status == 404  # the catalogue is gone
    control.add("name: extra\nmatch: {path: /extra}\nscript: [{respond: 201}]")
    assert urllib3.request("GET", f"{s.url}/extra", timeout=5).status == 201
    with pytest.raises(ControlError) as caught:
        control.add("name: extra\nmatch: {path: /other}\nscript: [{respond: 201}]")
    assert caught.value.status == 409 and "already used" in str(caught.value)
    control.delete("extra")
    assert urllib3.request("GET", f"{s.url}/extra", timeout=5).status == 404
    with pytest.raises(ControlError) as caught:
        control.delete("extra")
    assert caught.value.status == 404


def test_json_bodies_are_accepted(server):
    s = server()
    request = urllib.request.Request(
        s.admin + "behaviours", method="PUT", headers={"Content-Type": "application/json"},
        data=b'[{"name": "j", "match": {"path": "/j"}, "script": [{"respond": 202}]}]',
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
    assert urllib3.request("GET", f"{s.url}/j", timeout=5).status == 202


def test_journal_filters_and_reset_restarts_sequences(server):
    s = server()
    control = s.control()
    control.replace(SEQUENCE + "---\nname: ok\nmatch: {path: /ok}\nscript: [{respond: 204}]\n")
    statuses = [urllib3.request("GET", f"{s.url}/flaky", retries=False, timeout=5).status for _ in range(3)]
    assert statuses == [503, 200, 200]
    urllib3.request("GET", f"{s.url}/ok", timeout=5)
    entries = control.wait_for(4)
    assert [e.final.status for e in control.journal(behaviour="flaky")] == [503, 200, 200]
    assert [e.behaviour for e in control.journal(since=entries[2].seq)] == ["ok"]
    control.reset()
    assert control.journal() == []
    assert urllib3.request("GET", f"{s.url}/flaky", retries=False, timeout=5).status == 503
    control.clear_journal()
    assert control.journal() == []


def test_wait_for_times_out_with_what_it_saw(server):
    s = server()
    control = s.control()
    urllib3.request("GET", f"{s.url}/echo?only-one", timeout=5)
    started = time.monotonic()
    with pytest.raises(TimeoutError) as caught:
        control.wait_for(2, timeout=0.3)
    assert time.monotonic() - started < 2 and "GET /echo?only-one" in str(caught.value)


def test_connections_show_where_each_script_stands(server):
    s = server()
    control = s.control()
    with socket.create_connection((s.host, s.port), timeout=5) as sock:
        sock.sendall(b"GET /hang HTTP/1.1\r\nHost: a\r\n\r\n")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            connections = control.connections()
            if connections and connections[0]["stage"] == "2:hang":
                break
            time.sleep(0.02)
        assert connections[0]["behaviour"] == "hang" and connections[0]["request"] == "GET /hang"
    assert control.health()["connections"] <= 1


def test_replace_under_load_is_atomic(server):
    s = server()
    control = s.control()
    set_a = "name: a\nmatch: {path: /x}\nscript: [{respond: {status: 200, body: A}}]"
    set_b = "name: b\nmatch: {path: /x}\nscript: [{respond: {status: 200, body: B}}]\n---\nname: extra\nmatch: {path: /y}\nscript: [{respond: 204}]"
    control.replace(set_a)
    with Hammer(s, "/x") as hammer:
        replaced, deadline = 0, time.monotonic() + 20
        while (len(hammer.seen) < 300 or replaced < 40) and time.monotonic() < deadline:
            control.replace(set_b if replaced % 2 else set_a)
            replaced += 1
    seen = hammer.seen
    assert len(seen) >= 300 and replaced >= 40
    assert {pair for pair in seen} <= {(200, b"A"), (200, b"B")}


def test_select_compose_and_restore(server, tmp_path):
    s = server()
    control = s.control()
    assert [b["name"] for b in control.select("echo", "drip")] == ["echo", "drip"]
    assert urllib3.request("GET", f"{s.url}/hang", timeout=5).status == 404
    with pytest.raises(ControlError) as caught:
        control.select("no-such-behaviour")
    assert caught.value.status == 404
    with pytest.raises(ControlError) as caught:
        control.compose(files=[("mine.yaml", "script: [{respond: 600}]")])
    assert [p["text"] for p in caught.value.problems] == ["mine.yaml:1:20: 600 is out of range: must be at most 599"]
    names = [b["name"] for b in control.compose(select=["echo"], files=[("mine.yaml", "match: {path: /m}\nscript: [{respond: 204}]")])]
    assert names == ["echo", "mine"] and urllib3.request("GET", f"{s.url}/m", timeout=5).status == 204
    assert len(control.restore()) == len(load_paths([str(CATALOGUE)]))


def test_a_journal_file_that_cannot_be_written_degrades_health_but_serving_goes_on(server):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    s = server("--journal", "/dev/full")
    control = s.control()
    for index in range(20):
        assert urllib3.request("GET", f"{s.url}/echo?{index}", timeout=5).status == 200
    deadline = time.monotonic() + 5
    while control.health()["journal"]["write_failures"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    health = control.health()
    assert health["status"] == "degraded" and health["journal"]["write_failures"] >= 1
    assert "could not be written" in health["problems"][0]
    assert len(control.journal()) == 20  # the in-memory journal still has every entry
    assert s.stop() == 0
    assert "Traceback" not in s.log() and "Unhandled" not in s.log()
