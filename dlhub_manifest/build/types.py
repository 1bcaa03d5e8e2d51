"""DLHub argument blocks (`{"type": "ndarray", "shape": [null, 4], ...}`) from Python hints, dtypes and manifests.

Imported inside the inspection subprocess too, so it imports nothing heavy: numpy types are recognised by
their module and name, never by importing numpy.
"""

from __future__ import annotations

import datetime
import types
import typing
from typing import Any

from dlhub_manifest.errors import InputError

Argument = dict[str, Any]

_SCALARS: dict[Any, str] = {
    int: "integer", float: "float", str: "string", bool: "boolean", complex: "complex",
    datetime.datetime: "datetime", datetime.timedelta: "timedelta",
}
_SEQUENCES = {list, tuple, dict, set, frozenset}


class HintProblem(InputError):
    """A type hint that cannot become a DLHub argument; the message says what to write instead."""


def ndarray(shape: list[int | None], item_type: str | None = None, description: str | None = None) -> Argument:
    """An `ndarray` argument block with its shape (`None` for any size) and element type."""
    block: Argument = {"type": "ndarray", "shape": list(shape)}
    if item_type and item_type != "python object":  # an unknown element type is left out, not left half-said
        block["item_type"] = {"type": item_type}
    if description:
        block["description"] = description
    return block


def dtype_kind(dtype: str) -> str:
    """DLHub element type for a dtype name such as `float32`, `int64`, `bool` or `string`."""
    name = dtype.lower().removeprefix("torch.").removeprefix("dt_")
    for prefix, kind in (("bool", "boolean"), ("complex", "complex"), ("bfloat", "float"), ("float", "float"),
                         ("half", "float"), ("double", "float"), ("uint", "integer"), ("int", "integer"),
                         ("str", "string"), ("string", "string")):
        if name.startswith(prefix):
            return kind
    return "python object"


def hint_to_argument(hint: Any) -> Argument:
    """The DLHub argument block for a resolved type hint (`list[float]`, `numpy.ndarray`, a TypedDict...)."""
    if hint is None or hint is type(None):
        return {"type": "python object", "python_type": "builtins.NoneType"}
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    origin = typing.get_origin(hint)
    if origin is not None:  # before the ndarray test: `NDArray[float64]` passes for `ndarray` by its attributes
        return _generic(hint, origin, typing.get_args(hint))
    if _is_ndarray(hint):
        return ndarray([None])
    if typing.is_typeddict(hint):
        fields = typing.get_type_hints(hint)
        return {"type": "dict", "properties": {k: hint_to_argument(v) for k, v in fields.items()}}
    if hint in _SEQUENCES:
        raise HintProblem(f"bare `{hint.__name__}` does not say what it holds; write e.g. "
                          f"`{_example(hint)}`")
    if hint is typing.Any:
        return {"type": "python object", "python_type": "typing.Any"}
    return {"type": "python object", "python_type": _qualified(hint)}


def _generic(hint: Any, origin: Any, args: tuple[Any, ...]) -> Argument:
    if origin is typing.Annotated:
        return hint_to_argument(args[0])
    if origin in (typing.Union, types.UnionType):
        kept = [a for a in args if a is not type(None)]
        if len(kept) == 1:  # Optional[X]: DLHub has no "or None"; describe X
            return hint_to_argument(kept[0])
        return {"type": "python object", "python_type": _render(hint)}
    if origin is typing.Literal:
        kinds = {type(a) for a in args}
        if len(kinds) == 1 and (kind := kinds.pop()) in _SCALARS:
            return {"type": _SCALARS[kind]}
        return {"type": "python object", "python_type": _render(hint)}
    if _is_ndarray(origin):
        return ndarray([None], _numpy_item(args))
    if origin in (list, set, frozenset) or _is_abc_sequence(origin):
        return {"type": "list", "item_type": hint_to_argument(args[0])} if args else hint_to_argument(origin)
    if origin is tuple:
        return _tuple(args)
    if origin is dict or _is_abc_mapping(origin):
        return {"type": "dict", "properties": {}}
    return {"type": "python object", "python_type": _render(hint)}


def _tuple(args: tuple[Any, ...]) -> Argument:
    if not args or args == ((),):
        raise HintProblem("an empty `tuple[()]` carries nothing; give the element types, e.g. tuple[float, int]")
    if len(args) == 2 and args[1] is Ellipsis:  # tuple[X, ...] is a sequence of any length
        return {"type": "list", "item_type": hint_to_argument(args[0])}
    return {"type": "tuple", "element_types": [hint_to_argument(a) for a in args]}


def _is_ndarray(hint: Any) -> bool:
    return getattr(hint, "__module__", None) == "numpy" and getattr(hint, "__name__", None) == "ndarray"


def _numpy_item(args: tuple[Any, ...]) -> str | None:
    """Element type of `numpy.typing.NDArray[numpy.float64]` (args: shape, `numpy.dtype[float64]`)."""
    if len(args) < 2:
        return None
    scalar = typing.get_args(args[1])
    name = getattr(scalar[0], "__name__", "") if scalar else ""
    kind = dtype_kind(name) if name else "python object"
    return None if kind == "python object" else kind


def _is_abc_sequence(origin: Any) -> bool:
    return getattr(origin, "__module__", "") == "collections.abc" and origin.__name__ in {
        "Sequence", "MutableSequence", "Iterable", "Collection", "Set"}


def _is_abc_mapping(origin: Any) -> bool:
    return getattr(origin, "__module__", "") == "collections.abc" and origin.__name__ in {"Mapping", "MutableMapping"}


_EXAMPLES: dict[Any, str] = {list: "list[float]", tuple: "tuple[float, int]", dict: "dict[str, float]"}


def _example(hint: Any) -> str:
    return _EXAMPLES.get(hint, "list[float]")


def _qualified(hint: Any) -> str:
    module = getattr(hint, "__module__", None) or "builtins"
    name = getattr(hint, "__qualname__", None) or getattr(hint, "_name", None) or repr(hint)
    return f"{module}.{name}"


def _render(hint: Any) -> str:
    text = repr(hint)
    return text if "." in text else f"typing.{text}"


def declared_argument(spec: Any) -> Argument:
    """A manifest argument (`servable.methods.<m>.input`) as DLHub expects it.

    DLHub requires `properties` on dicts, and its file-list form allows no `description`.
    """
    if not isinstance(spec, dict):
        return {"type": "python object", "python_type": "builtins.object"}
    block: Argument = dict(spec)
    if isinstance(block.get("item_type"), dict):
        block["item_type"] = declared_argument(block["item_type"])
    if isinstance(block.get("element_types"), list):
        block["element_types"] = [declared_argument(e) for e in block["element_types"]]
    if isinstance(block.get("properties"), dict):
        block["properties"] = {k: declared_argument(v) for k, v in block["properties"].items()}
    if block.get("type") == "dict":
        block.setdefault("properties", {})
    if block.get("type") == "list" and block.get("item_type", {}).get("type") == "file":
        block.pop("description", None)
    return block


def jsonable(value: Any) -> Any:
    """A JSON-ready copy of a default value: containers recursively, anything else as its repr."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else repr(value)
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and type(value).__module__ == "numpy":
        return jsonable(item())
    return repr(value)
