"""The H7 properties under atheris (coverage-guided), when atheris is installed.

``python -m stress.h7_atheris [libFuzzer flags] [CORPUS_DIR]``: the same checks as the H7
case: ``head.parse`` gives a Request or a HeadError, and the reader gives identical events
whole and cut. Stops at the first finding (libFuzzer writes it where -artifact_prefix says).
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from mockorigin.head import HeadError, parse
    from mockorigin.request import RequestReader  # noqa: F401 - instrumented for coverage
    from stress.replay import divergence, split


def test_one_input(data: bytes) -> None:
    if len(data) > 4096:
        return
    for section in data.split(b"\r\n\r\n")[:-1]:
        try:
            parse(section.lstrip(b"\r\n"))
        except HeadError:
            pass
    cut = data[:1][0] % 17 + 1 if data else 1
    problem = divergence(data, split(data, [cut] * (len(data) // cut + 1)), closed=len(data) % 2 == 1)
    if problem is not None:
        raise AssertionError(problem)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
