"""`make bench`: mockorigin against bare Twisted, measured in the same run on this machine.

Prints a table and writes results/bench.json. Figures are ratios to a baseline
measured minutes apart on the same machine, because these machines are shared
and absolute numbers drift. The server runs on CPU 0 and the load on CPU 1 when
`taskset` is available. Throughput uses `wrk` when it is installed (Debian
package `wrk`) and a Python load generator otherwise (which compresses the
ratio towards 1, as the generator itself is the bottleneck).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

from bench import report
from bench.report import TARGETS

ROOT = Path(__file__).resolve().parent.parent
BEHAVIOURS = ROOT / "bench" / "behaviours"
HOST = "127.0.0.1"


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _pin(cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu)] if shutil.which("taskset") and os.cpu_count() and os.cpu_count() > 1 else []


def server_command(kind: str, folder: Path) -> tuple[list[str], Path]:
    """The command line of a server of ``kind`` and the file it writes once listening."""
    if kind == "ws-baseline":
        ready = folder / "port"
        return [sys.executable, "-m", "bench.ws_baseline", str(ready)], ready
    if kind in ("bare", "bare-now"):
        ready = folder / "port"
        return [sys.executable, "-m", "bench.baseline", str(ready)] + (["--send-at-once"] if kind == "bare-now" else []), ready
    ready = folder / "ready.json"
    command = [sys.executable, "-m", "mockorigin", "serve", "--quiet", "--listen", "tcp:0:interface=127.0.0.1", "--ready-file", str(ready), str(BEHAVIOURS)]
    if kind == "journal-off":
        command += ["--journal-size", "0"]
    elif kind == "journal-file":
        command += ["--journal", str(folder / "journal.jsonl")]
    return command, ready


def port_in(kind: str, ready: Path) -> int:
    text = ready.read_text()
    return int(text) if kind in ("bare", "bare-now", "ws-baseline") else int(json.loads(text)["urls"][0].rsplit(":", 1)[1].strip("/"))


@contextmanager
def server(kind: str, wrapper: Sequence[str] = (), start_within: float = 20):
    """A server process on a free port: ('mockorigin' | 'journal-off' | 'journal-file' | 'bare' | 'bare-now' | 'ws-baseline') -> (port, pid).
    ``wrapper``: what runs the command (``valgrind ...``); without one it is pinned to CPU 0."""
    folder = Path(tempfile.mkdtemp(prefix="mockorigin-bench-"))
    command, ready = server_command(kind, folder)
    process = subprocess.Popen([*wrapper, *command] if wrapper else _pin(0) + command, cwd=ROOT, stderr=subprocess.DEVNULL, preexec_fn=_raise_fd_limit)
    try:  # whatever fails from here, the server process is ended
        deadline = time.monotonic() + start_within
        while not ready.exists() or not ready.read_text().strip():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{kind} server did not start")
            time.sleep(0.01)
        yield port_in(kind, ready), process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)


def load(*args: str, timeout: float = 300) -> dict:
    output = subprocess.run(_pin(1) + [sys.executable, "-m", "bench.load", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def throughput(port: int, seconds: float) -> tuple[float, str]:
    if shutil.which("wrk"):
        output = subprocess.run(
            _pin(1) + ["wrk", "-t1", "-c50", f"-d{seconds:g}s", f"http://{HOST}:{port}/plain"], capture_output=True, text=True, timeout=seconds + 60, check=True
        ).stdout
        return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)), "wrk -t1 -c50"
    return load("throughput", HOST, str(port), "50", str(seconds))["requests_per_second"], "python asyncio, 50 connections"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def memory_per_connection(kind: str, connections: int) -> float:
    """KiB of server RSS per connection held in a hang."""
    with server(kind) as (port, pid):
        time.sleep(0.3)
        before = rss_kib(pid)
        fds_before = open_fds(pid)
        holder = subprocess.Popen(
            _pin(1) + [sys.executable, "-m", "bench.load", "hold", HOST, str(port), str(connections), "/hang", "120"],
            cwd=ROOT, stdout=subprocess.PIPE, text=True, preexec_fn=_raise_fd_limit,
        )
        try:
            assert holder.stdout is not None
            json.loads(holder.stdout.readline())  # all connected
            deadline = time.monotonic() + 60
            while open_fds(pid) < fds_before + connections and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1.0)
            after = rss_kib(pid)
            accepted = open_fds(pid) - fds_before
        finally:
            holder.terminate()
            holder.wait()
        return (after - before) / max(accepted, 1)


def _without_bytecode_switch() -> dict:
    """The environment with byte-code caching allowed: a launch is timed as an installed program
    starts, from its .pyc files, not compiling every module (PYTHONDONTWRITEBYTECODE=1 here)."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def launch_to_ready(kind: str) -> float:
    """Seconds from launch to the ready file: ``mockorigin`` serve (the built-in catalogue), or
    ``bare-start``, a bare Twisted server that only listens and writes its ready file."""
    folder = Path(tempfile.mkdtemp(prefix="mockorigin-ready-"))
    ready = folder / "ready.json"
    if kind == "bare-start":
        command = [sys.executable, "-m", "bench.bare_start", str(ready)]
    else:
        command = [sys.executable, "-m", "mockorigin", "serve", "--quiet", "--listen", "tcp:0:interface=127.0.0.1", "--ready-file", str(ready)]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.DEVNULL, env=_without_bytecode_switch())
    try:
        while not ready.exists():
            if time.perf_counter() - started > 20 or process.poll() is not None:
                raise RuntimeError(f"{kind} did not write its ready file")
            time.sleep(0.002)
        return time.perf_counter() - started
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(folder, ignore_errors=True)


