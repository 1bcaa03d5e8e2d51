"""The `servable` block: DLHub's shim and type, the model's summary, options, and the methods, `run` first."""

from __future__ import annotations

import copy
from typing import Any

from dlhub_manifest.build.inspect import Inspection, Inspector
from dlhub_manifest.build.types import declared_argument
from dlhub_manifest.manifest.diagnostics import Diagnostic
from dlhub_manifest.manifest.load import Document

_MERGED = ("parameters", "method_details")


def servable_block(kind: Inspector, inspection: Inspection, methods: dict[str, Any]) -> dict[str, Any]:
    """The servable block; empty model fields are left out rather than written as null."""
    block: dict[str, Any] = {"type": kind.label, "shim": kind.shim, "methods": methods,
                             "options": dict(inspection.options)}
    if inspection.model_type:
        block["model_type"] = inspection.model_type
    if inspection.model_summary:
        block["model_summary"] = inspection.model_summary
    return block


def merge_methods(inspected: dict[str, Any], declared: dict[str, Any]) -> dict[str, Any]:
    """Inspected methods overlaid by the manifest's: declared input/output replace, parameters/details merge.

    `run` comes first, then the other methods by name.
    """
    names = ["run", *sorted((set(inspected) | set(declared)) - {"run"})]
    merged: dict[str, Any] = {}
    for name in names:
        method = copy.deepcopy(inspected.get(name, {}))
        mine = declared.get(name) or {}
        for key in ("input", "output"):
            if key in mine:
                method[key] = declared_argument(mine[key])
        for key in _MERGED:
            method[key] = {**method.get(key, {}), **(mine.get(key) or {})}
        if mine.get("description"):
            method["description"] = mine["description"]
        merged[name] = method
    return merged


def incomplete(doc: Document, methods: dict[str, Any], inspected: bool) -> list[Diagnostic]:
    """A method without input or output cannot be called: say what to declare."""
    out = []
    for name, method in methods.items():
        missing = [k for k in ("input", "output") if k not in method]
        if not missing:
            continue
        where = ("servable", "methods", name) if name in (doc.data["servable"].get("methods") or {}) \
            else ("servable", "type")
        why = "inspection is off (--no-inspect)" if not inspected else "inspection could not find it"
        out.append(doc.diagnostic(where, f"method {name!r} has no {' or '.join(missing)}: {why}",
                                  f"declare servable.methods.{name}.{missing[0]}"
                                  + (" or build without --no-inspect" if not inspected else "")))
    return out
