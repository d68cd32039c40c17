"""A probe that runs beside a case, in its own process, so the case's load does not delay it.

``python -m stress.prober HOST PORT INTERVAL`` prints one line per probe: milliseconds for
``GET /__probe`` on a new connection (``-1`` when it got no answer within 5 s), until it
is terminated. ``Prober`` starts it and reads the figures back.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

from stress.server import ROOT


def probe_once(host: str, port: int, timeout: float = 5.0) -> float:
    started = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"GET /__probe HTTP/1.1\r\nHost: stress\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
    except OSError:
        return -1.0
    return (time.perf_counter() - started) * 1000 if data.startswith(b"HTTP/1.1 200") else -1.0


def main(host: str, port: str, interval: str) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        started = time.monotonic()
        print(f"{probe_once(host, int(port)):.3f}", flush=True)
        time.sleep(max(0.0, float(interval) - (time.monotonic() - started)))


class Prober:
    """Probes ``port`` every ``interval`` seconds until ``stop()``, which returns the latencies (ms; -1: no answer)."""

    def __init__(self, host: str, port: int, interval: float = 0.1):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "stress.prober", host, str(port), str(interval)], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )

    def stop(self) -> list[float]:
        self.process.terminate()
        output, _ = self.process.communicate(timeout=15)
        return [float(line) for line in output.split()]


def p99(samples: list[float]) -> float | None:
    """The 99th percentile; a probe with no answer counts as 5 s."""
    if not samples:
        return None
    ordered = sorted(5000.0 if s < 0 else s for s in samples)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


if __name__ == "__main__":
    try:
        main(*sys.argv[1:4])
    except (KeyboardInterrupt, BrokenPipeError):
        pass
