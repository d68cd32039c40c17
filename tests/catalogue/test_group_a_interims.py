"""Group A, other interim responses (102, 103, unknown, mixed, malformed): each entry driven by curl, Python, Node and Go.

What each client saw agrees with clients-and-proxies.md (the project's measurements of real
clients) where it measured the same case: http.client takes a 102/103/199 as the final
response and its next request on the connection reads the stale rest; httpx skips them;
undici fetch fails on an unsolicited 100. Each such entry is driven with a follow-up request
on the same connection, where the desync shows.
"""

from __future__ import annotations

import pytest

from .clients import curl_statuses, drive, number, verify
from .plans import completed_and_kept, curl, gaps, go, go_interims, httpx, interims, node, node_interims, python, to_http10, withheld
from .pyclients import header

pytestmark = pytest.mark.e2e

# --- processing (case 9) ------------------------------------------------------------------


def processing(entry, count: int = 3):
    assert interims(entry) == [102] * count and entry.final.status == 200
    times = [i.at for i in entry.interims] + [entry.final.at]
    assert all(0.08 <= gap < 1.0 for gap in gaps(times)), times


def processing_curl(run):
    seen = run.seen
    assert curl_statuses(seen) == [102, 102, 102, 200]
    assert [v for name, v in seen["requests"][0]["responses"][0]["headers"] if name == "status-uri"] == ["102 </processing/status/1>"]
    assert seen["transfers"][1]["connects"] == 0
    processing(run.entry)
    assert run.followups[0].connection == run.entry.connection


def processing_python(run):
    """http.client takes the first 102 as the final response; its next request reads a stale 102."""
    seen = run.seen
    assert seen["status"] == 102 and seen["body"] == b""
    assert seen["followup"]["status"] == 102 and seen["followup"]["reused"] is True
    entry, (following,) = run.entry, run.followups
    assert interims(entry) == [102, 102, 102] and entry.ended.by == "client"
    assert following.final is None and following.unanswered.startswith("pipelined")


def processing_python_http10(run):
    """To HTTP/1.0 the 102s are withheld, their pauses kept: the 200 still comes at 0.3 s."""
    assert run.seen["status"] == 200 and run.seen["elapsed"] >= 0.28
    entry = run.entry
    assert entry.interims == [] and withheld(entry) == [102, 102, 102] and entry.final.at >= 0.28


def processing_httpx(run):
    """httpx (h11) skips the 102s: no desync."""
    assert run.seen["status"] == 200 and run.seen["followup"]["status"] == 200
    processing(run.entry)


def processing_node(run):
    seen = run.seen
    assert node_interims(seen) == [102, 102, 102] and seen["status"] == 200 and seen["followup"]["reusedSocket"] is True
    assert seen["interims"][2]["headers"]["status-uri"] == "102 </processing/status/3>"
    processing(run.entry)


def processing_go(run):
    assert go_interims(run.seen) == [102, 102, 102] and run.seen["status"] == 200 and run.seen["followup"]["reused"] is True
    processing(run.entry)


# --- processing-to-http10 (case 14) ---------------------------------------------------------


def processing10_curl(run):
    assert run.seen["requests"][0]["line"].endswith("HTTP/1.0") and curl_statuses(run.seen) == [102, 102, 200]
    to_http10(run.entry, [102, 102], "1.0")


def processing10_python(run):
    """An HTTP/1.0 http.client takes the 102 as final, as over HTTP/1.1, and hangs up."""
    assert run.seen["status"] == 102
    assert run.entry.request.version == "1.0" and interims(run.entry)[0] == 102 and run.entry.ended.by == "client"


def processing10_node(run):
    assert node_interims(run.seen) == [102, 102] and run.seen["status"] == 200
    to_http10(run.entry, [102, 102], "1.1")


def processing10_go(run):
    assert go_interims(run.seen) == [102, 102] and run.seen["status"] == 200
    to_http10(run.entry, [102, 102], "1.1")


# --- close-after-102 (case 10), close-after-100 ---------------------------------------------------


def closed_after(entry, status: int):
    assert interims(entry) == [status] and entry.final is None
    assert entry.ended.how == "server closed" and entry.ended.server.why == "the script's close step"
    assert entry.facts.interims_before_close == 1


def after_102_curl(run):
    assert run.seen["exit"] == 52 and curl_statuses(run.seen) == [102]  # (52) Empty reply from server
    closed_after(run.entry, 102)


def after_102_python(run):
    """http.client takes the 102 for the answer; the follow-up meets the closed connection."""
    assert run.seen["status"] == 102 and run.seen["followup"]["error"] is not None
    closed_after(run.entry, 102)


