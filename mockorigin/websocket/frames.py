"""WebSocket frames as the server writes them: exactly as a script describes them.

Our own writer, because a script may ask for frames no correct library would
send: a mask on a server frame, reserved bits, reserved opcodes, a length field
that lies.
"""

from __future__ import annotations

import struct

OPCODES = {0: "continuation", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}


def frame(
    opcode: int,
    payload: bytes = b"",
    fin: bool = True,
    rsv: tuple[bool, bool, bool] = (False, False, False),
    mask: bytes | None = None,
    length: int | None = None,
) -> bytes:
    """One frame, exactly as asked: ``length`` may lie, ``mask`` may be set on a server frame."""
    first = (0x80 if fin else 0) | (0x40 if rsv[0] else 0) | (0x20 if rsv[1] else 0) | (0x10 if rsv[2] else 0) | (opcode & 0x0F)
    declared = len(payload) if length is None else length
    mask_bit = 0x80 if mask is not None else 0
    if declared < 126:
        header = struct.pack("!BB", first, mask_bit | declared)
    elif declared < 1 << 16:
        header = struct.pack("!BBH", first, mask_bit | 126, declared)
    else:
        header = struct.pack("!BBQ", first, mask_bit | 127, declared)
    if mask is not None:
        header += mask
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + payload
