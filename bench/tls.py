"""HTTPS figures for `make bench`: keep-alive requests/s over HTTP/1.1 and over HTTP/2, and
TLS handshakes/s, mockorigin against bare Twisted serving the same fixed bytes over TLS.

Usage: python -m bench.tls [--seconds N]   (prints a table; ``measure()`` returns the rows)
Load comes from h2load (Debian package nghttp2-client; ``--h1`` for HTTP/1.1) and
handshakes from ``openssl s_time -new``; a figure whose tool is missing is skipped.
The baselines: a bare protocol writing fixed bytes inside Twisted's TLS (HTTP/1.1), and
Twisted's own HTTP/2 (``twisted.web`` with ALPN h2) serving a resource that returns them.
Both use the same kind of certificate (ECDSA P-256) as mockorigin.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEHAVIOURS = ROOT / "bench" / "behaviours"


def _pin(cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu)] if shutil.which("taskset") else []


class Server:
    """A server process on a free port: 'mockorigin', 'bare-h1' or 'bare-h2'."""

    def __init__(self, kind: str):
        self.folder = Path(tempfile.mkdtemp(prefix="mockorigin-bench-tls-"))
        if kind == "mockorigin":
            ready = self.folder / "ready.json"
            command = [sys.executable, "-m", "mockorigin", "serve", "--quiet", "--tls", "--listen", "tcp:0:interface=127.0.0.1",
                       "--journal-size", "0", "--ready-file", str(ready), str(BEHAVIOURS)]
        else:
            ready = self.folder / "port"
            command = [sys.executable, "-m", "bench.tls", "--serve", kind, str(ready)]
        self.process = subprocess.Popen(_pin(0) + command, cwd=ROOT, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{kind} did not start")
            time.sleep(0.02)
        time.sleep(0.05)
        text = ready.read_text()
        self.port = int(json.loads(text)["urls"][0].rstrip("/").rsplit(":", 1)[1]) if kind == "mockorigin" else int(text)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def h2load(port: int, http1: bool, seconds: float, clients: int = 50) -> float | None:
    """Requests/s for GET /plain over ``clients`` keep-alive connections for ``seconds``."""
    if shutil.which("h2load") is None:
        return None
    command = _pin(1) + ["h2load", "-D", str(max(1, int(seconds))), "-c", str(clients), "-m", "1", *(["--h1"] if http1 else []), f"https://127.0.0.1:{port}/plain"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    found = re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", result.stdout)
    succeeded = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded", result.stdout)
    return float(found.group(1)) if found and succeeded and int(succeeded.group(1)) > 0 else None


def handshakes(port: int, seconds: int) -> float | None:
    """New TLS handshakes per second, one after another (``openssl s_time -new``)."""
    if shutil.which("openssl") is None:
        return None
    result = subprocess.run(_pin(1) + ["openssl", "s_time", "-connect", f"127.0.0.1:{port}", "-new", "-time", str(seconds)],
                            capture_output=True, text=True, timeout=seconds + 60)
    found = re.search(r"(\d+) connections in ([\d.]+) real seconds", result.stdout)
    return int(found.group(1)) / float(found.group(2)) if found else None


def measure(seconds: float = 5.0) -> list[dict]:
    rows = []
    for figure, ours, baseline, run in (
        ("HTTPS keep-alive requests/s, HTTP/1.1, 50 connections (h2load --h1)", "mockorigin", "bare-h1", lambda port: h2load(port, True, seconds)),
        ("HTTPS keep-alive requests/s, HTTP/2, 50 connections (h2load)", "mockorigin", "bare-h2", lambda port: h2load(port, False, seconds)),
        ("TLS handshakes/s, one at a time (openssl s_time -new)", "mockorigin", "bare-h1", lambda port: handshakes(port, int(seconds))),
    ):
        values = {}
        for kind in (baseline, ours):
            server = Server(kind)
            try:
                values[kind] = run(server.port)
            finally:
                server.stop()
        mine, bare = values[ours], values[baseline]
        rows.append({"figure": figure, "mockorigin": mine, "baseline": bare, "baseline_kind": baseline,
                     "ratio": round(mine / bare, 2) if mine and bare else None})
    return rows


# --- the baselines, run in their own process ------------------------------------------


def serve(kind: str, port_file: str) -> None:
    from twisted.internet import reactor
    from twisted.internet.protocol import Factory
    from twisted.internet.ssl import CertificateOptions
    from twisted.protocols.tls import TLSMemoryBIOFactory
    from OpenSSL import crypto

    from mockorigin.tls import certs

    issued = certs.issue()
    key = crypto.load_privatekey(crypto.FILETYPE_PEM, issued.key_pem)
    cert = crypto.load_certificate(crypto.FILETYPE_PEM, issued.cert_pem)
    if kind == "bare-h1":
        from bench.baseline import Bare

        options = CertificateOptions(privateKey=key, certificate=cert, acceptableProtocols=[b"http/1.1"])
        factory = TLSMemoryBIOFactory(options, False, Factory.forProtocol(Bare))
        port = reactor.listenTCP(0, factory, backlog=511, interface="127.0.0.1")
    else:
        from twisted.web.resource import Resource
        from twisted.web.server import Site

        class Plain(Resource):
            isLeaf = True

            def render_GET(self, request):
                request.setHeader(b"content-length", b"2")
                return b"ok"

        options = CertificateOptions(privateKey=key, certificate=cert, acceptableProtocols=[b"h2", b"http/1.1"])
        site = Site(Plain())
        site.log = lambda request: None
        port = reactor.listenSSL(0, site, options, backlog=511, interface="127.0.0.1")
    with open(port_file, "w") as handle:
        handle.write(str(port.getHost().port))
    reactor.run()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.tls")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--serve", nargs=2, metavar=("KIND", "PORT_FILE"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve:
        serve(*options.serve)
        return
    for row in measure(options.seconds):
        shown = lambda value: "skipped" if value is None else f"{value:,.0f}"  # noqa: E731
        print(f"{row['figure']:<72} {shown(row['mockorigin']):>10}  {row['baseline_kind']} {shown(row['baseline']):>10}  ratio {row['ratio']}")


if __name__ == "__main__":
    main()
