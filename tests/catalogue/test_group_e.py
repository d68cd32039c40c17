"""Group E, connection management, and /echo: each entry driven by curl, Python, Node and Go.

Resets at each stage (the client must report an error, with what it had), and closes that
the response did or did not announce, each followed by a request on the same connection:
the journal tells which client reused a closed connection (its request is journaled as
unanswered) and which retried on a new one.
"""

from __future__ import annotations

import json

import pytest

from .clients import drive, number, verify
from .plans import completed_and_kept, curl, go, node, python

pytestmark = pytest.mark.e2e

RESET_BY_PEER = {"curl": 56, "python": "ConnectionResetError", "node": "ECONNRESET", "go": "connection reset by peer"}


def text(value) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def client_view(family: str, seen: dict) -> tuple:
    """(status, error, body) as the family reports them; curl's error is its exit code."""
    if family == "curl":
        transfer = seen["transfers"][0]
        return transfer["status"], seen["exit"], transfer["body"]
    return seen["status"], seen.get("error"), text(seen.get("body", ""))


def reset(family: str, stage: str, status, body: str | None = "", error=None):
    """The client saw ``status`` (and ``body``), then the reset; the journal says the server
    reset the connection at ``stage``, with its reset step."""

    def check(run):
        got_status, got_error, got_body = client_view(family, run.seen)
        wanted = error or RESET_BY_PEER[family]
        assert got_status == status and (wanted in got_error if family == "go" else got_error == wanted), run.seen
        if body is not None:
            assert got_body == body
        entry = run.entry
        assert entry.ended.how == "server reset" and entry.ended.signal == "RST" and entry.ended.stage == stage
        assert entry.ended.server.why == "the script's reset step"

    return check


def whole_then_reset(family: str):
    """The last chunk went before the RST: each client had the response whole; the connection
    is gone for the next request (curl and Go open a new one; http.client and Node reuse it
    and meet the reset)."""

    def check(run):
        got_status, got_error, got_body = client_view(family, run.seen)
        assert got_status == 200 and got_body == "whole\n" and got_error in (None, 0)
        entry = run.entry
        assert entry.final.status == 200 and entry.ended.how == "server reset" and entry.ended.stage == "3:reset"
        answered = [e for e in run.followups if e.final is not None]
        if family in ("curl", "go"):
            assert len(answered) == 1 and answered[0].connection != entry.connection
        else:
            assert run.seen["followup"]["error"] in ("ConnectionResetError", "ECONNRESET") and answered == []

    return check


def closed_without_header(family: str):
    """The response did not say close, then the server closed. http.client always reuses the
    connection (RemoteDisconnected); the others reuse it or notice the FIN first; whoever
    reused it has its request journaled as sent after the close."""

    def check(run):
        entry = run.entry
        assert entry.final.status == 200 and entry.facts.response_said_close is False and entry.ended.server.why == "the script's close step"
        late = [e for e in run.followups if e.final is None]
        answered = [e for e in run.followups if e.final is not None]
        assert all(e.unanswered == "sent after the server had closed its side of the connection" and e.connection == entry.connection for e in late)
        assert all(e.connection != entry.connection for e in answered)
        if family == "python":
            assert run.seen["followup"]["error"] == "RemoteDisconnected" and len(late) == 1 and answered == []
        elif family == "curl":
            assert run.seen["transfers"][1]["status"] == 200 and run.seen["transfers"][1]["connects"] == 1 and len(answered) == 1
        elif family == "node":  # Node's agent reuses it and reports 'socket hang up', or opens a new one
            followup = run.seen["followup"]
            assert (followup["error"] == "ECONNRESET" and len(late) == 1) or (followup["status"] == 200 and len(answered) == 1)
        else:  # Go retries a reused connection that failed, or opens a new one
            assert run.seen["followup"]["status"] == 200 and len(answered) == 1

    return check


def said_close_stayed_open(family: str):
    """Every client closed its side after the Connection: close response and sent its next
    request on a new connection, although the server kept the old one open."""

    def check(run):
        entry = run.entry
        assert entry.facts.response_said_close is True and entry.ended.by == "client" and entry.ended.stage == "3:hang"
        assert entry.facts.reused_after_connection_close is False
        (following,) = run.followups
        assert following.final.status == 200 and following.connection != entry.connection

    return check


