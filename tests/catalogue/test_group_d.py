"""Group D, framing and malformed messages: each entry driven by curl, Python, Node and Go.

Most of these are written ``raw`` (the server then closes: the framing is unknown), so each
plan checks what the client made of the bytes (its status, body and error, by type) and that
the journal says the exchange ended on the raw bytes. The entries that keep the connection
(a stray body after 204/304/HEAD, bytes past Content-Length) are driven with a follow-up
request on the same connection: that is where a client reads the poison.
"""

from __future__ import annotations

import pytest

from .clients import drive, number, verify
from .plans import completed_and_kept, curl, go, node, python
from .pyclients import header

pytestmark = pytest.mark.e2e

RAW = "the script sent raw bytes: the response's framing is unknown"


def text(value) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def raw_ended(entry) -> None:
    assert entry.final is None and entry.ended.server.why == RAW


def expect(family: str, status, error, body=None, raw: bool = True):
    """A check: the client's status, its error (by type or code; None: none) and body."""

    def check(run):
        seen = run.seen
        if family == "curl":
            got_status, got_error, got_body = seen["transfers"][0]["status"], seen["exit"], seen["transfers"][0]["body"]
        else:
            got_status, got_error, got_body = seen["status"], seen.get("error"), text(seen["body"])
        assert got_status == status, seen
        if family == "go" and error is not None:  # Go's errors carry the URL: look for the part that names the fault
            assert error in (got_error or ""), seen
        else:
            assert got_error == error, seen
        if body is not None:
            assert got_body == body, seen
        if raw:
            raw_ended(run.entry)

    return check


def four(name: str, path: str, curl_, python_, node_, go_, raw: bool = True, **options) -> list:
    """The four plans of an entry whose expectations are (status, error, body) per family."""
    return [
        curl(name, path, expect("curl", *curl_, raw=raw), **options),
        python(name, path, expect("python", *python_, raw=raw)),
        node(name, path, expect("node", *node_, raw=raw)),
        go(name, path, expect("go", *go_, raw=raw)),
    ]


OK = (200, None, "ok\n")
CURL_OK = (200, 0, "ok\n")


def go_header(name: str, values):
    def check(run):
        expect("go", *OK)(run)
        assert run.seen["headers"].get(name) == values

    return check


def python_header(name: str, values: list[str]):
    def check(run):
        expect("python", *OK)(run)
        assert header(run.seen, name) == values

    return check


def python_headers_lost(run):
    """http.client stops reading fields at the bad line: Content-Type and Content-Length are
    lost, and the body is read to the close."""
    expect("python", *OK)(run)
    assert header(run.seen, "content-type") == [] and header(run.seen, "content-length") == []


def python_bare_cr(run):
    """http.client ends the value at the bare CR and stops reading fields there: Content-Length
    is lost, and the body is read to the close."""
    expect("python", *OK)(run)
    assert header(run.seen, "x-bare") == ["a"] and header(run.seen, "content-length") == []


# --- framing that keeps the connection: the follow-up reads the poison --------------------------------


def short_body_ended(entry) -> None:
    assert entry.final.status == 200 and entry.ended.server.why == "the script's close step"


def poisoned(family: str):
    """Every client read 'hello' as the whole response, reused the connection, and took the
    smuggled bytes for the answer to its next request, which the server never saw answered."""

    def check(run):
        seen = run.seen
        if family == "curl":
            assert seen["transfers"][0]["body"] == "hello" and seen["transfers"][1]["body"] == "poisoned\n" and seen["transfers"][1]["connects"] == 0
        else:
            assert text(seen["body"]) == "hello" and seen["followup"]["status"] == 200 and text(seen["followup"]["body"]) == "poisoned\n"
        entry, (following,) = run.entry, run.followups
        assert entry.final.status == 200 and following.connection == entry.connection
        assert following.final is None and following.unanswered.startswith("pipelined")

    return check


def stray_body(family: str, status: int):
    """The head came whole; the stray bytes then stood where the next response should start:
    the follow-up, sent on the same connection, fails to parse. The server answered it."""

    def check(run):
        seen = run.seen
        if family == "curl":
            assert seen["transfers"][0]["status"] == status and seen["exit"] == 1 and seen["requests"][1]["reused"] is True
            assert "HTTP/0.9" in seen["stderr"]
        else:
            assert seen["status"] == status and seen["followup"]["status"] in (None, 0)
            assert {"python": "BadStatusLine", "node": "HPE_INVALID_CONSTANT"}.get(family, "malformed HTTP status code") in (seen["followup"]["error"] or "")
        entry, (following,) = run.entry, run.followups
        assert entry.final.status == status and completed_and_kept(entry)
        assert following.connection == entry.connection and following.final.status == 200

    return check


