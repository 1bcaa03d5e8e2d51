"""A small block-style YAML writer that records the line of every field path it writes.

The corpus computes its expected lines here, independently of the loader under test: a field's line
is the line its key (or its `- ` item) is written on.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

FieldPath = tuple[Any, ...]

_PLAIN_KEY = re.compile(r"[^\W\d][\w.$-]*|\$[\w.$-]+")
_YAML_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "~"}
_BREAKS = ("\n", "\r", "\x85", "\u2028", "\u2029")


@dataclass(frozen=True)
class Raw:
    """A value written verbatim (a tag, an alias, flow text) on the line of its key."""

    text: str


class DupKey(str):
    """A key written a second time: a distinct dict key that prints as `name` (dicts cannot repeat keys)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)


def emit(data: dict[str, Any]) -> tuple[str, dict[FieldPath, int]]:
    """YAML text for `data` and the 1-based line of every field path in it."""
    writer = _Writer()
    writer.mapping(data, (), 0, None)
    return "\n".join(writer.lines) + "\n", writer.where


def scalar(value: Any) -> str:
    """A scalar (or a small list/dict in flow style) as YAML; JSON is valid YAML flow syntax."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, str) and not any(b in value for b in _BREAKS):
        return json.dumps(value, ensure_ascii=False)  # look-alike letters stay literal, as a user would type them
    return json.dumps(value)  # escaped: a raw U+2028 would be a line break to YAML and shift every line after it


def key_text(key: str) -> str:
    """A key written plainly when YAML would read it back as the same string, else JSON-quoted."""
    if _PLAIN_KEY.fullmatch(key) and key.lower() not in _YAML_WORDS:
        return str(key)
    return json.dumps(str(key), ensure_ascii=False)


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.where: dict[FieldPath, int] = {}

    def mapping(self, data: dict[str, Any], path: FieldPath, indent: int, first: str | None) -> None:
        for i, (key, value) in enumerate(data.items()):
            lead = first if i == 0 and first is not None else " " * indent
            self._entry(f"{lead}{key_text(key)}:", value, (*path, key), indent)

    def _entry(self, head: str, value: Any, path: FieldPath, indent: int) -> None:
        self._mark(path, value)
        if isinstance(value, dict) and value:
            self.lines.append(head)
            self.mapping(value, path, indent + 2, None)
        elif _block_list(value):
            self.lines.append(head)
            self.sequence(value, path, indent + 2)
        else:
            self.lines.append(f"{head} {scalar(value)}")

    def sequence(self, items: list[Any], path: FieldPath, indent: int) -> None:
        dash = " " * indent + "- "
        for i, item in enumerate(items):
            self._mark((*path, i), item)
            if isinstance(item, dict) and item:
                self.mapping(item, (*path, i), indent + 2, dash)
            else:
                self.lines.append(dash + scalar(item))

    def _mark(self, path: FieldPath, value: Any) -> None:
        """Record `path`, and every path inside a value written in flow style on this same line."""
        line = len(self.lines) + 1
        self.where[path] = line
        if isinstance(value, dict) and not value or isinstance(value, list) and not _block_list(value):
            for sub in _inner_paths(value, path):
                self.where[sub] = line


def _block_list(value: Any) -> bool:
    """Lists holding mappings are written as blocks; lists of scalars or lists stay on one line."""
    return isinstance(value, list) and any(isinstance(v, dict) and v for v in value)


def _inner_paths(value: Any, path: FieldPath) -> list[FieldPath]:
    if isinstance(value, dict):
        items: list[tuple[Any, Any]] = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return []
    out: list[FieldPath] = []
    for key, child in items:
        out.append((*path, key))
        out.extend(_inner_paths(child, (*path, key)))
    return out
