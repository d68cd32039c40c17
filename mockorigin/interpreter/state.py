"""The live behaviour set and what persists across requests (sequence counters, ids).

Replacing the set swaps one immutable ``Router`` for another, so a request sees
either the old set or the new one, never a mix.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from mockorigin.format import model
from mockorigin.interpreter.router import Router


class ServerState:
    def __init__(self, behaviours: Sequence[model.Behaviour] = ()):
        self.router = Router(behaviours)
        self._served: dict[str, int] = {}
        self._connection_ids = itertools.count(1)
        self._request_ids = itertools.count(1)

    @property
    def behaviours(self) -> tuple[model.Behaviour, ...]:
        return self.router.behaviours

    def replace(self, behaviours: Sequence[model.Behaviour]) -> None:
        self.router = Router(behaviours)
        self._served.clear()

    def reset_sequences(self) -> None:
        self._served.clear()

    def next_script(self, behaviour: model.Behaviour) -> tuple[model.Step, ...]:
        """The n-th request to a behaviour runs its n-th script; the last one repeats."""
        served = self._served.get(behaviour.name, 0)
        self._served[behaviour.name] = served + 1
        return behaviour.scripts[min(served, len(behaviour.scripts) - 1)]

    def next_connection_id(self) -> int:
        return next(self._connection_ids)

    def next_request_id(self) -> int:
        return next(self._request_ids)
