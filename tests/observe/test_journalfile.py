"""The journal file: a size cap with rotation, and standard output (#10 defect 15, #14 defect 5)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

import pytest

from mockorigin.observe.journalfile import JournalFile

from tests.helpers import ROOT


def test_past_the_cap_the_file_rotates_and_every_file_holds_whole_lines(tmp_path):
    path = tmp_path / "j.jsonl"
    sink = JournalFile(str(path), max_bytes=100, keep=2)
    lines = [b"%02d" % n + b"x" * 30 + b"\n" for n in range(12)]  # 33 bytes each: three to a file
    for line in lines:
        sink.write(line)
    sink.close()
    files = [path, tmp_path / "j.jsonl.1", tmp_path / "j.jsonl.2"]
    assert not (tmp_path / "j.jsonl.3").exists()  # only `keep` old files
    kept = [[int(text[:2]) for text in f.read_text().splitlines()] for f in files]
    assert all(0 < f.stat().st_size <= 100 for f in files)
    assert kept == [[9, 10, 11], [6, 7, 8], [3, 4, 5]]  # newest in FILE, older in FILE.1, FILE.2
    assert sink.rotations == 3


def test_no_cap_means_no_rotation(tmp_path):
    sink = JournalFile(str(tmp_path / "j"), max_bytes=0)
    for _ in range(100):
        sink.write(b"x" * 100 + b"\n")
    sink.close()
    assert (tmp_path / "j").stat().st_size == 10_100 and not (tmp_path / "j.1").exists()


def test_an_existing_file_counts_towards_the_cap(tmp_path):
    path = tmp_path / "j"
    path.write_bytes(b"y" * 90 + b"\n")
    sink = JournalFile(str(path), max_bytes=100)
    sink.write(b"z" * 20 + b"\n")
    sink.close()
    assert (tmp_path / "j.1").read_bytes() == b"y" * 90 + b"\n" and path.read_bytes() == b"z" * 20 + b"\n"


@pytest.mark.e2e
def test_journal_dash_is_standard_output_one_line_per_exchange_as_it_ends(tmp_path):
    ready = tmp_path / "ready.json"
    command = [sys.executable, "-m", "mockorigin", "serve", "--listen", "tcp:0:interface=127.0.0.1", "--ready-file", str(ready), "--journal", "-", "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        deadline = time.monotonic() + 10
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        url = json.loads(ready.read_text())["urls"][0]
        assert not (ROOT / "-").exists()
        with urllib.request.urlopen(url + "echo?first=1", timeout=5) as response:
            assert response.status == 200
        line = process.stdout.readline()  # flushed when the exchange ended, not at exit
        assert json.loads(line)["request"]["target"] == "/echo?first=1"
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
    assert not (ROOT / "-").exists()


@pytest.mark.e2e
def test_a_capped_journal_rotates_while_serving(server, tmp_path):
    path = tmp_path / "j.jsonl"
    s = server("--journal", str(path), "--journal-max-size", "2KiB")
    for n in range(10):
        with urllib.request.urlopen(f"{s.url}/echo?n={n}", timeout=5) as response:
            response.read()
    control = s.control()
    control.wait_for(10)
    deadline = time.monotonic() + 5
    while control.health()["journal"]["file_rotations"] < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    s.stop()
    files = [path, tmp_path / "j.jsonl.1"]
    assert all(0 < f.stat().st_size <= 2048 for f in files) and not (tmp_path / "j.jsonl.2").exists()
    targets = [json.loads(line)["request"]["target"] for f in reversed(files) for line in f.read_text().splitlines()]
    assert targets == [f"/echo?n={n}" for n in range(10 - len(targets), 10)] and len(targets) >= 2


def test_journal_dash_with_daemon_is_a_usage_error(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mockorigin", "serve", "--daemon", "--pidfile", str(tmp_path / "p"), "--journal", "-"], capture_output=True, text=True, cwd=ROOT, timeout=30)
    assert result.returncode == 2 and "--journal -" in result.stderr
