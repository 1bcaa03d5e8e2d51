"""A yes/no JSON Schema check compiled to closures, so a valid manifest never pays for importing jsonschema.

Only a "valid" answer is trusted: anything else goes through jsonschema, which explains the problems.
The compiler knows the draft 2020-12 keywords our schema uses, with jsonschema's semantics (bool is not a
number, 1.0 is an integer, `re.search` for patterns); any other keyword raises `Unsupported`, which turns
the fast path off instead of silently skipping a check.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from numbers import Number
from typing import Any

from dlhub_manifest.errors import InternalError

Check = Callable[[Any], bool]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
# Keywords that only annotate: they never change whether an instance is valid.
_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "$comment", "title", "description", "examples", "default",
                          "deprecated", "readOnly", "writeOnly"})


class Unsupported(InternalError):
    """The schema uses something this compiler does not implement; use jsonschema alone."""


def compile_schema(root: dict[str, Any]) -> Check:
    """A function telling whether an instance is valid against `root` (a draft 2020-12 schema)."""
    if not isinstance(root, dict) or root.get("$schema") != DIALECT:
        raise Unsupported("only draft 2020-12 schemas are compiled")
    return _Compiler(root).compile(root)


def is_type(instance: Any, name: str) -> bool:
    """jsonschema's draft 2020-12 type checker."""
    if name == "integer":
        if isinstance(instance, float):
            return instance.is_integer()
        return isinstance(instance, int) and not isinstance(instance, bool)
    if name == "number":
        return isinstance(instance, Number) and not isinstance(instance, bool)
    kind = _TYPES.get(name)
    if kind is None:
        raise Unsupported(f"unknown type {name!r}")
    return isinstance(instance, kind)


_TYPES: dict[str, type | tuple[type, ...]] = {"string": str, "object": dict, "array": list, "boolean": bool,
                                              "null": type(None)}


def equal(one: Any, two: Any) -> bool:
    """jsonschema's `equal`: like ==, except that true/false never equal 1/0, also inside lists and mappings."""
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(equal(one[k], two[k]) for k in one)
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one == two
    return bool(one == two)


def _always(_instance: Any) -> bool:
    return True


def _never(_instance: Any) -> bool:
    return False


