"""H5: slowloris, slow body and slow read, with Python sockets (and slowhttptest when installed).

- slowloris: a header line a second; the whole-head deadline (10 s) must answer 408 and
  close, 10 ± 0.5 s after the first byte, for every connection;
- slow body: 10 B/s and 1 B per 5 s; the plan's minimum body rate (1 KB/s over 10 s) must
  answer 408 and close within 12 s;
- slow read: 8 MiB responses nobody reads: writes pause, server RSS stays under +50 MB;
- slowhttptest ``-H`` and ``-B`` (Debian package ``slowhttptest``, optional): the service
  stays available throughout.
A probe runs beside it all (p99 in the table).
"""

from __future__ import annotations

import asyncio
import csv
import shutil
import socket
import statistics
import subprocess
import time

from stress.net import set_linger_zero
from stress.runner import Context
from stress.server import HOST

HEAD_DEADLINE = 10.0
BODY_LIMIT = 12.0  # 10 s of the minimum rate, plus the deadline sweep and slack


async def _drip(port: int, first: bytes, piece: bytes, every: float, limit: float) -> tuple[float | None, bytes]:
    """Send ``first``, then ``piece`` every ``every`` s until the server closes or ``limit`` s pass:
    (seconds from the first byte to the server's close or None, what it sent)."""
    try:
        reader, writer = await asyncio.open_connection(HOST, port)
    except OSError:
        return None, b"refused"
    started = time.monotonic()
    received = b""
    closed_at = None
    writer.write(first)
    try:
        while time.monotonic() - started < limit:
            try:
                data = await asyncio.wait_for(reader.read(4096), every)
            except asyncio.TimeoutError:
                writer.write(piece)
                await writer.drain()
                continue
            received += data
            if not data:
                closed_at = time.monotonic() - started
                break
    except OSError:
        closed_at = time.monotonic() - started
    finally:
        if closed_at is None:
            try:
                set_linger_zero(writer.get_extra_info("socket"))
            except OSError:
                pass
        writer.close()
    return closed_at, received


def _summary(times: list[float | None]) -> dict:
    closed = [t for t in times if t is not None]
    return {
        "connections": len(times),
        "closed": len(closed),
        "held_to_the_end": len(times) - len(closed),
        "closed_after_s": {"min": round(min(closed), 2), "median": round(statistics.median(closed), 2), "max": round(max(closed), 2)} if closed else None,
    }


def run_h5(ctx: Context) -> None:
    result, server = ctx.result, ctx.server
    loris, bodies = ctx.scale(1000, 100), ctx.scale(300, 40)

    async def main():
        slowloris = [_drip(server.port, b"GET /__probe HTTP/1.1\r\nHost: s\r\n", b"X-Slow: 1\r\n", 1.0, 16.0) for _ in range(loris)]
        ten_per_second = [
            _drip(server.port, b"POST /echo HTTP/1.1\r\nHost: s\r\nContent-Length: 100000\r\n\r\n", b"x", 0.1, BODY_LIMIT + ctx.scale(8, 2)) for _ in range(bodies)
        ]
        one_per_five = [_drip(server.port, b"POST /echo HTTP/1.1\r\nHost: s\r\nContent-Length: 100000\r\n\r\n", b"x", 5.0, BODY_LIMIT + ctx.scale(8, 2)) for _ in range(20)]
        return await asyncio.gather(asyncio.gather(*slowloris), asyncio.gather(*ten_per_second), asyncio.gather(*one_per_five))

    loris_out, ten_out, five_out = asyncio.run(main())
    loris_times = [t for t, _ in loris_out]
    summary = _summary(loris_times)
    summary["got_408"] = sum(data.startswith(b"HTTP/1.1 408") for _, data in loris_out)
    result.figures["slowloris"] = summary
    outside = [t for t in loris_times if t is None or abs(t - HEAD_DEADLINE) > 0.5]
    result.hung += summary["held_to_the_end"]
    result.check(not outside, f"slowloris: {len(outside)}/{loris} not closed at {HEAD_DEADLINE:g} ± 0.5 s: {summary['closed_after_s']}")
    result.check(summary["got_408"] == loris, f"slowloris: {summary['got_408']}/{loris} got 408")
    for name, outcomes in (("slow body 10 B/s", ten_out), ("slow body 1 B/5 s", five_out)):
        times = [t for t, _ in outcomes]
        figures = _summary(times)
        figures["got_408"] = sum(data.startswith(b"HTTP/1.1 408") for _, data in outcomes)
        result.figures[name] = figures
        held = [t for t in times if t is None or t > BODY_LIMIT]
        result.hung += figures["held_to_the_end"]
        result.check(not held, f"{name}: {len(held)}/{len(times)} held past {BODY_LIMIT:g} s (no minimum body rate): {figures['closed_after_s']}", "#10/9")
    _slow_read(ctx)
    if not ctx.quick:
        _slowhttptest(ctx)
    result.inputs = loris + bodies + 20


def _slow_read(ctx: Context) -> None:
    """Responses nobody reads: the server must stop producing, not buffer them."""
    result, server = ctx.result, ctx.server
    count = ctx.scale(50, 10)
    before = server.rss_kib()

    async def main():
        streams = [await asyncio.open_connection(HOST, server.port) for _ in range(count)]
        for _reader, writer in streams:
            writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            writer.write(b"GET /__big?size=8MiB HTTP/1.1\r\nHost: s\r\n\r\n")
        await asyncio.sleep(ctx.scale(10.0, 3.0))
        peak = server.rss_kib()
        for _reader, writer in streams:
            set_linger_zero(writer.get_extra_info("socket"))
            writer.close()
        return peak

    peak = asyncio.run(main())
    grown = (peak - before) / 1024
    result.figures["slow_read"] = {"connections": count, "response_bytes": 8 * 1024 * 1024, "rss_growth_mb": round(grown, 1)}
    result.check(grown < 50, f"slow read: server RSS grew {grown:.0f} MB holding {count} unread 8 MiB responses (limit 50)")


def _slowhttptest(ctx: Context) -> None:
    """slowhttptest -H (slow headers) and -B (slow body): the service stays available (optional tool)."""
    result, server = ctx.result, ctx.server
    if shutil.which("slowhttptest") is None:
        result.figures["slowhttptest"] = "not installed"
        return
    figures = {}
    for mode, extra in (("-H", []), ("-B", ["-s", "8192"])):
        prefix = ctx.folder / f"slowhttptest{mode}"
        command = ["slowhttptest", mode, "-c", "1000", "-i", "5", "-r", "200", "-l", "20", "-p", "3", "-g", "-o", str(prefix), "-u", f"http://{HOST}:{server.port}/echo", *extra]
        subprocess.run(command, capture_output=True, text=True, timeout=120)
        rows = list(csv.DictReader(open(f"{prefix}.csv"))) if (ctx.folder / f"slowhttptest{mode}.csv").exists() else []
        available = [r for r in rows if r.get("service_available", r.get("Service Available", "0")).strip() not in ("0", "")]
        figures[mode] = {
            "seconds": len(rows),
            "available_seconds": len(available),
            "max_connected": max((int(r.get("connected", r.get("Connected", 0)) or 0) for r in rows), default=0),
        }
        result.check(rows and len(available) == len(rows), f"slowhttptest {mode}: service available {len(available)}/{len(rows)} s")
    result.figures["slowhttptest"] = figures
