"""Which client families really drove each catalogue entry in this session.

A family counts for an entry only once a test has checked what that client saw *and* the
journal entries its request left: ``confirm`` is called after the check passed, and it
checks itself that the entries exist, were answered by that behaviour, and came from a
client of that family (by the headers the client sent). Naming an entry in a test
without driving it adds nothing. ``tests/test_catalogue.py`` compares this with the
catalogue. With ``MOCKORIGIN_DRIVEN_FILE`` set, each confirmation is also appended there
as a JSON line (for a run of these tests in another process).
"""

from __future__ import annotations

import json
import os
from collections import defaultdict

DRIVEN: dict[str, set[str]] = defaultdict(set)
MIN_FAMILIES = 3


def _user_agent(entry) -> str:
    return next((value for name, value in entry.request.headers if name.lower() == "user-agent"), "")


def _is_websocket(entry) -> bool:
    return any(name.lower() == "sec-websocket-key" for name, _ in entry.request.headers)


def _from_family(family: str, entry) -> bool:
    """Whether the request's headers are those the family's client sends."""
    agent = _user_agent(entry)
    if family == "curl":
        return agent.startswith("curl/")
    if family == "python":
        return agent.startswith(("python-http.client/", "python-httpx/")) or ("websockets/" in agent and _is_websocket(entry))
    if family == "node":
        return agent.startswith("node-http/v") or agent in ("node", "undici") or (_is_websocket(entry) and agent in ("", "undici"))
    if family == "go":
        return agent.startswith("Go-http-client/")
    return False


def confirm(behaviour: str, family: str, entries: list) -> None:
    """Count ``family`` as having driven ``behaviour``: its request's journal entries prove it."""
    assert entries, f"{behaviour}[{family}]: no journal entry"
    for entry in entries:
        assert entry.request is not None and entry.behaviour == behaviour, f"{behaviour}[{family}]: entry answered by {entry.behaviour!r}"
        assert _from_family(family, entry), f"{behaviour}[{family}]: the request did not come from a {family} client: {entry.request.headers}"
    DRIVEN[behaviour].add(family)
    path = os.environ.get("MOCKORIGIN_DRIVEN_FILE")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"behaviour": behaviour, "family": family}) + "\n")
