"""--watch: changes go live within one interval; a broken set is refused whole and the old one keeps serving."""

from __future__ import annotations

import os
import time

import pytest
import urllib3

from tests.helpers import Hammer

pytestmark = pytest.mark.e2e

A = "name: a\nmatch: {path: /a}\nscript: [{respond: {status: 200, body: A}}]\n"
B = "name: a\nmatch: {path: /a}\nscript: [{respond: {status: 200, body: B}}]\n"


def body(server, path="/a") -> bytes:
    return urllib3.request("GET", server.url + path, timeout=5, retries=False).data


def until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def write_by_rename(path, text: str) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


@pytest.fixture
def watched(server, tmp_path):
    folder = tmp_path / "behaviours"
    folder.mkdir()
    (folder / "a.yaml").write_text(A)
    return server(str(folder), "--watch"), folder


def test_a_change_goes_live_and_a_broken_set_keeps_the_old_one(watched):
    s, folder = watched
    control = s.control()
    with Hammer(s, "/a", pause=0.005) as hammer:
        write_by_rename(folder / "a.yaml", B)
        assert until(lambda: body(s) == b"B")

        write_by_rename(folder / "b.yaml", "name: b\nmatch: {path: /b}\nscript: [{respond: 600}]\n")
        assert until(lambda: control.health()["status"] == "degraded")
        health = control.health()
        assert any(line.endswith("b.yaml:3:20: 600 is out of range: must be at most 599") for line in health["reload"]["last_error"])
        assert body(s) == b"B" and urllib3.request("GET", s.url + "/b", timeout=5).status == 404

        write_by_rename(folder / "b.yaml", "name: b\nmatch: {path: /b}\nscript: [{respond: 204}]\n")
        assert until(lambda: urllib3.request("GET", s.url + "/b", timeout=5).status == 204)
        assert control.health()["status"] == "ok"

        with open(folder / "a.yaml", "r+") as handle:  # truncated in place
            handle.truncate(20)
        assert until(lambda: control.health()["status"] == "degraded")
        assert body(s) == b"B"
    served = [data if status == 200 else b"status %d" % status for status, data in hammer.seen]
    assert served and set(served) <= {b"A", b"B"}  # never a partial set, never an error


def test_a_missing_body_file_or_a_link_out_refuses_the_reload(watched, tmp_path):
    s, folder = watched
    control = s.control()
    (folder / "payload.txt").write_text("payload")
    write_by_rename(folder / "a.yaml", "name: a\nmatch: {path: /a}\nscript: [{respond: {status: 200, body_file: payload.txt}}]\n")
    assert until(lambda: body(s) == b"payload")
    os.unlink(folder / "payload.txt")
    (folder / "payload.txt").symlink_to(tmp_path / "outside.txt")
    (tmp_path / "outside.txt").write_text("secret")
    write_by_rename(folder / "a.yaml", "name: a\nmatch: {path: /a}\nscript: [{respond: {status: 200, body_file: payload.txt}}]\n# touched\n")
    assert until(lambda: control.health()["status"] == "degraded")
    assert "outside the behaviours folder" in "".join(control.health()["reload"]["last_error"])
    with pytest.raises(urllib3.exceptions.ProtocolError):  # the old set still serves; the link is refused at serve time
        urllib3.request("GET", s.url + "/a", timeout=5, retries=False)
    entry = control.wait_for(1, behaviour="a", since=0)[-1]
    assert entry.problems and "script failed at 1:respond" in entry.problems[0]
    assert "Traceback" not in s.log()


def test_a_body_folder_swapped_for_a_link_out_degrades_health_and_is_never_served(watched, tmp_path):
    s, folder = watched
    control = s.control()
    (folder / "sub").mkdir()
    (folder / "sub" / "data.txt").write_text("inside")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "data.txt").write_text("secret")
    write_by_rename(folder / "a.yaml", "name: a\nmatch: {path: /a}\nscript: [{respond: {status: 200, body_file: sub/data.txt}}]\n")
    assert until(lambda: body(s) == b"inside")

    os.rename(folder / "sub", folder / "sub.old")  # no behaviour file changes: only the body's folder
    (folder / "sub").symlink_to(tmp_path / "outside")
    assert until(lambda: control.health()["status"] == "degraded")
    (problem,) = control.health()["reload"]["last_error"]
    assert problem.endswith("a.yaml:3:45: 'sub/data.txt' is outside the behaviours folder " + str(folder))
    with pytest.raises(urllib3.exceptions.ProtocolError):  # the old set refuses the link at serve time
        body(s)
    entry = control.wait_for(1, behaviour="a", since=0)[-1]
    assert entry.problems and "has a symbolic link on its way" in entry.problems[0]
    assert "secret" not in s.log() and "Traceback" not in s.log()
