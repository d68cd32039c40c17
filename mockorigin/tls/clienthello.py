"""Reading the server name from a TLS ClientHello before OpenSSL sees it.

A handshake behaviour (stall, an ALPN of its own) is chosen by the name the
client asks for (SNI, RFC 6066 §3), and must be chosen before the server
answers, so the first record is read here, in plain bytes: the ClientHello
is not encrypted (short of ECH, which no client sends to a name without an
HTTPS record). Only what is needed is parsed; anything unexpected means
"no name", and the handshake goes on as usual.
"""

from __future__ import annotations

import struct

RECORD_HEADER = 5
MAX_RECORD = 16384 + 2048  # a TLSPlaintext fragment, with room for a lenient client
_HANDSHAKE, _CLIENT_HELLO = 22, 1
_SERVER_NAME, _HOST_NAME = 0, 0


class Peek:
    """``feed`` bytes until ``done``; then ``server_name`` holds the name asked for, if any."""

    __slots__ = ("buffer", "done", "server_name")

    def __init__(self):
        self.buffer = bytearray()
        self.done = False
        self.server_name: str | None = None

    def feed(self, data: bytes) -> bool:
        """Keep ``data``; True once the first record is whole (or cannot be a ClientHello)."""
        self.buffer += data
        if len(self.buffer) < RECORD_HEADER:
            return False
        kind, _version, length = struct.unpack("!BHH", self.buffer[:RECORD_HEADER])
        if kind != _HANDSHAKE or length > MAX_RECORD:
            self.done = True
            return True
        if len(self.buffer) < RECORD_HEADER + length:
            return False
        self.server_name = server_name(bytes(self.buffer[RECORD_HEADER : RECORD_HEADER + length]))
        self.done = True
        return True


def server_name(fragment: bytes) -> str | None:
    """The host name in a ClientHello handshake message (one record's fragment), or None."""
    try:
        if fragment[0] != _CLIENT_HELLO:
            return None
        end = min(len(fragment), 4 + int.from_bytes(fragment[1:4], "big"))
        at = 4 + 2 + 32  # type and length; legacy_version; random
        at += 1 + fragment[at]  # session id
        at += 2 + int.from_bytes(fragment[at : at + 2], "big")  # cipher suites
        at += 1 + fragment[at]  # compression methods
        extensions_end = min(end, at + 2 + int.from_bytes(fragment[at : at + 2], "big"))
        at += 2
        while at + 4 <= extensions_end:
            kind, length = struct.unpack("!HH", fragment[at : at + 4])
            at += 4
            if kind == _SERVER_NAME:
                return _host_name(fragment[at : at + length])
            at += length
    except IndexError:
        return None
    return None


def _host_name(extension: bytes) -> str | None:
    at, end = 2, min(len(extension), 2 + int.from_bytes(extension[:2], "big"))
    while at + 3 <= end:
        kind, length = extension[at], int.from_bytes(extension[at + 1 : at + 3], "big")
        at += 3
        if kind == _HOST_NAME:
            name = extension[at : at + length]
            return name.decode("ascii").lower() if name.isascii() else None
        at += length
    return None
