"""client-check from Python: a callable per case, for pytest users.

    from mockorigin.compat.api import client_check

    def with_requests(case):
        return requests.request(case.method, case.url, data=case.body or None, headers=case.headers, timeout=case.timeout)

    run = client_check(with_requests, cases="interim,expect", time_scale=0.5)
    assert run.result("continue-delayed").verdict("Expect").startswith("did not wait for the 100")

The callable gets a ``ClientCase`` and returns what the client produced: the response
(requests, httpx, urllib3 objects are understood), or text or bytes. A final body after
interims carries the case token, which tells a client that read through them from one
that stopped at the first. Raising counts as the client failing.
It runs in a thread, bounded like a command; one that overruns is reported and left.
"""

from __future__ import annotations

import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from mockorigin.compat import cases as case_data
from mockorigin.compat.clientcheck import check
from mockorigin.compat.clientverdicts import CommandRun
from mockorigin.compat.origin import Origin
from mockorigin.compat.results import RunResult


@dataclass(frozen=True)
class ClientCase:
    id: str
    url: str
    method: str
    body: bytes
    headers: dict = field(default_factory=dict)  # {"Expect": "100-continue"} when the case wants it
    timeout: float = 5.0
    host: str = ""
    port: int = 0


def callable_runner(function):
    def run(values: dict[str, str], bound: float, token: str) -> CommandRun:
        case = ClientCase(
            id=values["case"], url=values["url"], method=values["method"], body=Path(values["body_file"]).read_bytes(),
            headers={"Expect": values["expect"]} if values["expect"] else {}, timeout=float(values["timeout"]),
            host=values["host"], port=int(values["port"]),
        )
        outcome: dict = {}

        def call() -> None:
            try:
                outcome["value"] = function(case)
            except BaseException as error:  # the client failing is an observation, not our error
                outcome["error"] = error

        started = time.monotonic()
        thread = threading.Thread(target=call, daemon=True, name=f"client-check {case.id}")
        thread.start()
        thread.join(bound)
        seconds = time.monotonic() - started
        if thread.is_alive():
            return CommandRun([repr(function)], None, seconds, 0, "still running")
        if "error" in outcome:
            error = outcome["error"]
            return CommandRun([repr(function)], 1, seconds, 0, f"{type(error).__name__}: {error}"[:200])
        data = output_of(outcome.get("value"))
        return CommandRun([repr(function)], 0, seconds, len(data), "", token.encode() in data)

    return run


def output_of(value) -> bytes:
    """What the callable returned, as the output a command would print: a response object of
    requests, httpx, urllib3 or http.client becomes its status line and body."""
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    status = getattr(value, "status_code", None) or getattr(value, "status", None)
    body = getattr(value, "content", None) or getattr(value, "data", None)
    if isinstance(status, int):
        return f"{status}\n".encode() + (body if isinstance(body, bytes) else b"")
    return str(value).encode("utf-8", "replace")


def client_check(function, cases: str | None = None, time_scale: float = 1.0, websocket: bool = False, name: str | None = None,
                 origin: str = "tcp:0:interface=127.0.0.1") -> RunResult:
    """Run ``function`` once per selected case against a fresh origin; the verdicts, as client-check gives them."""
    selected = case_data.select(cases, for_clients=True, websocket=websocket)
    timing = case_data.Timing(scale=time_scale)
    with tempfile.TemporaryDirectory(prefix="mockorigin-compat-") as folder, Origin(origin, Path(folder)) as server:
        return check(callable_runner(function), name or getattr(function, "__name__", repr(function)), server, selected, timing, Path(folder), websocket=websocket)
