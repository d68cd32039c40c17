"""Behaviour files to model objects, or every problem as ``FILE:LINE:COL: message``.

Two layers: the JSON Schema (``schema.json``) decides the shape, so editors and
the server agree; this module then gives the shape its meaning (units, bounds,
placeholders, file paths). A set with any problem is refused whole.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from collections.abc import Iterable

from mockorigin import limits, model
from mockorigin.template import parse_template, single_reference
from mockorigin.units import format_duration, parse_duration, parse_integer, parse_size
from mockorigin.shape import schema, shape_problems
from mockorigin.yamlsource import Document, Problem, parse_documents, read_file

__all__ = ["LoadError", "check_set", "load_paths", "load_text", "schema"]



class LoadError(Exception):
    """Raised with every problem found; ``str()`` is one ``FILE:LINE:COL`` line each."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.location.file, p.location.line, p.location.column))
        super().__init__("\n".join(str(p) for p in self.problems))


def load_paths(paths: Iterable[str]) -> tuple[model.Behaviour, ...]:
    """Every behaviour in these files and folders (a folder: its ``*.yaml``/``*.yml``, sorted)."""
    problems: list[Problem] = []
    behaviours: list[model.Behaviour] = []
    for path in paths:
        for file, root in _expand(path, problems):
            try:
                data = read_file(file, display=file)
            except Problem as problem:
                problems.append(problem)
                continue
            except OSError as error:
                problems.append(Problem(model.Location(file, 1, 1), f"cannot read: {error.strerror}"))
                continue
            behaviours += _load_documents(data, file, root, problems)
    return _finish(behaviours, problems)


def load_text(text: str | bytes, name: str = "<text>", root: str | None = None) -> tuple[model.Behaviour, ...]:
    """Behaviours from YAML (or JSON) text; ``body_file`` paths resolve inside ``root``."""
    problems: list[Problem] = []
    behaviours = _load_documents(text, name, root, problems)
    return _finish(behaviours, problems)


def check_set(behaviours: Iterable[model.Behaviour]) -> None:
    """Refuse a set with two behaviours of one name, or one that could never be chosen."""
    problems: list[Problem] = []
    _check_unique(list(behaviours), problems)
    if problems:
        raise LoadError(problems)


def _finish(behaviours: list[model.Behaviour], problems: list[Problem]) -> tuple[model.Behaviour, ...]:
    _check_unique(behaviours, problems)
    if problems:
        raise LoadError(problems)
    return tuple(behaviours)


def _expand(path: str, problems: list[Problem]) -> list[tuple[str, str]]:
    """(file, behaviours folder) pairs for a file or folder argument."""
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if n.endswith((".yaml", ".yml")) and not n.startswith("."))
        if not names:
            problems.append(Problem(model.Location(path, 1, 1), "no *.yaml or *.yml files in this folder"))
        return [(os.path.join(path, n), path) for n in names]
    if not os.path.exists(path):
        problems.append(Problem(model.Location(path, 1, 1), "no such file or folder"))
        return []
    return [(path, os.path.dirname(path) or ".")]


def _load_documents(data: str | bytes, file: str, root: str | None, problems: list[Problem]) -> list[model.Behaviour]:
    documents, parse_problems = parse_documents(data, file)
    problems += parse_problems
    if parse_problems:
        return []
    documents = [d for d in documents if d.value is not None]
    if not documents:
        problems.append(Problem(model.Location(file, 1, 1), "no behaviour in this file"))
        return []
    stem = os.path.splitext(os.path.basename(file))[0]
    result = []
    for document in documents:
        broken: set[tuple] = set()
        for problem, path in shape_problems(document):
            problems.append(problem)
            broken.add(path)
        builder = _Builder(document, root, default_name=stem, broken=broken)
        behaviour = builder.behaviour()
        problems += builder.problems
        if not builder.problems and not broken:
            result.append(behaviour)
    return result


