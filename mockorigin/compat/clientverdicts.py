"""client-check's judges: what the client did, read from the origin's journal and the
command's exit, in a client author's words."""

from __future__ import annotations

from dataclasses import dataclass

from mockorigin.compat.observe import Judgement, origin_requests, statuses

PARSE_1XX = ("RFC 9110 §15.2", "a client MUST be able to parse one or more 1xx responses before the final one, even unexpected ones")
CEASE_AFTER_CLOSE = ("RFC 9112 §9.6", "a client that receives Connection: close MUST cease sending requests on that connection")
MASK = ("RFC 6455 §5.1", "a client MUST mask every frame it sends")


@dataclass
class CommandRun:
    argv: list[str]
    exit_code: int | None  # None: killed at the bound
    seconds: float
    stdout_bytes: int
    stderr_tail: str
    printed_token: bool = False  # the case token (in final bodies after interims) appeared on stdout

    def summary(self) -> str:
        if self.exit_code is None:
            return f"killed after {self.seconds:.1f} s (no exit)"
        text = f"exit {self.exit_code}, {self.stdout_bytes} B out, {self.seconds:.1f} s"
        return text + (f": {self.stderr_tail}" if self.exit_code and self.stderr_tail else "")

    def as_json(self) -> dict:
        return {"argv": self.argv, "exit_code": self.exit_code, "seconds": round(self.seconds, 3), "stdout_bytes": self.stdout_bytes,
                "stderr_tail": self.stderr_tail, "printed_token": self.printed_token}


def judge_client(case, run: CommandRun, view, timing) -> Judgement:
    j = Judgement()
    requests = origin_requests(view)
    if not requests:
        j.say("requests", "none reached the origin" + ("" if view.open_requests else " (the client sent nothing, or gave up before a whole head)"))
        return j
    if len(requests) > 1:
        j.say("retries", f"retried: the origin saw {len(requests)} requests")
    entry = requests[0]
    facts = entry.get("facts") or {}
    head = (entry.get("times") or {}).get("head") or 0.0
    j.say("request", f"{entry['request']['method']} HTTP/{entry['request']['version']}" + (", Expect: 100-continue" if facts.get("expect_continue") else ""))
    if case.expect_wait is not None:
        _expect(entry, facts, j)
    if case.judge in ("interims", "interim_then_close"):
        _interims(case, entry, run, timing, j)
    if case.websocket:
        _websocket(entry, j)
    if case.judge == "interim_to_http10":
        j.say("1xx to HTTP/1.0", f"sent HTTP/{entry['request']['version']}; the origin sent a 100 anyway, then 200: {_outcome(run)}")
    if case.judge in ("drip", "stall", "reset") and (entry.get("ended") or {}).get("by") != "client" and entry.get("final"):
        j.say("body", f"{_outcome(run)} after the whole response was sent")
    _ending(case, entry, head, j)
    if facts.get("response_said_close"):
        reused = any((e.get("facts") or {}).get("reused_after_connection_close") for e in requests)
        j.check(*CEASE_AFTER_CLOSE, held=not reused, detail="sent another request after it" if reused else "did not reuse it")
    return j


def _outcome(run: CommandRun) -> str:
    if run.exit_code is None:
        return "still running at the bound: killed"
    if run.exit_code:
        return f"failed (exit {run.exit_code})"
    return "succeeded (exit 0)"


def _expect(entry: dict, facts: dict, j: Judgement) -> None:
    if not facts.get("expect_continue"):
        j.say("Expect", "sent no Expect: 100-continue")
        return
    waited = facts.get("waited_for_continue")
    continue_sent = facts.get("continue_sent")
    if waited is None:
        j.say("Expect", "never sent the body" + (" (the final response came first)" if entry.get("final") else ""))
    elif facts.get("sent_body_before_continue") and waited < 0.05:
        j.say("Expect", f"did not wait for the 100: body at once ({waited:.2f} s after the head)")
    elif facts.get("sent_body_before_continue") and continue_sent:
        j.say("Expect", f"gave up waiting after {waited:.2f} s: body before the 100")
    elif facts.get("sent_body_before_continue"):
        j.say("Expect", f"waited {waited:.2f} s for a 100 that never came, then sent the body")
    else:
        j.say("Expect", f"waited for the 100: body {waited:.2f} s after the head")
    if facts.get("body_after_final_response"):
        j.say("Expect", f"kept sending the body after the final response ({facts.get('body_bytes_after_final_response')} bytes)")