def trailers(family: str, expected, keep: bool = True):
    def check(run):
        seen = run.seen
        if family == "node":
            assert seen["trailers"] == expected, seen
        elif family == "go":
            assert seen["trailers"] == expected, seen
        else:
            assert (seen["transfers"][0]["status"] if family == "curl" else seen["status"]) == 200
        if keep:
            assert completed_and_kept(run.entry) and run.followups[0].connection == run.entry.connection

    return check


def forbidden_trailers_node(run):
    """llhttp refuses a Content-Length among the trailers."""
    assert run.seen["status"] == 200 and run.seen["error"] == "HPE_INVALID_CONTENT_LENGTH"
    assert run.entry.final.status == 200


def forbidden_trailers_go(run):
    assert run.seen["status"] == 0 and 'bad trailer key "Content-Length"' in run.seen["error"]
    assert run.entry.final.status == 200


def duplicates(family: str, name: str, expected):
    def check(run):
        seen = run.seen
        if family == "curl":
            got = [v for k, v in seen["requests"][0]["responses"][0]["headers"] if k == name]
        elif family == "python":
            got = header(seen, name)
        elif family == "node":
            got = seen["headers"][name]
        else:
            got = seen["headers"][name.title()]
        assert got == expected, seen
        assert run.entry.final.status in (200, 302) and completed_and_kept(run.entry)

    return check


def close_delimited(family: str):
    def check(run):
        seen = run.seen
        body = seen["transfers"][0]["body"] if family == "curl" else text(seen["body"])
        assert body == "the close ends this body\n"
        assert run.entry.final.status == 200 and run.entry.ended.server.why == "the script's close step"

    return check


def close_delimited_http10(run):
    assert run.seen["status"] == 200 and run.seen["body"] == b"the close ends this body\n"
    assert run.entry.request.version == "1.0" and run.entry.ended.server.why == "the script's close step"


SMUGGLED = "/framing/long-body?gap=400ms&linger=2s"  # a gap, so that http.client does not drop the bytes with its read buffer