def time_to_ready(runs: int) -> dict:
    """Median launch-to-ready of mockorigin and of a bare Twisted start, interleaved, after one
    launch of each that is not counted (it writes the byte-code caches if they are missing)."""
    times: dict[str, list[float]] = {"mockorigin": [], "bare-start": []}
    for kind in times:
        launch_to_ready(kind)
    for _ in range(runs):
        for kind, kept in times.items():
            kept.append(launch_to_ready(kind))
    mockorigin, bare = statistics.median(times["mockorigin"]), statistics.median(times["bare-start"])
    return {"median": mockorigin, "max": max(times["mockorigin"]), "bare_twisted_start": bare, "ratio": mockorigin / bare, "python_startup": python_startup(runs)}


def python_startup(runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def fixture_costs(runs: int) -> dict:
    """The pytest plugin's first start, and its per-test reset (with and without a changed set)."""
    from mockorigin.pytest_plugin import MockOrigin, start_server_process

    folder = Path(tempfile.mkdtemp(prefix="mockorigin-fixture-"))
    started = time.perf_counter()
    server = start_server_process("tcp:0:interface=127.0.0.1", [], folder)
    first_start = time.perf_counter() - started
    try:
        handle = MockOrigin(server)
        handle._begin()
        resets = []
        for _ in range(runs):
            started = time.perf_counter()
            handle._begin()
            resets.append(time.perf_counter() - started)
        restores = []
        for _ in range(max(runs // 10, 5)):
            handle.use("echo")
            started = time.perf_counter()
            handle._begin()
            restores.append(time.perf_counter() - started)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "first_start_s": first_start,
        "reset_median_s": statistics.median(resets),
        "reset_p99_s": sorted(resets)[int(len(resets) * 0.99) - 1],
        "reset_after_use_median_s": statistics.median(restores),
        "targets": f"first start {TARGETS['f_start']}; reset {TARGETS['f_reset']}",
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--seconds", type=float, default=10, help="per throughput run")
    parser.add_argument("--connections", type=int, default=1000, help="in flight for the lateness runs")
    parser.add_argument("--hang-connections", type=int, default=10000)
    parser.add_argument("--quick", action="store_true", help="small numbers, to check the bench itself runs")
    parser.add_argument("--instructions", action="store_true", help="also count the server's instructions per request with callgrind (about 2 min)")
    options = parser.parse_args(argv)
    if options.quick:
        options.seconds, options.connections, options.hang_connections = 2, 100, 500
    _raise_fd_limit()
    results: dict = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}

    rates = {}
    for kind in ("bare", "bare-now", "mockorigin") * 2:  # interleaved, best of two
        with server(kind) as (port, _pid):
            rate, tool = throughput(port, options.seconds)
        rates[kind] = max(rates.get(kind, 0), rate)
    results["a_throughput"] = {
        "tool": tool,
        "bare_rps": rates["bare"],
        "mockorigin_rps": rates["mockorigin"],
        "ratio": rates["mockorigin"] / rates["bare"],
        "target": TARGETS["a"],
        "target_sending_at_once": TARGETS["a_now"],
        "bare_sending_at_once_rps": rates["bare-now"],  # the same protocol, writing through mockorigin.transport.tcpwrite.write_now
        "ratio_to_bare_sending_at_once": rates["mockorigin"] / rates["bare-now"],
    }

    journal_rates: dict[str, float] = {}
    for kind in ("journal-off", "journal-file", "journal-off", "journal-file"):
        with server(kind) as (port, _pid):
            rate, _tool = throughput(port, options.seconds)
        journal_rates[kind] = max(journal_rates.get(kind, 0), rate)
    results["e_journal"] = {
        "off_rps": journal_rates["journal-off"],
        "on_rps": journal_rates["journal-file"],
        "ratio": journal_rates["journal-file"] / journal_rates["journal-off"],
        "target": TARGETS["e"],
    }

    lateness = {}
    for mode in ("continue", "processing"):
        runs: dict[str, list[dict]] = {"bare": [], "mockorigin": []}
        for _ in range(3):  # interleaved; one burst of 1,000 is at the mercy of a shared machine's neighbours
            for kind in ("bare", "mockorigin"):
                with server(kind) as (port, _pid):
                    runs[kind].append(load(mode, HOST, str(port), str(options.connections)))
        for kind, results_of_kind in runs.items():
            lateness[(mode, kind)] = sorted(results_of_kind, key=lambda r: r["p99"])[1]  # the run with the median p99
    results["b_lateness"] = {
        mode: {
            "bare": lateness[(mode, "bare")],
            "mockorigin": lateness[(mode, "mockorigin")],
            "p99_ratio": lateness[(mode, "mockorigin")]["p99"] / max(lateness[(mode, "bare")]["p99"], 1e-4),
        }
        for mode in ("continue", "processing")
    }
    results["b_lateness"]["target"] = TARGETS["b"]
    results["b_lateness"]["method"] = "each figure: the run with the median p99 of three, bare and mockorigin interleaved"

    memory = {kind: memory_per_connection(kind, options.hang_connections) for kind in ("bare", "mockorigin")}
    results["c_memory_kib_per_hanging_connection"] = {**memory, "connections": options.hang_connections, "target": TARGETS["c"]}

    results["d_launch_to_ready_s"] = {**time_to_ready(5), "target": TARGETS["d"]}

    results["f_fixture"] = fixture_costs(50 if options.quick else 500)

    echo: dict = {}
    for connections in (1, options.connections):
        for kind in ("ws-baseline", "mockorigin", "ws-baseline", "mockorigin"):
            with server(kind) as (port, _pid):
                rate = load("ws", HOST, str(port), str(connections), str(options.seconds / 2))["messages_per_second"]
            echo[(connections, kind)] = max(echo.get((connections, kind), 0), rate)
    results["g_websocket_echo"] = {
        f"{c}_connections": {
            "twisted_web_websocket": echo[(c, "ws-baseline")],
            "mockorigin": echo[(c, "mockorigin")],
            "ratio": echo[(c, "mockorigin")] / echo[(c, "ws-baseline")],
        }
        for c in (1, options.connections)
    }
    results["g_websocket_echo"]["target"] = {"1 connection": TARGETS["g_1"], f"{options.connections} connections": TARGETS["g_many"]}

    from bench import tls as tls_bench

    results["tls"] = tls_bench.measure(min(options.seconds, 5.0))  # issue #15: HTTPS over HTTP/1.1 and h2, and handshakes

    if options.instructions:
        from bench.instructions import KINDS, per_request

        results["instructions_per_request"] = {kind: per_request(kind, 300 if options.quick else 2000) for kind in KINDS}

    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "bench.json").write_text(json.dumps(results, indent=1))
    for line in report.lines(results, options.connections):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
