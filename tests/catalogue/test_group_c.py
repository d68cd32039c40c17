"""Group C, timing and hangs: each entry driven by curl, Python, Node and Go.

The timers split the families as clients-and-proxies.md measured: a timer per read
(http.client's socket timeout, Node's ``setTimeout`` on the socket) survives a drip whose
gaps are shorter than it; a total timer (curl --max-time, Go's request deadline) does not.
"""

from __future__ import annotations

import pytest

from .clients import curl_statuses, drive, number, verify
from .plans import curl, go, node, python

pytestmark = pytest.mark.e2e

BIG = 8 << 20  # a body the kernel buffers cannot hold


def curl_timed_out(seen: dict) -> bool:
    return seen["exit"] == 28


def client_left(entry, stage: str) -> None:
    assert entry.ended.by == "client" and entry.ended.signal == "FIN" and entry.ended.stage == stage


# --- hang (case 33), hang-after-headers (34), hang-mid-body (35) -----------------------------------


def hang_curl(run):
    assert curl_timed_out(run.seen) and curl_statuses(run.seen) == []
    assert run.entry.final is None
    client_left(run.entry, "2:hang")


def hang_python(run):
    assert run.seen["status"] is None and run.seen["error"] == "timeout"
    assert run.entry.final is None
    client_left(run.entry, "2:hang")


def hang_node(run):
    assert run.seen["status"] is None and run.seen["error"] == "TIMEOUT"
    client_left(run.entry, "2:hang")


def hang_go(run):
    assert run.seen["status"] == 0 and run.seen["kind"] == "timeout"
    client_left(run.entry, "2:hang")


def after_headers(stage: str, body: str = ""):
    """The head (and ``body``) arrived, then the client's timer fired."""

    def curl_check(run):
        assert curl_timed_out(run.seen) and curl_statuses(run.seen) == [200] and run.seen["transfers"][0]["body"] == body
        assert run.entry.final.status == 200
        client_left(run.entry, stage)

    def python_check(run):
        assert run.seen["status"] == 200 and run.seen["error"] == "timeout"  # http.client reads the whole length, or nothing
        client_left(run.entry, stage)

    def node_check(run):
        assert run.seen["status"] == 200 and run.seen["body"] == body and run.seen["error"] == "TIMEOUT"
        client_left(run.entry, stage)

    def go_check(run):
        assert run.seen["status"] == 200 and run.seen["body"] == body and run.seen["kind"] == "timeout"
        client_left(run.entry, stage)

    return curl_check, python_check, node_check, go_check


HEADERS_ONLY = after_headers("3:hang")
MID_BODY = after_headers("4:hang", "moc")  # 3 of the 10 bytes (filler begins "mockorigin")

# --- drip (case 36), drip-chunked: per-read timers pass, total timers fail -----------------------------


def drip_total_timer_fails(run):
    """curl --max-time 0.3 against 6 bytes 100 ms apart: timed out with some of them."""
    assert curl_timed_out(run.seen) and curl_statuses(run.seen) == [200] and 0 < len(run.seen["transfers"][0]["body"]) < 6
    client_left(run.entry, "2:respond")


def drip_per_read_passes_python(run):
    """http.client's 0.3 s is per read: each byte comes within it, the whole takes 0.5 s."""
    assert run.seen["status"] == 200 and len(run.seen["body"]) == 6 and run.seen["elapsed"] >= 0.45
    assert run.entry.ended.how == "completed"


def drip_per_read_passes_node(run):
    assert run.seen["status"] == 200 and len(run.seen["body"]) == 6 and run.seen["endedAt"] >= 0.45
    assert run.entry.ended.how == "completed"


def drip_total_timer_fails_go(run):
    assert run.seen["status"] == 200 and run.seen["kind"] == "timeout" and 0 < len(run.seen["body"]) < 6
    client_left(run.entry, "2:respond")


def drip_chunked_go(run):
    """With a deadline longer than the drip, Go reads the 6 chunks whole."""
    assert run.seen["status"] == 200 and run.seen["body"] == "mockor" and run.seen["contentLength"] == -1
    assert run.entry.ended.how == "completed"


# --- drip-head (case 37) ------------------------------------------------------------------------------

HEAD_BYTES = 69  # the head and body drip-head writes


