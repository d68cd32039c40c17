"""Finding the request heads in bytes that were never answered.

A client may pipeline requests behind one whose script it abandons, or send a
request on a connection the server has already closed its side of. Those heads
arrived, so each gets a journal entry; this reads them out of the bytes left
over. A head that does not parse is still reported, by its first line.
"""

from __future__ import annotations

import re

from mockorigin.http1.head import HeadError, parse
from mockorigin.interpreter.request import Request

MAX_HEADS = 16  # entries for one connection's leftovers; the rest are not journaled one by one
_BLANK_LINE = re.compile(rb"\n\r?\n")


def requests_in(data: bytes) -> list[Request]:
    """The whole request heads in ``data``, in order (bodies with a Content-Length skipped)."""
    found: list[Request] = []
    position = 0
    while len(found) < MAX_HEADS:
        while data[position : position + 2] == b"\r\n" or data[position : position + 1] == b"\n":
            position += 2 if data[position : position + 1] == b"\r" else 1
        end = _BLANK_LINE.search(data, position)
        if end is None:
            break
        section = data[position : end.start()].rstrip(b"\r")
        position = end.end()
        try:
            request = parse(section)
        except HeadError:
            first_line = section.split(b"\n", 1)[0].rstrip(b"\r").decode("latin-1")[:200]
            request = Request("?", first_line, "", [])
        found.append(request)
        if request.chunked:
            break  # where a chunked body ends is not worth parsing here
        position += request.content_length
    return found
