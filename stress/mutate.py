"""Seeded mutations of HTTP requests, for the fuzzers (H7 in-process, H8 on the wire).

Every choice comes from the ``random.Random`` passed in, so a run is replayed by its seed.
"""

from __future__ import annotations

import random

DICTIONARY = [
    b"\r\n", b"\n", b"\r", b"\r\n\r\n", b" ", b"\t", b"\x00", b"\x0b", b":", b",", b";", b"\xff", b"\xe9",
    b"Host: a\r\n", b"Host:", b"Content-Length: ", b"Content-Length: 5\r\n", b"Transfer-Encoding: chunked\r\n",
    b"Transfer-Encoding:", b"chunked", b"identity", b"Connection: close\r\n", b"Connection: keep-alive\r\n",
    b"Expect: 100-continue\r\n", b"Upgrade: websocket\r\n", b"0\r\n\r\n", b"3\r\nabc\r\n", b"ffffffff", b"0x", b"-1",
    b"99999999999999999999", b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"GET ", b"POST ", b"HEAD ", b"/", b"?", b"%", b"%00",
    b"*", b"[", b"]", b"@", b"#", b"${request.json}", b"\xc2\x85", b"\xe2\x80\x93",
]


def mutate(rng: random.Random, data: bytes, seeds: list[bytes], rounds: int | None = None) -> bytes:
    """``data`` after 1-6 flips, byte or token inserts, deletions, duplications and splices."""
    out = bytearray(data)
    for _ in range(rounds if rounds is not None else rng.randint(1, 6)):
        where = rng.randint(0, len(out))
        kind = rng.random()
        if kind < 0.2 and out:
            out[min(where, len(out) - 1)] ^= 1 << rng.randrange(8)
        elif kind < 0.35:
            out[where:where] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
        elif kind < 0.6:
            out[where:where] = rng.choice(DICTIONARY)
        elif kind < 0.75:
            del out[where : where + rng.randint(1, 16)]
        elif kind < 0.85 and out:
            start = rng.randrange(len(out))
            out[where:where] = out[start : start + rng.randint(1, 32)]
        else:
            other = rng.choice(seeds)
            start = rng.randint(0, len(other))
            out[where:] = other[start:]
    return bytes(out)


def cuts(rng: random.Random, length: int) -> list[int]:
    """Random piece lengths: mostly whole, sometimes a few pieces, sometimes byte by byte."""
    kind = rng.random()
    if kind < 0.4 or length < 2:
        return []
    if kind < 0.5:
        return [1] * length
    return [rng.randint(1, max(1, length // 2)) for _ in range(rng.randint(1, 8))]
