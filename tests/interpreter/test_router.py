"""Routing: priority, load order, every kind of path rule, and the regex time limit."""

from __future__ import annotations

import time

from mockorigin.format.loader import load_text
from mockorigin.interpreter.router import Router
from mockorigin.interpreter.request import Request


def req(path="/", method="GET", query=None, headers=None, version="1.1") -> Request:
    r = Request(method, path, version, [(name, value) for name, values in (headers or {}).items() for value in values])
    r.path, r.query = path, query or {}
    return r


def names(source: str, request: Request) -> str | None:
    routed = Router(load_text(source, "b.yaml")).route(request)
    return routed.behaviour.name if routed.behaviour else None


SET = """
name: exact
match: {path: /a/b}
script: [{respond: 200}]
---
name: prefix
match: {path: {prefix: /a/}}
script: [{respond: 200}]
---
name: glob
match: {path: {glob: /g/*/x}}
script: [{respond: 200}]
---
name: deep-glob
match: {path: {glob: /d/**}}
script: [{respond: 200}]
---
name: regex
match: {path: {regex: '/r/[0-9]+'}}
script: [{respond: 200}]
---
name: urgent
match: {path: {prefix: /a/}, headers: {x-urgent: true}, priority: 5}
script: [{respond: 200}]
---
name: posts
match: {method: [POST, PUT], path: /m, query: {v: "2"}}
script: [{respond: 200}]
---
name: no-auth
match: {path: /auth, headers: {authorization: false}}
script: [{respond: 401}]
---
name: old
match: {path: /auth, version: "1.0"}
script: [{respond: 200}]
"""


def test_each_kind_of_rule():
    assert names(SET, req("/a/b")) == "exact"
    assert names(SET, req("/a/c")) == "prefix"
    assert names(SET, req("/g/y/x")) == "glob" and names(SET, req("/g/y/z/x")) is None
    assert names(SET, req("/d/1/2/3")) == "deep-glob"
    assert names(SET, req("/r/123")) == "regex" and names(SET, req("/r/12a")) is None
    assert names(SET, req("/a/b", headers={"x-urgent": ["1"]})) == "urgent"  # priority beats an exact path
    assert names(SET, req("/m", "PUT", query={"v": ["2"]})) == "posts"
    assert names(SET, req("/m", "GET", query={"v": ["2"]})) is None
    assert names(SET, req("/m", "POST", query={"v": ["3"]})) is None
    assert names(SET, req("/auth", headers={"authorization": ["x"]}, version="1.0")) == "old"
    assert names(SET, req("/auth")) == "no-auth"


def test_header_values_compare_case_insensitively():
    source = "match: {headers: {expect: 100-Continue}}\nscript: [{respond: 200}]"
    assert names(source, req(headers={"expect": ["100-continue"]})) == "b"  # name defaults to the stem
    assert names(source, req(headers={"expect": ["nope"]})) is None


def test_ties_go_to_load_order():
    source = "name: first\nmatch: {path: {prefix: /}}\nscript: [{respond: 200}]\n---\nname: second\nscript: [{respond: 200}]"
    assert names(source, req("/x")) == "first"


def test_a_catastrophic_regex_is_cut_off_and_flagged():
    router = Router(load_text("name: evil\nmatch: {path: {regex: '/(a|aa)+$'}}\nscript: [{respond: 200}]"))
    started = time.perf_counter()
    routed = router.route(req("/" + "a" * 40 + "!"))
    assert time.perf_counter() - started < 1.0
    assert routed.behaviour is None and routed.regex_timeouts == ["evil"]


EVIL = "name: evil-{i}\nmatch: {{path: {{regex: '/(a|aa)+$'}}, priority: {priority}}}\nscript: [{{respond: 200}}]\n"


def test_the_regex_limit_is_per_request_not_per_match():
    source = "---\n".join(EVIL.format(i=i, priority=100 - i) for i in range(20))
    source += "---\nname: fallback\nmatch: {path: {prefix: /}}\nscript: [{respond: 404}]\n"
    router = Router(load_text(source))
    started, cpu = time.perf_counter(), time.process_time()
    routed = router.route(req("/" + "a" * 40 + "!"))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    # One budget of 100 ms in all; it was 20 x 100 ms = 2.0 s. The regex module counts its
    # timeout in CPU time, so the wall-clock bound is looser for a machine under load.
    assert cpu < 0.4 and elapsed < 1.5, (cpu, elapsed)
    assert routed.regex_timeouts == [f"evil-{i}" for i in range(20)]  # every one is still reported
    assert routed.behaviour.name == "fallback"  # rules that need no regex still match


class FakeClock:
    """Each reading is ``step`` seconds after the last: matching seems to take that long."""

    def __init__(self, step: float):
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_once_the_budget_is_spent_the_remaining_regex_rules_count_as_timed_out():
    rules = "---\n".join(
        f"name: r{i}\nmatch: {{path: {{{kind}: '{pattern}'}}, priority: {10 - i}}}\nscript: [{{respond: 200}}]\n"
        for i, (kind, pattern) in enumerate([("regex", "/x/[0-9]+"), ("glob", "/x/*"), ("regex", "/r/[0-9]+"), ("glob", "/r/*")])
    )
    rules += "---\nname: prefix\nmatch: {path: {prefix: /r/}}\nscript: [{respond: 200}]\n"
    router = Router(load_text(rules), clock=FakeClock(0.06))  # the budget starts at the first regex rule tried
    routed = router.route(req("/r/1"))
    assert routed.regex_timeouts == ["r2", "r3"] and routed.behaviour.name == "prefix"  # 0.06 spent, then 0.12 > 0.1
    again = router.route(req("/r/1"))
    assert again.regex_timeouts == ["r2", "r3"]  # each request gets a whole budget of its own
    assert Router(load_text(rules), clock=FakeClock(0.0)).route(req("/r/1")).behaviour.name == "r2"
