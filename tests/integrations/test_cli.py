"""The command line's rough edges (issue #14, defects 3, 4, 6, 9, 10, 11, 12)."""

from __future__ import annotations

import configparser
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mockorigin.cli import main
from mockorigin.format.loader import catalogue_path, load_paths, schema
from mockorigin.version import __version__

from tests.helpers import ROOT, start_server

MOCKORIGIN = [sys.executable, "-m", "mockorigin"]


def run_into_a_closed_pipe(*args: str, stream: str = "stdout") -> subprocess.CompletedProcess:
    """Run the command with ``stream`` going to a pipe nobody reads any more (``| head -1``
    once head has gone): every write there fails with EPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, stream: write_end}
        return subprocess.run([*MOCKORIGIN, *args], cwd=ROOT, timeout=60, **streams)
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "args,code",
    [
        (("list",), 0),
        (("list", "--json"), 0),
        (("schema",), 0),
        (("check",), 0),
        (("--version",), 0),
        (("--help",), 0),
    ],
)
def test_a_reader_that_goes_away_is_no_traceback(args, code):
    """Defect 3: ``mockorigin list | head -1`` ended in a BrokenPipeError traceback, exit 1."""
    result = run_into_a_closed_pipe(*args)
    assert result.stderr == b"", result.stderr.decode()
    assert result.returncode == code


def test_a_closed_pipe_on_standard_error_keeps_the_verdict(tmp_path):
    """``check`` with problems, its standard error into a closed pipe: still exit 2, no traceback."""
    (tmp_path / "b.yaml").write_text("script: [{wiat: 1s}]\n")
    result = run_into_a_closed_pipe("check", str(tmp_path / "b.yaml"), stream="stderr")
    assert result.returncode == 2
    assert b"Traceback" not in result.stdout


def test_version(capsys):
    """Defect 4: ``mockorigin --version`` did not exist."""
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"mockorigin {__version__}"
    version = subprocess.run([*MOCKORIGIN, "--version"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (version.returncode, version.stdout.strip()) == (0, f"mockorigin {__version__}")


def test_check_without_a_path_checks_the_catalogue(capsys):
    """Defect 6: ``check`` without PATH was a usage error; ``serve`` and ``list`` default to the catalogue."""
    assert main(["check"]) == 0
    count = len(load_paths([catalogue_path()]))
    assert capsys.readouterr().out.startswith(f"ok: {count} behaviours")  # and "(N warnings)" for misbehaviours meant


def test_the_licence_is_the_one_setup_cfg_declares():
    """Defect 10: MIT was declared, and no LICENSE file said so."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    assert config["metadata"]["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text and 'THE SOFTWARE IS PROVIDED "AS IS"' in text


def test_the_schema_has_a_real_id_and_editors_can_find_it(capsys):
    """Defect 9: the ``$id`` was on ``mockorigin.invalid``; ``schema --path`` names the installed file."""
    identifier = schema()["$id"]
    assert ".invalid" not in identifier and identifier.startswith("urn:mockorigin:")
    assert main(["schema", "--path"]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path.is_absolute() and json.loads(path.read_text()) == schema()


def test_the_catalogue_modelines_reach_the_schema_from_a_checkout():
    prefix = "# yaml-language-server: $schema="
    for file in sorted((ROOT / "behaviours").glob("*.yaml")):
        first = file.read_text().splitlines()[0]
        assert first.startswith(prefix), file
        target = (file.parent / first[len(prefix):]).resolve()
        assert json.loads(target.read_text()) == schema(), file


def serve_on(port: int, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([*MOCKORIGIN, "serve", "--listen", f"tcp:{port}:interface=127.0.0.1", "--admin", "none"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)


def test_a_port_in_use_under_make_serve_hints_at_listen(busy_port):
    """Defect 11: under ``make serve`` (which passes ``--listen $(LISTEN)``, and whose recipes
    see MAKELEVEL) the message says how to pick another port: ``LISTEN=``."""
    env = {**os.environ, "MAKELEVEL": "1"}
    result = serve_on(busy_port, env)
    assert result.returncode == 1
    assert "address already in use" in result.stderr
    assert "make serve LISTEN=tcp:" in result.stderr


def test_a_port_in_use_outside_make_hints_at_the_option(busy_port):
    env = {key: value for key, value in os.environ.items() if key not in ("MAKELEVEL", "MAKEFLAGS")}
    result = serve_on(busy_port, env)
    assert result.returncode == 1
    assert "--listen tcp:" in result.stderr and "LISTEN=" not in result.stderr


def wait_until(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.e2e
def test_the_grace_period_says_what_it_waits_for_and_a_second_ctrl_c_ends_it(tmp_path):
    """Defect 12: after Ctrl-C the server waited silently for running scripts. Now it says
    how many connections it waits for, and that Ctrl-C again aborts them (which it does)."""
    server = start_server(tmp_path, "--grace", "30")
    try:
        control = server.control()
        with socket.create_connection((server.host, server.port), timeout=5) as hanging:
            hanging.sendall(b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n")
            wait_until(lambda: [c for c in control.connections() if c["request"] == "GET /hang"])
            server.process.send_signal(signal.SIGINT)
            line = wait_until(lambda: [line for line in server.log().splitlines() if "stopping:" in line])
            assert "waiting up to 30s for 1 connection still running a script" in line[0]
            assert "Ctrl-C again" in line[0]
            started = time.monotonic()
            server.process.send_signal(signal.SIGINT)
            assert server.process.wait(timeout=10) == 0
            assert time.monotonic() - started < 5, "the second Ctrl-C did not cut the 30 s grace period short"
            hanging.settimeout(5)
            with pytest.raises(ConnectionResetError):  # aborted: RST, not a response
                assert hanging.recv(100) == b""
    finally:
        server.stop()


@pytest.mark.e2e
def test_a_stop_with_nothing_running_says_nothing_about_waiting(tmp_path):
    server = start_server(tmp_path)
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=10) == 0
    assert "stopping:" not in server.log()
