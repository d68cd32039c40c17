"""``mockorigin proxy-check``: the origin and the client at once, the user's proxy between.

Each case: our byte-exact client sends a request through ``--via`` with a case token
in the query (``mo_case=RUN.CASE``); the origin serves the case's behaviour and
journals what the proxy sent it; a judge compares the two ends.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from urllib.parse import urlsplit

from mockorigin.compat import cases as case_data
from mockorigin.compat import client, report, verdicts
from mockorigin.compat.options import EXIT_USAGE, list_cases, timing_from, work_folder
from mockorigin.compat.origin import Origin, SetupError
from mockorigin.compat.results import CaseResult, Progress, RunResult

HOP_HEADERS = (("Connection", "X-Mo-Hop"), ("X-Mo-Hop", "must-not-be-forwarded"), ("User-Agent", "mockorigin-proxy-check"))


def proxy_address(via: str | None) -> tuple[str, int]:
    if not via:
        raise SetupError("--via URL is required: the proxy that forwards to the origin")
    parts = urlsplit(via if "//" in via else "http://" + via)
    if parts.scheme != "http" or not parts.hostname:
        raise SetupError(f"--via {via}: give an http:// URL with a host and port")
    return parts.hostname, parts.port or 80


def wait_for_proxy(address: tuple[str, int], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(address, timeout=2).close()
            return
        except OSError as error:
            if time.monotonic() >= deadline:
                raise SetupError(f"the proxy at {address[0]}:{address[1]} is unreachable: {error.strerror or error}") from None
            time.sleep(0.1)


def run_case(case, origin: Origin, address, timing, run_id: str) -> CaseResult:
    token = f"{run_id}.{case.id}"
    host = f"{address[0]}:{address[1]}"
    headers = HOP_HEADERS if case.version == "1.1" and case.judge == "forwarding" else (("User-Agent", "mockorigin-proxy-check"),)
    plan = client.RequestPlan(
        method=case.method, target=case.target(timing, token), host=host, version=case.version, headers=headers,
        body=b"x" * case.body, expect_wait=None if case.expect_wait is None else timing.seconds(case.expect_wait),
        upgrade=case.upgrade, wait=case.bound(timing),
    )
    started = time.monotonic()
    record = client.run(address, plan)
    view = origin.view(token, settle=max(0.2, 0.3 * timing.scale))
    judgement = verdicts.judge(case, record, view, timing)
    return CaseResult(
        case.id, case.group, case.title, verdicts.reached_client(record), judgement.verdicts, judgement.checks,
        {"target": plan.target, "client": record.as_json(), "origin": {"entries": view.entries, "open": view.open_requests}},
        seconds=time.monotonic() - started,
    )


def main(options) -> int:
    try:
        selected = case_data.select(options.cases)
        if options.list_cases:
            print(list_cases(selected))
            return 0
        timing = timing_from(options, options.proxy_timeout)
        address = proxy_address(options.via)
        with work_folder() as folder, Origin(options.origin, folder, options.origin_ready) as origin:
            print(f"origin: {origin.url}", file=sys.stderr)
            wait_for_proxy(address, options.wait_for_proxy)
            run = check(origin, address, selected, timing, options.via)
    except (SetupError, case_data.UnknownCases) as problem:
        print(f"mockorigin proxy-check: {problem}", file=sys.stderr)
        return EXIT_USAGE
    report.write_all(run, options, sys.stdout)
    return run.exit_code()


def check(origin: Origin, address, selected, timing, via: str) -> RunResult:
    run_id = f"{os.getpid():x}{int(time.time()) % 100000:x}"
    progress = Progress(len(selected))
    results = []
    for index, case in enumerate(selected, 1):
        progress.start(index, case.id)
        try:
            results.append(run_case(case, origin, address, timing, run_id))
        except Exception as error:  # one case's failure must not lose the others' results
            results.append(CaseResult(case.id, case.group, case.title, "-", error=f"{type(error).__name__}: {error}"))
    progress.done()
    settings = {"via": via, "origin": origin.url, "time_scale": timing.scale, "proxy_timeout": timing.proxy_timeout}
    return RunResult("proxy-check", via, settings, results)