def after_102_node(run):
    assert node_interims(run.seen) == [102] and run.seen["status"] is None and run.seen["error"] == "ECONNRESET"
    closed_after(run.entry, 102)


def after_102_go(run):
    assert go_interims(run.seen) == [102] and run.seen["kind"] == "unexpected EOF"
    closed_after(run.entry, 102)


def after_100_curl(run):
    assert run.seen["exit"] == 52 and curl_statuses(run.seen) == [100]
    closed_after(run.entry, 100)


def after_100_python(run):
    assert run.seen["status"] is None and run.seen["error"] == "RemoteDisconnected"
    closed_after(run.entry, 100)


def after_100_node(run):
    assert node_interims(run.seen) == [100] and run.seen["error"] == "ECONNRESET"  # 'socket hang up'
    closed_after(run.entry, 100)


def after_100_fetch(run):
    assert run.seen["status"] is None and run.seen["causeMessage"] == "bad response"
    entry = run.entry
    assert interims(entry) == [100] and entry.final is None and entry.ended.by == "client"


def after_100_go(run):
    assert go_interims(run.seen) == [100] and run.seen["kind"] == "unexpected EOF"
    closed_after(run.entry, 100)


# --- early-hints (case 11) ---------------------------------------------------------------------


def hinted(entry, count: int = 1, gap: float = 0.1):
    assert interims(entry) == [103] * count and entry.final.status == 200
    assert entry.final.at - entry.interims[-1].at >= gap - 0.02


def hints_curl(run):
    seen = run.seen
    assert curl_statuses(seen) == [103, 200] and seen["transfers"][1]["connects"] == 0
    links = [v for name, v in seen["requests"][0]["responses"][0]["headers"] if name == "link"]
    assert links == ["</style.css>; rel=preload; as=style", "</script.js>; rel=preload; as=script"]
    hinted(run.entry)


def hints_python(run):
    """http.client takes the 103 as the final response; its next request gets the stale 200."""
    seen = run.seen
    assert seen["status"] == 103 and seen["body"] == b""
    assert seen["followup"]["status"] == 200 and b"early hints sent" in seen["followup"]["body"] and seen["followup"]["reused"] is True
    hinted(run.entry, gap=0.3)
    (following,) = run.followups  # the echo the server sent for it waits, unread, in the socket
    assert following.connection == run.entry.connection and following.final.status == 200


def hints_python_no_gap(run):
    """With gap=0 the 103 and the 200 leave in one write: http.client stops at the 103 and drops
    the 200 with its read buffer, so the next request gets its own answer."""
    seen = run.seen
    assert seen["status"] == 103 and seen["followup"]["status"] == 200 and b'"target": "/echo?m=' in seen["followup"]["body"]
    hinted(run.entry, gap=0)


def hints_node(run):
    seen = run.seen
    assert node_interims(seen) == [103, 103] and seen["status"] == 200 and "early hints sent" in seen["body"]
    assert "</script.js>; rel=preload; as=script" in seen["interims"][0]["headers"]["link"]
    hinted(run.entry, count=2)


def hints_go(run):
    seen = run.seen
    assert go_interims(seen) == [103] and len(seen["interims"][0]["headers"]["Link"]) == 2 and seen["status"] == 200
    hinted(run.entry)


def hints10_curl(run):
    assert run.seen["requests"][0]["line"].endswith("HTTP/1.0") and curl_statuses(run.seen) == [103, 200]
    to_http10(run.entry, [103], "1.0")


def hints10_python(run):
    assert run.seen["status"] == 103
    assert run.entry.request.version == "1.0" and interims(run.entry) == [103]


def hints10_node(run):
    assert node_interims(run.seen) == [103] and run.seen["status"] == 200
    to_http10(run.entry, [103], "1.1")


def hints10_go(run):
    assert go_interims(run.seen) == [103] and run.seen["status"] == 200
    to_http10(run.entry, [103], "1.1")


# --- early-hints-unasked (case 12) -------------------------------------------------------------


def unasked_curl(run):
    responses = run.seen["requests"][0]["responses"]
    assert [r["status"] for r in responses] == [103, 200]
    assert ("set-cookie", "hint=from-103") in responses[0]["headers"] and ("set-cookie", "session=from-200") in responses[1]["headers"]
    hinted(run.entry)


def unasked_python(run):
    """Cross-response confusion: the 103's cookie becomes the answer, the 200 answers the next request."""
    seen = run.seen
    assert seen["status"] == 103 and header(seen, "set-cookie") == ["hint=from-103"]
    assert header(seen["followup"], "set-cookie") == ["session=from-200"] and b"the final response" in seen["followup"]["body"]
    hinted(run.entry, gap=0.3)


