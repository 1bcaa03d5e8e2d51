"""The compiled fast check must agree with jsonschema: a fast "valid" jsonschema rejects would weaken validation."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlhub_manifest.manifest.load import load_file
from dlhub_manifest.manifest.schema_fast import DIALECT, Unsupported, compile_schema
from dlhub_manifest.util.resources import manifest_schema

REPO = Path(__file__).resolve().parents[2]
VALID = sorted((REPO / "tests" / "examples" / "valid").glob("*/dlhub.yaml"))
INVALID = sorted((REPO / "tests" / "examples" / "invalid").glob("*.yaml"))

# (schema fragment, instances): the instances probe each keyword's edges and jsonschema's type quirks.
CASES: list[tuple[dict[str, Any], list[Any]]] = [
    ({"type": "integer"}, [1, 1.0, 1.5, True, "1", None, math.nan, math.inf, -0.0]),
    ({"type": "number"}, [1, 2.5, True, False, "2", math.nan]),
    ({"type": ["string", "null"]}, ["a", None, 0, [], {}]),
    ({"type": "boolean"}, [True, False, 0, 1]),
    ({"type": "array"}, [[], (), {}, "ab"]),
    ({"const": 1}, [1, 1.0, True, "1", [1]]),
    ({"const": False}, [False, 0, 0.0, None]),
    ({"const": [1, True]}, [[1, True], [True, 1], [1, 1], [1.0, True]]),
    ({"enum": ["a", 0, None, {"k": [False]}]}, ["a", 0, False, None, {"k": [False]}, {"k": [0]}, "A"]),
    ({"minLength": 2, "maxLength": 3}, ["a", "ab", "abc", "abcd", "é€", 5, ["a"]]),
    ({"minItems": 1, "maxItems": 2}, [[], [1], [1, 2], [1, 2, 3], "", {}]),
    ({"minimum": 1900, "maximum": 2999}, [1900, 1899, 3000, 2999.5, math.nan, True, "1800"]),
    ({"pattern": "^[a-z]+$"}, ["abc", "aBc", "", 7, "abc\n"]),
    ({"pattern": "b"}, ["abc", "xyz"]),
    ({"required": ["a", "b"]}, [{"a": 1, "b": 2}, {"a": 1}, [], "ab"]),
    ({"properties": {"a": {"type": "string"}}, "additionalProperties": False},
     [{"a": "x"}, {"a": 1}, {"b": 1}, {}, [1]]),
    ({"properties": {"a": {}}, "additionalProperties": {"type": "integer"}}, [{"a": "x", "b": 1}, {"b": "x"}]),
    ({"items": {"type": "integer"}}, [[1, 2], [1, "2"], [], {"a": "x"}]),
    ({"propertyNames": {"pattern": "^[a-z_]+$"}}, [{"ab": 1}, {"Ab": 1}, {}, ["Ab"]]),
    ({"anyOf": [{"type": "string"}, {"minimum": 3}]}, ["a", 4, 2, None]),
    ({"oneOf": [{"type": "integer"}, {"minimum": 3}]}, [1, 4, 3.5, "x"]),
    ({"allOf": [{"minimum": 1}, {"maximum": 2}]}, [0, 1, 3]),
    ({"not": {"type": "string"}}, ["a", 1]),
    ({"if": {"properties": {"t": {"const": "a"}}}, "then": {"required": ["x"]}, "else": {"required": ["y"]}},
     [{"t": "a", "x": 1}, {"t": "a", "y": 1}, {"t": "b", "y": 1}, {"t": "b", "x": 1}, {}]),
    ({"then": {"required": ["x"]}}, [{}]),
    ({"$defs": {"n": {"type": "integer"}}, "properties": {"a": {"$ref": "#/$defs/n"}}}, [{"a": 1}, {"a": "1"}]),
    ({"$defs": {"t": {"type": ["object", "integer"], "additionalProperties": {"$ref": "#/$defs/t"}}},
      "$ref": "#/$defs/t"}, [{"a": {"b": 1}}, {"a": {"b": "x"}}, 3]),
    (True, [1, None]),
]


def _pairs() -> list[tuple[Any, Any]]:
    return [(fragment, instance) for fragment, instances in CASES for instance in instances]


@pytest.mark.parametrize(("fragment", "instance"), _pairs())
def test_each_keyword_agrees_with_jsonschema(fragment: Any, instance: Any) -> None:
    body = fragment if isinstance(fragment, dict) else {"allOf": [fragment]}
    schema = {"$schema": DIALECT, **body}
    expected = jsonschema.Draft202012Validator(schema).is_valid(instance)
    assert compile_schema(schema)(instance) is expected


@pytest.mark.parametrize("fragment", [
    {"format": "email"}, {"uniqueItems": True}, {"patternProperties": {"a": {}}, "additionalProperties": False},
    {"$ref": "other.json#/a"}, {"$ref": "#anchor"}, {"prefixItems": [{}], "items": False},
    {"$defs": {"x": {"$id": "https://example.org/x"}}, "$ref": "#/$defs/x"}, {"type": "decimal"},
])
def test_unknown_keywords_turn_the_fast_path_off(fragment: dict[str, Any]) -> None:
    with pytest.raises(Unsupported):
        compile_schema({"$schema": DIALECT, **fragment})


def test_other_dialects_are_not_compiled() -> None:
    with pytest.raises(Unsupported):
        compile_schema({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"})


def _load(path: Path) -> Any:
    doc, _ = load_file(path)
    return doc.data if doc is not None else None


def _schema_valid(data: Any) -> bool:
    return bool(jsonschema.Draft202012Validator(manifest_schema(1)).is_valid(data))


# Our loader refuses some invalid examples (tabs, tags, alias bombs) before the schema; the rest reach it.
LOADABLE = [p for p in VALID + INVALID if load_file(p)[0] is not None]


@pytest.mark.parametrize("path", LOADABLE, ids=lambda p: p.parent.name if p.name == "dlhub.yaml" else p.stem)
def test_example_manifests_agree(path: Path) -> None:
    data = _load(path)
    assert compile_schema(manifest_schema(1))(data) is _schema_valid(data)


def test_example_corpus_has_both_verdicts() -> None:
    fast = compile_schema(manifest_schema(1))
    assert {fast(_load(p)) for p in LOADABLE} == {True, False}


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 3000) | st.floats(allow_nan=True) | st.text(max_size=8)
    | st.sampled_from(["sklearn", "keras", "MIT", "public", "1.2.0", "pickle", "model.pkl", "ndarray", "x:y"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.extend(_paths(value, (*prefix, i)))
    return out


def _mutate(data: Any, path: tuple[Any, ...], action: str, value: Any) -> Any:
    """Replace, delete, or add a sibling at `path` in a copy of `data`."""
    doc = copy.deepcopy(data)
    if not path:
        return value
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "add" and isinstance(parent, dict):
        parent[f"{last}_extra"] = value
    else:
        parent[last] = value
    return doc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_manifests_agree(data: st.DataObject) -> None:
    base = _load(data.draw(st.sampled_from(VALID)))
    path = data.draw(st.sampled_from(_paths(base)))
    action = data.draw(st.sampled_from(["replace", "delete", "add"]))
    mutated = _mutate(base, path, action, data.draw(_JSON))
    assert compile_schema(manifest_schema(1))(mutated) is _schema_valid(mutated)