class _Compiler:
    """Compiles each subschema once; `$ref`s resolve lazily so recursive schemas work."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, list[Check]] = {}

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise Unsupported(f"not a schema: {schema!r}")
        if "$id" in schema and schema is not self.root:
            raise Unsupported("nested $id changes the base URI")
        checks = [self._keyword(key, value, schema) for key, value in schema.items()
                  if key not in _ANNOTATIONS and key not in ("then", "else")]
        if len(checks) == 1:
            return checks[0]
        return lambda instance: all(check(instance) for check in checks)

    def _keyword(self, key: str, value: Any, schema: dict[str, Any]) -> Check:
        builder = _KEYWORDS.get(key)
        if builder is None:
            raise Unsupported(f"keyword {key!r} is not compiled")
        return builder(self, value, schema)

    def ref(self, ref: str) -> Check:
        if ref not in self.refs:
            holder: list[Check] = []
            self.refs[ref] = holder
            holder.append(self.compile(self._resolve(ref)))
        target = self.refs[ref]
        return lambda instance: target[0](instance)

    def _resolve(self, ref: str) -> Any:
        if not ref.startswith("#") or "%" in ref or (len(ref) > 1 and not ref.startswith("#/")):
            raise Unsupported(f"only local JSON-pointer $refs are compiled, not {ref!r}")
        node: Any = self.root
        for part in ref[2:].split("/") if len(ref) > 1 else []:
            key = part.replace("~1", "/").replace("~0", "~")
            try:
                node = node[int(key)] if isinstance(node, list) else node[key]
            except (KeyError, IndexError, ValueError, TypeError) as e:
                raise Unsupported(f"unresolvable $ref {ref!r}") from e
        return node


Builder = Callable[[_Compiler, Any, dict[str, Any]], Check]


def _type(_c: _Compiler, value: Any, _schema: dict[str, Any]) -> Check:
    names = value if isinstance(value, list) else [value]
    for name in names:
        is_type(None, name)  # refuse unknown type names now, not at check time
    return lambda x: any(is_type(x, name) for name in names)


def _on(kind: str, test: Callable[[Any], bool]) -> Check:
    """A check that applies only to instances of one JSON type (others pass, as in JSON Schema)."""
    return lambda x: not is_type(x, kind) or test(x)


def _properties(c: _Compiler, value: dict[str, Any], _schema: dict[str, Any]) -> Check:
    subs = [(name, c.compile(sub)) for name, sub in value.items()]
    return _on("object", lambda x: all(check(x[name]) for name, check in subs if name in x))


def _additional(c: _Compiler, value: Any, schema: dict[str, Any]) -> Check:
    if "patternProperties" in schema:
        raise Unsupported("patternProperties")
    known = frozenset(schema.get("properties", {}))
    check = c.compile(value)
    return _on("object", lambda x: all(check(x[k]) for k in x if k not in known))


def _items(c: _Compiler, value: Any, schema: dict[str, Any]) -> Check:
    if "prefixItems" in schema:
        raise Unsupported("prefixItems")
    check = c.compile(value)
    return _on("array", lambda x: all(check(item) for item in x))


def _property_names(c: _Compiler, value: Any, _schema: dict[str, Any]) -> Check:
    check = c.compile(value)
    return _on("object", lambda x: all(check(k) for k in x))


def _required(_c: _Compiler, value: list[str], _schema: dict[str, Any]) -> Check:
    return _on("object", lambda x: all(name in x for name in value))


def _pattern(_c: _Compiler, value: str, _schema: dict[str, Any]) -> Check:
    def matches(x: str) -> bool:
        # re.search compiles on first use and caches: patterns of fields a manifest lacks cost nothing.
        try:
            return re.search(value, x) is not None
        except re.error:
            return False  # let jsonschema report the broken pattern
    return _on("string", matches)


def _bound(kind: str, test: Callable[[Any, Any], bool]) -> Builder:
    """A builder for limit keywords such as minLength: `test(instance, limit)` must hold."""
    return lambda _c, value, _schema: _on(kind, lambda x: test(x, value))


def _if(c: _Compiler, value: Any, schema: dict[str, Any]) -> Check:
    condition = c.compile(value)
    then = c.compile(schema.get("then", True))
    otherwise = c.compile(schema.get("else", True))
    return lambda x: then(x) if condition(x) else otherwise(x)


def _any_of(c: _Compiler, value: list[Any], _schema: dict[str, Any]) -> Check:
    subs = [c.compile(sub) for sub in value]
    return lambda x: any(check(x) for check in subs)


def _all_of(c: _Compiler, value: list[Any], _schema: dict[str, Any]) -> Check:
    subs = [c.compile(sub) for sub in value]
    return lambda x: all(check(x) for check in subs)


def _one_of(c: _Compiler, value: list[Any], _schema: dict[str, Any]) -> Check:
    subs = [c.compile(sub) for sub in value]
    return lambda x: sum(1 for check in subs if check(x)) == 1


def _not(c: _Compiler, value: Any, _schema: dict[str, Any]) -> Check:
    check = c.compile(value)
    return lambda x: not check(x)


_KEYWORDS: dict[str, Builder] = {
    "type": _type,
    "properties": _properties,
    "additionalProperties": _additional,
    "items": _items,
    "propertyNames": _property_names,
    "required": _required,
    "pattern": _pattern,
    "minLength": _bound("string", lambda x, n: len(x) >= n),
    "maxLength": _bound("string", lambda x, n: len(x) <= n),
    "minItems": _bound("array", lambda x, n: len(x) >= n),
    "maxItems": _bound("array", lambda x, n: len(x) <= n),
    "minProperties": _bound("object", lambda x, n: len(x) >= n),
    "maxProperties": _bound("object", lambda x, n: len(x) <= n),
    "minimum": _bound("number", lambda x, n: not x < n),
    "maximum": _bound("number", lambda x, n: not x > n),
    "const": lambda _c, value, _schema: lambda x: equal(x, value),
    "enum": lambda _c, value, _schema: lambda x: any(equal(x, each) for each in value),
    "$ref": lambda c, value, _schema: c.ref(value),
    "if": _if,
    "anyOf": _any_of,
    "allOf": _all_of,
    "oneOf": _one_of,
    "not": _not,
}
