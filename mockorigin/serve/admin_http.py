"""The control API's own HTTP: which Host names this machine, and refusing a large body early.

twisted.web buffers a whole body before ``render`` sees it; ``BoundedChannel``
answers 413 as soon as a Content-Length over the limit is known (or a chunked
body passes it), reads and drops what the client still sends for a while (so a
client that writes its whole body first can read the answer), and closes.
"""

from __future__ import annotations

import io
import ipaddress

from twisted.web.http import RESPONSES, HTTPChannel
from twisted.web.server import Request

from mockorigin.serve.admin_json import json_bytes

MAX_BODY = 1024 * 1024
LINGER = 5.0  # seconds a refused client may go on sending (discarded) so that it can read the answer


def host_name(value: str) -> str | None:
    """The name in a ``Host`` value (``[::1]:8080`` -> ``::1``), or None if it is malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        name, bracket, rest = value[1:].partition("]")
        if not bracket:
            return None
    elif value.count(":") == 1:
        name, _, port = value.partition(":")
        rest = ":" + port
    else:
        name, rest = value, ""  # a bare IPv6 address, as earlier versions accepted
    if rest and not (rest[0] == ":" and rest[1:].isascii() and rest[1:].isdigit() or rest == ":"):
        return None
    return name


def host_key(name: str) -> str:
    """One spelling per address: ``0:0:0:0:0:0:0:1`` and ``::1`` compare equal."""
    try:
        return str(ipaddress.ip_address(name.strip("[]")))
    except ValueError:
        return name.lower()


def local_hosts(request) -> set[str]:
    """The address this connection reached: naming it is not DNS rebinding (that needs a name)."""
    try:
        host = request.channel.transport.getHost().host
    except AttributeError:  # a UNIX socket has no host
        return set()
    return {host_key(host)} if host not in ("0.0.0.0", "::") else set()


class BoundedRequest(Request):
    """Counts the body as it arrives, so that a chunked body is cut off at the limit."""

    received = 0

    def handleContentChunk(self, data: bytes) -> None:
        channel = self.channel
        if channel is None or channel.refused:
            return
        self.received += len(data)
        if self.received > MAX_BODY:
            channel.refuse_early(self)
            return
        super().handleContentChunk(data)


class BoundedChannel(HTTPChannel):
    """twisted.web buffers a whole body before ``render``; this answers a too-large one at once.

    A ``Content-Length`` over the limit is refused when the head ends, before any of
    the body is read and before an automatic ``100 Continue``; a chunked body when it
    passes the limit. The answer goes out with ``Connection: close``; then, like
    nginx's lingering close, what the client is still sending is read and dropped for
    at most ``LINGER`` seconds, so that a client that writes its whole body before
    reading (urllib, requests) reads the answer instead of a reset.
    """

    refused = False
    _linger = None

    def allHeadersReceived(self) -> None:
        if self.length is not None and self.length > MAX_BODY:
            self.refuse_early(self.requests[-1])
            return
        super().allHeadersReceived()

    def refuse_early(self, request) -> None:
        if self.refused:
            return
        self.refused = True
        if request.content is not None:  # what was kept of the body (a temporary file): let it go now
            request.content.close()
            request.content = io.BytesIO()
        status, body = self.site.resource.early_refusal(request)
        payload = b"" if self._command == b"HEAD" else json_bytes(body)
        head = (f"HTTP/1.1 {status} {RESPONSES.get(status, b'').decode('ascii')}\r\ncontent-type: application/json\r\n"
                f"cache-control: no-store\r\ncontent-length: {len(json_bytes(body))}\r\nconnection: close\r\n\r\n")
        self.transport.write(head.encode("ascii") + payload)
        half_close = getattr(self.transport, "loseWriteConnection", None)
        if half_close is None:
            self.loseConnection()
            return
        half_close()
        self._linger = self.callLater(LINGER, self.transport.abortConnection)

    def rawDataReceived(self, data: bytes) -> None:
        if not self.refused:
            super().rawDataReceived(data)

    def allContentReceived(self) -> None:
        if not self.refused:
            super().allContentReceived()

    def connectionLost(self, reason) -> None:
        if self._linger is not None and self._linger.active():
            self._linger.cancel()
        super().connectionLost(reason)
