"""Values written back as YAML the way a person writes behaviours, for messages and the reference.

``flow`` gives one line (``{status: 200, body: ok}``); ``block`` gives a document whose
short mappings and lists stay on one line and whose steps read ``- wait: 1s``. Scalars are
quoted as PyYAML would inside a flow collection (the stricter case), and a string with a line
break or another control character is written double-quoted with escapes, on one line.
"""

from __future__ import annotations

import functools
import json

import yaml

LINE = 110  # a mapping or list longer than this in flow style is written as a block


@functools.lru_cache(maxsize=4096, typed=True)  # typed: True and 1 are written differently
def scalar(value: object, in_flow: bool = True) -> str:
    """One scalar, quoted as YAML needs it inside a flow collection (or, ``in_flow=False``, in a block)."""
    if isinstance(value, str) and any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value):
        return json.dumps(value, ensure_ascii=False)  # JSON's escapes are YAML's double-quoted ones
    if in_flow:
        return yaml.safe_dump([value], default_flow_style=True, width=1 << 30, allow_unicode=True).strip()[1:-1]
    return yaml.safe_dump(value, width=1 << 30, allow_unicode=True).removesuffix("\n...\n").strip()


def flow(value: object) -> str:
    """``value`` in YAML flow style on one line, quoted wherever YAML needs it."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(key)}: {flow(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(item) for item in value) + "]"
    return scalar(value)


def block(value: object) -> str:
    """``value`` (a mapping) as a YAML document."""
    return "\n".join(_mapping_lines(value, 0)) + "\n"  # type: ignore[arg-type]


def _mapping_lines(mapping: dict, indent: int) -> list[str]:
    lines: list[str] = []
    for key, item in mapping.items():
        lines += _entry(f"{' ' * indent}{scalar(key)}:", item, indent + 2)
    return lines


def _entry(lead: str, item: object, indent: int) -> list[str]:
    """``lead`` (``key:`` or ``-``) followed by ``item``: on the same line when it fits."""
    if not isinstance(item, (dict, list)):
        return [f"{lead} {scalar(item, in_flow=False)}"]
    fits = len(lead) + 1 + len(flow(item)) <= LINE and not (indent == 2 and _depth(item) > 1)
    if not item or fits and not _holds_steps(item):
        return [f"{lead} {flow(item)}"]
    if isinstance(item, dict):
        return [lead, *_mapping_lines(item, indent)]
    lines = [lead]
    for element in item:
        dash = f"{' ' * indent}-"
        if isinstance(element, dict) and element and not len(dash) + 1 + len(flow(element)) <= LINE // 2:
            first, *rest = _mapping_lines(element, indent + 2)
            lines += [f"{dash} {first.lstrip()}", *rest]
        elif isinstance(element, dict) and len(element) == 1:
            (key, value), = element.items()
            lines += _entry(f"{dash} {scalar(key)}:", value, indent + 4)
        else:
            lines += _entry(dash, element, indent + 2)
    return lines


def _depth(item: object) -> int:
    if isinstance(item, dict):
        return 1 + max(map(_depth, item.values()), default=0)
    if isinstance(item, list):
        return 1 + max(map(_depth, item), default=0)
    return 0


def _holds_steps(item: object) -> bool:
    """A list of one-key mappings (a script, ``then``) reads best one step a line."""
    return isinstance(item, list) and len(item) > 1 and all(isinstance(e, dict) and len(e) == 1 for e in item)
