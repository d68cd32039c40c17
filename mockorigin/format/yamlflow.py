"""Values as one line of YAML flow text (``{status: 200, body: ok}``), for messages and docs."""

from __future__ import annotations

import yaml


def flow(value: object) -> str:
    """``value`` in YAML flow style on one line, quoted wherever YAML needs it."""
    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 30, sort_keys=False, allow_unicode=True)
    return text.removesuffix("\n...\n").removesuffix("\n")
