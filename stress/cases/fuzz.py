"""H7 (in-process parser fuzzing) and H8 (wire fuzzing) of reliability.md.

H7 mutates the corpus and feeds each input to ``head.parse`` and to the reader, whole and
cut: only documented outcomes, and identical events. H8 sends mutated requests to the real
server over 64 concurrent connections with random TCP splits: every connection gets an
answer or is closed within the head/body deadline plus 1 s, with an allowed status. An
input that made the server log a traceback is found again in-process and saved, so it can
join ``tests/corpora/crashes/`` and replay forever.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import itertools
import os
import random
import re
import subprocess
import sys
import time
import traceback
from collections import Counter

from mockorigin.format.loader import catalogue_path
from mockorigin.http1.head import HeadError, parse
from mockorigin.limits import ConnectionLimits
from mockorigin.format.loader import load_paths
from stress.catalogue import WS_KEY, client_frame
from stress.corpus import raw_inputs, smuggling_cases
from stress.mutate import cuts, mutate
from stress.net import converse, statuses
from stress.replay import ALLOWED_STATUSES, divergence, protocol_exception, split
from stress.report import RESULTS
from stress.runner import Context
from stress.server import ROOT, STRESS_BEHAVIOURS

CRASHES = RESULTS / "crashes"
DEADLINE = 10.0  # the server's head and body deadlines
SAFE_SEEDS = [  # paths that answer at once: a mutated input never waits on a script's own timing
    b"GET /__probe HTTP/1.1\r\nHost: s\r\n\r\n",
    b"GET /echo?a=1&b HTTP/1.1\r\nHost: s\r\nAccept: */*\r\nUser-Agent: stress\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: s\r\nContent-Length: 5\r\n\r\nhello",
    b"POST /echo HTTP/1.1\r\nHost: s\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
    b"GET /early-hints HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n",
    b"HEAD / HTTP/1.1\r\nHost: s\r\nAccept: application/json\r\n\r\n",
    b"GET /nope HTTP/1.0\r\n\r\n",
    b"POST /continue/reject HTTP/1.1\r\nHost: s\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello",
    b"GET /processing?count=2&every=10ms HTTP/1.1\r\nHost: s\r\n\r\n",
    b"GET http://s/echo?x=1 HTTP/1.1\r\nHost: s\r\n\r\n",
    b"GET /__probe HTTP/1.1\r\nHost: s\r\n\r\nGET /echo HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n",
    (
        f"GET /ws/echo HTTP/1.1\r\nHost: s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {WS_KEY}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    + client_frame(1, b"hi")
    + client_frame(8, b"\x03\xe8"),
]
SMALL_LIMITS = ConnectionLimits(max_request_line=64, max_header_line=64, max_head=256, max_headers=6)


def seeds() -> list[bytes]:
    return SAFE_SEEDS + [c.data for c in smuggling_cases()] + [p.read_bytes() for p in raw_inputs()]


def _save(kind: str, data: bytes, why: str) -> str:
    CRASHES.mkdir(parents=True, exist_ok=True)
    name = f"{kind}-{hashlib.sha1(data).hexdigest()[:10]}"
    (CRASHES / f"{name}.http").write_bytes(data)
    (CRASHES / f"{name}.txt").write_text(why + "\n")
    return f"results/stress/crashes/{name}.http"


def _defect(text: str) -> str | None:
    if "IPv6" in text or ("ValueError" in text and "_split_target" in text) or "does not appear to be an IPv4 or IPv6" in text:
        return "#10/1"
    if text.startswith("whole: "):  # a divergence: "same input, same answer, however it is split" does not hold
        return "#10/10"
    return None


# --- H7 -----------------------------------------------------------------------------


def _signature(problem: str) -> str:
    """A divergence by the kinds of events each side gave (``whole: head,body,end | split: 400``), not their bytes."""
    return problem.split(" || ", 1)[0]


def run_h7(ctx: Context) -> None:
    result, rng = ctx.result, ctx.rng
    corpus = seeds()
    budget = ctx.scale(120.0, 8.0)
    crashes: dict[str, tuple[int, str]] = {}
    divergences: dict[str, tuple[int, str]] = {}
    execs = 0
    deadline = time.monotonic() + budget
    while time.monotonic() < deadline:
        for _ in range(200):
            execs += 1
            data = mutate(rng, rng.choice(corpus), corpus)
            limits = SMALL_LIMITS if rng.random() < 0.15 else None
            chunks = [data[i : i + 1] for i in range(len(data))] if len(data) < 600 and rng.random() < 0.2 else split(data, cuts(rng, len(data)) or [len(data)])
            try:
                for section in data.split(b"\r\n\r\n")[:-1]:
                    try:
                        parse(section.lstrip(b"\r\n"))
                    except HeadError:
                        pass
                problem = divergence(data, chunks, limits, closed=rng.random() < 0.3)
            except Exception as error:
                frames = [f for f in traceback.extract_tb(error.__traceback__) if "/mockorigin/" in f.filename]
                where = f" in {frames[-1].name} ({frames[-1].filename.rsplit('/', 1)[1]})" if frames else ""
                key = f"{type(error).__name__}: {str(error)[:80]}{where}"
                count, path = crashes.get(key, (0, ""))
                crashes[key] = (count + 1, path or _save("H7", data, key))
                continue
            if problem is not None:
                key = _signature(problem)
                count, path = divergences.get(key, (0, ""))
                divergences[key] = (count + 1, path or _save("H7", data, problem))
    result.inputs = execs
    result.crashes = 0  # in-process: a crash of the parser, not of the server; counted below
    result.figures.update(
        execs=execs,
        execs_per_second=round(execs / budget),
        crash_kinds={k: {"count": c, "input": p} for k, (c, p) in crashes.items()},
        divergence_kinds={k: {"count": c, "input": p} for k, (c, p) in divergences.items()},
    )
    for key, (count, path) in crashes.items():
        result.fail(f"parser raised {key} ({count}x), input {path}", _defect(key))
    for key, (count, path) in divergences.items():
        result.fail(f"whole and split feeds disagree ({count}x), input {path}: {key}", _defect(key))
    _atheris(ctx, budget=ctx.scale(45, 5))


def _atheris(ctx: Context, budget: int) -> None:
    """The same properties, coverage-guided, when atheris is installed (optional)."""
    result = ctx.result
    if importlib.util.find_spec("atheris") is None:
        result.figures["atheris"] = "not installed"
        return
    corpus = ctx.folder / "atheris-corpus"
    corpus.mkdir(exist_ok=True)
    for index, data in enumerate(seeds()):
        (corpus / f"seed-{index}").write_bytes(data)
    CRASHES.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "stress.h7_atheris", f"-max_total_time={budget}", f"-seed={ctx.rng.randrange(1, 2**31)}", "-max_len=4096", str(corpus)]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=budget + 120, env={**os.environ, "STRESS_ATHERIS_OUT": str(CRASHES)})
    output = run.stdout + run.stderr
    done = re.findall(r"Done (\d+) runs", output)
    runs = int(done[-1]) if done else max((int(n) for n in re.findall(r"#(\d+)\s", output)), default=0)
    findings = re.findall(r"^FINDING (.+) (\S+)$", output, re.M)
    result.figures["atheris"] = {"runs": runs, "seconds": budget, "exit": run.returncode, "findings": {kind: path for kind, path in findings}}
    result.inputs += runs
    for kind, path in findings:
        result.fail(f"atheris: {kind}, input {path}", _defect("whole: " if kind.startswith("divergence") else kind))
    if run.returncode != 0 and not findings:
        result.fail(f"atheris exited {run.returncode}: {output.strip().splitlines()[-1:]}")


# --- H8 -----------------------------------------------------------------------------


def _input(seed: int, index: int, corpus: list[bytes]) -> tuple[bytes, list[bytes], float, bool]:
    rng = random.Random(seed * 1_000_003 + index)
    data = mutate(rng, rng.choice(corpus), corpus) or rng.choice(corpus)  # nothing sent is an idle connection (75 s), not an input
    if len(data) <= 300 and rng.random() < 0.1:
        chunks = [data[i : i + 1] for i in range(len(data))]
    else:
        chunks = split(data, cuts(rng, min(len(data), 64)) or [len(data)])
    gap = 0.001 if len(chunks) > 1 and len(chunks) <= 32 and rng.random() < 0.3 else 0.0
    return data, chunks, gap, rng.random() < 0.98  # FIN after sending, mostly: the server need not wait for a deadline


def run_h8(ctx: Context) -> None:
    result, server = ctx.result, ctx.server
    total = ctx.scale(100_000, 3_000)
    corpus = seeds()
    seed = ctx.rng.randrange(2**31)
    tally: Counter = Counter()
    first_statuses: Counter = Counter()
    suspicious: list[int] = []
    problems: list[str] = []
    counter = itertools.count()

    async def worker():
        while (index := next(counter)) < total:
            data, chunks, gap, half_close = _input(seed, index, corpus)
            outcome = await converse(server.port, chunks, gap=gap, half_close=half_close, wait=DEADLINE + 1.0, quiet=None if half_close else 0.3)
            if outcome.ended == "refused":
                tally["refused"] += 1
                problems.append(f"input {index}: connection refused")
            elif outcome.data:
                found = statuses(outcome.data[:4096])
                if not outcome.data.startswith(b"HTTP/1.1 ") or not found:
                    tally["garbage"] += 1
                    problems.append(f"input {index}: answer is not HTTP: {outcome.data[:60]!r}")
                elif found[0] not in ALLOWED_STATUSES | {100, 101, 102, 103}:
                    tally["bad status"] += 1
                    problems.append(f"input {index}: status {found[0]}")
                else:
                    tally["answered"] += 1
                    first_statuses[found[0]] += 1
            elif outcome.ended in ("FIN", "RST"):
                tally[f"closed silently ({outcome.ended})"] += 1
                suspicious.append(index)
            else:
                tally["hung"] += 1
                problems.append(f"input {index}: no answer and not closed within {DEADLINE + 1:g} s")

    async def main():
        await asyncio.gather(*(worker() for _ in range(64)))

    log_before = server.log_size()
    started = time.monotonic()
    asyncio.run(main())
    elapsed = time.monotonic() - started
    result.inputs = total
    result.hung = tally["hung"]
    result.figures.update(
        seconds_sending=round(elapsed, 1),
        requests_per_second=round(total / elapsed),
        outcomes=dict(tally),
        first_status=dict(sorted(first_statuses.items())),
        concurrency=64,
        mutation_seed=seed,
    )
    result.check(tally["hung"] == 0, f"{tally['hung']} connections neither answered nor closed within {DEADLINE + 1:g} s")
    result.check(tally["refused"] == 0, f"{tally['refused']} connections refused")
    result.check(tally["bad status"] + tally["garbage"] == 0, f"{tally['bad status'] + tally['garbage']} answers outside the allowed statuses: {problems[:3]}")
    logged = server.tracebacks(log_before)
    if logged:  # name the inputs: what raises in-process is what the server logged
        behaviours = load_paths([catalogue_path(), str(STRESS_BEHAVIOURS)])
        found: dict[str, tuple[int, str]] = {}
        for index in suspicious[:20_000]:
            data = _input(seed, index, corpus)[0]
            error = protocol_exception(data, behaviours)
            if error is not None:
                count, path = found.get(error, (0, ""))
                found[error] = (count + 1, path or _save("H8", data, error))
        result.figures["crash_kinds"] = {k: {"count": c, "input": p} for k, (c, p) in found.items()}
        defects = {_defect(error) for error in found}
        if len(defects) == 1 and None not in defects:
            result.traceback_defect = defects.pop()
        for error, (count, path) in found.items():
            result.fail(f"the server logged a traceback for {count} input(s) like {path}: {error}", _defect(error))
