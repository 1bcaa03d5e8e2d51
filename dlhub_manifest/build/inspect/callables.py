"""Shared by static_method and class_method: a described Python callable becomes a DLHub method."""

from __future__ import annotations

from typing import Any

from dlhub_manifest.build.inspect.base import InspectContext, Inspection, Method
from dlhub_manifest.build.signature import method_parts
from dlhub_manifest.manifest.diagnostics import FieldPath


def add_method(ctx: InspectContext, out: Inspection, name: str, description: dict[str, Any],
               details: dict[str, Any], where: FieldPath) -> None:
    """Add method `name` from a `describe_callable` result; missing hints become diagnostics at `where`."""
    declared = ctx.declared.get(name, {})
    parts = method_parts(description, declared)
    for problem in parts.problems:
        out.diagnostics.append(ctx.problem(where, f"{description.get('signature', name)}: {problem}",
                                           f"add the type hint, or declare servable.methods.{name}.input/output"))
    method: Method = {"parameters": parts.parameters, "method_details": dict(details)}
    if parts.unpack:
        method["method_details"]["unpack"] = True  # several positional parameters: call f(*inputs)
    if parts.input is not None:
        method["input"] = parts.input
    if parts.output is not None:
        method["output"] = parts.output
    out.methods[name] = method
