"""``python -m stress``: the stress suite of issue #10 against a real ``mockorigin serve``.

    python -m stress                  # the whole suite, about 15 minutes
    python -m stress --quick          # every case, small: a 1-2 minute smoke run
    python -m stress --only H3,F1     # some cases
    python -m stress --seed 1234      # replay a run's random choices (printed in the report)
    python -m stress --list           # the cases

Everything runs on loopback with bounded counts and times. Each case writes one JSON line to
``results/stress/<ID>.json``; the run prints one table and exits 1 if any case failed its
expectation (a failure that reproduces a known defect of issue #10 says so).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

from stress.cases import CASES
from stress.report import RESULTS, table
from stress.runner import run_case
from stress.server import Server, StartError, raise_fd_limit


def _pin_to_load_cpus() -> None:
    """The server runs on CPU 0 (see server.py); the load everywhere else."""
    cpus = os.sched_getaffinity(0)
    if len(cpus) > 1 and 0 in cpus:
        os.sched_setaffinity(0, cpus - {0})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stress", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: every case, small (1-2 minutes)")
    parser.add_argument("--only", metavar="ID,...", help="run only these cases (see --list)")
    parser.add_argument("--seed", type=int, help="seed for every random choice (default: a new one, printed)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (server logs, journals)")
    options = parser.parse_args(argv)
    if options.list:
        for case in CASES:
            print(f"{case.id:<4} {case.title:<46} ~{case.seconds[0]} s full, ~{case.seconds[1]} s quick")
        return 0
    selected = CASES
    if options.only:
        wanted = [w.strip().upper() for w in options.only.split(",") if w.strip()]
        unknown = set(wanted) - {c.id for c in CASES}
        if unknown:
            parser.error(f"unknown case(s): {', '.join(sorted(unknown))} (see --list)")
        selected = [c for c in CASES if c.id in wanted]
    seed = options.seed if options.seed is not None else secrets.randbelow(2**32)
    raise_fd_limit()
    _pin_to_load_cpus()
    scratch = Path(tempfile.mkdtemp(prefix="mockorigin-stress-"))
    expected = sum(c.seconds[1 if options.quick else 0] for c in selected)
    print(f"stress: seed {seed}, {len(selected)} case(s), about {expected // 60} min {expected % 60} s; scratch {scratch}", flush=True)
    server = Server(scratch / "shared")
    try:
        server.start()
    except StartError as error:
        print(f"stress: {error}", file=sys.stderr)
        return 2
    results = []
    started = time.monotonic()
    try:
        for case in selected:
            print(f"stress: {case.id} {case.title} ...", end="", flush=True)
            result = run_case(case, server, seed, options.quick, scratch)
            result.write()
            results.append(result)
            print(f" {result.verdict} ({result.seconds:.0f} s)", flush=True)
    except KeyboardInterrupt:
        print("\nstress: interrupted", file=sys.stderr)
    finally:
        server.stop()
        if not options.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    print()
    print(table(results))
    failed = [r for r in results if r.failures]
    print(f"\nseed {seed}; {len(results)} case(s) in {time.monotonic() - started:.0f} s; {len(failed)} failed; figures in {RESULTS}/")
    return 1 if failed or len(results) < len(selected) else 0


if __name__ == "__main__":
    sys.exit(main())
