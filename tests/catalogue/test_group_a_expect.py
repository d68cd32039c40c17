"""Group A, Expect and 100 Continue: each entry driven by curl, Python, Node and Go.

What each client saw agrees with clients-and-proxies.md (the project's measurements of real
clients) where it measured the same case: curl waits 1 s for a 100 (--expect100-timeout);
http.client sends the body at once; undici fetch fails on an unsolicited 100; curl re-sends a
request 50 times after a 417 that keeps the connection.
"""

from __future__ import annotations

import json

import pytest

from .clients import curl_statuses, drive, number, verify
from .plans import completed_and_kept, curl, go, go_interims, interims, node, node_interims, python, server_ended, to_http10, withheld

pytestmark = pytest.mark.e2e

EXPECT = ("-H", "Expect: 100-continue")
BIG = "x" * 65536


def received(body) -> int:
    return json.loads(body)["received"]


# --- continue-delayed (cases 1, 3) --------------------------------------------------------


def delayed_curl(run):
    assert curl_statuses(run.seen) == [100, 200] and received(run.seen["transfers"][0]["body"]) == 5
    entry = run.entry
    assert interims(entry) == [100] and 0.28 <= entry.interims[0].at < 1.5
    assert entry.facts.sent_body_before_continue is False and 0.28 <= entry.facts.waited_for_continue < 1.5


def delayed_python(run):
    """http.client sends the body at once; the 100 still goes out after the delay (case 3)."""
    assert run.seen["status"] == 200 and received(run.seen["body"]) == 5
    entry = run.entry
    assert entry.facts.sent_body_before_continue is True and entry.facts.waited_for_continue < 0.2
    assert interims(entry) == [100] and entry.interims[0].at >= 0.28


def delayed_python_without_expect(run):
    """No Expect, no 100 (issue #12 §2: nothing is sent that was not asked for)."""
    assert run.seen["status"] == 200
    entry = run.entry
    assert entry.interims == [] and entry.facts.expect_continue is False and entry.final.at >= 0.28


def delayed_node(run):
    seen = run.seen
    assert seen["status"] == 200 and 0.28 <= seen["continueAt"] < 1.5 and node_interims(seen) == [100]
    assert run.entry.facts.sent_body_before_continue is False and run.entry.facts.waited_for_continue >= 0.28


def delayed_go(run):
    seen = run.seen
    assert seen["status"] == 200 and 0.28 <= seen["continueAt"] < 1.5 and go_interims(seen) == [100]
    assert run.entry.facts.sent_body_before_continue is False and run.entry.facts.waited_for_continue >= 0.28


# --- continue-never (case 2) ------------------------------------------------------------


def never_curl(run):
    """curl gives up waiting after --expect100-timeout and sends the body."""
    assert curl_statuses(run.seen) == [200]
    entry = run.entry
    assert entry.interims == [] and 0.4 <= entry.facts.waited_for_continue < 2.5  # its 1 s, less the head's way in under load


def never_python(run):
    assert run.seen["status"] == 200
    assert run.entry.interims == [] and run.entry.facts.waited_for_continue < 0.2


def never_node(run):
    assert run.seen["status"] == 200 and run.seen["continueAt"] is None
    assert run.entry.interims == [] and 0.4 <= run.entry.facts.waited_for_continue < 2.5


def never_go(run):
    """Go sends the body once Transport.ExpectContinueTimeout has passed."""
    assert run.seen["status"] == 200 and run.seen["interims"] == []
    assert run.entry.interims == [] and 0.4 <= run.entry.facts.waited_for_continue < 2.5


# --- continue-reject (case 4) -------------------------------------------------------------


def reject_closed(entry) -> None:
    assert entry.final.status == 417 and entry.interims == [] and entry.facts.response_said_close is True
    assert entry.ended.how == "server closed" and server_ended(entry, "FIN") and entry.ended.server.why == "the script's close step"


def reject_curl(run):
    assert curl_statuses(run.seen) == [417] and len(run.seen["requests"]) == 1  # no retry: the 417 said close
    reject_closed(run.entry)
    assert run.entry.request.body_length == 0


def reject_python(run):
    """http.client sent the body with the head: it arrives after the 417, and is counted."""
    assert run.seen["status"] == 417
    reject_closed(run.entry)
    assert run.entry.request.body_length == 5


