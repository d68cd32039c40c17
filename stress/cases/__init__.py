"""Every case of the suite, in the order a run takes them (IDs from reliability.md)."""

from __future__ import annotations

from stress.cases import admin, faults, fuzz, load, payloads, slow, smuggling, websocket
from stress.runner import Case

CASES = [
    Case("H3", "smuggling corpus vs h11, real sockets", smuggling.run_h3, (30, 20)),
    Case("H7", "in-process parser fuzz (+ atheris)", fuzz.run_h7, (200, 25)),
    Case("H8", "wire fuzz, 64 connections", fuzz.run_h8, (100, 15)),
    Case("H5", "slowloris, slow body, slow read", slow.run_h5, (70, 18)),
    Case("F1", "disconnect matrix, FIN and RST", faults.run_f1, (20, 10)),
    Case("W2", "WebSocket endings and protocol errors", websocket.run_w2, (15, 10)),
    Case("L2", "held connections, connect burst", load.run_l2, (25, 10)),
    Case("L3", "short and aborted connections", load.run_l3, (40, 6)),
    Case("L4", "soak with RSS sampling (shortened)", load.run_l4, (245, 12)),
    Case("F2", "signals and mockorigin stop", faults.run_f2, (30, 15)),
    Case("F7", "control API abuse", admin.run_f7, (15, 8)),
    Case("S1", "admin binding", admin.run_s1, (18, 14)),
    Case("S2", "admin token", admin.run_s2, (5, 5)),
    Case("S3", "admin Host, Origin, content type", admin.run_s3, (1, 1)),
    Case("S4", "YAML payloads by file and upload", payloads.run_s4, (15, 12)),
    Case("S5", "body_file escapes and swaps", payloads.run_s5, (10, 8)),
    Case("S6", "catastrophic regex", payloads.run_s6, (10, 10)),
    Case("S7", "bounds at load, parameter floors", payloads.run_s7, (25, 10)),
]
