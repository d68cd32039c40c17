"""F1 (the disconnect matrix over real sockets) and F2 (signals) of reliability.md.

F1 runs every catalogue behaviour to every stage of ``stress.catalogue`` and leaves with a
FIN or a RST (SO_LINGER 0); the journal must then say truthfully how each connection ended,
and the shared checks (fds, timers, probe) must pass. F2 stops servers with requests in
flight: SIGTERM, SIGINT, a second SIGTERM, SIGKILL then a restart on the same port, and
``mockorigin stop`` (including a pidfile that names a process that is not ours).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict

from mockorigin.format.loader import catalogue_path
from mockorigin.interpreter.answers import describe
from mockorigin.format.loader import load_paths
from stress.catalogue import JOURNAL_ENDINGS, request_for, stages
from stress.net import converse, gather_limited, set_linger_zero
from stress.runner import Context
from stress.server import HOST, ROOT

SERVER_ENDINGS = {"completed", "server closed", "server reset", "hang cut"}


async def _leave(port: int, sent: bytes, wait: float, ending: str) -> tuple[int, bytes, bool]:
    """Connect, send, read for ``wait`` s (so a FIN leaves nothing unread), then leave: (local port, received, server closed first)."""
    reader, writer = await asyncio.open_connection(HOST, port)
    sock = writer.get_extra_info("socket")
    local = sock.getsockname()[1]
    received, closed = b"", False
    if sent:
        writer.write(sent)
        await writer.drain()
    deadline = time.monotonic() + max(wait, 0.05)
    while not closed and (left := deadline - time.monotonic()) > 0:
        try:
            piece = await asyncio.wait_for(reader.read(65536), left)
        except asyncio.TimeoutError:
            break
        except OSError:
            closed = True
            break
        received += piece
        closed = not piece
    if ending == "RST":
        try:
            set_linger_zero(sock)
        except OSError:  # the server's reset already closed it
            pass
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass
    return local, received, closed


def run_f1(ctx: Context) -> None:
    result, server = ctx.result, ctx.server
    requests = [request_for(describe(b)) for b in load_paths([catalogue_path()])]
    runs = [(request, stage, ending) for request in requests for stage in stages(request) for ending in ("FIN", "RST")]
    since = server.last_seq()

    async def main():
        return await gather_limited(64, [_leave(server.port, stage.sent, stage.wait, ending) for _request, stage, ending in runs])

    outcomes = asyncio.run(main())
    time.sleep(1.0)  # every close has reached the server
    by_port: dict[int, list[dict]] = defaultdict(list)
    for entry in server.journal(since):
        by_port[int(entry["client"].rsplit(":", 1)[1])].append(entry)
    endings: Counter = Counter()
    table = []
    wrong = []
    for (request, stage, ending), (port, _received, _closed) in zip(runs, outcomes, strict=True):
        entries = by_port.get(port, [])
        case = f"{request.behaviour} / {stage.name} / {ending}"
        if not entries:
            wrong.append(f"{case}: no journal entry")
            continue
        ended = entries[-1]["ended"]
        how = ended["how"]
        endings[f"{ending} -> {how}"] += 1
        table.append({"behaviour": request.behaviour, "stage": stage.name, "client": ending, "ended": ended})
        allowed = SERVER_ENDINGS | ({"client closed", "client reset"} if ending == "FIN" else {"client reset"})  # a FIN'd socket answers later data with RST
        if how not in JOURNAL_ENDINGS or how not in allowed:
            wrong.append(f"{case}: journal says {how!r} ({ended['stage']})")
    result.inputs = len(runs)
    result.figures.update(cases=len(runs), behaviours=len(requests), endings=dict(sorted(endings.items())), journal=table)
    result.check(not wrong, f"{len(wrong)}/{len(runs)} connections journaled wrongly: {wrong[:5]}")


# --- F2 -----------------------------------------------------------------------------------


async def _listener_closed_after(port: int, since: float, limit: float = 2.0) -> float | None:
    """Seconds from ``since`` until a connect to ``port`` is refused (None: still accepting after ``limit``)."""
    while time.monotonic() - since < limit:
        try:
            _reader, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            return time.monotonic() - since
        writer.transport.abort()
        await asyncio.sleep(0.005)
    return None


async def _wait_exit(process: subprocess.Popen, limit: float) -> float | None:
    started = time.monotonic()
    while process.poll() is None and time.monotonic() - started < limit:
        await asyncio.sleep(0.01)
    return None if process.poll() is None else time.monotonic() - started


def _sigterm_with_requests_in_flight(ctx: Context, grace: float, signal_number: int, delayed: int, hangs: int, second_after: float | None = None) -> dict:
    name = f"f2-{signal.Signals(signal_number).name.lower()}{'-twice' if second_after else ''}"
    server = ctx.own_server(name, "--grace", f"{grace:g}").start()

    async def main():
        delayed_requests = [
            asyncio.create_task(converse(server.port, [b"GET /__delay?for=1s HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n"], wait=12)) for _ in range(delayed)
        ]
        hanging = [asyncio.create_task(converse(server.port, [b"GET /hang HTTP/1.1\r\nHost: s\r\n\r\n"], wait=12)) for _ in range(hangs)]
        await asyncio.sleep(0.4)  # every request has arrived
        signalled = time.monotonic()
        server.signal(signal_number)
        listener = asyncio.create_task(_listener_closed_after(server.port, signalled))
        if second_after is not None:
            await asyncio.sleep(second_after)
            second = time.monotonic()
            server.signal(signal.SIGTERM)
            exit_after = await _wait_exit(server.process, 10)
            exit_after = None if exit_after is None else exit_after + (second - signalled)
        else:
            exit_after = await _wait_exit(server.process, 10)
        return signalled, await listener, exit_after, await asyncio.gather(*delayed_requests), await asyncio.gather(*hanging)

    signalled, listener_closed, exit_after, delayed_outcomes, hang_outcomes = asyncio.run(main())
    journal_lines = server.journal_path.read_text(errors="replace").splitlines() if server.journal_path.exists() else []
    try:
        last_parses = bool(journal_lines) and isinstance(json.loads(journal_lines[-1]), dict)
    except ValueError:
        last_parses = False
    return {
        "listener_closed_ms": None if listener_closed is None else round(listener_closed * 1000, 1),
        "delayed_ok": sum(o.data.startswith(b"HTTP/1.1 200") for o in delayed_outcomes),
        "delayed": delayed,
        "hangs_cut_at": sorted(round(o.ended_at - 0.4, 2) for o in hang_outcomes if o.ended_at is not None)[:: max(1, hangs // 5)] if hangs else [],
        "hangs_open": sum(o.ended == "open" for o in hang_outcomes),
        "exit_code": server.process.returncode,
        "exit_after_s": None if exit_after is None else round(exit_after, 2),
        "ready_file_removed": not server.ready_file.exists(),
        "last_journal_line_parses": last_parses,
    }


def _mockorigin(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mockorigin", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def run_f2(ctx: Context) -> None:
    result = ctx.result
    grace = ctx.scale(5.0, 1.5)  # the default, or less in a quick run
    term = _sigterm_with_requests_in_flight(ctx, grace, signal.SIGTERM, delayed=50, hangs=50)
    result.figures["sigterm"] = term
    result.check(term["listener_closed_ms"] is not None and term["listener_closed_ms"] < 100, f"SIGTERM: listener closed after {term['listener_closed_ms']} ms (limit 100)")
    result.check(term["delayed_ok"] == 50, f"SIGTERM: {term['delayed_ok']}/50 in-flight delayed requests (1 s) finished within the {grace:g} s grace")
    result.check(term["hangs_open"] == 0, f"SIGTERM: {term['hangs_open']} hangs still open after the drain")
    cut = term["hangs_cut_at"]
    result.check(bool(cut) and all(abs(t - grace) <= 0.5 for t in cut), f"SIGTERM: hangs cut at {cut} s, expected {grace:g} ± 0.5 s")
    result.check(term["exit_code"] == 0 and term["exit_after_s"] is not None and term["exit_after_s"] <= grace + 1, f"SIGTERM: exit {term['exit_code']} after {term['exit_after_s']} s (0 within {grace + 1:g} s)")
    result.check(term["ready_file_removed"] and term["last_journal_line_parses"], f"SIGTERM: ready file removed {term['ready_file_removed']}, last journal line parses {term['last_journal_line_parses']}")
    interrupt = _sigterm_with_requests_in_flight(ctx, grace, signal.SIGINT, delayed=5, hangs=5)
    result.figures["sigint"] = interrupt
    result.check(interrupt["exit_code"] == 0 and (interrupt["exit_after_s"] or 99) <= grace + 1, f"SIGINT: exit {interrupt['exit_code']} after {interrupt['exit_after_s']} s")
    twice = _sigterm_with_requests_in_flight(ctx, 5.0, signal.SIGTERM, delayed=0, hangs=10, second_after=0.5)
    result.figures["second_sigterm"] = twice
    result.check(twice["exit_after_s"] is not None and twice["exit_after_s"] <= 1.0, f"a second SIGTERM 0.5 s after the first: exit after {twice['exit_after_s']} s (limit 1.0)")
    _kill_and_restart(ctx)
    _daemon_and_stop(ctx)
    result.inputs = 50 + 50 + 10 + 10 + 4


def _kill_and_restart(ctx: Context) -> None:
    server = ctx.own_server("f2-kill").start()
    port = server.port
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    try:
        server.start(port=port)
        ok = server.probe() is not None
    except Exception as error:  # the figure is whether it came back
        ok = False
        ctx.result.figures["restart_error"] = str(error)[:200]
    ctx.result.figures["sigkill_then_restart_on_same_port"] = ok
    ctx.result.check(ok, "after SIGKILL, a restart on the same port did not serve")
    server.stop()


def _daemon_and_stop(ctx: Context) -> None:
    result, folder = ctx.result, ctx.folder
    pidfile, ready = folder / "daemon.pid", folder / "daemon-ready.json"
    started = _mockorigin("serve", "--daemon", "--pidfile", str(pidfile), "--ready-file", str(ready), "--listen", f"tcp:0:interface={HOST}")
    result.check(started.returncode == 0 and pidfile.exists(), f"serve --daemon: exit {started.returncode} {started.stderr.strip()[:200]}")
    if pidfile.exists():
        pid = int(pidfile.read_text().split()[0])
        stopped = _mockorigin("stop", "--pidfile", str(pidfile))
        gone = not os.path.exists(f"/proc/{pid}") or _zombie(pid)
        result.figures["daemon_stop"] = {"exit": stopped.returncode, "process_gone": gone, "pidfile_removed": not pidfile.exists()}
        result.check(stopped.returncode == 0 and gone and not pidfile.exists(), f"mockorigin stop: {result.figures['daemon_stop']}")
    # a pidfile naming a live process that is not a mockorigin server (a reused PID)
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        foreign = folder / "foreign.pid"
        foreign.write_text(f"{bystander.pid}\n")
        refused = _mockorigin("stop", "--pidfile", str(foreign), "--timeout", "2")
        time.sleep(0.2)
        alive = bystander.poll() is None
        result.figures["stop_foreign_pid"] = {"exit": refused.returncode, "bystander_alive": alive, "message": (refused.stderr or refused.stdout).strip()[:160]}
        result.check(alive and refused.returncode != 0, f"mockorigin stop killed an unrelated process named by the pidfile (exit {refused.returncode})", "#10/5")
    finally:
        bystander.kill()
        bystander.wait()


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True