def reject_node(run):
    assert run.seen["status"] == 417 and run.seen["continueAt"] is None
    reject_closed(run.entry)
    assert run.entry.request.body_length == 0


def reject_go(run):
    assert run.seen["status"] == 417 and run.seen["interims"] == []
    reject_closed(run.entry)
    assert run.entry.request.body_length == 0


# --- continue-reject-keep-alive (case 5, skip) ----------------------------------------------


def keep_alive_curl(run):
    """curl 7.88 re-sends the identical request 50 times: (47) Maximum (50) redirects."""
    seen = run.seen
    assert seen["exit"] == 47 and len(seen["requests"]) == 51
    assert all(r["responses"][0]["status"] == 417 for r in seen["requests"])
    assert len(run.entries) == 51 and {e.connection for e in run.entries} == {run.entries[0].connection}
    assert all(e.final.status == 417 and e.request.body_length == 0 and completed_and_kept(e) for e in run.entries)


def keep_alive_python(run):
    """http.client doing Expect by hand: the body is never sent, and the follow-up reuses the connection."""
    seen = run.seen
    assert seen["status"] == 417 and seen["body_sent"] is False
    assert seen["followup"]["status"] == 200 and seen["followup"]["reused"] is True
    entry, (following,) = run.entry, run.followups
    assert entry.final.status == 417 and completed_and_kept(entry) and entry.request.body_length == 0
    assert following.connection == entry.connection and following.final.status == 200


def keep_alive_follows(run):
    """Node and Go do not send the body after the 417 and reuse the connection."""
    seen = run.seen
    assert seen["status"] == 417 and seen["followup"]["status"] == 200
    assert seen["followup"].get("reusedSocket", seen["followup"].get("reused")) is True
    entry, (following,) = run.entry, run.followups
    assert entry.final.status == 417 and completed_and_kept(entry) and entry.request.body_length == 0
    assert following.connection == entry.connection and following.request.method == "GET"


# --- continue-reject-discard (case 5, read and discard) ----------------------------------------


def discard_curl(run):
    """curl does not send the body after a 413 and closes: the server was still waiting for it."""
    assert curl_statuses(run.seen) == [413]
    entry = run.entry
    assert entry.final.status == 413 and entry.request.body_length == 0
    assert entry.ended.by == "client" and entry.ended.stage == "draining body"


def discard_follows(run):
    """A client that sends its body at once: it is read and dropped, the next request is answered."""
    seen = run.seen
    assert seen["status"] == 413 and seen["followup"]["status"] == 200
    entry, (following,) = run.entry, run.followups
    assert entry.final.status == 413 and entry.request.body_length == 5 and entry.request.body_complete
    assert completed_and_kept(entry) and following.connection == entry.connection


# --- continue-reject-mid-body (case 6) ----------------------------------------------------


def mid_body(run, continued: bool):
    entry = run.entry
    assert entry.final.status == 413 and interims(entry) == ([100] if continued else [])
    assert entry.ended.how == "server closed" and entry.ended.server.why == "the script's close step"
    assert entry.facts.response_said_close is True


def mid_body_curl(run):
    assert curl_statuses(run.seen) == [100, 413] and "1024 bytes" in run.seen["transfers"][0]["body"]
    mid_body(run, True)


def mid_body_python(run):
    """The whole 64 KiB went before http.client read the 413: the lingering close kept it readable."""
    assert run.seen["status"] == 413 and run.seen["error"] is None
    mid_body(run, False)
    assert run.entry.request.body_length == len(BIG) and run.entry.facts.body_after_final_response is True


def mid_body_node(run):
    assert run.seen["status"] == 413 and node_interims(run.seen) == [100]
    mid_body(run, True)


def mid_body_go(run):
    assert run.seen["status"] == 413 and go_interims(run.seen) == [100]
    mid_body(run, True)


# --- continue-duplicate (case 7) ----------------------------------------------------------


def duplicate(entry):
    assert interims(entry) == [100, 100] and entry.final.status == 200 and entry.request.body_length == 5
    assert 0.04 <= entry.interims[1].at - entry.interims[0].at < 1.0


def duplicate_curl(run):
    assert curl_statuses(run.seen) == [100, 100, 200]
    duplicate(run.entry)


