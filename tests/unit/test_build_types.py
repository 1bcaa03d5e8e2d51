"""Argument blocks from Python type hints, dtypes and declared manifest specs."""

from __future__ import annotations

import datetime
import typing
from collections.abc import Sequence

import numpy
import numpy.typing
import pytest

from dlhub_manifest.build.types import HintProblem, declared_argument, dtype_kind, hint_to_argument, jsonable


class Point(typing.TypedDict):
    x: float
    label: str


class Custom:
    pass


@pytest.mark.parametrize(("hint", "expected"), [
    (int, {"type": "integer"}),
    (float, {"type": "float"}),
    (str, {"type": "string"}),
    (bool, {"type": "boolean"}),
    (complex, {"type": "complex"}),
    (datetime.datetime, {"type": "datetime"}),
    (numpy.ndarray, {"type": "ndarray", "shape": [None]}),
    (numpy.typing.NDArray[numpy.float64], {"type": "ndarray", "shape": [None], "item_type": {"type": "float"}}),
    (list[float], {"type": "list", "item_type": {"type": "float"}}),
    (typing.List[int], {"type": "list", "item_type": {"type": "integer"}}),  # noqa: UP006 - the old spelling too
    (Sequence[str], {"type": "list", "item_type": {"type": "string"}}),
    (tuple[int, str], {"type": "tuple", "element_types": [{"type": "integer"}, {"type": "string"}]}),
    (tuple[float, ...], {"type": "list", "item_type": {"type": "float"}}),
    (dict[str, float], {"type": "dict", "properties": {}}),
    (Point, {"type": "dict", "properties": {"x": {"type": "float"}, "label": {"type": "string"}}}),
    (float | None, {"type": "float"}),
    (typing.Literal["a", "b"], {"type": "string"}),
    (list[list[float]], {"type": "list", "item_type": {"type": "list", "item_type": {"type": "float"}}}),
    (None, {"type": "python object", "python_type": "builtins.NoneType"}),
    (Custom, {"type": "python object", "python_type": f"{__name__}.Custom"}),
])
def test_hint_to_argument(hint: object, expected: dict[str, object]) -> None:
    assert hint_to_argument(hint) == expected


def test_union_of_two_types_is_a_python_object_named_by_the_hint() -> None:
    block = hint_to_argument(int | str)
    assert block["type"] == "python object"
    assert "int" in block["python_type"] and "str" in block["python_type"]


@pytest.mark.parametrize("hint", [list, tuple, dict])
def test_bare_containers_ask_for_their_item_types(hint: type) -> None:
    with pytest.raises(HintProblem, match=rf"bare `{hint.__name__}`.*write e\.g\."):
        hint_to_argument(hint)


@pytest.mark.parametrize(("dtype", "kind"), [
    ("float32", "float"), ("float16", "float"), ("bfloat16", "float"), ("int64", "integer"), ("uint8", "integer"),
    ("bool", "boolean"), ("complex64", "complex"), ("string", "string"), ("torch.float64", "float"),
    ("qint8x", "python object"),
])
def test_dtype_kind(dtype: str, kind: str) -> None:
    assert dtype_kind(dtype) == kind


def test_declared_dict_gets_properties_and_file_list_loses_its_description() -> None:
    declared = {"type": "tuple", "element_types": [
        {"type": "dict"},
        {"type": "list", "description": "images", "item_type": {"type": "file", "file_types": ["image/png"]}},
    ]}
    assert declared_argument(declared) == {"type": "tuple", "element_types": [
        {"type": "dict", "properties": {}},
        {"type": "list", "item_type": {"type": "file", "file_types": ["image/png"]}},
    ]}


def test_jsonable_keeps_json_values_and_renders_the_rest() -> None:
    assert jsonable({"a": (1, 2.5, None), 3: "x"}) == {"a": [1, 2.5, None], "3": "x"}
    assert jsonable(numpy.float32(0.5)) == 0.5
    assert jsonable(float("nan")) == "nan"
    assert jsonable(Custom) == repr(Custom)
