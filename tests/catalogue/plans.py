"""Short ways to write a plan for each family, and the checks most plans share."""

from __future__ import annotations

import functools

from .clients import Plan
from .pyclients import http_client, httpx_client, websocket_client


def curl(behaviour: str, path: str, check, *args: str, followup: str | None = None, entries: int = 1, timeout: float = 20) -> Plan:
    return Plan(behaviour, "curl", path, check, {"args": list(args), "timeout": timeout}, followup, entries)


def python(behaviour: str, path: str, check, followup: str | None = None, entries: int = 1, **options) -> Plan:
    """``http.client`` (``http10=True`` speaks HTTP/1.0)."""
    return Plan(behaviour, "python", path, check, functools.partial(_http_client, **options), followup, entries)


def httpx(behaviour: str, path: str, check, followup: str | None = None, entries: int = 1, **options) -> Plan:
    return Plan(behaviour, "python", path, check, functools.partial(_httpx_client, **options), followup, entries)


def websockets(behaviour: str, path: str, check, entries: int = 1, **options) -> Plan:
    return Plan(behaviour, "python", path, check, functools.partial(_websocket_client, **options), None, entries)


def node(behaviour: str, path: str, check, followup: str | None = None, entries: int = 1, **fields) -> Plan:
    """Node's ``http`` (``client="fetch"`` for fetch, ``client="ws"`` for its WebSocket)."""
    if fields.get("client") == "ws":
        fields.setdefault("scheme", "ws")
    return Plan(behaviour, "node", path, check, fields, followup, entries)


def go(behaviour: str, path: str, check, followup: str | None = None, entries: int = 1, **fields) -> Plan:
    return Plan(behaviour, "go", path, check, fields, followup, entries)


def _http_client(url, followup, **options):
    return http_client(url, followup, **options)


def _httpx_client(url, followup, **options):
    return httpx_client(url, followup, **options)


def _websocket_client(url, followup, **options):
    return websocket_client(url.replace("http://", "ws://", 1), **options)


# --- shared checks ---------------------------------------------------------------------


def interims(entry) -> list[int]:
    """The statuses of the interims the journal says went out."""
    return [i.status for i in entry.interims]


def withheld(entry) -> list[int]:
    return [i.status for i in entry.interims_withheld]


def go_interims(seen: dict) -> list[int]:
    return [i["status"] for i in seen["interims"]]


def node_interims(seen: dict) -> list[int]:
    return [i["status"] for i in seen["interims"]]


def gaps(times: list[float]) -> list[float]:
    return [round(b - a, 3) for a, b in zip(times, times[1:], strict=False)]


def completed_and_kept(entry) -> bool:
    """The exchange completed and the connection stayed open for the next request."""
    return entry.ended.how == "completed" and entry.ended.by is None


def server_ended(entry, signal: str) -> bool:
    return entry.ended.server is not None and entry.ended.server.signal == signal
