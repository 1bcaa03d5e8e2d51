"""Signatures become DLHub methods: hints give inputs/outputs, defaults give parameters, gaps give problems."""

from __future__ import annotations

from typing import Any

import numpy

from dlhub_manifest.build.signature import describe_callable, method_parts


def several(x: numpy.ndarray, names: list[str], *, scale: float = 2.0, tag: str = "t") -> tuple[float, dict[str, int]]:
    raise NotImplementedError


def unhinted(x, y: int):  # type: ignore[no-untyped-def]
    raise NotImplementedError


def forward(x: Missing) -> int:  # type: ignore[name-defined]  # noqa: F821 - the unresolvable hint is the point
    raise NotImplementedError


def kw_only(*, x: int) -> int:
    raise NotImplementedError


def nothing() -> None:
    raise NotImplementedError


def test_several_parameters_become_an_unpacked_tuple_and_defaults_parameters() -> None:
    parts = method_parts(describe_callable(several), {})
    assert parts.problems == []
    assert parts.input == {"type": "tuple", "element_types": [
        {"type": "ndarray", "shape": [None]}, {"type": "list", "item_type": {"type": "string"}}]}
    assert parts.unpack is True
    assert parts.parameters == {"scale": 2.0, "tag": "t"}
    assert parts.output == {"type": "tuple", "element_types": [{"type": "float"}, {"type": "dict", "properties": {}}]}


def test_missing_hints_are_named_problems_not_crashes() -> None:
    description = describe_callable(unhinted)
    parts = method_parts(description, {})
    assert parts.problems == ["parameter 'x' has no type hint", "the return value has no type hint"]
    assert parts.input is None and parts.output is None
    assert description["signature"].startswith("unhinted(x, y: int)")


def test_declared_blocks_silence_the_problems_they_cover() -> None:
    parts = method_parts(describe_callable(unhinted), {"input": {"type": "list"}})
    assert parts.problems == ["the return value has no type hint"]


def test_unresolvable_forward_reference_is_a_problem() -> None:
    parts = method_parts(describe_callable(forward), {})
    assert len(parts.problems) == 1
    assert "type hint of parameter 'x' cannot be resolved" in parts.problems[0]
    assert "Missing" in parts.problems[0]


def test_keyword_only_parameter_without_default_is_a_problem() -> None:
    parts = method_parts(describe_callable(kw_only), {})
    assert parts.problems == ["keyword-only parameter 'x' has no default; give it one or make it positional"]


def test_no_parameters_is_a_none_input_like_dlhub_sdk() -> None:
    parts = method_parts(describe_callable(nothing), {})
    expected: dict[str, Any] = {"type": "python object", "python_type": "builtins.NoneType"}
    assert parts.input == expected and parts.output == expected and not parts.unpack
