"""The Python family's clients, as the catalogue tests drive them: ``http.client`` (which the
stdlib family — urllib3, requests — is built on), ``httpx`` and the ``websockets`` library.

Each returns a plain dict of what the client saw; failures are named by exception type, not
by wording. ``http.client`` is the interesting one for interims: it skips only 100, takes any
other 1xx as the final response, and leaves the rest in the socket for the next request.
"""

from __future__ import annotations

import http.client
import select
import socket
import sys
import time
import urllib.parse

USER_AGENT = f"python-http.client/{sys.version_info.major}.{sys.version_info.minor}"


def http_client(url: str, followup: str | None = None, method: str = "GET", body: bytes | None = None,
                headers: dict | None = None, http10: bool = False, timeout: float = 2.0, expect_wait: float | None = None) -> dict:
    """One request with ``http.client`` (HTTP/1.0 if asked; ``expect_wait``: Expect done by
    hand, see ``_expect_by_hand``), then ``followup`` on the same ``HTTPConnection``: whether
    it really shared the socket is reported as ``reused``."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    if http10:
        connection._http_vsn, connection._http_vsn_str = 10, "HTTP/1.0"
    started = time.monotonic()
    seen = _exchange(connection, method, _target(url), body, headers, started, expect_wait)
    if followup is not None:
        first_socket = connection.sock
        seen["followup"] = _exchange(connection, "GET", _target(followup), None, None, started)
        seen["followup"]["reused"] = first_socket is not None and connection.sock is first_socket
    connection.close()
    return seen


def _target(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def _exchange(connection, method, target, body, headers, started, expect_wait: float | None = None) -> dict:
    seen: dict = {"status": None, "error": None, "body": b""}
    try:
        if expect_wait is None:
            connection.request(method, target, body=body, headers={"User-Agent": USER_AGENT, **(headers or {})})
        else:
            seen["body_sent"] = _expect_by_hand(connection, method, target, body or b"", headers or {}, expect_wait)
        response = connection.getresponse()
        seen.update(status=response.status, reason=response.reason, version=response.version, headers=response.getheaders())
        seen["body"] = response.read()
    except Exception as error:  # whatever http.client raised is what it did (an OverflowError, too)
        seen["error"] = "timeout" if isinstance(error, (socket.timeout, TimeoutError)) else type(error).__name__
        if isinstance(error, http.client.IncompleteRead):
            seen["body"] = error.partial
    seen["elapsed"] = time.monotonic() - started
    return seen


def _expect_by_hand(connection, method, target, body: bytes, headers: dict, wait: float) -> bool:
    """``Expect: 100-continue`` the only way ``http.client`` allows: send the head alone, wait
    up to ``wait`` for an answer; on a 100 (read and dropped here) or silence send the body,
    on anything else leave it unsent for ``getresponse`` to read. True if the body went."""
    connection.putrequest(method, target, skip_accept_encoding=True)
    for name, value in {"User-Agent": USER_AGENT, **headers, "Expect": "100-continue", "Content-Length": str(len(body))}.items():
        connection.putheader(name, value)
    connection.endheaders()
    sock = connection.sock
    if select.select([sock], [], [], wait)[0]:
        if not sock.recv(13, socket.MSG_PEEK).startswith((b"HTTP/1.1 100 ", b"HTTP/1.0 100 ")):
            return False  # a final answer: the body is not sent
        head = b""
        while not head.endswith(b"\r\n\r\n"):  # the 100's head, a byte at a time so nothing after it is taken
            byte = sock.recv(1)
            if not byte:
                return False
            head += byte
    connection.send(body)
    return True


def header(seen: dict, name: str) -> list[str]:
    """Every value of a response header ``http.client`` returned, in order."""
    return [value for key, value in seen.get("headers") or () if key.lower() == name.lower()]


def httpx_client(url: str, followup: str | None = None, method: str = "GET", body: bytes | None = None,
                 headers: dict | None = None, timeout: float = 2.0) -> dict:
    """One request with ``httpx`` (h11 underneath: it skips every 1xx), then ``followup``."""
    import httpx

    started = time.monotonic()
    seen: dict = {"status": None, "error": None, "body": b""}
    with httpx.Client(timeout=timeout) as client:
        for key, target in (("first", url), ("followup", followup)):
            if target is None:
                continue
            one: dict = {"status": None, "error": None, "body": b""}
            try:
                response = client.request(method if key == "first" else "GET", target, content=body if key == "first" else None, headers=headers if key == "first" else None)
                one.update(status=response.status_code, headers=list(response.headers.multi_items()), body=response.content)
            except httpx.HTTPError as error:
                one["error"] = type(error).__name__
            one["elapsed"] = time.monotonic() - started
            if key == "first":
                seen = one
            else:
                seen["followup"] = one
    return seen


def websocket_client(url: str, followup: str | None = None, send: tuple = (), receive: int = 1,
                     timeout: float = 2.0, subprotocols: list[str] | None = None, close: bool = True) -> dict:
    """A ``websockets`` session: send ``send``, receive up to ``receive`` messages, then close
    (1000) unless the server closed first. The close codes each way and the error type."""
    from websockets.exceptions import ConnectionClosed, InvalidHandshake
    from websockets.sync.client import connect

    seen: dict = {"open": False, "messages": [], "error": None, "close_rcvd": None, "close_sent": None, "subprotocol": None}
    started = time.monotonic()
    try:
        with connect(url, open_timeout=timeout, close_timeout=timeout, subprotocols=subprotocols) as ws:
            seen["open"] = True
            seen["subprotocol"] = ws.subprotocol
            for message in send:
                ws.send(message)
            try:
                for _ in range(receive):
                    seen["messages"].append(ws.recv(timeout=timeout))
                if close:
                    ws.close(1000, "done")
            except ConnectionClosed as closed:
                seen["error"] = type(closed).__name__
                _closes(seen, closed)
            except TimeoutError:
                seen["error"] = "timeout"
            protocol = ws.protocol
            seen["close_rcvd"] = seen["close_rcvd"] or (protocol.close_rcvd.code if protocol.close_rcvd else None)
            seen["close_sent"] = seen["close_sent"] or (protocol.close_sent.code if protocol.close_sent else None)
    except InvalidHandshake as error:
        seen["error"] = type(error).__name__
        seen["detail"] = str(error)
    except ConnectionClosed as closed:
        seen["error"] = seen["error"] or type(closed).__name__
        _closes(seen, closed)
    except (OSError, TimeoutError) as error:
        seen["error"] = seen["error"] or ("timeout" if isinstance(error, TimeoutError) else type(error).__name__)
    seen["elapsed"] = time.monotonic() - started
    return seen


def _closes(seen: dict, closed) -> None:
    seen["close_rcvd"] = closed.rcvd.code if closed.rcvd else None
    seen["close_sent"] = closed.sent.code if closed.sent else None
