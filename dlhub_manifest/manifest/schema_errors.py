"""Turn jsonschema errors into located diagnostics with plain-English messages and hints."""

from __future__ import annotations

import json
import re
from typing import Any

from dlhub_manifest.manifest.checks import suggest
from dlhub_manifest.manifest.diagnostics import Diagnostic, FieldPath
from dlhub_manifest.manifest.load import Document

_TYPE_NAMES = {"integer": "an integer", "string": "a string", "number": "a number", "boolean": "true or false",
               "array": "a list", "object": "a mapping", "null": "empty"}


def schema_diagnostics(doc: Document, validator: Any, schema: dict[str, Any]) -> list[Diagnostic]:
    """Every schema violation in `doc`, one diagnostic each, most specific error chosen for any/oneOf."""
    out: list[Diagnostic] = []
    for error in validator.iter_errors(doc.data):
        out.extend(_convert(doc, _most_specific(error), schema))
    return out


def _most_specific(error: Any) -> Any:
    """For anyOf/oneOf, descend into the branch that matches the value's type, not 'valid under none'."""
    from jsonschema.exceptions import best_match

    while error.context:
        relevant = [e for e in error.context if not (e.validator == "type" and not e.relative_path)]
        if not relevant:
            break
        error = best_match(relevant)
    return error


def _convert(doc: Document, error: Any, schema: dict[str, Any]) -> list[Diagnostic]:
    path: FieldPath = tuple(error.absolute_path)
    kind = error.validator
    value = error.instance
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extras = [str(k) for k in value if k not in allowed] if isinstance(value, dict) else []
        return [_unknown_key(doc, path, k, allowed) for k in extras]
    if kind == "required":
        missing = _quoted(error.message)
        prop = error.schema.get("properties", {}).get(missing, {})
        hint = _describe(prop, schema)
        return [doc.diagnostic(path, f"missing required field {missing!r}", hint)]
    if kind == "type":
        wanted = error.validator_value
        names = " or ".join(_TYPE_NAMES.get(str(t), str(t)) for t in (wanted if isinstance(wanted, list) else [wanted]))
        hint = _describe(error.schema, schema)
        return [doc.diagnostic(path, f"{_show(value)} is not {names}", hint)]
    if kind in ("enum", "const"):
        choices = error.validator_value if kind == "enum" else [error.validator_value]
        guess = suggest(str(value), [str(c) for c in choices]) if isinstance(value, str) else None
        hint = f"did you mean {guess!r}?" if guess else "one of: " + ", ".join(_show(c) for c in choices)
        return [doc.diagnostic(path, f"{_show(value)} is not an allowed value", hint)]
    if kind == "pattern":
        return [doc.diagnostic(path, f"{_show(value)} does not have the expected form",
                               _pattern_hint(path, error.schema, schema))]
    if kind in ("minItems", "minLength"):
        return [doc.diagnostic(path, "must not be empty", _describe(error.schema, schema))]
    if kind in ("minimum", "maximum"):
        return [doc.diagnostic(path, f"{_show(value)} is out of range ({kind} {error.validator_value})")]
    if kind == "oneOf" and isinstance(value, dict) and {"doi", "identifier"} <= set(value):
        return [doc.diagnostic(path, "give either `identifier` or `doi`, not both")]
    if kind == "propertyNames":
        return [doc.diagnostic(path, f"{error.message}", "names are letters, digits and _, not starting with a digit")]
    return [doc.diagnostic(path, error.message)]


def _unknown_key(doc: Document, path: FieldPath, key: str, allowed: list[str]) -> Diagnostic:
    guess = suggest(key, allowed)
    if guess:
        hint = f"did you mean {guess!r}?"
    elif allowed:
        hint = "allowed here: " + ", ".join(allowed)
    else:
        hint = None
    return doc.diagnostic((*path, key), f"unknown field {key!r}", hint)


def _describe(prop: dict[str, Any], schema: dict[str, Any]) -> str | None:
    if "$ref" in prop and "description" not in prop:
        prop = _deref(prop["$ref"], schema)
    desc = prop.get("description")
    examples = prop.get("examples")
    if not desc:
        return None
    if examples:
        return f"{desc.rstrip('.')}, e.g. {_show(examples[0])}"
    return str(desc)


def _deref(ref: str, schema: dict[str, Any]) -> dict[str, Any]:
    node: Any = schema
    for part in ref.lstrip("#/").split("/"):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node if isinstance(node, dict) else {}


def _pattern_hint(path: FieldPath, sub: dict[str, Any], schema: dict[str, Any]) -> str | None:
    field = path[-1] if path else None
    special = {
        "name": "lower-case letters, digits, '.', '_' and '-', starting with a letter or digit, e.g. 'iris-classifier'",
        "version": "a semantic version such as 1.2.0 (no leading 'v')",
        "orcid": "16 digits in groups of four, e.g. 0000-0002-1825-0097",
    }
    if isinstance(field, str) and field in special:
        return special[field]
    if "visible_to" in path:
        return "'public', or a Globus URN such as urn:globus:groups:id:<uuid> or urn:globus:auth:identity:<uuid>"
    return _describe(sub, schema)


def _quoted(message: str) -> str:
    m = re.match(r"^'([^']*)'", message)
    return m.group(1) if m else message


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57] + "...")
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False)
        if len(text) <= 80:
            return text
        return "a mapping" if isinstance(value, dict) else "a list"
    return str(value)
