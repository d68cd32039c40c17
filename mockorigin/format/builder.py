"""One schema-valid document to a ``Behaviour``: the meaning of the shape.

``Builder`` reads the behaviour's own parts (name, params, match) and walks its
scripts; each step family is a mixin of its own (``build_http``,
``build_websocket``), and the checks of how long a drip or a repeat runs in all
are ``build_durations``. Every problem is kept with its location; none stops the
walk, so a file's problems are all reported at once.
"""

from __future__ import annotations

from mockorigin import limits
from mockorigin.format import model
from mockorigin.format.build_durations import Durations
from mockorigin.format.build_http import HttpSteps
from mockorigin.format.build_websocket import WebSocketSteps
from mockorigin.format.framing import framing_warnings
from mockorigin.format.template import parse_template, single_reference
from mockorigin.format.units import parse_duration, parse_integer, parse_size
from mockorigin.format.yamlsource import Document, Problem



class Builder(HttpSteps, WebSocketSteps, Durations):
    """Turns one schema-valid document into a ``Behaviour``, collecting problems."""

    def __init__(self, document: Document, root: str | None, default_name: str, broken: set[tuple] = frozenset()):
        self.broken = broken  # paths with shape errors: the parts below them are not built
        self.document = document
        self.root = root
        self.default_name = default_name
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []  # what loads but may be a mistake: "FILE:LINE:COL: warning: ..."
        self.params: dict[str, model.Param] = {}

    def fail(self, path: tuple, message: str, key: bool = False) -> None:
        self.problems.append(Problem(self.document.where(path, key=key), message))

    def warn(self, path: tuple, message: str) -> None:
        self.warnings.append(Problem(self.document.where(path, key=True), f"warning: {message}"))

    def is_broken(self, path: tuple) -> bool:
        return any(b[: len(path)] == path or path[: len(b)] == b for b in self.broken)

    def behaviour(self) -> model.Behaviour | None:
        raw = self.document.value
        if not isinstance(raw, dict) or () in self.broken and not ({"script", "sequence"} & set(raw)):
            return None
        for name, spec in raw.get("params", {}).items() if not self.is_broken(("params",)) else ():
            self.params[name] = self.param(("params", name), name, spec)
        scripts: tuple = ()
        if isinstance(raw.get("script"), list):
            scripts = (self.script(("script",), raw["script"]),)
        elif isinstance(raw.get("sequence"), list):
            scripts = tuple(self.script(("sequence", i), s) for i, s in enumerate(raw["sequence"]) if isinstance(s, list))
        match = model.Match() if self.is_broken(("match",)) else self.match(raw.get("match", {}))
        if self.broken:
            return None
        return model.Behaviour(
            name=raw.get("name", self.default_name),
            summary=raw.get("summary", ""),
            notes=raw.get("notes", ""),
            references=tuple(raw.get("references", ())),
            group=raw.get("group"),
            match=match,
            params=tuple(self.params.values()),
            scripts=scripts,
            limits=self.limits(raw.get("limits")),
            location=self.document.start,
        )

    def limits(self, raw: dict | None) -> model.Limits | None:
        """The behaviour's own connection limits: literal values within the server's bounds."""
        if not raw:
            return None
        values = {}
        for key, kind in (("body_timeout", "duration"), ("body_min_rate", "size"), ("idle_timeout", "duration")):
            if key in raw:
                value = self.num(("limits", key), raw[key], kind)
                if isinstance(value, model.ParamRef):
                    self.fail(("limits", key), "limits take literal values, not params")
                    continue
                values[key] = value
        return model.Limits(**values)

    # params and numbers

    def param(self, path: tuple, name: str, spec: dict) -> model.Param:
        kind = spec["type"]
        parse, limit, low = {
            "duration": (parse_duration, limits.MAX_DURATION, 0.0),
            "size": (parse_size, limits.MAX_BODY_SIZE, 0),
            "integer": (parse_integer, limits.MAX_COUNT, 0),
            "string": (str, limits.MAX_STRING_PARAM, 0),
        }[kind]
        values = {}
        for field_name, fallback in (("min", low), ("max", limit), ("default", None)):
            raw = spec.get(field_name, fallback)
            try:
                values[field_name] = raw if kind == "string" and field_name != "default" else parse(raw)
            except (ValueError, TypeError) as error:
                self.fail(path + (field_name,), str(error))
                values[field_name] = fallback if fallback is not None else low
        low_v, high_v, default = values["min"], values["max"], values["default"]
        if kind == "string":
            if not isinstance(spec.get("min", 0), int) or not isinstance(spec.get("max", limit), int):
                self.fail(path, "min and max of a string param are lengths (whole numbers)")
            elif len(default) > high_v or len(default) < low_v:
                self.fail(path + ("default",), f"default is {len(default)} characters; allowed {low_v}..{high_v}")
            if high_v > limit:
                self.fail(path + ("max",), f"max is above the limit of {limit} characters")
        else:
            if high_v > limit:
                self.fail(path + ("max",), f"max {high_v} is above the server's limit of {limit:g}")
            if not low_v <= default <= high_v:
                self.fail(path + ("default",), f"default {default} is outside min..max ({low_v}..{high_v})")
        return model.Param(name, kind, default, low_v, high_v)

    def num(self, path: tuple, raw: object, kind: str) -> model.Num:
        """A literal or ``${param}`` of a compatible type, within the server's bounds."""
        if isinstance(raw, str) and (ref := single_reference(raw.strip())) is not None:
            param = self.params.get(ref)
            allowed = {"duration": {"duration"}, "size": {"size", "integer"}, "count": {"integer"}, "status": {"integer"}, "interim status": {"integer"}}[kind]
            if param is None:
                self.fail(path, f"unknown param ${{{ref}}}; declare it under `params`")
            elif param.type not in allowed:
                self.fail(path, f"param {ref!r} is a {param.type}; a {kind} is needed here")
            elif kind == "interim status" and not (100 <= param.minimum and param.maximum <= 199):  # type: ignore[operator]
                self.fail(path, f"param {ref!r} is used as an interim status: give it min >= 100 and max <= 199")
            elif kind == "status" and not (100 <= param.minimum and param.maximum <= 599):  # type: ignore[operator]
                self.fail(path, f"param {ref!r} is used as a status: give it min >= 100 and max <= 599")
            return model.ParamRef(ref)
        try:
            if kind == "duration":
                value: float | int = parse_duration(raw)
                bound: float = limits.MAX_DURATION
            elif kind == "size":
                value, bound = parse_size(raw), limits.MAX_BODY_SIZE
            elif kind in ("status", "interim status"):
                return parse_integer(raw)  # the schema bounds literal statuses
            else:
                value, bound = parse_integer(raw), limits.MAX_COUNT
        except ValueError as error:
            self.fail(path, str(error))
            return 0
        if value > bound:
            shown = {"duration": f"{bound:g}s", "size": f"{bound} bytes (64 MiB)"}.get(kind, str(bound))
            self.fail(path, f"{raw!r} is above the limit of {shown}")
        return value

    def template(self, path: tuple, text: str):
        try:
            return parse_template(text, self.params)
        except ValueError as error:
            self.fail(path, str(error))
            return parse_template("", ())

    def headers(self, path: tuple, raw: dict | None) -> tuple[model.Header, ...]:
        result = []
        for name, value in (raw or {}).items():
            values = value if isinstance(value, list) else [value]
            for index, item in enumerate(values):
                item_path = path + (name, index) if isinstance(value, list) else path + (name,)
                result.append(model.Header(name, self.template(item_path, str(item))))
        return tuple(result)

    # match

    def match(self, raw: dict) -> model.Match:
        methods = raw.get("method")
        if isinstance(methods, str):
            methods = [methods]
        path = raw.get("path")
        path_match = None
        if isinstance(path, str):
            path_match = model.PathMatch("exact", path)
        elif isinstance(path, dict):
            (kind, pattern), = path.items()
            path_match = model.PathMatch(kind, pattern)
            if kind in ("regex", "glob"):
                from mockorigin.format.paths import compile_path

                try:
                    compile_path(path_match)
                except ValueError as error:
                    self.fail(("match", "path", kind), f"invalid {kind}: {error}")
        return model.Match(
            methods=frozenset(methods) if methods else None,
            path=path_match,
            query=tuple((k, _match_value(v)) for k, v in raw.get("query", {}).items()),
            headers=tuple((k.lower(), _match_value(v)) for k, v in raw.get("headers", {}).items()),
            version=raw.get("version"),
            priority=raw.get("priority", 0),
            body=None if "body" not in raw else self.body_match(("match", "body"), raw["body"]),
        )

    def body_match(self, path: tuple, raw: str | dict) -> model.BodyMatch | None:
        """``body: TEXT`` (the whole body) or ``{equals, contains, regex, json}``, all of them to hold."""
        if isinstance(raw, str):
            raw = {"equals": raw}
        pattern = raw.get("regex")
        if pattern is not None:
            import regex

            try:
                regex.compile(pattern)
            except regex.error as error:
                self.fail(path + ("regex",), f"invalid regex: {error}")
        expected = None
        if "json" in raw:
            import json

            try:
                expected = json.dumps(raw["json"], sort_keys=True, allow_nan=False)
            except ValueError:
                self.fail(path + ("json",), "JSON has no NaN or infinity")
        text = {key: raw[key].encode("utf-8") if key in raw else None for key in ("equals", "contains")}
        return model.BodyMatch(equals=text["equals"], contains=text["contains"], regex=pattern, json=expected)

    # script

    def script(self, path: tuple, steps: list) -> tuple[model.Step, ...]:
        built = []
        for index, step in enumerate(steps):
            if self.is_broken(path + (index,)) or not isinstance(step, dict) or len(step) != 1:
                continue
            (kind, value), = step.items()
            built.append((path + (index, kind), getattr(self, "step_" + kind)(path + (index, kind), value)))
        for where, message in framing_warnings(built, lambda at: self.document.where(at, key=True).line):
            self.warn(where, message)
        return tuple(step for _, step in built)


def _match_value(value: object) -> str | bool:
    return value if isinstance(value, bool) else str(value)
