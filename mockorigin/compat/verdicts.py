"""proxy-check's judges: what left the origin against what reached the client, classified.

Each judge reads one case's observations (our client's ``ClientRecord``, the origin's
journal entries for the case) and says what the proxy did, in a proxy author's words,
plus the RFC requirements the observations decide. Times on the two ends come from
different clocks (client: since the request left; origin: since the proxy connected),
so comparisons use intervals on one end against intervals on the other.
"""

from __future__ import annotations

from collections import Counter

from mockorigin.compat.observe import (
    Judgement, first_origin, header, origin_interims, origin_requests, origin_seconds_after_head, statuses,
)

FORWARD_1XX = ("RFC 9110 §15.2", "a proxy MUST forward 1xx responses (unless it asked for them itself)")
NO_1XX_TO_10 = ("RFC 9110 §15.2", "a server MUST NOT send a 1xx response to an HTTP/1.0 client")
NO_UNASKED_SWITCH = ("RFC 9110 §7.8", "a server MUST NOT switch to a protocol the client did not ask for")
HOP_BY_HOP = ("RFC 9110 §7.6.1", "an intermediary MUST remove the fields named in Connection before forwarding")
VIA = ("RFC 9110 §7.6.3", "a proxy or gateway MUST send Via in each request it forwards")
INCOMPLETE = ("RFC 9112 §8", "a client (the proxy, upstream) MUST record an incomplete response as incomplete: not pass it on as complete")


def reached_client(record) -> str:
    """What the client got, in one line: ``[102×3] 200 @0.9s``, ``200 then EOF (0/100 body bytes) @3.0s``."""
    reader = record.reader
    if record.connect_error:
        return f"could not connect: {record.connect_error}"
    parts = [statuses([h.status for h in reader.interims])] if reader.interims else []
    final = reader.final
    if final is not None:
        parts.append(f"{final.status} @{final.at:.1f}s")
        if final.status == 101:
            if record.ws_echo_ok is not None:
                parts.append("echo ok" if record.ws_echo_ok else "no echo")
        elif reader.complete_at is None:
            total = reader.expected_length
            parts.append(f"then {record.ending()} ({reader.body_bytes}/{'?' if total is None else total} body bytes) @{record.ended_at or 0:.1f}s")
    elif reader.error:
        parts.append(f"unreadable: {reader.error}")
    else:
        parts.append(f"no final response; {record.ending()} @{record.ended_at or 0:.1f}s")
    return " ".join(p for p in parts if p)


def judge(case, record, view, timing) -> Judgement:
    judgement = Judgement()
    JUDGES[case.judge](case, record, view, timing, judgement)
    _common(case, record, view, judgement)
    return judgement


def _common(case, record, view, j: Judgement) -> None:
    requests = origin_requests(view)
    if len(requests) > 1:
        j.say("retries", f"retried upstream: the origin saw {len(requests)} requests")
    if not requests and not view.open_requests and not record.connect_error:
        j.say("upstream", "never reached the origin")
    if view.open_requests:
        j.say("upstream", "the proxy still held the upstream request open when the client was done")


def _interim_delivery(record, entry) -> str | None:
    """live / held until the final response, from the gap between the first interim and the final on each end."""
    reader = record.reader
    sent = origin_interims(entry)
    final = (entry or {}).get("final")
    if not reader.interims or not sent or final is None or reader.final is None:
        return None
    origin_gap = final["at"] - sent[0]["at"]
    client_gap = reader.final.at - reader.interims[0].at
    if origin_gap < 0.15:
        return None  # too close together to tell
    if client_gap >= origin_gap * 0.6:
        return "relayed live"
    if client_gap < max(0.05, origin_gap * 0.3):
        return "held until the final response"
    return f"delayed ({client_gap:.1f} s before the final instead of {origin_gap:.1f} s)"


