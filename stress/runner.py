"""Running one case: a baseline, a probe beside it, the case, then the shared checks.

A case is a function ``run(ctx)`` that attacks ``ctx.server`` (or servers of its own,
started in ``ctx.folder``) and records figures and failures in ``ctx.result``. Its random
choices come from ``ctx.rng``, seeded from the run's seed and the case's id, so
``--seed S --only ID`` replays one case exactly.
"""

from __future__ import annotations

import random
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stress.checks import baseline, shared_checks
from stress.prober import Prober, p99
from stress.report import Result
from stress.server import HOST, Server, StartError


@dataclass
class Context:
    server: Server
    result: Result
    rng: random.Random
    quick: bool
    folder: Path  # scratch space for this case's files and servers

    def scale(self, full, quick):
        """``quick`` in a smoke run, ``full`` otherwise."""
        return quick if self.quick else full

    def own_server(self, name: str, *args: str, **options) -> Server:
        """A server of this case's own (stopped by the case, or killed by ``close``)."""
        server = Server(self.folder / name, *args, **options)
        self._servers.append(server)
        return server

    def close(self) -> None:
        """Kill the case's own servers; their logs must hold no traceback either."""
        for server in self._servers:
            server.kill()
            lines = server.tracebacks()
            self.result.tracebacks += len(lines)
            self.result.check(
                not lines, f"{len(lines)} Traceback/Unhandled Error lines in the log of {server.folder.name}, first: {lines[:1]}", self.result.traceback_defect
            )

    def __post_init__(self):
        self._servers: list[Server] = []


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    run: Callable[[Context], None]
    seconds: tuple[int, int]  # rough duration: (full, quick)


def run_case(case: Case, server: Server, seed: int, quick: bool, folder: Path) -> Result:
    result = Result(case.id, case.title, seed)
    if not server.alive():
        try:
            server.restart()
        except StartError as error:
            result.fail(f"the shared server could not be restarted: {error}")
            return result
    base = baseline(server)
    ctx = Context(server, result, random.Random(f"{seed}:{case.id}"), quick, folder / case.id)
    ctx.folder.mkdir(parents=True, exist_ok=True)
    prober = Prober(HOST, server.port)
    started = time.monotonic()
    try:
        case.run(ctx)
    except Exception:  # the suite's own failure is a failure of the case, with its traceback
        result.fail("the case itself raised:\n" + traceback.format_exc(limit=6))
    finally:
        ctx.close()
        result.seconds = time.monotonic() - started
        samples = prober.stop()
    if result.probe_p99_ms is None:
        result.probe_p99_ms = p99(samples)
        result.figures.setdefault("probes", len(samples))
        result.figures.setdefault("probes_unanswered", sum(1 for s in samples if s < 0))
    shared_checks(server, base, result)
    if not server.alive():
        try:
            server.restart()
        except StartError as error:
            result.fail(f"the shared server could not be restarted: {error}")
    return result
