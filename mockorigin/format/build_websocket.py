"""Building the WebSocket steps inside an ``upgrade``'s ``then``."""

from __future__ import annotations

from mockorigin.format import model


class WebSocketSteps:
    """``ws_*`` for each WebSocket step; part of ``builder.Builder``."""


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
