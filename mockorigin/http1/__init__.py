"""HTTP/1.1 on the wire: requests read from bytes, the interpreter's commands written as bytes.

Theory of operation. ``head.py`` parses a request head (h11's grammar plus the
RFC 9112 rules h11 lets through) into the interpreter's ``Request``;
``reader.py`` collects heads and frames bodies, with the size limits judged on
the raw bytes. ``connection.py`` is the Twisted protocol: one connection's
lifecycle, reading and timers; ``running.py`` runs an exchange by carrying out
the interpreter's commands, which ``response.py`` renders as HTTP/1.1 bytes
(``wire.py`` holds the syntax, ``fixed.py`` the responses formatted once), and
``ending.py`` ends connections: lingering closes, resets, refusals, timeouts.
``factory.py`` is what all connections share. Nothing here decides *what* to
send: that is the script's; this package decides only *how* it looks on an
HTTP/1.1 connection, and whether the connection may carry another request.
"""

from mockorigin.http1.connection import OriginProtocol
from mockorigin.http1.factory import OriginFactory

__all__ = ["OriginFactory", "OriginProtocol"]
