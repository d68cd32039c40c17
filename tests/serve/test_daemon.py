"""Daemon mode and twistd: start, ready, serve, stop; failures reported by the parent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import urllib3

from mockorigin.format.loader import load_paths

from tests.helpers import CATALOGUE, ROOT

pytestmark = pytest.mark.e2e

MOCKORIGIN = [sys.executable, "-m", "mockorigin"]


def run(*args, timeout=30, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*MOCKORIGIN, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, **kw)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def daemon_files(tmp_path):
    files = {"pid": tmp_path / "mo.pid", "ready": tmp_path / "ready.json", "log": tmp_path / "mo.log"}
    yield files
    if files["pid"].exists():  # a failed test must not leave its daemon running
        pid = int(files["pid"].read_text().split()[0])
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def start_daemon(files, *extra) -> subprocess.CompletedProcess:
    return run("serve", "--daemon", "--pidfile", str(files["pid"]), "--ready-file", str(files["ready"]), "--log-file", str(files["log"]),
               "--listen", "tcp:0:interface=127.0.0.1", *extra)


def test_daemon_start_serve_stop(daemon_files):
    started = time.monotonic()
    result = start_daemon(daemon_files)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 5
    # the parent exits only once listening: the ready file and pidfile are already there
    ready = json.loads(daemon_files["ready"].read_text())
    pid = int(daemon_files["pid"].read_text().split()[0])
    assert ready["pid"] == pid and alive(pid) and pid != os.getpid()
    response = urllib3.request("GET", ready["urls"][0] + "echo?from-daemon-test", timeout=5)
    assert response.status == 200
    assert run("stop", "--pidfile", str(daemon_files["pid"])).returncode == 0
    assert not alive(pid)
    assert not daemon_files["pid"].exists() and not daemon_files["ready"].exists()
    assert "GET /echo?from-daemon-test" in daemon_files["log"].read_text()


def test_daemon_refuses_a_second_start_and_replaces_a_stale_pidfile(daemon_files):
    assert start_daemon(daemon_files).returncode == 0
    pid = int(daemon_files["pid"].read_text().split()[0])
    second = start_daemon(daemon_files)
    assert second.returncode == 1 and f"already running as PID {pid}" in second.stderr
    os.kill(pid, signal.SIGKILL)  # leaves a stale pidfile behind
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert daemon_files["pid"].exists()
    third = start_daemon(daemon_files)
    assert third.returncode == 0, third.stderr
    assert int(daemon_files["pid"].read_text().split()[0]) != pid
    assert run("stop", "--pidfile", str(daemon_files["pid"])).returncode == 0


def test_daemon_parent_fails_fast_on_a_port_in_use(daemon_files, busy_port):
    port = busy_port
    started = time.monotonic()
    result = run("serve", "--daemon", "--pidfile", str(daemon_files["pid"]), "--listen", f"tcp:{port}:interface=127.0.0.1")
    assert result.returncode == 1 and time.monotonic() - started < 2.0
    assert result.stderr.strip() == f"mockorigin: cannot listen on tcp:{port}:interface=127.0.0.1: address already in use"
    assert not daemon_files["pid"].exists()


def test_daemon_with_bad_files_exits_2_before_detaching(daemon_files):
    result = run("serve", "--daemon", "--pidfile", str(daemon_files["pid"]), "tests/data/broken")
    assert result.returncode == 2 and "nothing loaded" in result.stderr
    assert run("serve", "--daemon").returncode == 2  # no --pidfile


def test_stop_without_a_daemon(tmp_path):
    result = run("stop", "--pidfile", str(tmp_path / "none.pid"))
    assert result.returncode == 1 and "not running" in result.stderr


@pytest.mark.parametrize("launcher", [["twistd", "-n", "--pidfile="], ["twist"]])
def test_twistd_and_twist_run_the_same_service(tmp_path, launcher):
    ready = tmp_path / "ready.json"
    program = os.path.join(os.path.dirname(sys.executable), launcher[0])
    process = subprocess.Popen([program, *launcher[1:], "mockorigin", "--listen", "tcp:0:interface=127.0.0.1", "--ready-file", str(ready)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 15
        while not ready.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
        info = json.loads(ready.read_text())
        response = urllib3.request("POST", info["urls"][0] + "continue/delayed?delay=10ms", body=b"abc", timeout=5)
        assert response.json() == {"received": 3}
        assert urllib3.request("GET", info["admin"] + "health", timeout=5).json()["behaviours"] == len(load_paths([str(CATALOGUE)]))
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=15)[0].decode()
    # twistd and twist re-raise the signal that stopped them: their convention, not ours
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "Traceback" not in output


# --- the pidfile names our daemon, not whatever holds its PID now ---------------------------


@pytest.fixture
def bystander():
    """A live process that is not mockorigin, ended after the test."""
    process = subprocess.Popen(["sleep", "60"])
    yield process
    process.kill()
    process.wait()


def start_field(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()[19]


def boot_id() -> str:
    with open("/proc/sys/kernel/random/boot_id") as handle:
        return handle.read().strip()


def test_the_pidfile_records_the_pid_and_when_that_process_started(daemon_files):
    assert start_daemon(daemon_files).returncode == 0
    first, second = daemon_files["pid"].read_text().splitlines()
    pid = int(first)
    assert second == f"mockorigin start={start_field(pid)} boot={boot_id()}"
    assert run("stop", "--pidfile", str(daemon_files["pid"])).returncode == 0


@pytest.mark.parametrize("identity", ["", "mockorigin start=1 boot={boot}\n"], ids=["pid only", "pid reused"])
def test_stop_does_not_signal_a_process_that_is_not_the_daemon(tmp_path, bystander, identity):
    pidfile = tmp_path / "mo.pid"
    pidfile.write_text(f"{bystander.pid}\n" + identity.format(boot=boot_id()))
    result = run("stop", "--pidfile", str(pidfile), "--timeout", "1")
    assert result.returncode == 1 and f"not signalling PID {bystander.pid}" in result.stderr
    assert result.stderr.count("\n") == 1
    assert ("does not run mockorigin" if not identity else "PID was reused") in result.stderr
    time.sleep(0.2)
    assert bystander.poll() is None and pidfile.exists()  # alive, and the pidfile left for its owner


def test_stop_does_not_signal_another_mockorigin_whose_start_time_differs(tmp_path, server):
    other = server()  # a mockorigin of someone else's, in the foreground
    pidfile = tmp_path / "mo.pid"
    pidfile.write_text(f"{other.process.pid}\nmockorigin start={int(start_field(other.process.pid)) - 1} boot={boot_id()}\n")
    result = run("stop", "--pidfile", str(pidfile), "--timeout", "1")
    assert result.returncode == 1 and "PID was reused" in result.stderr
    assert other.process.poll() is None and other.control().health()["status"] == "ok"


def test_a_pidfile_from_before_a_restart_is_stale(tmp_path, bystander):
    pidfile = tmp_path / "mo.pid"
    pidfile.write_text(f"{bystander.pid}\nmockorigin start={start_field(bystander.pid)} boot=another-boot\n")
    result = run("stop", "--pidfile", str(pidfile), "--timeout", "1")
    assert result.returncode == 1 and "before the machine restarted" in result.stderr and bystander.poll() is None


def test_serve_takes_a_pidfile_naming_another_program_as_stale(daemon_files, bystander):
    daemon_files["pid"].write_text(f"{bystander.pid}\n")
    result = start_daemon(daemon_files)
    assert result.returncode == 0, result.stderr
    pid = int(daemon_files["pid"].read_text().split()[0])
    assert pid != bystander.pid and alive(pid) and bystander.poll() is None
    assert run("stop", "--pidfile", str(daemon_files["pid"])).returncode == 0
    assert not alive(pid) and bystander.poll() is None


def test_a_pid_only_pidfile_naming_a_mockorigin_daemon_still_stops_it(daemon_files):
    """A pidfile written by an earlier version (or by hand): the command line must run mockorigin."""
    assert start_daemon(daemon_files).returncode == 0
    pid = int(daemon_files["pid"].read_text().split()[0])
    daemon_files["pid"].write_text(f"{pid}\n")
    assert run("stop", "--pidfile", str(daemon_files["pid"])).returncode == 0
    assert not alive(pid)


def test_a_pidfile_that_holds_no_pid_is_refused(tmp_path):
    pidfile = tmp_path / "mo.pid"
    for text in ("", "abc\n", "0\n", "\u00b2\n", "-1\n"):
        pidfile.write_text(text)
        result = run("stop", "--pidfile", str(pidfile))
        assert result.returncode == 1 and "does not hold a PID" in result.stderr, text
