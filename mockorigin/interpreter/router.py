"""Choosing the behaviour for a request: highest priority wins, ties go to load order.

Regexes (and globs, which become regexes) are compiled at load with the ``regex``
module, whose match timeout keeps a catastrophic pattern (``^(a|aa)+$``) from
stalling the reactor. The limit is a budget for the whole request, not per match:
twenty such behaviours would otherwise hold one request for twenty timeouts. A
match that runs out of time, and every regex rule left once the budget is spent,
counts as no match, and the router names them.

Why not a linear-time engine (``google-re2``): it installs here as a wheel and takes
6 us on ``/(a|aa)+$`` against 41 characters, but costs 5.5 us per ordinary match
through its wrapper against 0.4 us for ``regex``, has wheels for some platforms only
(a C++ build with abseil elsewhere), and drops what Python users write (backreferences,
lookaround, ``\\Z``, atomic groups, possessive quantifiers). With a per-request budget
the worst case is already bounded: ``regex`` counts its timeout in CPU time (0.1 s of
CPU took 0.2-0.27 s of wall time on a busy machine here), the budget is read on the
wall clock, so no rule starts once the request has waited 100 ms for regexes.
"""

from __future__ import annotations

import difflib
import time
from typing import Protocol
from collections.abc import Callable, Mapping, Sequence

from mockorigin.format import model
from mockorigin.format.paths import REGEX_BUDGET, compile_path
from mockorigin.interpreter.bodymatch import BodyView, body_matches



class RequestView(Protocol):
    """What matching looks at (a ``request.Request`` has it); header names lower-case."""

    method: str
    path: str
    query: Mapping[str, Sequence[str]]
    headers: Mapping[str, Sequence[str]]
    version: str


class Routed:
    """Where a request was routed. Built per request, so its lists are made only when something
    goes in them (a dataclass with list factories cost 2.6 % of a keep-alive request)."""

    __slots__ = ("behaviour", "regex_timeouts", "needs_body", "body_mismatches")

    def __init__(self, behaviour: model.Behaviour | None = None):
        self.behaviour = behaviour
        self.regex_timeouts: list[str] | tuple = ()  # behaviours whose regex ran out of budget (a list once there is one)
        self.needs_body = False  # a behaviour that matches so far has body tests: route again with the body
        self.body_mismatches: list[str] | tuple = ()  # behaviours that matched all but the body (a list once there is one)

    def timed_out(self, name: str) -> None:
        self.regex_timeouts = [*self.regex_timeouts, name]


class Router:
    """An immutable routing table over one loaded set of behaviours.

    Exact paths are looked up in a dict; each path's candidates (its exact
    behaviours plus every pattern behaviour) are merged in priority order once,
    when the table is built, so a request checks only behaviours that could match.
    ``clock`` measures the regex budget (tests pass a fake one).
    """

    def __init__(self, behaviours: Sequence[model.Behaviour], clock: Callable[[], float] = time.perf_counter):
        self.behaviours = tuple(behaviours)
        self._clock = clock
        ordered = sorted(enumerate(self.behaviours), key=lambda pair: (-pair[1].match.priority, pair[0]))
        rules = [(b, compile_path(b.match.path) if b.match.path and b.match.path.kind != "exact" else None) for _, b in ordered]
        self._patterns = [rule for rule in rules if not _is_exact(rule[0])]
        self._by_path: dict[str, list] = {}
        for rule in rules:
            if _is_exact(rule[0]):
                path = rule[0].match.path.pattern  # type: ignore[union-attr]
                self._by_path.setdefault(path, [])
        for path in self._by_path:
            self._by_path[path] = [r for r in rules if not _is_exact(r[0]) or r[0].match.path.pattern == path]  # type: ignore[union-attr]

    def route(self, request: RequestView, body: BodyView | None = None) -> Routed:
        """The behaviour for ``request``. Without ``body``, a candidate with body tests that
        matches otherwise stops the search with ``needs_body``: the caller waits for the body
        (only then) and routes again with it."""
        routed = Routed(None)
        deadline = None  # of the regex budget, from the first regex rule tried
        for behaviour, path_matches in self._by_path.get(request.path, self._patterns):
            if not _matches_rest(behaviour.match, request):
                continue
            if path_matches is not None:
                timeout = 0.0
                if behaviour.match.path.kind in _TIMED:  # type: ignore[union-attr]
                    now = self._clock()
                    deadline = now + REGEX_BUDGET if deadline is None else deadline
                    timeout = deadline - now
                    if timeout <= 0:
                        routed.timed_out(behaviour.name)
                        continue
                try:
                    if not path_matches(request.path, timeout):
                        continue
                except TimeoutError:
                    routed.timed_out(behaviour.name)
                    continue
            wanted = behaviour.match.body
            if wanted is not None:
                if body is None:
                    routed.needs_body = True
                    return routed
                now = self._clock()
                deadline = now + REGEX_BUDGET if deadline is None else deadline
                try:
                    if not body_matches(wanted, body, deadline - now):
                        routed.body_mismatches = [*routed.body_mismatches, behaviour.name]
                        continue
                except TimeoutError:
                    routed.timed_out(behaviour.name)
                    continue
            routed.behaviour = behaviour
            return routed
        return routed

    def closest(self, path: str, limit: int = 3) -> list[str]:
        """Names and paths of behaviours a lost request probably meant."""
        by_path = {b.match.path.pattern: b.name for b in self.behaviours if b.match.path}
        near = difflib.get_close_matches(path, list(by_path), n=limit, cutoff=0.4)
        return [f"{by_path[p]} ({p})" for p in near]


_TIMED = ("regex", "glob")


def _is_exact(behaviour: model.Behaviour) -> bool:
    return behaviour.match.path is not None and behaviour.match.path.kind == "exact"


def _matches_rest(match: model.Match, request: RequestView) -> bool:
    if match.methods is not None and request.method not in match.methods:
        return False
    if match.version is not None and request.version != match.version:
        return False
    for name, wanted in match.query:
        if not _value_matches(request.query.get(name, ()), wanted, case_insensitive=False):
            return False
    for name, wanted in match.headers:
        if not _value_matches(request.headers.get(name, ()), wanted, case_insensitive=True):
            return False
    return True


def _value_matches(values: Sequence[str], wanted: str | bool, case_insensitive: bool) -> bool:
    if wanted is True:
        return bool(values)
    if wanted is False:
        return not values
    if case_insensitive:
        return any(v.strip().lower() == wanted.lower() for v in values)
    return wanted in values
