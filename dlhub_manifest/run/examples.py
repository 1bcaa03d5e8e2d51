"""Examples: calls declared in the manifest (`servable.methods.<name>.examples`) with the output they must give.

Each example has an `input`, optional `parameters`, and optionally the expected `output` (numbers compared
with `tolerance`, relative or absolute, default 1e-6; without `output` the call only has to succeed).
`run --examples` runs them all; `publish` runs them before submitting and records the outcome in the
document's provenance (`examples: {ran, passed, failed}`), unless `--no-examples`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dlhub_manifest.errors import DLHubManifestError
from dlhub_manifest.run.call import InvalidInputError, RunFailed, call
from dlhub_manifest.run.source import Servable

DEFAULT_TOLERANCE = 1e-6
MAX_DIFFERENCES = 5


@dataclass(frozen=True)
class Example:
    """One declared example: the method, its place in the list, and what the manifest says."""

    method: str
    index: int
    spec: dict[str, Any]

    @property
    def label(self) -> str:
        name = self.spec.get("name")
        return f"{self.method} example {name!r}" if name else f"{self.method} example {self.index + 1}"


@dataclass
class ExampleResult:
    """How one example went: passed, or the differences (or the error) that failed it."""

    example: Example
    passed: bool
    differences: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"example": self.example.label, "method": self.example.method, "passed": self.passed,
                "differences": self.differences, "elapsed_s": round(self.elapsed_s, 6)}


class ExamplesFailed(DLHubManifestError):
    """Some examples did not give their expected output; the message names each and by how much."""

    def __init__(self, results: list[ExampleResult]) -> None:
        self.results = results
        failed = [r for r in results if not r.passed]
        lines = [f"{r.example.label}: " + "; ".join(r.differences) for r in failed]
        super().__init__(f"{len(failed)} of {len(results)} example(s) failed:\n  " + "\n  ".join(lines)
                         + "\n(fix the model or the expected output, or publish with --no-examples)")


def declared_examples(manifest: dict[str, Any]) -> list[Example]:
    """The examples of every method, in manifest order."""
    methods = (manifest.get("servable") or {}).get("methods") or {}
    return [Example(name, i, spec) for name, method in methods.items()
            for i, spec in enumerate((method or {}).get("examples") or [])]


def run_examples(servable: Servable, *, on_result: Callable[[ExampleResult], object] | None = None,
                 **call_options: Any) -> list[ExampleResult]:
    """Run every example of `servable` (each in its own subprocess); `on_result` hears of each as it ends."""
    results = []
    for example in declared_examples(servable.manifest):
        result = run_example(servable, example, **call_options)
        if on_result is not None:
            on_result(result)
        results.append(result)
    return results


def run_example(servable: Servable, example: Example, **call_options: Any) -> ExampleResult:
    """Call the method on the example's input and compare with its expected output."""
    spec = example.spec
    try:
        got = call(servable, example.method, spec.get("input"), spec.get("parameters") or {}, **call_options)
    except InvalidInputError as e:
        return ExampleResult(example, False, e.problems)
    except RunFailed as e:
        return ExampleResult(example, False, [str(e)])
    if "output" not in spec:
        return ExampleResult(example, True, elapsed_s=got.elapsed_s)
    differences = compare(spec["output"], got.output, float(spec.get("tolerance", DEFAULT_TOLERANCE)))
    return ExampleResult(example, not differences, differences, got.elapsed_s)


def compare(expected: Any, actual: Any, tolerance: float, path: str = "output") -> list[str]:
    """Where `actual` differs from `expected` (numbers within `tolerance` are equal), at most a few places."""
    out: list[str] = []
    _compare(expected, actual, tolerance, path, out)
    if len(out) > MAX_DIFFERENCES:
        out[MAX_DIFFERENCES:] = [f"(and {len(out) - MAX_DIFFERENCES} more differences)"]
    return out


def _compare(expected: Any, actual: Any, tol: float, path: str, out: list[str]) -> None:
    if _number(expected) and _number(actual):
        if not math.isclose(expected, actual, rel_tol=tol, abs_tol=tol):
            out.append(f"{path}: expected {expected:.10g}, got {actual:.10g} (off by {abs(actual - expected):.3g}, "
                       f"tolerance {tol:g})")
    elif isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            out.append(f"{path}: expected {len(expected)} items, got {len(actual)}")
            return
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            _compare(e, a, tol, f"{path}[{i}]", out)
    elif isinstance(expected, dict) and isinstance(actual, dict):
        if set(expected) != set(actual):
            out.append(f"{path}: expected keys {sorted(expected)}, got {sorted(actual)}")
            return
        for key in expected:
            _compare(expected[key], actual[key], tol, f"{path}.{key}", out)
    elif expected != actual or type(expected) is not type(actual):
        out.append(f"{path}: expected {expected!r}, got {_short(actual)}")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def summary(results: list[ExampleResult], ran: bool = True) -> dict[str, Any]:
    """The provenance record: whether examples ran, and how many passed and failed."""
    passed = sum(r.passed for r in results)
    return {"ran": ran, "passed": passed, "failed": len(results) - passed}
