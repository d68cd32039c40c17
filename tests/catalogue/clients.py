"""Driving catalogue entries with real clients of four families, all at once, and reading the journal.

A test module lists ``Plan``s: one behaviour, one client family, the request (the path,
and what that family needs to send it), and a check of what the client saw and what the
journal recorded. ``drive`` runs every plan of a module concurrently — curl processes
in threads, Python clients in threads, one Node process and one Go process for all their
plans — then reads the journal once and hands each plan its ``Run``. Each request
carries a marker (``m=...``) in its query so its entries can be told apart; a follow-up
request on the same connection carries ``m=MARK.next``.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import IN_CI, ROOT, require_program
from . import registry

FAMILIES = ("curl", "python", "node", "go")
NODE_DRIVER = ROOT / "tests" / "node" / "catalogue.js"
GO_DRIVER = ROOT / "tests" / "go" / "catalogue.go"
CLIENT_GRACE = 30.0  # a whole batch's bound; each plan's own timeout is much shorter


@dataclass
class Plan:
    """One behaviour driven by one client family, and what must be true afterwards."""

    behaviour: str
    family: str
    path: str
    check: Callable[[Run], None]
    request: dict | Callable = field(default_factory=dict)  # curl: {"args"}; python: a callable; node/go: plan fields
    followup: str | None = None  # a second request on the same connection (a path)
    entries: int = 1  # journal entries to wait for under the marker
    mark: str = ""
    followup_entries: int = 0  # ... and under the follow-up's marker

    def __str__(self) -> str:
        return f"{self.behaviour}[{self.family}]"


@dataclass
class Run:
    plan: Plan
    seen: dict  # what the client saw, in the family's driver's terms
    entries: list  # journal entries whose target carries the marker
    followups: list  # ... and those of the follow-up request
    skipped: str | None = None

    @property
    def entry(self):
        """The one entry the request left (the check fails if there were more or none)."""
        assert len(self.entries) == 1, f"{len(self.entries)} journal entries for {self.plan}: {[e.request.target for e in self.entries if e.request]}"
        return self.entries[0]


def number(plans: list[Plan]) -> list[Plan]:
    """Give each plan its marker (family.behaviour.index: unique within the module)."""
    for index, plan in enumerate(plans):
        plan.mark = f"{plan.family}.{plan.behaviour}.{index}"
    return plans


def url_for(server, path: str, mark: str, scheme: str = "http") -> str:
    url = server.url + path + ("&" if "?" in path else "?") + "m=" + mark
    return url.replace("http://", scheme + "://", 1)


# --- the batch ------------------------------------------------------------------------


def drive(server, plans: list[Plan]) -> dict[str, Run]:
    """Run every plan at once; then each plan's journal entries."""
    seen: dict[str, dict] = {}
    skipped: dict[str, str] = {}
    by_family = {family: [p for p in plans if p.family == family] for family in FAMILIES}
    work = [
        threading.Thread(target=_run_curl, args=(server, by_family["curl"], seen)),
        threading.Thread(target=_run_python, args=(server, by_family["python"], seen)),
        threading.Thread(target=_run_batch, args=(server, by_family["node"], seen, skipped, _node_command)),
        threading.Thread(target=_run_batch, args=(server, by_family["go"], seen, skipped, _go_command)),
    ]
    for thread in work:
        thread.start()
    for thread in work:
        thread.join(CLIENT_GRACE + 30)
    return _with_journal(server, plans, seen, skipped)


def _with_journal(server, plans: list[Plan], seen: dict, skipped: dict) -> dict[str, Run]:
    control = server.control()
    wanted = {p.mark: p.entries for p in plans if p.mark not in skipped}
    wanted.update({p.mark + ".next": p.followup_entries for p in plans if p.followup_entries and p.mark not in skipped})
    deadline = time.monotonic() + 8
    while True:
        by_mark = _entries_by_mark(control.journal())
        if all(len(by_mark.get(mark, ())) >= count for mark, count in wanted.items()) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    time.sleep(0.1)  # entries of requests that were not expected (a client's retry) come too
    by_mark = _entries_by_mark(control.journal())
    return {
        p.mark: Run(p, seen.get(p.mark, {}), by_mark.get(p.mark, []), by_mark.get(p.mark + ".next", []), skipped.get(p.mark))
        for p in plans
    }