def _interims(case, record, view, timing, j: Judgement) -> None:
    entry = first_origin(view)
    sent = [i["status"] for i in origin_interims(entry)]
    got = [h.status for h in record.reader.interims]
    final = record.reader.final
    origin_final = (entry or {}).get("final")
    if not sent:
        j.say("interims", "the origin sent none (it never got the request, or answered it otherwise)")
        return
    missing = Counter(sent) - Counter(got)
    delivery = _interim_delivery(record, entry)
    if not missing:
        j.say("interims", f"{statuses(got)} {delivery or 'relayed'}")
    elif got:
        j.say("interims", f"{sum(missing.values())} of {len(sent)} dropped: {statuses(sent)} sent, {statuses(got)} relayed")
    else:
        j.say("interims", f"dropped: {statuses(sent)} sent, none relayed")
    if final is not None and origin_final is not None and final.status != origin_final["status"]:
        j.say("final", f"turned into {final.status} (the origin sent {origin_final['status']})")
    if record.reader.interims and any(h.header("content-length") or (h.header("connection") or "").lower() == "close" for h in record.reader.interims):
        j.say("interims", "an interim carried Content-Length or Connection: close (treated as a final response?)")
    j.check(*FORWARD_1XX, held=not missing, detail=f"sent {statuses(sent)}, relayed {statuses(got) or 'none'}")


def _interim_then_close(case, record, view, timing, j: Judgement) -> None:
    got = [h.status for h in record.reader.interims]
    final = record.reader.final
    if final is not None:
        j.say("no final response", f"turned into {final.status} after {statuses(got) or 'no interim'} @{final.at:.1f}s")
    elif got and record.gave_up_at is not None:
        j.say("no final response", f"{statuses(got)} relayed, then nothing: the client was left waiting until it gave up @{record.gave_up_at:.1f}s")
    elif got:
        j.say("no final response", f"{statuses(got)} relayed, then {record.ending()} with no final response @{record.ended_at or 0:.1f}s")
    else:
        j.say("no final response", f"no response; {record.ending()} @{record.ended_at or 0:.1f}s")
    sent = [i["status"] for e in origin_requests(view) for i in e.get("interims") or []]
    j.check(*FORWARD_1XX, held=not (Counter(sent[:1]) - Counter(got)), detail=f"sent {statuses(sent)}, relayed {statuses(got) or 'none'}")


def _timer(case, record, view, timing, j: Judgement) -> None:
    entry = first_origin(view)
    reader = record.reader
    sent = origin_interims(entry)
    final = reader.final
    origin_final = (entry or {}).get("final")
    interims = f"{len(reader.interims)} of {len(sent)} interims relayed" if sent else "the origin sent no interim"
    if final is not None and origin_final is not None and final.status == origin_final["status"]:
        delivery = _interim_delivery(record, entry)
        j.say("timer", f"re-armed by each 1xx: {final.status} @{final.at:.1f}s; {interims}" + (f", {delivery}" if delivery else ""))
    elif final is not None and final.at < timing.proxy_timeout * 0.5:
        j.say("timer", f"never ran: {final.status} at once (@{final.at:.1f}s); {interims}")
    elif final is not None:
        j.say("timer", f"not re-armed: {final.status} @{final.at:.1f}s (timeout {timing.proxy_timeout:g} s); {interims}")
    else:
        j.say("timer", f"gave up with no final status: {record.ending()} @{record.ended_at or 0:.1f}s; {interims}")
    _upstream_end(entry, j)


def _expect(case, record, view, timing, j: Judgement) -> None:
    entry = first_origin(view)
    reader = record.reader
    upstream_expect = entry is not None and (header(entry["request"]["headers"], "expect") or "").lower() == "100-continue"
    origin_100 = next((i["at"] for i in origin_interims(entry) if i["status"] == 100), None)
    client_100 = next((h.at for h in reader.interims if h.status == 100), None)
    if entry is None:
        who = "the origin never saw the request"
    elif upstream_expect:
        who = "relayed (Expect kept upstream)"
    else:
        who = "answered by the proxy (Expect stripped upstream)" if client_100 is not None else "Expect stripped upstream, no 100 sent"
    j.say("Expect", who)
    if client_100 is not None:
        origin_at = origin_seconds_after_head(entry, origin_100) if entry and origin_100 is not None else None
        j.say("100", f"reached the client @{client_100:.1f}s" + (f" (the origin sent it {origin_at:.1f} s after the head)" if origin_at is not None else ""))
    else:
        j.say("100", f"none reached the client; {_body_sent(record)}")
    final = reader.final
    if final is not None:
        origin_final = (entry or {}).get("final")
        source = "from the origin" if origin_final and origin_final["status"] == final.status else "from the proxy"
        j.say("final", f"{final.status} @{final.at:.1f}s ({source})")
    else:
        j.say("final", f"none: {record.ending()} @{record.ended_at or 0:.1f}s")


