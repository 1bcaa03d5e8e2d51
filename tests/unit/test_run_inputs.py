"""Input checks before any model is loaded: every mismatch, located by its JSON path; example comparison."""

from __future__ import annotations

from typing import Any

import pytest

from dlhub_manifest.run.examples import compare
from dlhub_manifest.run.inputs import MAX_PROBLEMS, check_parameters, check_value

MATRIX = {"type": "ndarray", "shape": [None, 4], "item_type": {"type": "float"}}


def test_a_fitting_matrix_has_no_problems() -> None:
    assert check_value(MATRIX, [[1, 2.5, 3, 4], [0, 0, 0, 0]]) == []


def test_every_mismatch_is_reported_with_its_json_path() -> None:
    problems = check_value(MATRIX, [[1, 2, "x", 4], [1, 2, 3], 7])
    assert problems == [
        "input[0][2]: expected float, got 'x'",
        "input[1]: expected 4 items (shape [null, 4]), got 3",
        "input[2]: expected an array of shape [null, 4], got 7",
    ]


def test_an_array_given_too_deep_or_too_flat() -> None:
    assert check_value(MATRIX, [1, 2, 3, 4])[0] == "input[0]: expected an array of shape [null, 4], got 1"
    deep = check_value({"type": "ndarray", "shape": [2], "item_type": {"type": "integer"}}, [[1], 2])
    assert deep == ["input[0]: expected integer (an array element), got a list"]


@pytest.mark.parametrize(("spec", "value", "problem"), [
    ({"type": "list", "item_type": {"type": "string"}}, ["a", 3], "input[1]: expected string, got 3"),
    ({"type": "list", "item_type": {"type": "float"}}, {"a": 1}, "input: expected a list, got an object"),
    ({"type": "tuple", "element_types": [{"type": "integer"}, {"type": "string"}]}, [1, 2],
     "input[1]: expected string, got 2"),
    ({"type": "tuple", "element_types": [{"type": "integer"}, {"type": "string"}]}, [1],
     "input: expected 2 elements (a tuple), got 1"),
    ({"type": "dict", "properties": {"mass": {"type": "float"}}}, {"mass": "heavy"},
     "input.mass: expected float, got 'heavy'"),
    ({"type": "dict", "properties": {"mass": {"type": "float"}}}, {}, "input.mass: missing (expected float)"),
    ({"type": "integer"}, True, "input: expected integer, got True"),
    ({"type": "boolean"}, 1, "input: expected boolean, got 1"),
])
def test_each_argument_type(spec: dict[str, Any], value: Any, problem: str) -> None:
    assert check_value(spec, value) == [problem]


def test_a_python_object_accepts_any_json() -> None:
    assert check_value({"type": "python object", "python_type": "x.Y"}, {"any": [1, "thing"]}) == []


def test_a_huge_bad_input_reports_a_bounded_list() -> None:
    problems = check_value({"type": "list", "item_type": {"type": "float"}}, ["x"] * 500)
    assert len(problems) == MAX_PROBLEMS + 1 and problems[-1] == f"(and {500 - MAX_PROBLEMS} more)"


def test_parameters_must_be_known_and_of_the_default_s_kind() -> None:
    declared = {"clip": False, "scale": 1.0, "label": None}
    assert check_parameters(declared, {"clip": True, "scale": 2, "label": [1]}) == []
    assert check_parameters(declared, {"clip": "yes", "depth": 3}) == [
        "parameters.clip: expected a boolean like the default False, got 'yes'",
        "parameters.depth: the method has no parameter 'depth' (it has: clip, label, scale)",
    ]


def test_example_comparison_uses_the_tolerance_and_says_by_how_much() -> None:
    assert compare([[0.98, 0.02]], [[0.9801, 0.0199]], 0.001) == []
    assert compare([[0.98, 0.02]], [[0.5, 0.02]], 0.001) == [
        "output[0][0]: expected 0.98, got 0.5 (off by 0.48, tolerance 0.001)"]
    assert compare(["a", "b"], ["a"], 0.0) == ["output: expected 2 items, got 1"]
    assert compare({"n": 1}, {"n": True}, 0.0) == ["output.n: expected 1, got True"]