def _entries_by_mark(entries) -> dict[str, list]:
    found: dict[str, list] = {}
    for entry in entries:
        if entry.request is None:
            continue
        query = urllib.parse.urlsplit(entry.request.target).query
        for mark in urllib.parse.parse_qs(query).get("m", ()):
            found.setdefault(mark, []).append(entry)
    return found


def verify(runs: dict[str, Run], plan: Plan) -> None:
    """A plan's test: skip if its client is missing, run its check, then count it as driven."""
    run = runs[plan.mark]
    if run.skipped:
        pytest.skip(run.skipped)
    assert "driverError" not in run.seen, run.seen.get("driverError")
    plan.check(run)
    registry.confirm(plan.behaviour, plan.family, run.entries)


# --- curl -------------------------------------------------------------------------------

_W = "\n@@curl %{http_code} %{num_connects} %{time_total} %{size_download}@@\n"
_W_LINE = re.compile(r"\n?@@curl (\d+) (\d+) ([\d.]+) (\d+)@@\n")


def _run_curl(server, plans: list[Plan], seen: dict) -> None:
    if not plans:
        return
    curl = require_program("curl")

    def one(plan: Plan) -> None:
        request = plan.request if isinstance(plan.request, dict) else {}
        command = [curl, "-sS", "-v", *request.get("args", ()), "-w", _W, url_for(server, plan.path, plan.mark)]
        if plan.followup:
            command += ["--next", "-sS", "-v", "-w", _W, url_for(server, plan.followup, plan.mark + ".next")]
        started = time.monotonic()
        try:
            done = subprocess.run(command, input=request.get("stdin", b""), capture_output=True, timeout=request.get("timeout", 20))
            seen[plan.mark] = parse_curl(done.returncode, done.stdout, done.stderr, time.monotonic() - started)
        except subprocess.TimeoutExpired:
            seen[plan.mark] = {"exit": None, "error": "curl did not end in time"}

    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(one, plans))


def parse_curl(code: int, stdout: bytes, stderr: bytes, elapsed: float) -> dict:
    """curl's view: its exit code, each transfer's -w figures and body, and from -v the
    status lines and headers of every response (interims included), per request sent."""
    text = stdout.decode("latin-1")
    transfers, position = [], 0
    for match in _W_LINE.finditer(text):
        status, connects, total, size = match.groups()
        transfers.append({"status": int(status), "connects": int(connects), "time": float(total), "size": int(size), "body": text[position : match.start()]})
        position = match.end()
    requests: list[dict] = []
    reusing = False
    for line in stderr.decode("latin-1").splitlines():
        if line.startswith("> ") and re.match(r"> [A-Z]+ \S+ HTTP/", line):
            requests.append({"line": line[2:], "responses": [], "reused": reusing})
            reusing = False
        elif line.startswith("* Re-using existing connection"):
            reusing = True
        elif line.startswith("< HTTP/") and requests:
            parts = line[2:].split(" ", 2)
            requests[-1]["responses"].append({"line": line[2:], "status": int(parts[1]) if parts[1:] and parts[1].isdigit() else None, "headers": []})
        elif line.startswith("< ") and ":" in line and requests and requests[-1]["responses"]:
            name, _, value = line[2:].partition(":")
            requests[-1]["responses"][-1]["headers"].append((name.strip().lower(), value.strip()))
    return {"exit": code, "transfers": transfers, "requests": requests, "stderr": stderr.decode("latin-1"), "elapsed": elapsed, "rest": text[position:]}