def duplicate_python(run):
    """http.client skips every 100."""
    assert run.seen["status"] == 200 and received(run.seen["body"]) == 5
    duplicate(run.entry)


def duplicate_node(run):
    assert node_interims(run.seen) == [100, 100] and run.seen["status"] == 200
    duplicate(run.entry)


def duplicate_go(run):
    assert go_interims(run.seen) == [100, 100] and run.seen["status"] == 200
    duplicate(run.entry)


# --- continue-unsolicited (case 8) ----------------------------------------------------------


def unsolicited(run, followed: bool = True):
    entry = run.entry
    assert interims(entry) == [100] and entry.facts.expect_continue is False and entry.final.status == 200
    if followed:
        (following,) = run.followups
        assert following.connection == entry.connection and following.final.status == 200


def unsolicited_curl(run):
    assert curl_statuses(run.seen) == [100, 200] and run.seen["requests"][1]["reused"] is True
    assert run.seen["transfers"][1]["connects"] == 0  # the follow-up reused the connection
    unsolicited(run)


def unsolicited_python(run):
    """http.client skips a 100 (and only a 100): no desync."""
    seen = run.seen
    assert seen["status"] == 200 and seen["body"] == b"200 after an unsolicited 100\n"
    assert seen["followup"]["status"] == 200 and seen["followup"]["reused"] is True
    unsolicited(run)


def unsolicited_python_http10(run):
    """To an HTTP/1.0 client the 100 is withheld, and journaled as such."""
    assert run.seen["status"] == 200
    entry = run.entry
    assert entry.request.version == "1.0" and entry.interims == [] and withheld(entry) == [100]
    assert entry.interims_withheld[0].why.startswith("HTTP/1.0 client")


def unsolicited_node(run):
    assert node_interims(run.seen) == [100] and run.seen["status"] == 200 and run.seen["followup"]["reusedSocket"] is True
    unsolicited(run)


def unsolicited_fetch(run):
    """undici fetch fails with 'bad response' on a 100 it did not ask for."""
    assert run.seen["status"] is None and run.seen["causeMessage"] == "bad response"
    unsolicited(run, followed=False)


def unsolicited_go(run):
    assert go_interims(run.seen) == [100] and run.seen["status"] == 200 and run.seen["followup"]["reused"] is True
    unsolicited(run)


# --- continue-unsolicited-to-http10 (case 14) ---------------------------------------------------


def to_http10_curl(run):
    assert run.seen["requests"][0]["line"].endswith("HTTP/1.0") and curl_statuses(run.seen) == [100, 200]
    to_http10(run.entry, [100], "1.0")


def to_http10_python(run):
    """An HTTP/1.0 http.client skips the 100 it should never have got."""
    assert run.seen["status"] == 200
    to_http10(run.entry, [100], "1.0")


def to_http10_fetch(run):
    assert run.seen["status"] is None and run.seen["causeMessage"] == "bad response"
    to_http10(run.entry, [100], "1.1")


def to_http10_go(run):
    assert go_interims(run.seen) == [100] and run.seen["status"] == 200
    to_http10(run.entry, [100], "1.1")