def _body_sent(record) -> str:
    because = record.body_sent_because or ""
    if because.startswith("after"):
        return f"the client sent the body {because} ({record.body_sent_at:.1f} s)"
    if because.startswith("never"):
        return f"the client never sent the body{because[5:]}"
    return f"the client sent the body {because}" if because else "the client sent no body"


def _upgrade(case, record, view, timing, j: Judgement) -> None:
    entry = first_origin(view)
    final = record.reader.final
    upstream_upgrade = entry is not None and header(entry["request"]["headers"], "upgrade") is not None
    if final is not None and final.status == 101 and record.ws_echo_ok:
        j.say("upgrade", "relayed: 101, the echo came back" + (f", close {record.ws_close_code}" if record.ws_close_code else ""))
    elif final is not None and final.status == 101:
        j.say("upgrade", "101 relayed, but no echo came back")
    elif final is not None:
        j.say("upgrade", f"refused: {final.status}" + ("" if upstream_upgrade else " (Upgrade not passed upstream)"))
    else:
        j.say("upgrade", f"no response: {record.ending()} @{record.ended_at or 0:.1f}s")


def _unsolicited_101(case, record, view, timing, j: Judgement) -> None:
    final = record.reader.final
    if final is not None and final.status == 101:
        j.say("101", f"relayed to a client that asked for no upgrade ({record.reader.tunnel_bytes} bytes after it)")
    elif final is not None:
        j.say("101", f"turned into {final.status}")
    else:
        j.say("101", f"no response: {record.ending()} @{record.ended_at or 0:.1f}s")
    j.check(*NO_UNASKED_SWITCH, held=final is None or final.status != 101, detail=f"client got {final.status if final else 'nothing'}")


def _stall(case, record, view, timing, j: Judgement) -> None:
    entry = first_origin(view)
    reader = record.reader
    final = reader.final
    origin_final = (entry or {}).get("final")
    if origin_final is None:  # hang before the head
        if final is not None:
            j.say("stall", f"turned into {final.status} @{final.at:.1f}s")
        else:
            j.say("stall", f"no response; {record.ending()} @{record.ended_at or 0:.1f}s")
    elif final is None:
        j.say("stall", f"no head reached the client; {record.ending()} @{record.ended_at or 0:.1f}s")
    else:
        head = "at once" if final.at < 0.15 else f"only @{final.at:.1f}s"
        if final.at >= timing.proxy_timeout * 0.8:
            head += " (held while the origin stalled)"
        body = f"{reader.body_bytes}/{reader.expected_length if reader.expected_length is not None else '?'} body bytes"
        ending = "complete" if reader.complete_at is not None else record.ending()
        j.say("stall", f"{final.status} head {head}, then {ending} @{record.ended_at or final.at:.1f}s with {body}")
        _check_incomplete(entry, record, j)
    _upstream_end(entry, j)


def _upstream_end(entry, j: Judgement) -> None:
    ended = (entry or {}).get("ended") or {}
    if ended.get("how") in ("client closed", "client reset"):
        head = (entry.get("times") or {}).get("head") or 0
        j.say("upstream", f"the proxy closed the upstream connection ({'FIN' if ended['how'] == 'client closed' else 'RST'}) {ended['at'] - head:.1f} s after the request")


def _check_incomplete(entry, record, j: Judgement) -> None:
    """The origin's body was cut short: the client must not get a complete message."""
    reader = record.reader
    complete = reader.complete_at is not None and reader.framing in ("length", "chunked")
    j.check(*INCOMPLETE, held=not complete, detail=f"client got {reader.body_bytes} bytes, framed {reader.framing}, {'complete' if complete else 'incomplete'}")


