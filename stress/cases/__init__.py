"""Every case of the suite, in the order a run takes them (IDs from reliability.md)."""

from __future__ import annotations

from stress.cases import faults, fuzz, smuggling
from stress.runner import Case

CASES = [
    Case("H3", "smuggling corpus vs h11, real sockets", smuggling.run_h3, (30, 20)),
    Case("H7", "in-process parser fuzz (+ atheris)", fuzz.run_h7, (185, 25)),
    Case("H8", "wire fuzz, 64 connections", fuzz.run_h8, (200, 20)),
    Case("F1", "disconnect matrix, FIN and RST", faults.run_f1, (20, 10)),
    Case("F2", "signals and mockorigin stop", faults.run_f2, (30, 30)),
]