def _check_unique(behaviours: list[model.Behaviour], problems: list[Problem]) -> None:
    names: dict[str, model.Behaviour] = {}
    matches: dict[model.Match, model.Behaviour] = {}
    for behaviour in behaviours:
        assert behaviour.location is not None
        first = names.setdefault(behaviour.name, behaviour)
        if first is not behaviour:
            problems.append(Problem(behaviour.location, f"name {behaviour.name!r} is already used at {first.location}; give each behaviour its own `name`"))
        earlier = matches.setdefault(behaviour.match, behaviour)
        if earlier is not behaviour:
            problems.append(Problem(behaviour.location, f"same match and priority as {earlier.name!r} ({earlier.location}): this behaviour could never be chosen"))


# --- meaning: the model ---------------------------------------------------------


class _Builder:
    """Turns one schema-valid document into a ``Behaviour``, collecting problems."""

    def __init__(self, document: Document, root: str | None, default_name: str, broken: set[tuple] = frozenset()):
        self.broken = broken  # paths with shape errors: the parts below them are not built
        self.document = document
        self.root = root
        self.default_name = default_name
        self.problems: list[Problem] = []
        self.params: dict[str, model.Param] = {}

    def fail(self, path: tuple, message: str, key: bool = False) -> None:
        self.problems.append(Problem(self.document.where(path, key=key), message))

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
            references=tuple(raw.get("references", ())),
            match=match,
            params=tuple(self.params.values()),
            scripts=scripts,
            location=self.document.start,
        )

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
            allowed = {"duration": {"duration"}, "size": {"size", "integer"}, "count": {"integer"}, "status": {"integer"}}[kind]
            if param is None:
                self.fail(path, f"unknown param ${{{ref}}}; declare it under `params`")
            elif param.type not in allowed:
                self.fail(path, f"param {ref!r} is a {param.type}; a {kind} is needed here")
            elif kind == "status" and not (100 <= param.minimum and param.maximum <= 599):  # type: ignore[operator]
                self.fail(path, f"param {ref!r} is used as a status: give it min >= 100 and max <= 599")
            return model.ParamRef(ref)
        try:
            if kind == "duration":
                value: float | int = parse_duration(raw)
                bound: float = limits.MAX_DURATION
            elif kind == "size":
                value, bound = parse_size(raw), limits.MAX_BODY_SIZE
            elif kind == "status":
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
                from mockorigin.matcher import compile_path

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
        )

    # script

    def script(self, path: tuple, steps: list) -> tuple[model.Step, ...]:
        built = []
        for index, step in enumerate(steps):
            if self.is_broken(path + (index,)) or not isinstance(step, dict) or len(step) != 1:
                continue
            (kind, value), = step.items()
            built.append(getattr(self, "step_" + kind)(path + (index, kind), value))
        return tuple(built)

    def step_wait(self, path, value):
        return model.Wait(self.num(path, value, "duration"))

    def step_interim(self, path, value):
        if isinstance(value, int):
            return model.Interim(value)
        interim = model.Interim(
            status=value["status"],
            reason=value.get("reason"),
            headers=self.headers(path + ("headers",), value.get("headers")),
            count=self.num(path + ("count",), value.get("count", 1), "count"),
            every=self.num(path + ("every",), value.get("every", 0), "duration"),
            to_http10=value.get("to_http10", False),
        )
        self.check_repeat(path, "interims", interim.count, interim.every)
        return interim

    def step_read_body(self, path, value):
        value = value or {}
        limit = value.get("bytes")
        return model.ReadBody(None if limit is None else self.num(path + ("bytes",), limit, "size"))

    def step_respond(self, path, value):
        if not isinstance(value, dict):
            return model.Respond(self.num(path, value, "status"))
        sources = [k for k in ("body", "body_file", "body_size") if k in value]
        if len(sources) > 1:
            self.fail(path + (sources[1],), f"give only one of body, body_file or body_size (not {' and '.join(sources)})", key=True)
        body = None
        if "body" in value:
            body = model.TextBody(self.template(path + ("body",), value["body"]))
        elif "body_file" in value:
            body = self.body_file(path + ("body_file",), value["body_file"])
        elif "body_size" in value:
            body = model.SizedBody(self.num(path + ("body_size",), value["body_size"], "size"))
        chunked = value.get("chunked", False)
        chunk_size = None
        if chunked is True:
            chunk_size = 0
        elif isinstance(chunked, dict):
            chunk_size = self.num(path + ("chunked", "size"), chunked["size"], "size")
            self.at_least_one(path + ("chunked", "size"), chunk_size, "a chunk size must be at least 1 byte")
        if "trailers" in value and chunk_size is None:
            self.fail(path + ("trailers",), "trailers need `chunked: true`", key=True)
        drip = self.drip(path + ("drip",), value.get("drip"))
        self.check_drip(path + ("drip",), body, drip)
        return model.Respond(
            status=self.num(path + ("status",), value["status"], "status"),
            reason=value.get("reason"),
            headers=self.headers(path + ("headers",), value.get("headers")),
            body=body,
            chunk_size=chunk_size,
            trailers=self.headers(path + ("trailers",), value.get("trailers")),
            drip=drip,
            auto_headers=value.get("auto_headers", True),
        )

    def step_head(self, path, value):
        if not isinstance(value, dict):
            return model.Head(self.num(path, value, "status"))
        return model.Head(
            status=self.num(path + ("status",), value["status"], "status"),
            reason=value.get("reason"),
            headers=self.headers(path + ("headers",), value.get("headers")),
            auto_headers=value.get("auto_headers", True),
        )

    def step_body(self, path, value):
        if isinstance(value, str):
            return model.Body(model.TextBody(self.template(path, value)))
        sources = [k for k in ("text", "hex", "base64", "size") if k in value]
        if len(sources) != 1:
            self.fail(path, "give exactly one of text, hex, base64 or size")
            return model.Body(model.BytesBody(b""))
        source = self.bytes_source(path, value, sources[0])
        drip = self.drip(path + ("drip",), value.get("drip"))
        self.check_drip(path + ("drip",), source, drip)
        return model.Body(source, chunk=value.get("chunk", False), drip=drip)

    def step_end(self, path, value):
        return model.End(self.headers(path + ("trailers",), (value or {}).get("trailers")))

    def step_raw(self, path, value):
        if isinstance(value, str):
            return model.Raw(model.TextBody(self.template(path, value)))
        (kind,) = value
        return model.Raw(self.bytes_source(path, value, kind))

    def step_hang(self, path, value):
        if value is None:
            return model.Hang()
        if isinstance(value, dict):
            duration = value.get("for")
            return model.Hang(
                None if duration is None else self.num(path + ("for",), duration, "duration"),
                read=value.get("read", True),
            )
        return model.Hang(self.num(path, value, "duration"))

    def step_close(self, path, value):
        return model.Close()

    def step_reset(self, path, value):
        return model.Reset()

    def step_upgrade(self, path, value):
        value = value if isinstance(value, dict) else {}
        then = value.get("then")
        steps: tuple = (model.Echo(),)
        if isinstance(then, list):
            built = []
            for index, step in enumerate(then):
                if self.is_broken(path + ("then", index)) or not isinstance(step, dict) or len(step) != 1:
                    continue
                (kind, item), = step.items()
                built.append(getattr(self, "ws_" + kind)(path + ("then", index, kind), item))
            steps = tuple(built)
        return model.Upgrade(self.headers(path + ("headers",), value.get("headers")), value.get("accept"), steps)

    def ws_echo(self, path, value):
        return model.Echo()

    def ws_send(self, path, value):
        if isinstance(value, str):
            return model.WsSend(1, model.TextBody(self.template(path, value)))
        kinds = [k for k in ("text", "binary", "hex") if k in value]
        if len(kinds) != 1:
            self.fail(path, "give exactly one of text, binary or hex")
            return model.WsSend(1, model.BytesBody(b""))
        kind = kinds[0]
        payload = model.TextBody(self.template(path + (kind,), value[kind])) if kind != "hex" else self.bytes_source(path, value, "hex")
        return model.WsSend(1 if kind == "text" else 2, payload, self.num(path + ("fragments",), value.get("fragments", 1), "count"))

    def _control(self, opcode: int, path, value) -> model.WsControl:
        """A ping or pong: text (may use ${n}) or hex, at most 125 bytes; `count` of them, `every` apart."""
        value = {} if value is None else {"payload": value} if isinstance(value, str) else value
        if "hex" in value:
            text = self.bytes_source(path, value, "hex").data.decode("latin-1")  # type: ignore[union-attr]
        else:
            text = value.get("payload", "")
        if len(text.encode("utf-8")) > 125:
            self.fail(path, "a control frame payload is at most 125 bytes (use `frame` to send a bigger one on purpose)")
        control = model.WsControl(
            opcode,
            self.template(path + ("payload",), text),
            self.num(path + ("count",), value.get("count", 1), "count"),
            self.num(path + ("every",), value.get("every", 0), "duration"),
        )
        self.check_repeat(path, "pings" if opcode == 9 else "pongs", control.count, control.every)
        return control

    def ws_ping(self, path, value):
        return self._control(9, path, value)

    def ws_pong(self, path, value):
        return self._control(10, path, value)

    def ws_close(self, path, value):
        if value is None:
            return model.WsClose()
        if isinstance(value, int):
            return model.WsClose(value)
        return model.WsClose(value.get("code", 1000), value.get("reason", ""))

    def ws_receive(self, path, value):
        if value is None:
            return model.WsReceive()
        count = value.get("count", 1) if isinstance(value, dict) else value
        return model.WsReceive(self.num(path, count, "count"))

    def ws_frame(self, path, value):
        if "payload" in value and "hex" in value:
            self.fail(path, "give payload or hex, not both")
        payload = self.bytes_source(path, value, "hex").data if "hex" in value else value.get("payload", "").encode("utf-8")  # type: ignore[union-attr]
        mask = value.get("mask", False)
        key = None if mask is False else bytes.fromhex("37fa213d" if mask is True else mask)
        return model.WsFrame(
            opcode=value["opcode"],
            payload=payload,
            fin=value.get("fin", True),
            rsv=(value.get("rsv1", False), value.get("rsv2", False), value.get("rsv3", False)),
            mask=key,
            length=value.get("length"),
        )

    def ws_wait(self, path, value):
        return self.step_wait(path, value)

    def ws_hang(self, path, value):
        return self.step_hang(path, value)

    def ws_reset(self, path, value):
        return model.Reset()

    def ws_raw(self, path, value):
        return self.step_raw(path, value)

    # pieces

    def drip(self, path: tuple, raw: dict | None) -> model.Drip | None:
        if raw is None:
            return None
        size = self.num(path + ("bytes",), raw.get("bytes", 1), "size")
        self.at_least_one(path + ("bytes",), size, "drip at least 1 byte at a time")
        return model.Drip(size, self.num(path + ("every",), raw["every"], "duration"))

    def at_least_one(self, path: tuple, num: model.Num, message: str) -> None:
        """Pieces of 0 bytes would never end (the script would loop forever): refuse a 0,
        and a param that a query string could set to 0."""
        if isinstance(num, model.ParamRef):
            param = self.params.get(num.name)
            if param is not None and param.type in ("size", "integer") and param.minimum < 1:  # type: ignore[operator]
                self.fail(path, f"{message}: give param {num.name!r} `min: 1`")
        elif num == 0:
            self.fail(path, message)

    # durations in all: a drip or a repeated step may not run longer than MAX_DURATION

    def at_default(self, num: model.Num) -> float | None:
        """A number's value when no query string sets it; None if it is not known."""
        if isinstance(num, model.ParamRef):
            param = self.params.get(num.name)
            return param.default if param is not None and param.type != "string" else None  # type: ignore[return-value]
        return num

    def check_drip(self, path: tuple, source: model.BodySource | None, drip: model.Drip | None) -> None:
        if drip is None:
            return
        total, piece, every = self.least_size(source), self.at_default(drip.bytes), self.at_default(drip.every)
        if total is None or piece is None or every is None or piece < 1:
            return
        took = limits.drip_duration(int(total), int(piece), float(every))
        if took > limits.MAX_DURATION:
            self.fail(
                path,
                f"this drip takes {_seconds(took)} ({total} bytes, {piece} at a time, {_seconds(every)} apart)"
                f"{self.at_defaults(source, drip.bytes, drip.every)}; the limit is {_seconds(limits.MAX_DURATION)}",
            )

    def check_repeat(self, path: tuple, what: str, count: model.Num, every: model.Num) -> None:
        times, gap = self.at_default(count), self.at_default(every)
        if times is None or gap is None:
            return
        took = limits.repeat_duration(int(times), float(gap))
        if took > limits.MAX_DURATION:
            self.fail(
                path,
                f"these {times} {what} take {_seconds(took)} ({int(times) - 1} gaps of {_seconds(gap)})"
                f"{self.at_defaults(None, count, every)}; the limit is {_seconds(limits.MAX_DURATION)}",
            )

    def least_size(self, source: model.BodySource | None) -> int | None:
        """The fewest bytes a body can have with the params at their defaults (a template's
        placeholders may add more); None if it cannot be known at load."""
        if source is None:
            return 0
        if isinstance(source, model.BytesBody):
            return len(source.data)
        if isinstance(source, model.TextBody):
            return sum(len(part.encode("utf-8")) for part in source.text.parts if isinstance(part, str))
        if isinstance(source, model.SizedBody):
            size = self.at_default(source.size)
            return None if size is None else int(size)
        try:
            return os.stat(source.path).st_size
        except OSError:
            return None

    def at_defaults(self, source: model.BodySource | None, *nums: model.Num) -> str:
        """`` with the params at their defaults (a=1, b=2)`` when params took part."""
        if isinstance(source, model.SizedBody):
            nums = (source.size, *nums)
        names = list(dict.fromkeys(n.name for n in nums if isinstance(n, model.ParamRef)))
        if not names:
            return ""
        shown = ", ".join(f"{name}={_shown(self.params[name])}" for name in names)
        return f" with the params at their defaults ({shown})"

    def bytes_source(self, path: tuple, value: dict, kind: str) -> model.BodySource:
        text = value[kind]
        if kind == "text":
            return model.TextBody(self.template(path + ("text",), text))
        if kind == "size":
            return model.SizedBody(self.num(path + ("size",), text, "size"))
        try:
            if kind == "hex":
                data = bytes.fromhex("".join(text.split()))
            else:
                data = base64.b64decode("".join(text.split()), validate=True)
        except (ValueError, binascii.Error) as error:
            self.fail(path + (kind,), f"invalid {kind}: {error}")
            data = b""
        return model.BytesBody(data)

    def body_file(self, path: tuple, name: str) -> model.FileBody | None:
        """A regular file inside the behaviours folder, no larger than the body limit."""
        if self.root is None:
            self.fail(path, "body_file needs a behaviours folder; this source has none")
            return None
        if "\x00" in name or os.path.isabs(name) or "\\" in name:
            self.fail(path, f"{name!r} must be a relative path inside the behaviours folder")
            return None
        root = os.path.realpath(self.root)
        folder = os.path.dirname(os.path.realpath(self.document.file)) if os.path.exists(self.document.file) else root
        target = os.path.realpath(os.path.join(folder, name))
        if os.path.commonpath([root, target]) != root:
            self.fail(path, f"{name!r} is outside the behaviours folder {self.root}")
            return None
        try:
            info = os.stat(target)
        except OSError as error:
            self.fail(path, f"cannot use {name!r}: {error.strerror}")
            return None
        if not stat.S_ISREG(info.st_mode):
            self.fail(path, f"{name!r} is not a regular file")
            return None
        if info.st_size > limits.MAX_BODY_SIZE:
            self.fail(path, f"{name!r} is {info.st_size} bytes; the limit is {limits.MAX_BODY_SIZE}")
            return None
        return model.FileBody(target, root)


def _shown(param: model.Param) -> str:
    return format_duration(param.default) if param.type == "duration" else str(param.default)  # type: ignore[arg-type]


def _seconds(value: float) -> str:
    return format_duration(value) if value < 100_000 else f"{value:.0f}s"


def _match_value(value: object) -> str | bool:
    return value if isinstance(value, bool) else str(value)