def _drip(case, record, view, timing, j: Judgement) -> None:
    reader = record.reader
    reads = reader.body_reads
    entry = first_origin(view)
    sent = ((entry or {}).get("request") and dict(case.query).get("bytes")) or 0
    if not reads:
        j.say("drip", f"no body reached the client ({reached_client(record)})")
        return
    span = f"{len(reads)} read{'s' if len(reads) != 1 else ''} @{reads[0][0]:.1f}s..@{reads[-1][0]:.1f}s"
    if len(reads) == 1:
        kind = "buffered until complete"
    elif sent and len(reads) >= 0.8 * sent:
        kind = "streamed"
    else:
        kind = "coalesced"
    j.say("drip", f"{kind}: {span}, {reader.body_bytes} bytes")


def _reset(case, record, view, timing, j: Judgement) -> None:
    entry = first_origin(view)
    reader = record.reader
    final = reader.final
    origin_final = (entry or {}).get("final")
    if origin_final is None:
        j.say("reset", f"turned into {final.status} @{final.at:.1f}s" if final else f"no response; {record.ending()} @{record.ended_at or 0:.1f}s")
        return
    if final is None:
        j.say("reset", f"no head reached the client; {record.ending()}")
        return
    body = f"{reader.body_bytes}/{reader.expected_length if reader.expected_length is not None else '?'} body bytes"
    ending = "a complete message" if reader.complete_at is not None else record.ending()
    j.say("reset", f"{final.status} head, then {ending} with {body}")
    _check_incomplete(entry, record, j)


def _forwarding(case, record, view, timing, j: Judgement) -> None:
    entry = first_origin(view)
    if entry is None:
        j.say("forwarding", f"the origin saw no request ({reached_client(record)})")
        return
    request = entry["request"]
    j.say("upstream version", f"HTTP/{request['version']} for an HTTP/{case.version} client")
    sent = {k.lower(): v for k, v in record.sent_headers}
    upstream = {k.lower(): v for k, v in request["headers"]}
    added = sorted(k for k in upstream if k not in sent)
    removed = sorted(k for k in sent if k not in upstream)
    changed = sorted(k for k in sent if k in upstream and upstream[k] != sent[k])
    j.say("headers", "; ".join(filter(None, [
        "added " + ", ".join(f"{k}: {upstream[k]}" for k in added) if added else "",
        "removed " + ", ".join(removed) if removed else "",
        "changed " + ", ".join(f"{k}: {upstream[k]}" for k in changed) if changed else "",
    ])) or "none added or removed")
    if case.version == "1.1":
        j.check(*HOP_BY_HOP, held="x-mo-hop" not in upstream, detail="X-Mo-Hop (named in Connection) " + ("forwarded" if "x-mo-hop" in upstream else "removed"))
    j.check(*VIA, held="via" in upstream, detail=f"Via: {upstream['via']}" if "via" in upstream else "no Via upstream")


def _interim_to_http10(case, record, view, timing, j: Judgement) -> None:
    entry = first_origin(view)
    got = [h.status for h in record.reader.interims]
    sent = [i["status"] for i in origin_interims(entry)]
    if entry is not None:
        j.say("upstream version", f"HTTP/{entry['request']['version']} for an HTTP/1.0 client")
    j.say("1xx to HTTP/1.0", f"{statuses(got)} relayed to the HTTP/1.0 client" if got else (f"{statuses(sent)} dropped" if sent else "the origin sent none"))
    j.check(*NO_1XX_TO_10, held=not got, detail=f"client got {statuses(got) or 'no interim'}")


JUDGES = {
    "interims": _interims,
    "interim_then_close": _interim_then_close,
    "timer": _timer,
    "expect": _expect,
    "upgrade": _upgrade,
    "unsolicited_101": _unsolicited_101,
    "stall": _stall,
    "drip": _drip,
    "reset": _reset,
    "forwarding": _forwarding,
    "interim_to_http10": _interim_to_http10,
}
