"""An HTTP/2 stream's HEADERS as the interpreter's ``Request``, and the script chosen for it.

The pseudo-header fields stay in ``raw_headers``, first and as sent, because that
is what the client put on the wire (the journal and ``${request.json}`` show
them); ``:authority`` plays the part of ``Host``. A body is known to come when the
HEADERS frame did not end the stream: its length is ``content-length`` if the
client sent one, else unknown (``chunked`` stands for "length unknown", as for
HTTP/1.1), which is all ``has_body`` reads.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from mockorigin.interpreter.bodymatch import EmptyBody
from mockorigin.interpreter.choose import choose
from mockorigin.interpreter.request import Request


def request_from(fields: list[tuple[bytes, bytes]], ended: bool) -> Request:
    raw = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in fields]
    pseudo = {name: value for name, value in raw if name.startswith(":")}
    target = pseudo.get(":path", "")
    request = Request(pseudo.get(":method", ""), target, "2", raw)
    path, _, query = target.partition("?")
    request.path = path or "/"
    if query:
        request.query = parse_qs(query, keep_blank_values=True)
    if not ended:
        length = request.header("content-length")
        if length is not None and length.strip().isdigit():
            request.content_length = int(length)
        request.chunked = request.content_length == 0  # a body of unknown length (or one that says 0 and may lie)
    return request


def choose_script(state, request: Request, record) -> tuple[object, object, tuple]:
    """(behaviour or None, params, steps) for ``request``, problems noted on ``record``: the
    choice the HTTP/1.1 wire makes. A behaviour that tests the body sees none here: an
    HTTP/2 stream is routed on its HEADERS."""
    routed = state.router.route(request)
    if routed.needs_body:
        routed = state.router.route(request, EmptyBody())
    choice = choose(state, request, routed)
    for problem in choice.problems:
        record.problem(problem)
    return choice.behaviour, choice.params, choice.steps
