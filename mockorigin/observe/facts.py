"""The questions client authors ask, answered from an exchange's times and counts.

Each fact is derived from what the wire carried, never guessed: when the body's
first byte came against when the 100 went out, how many body bytes arrived after
the final response, how many interims went out before the client left.
"""

from __future__ import annotations


def client_facts(record, head: float | None, first_body: float | None, interims: list[dict], final_after_client_left: bool) -> dict:
    """``head``, ``first_body`` and each interim's ``at``: as journaled (from the request's start)."""
    request = record.request
    expect = request is not None and last_expect(request.raw_headers).strip().lower() == "100-continue"
    length = record.body_length
    after_final = 0 if record.body_at_final is None else length - record.body_at_final
    continues = [i["at"] for i in interims if i["status"] == 100]
    before_continue = sent_before = waited = None  # asked only of a client that said Expect: 100-continue
    if expect:
        before_continue = length if record.body_at_continue is None else record.body_at_continue
        sent_before = first_body is not None and (not continues or first_body < continues[0])
        waited = None if first_body is None or head is None else round(first_body - head, 6)
    gone_before_final = request is not None and (record.final_status is None or final_after_client_left) and record.client_left_at() is not None
    return {
        "expect_continue": expect,
        "continue_sent": bool(continues),
        "sent_body_before_continue": sent_before,
        "body_bytes_before_continue": before_continue,
        "waited_for_continue": waited,
        "body_after_final_response": after_final > 0,
        "body_bytes_after_final_response": after_final,
        "next_request_instead_of_body": record.next_request_instead_of_body,
        "interims_before_close": sum(not i["after_client_left"] for i in interims) if gone_before_final else None,
        "interims_after_client_left": sum(i["after_client_left"] for i in interims),
        "reused_after_connection_close": record.bytes_after_close > 0,
        "response_said_close": record.response_said_close,
    }


def last_expect(raw_headers: list[tuple[str, str]]) -> str:
    """The last Expect field's value ("" if none), read from the headers as sent: building the
    header dict for this one question cost more than the rest of the facts."""
    for name, value in reversed(raw_headers):
        if len(name) == 6 and name.lower() == "expect":
            return value
    return ""


def plain_facts(expect_continue: bool) -> dict:
    """``client_facts`` of a request without body, interims or FIN and RST: only Expect tells them apart."""
    return {
        "expect_continue": expect_continue,
        "continue_sent": False,
        "sent_body_before_continue": False if expect_continue else None,
        "body_bytes_before_continue": 0 if expect_continue else None,
        "waited_for_continue": None,
        "body_after_final_response": False,
        "body_bytes_after_final_response": 0,
        "next_request_instead_of_body": False,
        "interims_before_close": None,
        "interims_after_client_left": 0,
        "reused_after_connection_close": False,
        "response_said_close": False,
    }
