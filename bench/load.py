"""Load generators run in their own process: python -m bench.load MODE HOST PORT [ARGS] -> JSON on stdout."""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time

REQUEST = b"GET /plain HTTP/1.1\r\nHost: bench\r\n\r\n"


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    if length:
        await reader.readexactly(length)
    return status, head


async def throughput(host: str, port: int, connections: int, seconds: float) -> dict:
    """Keep-alive GETs on `connections` sockets for `seconds`; requests per second."""
    done = 0
    stop_at = time.perf_counter() + seconds

    async def worker():
        nonlocal done
        reader, writer = await asyncio.open_connection(host, port)
        while time.perf_counter() < stop_at:
            writer.write(REQUEST)
            try:
                await _read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):  # the server closed: reconnect
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            done += 1
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return {"requests_per_second": done / (time.perf_counter() - started)}


async def lateness(host: str, port: int, connections: int, mode: str) -> dict:
    """Seconds each 1xx came later than scheduled, over `connections` concurrent requests."""
    samples: list[float] = []
    gate = asyncio.Semaphore(200)  # connects in flight at once

    async def one():
        async with gate:
            reader, writer = await asyncio.open_connection(host, port)
        if mode == "continue":
            writer.write(b"POST /delayed-100 HTTP/1.1\r\nHost: b\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
            sent = time.perf_counter()
            await reader.readuntil(b"\r\n\r\n")
            samples.append(time.perf_counter() - sent - 0.2)
            writer.write(b"ok")
            await _read_response(reader)
        else:
            writer.write(b"GET /processing HTTP/1.1\r\nHost: b\r\n\r\n")
            await reader.readuntil(b"\r\n\r\n")
            previous = time.perf_counter()
            for _ in range(4):
                await reader.readuntil(b"\r\n\r\n")
                now = time.perf_counter()
                samples.append(now - previous - 0.1)
                previous = now
            await _read_response(reader)
        writer.close()

    await asyncio.gather(*(one() for _ in range(connections)))
    samples.sort()
    return {
        "p50": samples[len(samples) // 2],
        "p99": samples[int(len(samples) * 0.99) - 1],
        "max": samples[-1],
        "count": len(samples),
    }


async def hold(host: str, port: int, connections: int, path: str, seconds: float) -> dict:
    """Open `connections` sockets, each sending one request, and hold them for `seconds`."""
    gate = asyncio.Semaphore(300)
    writers = []

    async def one():
        async with gate:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: b\r\n\r\n".encode())
            await writer.drain()
            writers.append(writer)

    await asyncio.gather(*(one() for _ in range(connections)))
    print(json.dumps({"open": len(writers)}), flush=True)
    await asyncio.sleep(seconds)
    for writer in writers:
        writer.close()
    return {"open": len(writers)}


WS_HANDSHAKE = (
    b"GET /ws/echo HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: MDEyMzQ1Njc4OWFiY2RlZg==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
WS_MESSAGE = bytes([0x81, 0x80 | 32]) + b"\x00\x00\x00\x00" + b"m" * 32  # masked (with a zero key) 32-byte text


async def ws_echo(host: str, port: int, connections: int, seconds: float) -> dict:
    """Echo round trips of a 32-byte text message on `connections` WebSockets; messages per second."""
    done = 0
    gate = asyncio.Semaphore(200)
    ready = asyncio.Event()
    opened = 0

    async def worker():
        nonlocal done, opened
        async with gate:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(WS_HANDSHAKE)
            await reader.readuntil(b"\r\n\r\n")
        opened += 1
        if opened == connections:
            started[0] = time.perf_counter()
            ready.set()
        await ready.wait()
        stop_at = started[0] + seconds
        while time.perf_counter() < stop_at:
            writer.write(WS_MESSAGE)
            await reader.readexactly(2 + 32)
            done += 1
        writer.close()

    started = [0.0]
    await asyncio.gather(*(worker() for _ in range(connections)))
    return {"messages_per_second": done / (time.perf_counter() - started[0]), "connections": connections}


def main() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "throughput":
        result = asyncio.run(throughput(host, port, int(sys.argv[4]), float(sys.argv[5])))
    elif mode == "ws":
        result = asyncio.run(ws_echo(host, port, int(sys.argv[4]), float(sys.argv[5])))
    elif mode in ("continue", "processing"):
        result = asyncio.run(lateness(host, port, int(sys.argv[4]), mode))
    else:
        result = asyncio.run(hold(host, port, int(sys.argv[4]), sys.argv[5], float(sys.argv[6])))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
