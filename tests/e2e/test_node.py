"""Node's http client over loopback: its `information` event sees every 1xx."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.helpers import ROOT, require_program
from tests.helpers import journal_entry, marker

pytestmark = pytest.mark.e2e

CLIENT = ROOT / "tests" / "node" / "client.js"


def node(*args: str) -> dict:
    result = subprocess.run([require_program("node"), str(CLIENT), *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_processing_reaches_node_as_three_information_events(catalogue_server):
    seen = node(f"{catalogue_server.url}/processing?count=3&every=150ms")
    assert [i["status"] for i in seen["interims"]] == [102, 102, 102]
    assert [i["headers"]["status-uri"] for i in seen["interims"]] == [f"102 </processing/status/{n}>" for n in (1, 2, 3)]
    gaps = [b["at"] - a["at"] for a, b in zip(seen["interims"], seen["interims"][1:], strict=False)]
    assert all(0.12 <= gap < 0.4 for gap in gaps), gaps
    assert seen["status"] == 200


def test_early_hints_reach_node_before_the_response(catalogue_server):
    seen = node(f"{catalogue_server.url}/early-hints")
    (hint,) = seen["interims"]
    assert hint["status"] == 103 and "</script.js>; rel=preload; as=script" in hint["headers"]["link"]
    assert seen["status"] == 200 and "early hints sent" in seen["body"]


def test_node_waits_for_the_delayed_continue(catalogue_server):
    mark = marker()
    seen = node(f"{catalogue_server.url}/continue/delayed?delay=300ms&m={mark}", "POST", "hello", "expect")
    assert seen["status"] == 200 and json.loads(seen["body"]) == {"received": 5}
    assert 0.28 <= seen["continueAt"] < 1.0
    entry = journal_entry(catalogue_server, mark)
    assert entry["facts"]["sent_body_before_continue"] is False


def test_node_sees_the_reset(catalogue_server):
    seen = node(f"{catalogue_server.url}/reset/after-headers")
    assert seen["status"] == 200  # the head arrived whole
    assert seen["error"] == "ECONNRESET" and seen["endedAt"] is None
