"""H3: the smuggling corpus over real sockets, each vector beside what h11 would do.

Every case of ``tests/corpora/smuggling.jsonl`` goes whole and byte by byte, alone and with
``GET /canary`` pipelined behind it, to a server whose only behaviours are the canary and a
catch-all. Expected: an allowed status, a close after a refusal, and the canary never served
from a refused request. h11's verdict on the same bytes (rejected, or which targets it would
serve) is reported beside ours, so the table shows where we are stricter.
"""

from __future__ import annotations

import asyncio

import h11

from stress.corpus import CANARY, CANARY_BODY, smuggling_cases
from stress.net import converse, first_final, gather_limited, statuses
from stress.runner import Context

BEHAVIOURS = """\
name: canary
match: {path: /canary, priority: 10}
script: [{respond: {status: 200, body: "canary served\\n"}}]
---
name: any
script: [{read_body: {}}, {respond: {status: 200, body: "ok\\n"}}]
"""
KNOWN = {  # the defect of issue #10 a failing vector reproduces
    "host-space": "#10/11",
    "host-at": "#10/11",
    "absolute-form-open-bracket": "#10/1",
    "absolute-form-close-bracket": "#10/1",
    "absolute-form-bad-ipv6": "#10/1",
}


def h11_verdict(data: bytes) -> str:
    """What an h11 server loop would do with these bytes: 'rejects NNN' or 'serves T1, T2'."""
    connection = h11.Connection(h11.SERVER)
    connection.receive_data(data)
    targets = []
    try:
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                break
            if isinstance(event, h11.Request):
                targets.append(event.target.decode("latin-1"))
            elif isinstance(event, h11.EndOfMessage):
                connection.send(h11.Response(status_code=200, headers=[("Content-Length", "0")]))
                connection.send(h11.EndOfMessage())
                if connection.our_state is not h11.DONE or connection.their_state is not h11.DONE:
                    break
                connection.start_next_cycle()
    except h11.RemoteProtocolError as error:
        return f"rejects {error.error_status_hint}" + (f" after serving {', '.join(targets)}" if targets else "")
    return f"serves {', '.join(targets)}" if targets else "waits"


def run_h3(ctx: Context) -> None:
    result = ctx.result
    folder = ctx.folder / "behaviours"
    folder.mkdir(exist_ok=True)
    (folder / "h3.yaml").write_text(BEHAVIOURS)
    server = ctx.own_server("h3-server", paths=[str(folder)]).start()
    cases = smuggling_cases()
    runs = [(case, bytewise, pipelined) for case in cases for bytewise in (False, True) for pipelined in (False, True)]

    def chunks(case, bytewise, pipelined):
        data = case.data + (CANARY if pipelined else b"")
        return [data[i : i + 1] for i in range(len(data))] if bytewise else [data]

    async def main():
        return await gather_limited(32, [converse(server.port, chunks(*run), wait=12.0, quiet=1.0) for run in runs])

    outcomes = asyncio.run(main())
    canaries = stricter = 0
    rows: dict = {}
    failed: dict[str, list[str]] = {}
    for (case, bytewise, pipelined), outcome in zip(runs, outcomes, strict=True):
        how = f"{'bytewise' if bytewise else 'whole'}, {'pipelined' if pipelined else 'alone'}"
        status = first_final(outcome.data)
        served = outcome.data.count(CANARY_BODY)
        expected_canaries = 1 if case.valid and pipelined else 0
        problems = []
        if status not in case.status:
            problems.append(f"status {status}, expected {'/'.join(map(str, case.status))}")
        if served != expected_canaries:
            problems.append(f"canary served {served}x")
            canaries += served if not case.valid else 0
        if case.close and outcome.ended not in ("FIN", "RST"):
            problems.append(f"connection {outcome.ended} after the refusal")
        if case.close and len([s for s in statuses(outcome.data) if s >= 200]) > 1:
            problems.append("answered after a refusal")
        if problems:
            failed.setdefault(case.id, []).append(f"{how}: {'; '.join(problems)}")
        if not bytewise and not pipelined:
            verdict = h11_verdict(case.data + CANARY)
            rows[case.id] = {"ours": status, "h11": verdict}
            stricter += (not case.valid) and verdict.startswith("serves")
    if any(case_id.startswith("absolute-form") for case_id in failed):
        result.traceback_defect = "#10/1"  # those vectors crash inside dataReceived
    for case in cases:
        if case.id in failed:
            variants = failed[case.id]
            result.fail(f"{case.id} ({case.note}): {len(variants)}/4 sends wrong, e.g. {variants[0]}", KNOWN.get(case.id))
    result.inputs = len(runs)
    result.figures.update(
        vectors=sum(not c.valid for c in cases),
        controls=sum(c.valid for c in cases),
        sends=len(runs),
        canary_hits=canaries,
        h11_would_serve_what_we_refuse=stricter,
        per_vector=rows,
    )
    server.stop()
