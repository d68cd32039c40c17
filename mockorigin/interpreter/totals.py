"""How long a drip or a repeated step runs in all, with this request's params.

The loader bounds literal values and the params' defaults; a query string may
choose other values within each param's own bounds, and together they may still
ask for hours (``/drip?bytes=1MiB&every=1s``). This check runs before the script
starts, so such a request gets a 400 naming the params instead of a response that
never ends. Only behaviours with params need it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from mockorigin import limits
from mockorigin.format import model
from mockorigin.interpreter.exchange import ParamError
from mockorigin.format.units import format_duration


def check_totals(behaviour: model.Behaviour, params: Mapping[str, object]) -> None:
    """``ParamError`` if, with ``params``, a drip or repeated step of any of the behaviour's
    scripts would run longer than ``limits.MAX_DURATION`` (or a piece would be empty)."""
    if not behaviour.params:
        return
    for script in behaviour.scripts:
        for step in _steps(script):
            if isinstance(step, model.Interim):
                _repeat(step.count, step.every, "interims", params)
            elif isinstance(step, model.WsControl):
                _repeat(step.count, step.every, "pings or pongs", params)
            elif isinstance(step, model.Respond) and step.drip is not None:
                _drip(step.body, step.drip, params)
            elif isinstance(step, (model.Body, model.Raw)) and step.drip is not None:
                _drip(step.source, step.drip, params)


def _steps(script: Iterable[model.Step]) -> Iterable:
    for step in script:
        yield step
        if isinstance(step, model.Upgrade):
            yield from step.then


def _value(num: model.Num, params: Mapping[str, object]) -> float:
    return float(params[num.name]) if isinstance(num, model.ParamRef) else float(num)  # type: ignore[arg-type]


def _names(*nums: model.Num) -> list[str]:
    return [num.name for num in nums if isinstance(num, model.ParamRef)]


def _repeat(count: model.Num, every: model.Num, what: str, params: Mapping[str, object]) -> None:
    names = _names(count, every)
    if not names:
        return
    took = limits.repeat_duration(int(_value(count, params)), _value(every, params))
    if took > limits.MAX_DURATION:
        raise ParamError(names[0], f"with {_shown(names, params)} these {what} take {format_duration(took)}; the limit is {format_duration(limits.MAX_DURATION)}")


def _drip(source: model.BodySource | None, drip: model.Drip, params: Mapping[str, object]) -> None:
    size_ref = source.size if isinstance(source, model.SizedBody) else None
    names = _names(*(n for n in (size_ref, drip.bytes, drip.every) if n is not None))
    if not names:
        return
    piece = int(_value(drip.bytes, params))
    if piece < 1:
        raise ParamError(_names(drip.bytes)[0] if _names(drip.bytes) else names[0], "a drip's pieces must be at least 1 byte")
    took = limits.drip_duration(_size(source, params), piece, _value(drip.every, params))
    if took > limits.MAX_DURATION:
        raise ParamError(names[0], f"with {_shown(names, params)} this drip takes {format_duration(took)}; the limit is {format_duration(limits.MAX_DURATION)}")


def _size(source: model.BodySource | None, params: Mapping[str, object]) -> int:
    """The body's size as far as it is known before rendering (a template's literal parts)."""
    if source is None:
        return 0
    if isinstance(source, model.SizedBody):
        return int(_value(source.size, params))
    if isinstance(source, model.BytesBody):
        return len(source.data)
    if isinstance(source, model.TextBody):
        return sum(len(part.encode("utf-8")) for part in source.text.parts if isinstance(part, str))
    try:
        return os.stat(source.path).st_size
    except OSError:
        return 0


def _shown(names: list[str], params: Mapping[str, object]) -> str:
    def show(value: object) -> str:
        return format_duration(value) if isinstance(value, float) else str(value)

    return " and ".join(f"{name}={show(params[name])}" for name in dict.fromkeys(names))
