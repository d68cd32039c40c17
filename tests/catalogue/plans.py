"""Short ways to write a plan for each family, and the checks most plans share."""

from __future__ import annotations

import functools

from .clients import Plan
from .pyclients import http_client, httpx_client, websocket_client


def curl(behaviour: str, path: str, check, *args: str, followup: str | None = None, entries: int = 1, timeout: float = 20, stdin: bytes = b"") -> Plan:
    return Plan(behaviour, "curl", path, check, {"args": list(args), "timeout": timeout, "stdin": stdin}, followup, entries)


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


def to_http10(entry, statuses: list[int], version: str):
    assert entry.request.version == version and interims(entry) == statuses and entry.interims_withheld == []
    assert entry.final.status == 200


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


# --- WebSocket ---------------------------------------------------------------------------

WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 §1.3's example: its accept value is below
WS_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
WS_HEADERS = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": WS_KEY, "Sec-WebSocket-Version": "13"}


def curl_ws(behaviour: str, path: str, check, wait: float = 1.0, entries: int = 1) -> Plan:
    """curl 7.88 (built without ws://) sends the handshake as plain HTTP and prints whatever
    follows the 101 as the body, until --max-time."""
    headers = [arg for name, value in WS_HEADERS.items() for arg in ("-H", f"{name}: {value}")]
    return curl(behaviour, path, check, *headers, "--max-time", str(wait), entries=entries)


def go_ws(behaviour: str, path: str, check, send: bytes = b"", wait_ms: int = 500, entries: int = 1) -> Plan:
    """Go's net/http does the handshake (it hands over the connection after a 101), then the
    driver writes ``send`` and reads the raw bytes for ``wait_ms``."""
    return go(behaviour, path, check, entries=entries, headers=dict(WS_HEADERS), upgrade=wait_ms, send=send.hex())


def masked(opcode: int, payload: bytes, key: bytes = b"\x11\x22\x33\x44") -> bytes:
    """A client frame (FIN set, masked), for the Go driver to send."""
    assert len(payload) < 126
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def frame(opcode: int, payload: bytes, fin: bool = True, rsv: int = 0) -> bytes:
    """A server frame as it must appear on the wire (unmasked, minimal length)."""
    assert len(payload) < 126
    return bytes([(0x80 if fin else 0) | rsv << 4 | opcode, len(payload)]) + payload


def ws_frames(entry, direction: str) -> list[str]:
    """The opcodes of the frames the journal saw going ``in`` or ``out``."""
    return [f.opcode for f in entry.websocket.frames if f.dir == direction]
