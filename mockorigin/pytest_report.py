"""What the server saw, written for a person reading a failed test.

One short block per journal entry: the request, the behaviour that answered (or
that nothing did), the 1xx and final responses with their times, how and where
the exchange ended, and its problems. The same text goes into the report section
of a failed test and into the messages of the verification helpers.
"""

from __future__ import annotations

from collections.abc import Iterable

SECTION_TITLE = "mock origin: what the server saw"
MAX_SHOWN = 50  # entries in a report section; the oldest beyond that are counted, not shown


def _get(value, name, default=None):
    """Attribute or key access: entries are ``Entry`` namespaces or plain dicts."""
    if value is None:
        return default
    if isinstance(value, dict):
        return value.get(name, default)
    return getattr(value, name, default)


def _seconds(value) -> str:
    return "?" if value is None else f"{value:.3f}s"


def request_line(entry) -> str:
    request = _get(entry, "request")
    if request is None:
        return "(no complete request)"
    return f"{_get(request, 'method')} {_get(request, 'target')}"


def headline(entry) -> str:
    """``#3 POST /upload -> continue-delayed``: which request, and what answered it."""
    behaviour = _get(entry, "behaviour")
    if _get(entry, "request") is None:
        answered = "connection ended before a whole request"
    else:
        answered = behaviour if behaviour is not None else "(matched no behaviour)"
    return f"#{_get(entry, 'id')} {request_line(entry)} -> {answered}"


def timeline(entry) -> str:
    """What crossed the wire, in the order it did: request head and body, 1xx and final
    responses, then how the exchange ended."""
    times, request, final = _get(entry, "times"), _get(entry, "request"), _get(entry, "final")
    events: list[tuple[float, str]] = []  # (when, what); a missing time sorts last
    if request is not None:
        events.append((_when(_get(times, "head")), f"head at {_seconds(_get(times, 'head'))}"))
        length = _get(request, "body_length", 0)
        if length:
            first, last = _get(times, "first_body_byte"), _get(times, "last_body_byte")
            complete = "" if _get(request, "body_complete") else ", incomplete"
            events.append((_when(first), f"body {length} B from {_seconds(first)} to {_seconds(last)}{complete}"))
    for interim in _get(entry, "interims") or []:
        events.append((_when(_get(interim, "at")), f"{_get(interim, 'status')} at {_seconds(_get(interim, 'at'))}"))
    if final is not None:
        events.append((_when(_get(final, "at")), f"final {_get(final, 'status')} at {_seconds(_get(final, 'at'))}"))
    parts = [what for _when_, what in sorted(events, key=lambda event: event[0])]
    if final is None:
        parts.append("no final response")
    parts.append(ending(_get(entry, "ended")))
    return "; ".join(parts)


def _when(seconds) -> float:
    return float("inf") if seconds is None else seconds


def ending(ended) -> str:
    how = _get(ended, "how")
    if how is None:
        stage = _get(ended, "stage")
        return "still open" + (f", at stage {stage}" if stage else "")
    by, signal = _get(ended, "by"), _get(ended, "signal")
    who = f" ({by} {signal})" if by and signal else (" (connection kept open)" if how == "completed" else "")
    return f"ended: {how}{who} at stage {_get(ended, 'stage')}, {_seconds(_get(ended, 'at'))}"


def client_facts(entry) -> list[str]:
    """The facts worth a line: the 100-continue wait, and a body sent after the final response."""
    facts, lines = _get(entry, "facts"), []
    if _get(facts, "expect_continue"):
        waited = _get(facts, "waited_for_continue")
        before = _get(facts, "sent_body_before_continue")
        lines.append(
            "Expect: 100-continue; "
            + ("sent no body" if waited is None else f"body after waiting {_seconds(waited)}")
            + ("" if before is None else (", before any 100" if before else ", after the 100"))
        )
    after = _get(facts, "body_bytes_after_final_response") or 0
    if after:
        lines.append(f"{after} body bytes arrived after the final response")
    return lines


def describe(entry, indent: str = "  ") -> str:
    """The whole block for one entry."""
    lines = [headline(entry), indent + timeline(entry)]
    lines += [indent + fact for fact in client_facts(entry)]
    lines += [f"{indent}problem: {problem}" for problem in _get(entry, "problems") or []]
    return "\n".join(lines)


def describe_open(connection) -> str:
    """A connection still open (an exchange in progress), from ``/connections``' shape."""
    request = _get(connection, "request") or "(no request yet)"
    behaviour = _get(connection, "behaviour")
    answered = f" -> {behaviour}" if behaviour else (" -> (matched no behaviour)" if _get(connection, "request") else "")
    return (
        f"connection {_get(connection, 'connection')}: {request}{answered}, at stage {_get(connection, 'stage')}, "
        f"open for {_seconds(_get(connection, 'open_for'))}"
    )


def section(entries: list, still_open: Iterable = ()) -> str:
    """The report section: every exchange (the latest ``MAX_SHOWN``), then what is still running."""
    still_open = list(still_open)
    if not entries and not still_open:
        return "no exchanges (the client sent nothing that reached the server)"
    if entries:
        lines = [f"{len(entries)} exchange{'s' if len(entries) != 1 else ''}, oldest first; times are seconds since the connection was accepted"]
    else:
        lines = ["no exchange has finished yet"]
    if len(entries) > MAX_SHOWN:
        lines.append(f"(the first {len(entries) - MAX_SHOWN} are left out)")
    lines += [describe(entry) for entry in entries[-MAX_SHOWN:]]
    if still_open:
        lines.append("still open:")
        lines += ["  " + describe_open(connection) for connection in still_open]
    return "\n".join(lines)


def listing(entries: list) -> str:
    """A short list for a failure message: one headline each, or "none"."""
    if not entries:
        return "  none"
    return "\n".join("  " + headline(entry) for entry in entries[-MAX_SHOWN:])