def curl_statuses(seen: dict, request: int = 0) -> list[int]:
    """Every status line curl printed for its ``request``-th request: interims, then the final."""
    return [r["status"] for r in seen["requests"][request]["responses"]]


# --- Python -----------------------------------------------------------------------------


def _run_python(server, plans: list[Plan], seen: dict) -> None:
    if not plans:
        return

    def one(plan: Plan) -> None:
        url = url_for(server, plan.path, plan.mark)
        followup = url_for(server, plan.followup, plan.mark + ".next") if plan.followup else None
        try:
            seen[plan.mark] = plan.request(url, followup)
        except Exception as error:  # the check will say what went wrong
            seen[plan.mark] = {"driverError": f"{type(error).__name__}: {error}"}

    with ThreadPoolExecutor(max_workers=max(1, len(plans))) as pool:
        list(pool.map(one, plans))


# --- Node and Go: one process for all their plans -----------------------------------------


def _node_command() -> list[str]:
    return [require_program("node"), "--experimental-websocket", str(NODE_DRIVER)]


_go_binary: list[str] = []
_go_lock = threading.Lock()


def _go_command() -> list[str]:
    """The Go driver, built once per session (``go build`` of the single file, standard
    library only: what ``go run`` does, without compiling it again for every module)."""
    go = require_program("go")
    with _go_lock:
        if not _go_binary:
            target = Path(tempfile.mkdtemp(prefix="mockorigin-go-")) / "catalogue"
            env = {**os.environ, "GO111MODULE": "off", "GOFLAGS": ""}
            subprocess.run([go, "build", "-o", str(target), str(GO_DRIVER)], check=True, capture_output=True, env=env, timeout=300, cwd=GO_DRIVER.parent)
            _go_binary.append(str(target))
    return [_go_binary[0]]


def _run_batch(server, plans: list[Plan], seen: dict, skipped: dict, command: Callable[[], list[str]]) -> None:
    if not plans:
        return
    try:
        argv = command()
    except pytest.skip.Exception as why:
        for plan in plans:
            skipped[plan.mark] = str(why)
        return
    except BaseException as why:  # in CI a missing program fails every plan of the family
        for plan in plans:
            seen[plan.mark] = {"driverError": str(why)}
        return
    batch, alone = [], []
    for plan in plans:
        fields = dict(plan.request) if isinstance(plan.request, dict) else {}
        scheme = fields.pop("scheme", "http")
        isolated = fields.pop("isolate", False)
        (alone if isolated else batch).append({**fields, "mark": plan.mark, "url": url_for(server, plan.path, plan.mark, scheme),
                                              **({"followup": url_for(server, plan.followup, plan.mark + ".next")} if plan.followup else {})})
    # a plan that may crash its client's process runs in a process of its own
    runs = [threading.Thread(target=_run_process, args=(argv, [one], seen, True)) for one in alone]
    for thread in runs:
        thread.start()
    if batch:
        _run_process(argv, batch, seen, False)
    for thread in runs:
        thread.join(CLIENT_GRACE + 5)


def _run_process(argv: list[str], batch: list[dict], seen: dict, alone: bool) -> None:
    done = None
    try:
        done = subprocess.run(argv, input=json.dumps(batch).encode(), capture_output=True, timeout=CLIENT_GRACE)
        lines = done.stdout.decode().strip().splitlines()
        if alone and not lines:  # the client took its process down: that is what it did
            seen[batch[0]["mark"]] = {"crashed": True, "exit": done.returncode, "stderr": done.stderr.decode(errors="replace")}
            return
        for result in json.loads(lines[-1]):
            seen[result["mark"]] = result["seen"]
    except Exception as error:
        stderr = done.stderr.decode(errors="replace")[-2000:] if done is not None else ""
        for plan in batch:
            seen.setdefault(plan["mark"], {"driverError": f"{argv[0]} batch failed: {error}\n{stderr}"})


__all__ = ["FAMILIES", "IN_CI", "Plan", "Run", "curl_statuses", "drive", "number", "parse_curl", "url_for", "verify"]
