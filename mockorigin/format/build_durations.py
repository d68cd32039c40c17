"""How long a drip or a repeated step runs in all: bounded at load by ``limits.MAX_DURATION``.

Literal values and the params' defaults decide here; values a query string
chooses are checked per request (``interpreter.totals``).
"""

from __future__ import annotations

import os

from mockorigin import limits
from mockorigin.format import model
from mockorigin.format.units import format_duration


class Durations:
    """The totals checks; part of ``builder.Builder``."""


    # durations in all: a drip or a repeated step may not run longer than MAX_DURATION

    def at_default(self, num: model.Num) -> float | None:
        """A number's value when no query string sets it; None if it is not known."""
        if isinstance(num, model.ParamRef):
            param = self.params.get(num.name)
            return param.default if param is not None and param.type != "string" else None  # type: ignore[return-value]
        return num

    def check_drip(self, path: tuple, source: model.BodySource | None, drip: model.Drip | None) -> None:
        if drip is None:
            return
        total, piece, every = self.least_size(source), self.at_default(drip.bytes), self.at_default(drip.every)
        if total is None or piece is None or every is None or piece < 1:
            return
        took = limits.drip_duration(int(total), int(piece), float(every))
        if took > limits.MAX_DURATION:
            self.fail(
                path,
                f"this drip takes {_seconds(took)} ({total} bytes, {piece} at a time, {_seconds(every)} apart)"
                f"{self.at_defaults(source, drip.bytes, drip.every)}; the limit is {_seconds(limits.MAX_DURATION)}",
            )

    def check_repeat(self, path: tuple, what: str, count: model.Num, every: model.Num) -> None:
        times, gap = self.at_default(count), self.at_default(every)
        if times is None or gap is None:
            return
        took = limits.repeat_duration(int(times), float(gap))
        if took > limits.MAX_DURATION:
            self.fail(
                path,
                f"these {times} {what} take {_seconds(took)} ({int(times) - 1} gaps of {_seconds(gap)})"
                f"{self.at_defaults(None, count, every)}; the limit is {_seconds(limits.MAX_DURATION)}",
            )

    def least_size(self, source: model.BodySource | None) -> int | None:
        """The fewest bytes a body can have with the params at their defaults (a template's
        placeholders may add more); None if it cannot be known at load."""
        if source is None:
            return 0
        if isinstance(source, model.BytesBody):
            return len(source.data)
        if isinstance(source, model.TextBody):
            return sum(len(part.encode("utf-8")) for part in source.text.parts if isinstance(part, str))
        if isinstance(source, model.SizedBody):
            size = self.at_default(source.size)
            return None if size is None else int(size)
        try:
            return os.stat(source.path).st_size
        except OSError:
            return None

    def at_defaults(self, source: model.BodySource | None, *nums: model.Num) -> str:
        """`` with the params at their defaults (a=1, b=2)`` when params took part."""
        if isinstance(source, model.SizedBody):
            nums = (source.size, *nums)
        names = list(dict.fromkeys(n.name for n in nums if isinstance(n, model.ParamRef)))
        if not names:
            return ""
        shown = ", ".join(f"{name}={_shown(self.params[name])}" for name in names)
        return f" with the params at their defaults ({shown})"


def _shown(param: model.Param) -> str:
    return format_duration(param.default) if param.type == "duration" else str(param.default)  # type: ignore[arg-type]


def _seconds(value: float) -> str:
    return format_duration(value) if value < 100_000 else f"{value:.0f}s"
