"""One exchange as it happened on the wire: what arrived, what went out, who ended it.

A record is filled while its exchange runs, with raw clock readings (seconds
since the connection was accepted) in plain slots; the JSON-ready entry is built
only when something reads it (``entry``). Times in the entry count from the
request's own first byte, so entries on a reused connection read alike;
``connection_offset`` says where that byte fell on the connection, and
``started_at`` when it was, by the wall clock.

How an exchange ended is told as events, each with its time and the stage the
script stood at: the client's FIN (it may still read: an HTTP/1.0-style client
half-closes and waits), the client's RST, and the server's own FIN or RST with
why. ``ended.by`` is whoever ended it first. A request that arrived but was never
answered gets a record too, with ``unanswered`` saying why.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import orjson

from mockorigin.observe.facts import client_facts, last_expect, plain_facts

if TYPE_CHECKING:  # pragma: no cover
    from twisted.internet.interfaces import IReactorTime

_ENDINGS = {  # how -> (who ended the connection, with what)
    "completed": ("server", "FIN"),
    "server closed": ("server", "FIN"),
    "server reset": ("server", "RST"),
    "hang cut": ("server", "RST"),
    "client closed": ("client", "FIN"),
    "client reset": ("client", "RST"),
}
WITHHELD_WHY = "HTTP/1.0 client (RFC 9110 §15.2)"


_RARE_DEFAULTS: dict[str, object] = {
    "first_body_at": None,  # when the first byte of the body came (most requests have none)
    "last_body_at": None,
    "interims": (),  # 1xx sent: (status, when); a list once there is one
    "problems": (),  # a list once there is one
    "_entry": None,  # the JSON-ready entry, once something has read it from the ring
    "withheld": (),  # interims an HTTP/1.0 client may not get: (status, when); a list once there is one
    "body_at_continue": None,  # body bytes received when the first 100 went out
    "bytes_after_close": 0,  # bytes the client sent after the server decided to close
    "response_said_close": False,
    "websocket": None,  # frames and facts, once upgraded
    "client_fin": None,  # (when, stage, order) the client's FIN arrived
    "client_rst": None,  # (when, stage, order) the client's RST was seen
    "server_end": None,  # (FIN or RST, when, stage, why, order)
    "unanswered": None,  # why a request that arrived got no answer
    "next_request_instead_of_body": False,  # after a final answer to Expect, the next request came, not the body
    "protocol": "http/1.1",  # the ALPN name of the wire: http/1.1, h2 (over TLS) or h2c
    "tls": None,  # the connection's TLS, if any (tls.transport.OriginTLS.summary)
    "h2": None,  # an HTTP/2 stream's own facts (http2.streams)
}


class _Rare:
    """What few exchanges have: kept apart so that a record (one per hanging connection,
    ten thousand in the ring) holds one slot for all of them, not eighteen. The defaults
    are the class's, so making one costs nothing: it holds only what was set (a closing
    connection's record sets two or three)."""


for _name, _default in _RARE_DEFAULTS.items():  # all immutable: a list replaces a () when the first item comes
    setattr(_Rare, _name, _default)


def _rare_field(name: str) -> property:
    """A record's attribute kept in its ``_Rare``, which is made only when a value other than the default is set."""
    default = _RARE_DEFAULTS[name]

    def get(record: ExchangeRecord):
        rare = record._rare
        return default if rare is None else getattr(rare, name)

    def put(record: ExchangeRecord, value) -> None:
        rare = record._rare
        if rare is None:
            if value is default or (type(value) is type(default) and value == default):
                return
            rare = record._rare = _Rare()
        setattr(rare, name, value)

    return property(get, put)


