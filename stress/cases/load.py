"""L2 (held connections and a connect burst), L3 (many short and aborted connections) and
L4 (a soak with RSS sampling) of reliability.md, with an asyncio load generator.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter

from stress.catalogue import WS_KEY, client_frame
from stress.net import converse, gather_limited, set_linger_zero, statuses
from stress.prober import p99
from stress.runner import Context
from stress.server import HOST

PROBE = b"GET /__probe HTTP/1.1\r\nHost: s\r\n\r\n"


async def _open(port: int, data: bytes, read_reply: bool):
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(data)
    if read_reply:
        await reader.readuntil(b"ok\n")
    return reader, writer


def _abort_all(streams) -> None:
    for _reader, writer in streams:
        try:
            set_linger_zero(writer.get_extra_info("socket"))
        except OSError:
            pass
        writer.close()


def run_l2(ctx: Context) -> None:
    """N idle keep-alive + N in /hang, probes meanwhile; then N connects within a second."""
    result, server = ctx.result, ctx.server
    count = ctx.scale(1000, 200)

    async def main():
        idle = await gather_limited(100, [_open(server.port, PROBE, True) for _ in range(count)])
        hanging = await gather_limited(100, [_open(server.port, b"GET /hang HTTP/1.1\r\nHost: s\r\n\r\n", False) for _ in range(count)])
        await asyncio.sleep(1.0)
        fds_held = server.fds()
        probes = []
        for _ in range(50):
            probes.append(await asyncio.get_running_loop().run_in_executor(None, server.probe) or -1.0)
            await asyncio.sleep(0.05)

        async def connect_once():
            started = time.monotonic()
            try:
                reader, writer = await asyncio.open_connection(HOST, server.port)
            except OSError:
                return None, None
            connected = time.monotonic() - started
            writer.write(PROBE.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
            data = await reader.read()
            writer.close()
            return connected, data.startswith(b"HTTP/1.1 200")

        burst_started = time.monotonic()
        burst = await asyncio.gather(*(connect_once() for _ in range(count)))
        burst_seconds = time.monotonic() - burst_started
        _abort_all(idle + hanging)
        return fds_held, probes, burst, burst_seconds

    fds_held, probes, burst, burst_seconds = asyncio.run(main())
    connect_times = [c for c, _ in burst if c is not None]
    errors = sum(c is None for c, _ in burst)
    served = sum(1 for _, ok in burst if ok)
    result.inputs = 3 * count
    result.probe_p99_ms = p99(probes)
    result.figures.update(
        held_idle=count, held_hang=count, server_fds_while_held=fds_held, probe_p99_ms_while_held=result.probe_p99_ms,
        burst={"connections": count, "seconds": round(burst_seconds, 2), "connect_errors": errors, "served": served,
               "max_connect_ms": round(max(connect_times) * 1000, 1) if connect_times else None},
    )  # fmt: skip
    result.check(fds_held >= 2 * count, f"the server held {fds_held} fds for {2 * count} connections")
    result.check(result.probe_p99_ms is not None and result.probe_p99_ms < 50, f"probe p99 {result.probe_p99_ms} ms while {2 * count} connections are held (limit 50)")
    result.check(errors == 0 and served == count, f"burst of {count}: {errors} connect errors, {served} served")
    result.check(bool(connect_times) and max(connect_times) < 1.0, f"burst: slowest connect {max(connect_times or [0]):.2f} s (limit 1)")


def run_l3(ctx: Context) -> None:
    """Many short connections, then aborts at random stages; fds, timers and the journal after."""
    result, server, rng = ctx.result, ctx.server, ctx.rng
    short, aborts = ctx.scale(30_000, 2_000), ctx.scale(5_000, 300)
    request = b"GET /__probe HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n"
    stages = [
        ("nothing", b"", 0.0),
        ("mid head", b"GET /__probe HTTP/1.1\r\nHo", 0.0),
        ("in hang", b"GET /hang HTTP/1.1\r\nHost: s\r\n\r\n", 0.05),
        ("mid body", b"POST /echo HTTP/1.1\r\nHost: s\r\nContent-Length: 100\r\n\r\nabc", 0.0),
        ("mid drip", b"GET /drip?bytes=100&every=10ms HTTP/1.1\r\nHost: s\r\n\r\n", 0.1),
        ("mid response", b"GET /__big?size=4MiB HTTP/1.1\r\nHost: s\r\n\r\n", 0.05),
        ("in ws", f"GET /ws/echo HTTP/1.1\r\nHost: s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode() + client_frame(1, b"x")[:3], 0.05),
    ]  # fmt: skip
    seq_before = server.last_seq()
    counter = itertools.count()
    tally: Counter = Counter()

    async def shorts():
        while next(counter) < short:
            outcome = await converse(server.port, [request], wait=5.0)
            tally["ok" if outcome.data.startswith(b"HTTP/1.1 200") and outcome.ended == "FIN" else f"other ({outcome.ended})"] += 1

    async def abort(name: str, data: bytes, wait: float):
        try:
            reader, writer = await asyncio.open_connection(HOST, server.port)
        except OSError:
            tally["abort refused"] += 1
            return
        if data:
            writer.write(data)
        await asyncio.sleep(wait)
        if name == "mid response":
            await reader.read(1024)
        _abort_all([(reader, writer)])
        tally[f"aborted {name}"] += 1

    started = time.monotonic()

    async def main():
        await asyncio.gather(*(shorts() for _ in range(64)))
        await gather_limited(64, [abort(*rng.choice(stages)) for _ in range(aborts)])

    asyncio.run(main())
    elapsed = time.monotonic() - started
    time.sleep(ctx.scale(3.0, 1.0))  # the plan's settle before counting fds (the shared checks then give 2 s more)
    status, _headers, body = server.admin("GET", "/health")
    journal = json.loads(body)["journal"] if status == 200 else {}
    file_bytes = server.journal_path.stat().st_size if server.journal_path.exists() else 0
    entries = max(1, journal.get("last_seq", 0))
    result.inputs = short + aborts
    result.figures.update(
        short_connections=short, aborts=aborts, seconds=round(elapsed, 1), connections_per_second=round((short + aborts) / elapsed),
        outcomes=dict(tally), journal=journal, journal_entries_this_case=journal.get("last_seq", 0) - seq_before,
        journal_file_bytes=file_bytes, journal_bytes_per_entry=round(file_bytes / entries),
    )  # fmt: skip
    result.check(tally["ok"] == short, f"{short - tally['ok']}/{short} short connections not served and closed: {dict(tally)}")
    result.check(journal.get("kept", 0) <= journal.get("capacity", 10_000), f"journal ring over its capacity: {journal}")


WS_HANDSHAKE = (
    f"GET /ws/echo HTTP/1.1\r\nHost: s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
).encode()
MIX = [  # a list: writes, the rest sent once the first is answered
    b"GET /__probe HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: s\r\nConnection: close\r\nContent-Length: 1000\r\n\r\n" + b"x" * 1000,
    b"GET /early-hints HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n",
    b"GET /processing?count=2&every=5ms HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n",
    b"GET /drip?bytes=20&every=1ms HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n",
    b"POST /continue/delayed?delay=5ms HTTP/1.1\r\nHost: s\r\nConnection: close\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello",
    b"GET /missing HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: s\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
    b"GET /__probe HTTP/1.1\r\nHost: s\r\n\r\nGET /echo HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n",
    [WS_HANDSHAKE, client_frame(1, b"soak") + client_frame(8, b"\x03\xe8")],  # not in one write with the handshake: see W2
]
MIX_STATUSES = {100, 101, 102, 103, 200, 404}


def _slope(samples: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, MB) in MB per minute."""
    if len(samples) < 3:
        return None
    xs, ys = [s[0] for s in samples], [s[1] for s in samples]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return None if spread == 0 else 60 * sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def run_l4(ctx: Context) -> None:
    """A shortened soak: mixed behaviours from 16 workers plus 50 slowloris connections, RSS every few seconds."""
    result, server, rng = ctx.result, ctx.server, ctx.rng
    duration, every = ctx.scale(240.0, 10.0), ctx.scale(5.0, 1.0)
    samples: list[tuple[float, float]] = []
    tally: Counter = Counter()
    started = time.monotonic()

    async def worker():
        while time.monotonic() - started < duration:
            writes = rng.choice(MIX)
            outcome = await converse(server.port, writes if isinstance(writes, list) else [writes], answer_first=True, wait=5.0)
            found = statuses(outcome.data)
            tally["ok" if found and set(found) <= MIX_STATUSES and outcome.ended == "FIN" else f"other {found[:3]} {outcome.ended}"] += 1

    async def slowloris():
        while time.monotonic() - started < duration:
            await converse(server.port, [b"GET /__probe HTTP/1.1\r\n", b"X-A: 1\r\n", b"X-B: 2\r\n"], gap=1.0, wait=12.0)

    async def sampler():
        while time.monotonic() - started < duration:
            samples.append((time.monotonic() - started, server.rss_kib() / 1024))
            await asyncio.sleep(every)

    async def main():
        await asyncio.gather(*(worker() for _ in range(16)), *(slowloris() for _ in range(50)), sampler())

    asyncio.run(main())
    warm = [s for s in samples if s[0] >= duration / 3]
    slope = _slope(warm)
    spread = max(y for _, y in warm) - min(y for _, y in warm) if warm else None
    result.inputs = sum(tally.values())
    result.rss_slope_mb_per_min = None if slope is None else round(slope, 2)
    result.figures.update(
        seconds=duration, requests=sum(tally.values()), outcomes=dict(tally), rss_mb=[round(y, 1) for _, y in samples],
        rss_spread_after_warmup_mb=None if spread is None else round(spread, 1),
    )  # fmt: skip
    result.check(tally["ok"] == sum(tally.values()), f"unexpected answers in the soak: { {k: v for k, v in tally.items() if k != 'ok'} }")
    if ctx.quick:
        result.figures["judged"] = "not in a quick run (too short for a slope)"
        return
    result.check(slope is not None and slope < 1.0, f"RSS slope {slope} MB/min after warm-up (limit 1)")
    result.check(spread is not None and spread < 10, f"RSS max-min {spread} MB after warm-up (limit 10)")
