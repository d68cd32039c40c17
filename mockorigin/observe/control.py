"""``mockorigin.Control``: a small blocking client for the control API.

Plain ``urllib`` so it works from any test, in any thread, with no reactor.
"""

from __future__ import annotations

import json
import time
from urllib.parse import quote
from types import SimpleNamespace


class ControlError(Exception):
    """The control API refused a request; ``problems`` holds located behaviour problems."""

    def __init__(self, status: int, body: dict):
        self.status = status
        self.body = body
        self.problems = body.get("problems", [])
        lines = [body.get("error", f"HTTP {status}")] + [p["text"] for p in self.problems]
        super().__init__("\n".join(lines))


class Entry(SimpleNamespace):
    """A journal entry with attribute access: ``entry.facts.waited_for_continue``."""


def _namespace(value):
    if isinstance(value, dict):
        return Entry(**{k: _namespace(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_namespace(v) for v in value]
    return value


def read_token_file(path: str) -> str:
    """The first line of ``path``, stripped; ``ValueError`` saying why if there is none."""
    try:
        with open(path, encoding="utf-8") as handle:
            line = handle.readline(4096)
    except OSError as error:
        raise ValueError(f"cannot read it: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ValueError("it is not UTF-8 text") from None
    token = line.strip()
    if not token:
        raise ValueError("its first line is empty")
    return token


class Control:
    """``token``, or ``token_file`` (its first line, as ``serve --admin-token-file`` reads it)."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 10.0, token_file: str | None = None):
        if token is not None and token_file is not None:
            raise ValueError("give token or token_file, not both")
        self.url = url.rstrip("/")
        self.token = read_token_file(token_file) if token_file is not None else token
        self.timeout = timeout

    @classmethod
    def from_ready_file(cls, path: str, token: str | None = None, token_file: str | None = None) -> Control:
        with open(path, encoding="utf-8") as handle:
            return cls(json.load(handle)["admin"], token, token_file=token_file)

    def _call(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None):
        import urllib.error  # imported by the first call: `mockorigin serve` imports this module and never calls
        import urllib.request

        request = urllib.request.Request(self.url + path, data=body, method=method)
        if content_type:
            request.add_header("Content-Type", content_type)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                data = response.read()
        except urllib.error.HTTPError as error:
            with error:
                text = error.read()
            try:
                payload = json.loads(text)
            except ValueError:
                payload = {"error": text.decode("utf-8", "replace")}
            raise ControlError(error.code, payload) from None
        return json.loads(data) if data else None

    def health(self) -> dict:
        return self._call("GET", "/health")

    def behaviours(self) -> list[dict]:
        return self._call("GET", "/behaviours")["behaviours"]

    def replace(self, yaml_text: str) -> list[dict]:
        """Replace the whole set (atomically); ``ControlError`` lists every problem."""
        return self._call("PUT", "/behaviours", yaml_text.encode(), "application/yaml")["behaviours"]

    def add(self, yaml_text: str) -> list[dict]:
        return self._call("POST", "/behaviours", yaml_text.encode(), "application/yaml")["behaviours"]

    def compose(self, select: list[str] = (), files: list[tuple[str, str]] = ()) -> list[dict]:
        """Replace the set with named behaviours of the started set plus these (name, YAML text) files."""
        body = json.dumps({"select": list(select), "files": [{"name": n, "text": t} for n, t in files]}).encode()
        return self._call("PUT", "/behaviours", body, "application/json")["behaviours"]

    def select(self, *names: str) -> list[dict]:
        """Serve only these behaviours of the set the server started with."""
        return self.compose(select=list(names))

    def restore(self) -> list[dict]:
        """Serve the set the server started with again (as last reloaded by --watch)."""
        return self._call("POST", "/behaviours/restore")["behaviours"]

    def delete(self, name: str) -> None:
        self._call("DELETE", f"/behaviours/{quote(name)}")

    def journal(self, behaviour: str | None = None, since: int = 0) -> list[Entry]:
        query = f"?since={since}" + (f"&behaviour={quote(behaviour)}" if behaviour else "")
        return _namespace(self._call("GET", "/journal" + query)["entries"])

    def clear_journal(self) -> None:
        self._call("DELETE", "/journal")

    def reset(self) -> None:
        """Empty the journal and restart every sequence."""
        self._call("POST", "/reset")

    def connections(self) -> list[dict]:
        """The open connections and where each one's script stands."""
        return self._call("GET", "/connections")["connections"]

    def closed_connections(self) -> list[dict]:
        """The lifecycles of recently closed connections: requests served, who closed, when."""
        return self._call("GET", "/connections")["closed"]

    def timers(self) -> dict:
        """``delayed_calls``, ``deadlines``, ``connections`` and ``open_fds``: compare with a baseline to find leaks."""
        return self._call("GET", "/debug/timers")

    def wait_for(self, count: int, timeout: float = 5.0, behaviour: str | None = None, since: int = 0, poll: float = 0.02) -> list[Entry]:
        """Block until the journal holds ``count`` entries (``TimeoutError`` names what it has)."""
        deadline = time.monotonic() + timeout
        while True:
            entries = self.journal(behaviour, since)
            if len(entries) >= count or time.monotonic() >= deadline:
                break
            time.sleep(poll)
        if len(entries) < count:
            seen = ", ".join(f"{e.request.method} {e.request.target}" if e.request else "(no request)" for e in entries) or "none"
            raise TimeoutError(f"expected {count} journal entries within {timeout}s, got {len(entries)}: {seen}")
        return entries


__all__ = ["Control", "ControlError", "Entry", "read_token_file"]