def _interims(case, entry: dict, run: CommandRun, timing, j: Judgement) -> None:
    sent = [i["status"] for i in entry.get("interims") or []]
    final = entry.get("final")
    ended = entry.get("ended") or {}
    if case.judge == "interim_then_close" or not sent:
        return
    if case.timer_probe:
        _timer_probe(sent, final, run, j)
    elif final is not None:
        _final_reached(sent, final, run, j, _left_before_final(entry))
    elif ended.get("by") == "client":
        what = f"took {_which(sent)} as the final response" if run.exit_code == 0 else f"failed on the interims (exit {run.exit_code})"
        j.say("interims", f"{what}: left after {statuses(sent)}, before the final response")
        j.check(*PARSE_1XX, held=False, detail=f"left after {statuses(sent)}")


def _which(sent: list[int]) -> str:
    return str(sent[0]) if len(set(sent)) == 1 else f"an interim of {statuses(sent)}"


def _timer_probe(sent: list[int], final: dict | None, run: CommandRun, j: Judgement) -> None:
    if run.printed_token:
        j.say("timer", f"re-armed by each 1xx: read through {statuses(sent)} to the final response in {run.seconds:.1f} s")
    elif run.exit_code == 0 and run.stdout_bytes:
        j.say("timer", f"never tested: it took {_which(sent)} as the final response")
    else:
        j.say("timer", f"not re-armed by the 1xx: gave up after {run.seconds:.1f} s (exit {run.exit_code})")


def _left_before_final(entry: dict) -> bool:
    """Whether the journal saw the client close or reset before the final response went out
    (the script goes on after a client's FIN, so a final response alone proves nothing)."""
    ended, final = entry.get("ended") or {}, entry.get("final") or {}
    return ended.get("by") == "client" and ended.get("at") is not None and final.get("at") is not None and ended["at"] < final["at"]


def _final_reached(sent: list[int], final: dict, run: CommandRun, j: Judgement, left_first: bool = False) -> None:
    """The origin sent the final response; its body carries the case token. A client that
    stopped at an interim exits without printing it, and the journal shows it leaving before
    the final response went out."""
    if run.printed_token:
        j.say("interims", f"read through {statuses(sent)} to the final {final['status']}")
        j.check(*PARSE_1XX, held=True, detail=f"its output holds the final body after {statuses(sent)}")
    elif run.exit_code == 0 and run.stdout_bytes:
        j.say("interims", f"took {_which(sent)} as the final response: exit 0, and the final body never reached its output")
        j.check(*PARSE_1XX, held=False, detail=f"stopped at {_which(sent)}")
    elif run.exit_code not in (0, None):
        j.say("interims", f"failed on the interims (exit {run.exit_code}): {statuses(sent)} sent before the final {final['status']}")
        j.check(*PARSE_1XX, held=False, detail=f"failed after {statuses(sent)}")
    elif left_first:
        j.say("interims", f"took {_which(sent)} as the final response: it closed the connection before the final {final['status']} went out")
        j.check(*PARSE_1XX, held=False, detail=f"left after {_which(sent)}")
    else:
        j.say("interims", "cannot tell whether it read through the interims: the command printed nothing")


def _websocket(entry: dict, j: Judgement) -> None:
    ws = entry.get("websocket")
    if not ws:
        j.say("websocket", "no WebSocket session (no upgrade)")
        return
    facts = ws.get("facts") or {}
    pings = facts.get("answered_pings") or {}
    j.say("websocket", f"ended: {ws.get('ended')}; close sent {ws.get('close_sent')}, received {ws.get('close_received')}")
    if pings.get("sent"):
        delay = pings.get("max_delay")
        j.say("pings", f"answered {pings.get('answered')} of {pings.get('sent')}" + (f" (slowest {delay * 1000:.0f} ms)" if delay is not None else ""))
    if facts.get("close_code_echoed") is not None:
        j.say("close", "echoed the server's close code" if facts["close_code_echoed"] else "answered the close with another code")
    if facts.get("masked_all_frames") is not None:
        j.check(*MASK, held=bool(facts["masked_all_frames"]), detail="every frame masked" if facts["masked_all_frames"] else "an unmasked frame")


def _ending(case, entry: dict, head: float, j: Judgement) -> None:
    ended = entry.get("ended") or {}
    if ended.get("by") != "client" or case.judge in ("interims",):
        return
    at = (ended.get("at") or 0) - head
    stage = f" during {ended['stage']}" if ended.get("stage") else ""
    j.say("gave up", f"closed the connection ({ended.get('signal')}) @{at:.1f}s{stage}")