def raw_completed(entry, status: int | None = None) -> None:
    assert (entry.final.status if entry.final else None) == status
    assert entry.ended.server.why == "the script sent raw bytes: the response's framing is unknown"


def drip_head_curl(run):
    assert curl_statuses(run.seen) == [200] and run.seen["transfers"][0]["body"] == "drip!\n" and run.seen["elapsed"] >= HEAD_BYTES * 0.005 * 0.9
    raw_completed(run.entry)


def drip_head_python(run):
    """A per-read timer of 0.3 s never fires on bytes 5 ms apart."""
    assert run.seen["status"] == 200 and run.seen["body"] == b"drip!\n"
    raw_completed(run.entry)


def drip_head_node(run):
    assert run.seen["status"] == 200 and run.seen["body"] == "drip!\n"
    raw_completed(run.entry)


def drip_head_go(run):
    """A 0.2 s deadline for a head that takes about 0.35 s: Go gives up before the status line ends."""
    assert run.seen["status"] == 0 and run.seen["kind"] == "timeout"
    client_left(run.entry, "2:raw")


# --- hang-unread (case 32) ---------------------------------------------------------------------------


def unread(entry) -> None:
    """Nothing answered; when the hang ended the server closed, and read what the kernel held."""
    assert entry.final is None and entry.ended.server.why == "no final response was sent" and entry.ended.stage == "1:hang"
    assert entry.request.body_length < BIG


def unread_curl(run):
    """curl adds Expect: 100-continue to a body over 1 MiB and waits for a 100 that never comes."""
    assert curl_timed_out(run.seen) and ["Expect", "100-continue"] in [list(h) for h in run.entry.request.headers]
    assert run.entry.request.body_length == 0 and run.entry.facts.expect_continue is True
    unread(run.entry)


def unread_python(run):
    """http.client's send blocks once the buffers are full; its timeout fires on the send."""
    assert run.seen["status"] is None and run.seen["error"] == "timeout" and run.seen["elapsed"] < 2
    unread(run.entry)


def unread_node(run):
    assert run.seen["status"] is None and run.seen["error"] == "TIMEOUT"
    unread(run.entry)


def unread_go(run):
    assert run.seen["status"] == 0 and run.seen["kind"] == "timeout"
    unread(run.entry)


# --- chunked-gap, chunked-no-last-chunk (case 38), chunked-trailer-pause (39) ---------------------------


def gap_curl_total(run):
    """curl --max-time 0.4 against a 0.6 s gap: the first chunk, then the timeout."""
    assert curl_timed_out(run.seen) and run.seen["transfers"][0]["body"] == "first\n"
    client_left(run.entry, "4:wait")


def gap_python(run):
    """http.client's per-read 1 s outlasts the 0.6 s gap."""
    assert run.seen["status"] == 200 and run.seen["body"] == b"first\nsecond\n" and run.seen["elapsed"] >= 0.55
    assert run.entry.ended.how == "completed"


def gap_node_idle(run):
    """Node's socket timeout of 0.4 s is an idle timer: it fires in the 0.6 s gap."""
    assert run.seen["status"] == 200 and run.seen["body"] == "first\n" and run.seen["error"] == "TIMEOUT"
    client_left(run.entry, "4:wait")


def gap_go(run):
    assert run.seen["status"] == 200 and run.seen["body"] == "first\nsecond\n" and run.seen["endedAt"] >= 0.55
    assert run.entry.ended.how == "completed"


def no_last_chunk(done_body: str):
    def check(run):
        seen = run.seen
        body = seen.get("body")
        assert (body.decode() if isinstance(body, bytes) else body) in (done_body, "")
        assert seen.get("error") in ("timeout", "TIMEOUT") or seen.get("kind") == "timeout" or curl_timed_out(seen)
        client_left(run.entry, "4:hang")

    return check


def no_last_chunk_curl(run):
    assert curl_timed_out(run.seen) and run.seen["transfers"][0]["body"] == "all there is\n"
    client_left(run.entry, "4:hang")


def trailer_pause_curl(run):
    """curl waits for the trailer section: the transfer ends after the pause."""
    assert run.seen["exit"] == 0 and run.seen["transfers"][0]["body"] == "body\n" and run.seen["transfers"][0]["time"] >= 0.28
    raw_completed(run.entry, 200)


def trailer_pause_python(run):
    """http.client reads the trailer section too (and drops it) before read() returns."""
    assert run.seen["status"] == 200 and run.seen["body"] == b"body\n" and run.seen["elapsed"] >= 0.28
    raw_completed(run.entry, 200)


