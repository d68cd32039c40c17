"""The shared checks (C of reliability.md), run on the shared server after every case.

1. the process is alive and a probe is answered in under 100 ms;
2. no ``Traceback`` or ``Unhandled Error`` line was logged during the case;
3. the fd count (``/proc/PID/fd``) is back to its baseline within 2 s;
4. the reactor's timers (``GET /debug/timers``) are back to their baseline within 2 s,
   or "n/a" when the server does not offer that route.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from stress.report import Result
from stress.server import Server

PROBE_LIMIT_MS = 100.0
SETTLE_SECONDS = 2.0


@dataclass
class Baseline:
    fds: int
    timers: int | None
    log_offset: int


def _settle(server: Server) -> None:
    """A few probes, so the baseline is taken with warm code paths and no probe connection open."""
    for _ in range(3):
        server.probe()
    time.sleep(0.3)


def baseline(server: Server) -> Baseline:
    _settle(server)
    fds = server.fds()
    return Baseline(fds, server.timers(), server.log_size())


def _back_to(read, target: int, within: float) -> int:
    """The last reading of ``read()``, polled until it is at most ``target`` or ``within`` seconds pass."""
    deadline = time.monotonic() + within
    value = read()
    while value > target and time.monotonic() < deadline:
        time.sleep(0.1)
        value = read()
    return value


def shared_checks(server: Server, base: Baseline, result: Result, settle: float = SETTLE_SECONDS) -> None:
    """Fill the shared figures of ``result`` and record what failed."""
    if not server.alive():
        result.crashes += 1
        result.fail(f"the server died (exit {server.process.returncode}): {server.log_tail(5)}")
        result.tracebacks += len(server.tracebacks(base.log_offset))
        return
    probes = [server.probe() for _ in range(3)]
    answered = [p for p in probes if p is not None]
    result.figures["check_probe_ms"] = [round(p, 1) for p in answered]
    result.check(bool(answered) and min(answered) < PROBE_LIMIT_MS, f"probe after the case: {probes} ms (limit {PROBE_LIMIT_MS:g} ms)")
    lines = server.tracebacks(base.log_offset)
    result.tracebacks += len(lines)
    result.check(not lines, f"{len(lines)} Traceback/Unhandled Error lines in the server log, first: {lines[:1]}", result.traceback_defect)
    fds = _back_to(server.fds, base.fds, settle)
    result.fd_delta = fds - base.fds
    result.check(result.fd_delta <= 0, f"fds not back to baseline within {settle:g} s: {base.fds} -> {fds}")
    if base.timers is None:
        result.timer_delta = "n/a"
        return
    timers = _back_to(lambda: server.timers() or 0, base.timers, settle)
    result.timer_delta = timers - base.timers
    result.check(result.timer_delta <= 0, f"timers not back to baseline within {settle:g} s: {base.timers} -> {timers}")
