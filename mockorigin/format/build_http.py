"""Building the HTTP steps of a script (and the body sources and drips they share)."""

from __future__ import annotations

import base64
import binascii
import os
import stat

from mockorigin import limits
from mockorigin.format import model
from mockorigin.format.jsonbody import JsonProblem, json_template
from mockorigin.format.template import Template


class HttpSteps:
    """``step_*`` for each HTTP step; part of ``builder.Builder``."""


    def step_wait(self, path, value):
        return model.Wait(self.num(path, value, "duration"))

    def step_interim(self, path, value):
        if not isinstance(value, dict):
            return model.Interim(self.num(path, value, "interim status"))
        interim = model.Interim(
            status=self.num(path + ("status",), value["status"], "interim status"),
            reason=value.get("reason"),
            headers=self.headers(path + ("headers",), value.get("headers")),
            count=self.num(path + ("count",), value.get("count", 1), "count"),
            every=self.num(path + ("every",), value.get("every", 0), "duration"),
            to_http10=value.get("to_http10", False),
            if_expected=value.get("if_expected", False),
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
        sources = [k for k in ("body", "body_file", "body_size", "json") if k in value]
        if len(sources) > 1:
            self.fail(path + (sources[1],), f"give only one of body, body_file, body_size or json (not {' and '.join(sources)})", key=True)
        body = None
        headers = self.headers(path + ("headers",), value.get("headers"))
        if "json" in value:
            body = self.json_body(path + ("json",), value["json"])
            if value.get("auto_headers", True) and not any(h.name.lower() == "content-type" for h in headers):
                headers += (model.Header("Content-Type", Template(("application/json",))),)
        elif "body" in value:
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
            headers=headers,
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
        kinds = [k for k in ("text", "hex", "base64") if k in value]
        if len(kinds) != 1:
            self.fail(path, "give exactly one of text, hex or base64 (and optionally drip)")
            return model.Raw(model.BytesBody(b""))
        source = self.bytes_source(path, value, kinds[0])
        drip = self.drip(path + ("drip",), value.get("drip"))
        self.check_drip(path + ("drip",), source, drip)
        return model.Raw(source, drip)

    def step_hang(self, path, value):
        if value is None:
            return model.Hang()
        if isinstance(value, dict):
            duration = value.get("for")
            return model.Hang(
                None if duration is None else self.num(path + ("for",), duration, "duration"),
                read=value.get("read", True),
                until_data=value.get("until") == "data",
            )
        return model.Hang(self.num(path, value, "duration"))

    def step_unread_body(self, path, value):
        return model.UnreadBody(value)

    def step_close(self, path, value):
        return model.Close(close_notify=(value or {}).get("close_notify", True))

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


    # the wire's own steps: h2 frames and the tls handshake

    def step_h2(self, path, value):
        """An HTTP/2 frame; only for a behaviour that matches HTTP/2 alone, so no HTTP/1.1
        exchange ever meets one (checked here, where the file's place can be named)."""
        match = self.document.value.get("match") if isinstance(self.document.value, dict) else None
        if not isinstance(match, dict) or match.get("version") != "2":
            self.fail(path, 'h2 steps need the behaviour to match HTTP/2 only: add `version: "2"` under `match`', key=True)
        (kind, raw), = value.items()
        where = path + (kind,)
        if kind == "headers":
            raw = raw if isinstance(raw, dict) else {"status": raw}
            return model.H2Headers(self.num(where + ("status",), raw["status"], "status"), self.headers(where + ("headers",), raw.get("headers")), raw.get("end_stream", False))
        if kind == "data":
            raw = raw if isinstance(raw, dict) else {"text": raw}
            sources = [k for k in ("text", "hex") if k in raw]
            if len(sources) != 1:
                self.fail(where, "give exactly one of text or hex (and optionally end_stream)")
                return model.H2Data(model.BytesBody(b""))
            return model.H2Data(self.bytes_source(where, raw, sources[0]), raw.get("end_stream", False))
        if kind == "rst_stream":
            return model.H2RstStream(h2_error_code(raw))
        raw = raw if isinstance(raw, dict) else {"error": raw}
        return model.H2GoAway(h2_error_code(raw.get("error", "NO_ERROR")), raw.get("last_stream_id", "highest"), raw.get("debug", ""))

    def step_tls(self, path, value):
        """A handshake, as the only step of its script (the TLS layer runs it before any request)."""
        script = self.document.value
        for part in path[:-2]:
            script = script[part]
        if len(script) != 1:
            self.fail(path, "a tls step must be the only step of its script (it runs before any request)", key=True)
        stall, stall_forever = value.get("stall"), False
        if stall is True:
            stall, stall_forever = None, True
        elif stall is False:
            stall = None
        elif stall is not None:
            stall = self.num(path + ("stall",), stall, "duration")
        return model.Tls(stall, stall_forever, value.get("alpn"), "alpn" in value)

    # pieces

    def json_body(self, path: tuple, value: object) -> model.TextBody:
        try:
            return model.TextBody(json_template(value, self.params))
        except JsonProblem as problem:
            self.fail(path + problem.path, str(problem))
            return model.TextBody(Template(()))

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


H2_ERROR_CODES = {
    "NO_ERROR": 0, "PROTOCOL_ERROR": 1, "INTERNAL_ERROR": 2, "FLOW_CONTROL_ERROR": 3, "SETTINGS_TIMEOUT": 4, "STREAM_CLOSED": 5,
    "FRAME_SIZE_ERROR": 6, "REFUSED_STREAM": 7, "CANCEL": 8, "COMPRESSION_ERROR": 9, "CONNECT_ERROR": 10, "ENHANCE_YOUR_CALM": 11,
    "INADEQUATE_SECURITY": 12, "HTTP_1_1_REQUIRED": 13,
}  # RFC 9113 §7


def h2_error_code(raw: str | int) -> int:
    return raw if isinstance(raw, int) else H2_ERROR_CODES[raw]