class ExchangeRecord:
    """One request (or one connection that ended with no whole request)."""

    __slots__ = (
        "_clock", "_accepted_at", "id", "connection", "client", "behaviour", "request", "body_length",
        "body_sha256", "head_started_at", "head_at",
        "final_status", "final_at", "ended_how", "ended_stage", "ended_at", "ended_kept", "body_at_final", "seq", "_rare",
    )

    def __init__(self, connection_id: int, request_id: int, peer: str, accepted_at: float, clock: IReactorTime):
        """``clock``: the connection's (its ``seconds()`` is read; a bound method per record would cost 48 bytes)."""
        self._clock = clock
        self._accepted_at = accepted_at
        self.id = request_id
        self.connection = connection_id
        self.client = peer
        self.behaviour: str | None = None
        self.request = None
        self.body_length = 0
        self.body_sha256: str | None = None  # once the body is complete (see body_complete)
        self.head_started_at: float | None = None
        self.head_at: float | None = None
        self.final_status: int | None = None
        self.final_at: float | None = None
        self.ended_how: str | None = None
        self.ended_stage: str | None = None
        self.ended_at: float | None = None
        self.ended_kept = False
        self.body_at_final: int | None = None  # body bytes received when the final response's head went out
        self.seq = 0  # set by the journal
        self._rare: _Rare | None = None  # what few records have (see _RARE_DEFAULTS)

    first_body_at = _rare_field("first_body_at")
    last_body_at = _rare_field("last_body_at")
    interims = _rare_field("interims")
    problems = _rare_field("problems")
    _entry = _rare_field("_entry")
    withheld = _rare_field("withheld")
    body_at_continue = _rare_field("body_at_continue")
    bytes_after_close = _rare_field("bytes_after_close")
    response_said_close = _rare_field("response_said_close")
    websocket = _rare_field("websocket")
    client_fin = _rare_field("client_fin")
    client_rst = _rare_field("client_rst")
    server_end = _rare_field("server_end")
    unanswered = _rare_field("unanswered")
    next_request_instead_of_body = _rare_field("next_request_instead_of_body")
    protocol = _rare_field("protocol")
    tls = _rare_field("tls")
    h2 = _rare_field("h2")

    def now(self) -> float:
        """Seconds since the connection was accepted, to the microsecond."""
        return round(self._clock.seconds() - self._accepted_at, 6)

    def _elapsed(self) -> float:
        return self._clock.seconds() - self._accepted_at

    # --- what arrived ---------------------------------------------------------------

    def head_started(self, at: float | None = None) -> None:
        if self.head_started_at is None:
            self.head_started_at = self._clock.seconds() - self._accepted_at if at is None else at

    def head(self, request, behaviour: str | None) -> None:
        self.head_at = self._clock.seconds() - self._accepted_at
        self.behaviour = behaviour
        self.request = request

    def body(self, length: int) -> None:
        if length:
            now = self._elapsed()
            if self.first_body_at is None:
                self.first_body_at = now
            self.last_body_at = now
            self.body_length += length

    @property
    def body_complete(self) -> bool:
        return self.body_sha256 is not None

    def body_complete_with(self, sha256: str) -> None:
        self.body_sha256 = sha256

    # --- what went out ----------------------------------------------------------------

    def interim(self, status: int) -> None:
        rare = self._rare  # read and written directly: a 1000-connection burst of 1xx runs this for each (bench (b))
        if rare is None:
            rare = self._rare = _Rare()
        sent = (status, self._clock.seconds() - self._accepted_at)
        if rare.interims:
            rare.interims.append(sent)
        else:
            rare.interims = [sent]
        if status == 100 and rare.body_at_continue is None:
            rare.body_at_continue = self.body_length

    def interim_withheld(self, status: int) -> None:
        if not self.withheld:
            self.withheld = []
        self.withheld.append((status, self._elapsed()))  # type: ignore[union-attr]

    def final(self, status: int) -> None:
        self.final_status = status
        self.final_at = self._clock.seconds() - self._accepted_at
        self.body_at_final = self.body_length

    def problem(self, text: str) -> None:
        if not self.problems:
            self.problems = []
        self.problems.append(text)  # type: ignore[union-attr]

    # --- how it ended ---------------------------------------------------------------------

    def client_closed(self, stage: str) -> None:
        """The client's FIN arrived (it may still read)."""
        if self.client_fin is None:
            self.client_fin = (self._elapsed(), stage, self._events())

    def client_reset(self, stage: str) -> None:
        """The client's RST was seen (on a read, or on a write to a socket it had closed)."""
        if self.client_rst is None:
            self.client_rst = (self._elapsed(), stage, self._events())

    def server_ended(self, signal: str, stage: str, why: str, at: float | None = None) -> None:
        """The server sent FIN or RST (``why``: the script's close step, a limit, ...)."""
        if self.server_end is None:
            self.server_end = (signal, self._elapsed() if at is None else at, stage, why, self._events())

    def _events(self) -> int:
        """How many ending events came before this one: the order of two at the same instant."""
        return sum(event is not None for event in (self.client_fin, self.client_rst, self.server_end))

    def ended(self, how: str, stage: str, kept: bool = False) -> None:
        """``how``: completed, client closed, client reset, server closed, server reset, hang cut.

        ``kept``: the exchange completed and the connection stays open for the next request.
        """
        if self.ended_how is None:
            self.ended_how, self.ended_stage, self.ended_at, self.ended_kept = how, stage, self._clock.seconds() - self._accepted_at, kept

    def client_left_at(self) -> float | None:
        """When the client first closed or reset, if it did."""
        times = [event[0] for event in (self.client_fin, self.client_rst) if event is not None]
        return min(times) if times else None

    # --- the entry ----------------------------------------------------------------------------

    def entry(self, keep: bool = True) -> dict:
        """The journal entry (the record must be finished). ``keep=False`` builds it without
        keeping it: the JSON-lines file writes each entry once, and thousands of kept dicts
        in the ring would be walked by every full garbage collection."""
        entry = self._entry
        if entry is None:
            entry = self._build()
            entry["seq"] = self.seq
            if keep:
                self._entry = entry
        return entry

    def json_line(self) -> bytes:
        """The entry as one JSON line, newline included, as ``orjson.dumps(self.entry(keep=False))``
        gives it: made from the record itself, never from an entry kept for the ring (whoever
        read that may have changed it)."""
        if self._is_plain():  # its facts and empty lists go in as constant fragments of JSON
            entry = self._plain_entry(_PLAIN_FACTS_JSON[self._expects_continue()], _EMPTY_LIST_JSON, _EMPTY_LIST_JSON, _EMPTY_LIST_JSON, self.request.raw_headers)
        else:
            entry = self._full_entry()
        entry["seq"] = self.seq
        return orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE)

    # The commonest exchange (a request with no body, no interims, no problems, no FIN or RST
    # of either side, not upgraded) has an entry whose facts and ending follow from a few
    # fields: ``_plain_entry`` writes it down without working them out (the general
    # ``_full_entry`` cost 60k instructions, against a whole keep-alive request's 145k,
    # by callgrind). ``tests/observe/test_perf_journal_entry.py`` holds the two equal.

    def _is_plain(self) -> bool:
        return self._rare is None and self.request is not None  # no body, interims, problems, events ... (all rare)

    def _expects_continue(self) -> bool:
        return last_expect(self.request.raw_headers).strip().lower() == "100-continue"

    def _plain_entry(self, facts, interims, withheld, problems, headers) -> dict:
        """``facts``, the three empty lists and the headers: new objects for an entry that is kept or
        handed to listeners; for the file's line, constant fragments of JSON and the request's own
        list of tuples (which orjson writes as arrays, as it does lists)."""
        request = self.request
        head_started_at, final_status = self.head_started_at, self.final_status
        start = head_started_at if head_started_at is not None else (self.head_at or 0.0)
        by, signal = (None, None) if self.ended_kept else _ENDINGS.get(self.ended_how or "", (None, None))
        return {
            "id": self.id,
            "kind": "request",
            "connection": self.connection,
            "client": self.client,
            "behaviour": self.behaviour,
            "started_at": wall_clock(self._accepted_at + start),
            "connection_offset": round(start, 6),
            "request": {
                "method": request.method,
                "target": request.target,
                "version": request.version,
                "headers": headers,
                "body_length": self.body_length,
                "body_sha256": self.body_sha256,
                "body_complete": self.body_complete,
            },
            "times": {
                "head_started": None if head_started_at is None else 0.0,  # x - x is 0.0 for any time x
                "head": None if self.head_at is None else round(self.head_at - start, 6),
                "first_body_byte": None,
                "last_body_byte": None,
            },
            "interims": interims,
            "interims_withheld": withheld,
            "final": None if final_status is None else {"status": final_status, "at": None if self.final_at is None else round(self.final_at - start, 6)},
            "unanswered": None,
            "ended": {
                "how": self.ended_how,
                "by": by,
                "signal": signal,
                "stage": self.ended_stage,
                "at": None if self.ended_at is None else round(self.ended_at - start, 6),
                "client": None,
                "server": None,
            },
            "problems": problems,
            "websocket": None,
            "protocol": "http/1.1",
            "tls": None,
            "h2": None,
            "facts": facts,
        }

    def _build(self) -> dict:
        if self._is_plain():
            return self._plain_entry(plain_facts(self._expects_continue()), [], [], [], list(map(list, self.request.raw_headers)))
        return self._full_entry()

    def _full_entry(self) -> dict:
        request = self.request
        start = self.head_started_at if self.head_started_at is not None else (self.head_at or 0.0)

        def rel(seconds: float | None) -> float | None:
            return None if seconds is None else round(seconds - start, 6)

        left = self.client_left_at()
        interims = [{"status": status, "at": rel(at), "after_client_left": left is not None and at >= left} for status, at in self.interims]
        head, first_body = rel(self.head_at), rel(self.first_body_at)
        return {
            "id": self.id,
            "kind": "connection" if request is None else "request",
            "connection": self.connection,
            "client": self.client,
            "behaviour": self.behaviour,
            "started_at": wall_clock(self._accepted_at + start),
            "connection_offset": round(start, 6),
            "request": None
            if request is None
            else {
                "method": request.method,
                "target": request.target,
                "version": request.version,
                "headers": list(map(list, request.raw_headers)),
                "body_length": self.body_length,
                "body_sha256": self.body_sha256,
                "body_complete": self.body_complete,
            },
            "times": {"head_started": rel(self.head_started_at), "head": head, "first_body_byte": first_body, "last_body_byte": rel(self.last_body_at)},
            "interims": interims,
            "interims_withheld": [{"status": status, "at": rel(at), "why": WITHHELD_WHY} for status, at in self.withheld],
            "final": None if self.final_status is None else {"status": self.final_status, "at": rel(self.final_at)},
            "unanswered": self.unanswered,
            "ended": self._ending(rel),
            "problems": list(self.problems),
            "websocket": self.websocket,
            "protocol": self.protocol,
            "tls": self.tls,
            "h2": self.h2,
            "facts": client_facts(self, head, first_body, interims, left is not None and self.final_at is not None and self.final_at >= left),
        }

    def _ending(self, rel: Callable[[float | None], float | None]) -> dict:
        """Who ended the exchange first, with what, when and where; and each side's own events."""
        events = []  # (when, order, by, signal, stage, how)
        client = server = None
        if self.client_fin is not None or self.client_rst is not None:
            client = {}
            for signal, event, how in (("fin", self.client_fin, "client closed"), ("rst", self.client_rst, "client reset")):
                client[signal] = None if event is None else {"at": rel(event[0]), "stage": event[1]}
                if event is not None:
                    events.append((event[0], event[2], "client", signal.upper(), event[1], how))
        if self.server_end is not None:
            signal, at, stage, why, order = self.server_end
            server = {"signal": signal, "at": rel(at), "stage": stage, "why": why}
            server_how = self.ended_how if self.ended_how not in (None, "client closed", "client reset") else f"server {'reset' if signal == 'RST' else 'closed'}"
            events.append((at, order, "server", signal, stage, server_how))
        if self.ended_kept or not events:
            by, signal = (None, None) if self.ended_kept else _ENDINGS.get(self.ended_how or "", (None, None))
            how, stage, at = self.ended_how, self.ended_stage, self.ended_at
        else:
            at, _order, by, signal, stage, how = min(events)
        return {"how": how, "by": by, "signal": signal, "stage": stage, "at": rel(at), "client": client, "server": server}


_PLAIN_FACTS_JSON = {expect: orjson.Fragment(orjson.dumps(plain_facts(expect))) for expect in (False, True)}
_EMPTY_LIST_JSON = orjson.Fragment(b"[]")

_wall_cache: tuple[int, str] = (-1, "")


def wall_clock(seconds: float) -> str:
    """RFC 3339 in UTC to the microsecond; the part to the second is formatted once a second."""
    global _wall_cache
    whole, micros = divmod(round(seconds * 1_000_000), 1_000_000)
    if _wall_cache[0] != whole:
        _wall_cache = (whole, datetime.fromtimestamp(whole, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"))
    return f"{_wall_cache[1]}.{micros:06d}Z"
