"""Reading a chunked request body (RFC 9112 §7.1): bytes in, body pieces out.

h11 framed chunked bodies until a stress run showed that a long chunk line got a
different answer depending on how TCP split it: h11 only limits a line while it
is incomplete, so 18 KiB arriving whole was read and arriving in pieces was
refused. This reader judges every line's length at the byte that crosses the
limit, whole or split, and otherwise reads what h11 reads: a size of 1 to 20 hex
digits, anything after a ``;`` as extensions (ignored), trailing spaces or tabs,
CRLF; each chunk's data followed by exactly CRLF; the last chunk's trailer fields
up to an empty line. Trailer fields follow the head's grammar (no obs-fold).
"""

from __future__ import annotations

import re

_SIZE_LINE = re.compile(rb"([0-9A-Fa-f]{1,20})(?:;[^\r\n]*)?[ \t]*")
_FIELD = re.compile(rb"([-!#$%&'*+.^_`|~0-9a-zA-Z]+):[ \t]*([^\x00\n\r\x0b\x0c]*?)[ \t]*")


class ChunkError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class ChunkedBody:
    """``feed(data)`` -> (body pieces, trailers or None while the body goes on, leftover bytes,
    the ``ChunkError`` that ended it or None). Pieces read before an error are given too, so
    the events are the same however the bytes were split."""

    __slots__ = ("_line", "_remaining", "_state", "_trailers", "_trailer_size", "_max_line", "_max_trailers")

    def __init__(self, max_line: int, max_trailers: int):
        self._line = bytearray()  # the size line, chunk end or trailer section read so far
        self._remaining = 0  # data bytes left in the current chunk
        self._state = "size"  # size | data | data-end | trailers | done
        self._trailers: list[tuple[str, str]] = []
        self._trailer_size = 0
        self._max_line = max_line
        self._max_trailers = max_trailers

    def feed(self, data: bytes) -> tuple[list[bytes], tuple[tuple[str, str], ...] | None, bytes, ChunkError | None]:
        pieces: list[bytes] = []
        try:
            trailers, leftover = self._feed(data, pieces)
        except ChunkError as error:
            return pieces, None, b"", error
        return pieces, trailers, leftover, None

    def _feed(self, data: bytes, pieces: list[bytes]) -> tuple[tuple[tuple[str, str], ...] | None, bytes]:
        position, end = 0, len(data)
        while position < end:
            state = self._state
            if state == "data":
                take = min(self._remaining, end - position)
                pieces.append(data[position : position + take])
                position += take
                self._remaining -= take
                if not self._remaining:
                    self._state = "data-end"
            elif state == "data-end":
                position = self._chunk_end(data, position)
            elif state == "size":
                position = self._size_line(data, position)
            else:  # trailers
                position = self._trailer_lines(data, position)
                if self._state == "done":
                    return tuple(self._trailers), data[position:]
        return None, b""

    def _take_line(self, data: bytes, position: int, limit: int, what: str) -> tuple[bytes | None, int]:
        """The next line without its LF (and CR), or None and the end if it has not ended yet;
        ChunkError once it is longer than ``limit``, at the byte that makes it so."""
        newline = data.find(b"\n", position)
        stop = len(data) if newline < 0 else newline
        self._line += data[position:stop]
        length = len(self._line) - (1 if self._line.endswith(b"\r") else 0)  # a CR at the end is the line's own (or not known yet)
        if length > limit:
            raise ChunkError(f"{what} too long")  # one reason per part: the byte that crossed which limit first may differ with the split
        if newline < 0:
            return None, len(data)
        line = bytes(self._line)
        self._line.clear()
        return line, newline + 1

    def _size_line(self, data: bytes, position: int) -> int:
        line, position = self._take_line(data, position, self._max_line, "chunk line")
        if line is None:
            return position
        if not line.endswith(b"\r"):
            raise ChunkError("illegal chunk header")
        match = _SIZE_LINE.fullmatch(line[:-1])
        if match is None:
            raise ChunkError("illegal chunk header")
        self._remaining = int(match.group(1), 16)
        self._state = "data" if self._remaining else "trailers"
        return position

    def _chunk_end(self, data: bytes, position: int) -> int:
        """Exactly CRLF after each chunk's data."""
        needed = 2 - len(self._line)
        got = data[position : position + needed]
        self._line += got
        if bytes(self._line) != b"\r\n"[: len(self._line)]:
            raise ChunkError("malformed chunk footer")
        if len(self._line) == 2:
            self._line.clear()
            self._state = "size"
        return position + len(got)

    def _trailer_lines(self, data: bytes, position: int) -> int:
        while position < len(data):
            start = position
            line, position = self._take_line(data, position, self._max_line, "trailers")
            self._trailer_size += position - start
            if self._trailer_size > self._max_trailers:
                raise ChunkError("trailers too long")
            if line is None:
                return position
            line = line[:-1] if line.endswith(b"\r") else line
            if not line:
                self._state = "done"
                return position
            match = _FIELD.fullmatch(line)
            if match is None or line[:1] in (b" ", b"\t"):
                raise ChunkError("illegal trailer field")
            name, value = match.groups()
            self._trailers.append((name.decode("latin-1"), value.decode("utf-8", "backslashreplace")))
        return position
