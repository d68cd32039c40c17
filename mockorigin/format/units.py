"""Durations and sizes as people write them in behaviour files and query strings.

A bare number is seconds (or bytes); a string may carry a unit. Parsing never
guesses: anything that is not exactly one of these forms is a ``ValueError``.
"""

from __future__ import annotations

import re

_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "": 1.0}
_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}
_NUMBER_WITH_UNIT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*")

DURATION_HELP = "a duration such as 250ms, 2s or 1.5m (a bare number is seconds)"
SIZE_HELP = "a size such as 512, 4KiB or 2MiB (a bare number is bytes)"


def parse_duration(value: object) -> float:
    """Seconds from ``2``, ``0.5``, ``"150ms"``, ``"2s"`` or ``"1.5m"``."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not {DURATION_HELP}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        number, unit = _split(value, DURATION_HELP)
        if unit.lower() not in _DURATION_UNITS:
            raise ValueError(f"{value!r} is not {DURATION_HELP}")
        seconds = number * _DURATION_UNITS[unit.lower()]
    if seconds < 0 or seconds != seconds or seconds == float("inf"):
        raise ValueError(f"{value!r} is not {DURATION_HELP}")
    return seconds


def parse_size(value: object) -> int:
    """Bytes from ``512``, ``"4KiB"`` or ``"2MiB"``; fractions of a byte are refused."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not {SIZE_HELP}")
    if isinstance(value, int):
        size = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{value!r} is not a whole number of bytes")
        size = int(value)
    else:
        number, unit = _split(value, SIZE_HELP)
        if unit.lower() not in _SIZE_UNITS:
            raise ValueError(f"{value!r} is not {SIZE_HELP}")
        scaled = number * _SIZE_UNITS[unit.lower()]
        if not float(scaled).is_integer():
            raise ValueError(f"{value!r} is not a whole number of bytes")
        size = int(scaled)
    if size < 0:
        raise ValueError(f"{value!r} is not {SIZE_HELP}")
    return size


def parse_integer(value: object) -> int:
    """A plain whole number, from YAML or from a query string."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,18}\s*", value):
        return int(value)
    raise ValueError(f"{value!r} is not a whole number")


def format_duration(seconds: float) -> str:
    """The shortest readable form, for listings and messages."""
    if seconds and seconds < 1:
        return f"{seconds * 1000:g}ms"
    return f"{seconds:g}s"


def _split(value: object, help_text: str) -> tuple[float, str]:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not {help_text}")
    match = _NUMBER_WITH_UNIT.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not {help_text}")
    return float(match.group(1)), match.group(2)
