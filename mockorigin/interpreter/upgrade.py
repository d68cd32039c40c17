"""The WebSocket opening handshake as a request asks for it (RFC 6455 §4.2.1).

Whether a request may be upgraded, and the ``Sec-WebSocket-Accept`` to answer
with (correct, ``wrong`` on purpose, or a literal): questions about the request,
answered before any frame exists, so they live with the interpreter.
"""

from __future__ import annotations

import base64
import binascii


from mockorigin.interpreter.request import Request


def check_handshake(request: Request) -> tuple[int, str, list[tuple[str, str]]] | None:
    """Why this request cannot be upgraded, as (status, reason, extra headers); None if it can."""
    tokens = {t.strip().lower() for t in (request.header("connection") or "").split(",")}
    if request.method != "GET" or request.version != "1.1":
        return 400, "a WebSocket handshake is a GET over HTTP/1.1", []
    if (request.header("upgrade") or "").strip().lower() != "websocket":
        return 400, "Upgrade: websocket is missing", []
    if "upgrade" not in tokens:
        return 400, "Connection: upgrade is missing", []
    if request.has_body:
        return 400, "a WebSocket handshake has no body", []
    if (request.header("sec-websocket-version") or "").strip() != "13":
        return 426, "only Sec-WebSocket-Version 13 is supported", [("Sec-WebSocket-Version", "13")]
    key = (request.header("sec-websocket-key") or "").strip()
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            raise ValueError
    except (ValueError, binascii.Error):
        return 400, "Sec-WebSocket-Key must be 16 bytes in base64", []
    return None


def accept_token(key: str, how: str | None) -> str:
    """The Sec-WebSocket-Accept for ``key``: correct, ``wrong`` (well-formed, for another key), or a literal."""
    from wsproto.utilities import generate_accept_token  # wsproto is imported by the first upgrade, not before listening (bench (d))

    if how is None or how == "correct":
        return generate_accept_token(key.encode()).decode()
    if how == "wrong":
        return generate_accept_token(key[::-1].encode()).decode()
    return how