PLANS = number([
    *four("framing-status-no-reason", "/framing/status-no-reason", CURL_OK, OK, OK, OK),
    *four("framing-status-no-space", "/framing/status-no-space", CURL_OK, OK, OK, OK),
    *four("framing-status-four-digits", "/framing/status-four-digits", (0, 1, ""), (None, "BadStatusLine"), (None, "HPE_INVALID_STATUS"), (0, 'malformed HTTP status code "2000"')),
    *four("framing-status-lowercase-version", "/framing/status-lowercase-version", (200, 0, "ok\n"), (None, "BadStatusLine"), (None, "HPE_INVALID_CONSTANT"), (0, 'malformed HTTP version "http/1.1"')),
    *four("framing-bare-lf", "/framing/bare-lf", (200, 0, "ok\n"), OK, (None, "HPE_CR_EXPECTED"), OK),
    *four("framing-leading-crlf", "/framing/leading-crlf", (0, 1, ""), (None, "BadStatusLine"), OK, (0, "malformed HTTP response")),
    curl("framing-obs-fold", "/framing/obs-fold", expect("curl", 200, 0, "ok\n")),
    python("framing-obs-fold", "/framing/obs-fold", python_header("x-folded", ["first\r\n second"])),
    node("framing-obs-fold", "/framing/obs-fold", expect("node", None, "HPE_INVALID_HEADER_TOKEN")),
    go("framing-obs-fold", "/framing/obs-fold", go_header("X-Folded", ["first second"])),
    curl("framing-space-before-colon", "/framing/space-before-colon", expect("curl", 200, 0, "ok\n")),
    python("framing-space-before-colon", "/framing/space-before-colon", python_headers_lost),
    node("framing-space-before-colon", "/framing/space-before-colon", expect("node", None, "HPE_INVALID_HEADER_TOKEN")),
    go("framing-space-before-colon", "/framing/space-before-colon", go_header("Content-Type ", ["text/plain"])),
    curl("framing-bare-cr-in-header", "/framing/bare-cr-in-header", expect("curl", 200, 0, "ok\n")),
    python("framing-bare-cr-in-header", "/framing/bare-cr-in-header", python_bare_cr),
    node("framing-bare-cr-in-header", "/framing/bare-cr-in-header", expect("node", None, "HPE_LF_EXPECTED")),
    go("framing-bare-cr-in-header", "/framing/bare-cr-in-header", go_header("X-Bare", ["a\rb"])),
    curl("framing-nul-in-header", "/framing/nul-in-header", expect("curl", 200, 8, "")),  # (8) Nul byte in header
    python("framing-nul-in-header", "/framing/nul-in-header", python_header("x-nul", ["a\x00b"])),
    node("framing-nul-in-header", "/framing/nul-in-header", expect("node", None, "HPE_INVALID_HEADER_TOKEN")),
    go("framing-nul-in-header", "/framing/nul-in-header", go_header("X-Nul", ["a\x00b"])),
    *four("framing-chunk-bad-size", "/framing/chunk-bad-size", (200, 56, ""), (200, "IncompleteRead", ""), (200, "HPE_INVALID_CHUNK_SIZE", ""), (200, "invalid byte in chunk length", "")),
    *four("framing-chunk-oversize", "/framing/chunk-oversize", (200, 56, ""), (200, "OverflowError", ""), (200, "HPE_INVALID_CHUNK_SIZE", ""), (200, "http chunk length too large", "")),
    *four("framing-chunk-extension", "/framing/chunk-extension", (200, 0, "hello"), (200, None, "hello"), (200, None, "hello"), (200, None, "hello")),
    *four("framing-chunk-missing-crlf", "/framing/chunk-missing-crlf", (200, 56, "hello"), (200, "IncompleteRead", "hello"), (200, "HPE_STRICT", "hello"), (200, "malformed chunked encoding", "hello")),
    *four("framing-chunk-too-long", "/framing/chunk-too-long", (200, 56, "hel"), (200, "IncompleteRead", "hel"), (200, "HPE_STRICT", "hel"), (200, "malformed chunked encoding", "hel")),
    curl("framing-short-body", "/framing/short-body", lambda run: (expect("curl", 200, 18, "mocko", raw=False)(run), short_body_ended(run.entry))),
    python("framing-short-body", "/framing/short-body", lambda run: (expect("python", 200, "IncompleteRead", "mocko", raw=False)(run), short_body_ended(run.entry))),
    node("framing-short-body", "/framing/short-body", lambda run: (expect("node", 200, "ECONNRESET", "mocko", raw=False)(run), short_body_ended(run.entry))),
    go("framing-short-body", "/framing/short-body", lambda run: (expect("go", 200, "unexpected EOF", "mocko", raw=False)(run), short_body_ended(run.entry))),
    curl("framing-long-body", SMUGGLED, poisoned("curl"), followup="/echo"),
    python("framing-long-body", SMUGGLED, poisoned("python"), followup="/echo"),
    node("framing-long-body", SMUGGLED, poisoned("node"), followup="/echo"),
    go("framing-long-body", SMUGGLED, poisoned("go"), followup="/echo"),
    *four("framing-two-content-lengths", "/framing/two-content-lengths", (200, 18, "hello"), (200, None, "hello"), (None, "HPE_UNEXPECTED_CONTENT_LENGTH"), (0, "multiple Content-Length headers"), raw=False),
    *four("framing-content-length-list", "/framing/content-length-list", (200, 0, "hello"), (200, None, "hello"), (None, "HPE_INVALID_CONTENT_LENGTH"), (0, 'bad Content-Length "5, 5"'), raw=False),
    *four("framing-chunked-and-content-length", "/framing/chunked-and-content-length?linger=100ms", (200, 0, "hello"), (200, None, "hello"), (None, "HPE_INVALID_CONTENT_LENGTH"), (200, None, "hello"), raw=False),
    curl("framing-trailers-unannounced", "/framing/trailers-unannounced", trailers("curl", None), followup="/echo"),
    python("framing-trailers-unannounced", "/framing/trailers-unannounced", trailers("python", None), followup="/echo"),
    node("framing-trailers-unannounced", "/framing/trailers-unannounced", trailers("node", {"x-checksum": "42"}), followup="/echo"),
    go("framing-trailers-unannounced", "/framing/trailers-unannounced", trailers("go", {"X-Checksum": ["42"]}), followup="/echo"),
    curl("framing-trailers-forbidden", "/framing/trailers-forbidden", trailers("curl", None), followup="/echo"),
    python("framing-trailers-forbidden", "/framing/trailers-forbidden", trailers("python", None), followup="/echo"),
    node("framing-trailers-forbidden", "/framing/trailers-forbidden", forbidden_trailers_node),
    go("framing-trailers-forbidden", "/framing/trailers-forbidden", forbidden_trailers_go),
    curl("framing-trailers-missing", "/framing/trailers-missing", trailers("curl", None), followup="/echo"),
    python("framing-trailers-missing", "/framing/trailers-missing", trailers("python", None), followup="/echo"),
    node("framing-trailers-missing", "/framing/trailers-missing", trailers("node", {}), followup="/echo"),
    go("framing-trailers-missing", "/framing/trailers-missing", trailers("go", {"X-Checksum": None}), followup="/echo"),
    curl("framing-duplicate-location", "/framing/duplicate-location", duplicates("curl", "location", ["/echo?from=first-location", "/echo?from=second-location"])),
    python("framing-duplicate-location", "/framing/duplicate-location", duplicates("python", "location", ["/echo?from=first-location", "/echo?from=second-location"])),
    node("framing-duplicate-location", "/framing/duplicate-location", duplicates("node", "location", "/echo?from=first-location")),  # Node keeps the first
    go("framing-duplicate-location", "/framing/duplicate-location", duplicates("go", "location", ["/echo?from=first-location", "/echo?from=second-location"])),
    curl("framing-duplicate-content-type", "/framing/duplicate-content-type", duplicates("curl", "content-type", ["text/plain", "application/json"])),
    python("framing-duplicate-content-type", "/framing/duplicate-content-type", duplicates("python", "content-type", ["text/plain", "application/json"])),
    node("framing-duplicate-content-type", "/framing/duplicate-content-type", duplicates("node", "content-type", "text/plain")),
    go("framing-duplicate-content-type", "/framing/duplicate-content-type", duplicates("go", "content-type", ["text/plain", "application/json"])),
    curl("framing-body-on-204", "/framing/body-on-204?gap=400ms", stray_body("curl", 204), followup="/echo"),
    python("framing-body-on-204", "/framing/body-on-204?gap=400ms", stray_body("python", 204), followup="/echo"),
    node("framing-body-on-204", "/framing/body-on-204?gap=400ms", stray_body("node", 204), followup="/echo"),
    go("framing-body-on-204", "/framing/body-on-204?gap=400ms", stray_body("go", 204), followup="/echo"),
    curl("framing-body-on-304", "/framing/body-on-304?gap=400ms", stray_body("curl", 304), followup="/echo"),
    python("framing-body-on-304", "/framing/body-on-304?gap=400ms", stray_body("python", 304), followup="/echo"),
    node("framing-body-on-304", "/framing/body-on-304?gap=400ms", stray_body("node", 304), followup="/echo"),
    go("framing-body-on-304", "/framing/body-on-304?gap=400ms", stray_body("go", 304), followup="/echo"),
    curl("framing-body-on-head", "/framing/body-on-head?gap=400ms", stray_body("curl", 200), "-I", followup="/echo"),
    python("framing-body-on-head", "/framing/body-on-head?gap=400ms", stray_body("python", 200), method="HEAD", followup="/echo"),
    node("framing-body-on-head", "/framing/body-on-head?gap=400ms", stray_body("node", 200), method="HEAD", followup="/echo"),
    go("framing-body-on-head", "/framing/body-on-head?gap=400ms", stray_body("go", 200), method="HEAD", followup="/echo"),
    curl("framing-close-delimited", "/framing/close-delimited", close_delimited("curl")),
    python("framing-close-delimited", "/framing/close-delimited", close_delimited("python")),
    python("framing-close-delimited", "/framing/close-delimited", close_delimited_http10, http10=True),
    node("framing-close-delimited", "/framing/close-delimited", close_delimited("node")),
    go("framing-close-delimited", "/framing/close-delimited", close_delimited("go")),
])


@pytest.fixture(scope="module")
def runs(catalogue_server):
    return drive(catalogue_server, PLANS)


@pytest.mark.parametrize("plan", PLANS, ids=lambda plan: plan.mark)
def test_entry(runs, plan):
    verify(runs, plan)