def unasked_node(run):
    seen = run.seen
    assert seen["interims"][0]["headers"]["set-cookie"] == ["hint=from-103"] and seen["headers"]["set-cookie"] == ["session=from-200"]
    hinted(run.entry)


def unasked_go(run):
    seen = run.seen
    assert seen["interims"][0]["headers"]["Set-Cookie"] == ["hint=from-103"] and seen["headers"]["Set-Cookie"] == ["session=from-200"]
    hinted(run.entry)


# --- interim-unknown (case 13) ---------------------------------------------------------------


def unknown_curl(run, status: int = 199):
    assert curl_statuses(run.seen) == [status, 200]
    assert interims(run.entry) == [status] and run.entry.final.status == 200


def unknown_curl_104(run):
    unknown_curl(run, 104)


def unknown_python(run):
    """199 as the final response; the next request on the connection gets the stale 200."""
    assert run.seen["status"] == 199 and run.seen["followup"]["body"] == b"200 after a 199\n"
    assert interims(run.entry) == [199]


def unknown_node(run):
    assert node_interims(run.seen) == [199] and run.seen["interims"][0]["headers"]["x-interim"] == "199"
    assert run.seen["status"] == 200 and interims(run.entry) == [199]


def unknown_go(run):
    assert go_interims(run.seen) == [199] and run.seen["status"] == 200 and run.seen["followup"]["reused"] is True
    assert interims(run.entry) == [199]


# --- interim-mixed --------------------------------------------------------------------------


def mixed(entry):
    assert interims(entry) == [100, 102, 103]


def mixed_curl(run):
    assert curl_statuses(run.seen) == [100, 102, 103, 200]
    mixed(run.entry)
    assert run.entry.final.status == 200


def mixed_python(run):
    """http.client skips the 100, takes the 102 as final; the next request reads the stale 103."""
    assert run.seen["status"] == 102 and run.seen["followup"]["status"] == 103
    mixed(run.entry)


def mixed_node(run):
    assert node_interims(run.seen) == [100, 102, 103] and run.seen["status"] == 200
    mixed(run.entry)


def mixed_fetch(run):
    assert run.seen["status"] is None and run.seen["causeMessage"] == "bad response"
    assert interims(run.entry)[0] == 100 and run.entry.ended.by == "client"


def mixed_go(run):
    assert go_interims(run.seen) == [100, 102, 103] and run.seen["status"] == 200
    mixed(run.entry)


# --- interim-framing-headers, interim-with-body (case 15) -------------------------------------------


def framing_entry(entry):
    assert interims(entry) == [103] and entry.final.status == 200 and completed_and_kept(entry)


def framing_curl(run):
    """curl honours the 103's Connection: close: the follow-up opens a new connection."""
    seen = run.seen
    assert curl_statuses(seen) == [103, 200] and seen["transfers"][1]["connects"] == 1
    framing_entry(run.entry)
    assert run.followups[0].connection != run.entry.connection


def framing_python(run):
    """http.client applies the 103's Transfer-Encoding: chunked to it and fails to read it."""
    assert run.seen["status"] == 103 and run.seen["error"] == "IncompleteRead"
    framing_entry(run.entry)


def framing_node(run):
    """llhttp refuses a head with both Content-Length and Transfer-Encoding, even a 1xx's."""
    assert run.seen["status"] is None and run.seen["error"] == "HPE_INVALID_TRANSFER_ENCODING"
    framing_entry(run.entry)


def framing_go(run):
    """Go drops the framing fields from the 1xx and reads the 200 whole; the connection is reused."""
    seen = run.seen
    assert go_interims(seen) == [103] and seen["interims"][0]["headers"] == {} and seen["status"] == 200
    assert seen["followup"]["reused"] is True
    framing_entry(run.entry)


def with_body_entry(entry):
    assert interims(entry) == [103] and entry.final.status == 200
    assert entry.ended.server.why == "the script sent raw bytes: the response's framing is unknown"


def with_body_curl(run):
    assert run.seen["exit"] == 1 and "HTTP/0.9" in run.seen["stderr"]  # the stray bytes as a status line
    with_body_entry(run.entry)


def with_body_python(run):
    assert run.seen["status"] == 103 and run.seen["body"] == b""
    with_body_entry(run.entry)


def with_body_node(run):
    assert node_interims(run.seen) == [103] and run.seen["status"] is None and run.seen["error"] == "HPE_INVALID_CONSTANT"
    with_body_entry(run.entry)


def with_body_go(run):
    assert go_interims(run.seen) == [103] and run.seen["kind"] == "malformed" and "helloHTTP/1.1" in run.seen["error"]
    with_body_entry(run.entry)


