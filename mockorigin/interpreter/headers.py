"""Header fields any server adds, whatever the wire protocol: Date and Server."""

from __future__ import annotations

from collections.abc import Iterable
from email.utils import formatdate

SERVER_NAME = "mockorigin"

_date_cache: tuple[int, str] = (-1, "")


def http_date(seconds: float) -> str:
    """The IMF-fixdate for ``seconds``, formatted once per second."""
    global _date_cache
    whole = int(seconds)
    if _date_cache[0] != whole:
        _date_cache = (whole, formatdate(whole, usegmt=True))
    return _date_cache[1]


def add_date_and_server(headers: list[tuple[str, str]], present: set[str], date: str) -> None:
    """Append Date and Server unless ``present`` (lower-case names) has them."""
    if "date" not in present:
        headers.append(("Date", date))
    if "server" not in present:
        headers.append(("Server", SERVER_NAME))


def header_value(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    name = name.lower()
    for n, v in headers:
        if n.lower() == name:
            return v
    return None
