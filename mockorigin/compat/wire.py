"""Reading responses byte-exactly: a sans-IO reader that records every interim,
the final head, each read that carried body bytes, and how the message ended.

No HTTP library: a library would skip, merge or reject exactly what a compatibility
run has to see (a 1xx to an HTTP/1.0 request, a 101 nobody asked for, a body cut
short). Times are whatever the caller passes in (seconds since the request left).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_HEAD = 64 * 1024
RAW_KEPT = 16 * 1024


@dataclass
class Head:
    status: int
    reason: str
    version: str
    headers: list[tuple[str, str]]
    at: float

    def header(self, name: str) -> str | None:
        """The last value of ``name`` (case-insensitive), or None."""
        for key, value in reversed(self.headers):
            if key.lower() == name.lower():
                return value
        return None

    def as_json(self) -> dict:
        return {"status": self.status, "reason": self.reason, "version": self.version, "headers": [list(h) for h in self.headers], "at": round(self.at, 4)}


@dataclass
class ResponseReader:
    """Feed it bytes with their arrival time; it keeps what crossed the wire, in order."""

    method: str = "GET"
    interims: list[Head] = field(default_factory=list)
    final: Head | None = None
    framing: str | None = None  # length | chunked | close | none | tunnel
    expected_length: int | None = None
    body_bytes: int = 0
    body_reads: list[tuple[float, int]] = field(default_factory=list)  # (at, bytes) per read that carried body
    complete_at: float | None = None
    error: str | None = None  # the bytes could not be read as HTTP
    tunnel_bytes: int = 0  # after a 101
    raw: bytearray = field(default_factory=bytearray)
    _buffer: bytearray = field(default_factory=bytearray)
    _chunk_left: int | None = None  # chunked: bytes left in this chunk; None = a size line is next
    _chunk_state: str = "size"  # size | data | data-crlf | trailers

    @property
    def done(self) -> bool:
        return self.complete_at is not None or self.error is not None

    def feed(self, data: bytes, at: float) -> None:
        if len(self.raw) < RAW_KEPT:
            self.raw += data[: RAW_KEPT - len(self.raw)]
        if self.done and self.framing != "tunnel":
            return
        self._buffer += data
        before = self.body_bytes
        self._advance(at)
        if self.body_bytes > before:
            self.body_reads.append((at, self.body_bytes - before))

    def ended(self, at: float) -> None:
        """The connection ended (FIN or RST): a close-delimited body is complete with it."""
        if self.final is not None and self.framing == "close" and self.complete_at is None:
            self.complete_at = at

    def _advance(self, at: float) -> None:
        while self._buffer and not (self.done and self.framing != "tunnel"):
            if self.final is None:
                if not self._read_head(at):
                    return
            elif self.framing == "tunnel":
                self.tunnel_bytes += len(self._buffer)
                self._buffer.clear()
            elif self.framing in ("length", "close"):
                take = len(self._buffer) if self.expected_length is None else min(len(self._buffer), self.expected_length - self.body_bytes)
                self.body_bytes += take
                del self._buffer[:take]
                if self.expected_length is not None and self.body_bytes >= self.expected_length:
                    self.complete_at = at
            elif self.framing == "chunked":
                if not self._read_chunked(at):
                    return

    def _read_head(self, at: float) -> bool:
        while self._buffer.startswith(b"\r\n"):  # tolerated before a status line
            del self._buffer[:2]
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > MAX_HEAD:
                self.error = "response head over 64 KiB"
            elif bytes(self._buffer[:5]) != b"HTTP/"[: min(5, len(self._buffer))]:
                self.error = f"not an HTTP response: {bytes(self._buffer[:40])!r}"
            return False
        head = parse_head(bytes(self._buffer[:end]), at)
        del self._buffer[: end + 4]
        if head is None:
            self.error = "malformed response head"
            return False
        if 100 <= head.status < 200 and head.status != 101:
            self.interims.append(head)
            return True
        self.final = head
        self._choose_framing(head, at)
        return True

    def _choose_framing(self, head: Head, at: float) -> None:
        encoding = (head.header("transfer-encoding") or "").lower()
        length = head.header("content-length")
        if head.status == 101:
            self.framing = "tunnel"
            self.complete_at = at
        elif self.method == "HEAD" or head.status in (204, 304):
            self.framing, self.complete_at = "none", at
        elif "chunked" in encoding:
            self.framing = "chunked"
        elif length is not None and length.strip().isdigit():
            self.framing, self.expected_length = "length", int(length)
            if self.expected_length == 0:
                self.complete_at = at
        else:
            self.framing = "close"

    def _read_chunked(self, at: float) -> bool:
        buffer = self._buffer
        if self._chunk_state == "size":
            end = buffer.find(b"\r\n")
            if end < 0:
                return False
            size_text = bytes(buffer[:end]).split(b";")[0].strip()
            del buffer[: end + 2]
            try:
                self._chunk_left = int(size_text, 16)
            except ValueError:
                self.error = f"bad chunk size {size_text!r}"
                return False
            self._chunk_state = "data" if self._chunk_left else "trailers"
        elif self._chunk_state == "data":
            take = min(len(buffer), self._chunk_left or 0)
            self.body_bytes += take
            self._chunk_left = (self._chunk_left or 0) - take
            del buffer[:take]
            if self._chunk_left == 0:
                self._chunk_state = "data-crlf"
        elif self._chunk_state == "data-crlf":
            if len(buffer) < 2:
                return False
            del buffer[:2]
            self._chunk_state = "size"
        else:  # trailers, ending with an empty line
            end = buffer.find(b"\r\n")
            if end < 0:
                return False
            del buffer[: end + 2]
            if end == 0:
                self.complete_at = at
        return True

    def as_json(self) -> dict:
        return {
            "interims": [h.as_json() for h in self.interims],
            "final": None if self.final is None else self.final.as_json(),
            "framing": self.framing,
            "expected_length": self.expected_length,
            "body_bytes": self.body_bytes,
            "body_reads": [[round(a, 4), n] for a, n in self.body_reads],
            "complete_at": None if self.complete_at is None else round(self.complete_at, 4),
            "error": self.error,
            "tunnel_bytes": self.tunnel_bytes,
            "raw_head": bytes(self.raw[:2048]).decode("latin-1"),
        }


def parse_head(data: bytes, at: float) -> Head | None:
    lines = data.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit() or len(parts[1]) != 3:
        return None
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            return None
        headers.append((name.strip(), value.strip()))
    return Head(int(parts[1]), parts[2] if len(parts) > 2 else "", parts[0][5:], headers, at)