def echoed(family: str):
    def check(run):
        body = run.seen["transfers"][0]["body"] if family == "curl" else text(run.seen["body"])
        echo = json.loads(body)
        assert echo["method"] == "POST" and echo["body_length"] == 5 and echo["path"] == "/echo"
        entry = run.entry
        assert entry.final.status == 200 and entry.request.body_complete and entry.request.body_sha256 == echo["body_sha256"]
        assert completed_and_kept(entry) or entry.ended.by == "client"

    return check


def plans_for(name: str, path: str, check, followup: str | None = None, **options) -> list:
    return [
        curl(name, path, check("curl"), *options.get("curl_args", ()), followup=followup),
        python(name, path, check("python"), followup=followup, **options.get("python", {})),
        node(name, path, check("node"), followup=followup, **options.get("node", {})),
        go(name, path, check("go"), followup=followup, **options.get("go", {})),
    ]


PLANS = number([
    *plans_for("echo", "/echo", echoed, curl_args=("--data-binary", "hello"), python={"method": "POST", "body": b"hello"},
               node={"method": "POST", "body": "hello"}, go={"method": "POST", "body": "hello"}),
    curl("reset-before-response", "/reset/before-response", reset("curl", "2:reset", 0)),
    python("reset-before-response", "/reset/before-response", reset("python", "2:reset", None)),
    node("reset-before-response", "/reset/before-response", reset("node", "2:reset", None)),
    go("reset-before-response", "/reset/before-response", reset("go", "2:reset", 0)),
    curl("reset-after-status-line", "/reset/after-status-line", reset("curl", "3:reset", 200)),
    python("reset-after-status-line", "/reset/after-status-line", reset("python", "3:reset", None)),
    node("reset-after-status-line", "/reset/after-status-line", reset("node", "3:reset", None)),
    go("reset-after-status-line", "/reset/after-status-line", reset("go", "3:reset", 0, error="unexpected EOF")),  # Go reads the RST as an early EOF here
    curl("reset-after-headers", "/reset/after-headers", reset("curl", "3:reset", 200)),
    python("reset-after-headers", "/reset/after-headers", reset("python", "3:reset", 200)),
    node("reset-after-headers", "/reset/after-headers", reset("node", "3:reset", 200)),
    go("reset-after-headers", "/reset/after-headers", reset("go", "3:reset", 200)),
    curl("reset-mid-body", "/reset/mid-body", reset("curl", "4:reset", 200, "mocko")),
    python("reset-mid-body", "/reset/mid-body", reset("python", "4:reset", 200, None)),  # http.client keeps no partial body on a reset
    node("reset-mid-body", "/reset/mid-body", reset("node", "4:reset", 200, "mocko")),
    go("reset-mid-body", "/reset/mid-body", reset("go", "4:reset", 200, "mocko")),
    curl("reset-mid-chunk", "/reset/mid-chunk", reset("curl", "4:reset", 200, "hello")),
    python("reset-mid-chunk", "/reset/mid-chunk", reset("python", "4:reset", 200, None)),
    node("reset-mid-chunk", "/reset/mid-chunk", reset("node", "4:reset", 200, "hello")),
    go("reset-mid-chunk", "/reset/mid-chunk", reset("go", "4:reset", 200, "hello")),
    *plans_for("reset-after-last-chunk", "/reset/after-last-chunk", whole_then_reset, followup="/echo"),
    *plans_for("close-no-header", "/close/no-header", closed_without_header, followup="/echo"),
    *plans_for("close-header-but-open", "/close/header-but-open?for=1s", said_close_stayed_open, followup="/echo"),
])


@pytest.fixture(scope="module")
def runs(catalogue_server):
    return drive(catalogue_server, PLANS)


@pytest.mark.parametrize("plan", PLANS, ids=lambda plan: plan.mark)
def test_entry(runs, plan):
    verify(runs, plan)
