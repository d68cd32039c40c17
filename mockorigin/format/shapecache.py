"""Files whose shape was already found valid: their JSON Schema pass is skipped.

Checking the shape with jsonschema is three quarters of loading the built-in catalogue
(about 190 ms of 260 ms for its 113 entries on our machine), and the same files are
loaded at every start. Whether a document fits the schema depends on its bytes and the
schema alone, so a file whose exact bytes fitted this exact schema before fits it
again: the digest of (schema, bytes) of each file that loaded without a shape problem
is kept in one small file, and the next load of those bytes skips the pass (and the
import of jsonschema). A file whose shape had a problem is never kept, so that problem is
reported every time; the builder's checks (meanings, bounds, paths) run at every load.

Where: ``$MOCKORIGIN_CACHE_DIR``, else ``$XDG_CACHE_HOME/mockorigin``, else
``~/.cache/mockorigin``; ``MOCKORIGIN_CACHE_DIR=off`` turns it off. A cache that
cannot be read or written is no cache: loading never fails on its account.
"""

from __future__ import annotations

import hashlib
import os

MAX_KEPT = 4096  # digests kept (65 bytes each); past it, the file starts again
_FILE_NAME = "valid-shapes"
_SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema.json")


class ShapeCache:
    def __init__(self, folder: str | None):
        self.path = None if folder is None else os.path.join(folder, _FILE_NAME)
        self._known: set[str] | None = None
        self._schema_digest: bytes | None = None

    @classmethod
    def default(cls) -> ShapeCache:
        folder = os.environ.get("MOCKORIGIN_CACHE_DIR")
        if folder == "off":
            return cls(None)
        if not folder:
            base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
            folder = os.path.join(base, "mockorigin")
        return cls(folder)

    def key(self, data: bytes) -> str | None:
        if self.path is None:
            return None
        if self._schema_digest is None:
            try:
                with open(_SCHEMA, "rb") as handle:
                    self._schema_digest = hashlib.sha256(handle.read()).digest()
            except OSError:
                self.path = None
                return None
        return hashlib.sha256(self._schema_digest + data).hexdigest()

    def knows(self, key: str | None) -> bool:
        if key is None:
            return False
        if self._known is None:
            self._known = set()
            try:
                with open(self.path, encoding="ascii") as handle:  # type: ignore[arg-type]
                    self._known.update(line.strip() for line in handle)
            except (OSError, ValueError):
                pass
        return key in self._known

    def remember(self, key: str | None) -> None:
        """``key``'s file loaded without a shape problem."""
        if key is None or self.knows(key):
            return
        assert self._known is not None and self.path is not None
        self._known.add(key)
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            mode = "w" if len(self._known) > MAX_KEPT else "a"
            if mode == "w":
                self._known = {key}
            with open(self.path, mode, encoding="ascii") as handle:  # one short line: appends from several processes do not interleave
                handle.write(key + "\n")
        except OSError:
            pass
