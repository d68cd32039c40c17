"""The compatibility cases, as data.

A case names an origin behaviour by path (the catalogue's, or one of the compat
behaviours in ``behaviours.py``), how our client asks for it, how long anyone
waits, and which judge turns the two ends' observations into verdicts
(``verdicts.py``). Adding a case is adding an entry here.

Durations are written ``S(x)`` (x seconds, times ``--time-scale``) or ``T(x)``
(x times the proxy's upstream timeout, ``--proxy-timeout``: only a timer probe
needs it, and it does not scale: it is the proxy's own setting).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from urllib.parse import urlencode

MIN_WAIT = 1.0  # added to every bound, so a scaled-down run still has room for scheduling


@dataclass(frozen=True)
class S:
    seconds: float


@dataclass(frozen=True)
class T:
    timeouts: float


Duration = S | T


@dataclass(frozen=True)
class Timing:
    """What the durations of a run are measured against."""

    scale: float = 1.0
    proxy_timeout: float = 3.0

    def seconds(self, value: Duration | float | int) -> float:
        if isinstance(value, S):
            return value.seconds * self.scale
        if isinstance(value, T):
            return value.timeouts * self.proxy_timeout
        return float(value)

    def query_value(self, value: object) -> str:
        if isinstance(value, (S, T)):
            return f"{round(self.seconds(value) * 1000)}ms"
        return str(value)


@dataclass(frozen=True)
class Case:
    id: str
    group: str
    title: str
    path: str
    judge: str
    query: tuple[tuple[str, object], ...] = ()
    method: str = "GET"
    version: str = "1.1"
    body: int = 0
    expect_wait: Duration | None = None  # the client sends Expect: 100-continue and waits this long
    upgrade: bool = False
    wait: tuple[Duration, ...] = (S(5),)  # summed, plus MIN_WAIT: the client's bound for the whole exchange
    client_timeout: Duration = S(5)  # client-check: the {timeout} a client under test is asked to use
    proxies: bool = True
    clients: bool = True
    timer_probe: bool = False  # client-check: giving up before the final response is the point, not a fault
    websocket: bool = False  # client-check --ws runs only these; plain client-check none of them

    def target(self, timing: Timing, token: str) -> str:
        query = [(k, timing.query_value(v)) for k, v in self.query] + [("mo_case", token)]
        return f"{self.path}?{urlencode(query)}"

    def bound(self, timing: Timing) -> float:
        return sum(timing.seconds(d) for d in self.wait) + MIN_WAIT


GROUPS = ("interim", "expect", "upgrade", "hang", "drip", "reset", "framing", "websocket")

CASES: tuple[Case, ...] = (
    # interim: what the proxy does with 1xx the origin sends
    Case("processing", "interim", "three 102 Processing 300 ms apart, then 200", "/compat/processing", "interims",
         query=(("count", 3), ("every", S(0.3))), wait=(S(1.2), T(1))),
    Case("early-hints", "interim", "103 Early Hints, 300 ms, then 200", "/compat/early-hints", "interims",
         query=(("after", S(0.3)),), wait=(S(0.3), T(1))),
    Case("unknown-1xx", "interim", "an unregistered 199, 300 ms, then 200", "/compat/unknown-1xx", "interims",
         query=(("after", S(0.3)),), wait=(S(0.3), T(1))),
    Case("multi-1xx", "interim", "unsolicited 100, 102, 103 200 ms apart, then 200", "/compat/multi-1xx", "interims",
         query=(("gap", S(0.2)),), wait=(S(0.6), T(1))),
    Case("processing-flood", "interim", "fifty 102 back to back, then 200", "/compat/processing", "interims",
         query=(("count", 50), ("every", S(0))), wait=(S(1), T(1))),
    Case("100-then-close", "interim", "100 Continue, then the origin closes with no final response", "/compat/100-then-close",
         "interim_then_close", wait=(S(1), T(1.5))),
    Case("timer-interims", "interim", "102 every half proxy timeout, final after two timeouts: does a 1xx re-arm the proxy's timer?",
         "/compat/processing", "timer", query=(("count", 4), ("every", T(0.5))), wait=(T(3.5),), clients=False),
    Case("timer-one-interim", "interim", "one 102, then silence for 1.5 proxy timeouts before 200",
         "/compat/processing", "timer", query=(("count", 1), ("every", T(1.5))), wait=(T(2.5),), clients=False),
    Case("processing-timer", "interim", "five 102 800 ms apart against a 2 s client timeout: does a 1xx re-arm the client's timer?",
         "/compat/processing", "interims", query=(("count", 5), ("every", S(0.8))), wait=(S(4.8),), client_timeout=S(2), proxies=False, timer_probe=True),
    # expect: who answers Expect: 100-continue, and when
    Case("continue-delayed", "expect", "Expect: 100-continue; the origin's 100 comes after 500 ms", "/continue/delayed", "expect",
         method="POST", body=2048, expect_wait=S(1), query=(("delay", S(0.5)),), wait=(S(1.5), T(1))),
    Case("continue-delayed-long", "expect", "Expect: 100-continue; the origin's 100 comes after 2 s", "/continue/delayed", "expect",
         method="POST", body=2048, expect_wait=S(1), query=(("delay", S(2)),), wait=(S(3), T(1)), proxies=False),
    Case("continue-never", "expect", "Expect: 100-continue; the origin never sends 100 and waits for the body", "/continue/never",
         "expect", method="POST", body=2048, expect_wait=T(2), wait=(T(3),), client_timeout=S(5)),
    Case("continue-reject", "expect", "Expect: 100-continue; the origin answers 417 at once and closes", "/continue/reject",
         "expect", method="POST", body=2048, expect_wait=S(1), query=(("status", 417),), wait=(S(2), T(1))),
    # upgrade
    Case("websocket", "upgrade", "a WebSocket upgrade to an echo: 101, one message, a close", "/ws/echo", "upgrade",
         upgrade=True, wait=(S(3), T(1)), clients=False),
    Case("ws-echo", "websocket", "101, then a strict echo; the client's frames must be masked", "/ws/echo", "ws_client",
         proxies=False, websocket=True),
    Case("ws-ping", "websocket", "two server pings 100 ms apart, then a close 1000", "/ws/ping", "ws_client",
         query=(("count", 2), ("every", S(0.1))), proxies=False, websocket=True),
    Case("ws-close-1011", "websocket", "a message, then a close with 1011: the client should echo the code", "/ws/close-1011",
         "ws_client", proxies=False, websocket=True),
    Case("101-no-upgrade", "upgrade", "101 Switching Protocols to a plain GET, junk, close", "/compat/101-no-upgrade",
         "unsolicited_101", wait=(S(1), T(1)), client_timeout=S(2)),
    # hang: stalls before and after the head
    Case("hang", "hang", "the origin reads the request and never answers", "/hang", "stall", wait=(T(1.5), S(1)), client_timeout=S(2)),
    Case("hang-after-headers", "hang", "a 200 head announcing 100 bytes, then silence", "/hang/after-headers", "stall",
         wait=(T(1.5), S(1)), client_timeout=S(2)),
    Case("hang-after-3-bytes", "hang", "a 200 head announcing 10 bytes, 3 of them, then silence", "/compat/hang-after-bytes", "stall",
         query=(("bytes", 3),), wait=(T(1.5), S(1)), client_timeout=S(2)),
    # drip: pacing of the body
    Case("drip", "drip", "20 body bytes (Content-Length), one every 100 ms", "/drip", "drip",
         query=(("bytes", 20), ("every", S(0.1))), wait=(S(2.5), T(1)), client_timeout=S(1.5)),
    Case("drip-chunked", "drip", "20 body bytes (chunked), one every 100 ms", "/compat/drip-chunked", "drip",
         query=(("bytes", 20), ("every", S(0.1))), wait=(S(2.5), T(1)), client_timeout=S(1.5)),
    # reset: an RST at three stages
    Case("reset-request", "reset", "the origin resets the connection before any response byte", "/compat/reset-request", "reset",
         wait=(S(1), T(1))),
    Case("reset-after-headers", "reset", "a 200 head announcing 100 bytes, then RST", "/reset/after-headers", "reset",
         wait=(S(1), T(1))),
    Case("reset-mid-body", "reset", "a 200 head announcing 10 bytes, 5 of them, then RST", "/compat/reset-mid-body", "reset",
         wait=(S(1), T(1))),
    # framing: what the proxy changes in the request, and the version it speaks
    Case("echo", "framing", "a plain GET over HTTP/1.1 with a hop-by-hop header named in Connection", "/echo", "forwarding"),
    Case("echo-http10", "framing", "a plain GET over HTTP/1.0", "/echo", "forwarding", version="1.0", clients=False),
    Case("interim-to-http10", "framing", "an HTTP/1.0 request; the origin sends 100 anyway, then 200", "/compat/interim-to-http10",
         "interim_to_http10", version="1.0", wait=(S(1), T(1))),
)


class UnknownCases(ValueError):
    """A --cases selection named nothing."""


def select(spec: str | None, cases: tuple[Case, ...] = CASES, for_clients: bool = False, websocket: bool = False) -> list[Case]:
    """Cases by comma-separated ids, groups or globs (``interim,drip,reset-*``); all when empty.
    A ``-`` before an item leaves it out (``-timer-*``). Client cases are either the HTTP ones
    or, for a WebSocket client, the WebSocket ones."""
    pool = [c for c in cases if (c.clients and c.websocket == websocket if for_clients else c.proxies)]
    items = [i.strip() for i in (spec or "").split(",") if i.strip()]
    wanted = [i for i in items if not i.startswith("-")]
    unwanted = [i[1:] for i in items if i.startswith("-")]

    def hits(item: str, case: Case) -> bool:
        return case.group == item or fnmatch.fnmatchcase(case.id, item)

    for item in wanted + unwanted:
        if not any(hits(item, c) for c in pool):
            known = ", ".join(sorted({c.group for c in pool})) + "; " + ", ".join(c.id for c in pool)
            raise UnknownCases(f"--cases: {item!r} names no case (groups and cases: {known})")
    chosen = [c for c in pool if not wanted or any(hits(i, c) for i in wanted)]
    return [c for c in chosen if not any(hits(i, c) for i in unwanted)]
