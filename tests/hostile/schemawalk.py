"""Walk a manifest alongside the JSON Schema: which sub-schemas govern each field, and which types they take.

Follows `$ref`, `allOf`, `if`/`then` (evaluated on the data), and the `anyOf`/`oneOf` branches whose type
fits the value, so `servable.options` of a pytorch servable is governed by `options_pytorch`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO / "schemas" / "dlhub-manifest.v1.schema.json"
JSON_TYPES = ("string", "integer", "number", "boolean", "null", "array", "object")

Schema = dict[str, Any]
FieldPath = tuple[Any, ...]


@cache
def schema() -> Schema:
    """The manifest schema, read straight from the repository."""
    data: Schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return data


def json_type(value: Any) -> str:
    """The JSON type name of a Python value as YAML loads it."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return {str: "string", type(None): "null", list: "array", dict: "object"}[type(value)]


@dataclass(frozen=True)
class Field:
    """A field of a manifest: the schemas declared for it, and those that govern its present value.

    `declared` says which types the field takes (a creator is a string or a mapping); `governing` adds the
    branches chosen by the value (this creator is a mapping, so the creator object's rules apply).
    """

    path: FieldPath
    declared: list[Schema]
    governing: list[Schema]


def walk(data: Any) -> Iterator[Field]:
    """Every field in `data`, depth first."""
    yield from _walk([schema()], data, ())


def _walk(nodes: list[Schema], value: Any, path: FieldPath) -> Iterator[Field]:
    governing = [s for n in nodes for s in expand(n, value)]
    if path:
        yield Field(path, [deref(n) for n in nodes], governing)
    if isinstance(value, dict):
        for key, child in value.items():
            subs = _property(governing, key)
            if subs:
                yield from _walk(subs, child, (*path, key))
    elif isinstance(value, list):
        subs = [s["items"] for s in governing if isinstance(s.get("items"), dict)]
        for i, child in enumerate(value):
            if subs:
                yield from _walk(subs, child, (*path, i))


def expand(node: Schema, value: Any) -> list[Schema]:
    """`node` and every sub-schema that applies to `value` through $ref, allOf, if/then and fitting branches."""
    node = deref(node)
    out = [node]
    for sub in node.get("allOf", []):
        sub = deref(sub)
        if "if" in sub:
            if accepts(sub["if"], value):
                out.extend(expand(sub["then"], value))
        else:
            out.extend(expand(sub, value))
    for keyword in ("anyOf", "oneOf"):
        for sub in node.get(keyword, []):
            if json_type(value) in allowed_types([sub]) and _branch_fits(sub, value):
                out.extend(expand(sub, value))
    return out


def _branch_fits(sub: Schema, value: Any) -> bool:
    """A required-keys-only branch (`related` is identifier XOR doi) applies when its keys are there."""
    sub = deref(sub)
    return not isinstance(value, dict) or all(k in value for k in sub.get("required", []))


def deref(node: Schema) -> Schema:
    """Follow `$ref` (keeping sibling keywords, as draft 2020-12 does)."""
    while "$ref" in node:
        target: Any = schema()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def accepts(node: Schema, value: Any) -> bool:
    """Whether `value` is valid under `node` alone (an `if` condition, or a string field's own rules)."""
    import jsonschema

    return bool(jsonschema.Draft202012Validator(node).is_valid(value))


def _property(governing: list[Schema], key: Any) -> list[Schema]:
    named = [s["properties"][key] for s in governing if key in s.get("properties", {})]
    if named:
        return named
    return [s["additionalProperties"] for s in governing if isinstance(s.get("additionalProperties"), dict)]


def allowed_types(nodes: list[Schema]) -> set[str]:
    """JSON types a value may have under all of `nodes` (an `integer` is also a `number`)."""
    allowed = set(JSON_TYPES)
    for node in nodes:
        allowed &= _types_of(deref(node))
    return allowed


def _types_of(node: Schema) -> set[str]:
    if "const" in node:
        found = {json_type(node["const"])}
    elif "enum" in node:
        found = {json_type(v) for v in node["enum"]}
    elif "type" in node:
        found = set(node["type"] if isinstance(node["type"], list) else [node["type"]])
    elif node.get("anyOf") or node.get("oneOf"):
        found = set().union(*(_types_of(deref(b)) for b in node.get("anyOf") or node["oneOf"]))
    else:
        found = set(JSON_TYPES)
    if "number" in found:
        found.add("integer")
    return found


def closed(nodes: list[Schema]) -> bool:
    """Whether the mapping governed by `nodes` refuses keys it does not name."""
    return any(n.get("additionalProperties") is False for n in nodes)

