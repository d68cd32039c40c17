"""The answers mockorigin gives on its own: the catalogue index at ``GET /``, 404 and a bad param.

Both are ordinary ``Respond`` steps, so they go through the same writer,
journal and persistence rules as any behaviour.
"""

from __future__ import annotations

import html
import json

from mockorigin.format import model
from mockorigin.interpreter.router import Router
from mockorigin.format.template import Template
from mockorigin.format.units import format_duration


def _respond(status: int, content_type: str, body: str, close: bool = False) -> tuple[model.Step, ...]:
    headers = [model.Header("Content-Type", Template((content_type,)))]
    if close:
        headers.append(model.Header("Connection", Template(("close",))))
    return (model.Respond(status=status, headers=tuple(headers), body=model.TextBody(Template((body,)))),)


def describe(behaviour: model.Behaviour) -> dict:
    """A behaviour as the index and ``mockorigin list`` show it."""
    match = behaviour.match
    path = None
    if match.path is not None:
        path = match.path.pattern if match.path.kind == "exact" else f"{match.path.kind}:{match.path.pattern}"
    return {
        "name": behaviour.name,
        "path": path,
        "methods": sorted(match.methods) if match.methods else None,
        "headers": {k: v for k, v in match.headers} or None,
        "params": {p.name: _shown(p.default) for p in behaviour.params},
        "summary": behaviour.summary,
        "notes": behaviour.notes or None,
        "group": behaviour.group,
        "references": list(behaviour.references),
        "sequence": len(behaviour.scripts) if len(behaviour.scripts) > 1 else None,
    }


def _shown(value: object) -> object:
    return format_duration(value) if isinstance(value, float) else value


def grouped(behaviours) -> list[tuple[str, list[model.Behaviour]]]:
    """The behaviours by catalogue section (A..F, then those with none), each in load order."""
    sections: dict[str, list[model.Behaviour]] = {}
    for behaviour in behaviours:
        sections.setdefault(behaviour.group or "", []).append(behaviour)
    order = [*model.GROUPS, ""]
    return [(f"{key}. {model.GROUPS[key]}" if key else "Other", sections[key]) for key in order if key in sections]


def index(router: Router, accept: str) -> tuple[model.Step, ...]:
    entries = [describe(b) for b in router.behaviours]
    if "text/html" in accept and "application/json" not in accept:
        sections = "".join(
            "<h2>{title}</h2><table><tr><th>path</th><th>methods</th><th>params (defaults)</th><th>summary</th></tr>{rows}</table>".format(
                title=html.escape(title),
                rows="".join(
                    "<tr><td><code>{path}</code></td><td>{methods}</td><td>{params}</td><td>{summary}</td></tr>".format(
                        path=html.escape(e["path"] or "(any)"),
                        methods=html.escape(", ".join(e["methods"] or ["any"])),
                        params=html.escape(", ".join(f"{k}={v}" for k, v in e["params"].items())),
                        summary=html.escape(e["summary"]),
                    )
                    for e in map(describe, members)
                ),
            )
            for title, members in grouped(router.behaviours)
        )
        page = f"<!doctype html><meta charset=utf-8><title>mockorigin</title><h1>mockorigin behaviours</h1>{sections}\n"
        return _respond(200, "text/html; charset=utf-8", page)
    return _respond(200, "application/json", json.dumps({"behaviours": entries}, indent=1) + "\n")


def not_found(router: Router, method: str, path: str, regex_timeouts: list[str]) -> tuple[model.Step, ...]:
    text = f"mockorigin: no behaviour matches {method} {path}\n"
    closest = router.closest(path)
    if closest:
        text += "closest: " + ", ".join(closest) + "\n"
    if regex_timeouts:
        text += "regex timed out (counted as no match) in: " + ", ".join(regex_timeouts) + "\n"
    return _respond(404, "text/plain; charset=utf-8", text)


def bad_param(message: str) -> tuple[model.Step, ...]:
    return _respond(400, "text/plain; charset=utf-8", f"mockorigin: {message}\n")
