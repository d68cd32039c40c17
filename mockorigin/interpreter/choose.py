"""Which script answers a routed request, whatever the wire protocol.

The behaviour the router chose runs its next script (a ``sequence`` moves on), with
the request's params, unless they are out of bounds or would make a drip or a
repeated step run too long (400 naming them). With no behaviour, ``GET /`` gets the
catalogue's index and anything else a 404 that names the closest behaviours. What
went wrong is returned as problems for the journal, never raised.
"""

from __future__ import annotations

from collections.abc import Mapping

from mockorigin.format import model
from mockorigin.interpreter import answers
from mockorigin.interpreter.exchange import NO_PARAMS, ParamError, resolve_params
from mockorigin.interpreter.totals import check_totals


class Choice:
    __slots__ = ("behaviour", "steps", "params", "problems")

    def __init__(self, behaviour: model.Behaviour | None, steps: tuple):
        self.behaviour = behaviour
        self.steps = steps
        self.params: Mapping[str, object] = NO_PARAMS
        self.problems: list[str] = []


def choose(state, request, routed) -> Choice:
    """The script for ``request``, as ``state.router`` routed it (``routed``)."""
    behaviour = routed.behaviour
    choice = Choice(behaviour, ())
    if behaviour is None:
        if request.path == "/" and request.method in ("GET", "HEAD"):
            choice.steps = answers.index(state.router, request.header("accept") or "")
        else:
            choice.steps = answers.not_found(state.router, request.method, request.path, routed.regex_timeouts)
            closest = state.router.closest(request.path)
            choice.problems.append(f"no behaviour matched {request.method} {request.path}" + (f" (closest: {', '.join(closest)})" if closest else ""))
            if getattr(routed, "body_mismatches", None):
                choice.problems.append(f"the body did not match: {', '.join(routed.body_mismatches)}")
    else:
        try:
            choice.params = resolve_params(behaviour, request.query)
            check_totals(behaviour, choice.params)
            choice.steps = state.next_script(behaviour)
        except ParamError as problem:
            choice.steps = answers.bad_param(str(problem))
            choice.problems.append(str(problem))
    if routed.regex_timeouts:
        choice.problems += [f"regex_timeout: {name}" for name in routed.regex_timeouts]
    return choice