PLANS = number([
    curl("continue-delayed", "/continue/delayed?delay=300ms", delayed_curl, *EXPECT, "--expect100-timeout", "3", "--data-binary", "hello"),
    python("continue-delayed", "/continue/delayed?delay=300ms", delayed_python, method="POST", body=b"hello", headers={"Expect": "100-continue"}),
    python("continue-delayed", "/continue/delayed?delay=300ms", delayed_python_without_expect, method="POST", body=b"hello"),
    node("continue-delayed", "/continue/delayed?delay=300ms", delayed_node, method="POST", body="hello", expect=True, expectFallback=3000),
    go("continue-delayed", "/continue/delayed?delay=300ms", delayed_go, method="POST", body="hello", expect=3000),
    curl("continue-never", "/continue/never", never_curl, *EXPECT, "--expect100-timeout", "1", "--data-binary", "hello"),
    python("continue-never", "/continue/never", never_python, method="POST", body=b"hello", headers={"Expect": "100-continue"}),
    node("continue-never", "/continue/never", never_node, method="POST", body="hello", expect=True, expectFallback=1000),
    go("continue-never", "/continue/never", never_go, method="POST", body="hello", expect=1000),
    curl("continue-reject", "/continue/reject", reject_curl, *EXPECT, "--expect100-timeout", "3", "--data-binary", "hello"),
    python("continue-reject", "/continue/reject", reject_python, method="POST", body=b"hello", headers={"Expect": "100-continue"}),
    node("continue-reject", "/continue/reject", reject_node, method="POST", body="hello", expect=True, expectFallback=3000),
    go("continue-reject", "/continue/reject", reject_go, method="POST", body="hello", expect=3000),
    curl("continue-reject-keep-alive", "/continue/reject/keep-alive", keep_alive_curl, *EXPECT, "--data-binary", "hello", entries=51),
    python("continue-reject-keep-alive", "/continue/reject/keep-alive", keep_alive_python, method="POST", body=b"hello", expect_wait=1.0, followup="/echo"),
    node("continue-reject-keep-alive", "/continue/reject/keep-alive", keep_alive_follows, method="POST", body="hello", expect=True, expectFallback=3000, followup="/echo"),
    go("continue-reject-keep-alive", "/continue/reject/keep-alive", keep_alive_follows, method="POST", body="hello", expect=3000, followup="/echo"),
    curl("continue-reject-discard", "/continue/reject/discard", discard_curl, *EXPECT, "--data-binary", "hello"),
    python("continue-reject-discard", "/continue/reject/discard", discard_follows, method="POST", body=b"hello", headers={"Expect": "100-continue"}, followup="/echo"),
    node("continue-reject-discard", "/continue/reject/discard", discard_follows, method="POST", body="hello", followup="/echo"),
    go("continue-reject-discard", "/continue/reject/discard", discard_follows, method="POST", body="hello", followup="/echo"),
    curl("continue-reject-mid-body", "/continue/reject/mid-body?after=1KiB", mid_body_curl, *EXPECT, "--expect100-timeout", "3", "--data-binary", BIG),
    python("continue-reject-mid-body", "/continue/reject/mid-body?after=1KiB", mid_body_python, method="POST", body=BIG.encode()),
    node("continue-reject-mid-body", "/continue/reject/mid-body?after=1KiB", mid_body_node, method="POST", body=BIG, expect=True, expectFallback=3000),
    go("continue-reject-mid-body", "/continue/reject/mid-body?after=1KiB", mid_body_go, method="POST", body=BIG, expect=3000),
    curl("continue-duplicate", "/continue/duplicate?count=2&every=50ms", duplicate_curl, *EXPECT, "--expect100-timeout", "3", "--data-binary", "hello"),
    python("continue-duplicate", "/continue/duplicate?count=2&every=50ms", duplicate_python, method="POST", body=b"hello", headers={"Expect": "100-continue"}),
    node("continue-duplicate", "/continue/duplicate?count=2&every=50ms", duplicate_node, method="POST", body="hello", expect=True, expectFallback=3000),
    go("continue-duplicate", "/continue/duplicate?count=2&every=50ms", duplicate_go, method="POST", body="hello", expect=3000),
    curl("continue-unsolicited", "/continue/unsolicited", unsolicited_curl, followup="/echo"),
    python("continue-unsolicited", "/continue/unsolicited", unsolicited_python, followup="/echo"),
    python("continue-unsolicited", "/continue/unsolicited", unsolicited_python_http10, http10=True),
    node("continue-unsolicited", "/continue/unsolicited", unsolicited_node, followup="/echo"),
    node("continue-unsolicited", "/continue/unsolicited", unsolicited_fetch, client="fetch"),
    go("continue-unsolicited", "/continue/unsolicited", unsolicited_go, followup="/echo"),
    curl("continue-unsolicited-to-http10", "/continue/unsolicited/to-http10", to_http10_curl, "-0"),
    python("continue-unsolicited-to-http10", "/continue/unsolicited/to-http10", to_http10_python, http10=True),
    node("continue-unsolicited-to-http10", "/continue/unsolicited/to-http10", to_http10_fetch, client="fetch"),
    go("continue-unsolicited-to-http10", "/continue/unsolicited/to-http10", to_http10_go),
])


@pytest.fixture(scope="module")
def runs(catalogue_server):
    return drive(catalogue_server, PLANS)


@pytest.mark.parametrize("plan", PLANS, ids=lambda plan: plan.mark)
def test_entry(runs, plan):
    verify(runs, plan)
