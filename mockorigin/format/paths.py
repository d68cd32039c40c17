"""Path rules compiled when a behaviour is loaded: exact, prefix, glob or regex.

Regexes (and globs, which become regexes) use the ``regex`` module, whose
per-match timeout bounds a catastrophic pattern; the router spends one budget of
``REGEX_BUDGET`` per request over all the rules it tries. A pattern that does not
compile is a load error.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from mockorigin.format import model

REGEX_BUDGET = 0.1  # seconds of regex matching per request, for all the rules it tries


def compile_path(path: model.PathMatch) -> Callable[[str, float], bool]:
    """A predicate ``(path, timeout)`` for one path rule; ``ValueError`` for a pattern
    that cannot compile. Only regex and glob rules use the timeout (``TimeoutError``)."""
    if path.kind == "exact":
        return lambda candidate, timeout=0.0: candidate == path.pattern
    if path.kind == "prefix":
        return lambda candidate, timeout=0.0: candidate.startswith(path.pattern)
    import regex

    source = _glob_to_regex(path.pattern) if path.kind == "glob" else path.pattern
    try:
        compiled = regex.compile(source)
    except regex.error as error:
        raise ValueError(str(error)) from None

    def matches(candidate: str, timeout: float = REGEX_BUDGET) -> bool:
        return compiled.fullmatch(candidate, timeout=timeout) is not None

    return matches


def _glob_to_regex(pattern: str) -> str:
    out = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**", index):
            out.append(".*")
            index += 2
        elif pattern[index] == "*":
            out.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            out.append("[^/]")
            index += 1
        else:
            out.append(re.escape(pattern[index]))
            index += 1
    return "".join(out)
