"""Headless Chromium over HTTP/2: it acts on a 103's Link: rel=preload before the final response.

Chromium acts on Early Hints only over HTTP/2 or later, and only from a site it trusts: it is
told to trust the server's certificate by its key (``--ignore-certificate-errors-spki-list``),
read from the live server. The journal's wall-clock times then show the preload request
arriving while the page's final response was still being held back.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import urllib.request
from datetime import datetime

import pytest

from mockorigin.tls.certs import spki_sha256

from tests.helpers import require_program, start_server

pytestmark = pytest.mark.e2e

BEHAVIOURS = """\
name: page
match: {path: /page}
script:
  - interim: {status: 103, headers: {link: "</late.css>; rel=preload; as=style"}}
  - wait: 1500ms
  - respond: {status: 200, headers: {content-type: text/html}, body: "<!doctype html><link rel=stylesheet href=/late.css><p>hi</p>"}
---
name: css
match: {path: /late.css}
script:
  - respond: {status: 200, headers: {content-type: text/css, cache-control: max-age=60}, body: "p{color:red}"}
"""
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def seconds(entry: dict, at: float) -> float:
    return datetime.fromisoformat(entry["started_at"].replace("Z", "+00:00")).timestamp() + at


def test_chromium_preloads_from_a_103_before_the_final_response(tmp_path):
    chromium = require_program("chromium")
    (tmp_path / "page.yaml").write_text(BEHAVIOURS)
    server = start_server(tmp_path / "server", "--tls", str(tmp_path / "page.yaml"), timeout=30)
    try:
        key = spki_sha256(ssl.get_server_certificate(("127.0.0.1", server.port)).encode())
        page = subprocess.run([chromium, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--ignore-certificate-errors-spki-list={key}",
                               "--dump-dom", f"https://localhost:{server.port}/page"], capture_output=True, text=True, timeout=120)
        assert "<p>hi</p>" in page.stdout, page.stderr[-2000:]
        with urllib.request.urlopen(server.admin + "journal", timeout=5) as response:
            entries = [e for e in json.load(response)["entries"] if e["request"]]
    finally:
        server.stop()
    page_entry = next(e for e in entries if e["behaviour"] == "page")
    preload = min((e for e in entries if e["behaviour"] == "css"), key=lambda e: e["started_at"])
    assert page_entry["protocol"] == "h2" and [i["status"] for i in page_entry["interims"]] == [103]
    final_sent = seconds(page_entry, page_entry["final"]["at"])
    preload_arrived = seconds(preload, preload["times"]["head"])
    assert preload_arrived < final_sent - 1.0, (preload_arrived, final_sent)  # within the 1.5 s the final response was held back
    assert preload["connection"] == page_entry["connection"] and preload["request"]["version"] == "2"
