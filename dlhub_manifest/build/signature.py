"""A Python callable's signature as DLHub method parts: inputs from hints, defaults as parameters.

`describe_callable` runs inside the inspection subprocess (it touches user code) and returns plain JSON;
`method_parts` runs in the builder and turns that into input/output blocks and problems.
"""

from __future__ import annotations

import contextlib
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dlhub_manifest.build.types import Argument, HintProblem, hint_to_argument, jsonable

_SKIPPED = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def describe_callable(fn: Callable[..., Any]) -> dict[str, Any]:
    """JSON description of `fn`: one entry per required parameter (argument or problem), defaults, output."""
    sig = inspect.signature(fn)
    hints, unresolved = _hints(fn)
    inputs: list[dict[str, Any]] = []
    parameters: dict[str, Any] = {}
    for p in sig.parameters.values():
        if p.kind in _SKIPPED:
            continue
        if p.default is not inspect.Parameter.empty:
            parameters[p.name] = jsonable(p.default)
        elif p.kind is inspect.Parameter.KEYWORD_ONLY:
            inputs.append({"name": p.name, "problem": f"keyword-only parameter '{p.name}' has no default; "
                                                      "give it one or make it positional"})
        else:
            inputs.append({"name": p.name, **_convert(p.name, hints, p.annotation, unresolved)})
    output = _convert("return", hints, sig.return_annotation, unresolved)
    return {"inputs": inputs, "parameters": parameters, "output": output, "signature": _signature_text(fn, sig)}


def _hints(fn: Callable[..., Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Resolved hints by name, and why any could not be resolved (one bad hint must not hide the others)."""
    target = getattr(fn, "__func__", fn)
    try:
        return typing.get_type_hints(target), {}
    except Exception:  # noqa: BLE001 - a bad forward reference in user code becomes a diagnostic
        pass
    hints: dict[str, Any] = {}
    unresolved: dict[str, str] = {}
    scope = getattr(target, "__globals__", {})
    for name, annotation in getattr(target, "__annotations__", {}).items():
        try:
            hints[name] = eval(annotation, scope) if isinstance(annotation, str) else annotation  # noqa: S307
        except Exception as e:  # noqa: BLE001
            unresolved[name] = f"{type(e).__name__}: {e}"
    return hints, unresolved


def _convert(name: str, hints: dict[str, Any], annotation: Any, unresolved: dict[str, str]) -> dict[str, Any]:
    what = "the return value" if name == "return" else f"parameter '{name}'"
    if annotation is inspect.Parameter.empty:
        return {"problem": f"{what} has no type hint"}
    if name in unresolved:
        return {"problem": f"the type hint of {what} cannot be resolved ({unresolved[name]})"}
    try:
        return {"argument": hint_to_argument(hints.get(name, annotation))}
    except HintProblem as e:
        return {"problem": f"{what}: {e}"}


def _signature_text(fn: Callable[..., Any], sig: inspect.Signature) -> str:
    """`name(x: list[float], clip: bool = False) -> list[float]`, with string hints evaluated when possible."""
    with contextlib.suppress(Exception):  # keep the unevaluated form when a hint does not evaluate
        sig = inspect.signature(fn, eval_str=True)
    return f"{_name(fn)}{sig}"


def _name(fn: Callable[..., Any]) -> str:
    return str(getattr(fn, "__qualname__", None) or getattr(fn, "__name__", "function"))


@dataclass
class MethodParts:
    """Input, output and parameters of a method, and what kept them from being complete."""

    input: Argument | None = None
    output: Argument | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    unpack: bool = False
    problems: list[str] = field(default_factory=list)


def method_parts(description: dict[str, Any], declared: dict[str, Any]) -> MethodParts:
    """Compose DLHub input/output from a `describe_callable` result; declared blocks silence problems."""
    parts = MethodParts(parameters=dict(description.get("parameters", {})))
    inputs = description.get("inputs", [])
    if "input" not in declared:
        parts.problems.extend(i["problem"] for i in inputs if "problem" in i)
        arguments = [i["argument"] for i in inputs if "argument" in i]
        if len(arguments) == len(inputs):
            parts.input, parts.unpack = _combine(arguments)
    output = description.get("output", {})
    if "output" not in declared:
        if "problem" in output:
            parts.problems.append(output["problem"])
        parts.output = output.get("argument")
    return parts


def _combine(arguments: list[Argument]) -> tuple[Argument, bool]:
    """One positional parameter is the input itself; several are a tuple unpacked into the call."""
    if not arguments:
        return {"type": "python object", "python_type": "builtins.NoneType"}, False
    if len(arguments) == 1:
        return arguments[0], False
    return {"type": "tuple", "element_types": arguments}, True
