"""A ``mockorigin serve`` subprocess under attack, and what the shared checks read from it.

The server runs on CPU 0 when there are two or more (the load runs on the others), listens
on a free loopback port, journals to a file and keeps its control API on. Everything
read from it comes from outside: ``/proc/PID`` (fds, RSS, CPU time), its log, and the
control API (``/debug/timers`` when the server offers it).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from mockorigin.format.loader import catalogue_path

ROOT = Path(__file__).resolve().parent.parent
STRESS_BEHAVIOURS = Path(__file__).resolve().parent / "behaviours"
HOST = "127.0.0.1"
_TRACEBACK = re.compile(rb"Traceback|Unhandled Error")


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _prepare_child() -> None:
    """In the server's process before exec: many fds, and SIGINT as a terminal would send it.
    (A suite started in the background, ``make stress &`` or nohup, inherits SIGINT ignored;
    Python then installs no handler and Twisted none either, and the SIGINT case would test
    the shell instead of the server.)"""
    raise_fd_limit()
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def server_cpus() -> list[str]:
    return ["taskset", "-c", "0"] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else []


class StartError(RuntimeError):
    pass


class Server:
    """One server process; ``paths`` default to the catalogue plus the stress behaviours."""

    def __init__(self, folder: Path, *args: str, paths: list[str] | None = None, env: dict | None = None, token: str | None = None, pin: bool = True):
        self.folder = folder
        self.args = list(args)
        self.paths = paths if paths is not None else [catalogue_path(), str(STRESS_BEHAVIOURS)]
        self.env = env
        self.token = token
        self.pin = pin
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.admin_port: int | None = None
        self.starts = 0

    # --- life ------------------------------------------------------------------

    @property
    def ready_file(self) -> Path:
        return self.folder / "ready.json"

    @property
    def log_path(self) -> Path:
        return self.folder / "server.log"

    @property
    def journal_path(self) -> Path:
        return self.folder / "journal.jsonl"

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "mockorigin", "serve", "--quiet", "--listen", f"tcp:{self.port}:interface={HOST}",
            "--ready-file", str(self.ready_file), "--journal", str(self.journal_path), *self.args, *self.paths,
        ]  # fmt: skip

    def start(self, timeout: float = 20.0, port: int | None = None) -> Server:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port if port is not None else 0
        self.ready_file.unlink(missing_ok=True)
        env = dict(os.environ if self.env is None else self.env)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                (server_cpus() if self.pin else []) + self.command(), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env, preexec_fn=_prepare_child
            )
        deadline = time.monotonic() + timeout
        while not (self.ready_file.exists() and self.ready_file.read_text().strip()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise StartError(f"the server did not start: {self.log_tail()}")
            time.sleep(0.02)
        ready = json.loads(self.ready_file.read_text())
        self.port = int(ready["urls"][0].rstrip("/").rsplit(":", 1)[1])
        self.admin_port = int(ready["admin"].rstrip("/").rsplit(":", 1)[1]) if ready.get("admin") else None
        self.starts += 1
        return self

    def restart(self) -> Server:
        self.kill()
        return self.start()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def signal(self, number: int) -> None:
        if self.alive():
            self.process.send_signal(number)

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.process is None:
            return None
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    # --- what the checks read -------------------------------------------------------

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def tracebacks(self, since: int = 0) -> list[str]:
        """Lines with ``Traceback`` or ``Unhandled Error`` logged after byte ``since``."""
        if not self.log_path.exists():
            return []
        with open(self.log_path, "rb") as log:
            log.seek(since)
            return [line.decode("utf-8", "replace").rstrip() for line in log if _TRACEBACK.search(line)]

    def log_tail(self, lines: int = 15) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def timers(self) -> int | None:
        """``delayed_calls`` from ``GET /debug/timers``, or None when the server has no such route."""
        try:
            status, _headers, body = self.admin("GET", "/debug/timers")
        except OSError:
            return None
        if status != 200:
            return None
        try:
            return int(json.loads(body)["delayed_calls"])
        except (ValueError, KeyError, TypeError):
            return None

    # --- talking to it ---------------------------------------------------------------

    def admin(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None, timeout: float = 10.0) -> tuple[int, dict, bytes]:
        """One control API request on its own connection: (status, headers, body)."""
        assert self.admin_port is not None
        connection = http.client.HTTPConnection(HOST, self.admin_port, timeout=timeout)
        try:
            sent = {"Connection": "close", **({"Authorization": f"Bearer {self.token}"} if self.token else {}), **(headers or {})}
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            connection.close()

    def journal(self, since: int = 0) -> list[dict]:
        status, _headers, body = self.admin("GET", f"/journal?since={since}")
        return json.loads(body)["entries"] if status == 200 else []

    def last_seq(self) -> int:
        status, _headers, body = self.admin("GET", "/health")
        return json.loads(body)["journal"]["last_seq"] if status == 200 else 0

    def probe(self, path: str = "/__probe", timeout: float = 5.0) -> float | None:
        """Milliseconds for one request on a new connection, or None if it got no answer."""
        started = time.perf_counter()
        try:
            with socket.create_connection((HOST, self.port), timeout=timeout) as sock:
                sock.sendall(f"GET {path} HTTP/1.1\r\nHost: stress\r\nConnection: close\r\n\r\n".encode())
                data = b""
                while chunk := sock.recv(65536):
                    data += chunk
        except OSError:
            return None
        return (time.perf_counter() - started) * 1000 if data.startswith(b"HTTP/1.1 ") else None
