"""Check a JSON value against a DLHub argument block before any model is loaded.

Every mismatch is reported at once, located by its JSON path (`input[0][2]: expected float, got 'x'`).
`python object` accepts anything (JSON cannot say which Python type a value is).
"""

from __future__ import annotations

import json
from typing import Any

MAX_PROBLEMS = 50
_SCALARS = {
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "datetime": lambda v: isinstance(v, str),
    "timedelta": lambda v: isinstance(v, (str, int, float)) and not isinstance(v, bool),
    "file": lambda v: isinstance(v, str),
    "complex": lambda v: isinstance(v, (int, float, str)) and not isinstance(v, bool),
}


def check_value(spec: dict[str, Any], value: Any, path: str = "input") -> list[str]:
    """Every way `value` does not fit `spec`, as `path: expected ..., got ...` lines (empty when it fits)."""
    problems: list[str] = []
    _check(spec, value, path, problems)
    if len(problems) > MAX_PROBLEMS:
        problems[MAX_PROBLEMS:] = [f"(and {len(problems) - MAX_PROBLEMS} more)"]
    return problems


def check_parameters(declared: dict[str, Any], given: dict[str, Any]) -> list[str]:
    """`--param` values against the method's parameters: known names, and the type of their default."""
    problems = []
    for name, value in given.items():
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            problems.append(f"parameters.{name}: the method has no parameter {name!r} (it has: {known})")
            continue
        default = declared[name]
        if default is not None and not _same_kind(default, value):
            problems.append(f"parameters.{name}: expected {_kind(default)} like the default {_show(default)}, "
                            f"got {_show(value)}")
    return problems


def _check(spec: dict[str, Any], value: Any, path: str, problems: list[str]) -> None:
    kind = spec.get("type")
    if kind == "ndarray":
        _array(spec, value, path, list(spec.get("shape") or []), problems)
    elif kind == "list":
        _list(spec, value, path, problems)
    elif kind == "tuple":
        _tuple(spec, value, path, problems)
    elif kind == "dict":
        _dict(spec, value, path, problems)
    elif kind in _SCALARS and not _SCALARS[kind](value):
        problems.append(f"{path}: expected {kind}, got {_show(value)}")


def _array(spec: dict[str, Any], value: Any, path: str, shape: list[int | None], problems: list[str]) -> None:
    """Nested lists, one level per dimension; a fixed size must match; leaves are checked against item_type."""
    if not shape:
        item = spec.get("item_type") or {"type": "python object"}
        if isinstance(value, list):
            problems.append(f"{path}: expected {item.get('type')} (an array element), got a list")
        else:
            _check(item, value, path, problems)
        return
    if not isinstance(value, list):
        problems.append(f"{path}: expected an array of shape {_shape(spec)}, got {_show(value)}")
        return
    if shape[0] is not None and len(value) != shape[0]:
        problems.append(f"{path}: expected {shape[0]} items (shape {_shape(spec)}), got {len(value)}")
    for i, item in enumerate(value):
        _array(spec, item, f"{path}[{i}]", shape[1:], problems)


def _list(spec: dict[str, Any], value: Any, path: str, problems: list[str]) -> None:
    if not isinstance(value, list):
        problems.append(f"{path}: expected a list, got {_show(value)}")
        return
    item = spec.get("item_type")
    if isinstance(item, dict):
        for i, element in enumerate(value):
            _check(item, element, f"{path}[{i}]", problems)


def _tuple(spec: dict[str, Any], value: Any, path: str, problems: list[str]) -> None:
    elements = spec.get("element_types") or []
    if not isinstance(value, list):
        problems.append(f"{path}: expected a list of {len(elements)} (a tuple), got {_show(value)}")
        return
    if len(value) != len(elements):
        problems.append(f"{path}: expected {len(elements)} elements (a tuple), got {len(value)}")
    for i, (element, item) in enumerate(zip(elements, value, strict=False)):
        _check(element, item, f"{path}[{i}]", problems)


def _dict(spec: dict[str, Any], value: Any, path: str, problems: list[str]) -> None:
    if not isinstance(value, dict):
        problems.append(f"{path}: expected an object, got {_show(value)}")
        return
    for key, prop in (spec.get("properties") or {}).items():
        where = f"{path}.{key}" if key.isidentifier() else f"{path}[{json.dumps(key)}]"
        if key not in value:
            problems.append(f"{where}: missing (expected {prop.get('type')})")
        else:
            _check(prop, value[key], where, problems)


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (float, int)) if isinstance(default, float) else isinstance(value, int)
    return isinstance(value, type(default))


def _kind(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
             dict: "an object"}
    return names.get(type(value), type(value).__name__)


def _shape(spec: dict[str, Any]) -> str:
    return "[" + ", ".join("null" if d is None else str(d) for d in spec.get("shape") or []) + "]"


def _show(value: Any) -> str:
    """A short rendering of a JSON value: scalars as Python shows them, containers by their size."""
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    if value is None:
        return "null"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
