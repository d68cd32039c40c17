"""The four outputs of a run: a terminal table, JSON, JUnit XML, Markdown."""

from __future__ import annotations

import json
from xml.etree import ElementTree

from mockorigin.compat.results import RunResult

COLOURS = {"pass": "\033[32m", "fail": "\033[31m", "error": "\033[33m"}
RESET = "\033[0m"
MARK = {"pass": "ok", "fail": "FAIL", "error": "ERROR"}


def verdict_text(result) -> str:
    return "; ".join(f"{v.topic}: {v.text}" for v in result.verdicts)


def check_text(result) -> str:
    return "; ".join(f"{c.rule} {'held' if c.held else 'BROKEN'}" for c in result.checks)


def terminal(run: RunResult, colour: bool) -> str:
    """Grouped rows: status, case, what reached the client, verdicts, RFC checks."""
    lines = [f"mockorigin {run.command}: {run.subject}"]
    group = None
    for result in run.cases:
        if result.group != group:
            group = result.group
            lines.append(f"\n{group}")
        mark = MARK[result.status]
        if colour:
            mark = COLOURS[result.status] + mark + RESET
        lines.append(f"  {mark:<{5 + (len(mark) - len(MARK[result.status]))}} {result.case_id:<22} {result.reached}")
        for verdict in result.verdicts:
            lines.append(f"        {'':<22} {verdict.topic}: {verdict.text}")
        for check in result.checks:
            state = "held" if check.held else "BROKEN"
            if colour and not check.held:
                state = COLOURS["fail"] + state + RESET
            lines.append(f"        {'':<22} {check.rule} {state}: {check.requirement} ({check.detail})")
        if result.error:
            lines.append(f"        {'':<22} error: {result.error}")
    counts = {s: sum(1 for c in run.cases if c.status == s) for s in ("pass", "fail", "error")}
    broken = sum(1 for c in run.cases for k in c.checks if not k.held)
    lines.append(f"\n{len(run.cases)} cases: {counts['pass']} ok, {counts['fail']} broke an RFC requirement ({broken} in all), {counts['error']} could not run")
    return "\n".join(lines)


def write_json(run: RunResult, path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(run.as_json(), handle, indent=1)
        handle.write("\n")


def junit(run: RunResult) -> bytes:
    """One testsuite per group; a case fails when an RFC requirement did not hold."""
    suites = ElementTree.Element("testsuites", name=f"mockorigin {run.command}")
    for group in dict.fromkeys(c.group for c in run.cases):
        members = [c for c in run.cases if c.group == group]
        suite = ElementTree.SubElement(
            suites, "testsuite", name=f"{run.command}.{group}", tests=str(len(members)),
            failures=str(sum(c.status == "fail" for c in members)), errors=str(sum(c.status == "error" for c in members)),
            time=f"{sum(c.seconds for c in members):.3f}",
        )
        for result in members:
            case = ElementTree.SubElement(suite, "testcase", classname=f"{run.command}.{group}", name=result.case_id, time=f"{result.seconds:.3f}")
            if result.status == "fail":
                broken = [c for c in result.checks if not c.held]
                failure = ElementTree.SubElement(case, "failure", message="; ".join(f"{c.rule}: {c.requirement}" for c in broken))
                failure.text = "\n".join(f"{c.rule}: {c.requirement} ({c.detail})" for c in broken)
            elif result.status == "error":
                ElementTree.SubElement(case, "error", message=result.error or "").text = result.error
            ElementTree.SubElement(case, "system-out").text = f"{result.reached}\n{verdict_text(result)}"
    return ElementTree.tostring(suites, encoding="utf-8", xml_declaration=True)


def write_junit(run: RunResult, path: str) -> None:
    with open(path, "wb") as handle:
        handle.write(junit(run))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(run: RunResult) -> str:
    lines = [f"# mockorigin {run.command}: `{_cell(run.subject)}`", ""]
    lines.append("Settings: " + ", ".join(f"{k} `{v}`" for k, v in run.settings.items()))
    group = None
    for result in run.cases:
        if result.group != group:
            group = result.group
            lines += ["", f"## {group}", "", "| case | result | reached the client | verdicts | RFC |", "|---|---|---|---|---|"]
        lines.append(f"| `{result.case_id}` | {MARK[result.status]} | {_cell(result.reached)} | {_cell(verdict_text(result))} | {_cell(check_text(result))} |")
    return "\n".join(lines) + "\n"


def write_markdown(run: RunResult, path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(markdown(run))


def write_all(run: RunResult, options, stream) -> None:
    """The table on ``stream`` (coloured on a terminal unless --no-colour), files as asked."""
    colour = stream.isatty() and not getattr(options, "no_colour", False)
    print(terminal(run, colour), file=stream)
    if options.json:
        write_json(run, options.json)
    if options.junit:
        write_junit(run, options.junit)
    if options.markdown:
        write_markdown(run, options.markdown)