def trailer_pause_node(run):
    assert run.seen["body"] == "body\n" and run.seen["trailers"] == {"x-checksum": "42"} and run.seen["endedAt"] >= 0.28
    raw_completed(run.entry, 200)


def trailer_pause_go(run):
    assert run.seen["body"] == "body\n" and run.seen["trailers"] == {"X-Checksum": ["42"]} and run.seen["endedAt"] >= 0.28
    raw_completed(run.entry, 200)


# --- close-when-idle, reset-on-reuse (case 40) -----------------------------------------------------------


def idle_close_journal(run, retried: bool) -> None:
    """The follow-up went in during the idle time and was left unanswered; a client that
    retries it has a second entry, answered, on another connection."""
    entry = run.entry
    assert entry.final.status == 200 and entry.ended.server.why == "the script's close step"
    unanswered = [e for e in run.followups if e.final is None]
    assert len(unanswered) == 1 and unanswered[0].connection == entry.connection and unanswered[0].unanswered.startswith("pipelined")
    answered = [e for e in run.followups if e.final is not None]
    assert len(answered) == (1 if retried else 0) and all(e.connection != entry.connection for e in answered)


def idle_curl(run):
    """curl retries the request on a new connection."""
    assert run.seen["transfers"][1]["status"] == 200 and run.seen["transfers"][1]["connects"] == 1
    idle_close_journal(run, retried=True)


def idle_python(run):
    """http.client does not retry: RemoteDisconnected."""
    assert run.seen["followup"]["error"] == "RemoteDisconnected"
    idle_close_journal(run, retried=False)


def idle_node(run):
    """Node's agent does not retry: 'socket hang up'."""
    assert run.seen["followup"]["error"] == "ECONNRESET" and run.seen["followup"]["reusedSocket"] is True
    idle_close_journal(run, retried=False)


def idle_go(run):
    """Go's transport retries an idempotent request that met a closed reused connection."""
    assert run.seen["followup"]["status"] == 200 and run.seen["connections"] == 2
    idle_close_journal(run, retried=True)


def reuse_reset(run, retried: bool) -> None:
    entry = run.entry
    assert entry.final.status == 200 and entry.ended.how == "server reset" and entry.ended.server.why == "the script's reset step"
    assert entry.ended.stage == "4:reset"
    answered = [e for e in run.followups if e.final is not None]
    assert len(answered) == (1 if retried else 0) and all(e.connection != entry.connection for e in answered)


def reuse_curl(run):
    assert run.seen["transfers"][1]["status"] == 200 and run.seen["transfers"][1]["connects"] == 1
    reuse_reset(run, retried=True)


def reuse_python(run):
    assert run.seen["followup"]["error"] == "ConnectionResetError"
    reuse_reset(run, retried=False)


def reuse_node(run):
    assert run.seen["followup"]["error"] == "ECONNRESET"
    reuse_reset(run, retried=False)


def reuse_go(run):
    assert run.seen["followup"]["status"] == 200 and run.seen["connections"] == 2
    reuse_reset(run, retried=True)