PLANS = number([
    curl("processing", "/processing?count=3&every=100ms", processing_curl, followup="/echo"),
    python("processing", "/processing?count=3&every=300ms", processing_python, followup="/echo"),
    python("processing", "/processing?count=3&every=100ms", processing_python_http10, http10=True),
    httpx("processing", "/processing?count=3&every=100ms", processing_httpx, followup="/echo"),
    node("processing", "/processing?count=3&every=100ms", processing_node, followup="/echo"),
    go("processing", "/processing?count=3&every=100ms", processing_go, followup="/echo"),
    curl("processing-to-http10", "/processing/to-http10?count=2&every=100ms", processing10_curl, "-0"),
    python("processing-to-http10", "/processing/to-http10?count=2&every=100ms", processing10_python, http10=True),
    node("processing-to-http10", "/processing/to-http10?count=2&every=100ms", processing10_node),
    go("processing-to-http10", "/processing/to-http10?count=2&every=100ms", processing10_go),
    curl("close-after-102", "/close/after-102", after_102_curl),
    python("close-after-102", "/close/after-102", after_102_python, followup="/echo"),
    node("close-after-102", "/close/after-102", after_102_node),
    go("close-after-102", "/close/after-102", after_102_go),
    curl("close-after-100", "/close/after-100", after_100_curl),
    python("close-after-100", "/close/after-100", after_100_python),
    node("close-after-100", "/close/after-100", after_100_node),
    node("close-after-100", "/close/after-100?after=1s", after_100_fetch, client="fetch"),
    go("close-after-100", "/close/after-100", after_100_go),
    curl("early-hints", "/early-hints?gap=100ms", hints_curl, followup="/echo"),
    python("early-hints", "/early-hints?gap=300ms", hints_python, followup="/echo"),
    python("early-hints", "/early-hints", hints_python_no_gap, followup="/echo"),
    node("early-hints", "/early-hints?gap=100ms&count=2", hints_node, followup="/echo"),
    go("early-hints", "/early-hints?gap=100ms", hints_go, followup="/echo"),
    curl("early-hints-to-http10", "/early-hints/to-http10?gap=50ms", hints10_curl, "-0"),
    python("early-hints-to-http10", "/early-hints/to-http10?gap=50ms", hints10_python, http10=True),
    node("early-hints-to-http10", "/early-hints/to-http10?gap=50ms", hints10_node),
    go("early-hints-to-http10", "/early-hints/to-http10?gap=50ms", hints10_go),
    curl("early-hints-unasked", "/early-hints/unasked", unasked_curl),
    python("early-hints-unasked", "/early-hints/unasked?gap=300ms", unasked_python, followup="/echo"),
    node("early-hints-unasked", "/early-hints/unasked", unasked_node),
    go("early-hints-unasked", "/early-hints/unasked", unasked_go),
    curl("interim-unknown", "/interim/unknown", unknown_curl),
    curl("interim-unknown", "/interim/unknown?status=104", unknown_curl_104),
    python("interim-unknown", "/interim/unknown?gap=300ms", unknown_python, followup="/echo"),
    node("interim-unknown", "/interim/unknown", unknown_node, followup="/echo"),
    go("interim-unknown", "/interim/unknown", unknown_go, followup="/echo"),
    curl("interim-mixed", "/interim/mixed?every=200ms", mixed_curl),
    python("interim-mixed", "/interim/mixed?every=200ms", mixed_python, followup="/echo"),
    node("interim-mixed", "/interim/mixed?every=200ms", mixed_node),
    node("interim-mixed", "/interim/mixed?every=200ms", mixed_fetch, client="fetch"),
    go("interim-mixed", "/interim/mixed?every=200ms", mixed_go),
    curl("interim-framing-headers", "/interim/framing-headers", framing_curl, followup="/echo"),
    python("interim-framing-headers", "/interim/framing-headers", framing_python, followup="/echo"),
    node("interim-framing-headers", "/interim/framing-headers", framing_node, followup="/echo"),
    go("interim-framing-headers", "/interim/framing-headers", framing_go, followup="/echo"),
    curl("interim-with-body", "/interim/with-body", with_body_curl),
    python("interim-with-body", "/interim/with-body", with_body_python),
    node("interim-with-body", "/interim/with-body", with_body_node),
    go("interim-with-body", "/interim/with-body", with_body_go),
])


@pytest.fixture(scope="module")
def runs(catalogue_server):
    return drive(catalogue_server, PLANS)


@pytest.mark.parametrize("plan", PLANS, ids=lambda plan: plan.mark)
def test_entry(runs, plan):
    verify(runs, plan)
