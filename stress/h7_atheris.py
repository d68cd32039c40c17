"""The H7 properties under atheris (coverage-guided), when atheris is installed.

``STRESS_ATHERIS_OUT=DIR python -m stress.h7_atheris [libFuzzer flags] [CORPUS_DIR]``: the
same checks as the H7 case (``head.parse`` gives a Request or a HeadError; the reader gives
identical events whole and cut). A finding does not stop the run: the first input of each
kind is written to DIR and printed as ``FINDING <kind> <file>``, later ones of that kind
are counted, and fuzzing goes on (libFuzzer's own fork mode does not work under atheris).
"""

from __future__ import annotations

import hashlib
import os
import sys
import traceback

import atheris

with atheris.instrument_imports():
    from mockorigin.http1.head import HeadError, parse
    from mockorigin.http1.reader import RequestReader  # noqa: F401 - instrumented for coverage
    from stress.replay import divergence, split

OUT = os.environ.get("STRESS_ATHERIS_OUT", ".")
SEEN: set[str] = set()


def _check(data: bytes) -> None:
    for section in data.split(b"\r\n\r\n")[:-1]:
        try:
            parse(section.lstrip(b"\r\n"))
        except HeadError:
            pass
    cut = data[0] % 17 + 1 if data else 1
    problem = divergence(data, split(data, [cut] * (len(data) // cut + 1)), closed=len(data) % 2 == 1)
    if problem is not None:
        raise AssertionError(problem)


def _kind(error: Exception) -> str:
    if isinstance(error, AssertionError):
        return "divergence " + str(error).split(" || ", 1)[0]
    frames = [f for f in traceback.extract_tb(error.__traceback__) if "/mockorigin/" in f.filename]
    where = f" in {frames[-1].name}" if frames else ""
    return f"{type(error).__name__}{where}"


def test_one_input(data: bytes) -> None:
    if len(data) > 4096:
        return
    try:
        _check(data)
    except Exception as error:  # a finding: keep the first of its kind, go on fuzzing
        kind = _kind(error)
        if kind not in SEEN:
            SEEN.add(kind)
            path = os.path.join(OUT, f"H7-atheris-{hashlib.sha1(data).hexdigest()[:10]}.http")
            with open(path, "wb") as handle:
                handle.write(data)
            print(f"FINDING {kind} {path}", flush=True)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