PLANS = number([  # follow-ups that may be retried wait for their entries: see idle_close_journal
    curl("hang", "/hang", hang_curl, "--max-time", "0.5"),
    python("hang", "/hang", hang_python, timeout=0.5),
    node("hang", "/hang", hang_node, timeout=500),
    go("hang", "/hang", hang_go, timeout=500),
    curl("hang-after-headers", "/hang/after-headers", HEADERS_ONLY[0], "--max-time", "0.5"),
    python("hang-after-headers", "/hang/after-headers", HEADERS_ONLY[1], timeout=0.5),
    node("hang-after-headers", "/hang/after-headers", HEADERS_ONLY[2], timeout=500),
    go("hang-after-headers", "/hang/after-headers", HEADERS_ONLY[3], timeout=500),
    curl("hang-mid-body", "/hang/mid-body", MID_BODY[0], "--max-time", "0.5"),
    python("hang-mid-body", "/hang/mid-body", MID_BODY[1], timeout=0.5),
    node("hang-mid-body", "/hang/mid-body", MID_BODY[2], timeout=500),
    go("hang-mid-body", "/hang/mid-body", MID_BODY[3], timeout=500),
    curl("hang-unread", "/hang/unread?for=1s", unread_curl, "--max-time", "0.5", "--data-binary", "@-", stdin=b"x" * BIG),
    python("hang-unread", "/hang/unread?for=1s", unread_python, method="POST", body=b"x" * BIG, timeout=0.5),
    node("hang-unread", "/hang/unread?for=1s", unread_node, method="POST", body="x" * BIG, timeout=500),
    go("hang-unread", "/hang/unread?for=1s", unread_go, method="POST", body="x" * BIG, timeout=500),
    curl("drip", "/drip?bytes=6&every=100ms", drip_total_timer_fails, "--max-time", "0.3"),
    python("drip", "/drip?bytes=6&every=100ms", drip_per_read_passes_python, timeout=0.3),
    node("drip", "/drip?bytes=6&every=100ms", drip_per_read_passes_node, timeout=300),
    go("drip", "/drip?bytes=6&every=100ms", drip_total_timer_fails_go, timeout=300),
    curl("drip-chunked", "/drip/chunked?bytes=6&every=100ms", drip_total_timer_fails, "--max-time", "0.3"),
    python("drip-chunked", "/drip/chunked?bytes=6&every=100ms", drip_per_read_passes_python, timeout=0.3),
    node("drip-chunked", "/drip/chunked?bytes=6&every=100ms", drip_per_read_passes_node, timeout=300),
    go("drip-chunked", "/drip/chunked?bytes=6&every=100ms", drip_chunked_go, timeout=3000),
    curl("drip-head", "/drip/head?every=5ms", drip_head_curl),
    python("drip-head", "/drip/head?every=5ms", drip_head_python, timeout=0.3),
    node("drip-head", "/drip/head?every=5ms", drip_head_node, timeout=300),
    go("drip-head", "/drip/head?every=5ms", drip_head_go, timeout=200),
    curl("chunked-gap", "/chunked/gap?gap=600ms", gap_curl_total, "--max-time", "0.4"),
    python("chunked-gap", "/chunked/gap?gap=600ms", gap_python, timeout=1.0),
    node("chunked-gap", "/chunked/gap?gap=600ms", gap_node_idle, timeout=400),
    go("chunked-gap", "/chunked/gap?gap=600ms", gap_go, timeout=2000),
    curl("chunked-no-last-chunk", "/chunked/no-last-chunk", no_last_chunk_curl, "--max-time", "0.5"),
    python("chunked-no-last-chunk", "/chunked/no-last-chunk", no_last_chunk("all there is\n"), timeout=0.5),
    node("chunked-no-last-chunk", "/chunked/no-last-chunk", no_last_chunk("all there is\n"), timeout=500),
    go("chunked-no-last-chunk", "/chunked/no-last-chunk", no_last_chunk("all there is\n"), timeout=500),
    curl("chunked-trailer-pause", "/chunked/trailer-pause?pause=300ms", trailer_pause_curl),
    python("chunked-trailer-pause", "/chunked/trailer-pause?pause=300ms", trailer_pause_python, timeout=2.0),
    node("chunked-trailer-pause", "/chunked/trailer-pause?pause=300ms", trailer_pause_node),
    go("chunked-trailer-pause", "/chunked/trailer-pause?pause=300ms", trailer_pause_go),
    curl("close-when-idle", "/close/when-idle?after=300ms", idle_curl, followup="/echo", entries=1),
    python("close-when-idle", "/close/when-idle?after=300ms", idle_python, followup="/echo"),
    node("close-when-idle", "/close/when-idle?after=300ms", idle_node, followup="/echo"),
    go("close-when-idle", "/close/when-idle?after=300ms", idle_go, followup="/echo"),
    curl("reset-on-reuse", "/reset/on-reuse?within=3s", reuse_curl, followup="/echo"),
    python("reset-on-reuse", "/reset/on-reuse?within=3s", reuse_python, followup="/echo"),
    node("reset-on-reuse", "/reset/on-reuse?within=3s", reuse_node, followup="/echo"),
    go("reset-on-reuse", "/reset/on-reuse?within=3s", reuse_go, followup="/echo"),
])


@pytest.fixture(scope="module")
def runs(catalogue_server):
    return drive(catalogue_server, PLANS)


@pytest.mark.parametrize("plan", PLANS, ids=lambda plan: plan.mark)
def test_entry(runs, plan):
    verify(runs, plan)
