"""The quick answer (``OriginProtocol._answer_at_once``, in ``http1/running.py``) against the general path.

A body-less request to a one-step fixed response is answered without a script.
For every request shape generated here, the server must send the same bytes, in
the same writes, and journal the same entries (times included, on a clock that
moves between reads) as the same server with the quick answer turned off, which
runs a script for every request.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from mockorigin import interpreter
from mockorigin.observe.journal import Journal
from mockorigin.limits import ConnectionLimits
from mockorigin.format.loader import load_text
from mockorigin.http1 import OriginFactory, OriginProtocol
from mockorigin.interpreter.state import ServerState

BEHAVIOURS = """
name: plain
match: {path: /plain}
script:
  - respond: {status: 200, body: ok}
---
name: says-close
match: {path: /close}
script:
  - respond: {status: 200, headers: {connection: close}, body: bye}
---
name: keeps-1.0
match: {path: /kept}
script:
  - respond: {status: 204, headers: {connection: keep-alive}}
---
name: big
match: {path: /big}
script:
  - respond: {status: 200, body_size: 100KiB}
---
name: two-steps
match: {path: /two}
script:
  - interim: 103
  - respond: {status: 200, body: ok}
"""


class FullBufferTransport(StringTransport):
    """Like TCP whose buffer fills with each response: every write pauses the streaming producer."""

    def write(self, data: bytes) -> None:
        super().write(data)
        if self.producer is not None and self.streaming:
            self.producer.pauseProducing()


def serve(
    behaviours, pieces: list[bytes], full_buffer: bool, client_closes: bool, quick: bool = True, stopping: bool = False, max_requests: int = 0
) -> tuple[list[bytes], list[dict], int]:
    """(what each read and each resume made the server write, the journal, scripts run).
    ``quick=False``: the quick answer is never taken. ``stopping``: the server is shutting down."""
    runs = 0
    real_run = interpreter.run

    def counting_run(steps, exchange):
        nonlocal runs
        runs += 1
        return real_run(steps, exchange)

    clock = Clock()
    clock.advance(1_700_000_000)
    factory = OriginFactory(ServerState(behaviours), clock, Journal(), ConnectionLimits(max_requests=max_requests))
    factory.stopping = stopping
    protocol = factory.buildProtocol(None)
    transport = FullBufferTransport() if full_buffer else StringTransport()
    protocol.makeConnection(transport)
    writes: list[bytes] = []

    def collect() -> None:
        writes.append(transport.value())
        transport.clear()

    interpreter.run = counting_run
    real_answer = OriginProtocol._answer_at_once
    if not quick:
        OriginProtocol._answer_at_once = lambda self, request, steps: False  # type: ignore[method-assign]
    try:
        for piece in pieces:
            clock.advance(0.0015)
            protocol.dataReceived(piece)
            collect()
        if client_closes:  # with FIN after its requests, before the server has answered them all
            protocol.readConnectionLost()
            collect()
        for _ in range(10):  # bounded: at most one response per resume
            if not protocol.write_paused:
                break
            clock.advance(0.0025)
            protocol.resumeProducing()
            collect()
        clock.advance(0.004)
        protocol.connectionLost()
    finally:
        interpreter.run = real_run
        OriginProtocol._answer_at_once = real_answer  # type: ignore[method-assign]
    return writes, factory.journal.entries, runs


request_shapes = st.tuples(
    st.sampled_from(["GET", "HEAD", "POST"]),
    st.sampled_from(["/plain", "/close", "/kept", "/big", "/two", "/missing", "/plain?x=1"]),
    st.sampled_from(["1.1", "1.0"]),
    st.sampled_from(["", "Connection: close\r\n", "Connection: keep-alive\r\n", "Connection: Keep-Alive, x\r\n"]),
)


def encode(method: str, target: str, version: str, connection: str) -> bytes:
    body = "Content-Length: 2\r\n\r\nhi" if method == "POST" else "\r\n"
    return f"{method} {target} HTTP/{version}\r\nHost: h\r\n{connection}{body}".encode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    requests=st.lists(request_shapes, min_size=1, max_size=4),
    cuts=st.lists(st.integers(min_value=1, max_value=400), max_size=4),
    full_buffer=st.booleans(),
    client_closes=st.booleans(),
    stopping=st.booleans(),
    max_requests=st.sampled_from([0, 2]),
)
def test_the_quick_answer_sends_and_journals_what_the_script_would(requests, cuts, full_buffer, client_closes, stopping, max_requests):
    data = b"".join(encode(*shape) for shape in requests)
    bounds = sorted({cut for cut in cuts if cut < len(data)})
    pieces = [data[start:end] for start, end in zip([0, *bounds], [*bounds, len(data)], strict=True)]
    behaviours = load_text(BEHAVIOURS)
    quick = serve(behaviours, pieces, full_buffer, client_closes, stopping=stopping, max_requests=max_requests)
    general = serve(behaviours, pieces, full_buffer, client_closes, quick=False, stopping=stopping, max_requests=max_requests)
    assert quick[:2] == general[:2]
    assert quick[2] <= general[2]  # a quick answer replaces a script; it never adds one


def test_a_plain_keep_alive_request_runs_no_script():
    behaviours = load_text(BEHAVIOURS)
    pieces = [encode("GET", "/plain", "1.1", ""), encode("HEAD", "/plain", "1.1", ""), encode("GET", "/kept", "1.0", "Connection: keep-alive\r\n")]
    writes, journal, runs = serve(behaviours, pieces, full_buffer=False, client_closes=False)
    assert runs == 0
    assert [(entry["final"]["status"], entry["ended"]["stage"]) for entry in journal[:3]] == [(200, "done"), (200, "done"), (204, "done")]
    assert writes[0].endswith(b"\r\n\r\nok") and writes[1].endswith(b"Content-Length: 2\r\n\r\n")
    _, _, general_runs = serve(behaviours, pieces, full_buffer=False, client_closes=False, quick=False)
    assert general_runs == 3


def test_what_the_quick_answer_leaves_out_runs_a_script():
    behaviours = load_text(BEHAVIOURS)
    for request in (
        encode("POST", "/plain", "1.1", ""),  # a body
        encode("GET", "/plain", "1.1", "Connection: close\r\n"),  # the client closes
        encode("GET", "/close", "1.1", ""),  # the response closes
        encode("GET", "/plain", "1.0", ""),  # HTTP/1.0 without keep-alive
        encode("GET", "/two", "1.1", ""),  # more than one step
    ):
        assert serve(behaviours, [request], full_buffer=False, client_closes=False)[2] == 1, request
