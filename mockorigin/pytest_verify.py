"""Verification helpers for the pytest handles: checks on the journal that fail with the
entries that made them fail.

Plain asserts on entries work too (``entry.facts.waited_for_continue``); these say, on
failure, what was expected and what the server saw, in the words of the report section.
"""

from __future__ import annotations

from mockorigin import pytest_report as report
from mockorigin.control import Entry
from mockorigin.format.units import parse_duration

DEFAULT_VERIFY_TIMEOUT = 2.0  # how long a helper waits for an exchange to be journaled


class Verifications:
    """Mixed into both handles; they supply ``_exchanges`` and ``_served_names``."""

    def _exchanges(self, behaviour: str | None, at_least: int, timeout: float) -> list[Entry]:
        """Entries (of ``behaviour``, or all), once there are ``at_least`` or ``timeout`` has passed."""
        raise NotImplementedError

    def _served_names(self) -> list[str]:
        raise NotImplementedError

    def assert_matched(self, behaviour: str, count: int = 1, timeout: float = DEFAULT_VERIFY_TIMEOUT) -> list[Entry]:
        """Exactly ``count`` requests matched ``behaviour``; returns their entries.

        Waits up to ``timeout`` for them to be journaled (an exchange is journaled when it ends)."""
        __tracebackhide__ = True
        self._exchanges(behaviour, count, timeout)
        everything = self._exchanges(None, 0, 0)
        matched = [e for e in everything if e.behaviour == behaviour]
        if len(matched) != count:
            raise AssertionError(
                f"expected exactly {count} request{_s(count)} to match {behaviour!r}, {len(matched)} did{self._unknown(behaviour)}\n"
                f"the server saw:\n{report.listing(everything)}"
            )
        return matched

    def assert_waited_for_continue(self, at_least: float | str, behaviour: str | None = None, timeout: float = DEFAULT_VERIFY_TIMEOUT) -> list[Entry]:
        """Every request (of ``behaviour``) said ``Expect: 100-continue`` and held its body back
        for at least ``at_least`` (seconds, or ``"250ms"``) after its head; a request that never
        sent its body waited until its exchange ended."""
        __tracebackhide__ = True
        seconds = parse_duration(at_least)
        selected = self._selected(behaviour, timeout)
        for entry in selected:
            if not entry.facts.expect_continue:
                raise AssertionError(f"expected a request with `Expect: 100-continue`; this one had none:\n{report.describe(entry)}")
            waited = _waited_for_continue(entry)
            if waited is None or waited < seconds:
                said = "has sent no body yet and its exchange is still open" if waited is None else f"sent its body after {waited:.3f}s"
                raise AssertionError(f"expected the client to wait at least {seconds:.3f}s for the 100 before sending the body; it {said}:\n{report.describe(entry)}")
        return selected

    def assert_no_body_after_final(self, behaviour: str | None = None, timeout: float = DEFAULT_VERIFY_TIMEOUT) -> list[Entry]:
        """No request (of ``behaviour``) sent body bytes after the final response had gone out."""
        __tracebackhide__ = True
        selected = self._selected(behaviour, timeout)
        for entry in selected:
            if entry.facts.body_after_final_response:
                raise AssertionError(
                    f"expected no body after the final response; the client sent {entry.facts.body_bytes_after_final_response} bytes after it:\n{report.describe(entry)}"
                )
        return selected

    def _selected(self, behaviour: str | None, timeout: float) -> list[Entry]:
        __tracebackhide__ = True
        selected = [e for e in self._exchanges(behaviour, 1, timeout) if e.request is not None]
        if not selected:
            everything = self._exchanges(None, 0, 0)
            which = f"matched {behaviour!r}{self._unknown(behaviour)}" if behaviour else "reached the server"
            raise AssertionError(f"no request {which} within {timeout}s; the server saw:\n{report.listing(everything)}")
        return selected

    def _unknown(self, behaviour: str | None) -> str:
        """A hint when the name is not in the set being served (a typo, or a set changed by use())."""
        if behaviour is None:
            return ""
        names = self._served_names()
        if behaviour in names:
            return ""
        return f" ({behaviour!r} is not being served; the set is: {', '.join(names) or 'empty'})"


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _waited_for_continue(entry: Entry) -> float | None:
    waited = entry.facts.waited_for_continue
    if waited is not None:
        return waited
    ended, head = entry.ended.at, entry.times.head
    return None if ended is None or head is None else round(ended - head, 6)
