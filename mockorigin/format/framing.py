"""Warnings for a body framed otherwise than its head announced (``check`` shows them).

``head: 200`` then ``body: {chunk: true}`` puts chunk sizes on the wire that the client,
told nothing of chunked coding, reads as body bytes. That may be the misbehaviour a test
wants, so it loads and is sent as written; ``check`` names it a warning. The script is
read in order: a ``head`` announces chunked coding (``Transfer-Encoding: chunked``), a
length or nothing; what follows is checked against it until a whole ``respond``. After a
``raw`` or an ``upgrade``, or a head whose framing a placeholder decides, nothing is known.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from mockorigin.format import model

_UNKNOWN = "unknown"


def framing_warnings(steps: Iterable[tuple[tuple, model.Step]], line_of: Callable[[tuple], int]) -> list[tuple[tuple, str]]:
    """(path, message) for each ``body`` or ``end`` whose framing its ``head`` did not announce."""
    warnings: list[tuple[tuple, str]] = []
    announced: str | None = None  # chunked | length | none | unknown; None: no head yet
    head_path: tuple = ()
    for path, step in steps:
        if isinstance(step, model.Head):
            announced, head_path = _announced(step), path
        elif isinstance(step, model.Respond):
            announced = None
        elif isinstance(step, (model.Raw, model.Upgrade)):
            announced = _UNKNOWN
        elif announced in (None, _UNKNOWN):
            continue
        elif isinstance(step, model.Body):
            head = f"the `head` at line {line_of(head_path)}"
            if step.chunk and announced != "chunked":
                said = "a Content-Length" if announced == "length" else "no framing at all"
                warnings.append((path, f"this body is framed as a chunk, but {head} did not announce `Transfer-Encoding: chunked` (it gave {said}): "
                                       "the client reads the chunk size and CRLFs as body bytes (sent as written: a misbehaviour, if you meant it)"))
            elif not step.chunk and announced == "chunked":
                warnings.append((path, f"{head} announced `Transfer-Encoding: chunked`, but this body is not framed as a chunk (`chunk: true`): "
                                       "the client reads its first bytes as a chunk size (sent as written: a misbehaviour, if you meant it)"))
        elif isinstance(step, model.End) and announced != "chunked":
            warnings.append((path, f"`end` sends a last chunk (0 CRLF CRLF), but the `head` at line {line_of(head_path)} did not announce "
                                   "`Transfer-Encoding: chunked`: the client reads it as body bytes (sent as written: a misbehaviour, if you meant it)"))
    return warnings


def _announced(head: model.Head) -> str:
    """How the head frames its body: chunked, length, none, or unknown (a placeholder decides)."""
    framing = [h for h in head.headers if h.name.lower() in ("transfer-encoding", "content-length")]
    if any(not h.value.is_literal for h in framing):
        return _UNKNOWN
    codings = [part.strip().lower() for h in framing if h.name.lower() == "transfer-encoding" for part in "".join(h.value.parts).split(",")]  # type: ignore[arg-type]
    if codings and codings[-1] == "chunked":
        return "chunked"
    if any(h.name.lower() == "content-length" for h in framing):
        return "length"
    return "none"
