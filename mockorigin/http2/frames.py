"""HTTP/2 frames the h2 library would refuse to send, written as a script describes them.

A HEADERS block is encoded with HPACK literals that are never indexed (RFC 7541
§6.2.3), naming fields only by the static table: the connection's compression
state (its dynamic table, which the h2 library keeps for every other frame) is
the same after such a block as before it, so the connection stays usable.
These frames bypass the library's bookkeeping too: a crafted DATA frame is not
counted against the flow-control window the library tracks.
"""

from __future__ import annotations

from hpack import Encoder, NeverIndexedHeaderTuple
from hyperframe.frame import DataFrame, GoAwayFrame, HeadersFrame, RstStreamFrame

ERROR_NAMES = {
    0: "NO_ERROR", 1: "PROTOCOL_ERROR", 2: "INTERNAL_ERROR", 3: "FLOW_CONTROL_ERROR", 4: "SETTINGS_TIMEOUT", 5: "STREAM_CLOSED",
    6: "FRAME_SIZE_ERROR", 7: "REFUSED_STREAM", 8: "CANCEL", 9: "COMPRESSION_ERROR", 10: "CONNECT_ERROR", 11: "ENHANCE_YOUR_CALM",
    12: "INADEQUATE_SECURITY", 13: "HTTP_1_1_REQUIRED",
}  # RFC 9113 §7
MAX_FRAME = 16384  # the smallest SETTINGS_MAX_FRAME_SIZE a peer may have: a crafted frame fits any


def error_name(code: int) -> str:
    return ERROR_NAMES.get(code, f"0x{code:x}")


def headers(stream_id: int, status: int, fields: list[tuple[str, str]], end_stream: bool) -> bytes:
    """A HEADERS frame with ``:status`` and ``fields`` exactly as given (names too: upper case stays)."""
    block = [NeverIndexedHeaderTuple(b":status", str(status).encode())]
    block += [NeverIndexedHeaderTuple(name.encode("latin-1"), value.encode("latin-1", "replace")) for name, value in fields]
    frame = HeadersFrame(stream_id, Encoder().encode(block))
    frame.flags.add("END_HEADERS")
    if end_stream:
        frame.flags.add("END_STREAM")
    return frame.serialize()


def data(stream_id: int, payload: bytes, end_stream: bool) -> bytes:
    """DATA frames carrying ``payload`` (an empty one too), END_STREAM on the last if asked."""
    pieces = [payload[i : i + MAX_FRAME] for i in range(0, len(payload), MAX_FRAME)] or [b""]
    out = bytearray()
    for index, piece in enumerate(pieces):
        frame = DataFrame(stream_id, piece)
        if end_stream and index == len(pieces) - 1:
            frame.flags.add("END_STREAM")
        out += frame.serialize()
    return bytes(out)


def rst_stream(stream_id: int, code: int) -> bytes:
    return RstStreamFrame(stream_id, error_code=code).serialize()


def goaway(last_stream_id: int, code: int, debug: bytes = b"") -> bytes:
    return GoAwayFrame(0, last_stream_id=last_stream_id, error_code=code, additional_data=debug).serialize()
